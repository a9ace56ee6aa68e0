"""The engine's walk skips fields by reading the grammar from ``ast`` docstrings; it must
still reach every node a rule could subscribe to, on whatever Python runs it."""

from __future__ import annotations

import ast

import pytest
from corpus import ROOT

from prodlint.analysis.context import Context
from prodlint.config import Config
from prodlint.engine import Checker

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
