"""PRD303: ``with sqlite3.connect(...)`` commits but never closes the connection."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.analysis.flow import flow_of
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.resources.common import HANDED_ON, resource_of

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# Connections whose ``with`` is a transaction, not a lifetime.
TRANSACTION_ONLY = frozenset({"sqlite3.connect", "sqlite3.dbapi2.connect", "psycopg2.connect"})


@dataclass(frozen=True)
class ClosingPayload(FixPayload):
    item: int  # which item of the ``with`` enters the connection
    name: str  # the name it is bound to
    indent: int  # the ``with`` statement's column, for the line-length check


class ConnectionWithDoesNotClose(Rule):
    code = "PRD303"
    name = "ConnectionWithDoesNotClose"
    summary = "`with sqlite3.connect(...)` commits the transaction but never closes the connection"
    message = "`with {resource}(...)` only commits or rolls back; it does not close the connection"
    what_it_does = """
Flags `with sqlite3.connect(...)` (and `psycopg2.connect(...)`) used as if the block
closed the connection. For these drivers the connection's `with` is a transaction: it
commits on success and rolls back on error, and the connection stays open afterwards.
Not flagged when the connection is closed explicitly later, or handed on.
"""
    why_bad = """
Code written this way reads as if the connection were released at the end of the block,
so nothing else closes it: each call leaves an open database handle (and, for sqlite, an
open file) until the garbage collector runs, and CPython warns
`ResourceWarning: unclosed database`.
"""
    example = """
import sqlite3


def count_users(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]
"""
    use_instead = """
import contextlib
import sqlite3


def count_users(path):
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix enters `contextlib.closing(connect(...)) as conn` and then `conn` itself, so the
block still commits or rolls back as before and then closes the connection. It is safe:
it is only offered when the connection is not used after the block and not handed on
(returned, stored, captured), so the only change is that the connection is closed when
nothing can use it any more.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    fix_node_types = ("With",)
    # The connects it knows are qualified by these modules, which the file then names.
    requires_text = tuple(sorted({name.partition(".")[0] for name in TRANSACTION_ONLY}))

    def check_withitem(self, node: ast.withitem, ctx: Context) -> None:
        call = node.context_expr
        if not isinstance(call, ast.Call):
            return
        found = resource_of(call, ctx, ())
        if found is None or found[0] not in TRANSACTION_ONLY:
            return
        statement = ctx.parent
        if not isinstance(statement, (ast.With, ast.AsyncWith)):
            return
        target = node.optional_vars
        if target is None:
            self.report(ctx, call, resource=found[0])
            return
        if not isinstance(target, ast.Name):
            return
        func = ctx.enclosing_function()
        owner = func if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else ctx.tree
        if func is not None and owner is ctx.tree:
            return  # a lambda cannot hold a with
        flow = flow_of(ctx, owner)
        uses = flow.uses_reached_from(statement, target.id)
        for use in uses:
            if use.kind == "method" and use.attr == "close":
                return
            if use.kind in HANDED_ON or use.kind == "argument":
                self.report(ctx, call, resource=found[0])  # still open, but no block to close it in
                return
        outside = any(not flow.contains(statement, use.statement) for use in flow.uses(target.id))
        if outside or isinstance(statement, ast.AsyncWith):
            self.report(ctx, call, resource=found[0])
            return
        index = next(i for i, item in enumerate(statement.items) if item is node)
        self.report(
            ctx,
            call,
            fix=FixSafety.SAFE,
            payload=ClosingPayload(index, target.id, statement.col_offset),
            anchor=(statement, "With"),
            resource=found[0],
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.resources import closing_call

        if not isinstance(node, cst.With):
            return None
        payload = finding.payload_as(ClosingPayload)
        index, name = payload.item, payload.name
        items = list(node.items)
        if index >= len(items):
            return None
        item = items[index]
        if (
            item.asname is None
            or not isinstance(item.asname.name, cst.Name)
            or item.asname.name.value != name
        ):
            return None
        closing = item.with_changes(
            item=closing_call(item.item, fixes),
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
        )
        items[index : index + 1] = [closing, cst.WithItem(item=cst.Name(name), comma=item.comma)]
        joined = node.with_changes(items=items)
        header = fixes.module.code_for_node(
            joined.with_changes(leading_lines=(), body=cst.SimpleStatementSuite([]))
        )
        if payload.indent + len(header.rstrip()) <= fixes.line_length:
            return joined
        # Too long for one line, and several context managers can only be wrapped in
        # parentheses from Python 3.10 on: the closing block goes around the rest instead,
        # which enters and exits them in the same order.
        outer = items[: index + 1]
        outer[-1] = outer[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        inner = node.with_changes(items=items[index + 1 :], leading_lines=())
        return node.with_changes(items=outer, body=cst.IndentedBlock(body=[inner]))
