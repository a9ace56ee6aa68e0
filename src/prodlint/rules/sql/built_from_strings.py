"""PRD101: a value spliced into SQL text that reaches a database call."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.sql.common import analyse, describe
from prodlint.rules.sql.sinks import SINK_METHODS

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding


class SqlBuiltFromStrings(Rule):
    code = "PRD101"
    name = "SqlBuiltFromStrings"
    summary = "A value spliced into SQL text that reaches a query call"
    message = "SQL passed to `{sink}` splices in {values}; {advice}"
    what_it_does = """
Flags a database call whose SQL text has a value spliced in where SQL expects a value
(inside quotes, after `=`, `<`, `LIKE`, `LIMIT`, in `VALUES (...)`), by `+`, `+=`,
f-strings, `%`, `.format`, `.replace` or `"".join`, including when the string is built in a
variable over several statements and branches. The calls: DB-API `cursor.execute`/
`executemany`/`executescript` and `connection.execute` (sqlite3, aiosqlite, psycopg2,
psycopg, aiopg, pymysql, MySQLdb, mysql.connector, aiomysql, pymssql, oracledb/cx_Oracle,
clickhouse-driver, snowflake-connector, duckdb), recognised by the handle's name, by what
made it (`mydb.cursor()` at module level) or by its annotation; Django `Model.objects.raw`,
`QuerySet.extra`, `RawSQL`; SQLAlchemy `text()`, `session.execute`, `exec_driver_sql`, and
strings passed to `Query.filter`/`order_by`/`group_by`/`having`/`distinct` (SQLAlchemy before
1.4 ran them as SQL, 1.4 rejects them); `pandas.read_sql*`; asyncpg `fetch*`/`execute`/
`cursor`; pg8000 `run`; `databases` `fetch*`/`execute`; Spark/Databricks and duckdb `.sql()`.
A template imported from another module and formatted with input
(`queries.BY_NAME.format(name)`) is flagged too: its text is not in the file, but the
values are spliced into SQL.

Not flagged: constants (literals, module and function constants, `Final`), values passed
through identifier quoting (`connection.ops.quote_name`, `psycopg.sql.Identifier`),
placeholder lists (`",".join(["%s"] * n)`, `"?" * n`), numbers (`int(...)`, `len(...)`,
`%d`, `n + 1`), `"... = %s".format(x)` (no `{}`: nothing is spliced), values escaped with
`.replace("'", "''")` inside quotes, strings that never reach a database call (log and
exception messages), and test files (`test-paths`), which build SQL from their own data.
"""
    why_bad = """
A value spliced into SQL is parsed as SQL: `' OR '1'='1` in a user name turns a lookup into
a dump of the table (SQL injection, CWE-89). Quoting by hand is not enough (escapes,
encodings, numbers). Query parameters are sent separately from the SQL and cannot change
its meaning; they also let the database reuse the query plan.
"""
    example = """
import sqlite3


def find_user(conn: sqlite3.Connection, name: str) -> list[tuple[int, str]]:
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM users WHERE name = '" + name + "'")
    return cur.fetchall()
"""
    use_instead = """
import sqlite3


def find_user(conn: sqlite3.Connection, name: str) -> list[tuple[int, str]]:
    cur = conn.cursor()
    cur.execute("SELECT id, name FROM users WHERE name = ?", (name,))
    return cur.fetchall()
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix turns a value that sat inside quotes into a parameter, in the driver's paramstyle
known from the file's imports (sqlite3, aiosqlite and duckdb `?`; psycopg2, psycopg, aiopg,
pymysql, MySQLdb, mysql.connector, aiomysql, pymssql and Django `%s`; clickhouse-driver and
snowflake-connector `%(name)s` with a dict; oracledb `:name` with a dict; pg8000's `run`
`:name` with keywords; duckdb's `.sql()` `?` with `params=[...]`; Spark's `.sql()` `:name`
with `args={...}` (Spark 3.4+, so unsafe); asyncpg `$1`; SQLAlchemy `text()` `:name` binds
the text does not use yet, with `.bindparams(...)`): the quotes go, text quoted with the
value (`LIKE` wildcards) moves into the parameter, literal `%` is doubled for `%s` drivers,
and existing parameters keep their order. The parameter is the exact text the SQL had:
`str(v)` for `%s`, `f"{v}"` for an f-string or `.format` (`format(v, "")` is not `str(v)`
for some types, str-mixin enums on 3.10), and the value itself only when `+` proved it a
str. A bound `None` would be NULL and `True` 1, where the SQL said `'None'` and `'True'`.

It is safe for drivers that interpolate parameters on the client or send strings untyped,
where the database sees the same literal: sqlite3, aiosqlite, psycopg2, psycopg, aiopg and
pymssql. It is unsafe where a bound str may not match what the literal
did: drivers that type it as text (asyncpg, pg8000, oracledb, duckdb, and SQLAlchemy, whose
asyncpg and psycopg dialects cast it to VARCHAR: `id = '5'` worked against an integer
column, `id = $1` with `'5'` fails), and databases that read backslashes in a literal as
escapes where a parameter is literal (MySQL through pymysql, MySQLdb, mysql.connector or
aiomysql, ClickHouse, Snowflake, and Django, which may run on MySQL: `'C:\\temp'` matched a tab). A
value that was not in quotes (`id = " + str(n)`) becomes a parameter too, unsafely: the
database now gets a typed value where it parsed SQL text (a bound `LIMIT` must be an integer
for MySQL).

A string clause passed to SQLAlchemy's `Query.filter` & co. becomes `text(...)` with
`.bindparams(...)` (and `from sqlalchemy import text`), unsafely: SQLAlchemy 1.4+ raised
on the string, so the code now runs where it failed.

No fix is offered for DDL and other statements that take no parameters (`CREATE`, `ALTER`,
`DROP`, views, indexes, `CHECK`/`DEFAULT` clauses, `PRAGMA`, `SET`), for a value formatted
with a width, flags or a conversion other than `%s`/`%r`/`%d`/`%f`-style (`'%5s'` pads),
for a value inside an SQL comment, for quotes that come from a value the linter cannot read,
for a Python comment inside the SQL expression (it would be lost), when the paramstyle is
unknown, and for strings built over several statements unless every piece is in the sink's
block and the SQL variable is used nowhere else.
"""
    severity = Severity.ERROR
    fix_safety = FixSafety.SAFE
    fix_node_types = ("Call",)
    call_names = SINK_METHODS  # ``analyse`` starts with this test

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        analysis = analyse(node, ctx)  # returns at once for calls not named like a sink
        if analysis is None or not analysis.values:
            return
        fix = FixSafety.NONE
        if analysis.fix is not None:
            fix = FixSafety.UNSAFE if analysis.fix_unsafe else FixSafety.SAFE
        self.report(
            ctx,
            node,
            fix=fix,
            payload=analysis.fix,
            sink=analysis.sink.label,
            values=describe(ctx, analysis.values),
            advice=analysis.advice,
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        from prodlint.fixes.sql import parametrize

        return parametrize(node, finding, fixes)
