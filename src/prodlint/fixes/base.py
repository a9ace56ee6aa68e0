"""The state one file's fixes share while libcst rewrites it."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

ModuleEdit = Callable[[cst.Module], cst.Module]


class FixContext:
    """Handed to every ``Rule.fix`` call for one file.

    Fixes replace the node they were given; anything that must change elsewhere in the
    module (an import, a logger definition) is requested here and applied once, after the
    whole transform, so two fixes asking for the same import add it once.
    """

    def __init__(self, module: cst.Module, unsafe: bool) -> None:
        self.module = module
        self.unsafe = unsafe
        self.imports: list[tuple[str, str | None]] = []
        self._module_edits: dict[str, ModuleEdit] = {}
        self._memo: dict[str, object] = {}

    def add_import(self, module: str, name: str | None = None) -> None:
        """Make sure ``import module`` (or ``from module import name``) is present."""
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
        from_imports = []
        for module_name, name in self.imports:
            if name is None:
                module = ensure_module_import(module, module_name)
            else:
                from_imports.append((module_name, name))
        if from_imports:
            from libcst.codemod import CodemodContext
            from libcst.codemod.visitors import AddImportsVisitor

            context = CodemodContext()
            for module_name, name in from_imports:
                AddImportsVisitor.add_needed_import(context, module_name, name)
            module = AddImportsVisitor(context).transform_module(module)
        for edit in self._module_edits.values():
            module = edit(module)
        return module


def is_import_line(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def end_of_leading_imports(module: cst.Module) -> int:
    """Index of the first top-level statement after the docstring and the imports that
    open the module."""
    position = 0
    for index, statement in enumerate(module.body):
        if is_import_line(statement) or (index == 0 and is_docstring(statement)):
            position = index + 1
            continue
        break
    return position


def ensure_module_import(module: cst.Module, name: str) -> cst.Module:
    """``import name`` at the end of the leading imports, unless the module has it.

    libcst's AddImportsVisitor does this too, but walks the whole module with matchers:
    seconds on a large file, for one line."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                    alias.asname is None and alias.evaluated_name == name for alias in small.names
                ):
                    return module
    body = list(module.body)
    position = end_of_leading_imports(module)
    line = cst.parse_statement(f"import {name}\n", config=module.config_for_parsing)
    if position == 0 and body:
        # A module with no imports: the new import opens it, set apart by a blank line.
        body[0] = body[0].with_changes(leading_lines=[cst.EmptyLine(), *body[0].leading_lines])
    body.insert(position, line)
    return module.with_changes(body=body)
