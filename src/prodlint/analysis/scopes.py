"""What each name is bound to inside one scope (a module's top level or one function)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

from prodlint.analysis.imports import import_bindings
from prodlint.analysis.walk import CHILD_FIELDS, LEAVES

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
SCOPE_NODES = (*FUNCTION_NODES, ast.ClassDef)
_SCOPE_CLASSES = frozenset(SCOPE_NODES)
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


def _record_assign(index: ScopeIndex, node: ast.Assign) -> None:
    simple = len(node.targets) == 1 and type(node.targets[0]) is ast.Name
    for target in node.targets:
        for name in _target_names(target):
            index.add(
                Binding(
                    name.id, "assign" if simple else "other", node, node.value if simple else None
                )
            )


def _record_annassign(index: ScopeIndex, node: ast.AnnAssign) -> None:
    if isinstance(node.target, ast.Name) and node.value is not None:
        index.add(Binding(node.target.id, "assign", node, node.value, _is_final(node.annotation)))


def _record_augassign(index: ScopeIndex, node: ast.AugAssign) -> None:
    if isinstance(node.target, ast.Name):
        index.add(Binding(node.target.id, "augassign", node, node.value))


def _record_loop_target(
    index: ScopeIndex, node: ast.For | ast.AsyncFor | ast.comprehension
) -> None:
    for name in _target_names(node.target):
        index.add(Binding(name.id, "other", node))


def _record_withitem(index: ScopeIndex, node: ast.withitem) -> None:
    if node.optional_vars is not None:
        for name in _target_names(node.optional_vars):
            index.add(Binding(name.id, "other", node))


def _record_walrus(index: ScopeIndex, node: ast.NamedExpr) -> None:
    if isinstance(node.target, ast.Name):
        index.add(Binding(node.target.id, "other", node, node.value))


def _record_import(index: ScopeIndex, node: ast.Import | ast.ImportFrom) -> None:
    for local, qualified in import_bindings(node):
        index.imports[local] = qualified
        index.add(Binding(local, "import", node))


def _record_handler(index: ScopeIndex, node: ast.ExceptHandler) -> None:
    if node.name:
        index.add(Binding(node.name, "other", node))


def _record_declaration(index: ScopeIndex, node: ast.Global | ast.Nonlocal) -> None:
    index.declared_global.update(node.names)


def _record_delete(index: ScopeIndex, node: ast.Delete) -> None:
    for target in node.targets:
        for name in _target_names(target):
            index.add(Binding(name.id, "other", node))


def _record_definition(
    index: ScopeIndex, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
) -> None:
    index.add(Binding(node.name, "other", node))


Recorder = Callable[[ScopeIndex, ast.AST], None]
# What binds a name, by node class: the indexes test every node of a function body, and one
# dict lookup costs less than a dozen isinstance checks on the Name and Call nodes most are.
_RECORDERS: dict[type[ast.AST], Recorder] = {
    node_class: cast(Recorder, recorder)
    for recorder, classes in (
        (_record_assign, (ast.Assign,)),
        (_record_annassign, (ast.AnnAssign,)),
        (_record_augassign, (ast.AugAssign,)),
        (_record_loop_target, (ast.For, ast.AsyncFor, ast.comprehension)),
        (_record_withitem, (ast.withitem,)),
        (_record_walrus, (ast.NamedExpr,)),
        (_record_import, (ast.Import, ast.ImportFrom)),
        (_record_handler, (ast.ExceptHandler,)),
        (_record_declaration, (ast.Global, ast.Nonlocal)),
        (_record_delete, (ast.Delete,)),
        (_record_definition, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)),
    )
    for node_class in classes
}
# Nodes with nothing below them to index: the function index does not stack them.
_BARREN = LEAVES - _RECORDERS.keys()


def _record_statement(index: ScopeIndex, node: ast.AST) -> None:
    recorder = _RECORDERS.get(type(node))
    if recorder is not None:
        recorder(index, node)


def index_function(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> ScopeIndex:
    """Walk one function body (not nested functions or classes) and record its bindings."""
    index = ScopeIndex()
    args = func.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            index.add(Binding(arg.arg, "param", arg))
    body: list[ast.AST] = [func.body] if isinstance(func, ast.Lambda) else list(func.body)
    stack = list(reversed(body))
    recorders, barren, child_fields, scopes = _RECORDERS, _BARREN, CHILD_FIELDS, _SCOPE_CLASSES
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        node_class = type(node)
        recorder = recorders.get(node_class)
        if recorder is not None:
            recorder(index, node)
        if node_class in scopes:
            # The defaults and decorators run in this scope; the body does not.
            if node_class is not ast.Lambda:
                stack.extend(reversed(node.decorator_list))  # type: ignore[attr-defined]
            continue
        for name in reversed(child_fields[node_class]):
            value = getattr(node, name, None)
            if type(value) is list:
                for item in reversed(value):
                    if item is not None and type(item) not in barren:
                        push(item)
            elif value is not None and type(value) not in barren:
                push(value)
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
