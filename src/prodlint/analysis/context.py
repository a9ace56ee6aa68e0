"""Where the traversal is, and what the file around it means.

One ``Context`` lives for one file. The engine keeps ``ancestors`` up to date as it walks;
everything else (function scopes, constant values, CLI entry points...) is computed the
first time a rule asks and memoised, so files where no rule asks pay nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from prodlint.analysis.imports import dotted_name
from prodlint.analysis.scopes import FUNCTION_NODES, ScopeIndex, index_function, index_module
from prodlint.model import Finding, FixAnchor, FixPayload, FixSafety, Severity
from prodlint.paths import DEFAULT_MIGRATION_PATHS, DEFAULT_TEST_PATHS, path_matches, project_path

T = TypeVar("T")
# What only a migration script imports: the operations of a revision, the context env.py
# configures (an app that drives Alembic imports ``alembic.command`` or ``alembic.config``).
ALEMBIC_RUNTIME = frozenset({"alembic.op", "alembic.context"})
COMPREHENSION_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    operands = [test.left, test.comparators[0]]
    has_name = any(isinstance(o, ast.Name) and o.id == "__name__" for o in operands)
    has_main = any(isinstance(o, ast.Constant) and o.value == "__main__" for o in operands)
    return has_name and has_main


class Context:
    def __init__(
        self, path: str, text: str, tree: ast.Module, settings: Mapping[str, object]
    ) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self.settings = settings
        self.ancestors: list[ast.AST] = []
        self.findings: list[Finding] = []
        self._lines: list[str] | None = None
        self._module_scope: ScopeIndex | None = None
        self._function_scopes: dict[int, ScopeIndex] = {}
        self._memo: dict[str, object] = {}

    # --- file-level facts -------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            # Only \n, \r\n and \r end lines for the tokenizer; str.splitlines() would also
            # split on form feeds and other separators and misnumber every line after them.
            self._lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return self._lines

    @property
    def module_scope(self) -> ScopeIndex:
        if self._module_scope is None:
            self._module_scope = index_module(self.tree)
        return self._module_scope

    @property
    def project_path(self) -> str:
        """The file's path relative to its project root, what every path-based decision
        reads: the same whatever the working directory or the front end."""
        return self.memo("project_path", lambda: project_path(self.path, self._root()))

    def path_matches(self, patterns: tuple[str, ...] | list[str]) -> bool:
        """Whether a path glob of the settings (relative to the project root) picks this
        file; see ``prodlint.paths``."""
        return path_matches(self.path, patterns, self._root())

    def _root(self) -> str | None:
        root = self.settings.get("project-root")
        return root if isinstance(root, str) else None

    @property
    def is_test_file(self) -> bool:
        patterns = self.settings.get("test-paths", DEFAULT_TEST_PATHS)
        return self.path_matches(tuple(patterns))  # type: ignore[arg-type]

    @property
    def is_migration_file(self) -> bool:
        """On a migration path, or an Alembic revision or ``env.py`` wherever the project
        keeps them (``from alembic import op``/``context``: Netflix dispatch's
        ``database/revisions/tenant/versions/``)."""
        patterns = self.settings.get("migration-paths", DEFAULT_MIGRATION_PATHS)
        if self.path_matches(tuple(patterns)):  # type: ignore[arg-type]
            return True
        return self.memo("context.alembic_script", self._imports_alembic_runtime)

    def _imports_alembic_runtime(self) -> bool:
        return not ALEMBIC_RUNTIME.isdisjoint(self.module_scope.imports.values())

    @property
    def is_main_module(self) -> bool:
        return self.path.replace("\\", "/").endswith("__main__.py")

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a per-file fact once, the first time any rule needs it."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    # --- where we are -----------------------------------------------------------------

    @property
    def parent(self) -> ast.AST | None:
        return self.ancestors[-1] if self.ancestors else None

    def enclosing(self, *types: type[ast.AST], stop_at_function: bool = False) -> ast.AST | None:
        """The nearest ancestor of one of ``types``; with ``stop_at_function`` the search
        does not leave the current function."""
        for node in reversed(self.ancestors):
            if isinstance(node, types):
                return node
            if stop_at_function and isinstance(node, FUNCTION_NODES):
                return None
        return None

    def enclosing_function(self) -> FunctionNode | None:
        found = self.enclosing(*FUNCTION_NODES)
        return found  # type: ignore[return-value]

    def enclosing_functions(self) -> Iterator[FunctionNode]:
        for node in reversed(self.ancestors):
            if isinstance(node, FUNCTION_NODES):
                yield node

    def enclosing_class(self) -> ast.ClassDef | None:
        found = self.enclosing(ast.ClassDef)
        return found  # type: ignore[return-value]

    def enclosing_loop(self, node: ast.AST) -> ast.AST | None:
        """The loop (statement or comprehension) that runs ``node`` repeatedly, within the
        current function. ``node`` must be the node being visited; it tells the loop body
        from the loop header (``for x in query():`` runs the query once)."""
        grandchild: ast.AST | None = None
        child = node
        for ancestor in reversed(self.ancestors):
            if isinstance(ancestor, FUNCTION_NODES):
                return None
            if isinstance(ancestor, (ast.For, ast.AsyncFor)):
                if any(child is stmt for stmt in ancestor.body):
                    return ancestor
            elif isinstance(ancestor, ast.While):
                if any(child is stmt for stmt in ancestor.body):
                    return ancestor
            elif isinstance(ancestor, COMPREHENSION_NODES):
                first = ancestor.generators[0]
                if not (child is first and grandchild is first.iter):
                    return ancestor
            grandchild, child = child, ancestor
        return None

    def in_main_guard(self) -> bool:
        return any(is_main_guard(node) for node in self.ancestors)

    # --- names and values -------------------------------------------------------------

    def scope_of(self, func: FunctionNode) -> ScopeIndex:
        key = id(func)
        if key not in self._function_scopes:
            self._function_scopes[key] = index_function(func)
        return self._function_scopes[key]

    def qualified_name(self, expr: ast.expr) -> str | None:
        """Resolve a name or attribute chain through the imports in force here.

        ``from requests import get as g; g(...)`` -> ``requests.get``. Names bound by
        anything but an import resolve to themselves (``cursor.execute``), parameters and
        local assignments shadow module imports.
        """
        text = dotted_name(expr)
        if text is None:
            return None
        head, dot, rest = text.partition(".")
        for func in self.enclosing_functions():
            scope = self.scope_of(func)
            if head in scope.imports:
                return scope.imports[head] + dot + rest
            if head in scope.bindings:
                return text
        qualified = self.module_scope.imports.get(head)
        if qualified is None:
            return text
        return qualified + dot + rest

    def value_of(self, name: str) -> ast.expr | None:
        """The expression a name was given, if it is assigned exactly once in the innermost
        scope that binds it (a constant in the sense the rules care about)."""
        for func in self.enclosing_functions():
            scope = self.scope_of(func)
            if name in scope.bindings and name not in scope.declared_global:
                return scope.only_assignment(name)
        return self.module_scope.only_assignment(name)

    def source_of(self, node: ast.AST) -> str:
        """The exact source text of a node (what ``ast.get_source_segment`` gives, without
        re-splitting the file on every call)."""
        start: int = node.lineno  # type: ignore[attr-defined]
        end: int = node.end_lineno or start  # type: ignore[attr-defined]
        first = self.lines[start - 1].encode("utf-8")
        begin: int = node.col_offset  # type: ignore[attr-defined]
        stop: int = node.end_col_offset  # type: ignore[attr-defined]
        if start == end:
            return first[begin:stop].decode("utf-8")
        middle = self.lines[start : end - 1]
        last = self.lines[end - 1].encode("utf-8")[:stop].decode("utf-8")
        return "\n".join([first[begin:].decode("utf-8"), *middle, last])

    # --- reporting --------------------------------------------------------------------

    def char_col(self, line: int, byte_col: int) -> int:
        """ast columns count UTF-8 bytes; findings count characters."""
        if line < 1 or line > len(self.lines):
            return byte_col
        text = self.lines[line - 1]
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def add_finding(
        self,
        code: str,
        message: str,
        severity: Severity,
        node: ast.AST,
        fix: FixSafety,
        anchor: tuple[ast.AST, str] | None = None,
        payload: FixPayload | None = None,
    ) -> None:
        line, col, end_line, end_col = self.char_range(node)
        fix_anchor = None
        if anchor is not None:
            fix_anchor = FixAnchor(*self.char_range(anchor[0]), anchor[1])
        self.findings.append(
            Finding(
                self.path,
                line,
                col + 1,
                end_line,
                end_col + 1,
                code,
                message,
                severity,
                fix,
                fix_anchor,
                payload,
            )
        )

    def char_range(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, col, end line, end col) of a node, columns 0-based characters."""
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        col = self.char_col(line, getattr(node, "col_offset", 0))
        end_col = self.char_col(end_line, getattr(node, "end_col_offset", None) or 0)
        return line, col, end_line, end_col
