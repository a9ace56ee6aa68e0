"""PRD102: a table, column or clause spliced into SQL text that reaches a database call."""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context
from prodlint.analysis.guards import checked_against_allow_list
from prodlint.model import Severity
from prodlint.registry import Rule
from prodlint.rules.sql.common import analyse, describe
from prodlint.rules.sql.sinks import SINK_METHODS


class SqlIdentifierFromStrings(Rule):
    code = "PRD102"
    name = "SqlIdentifierFromStrings"
    summary = "A table/column name or clause spliced into SQL text that reaches a query call"
    message = (
        "SQL passed to `{sink}` splices in {values} as a name or clause; quote identifiers or "
        "pick them from a fixed set"
    )
    what_it_does = """
Flags a database call (the sinks PRD101 knows) whose SQL text has something spliced in
where SQL expects a name or a piece of SQL: a table or column name, an `ORDER BY` column, a
whole `WHERE` clause, an `IN (...)` list built from values.

Not flagged: names passed through identifier quoting (`connection.ops.quote_name`,
`psycopg.sql.Identifier`, `sql.SQL(...).format(...)`, SQLAlchemy's `quote`), constants,
placeholder lists, numbers, a name that passed an allow-list test first
(`if column not in ALLOWED: raise ...`, `assert column in ALLOWED`, or the call inside
`if column in ALLOWED:`), and test files (`test-paths`).
"""
    why_bad = """
Table and column names cannot be query parameters, so a name taken from the request is
parsed as SQL: `users; DROP TABLE users` works as a table name (CWE-89). Quote names with
the driver's identifier quoting, or map the input onto a fixed set of allowed names.
"""
    example = """
def sorted_users(cursor, column):
    cursor.execute(f"SELECT id, name FROM users ORDER BY {column}")
    return cursor.fetchall()
"""
    use_instead = """
ALLOWED = {"id": "id", "name": "name"}


def sorted_users(cursor, column):
    cursor.execute(f"SELECT id, name FROM users ORDER BY {ALLOWED[column]}")
    return cursor.fetchall()
"""
    fix_safety_note = """
There is no fix: whether a name is allowed is a decision about the application. Use
`psycopg.sql.Identifier`, `connection.ops.quote_name` or a mapping of allowed names.
"""
    severity = Severity.ERROR
    call_names = SINK_METHODS  # ``analyse`` starts with this test

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        analysis = analyse(node, ctx)  # returns at once for calls not named like a sink
        if analysis is None or not analysis.identifiers:
            return
        unchecked = [
            piece
            for piece in analysis.identifiers
            if not (
                isinstance(piece.expr, ast.Name)
                and checked_against_allow_list(piece.expr.id, ctx.ancestors)
            )
        ]
        if unchecked:
            self.report(ctx, node, sink=analysis.sink.label, values=describe(ctx, unchecked))
