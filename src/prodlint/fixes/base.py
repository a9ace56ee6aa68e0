"""The state one file's fixes share while libcst rewrites it."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from prodlint.fixes.imports import LINE_LENGTH, add_import
from prodlint.fixes.wrap import wrap_long_lines

ModuleEdit = Callable[[cst.Module], cst.Module]


class FixContext:
    """Handed to every ``Rule.fix`` call for one file.

    Fixes replace the node they were given; anything that must change elsewhere in the
    module (an import, a logger definition) is requested here and applied once, after the
    whole transform, so two fixes asking for the same import add it once.
    """

    def __init__(self, module: cst.Module, unsafe: bool, line_length: int = LINE_LENGTH) -> None:
        self.module = module
        self.unsafe = unsafe
        # The project's line length (``fixes.wrap.project_line_length``): what lines the fixes
        # write keep to.
        self.line_length = line_length
        self.imports: list[tuple[str, str | None]] = []
        self._module_edits: dict[str, ModuleEdit] = {}
        self._memo: dict[str, object] = {}

    def add_import(self, module: str, name: str | None = None) -> None:
        """Make sure ``import module`` (or ``from module import name``) is present, in the
        place isort would give it (see ``fixes.imports``)."""
        if (module, name) not in self.imports:
            self.imports.append((module, name))

    def add_module_edit(self, key: str, edit: ModuleEdit) -> None:
        """Run ``edit`` on the module after the transform; the first request per key wins."""
        self._module_edits.setdefault(key, edit)

    def memo(self, key: str, compute: Callable[[], object]) -> object:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def finish(self, module: cst.Module) -> cst.Module:
        for module_name, name in self.imports:
            module = add_import(module, module_name, name)
        for edit in self._module_edits.values():
            module = edit(module)
        return wrap_long_lines(self.module, module, self.line_length)
