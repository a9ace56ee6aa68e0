"""The libcst side of the PRD1xx fixes: swap in the source text the detector computed.

Imported only by the fix functions (so only by ``prodlint fix``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from prodlint.fixes.base import FixContext
from prodlint.model import Finding


def _positions(fixes: FixContext) -> Mapping[cst.CSTNode, CodeRange]:
    def compute() -> Mapping[cst.CSTNode, CodeRange]:
        return MetadataWrapper(fixes.module, unsafe_skip_copy=True).resolve(PositionProvider)

    return fixes.memo("sql.positions", compute)  # type: ignore[return-value]


def _statement_at(fixes: FixContext, line: int, col: int) -> cst.SimpleStatementLine | None:
    for node, where in _positions(fixes).items():
        if (
            isinstance(node, cst.SimpleStatementLine)
            and (where.start.line, where.start.column) == (line, col)
            and len(node.body) == 1
        ):
            return node
    return None


class _ReplaceStatements(cst.CSTTransformer):
    def __init__(
        self, swaps: Sequence[tuple[cst.SimpleStatementLine, cst.SimpleStatementLine]]
    ) -> None:
        self.swaps = swaps

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        for old, new in self.swaps:
            if original.deep_equals(old):
                return new
        return updated


def parametrize(node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
    """Replace the sink call; rewrite the statements that built its SQL variable too."""
    from prodlint.rules.sql.parametrize import ParametrizePayload

    payload = finding.payload_as(ParametrizePayload)
    if not isinstance(node, cst.Call):
        return None
    statements = payload.statements
    swaps: list[tuple[cst.SimpleStatementLine, cst.SimpleStatementLine]] = []
    for edit in statements:
        old = _statement_at(fixes, edit.line, edit.col)
        if old is None:
            return None
        # The rewrite finds the statement again by its text: it must be the only one.
        twins = [
            n
            for n in _positions(fixes)
            if isinstance(n, cst.SimpleStatementLine) and n.deep_equals(old)
        ]
        if len(twins) != 1:
            return None
        new_small = cst.parse_statement(edit.statement + "\n")
        if not isinstance(new_small, cst.SimpleStatementLine):
            return None
        swaps.append((old, old.with_changes(body=new_small.body)))
    try:
        new_call = cst.parse_expression(payload.replacement)
    except cst.ParserSyntaxError:
        return None
    if payload.imported is not None:
        fixes.add_import(*payload.imported)
    if swaps:
        key = "sql-build:" + ";".join(f"{e.line}:{e.col}" for e in statements)
        fixes.add_module_edit(key, lambda module: module.visit(_ReplaceStatements(swaps)))
    return (
        new_call.with_changes(lpar=node.lpar, rpar=node.rpar)
        if isinstance(new_call, cst.Call)
        else new_call
    )
