"""What each name is bound to inside one scope (a module's top level or one function)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from prodlint.analysis.imports import import_bindings
from prodlint.analysis.walk import CHILD_FIELDS

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
SCOPE_NODES = (*FUNCTION_NODES, ast.ClassDef)
# ``try/except*`` (3.11+) has the same fields as ``try``; read through getattr so the
# tuple keeps ``ast.Try``'s type for the fields both share.
TRY_NODES: tuple[type[ast.Try], ...] = (
    ast.Try,
    *([getattr(ast, "TryStar")] if hasattr(ast, "TryStar") else []),  # noqa: B009
)


@dataclass(frozen=True)
class Binding:
    """One place a name gets a value.

    ``kind`` is ``assign`` (``x = value`` / ``x: T = value``), ``augassign`` (``x += value``),
    ``param``, ``import`` or ``other`` (loop target, ``with ... as``, unpacking, ``del``...).
    """

    name: str
    kind: str
    node: ast.AST
    value: ast.expr | None = None
    final: bool = False


@dataclass
class ScopeIndex:
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)

    def add(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    def only_assignment(self, name: str) -> ast.expr | None:
        """The value of a name assigned exactly once and never otherwise bound, else None."""
        found = self.bindings.get(name)
        if not found or len(found) != 1 or found[0].kind != "assign":
            return None
        return found[0].value


def _is_final(annotation: ast.expr) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return (isinstance(target, ast.Name) and target.id == "Final") or (
        isinstance(target, ast.Attribute) and target.attr == "Final"
    )


def _target_names(target: ast.expr) -> Iterator[ast.Name]:
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _record_statement(index: ScopeIndex, node: ast.AST) -> None:
    if isinstance(node, ast.Assign):
        simple = len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        for target in node.targets:
            for name in _target_names(target):
                index.add(
                    Binding(
                        name.id,
                        "assign" if simple else "other",
                        node,
                        node.value if simple else None,
                    )
                )
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        if node.value is not None:
            index.add(
                Binding(node.target.id, "assign", node, node.value, _is_final(node.annotation))
            )
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        index.add(Binding(node.target.id, "augassign", node, node.value))
    elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        for name in _target_names(node.target):
            index.add(Binding(name.id, "other", node))
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        for name in _target_names(node.optional_vars):
            index.add(Binding(name.id, "other", node))
    elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
        index.add(Binding(node.target.id, "other", node, node.value))
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for local, qualified in import_bindings(node):
            index.imports[local] = qualified
            index.add(Binding(local, "import", node))
    elif isinstance(node, ast.ExceptHandler) and node.name:
        index.add(Binding(node.name, "other", node))
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        index.declared_global.update(node.names)
    elif isinstance(node, ast.Delete):
        for target in node.targets:
            for name in _target_names(target):
                index.add(Binding(name.id, "other", node))
    elif isinstance(node, SCOPE_NODES) and not isinstance(node, ast.Lambda):
        index.add(Binding(node.name, "other", node))


def index_function(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> ScopeIndex:
    """Walk one function body (not nested functions or classes) and record its bindings."""
    index = ScopeIndex()
    args = func.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            index.add(Binding(arg.arg, "param", arg))
    body: list[ast.AST] = [func.body] if isinstance(func, ast.Lambda) else list(func.body)
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        _record_statement(index, node)
        if isinstance(node, SCOPE_NODES):
            # The defaults and decorators run in this scope; the body does not.
            if not isinstance(node, ast.Lambda):
                stack.extend(reversed(node.decorator_list))
            continue
        for name in reversed(CHILD_FIELDS[type(node)]):
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(item for item in reversed(value) if item is not None)
            elif value is not None:
                stack.append(value)
    return index


def index_module(tree: ast.Module) -> ScopeIndex:
    """Record top-level bindings, looking into ``if``/``try``/``with`` blocks but not into
    functions or classes. Only statements are visited, so this costs far less than a walk."""
    index = ScopeIndex()
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        _record_statement(index, node)
        if isinstance(node, (ast.If, ast.While, ast.For, ast.AsyncFor)):
            stack.extend(reversed([*node.body, *node.orelse]))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            stack.extend(reversed(node.items))
            stack.extend(reversed(node.body))
        elif isinstance(node, TRY_NODES):
            for handler in node.handlers:
                _record_statement(index, handler)
            stack.extend(
                reversed(
                    [
                        *node.body,
                        *(s for h in node.handlers for s in h.body),
                        *node.orelse,
                        *node.finalbody,
                    ]
                )
            )
    return index
