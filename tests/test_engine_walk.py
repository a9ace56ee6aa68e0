"""The engine's walk skips fields by reading the grammar from ``ast`` docstrings; it must
still reach every node a rule could subscribe to, on whatever Python runs it."""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable

import pytest
from corpus import ROOT

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.config import Config
from prodlint.engine import Checker, Walker

# Load/Store/Del and operator singletons: the walk leaves them out on purpose.
SKIPPED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
SOURCES = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "fixtures").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_walk_reaches_every_node_with_its_ancestors(path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    tree = ast.parse(text)
    checker = Checker(Config(), rules=[])
    seen: list[tuple[ast.AST, tuple[int, ...]]] = []
    ctx = Context("x.py", text, tree, {})

    def record(node: ast.AST, context: Context) -> None:
        seen.append((node, tuple(id(a) for a in context.ancestors)))

    node_types = {type(n) for n in ast.walk(tree)}
    checker.dispatch = {t: [record] for t in node_types}
    checker.walk(tree, ctx)

    expected = [n for n in ast.walk(tree) if not isinstance(n, SKIPPED)]
    assert {id(n) for n, _ in seen} == {id(n) for n in expected}
    assert len(seen) == len(expected)
    parents = {
        id(child): id(parent) for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
    }
    for node, ancestors in seen:
        if node is not tree:
            assert ancestors and ancestors[-1] == parents[id(node)]


def reference_visits(
    tree: ast.AST, wanted: tuple[type[ast.AST], ...], names: frozenset[str]
) -> list[tuple[str, int, tuple[int, ...]]]:
    """What a visit of every node in ``ast.iter_child_nodes`` order gives handlers of the
    ``wanted`` classes, and ``call_names`` handlers for calls to ``names``."""
    out: list[tuple[str, int, tuple[int, ...]]] = []
    stack: list[tuple[ast.AST, tuple[int, ...]]] = [(tree, ())]
    while stack:
        node, ancestors = stack.pop()
        if isinstance(node, wanted):
            out.append((type(node).__name__, id(node), ancestors))
        if isinstance(node, ast.Call) and last_name(node.func) in names:
            out.append(("named", id(node), ancestors))
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, SKIPPED)]
        stack.extend((child, (*ancestors, id(node))) for child in reversed(children))
    return out


def _recorder(
    seen: list[tuple[str, int, tuple[int, ...]]], label: str
) -> Callable[[ast.AST, Context], None]:
    def record(node: ast.AST, context: Context) -> None:
        seen.append((label, id(node), tuple(id(a) for a in context.ancestors)))

    return record


# Subscriptions that leave most leaves unvisited (Name always; Constant in the second).
PARTIAL = [
    ((ast.Constant, ast.Attribute), frozenset({"execute", "open"})),
    ((ast.keyword, ast.arg, ast.withitem), frozenset({"get"})),
    ((ast.Name, ast.alias), frozenset()),
]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_walk_that_skips_unwanted_leaves_shows_handlers_the_same(path: object) -> None:
    """The walk does not enter leaves no handler wants and pushes a node with one child
    field only around that child: the handlers must not see the difference."""
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    tree = ast.parse(text)
    for wanted, names in PARTIAL:
        seen: list[tuple[str, int, tuple[int, ...]]] = []
        recorder = functools.partial(_recorder, seen)

        dispatch = {node_class: [recorder(node_class.__name__)] for node_class in wanted}
        by_name = {name: [recorder("named")] for name in names}
        ctx = Context("x.py", text, tree, {})
        Walker(dispatch, by_name).walk(tree, ctx)  # type: ignore[arg-type]
        assert seen == reference_visits(tree, wanted, names)
        assert ctx.ancestors == []
