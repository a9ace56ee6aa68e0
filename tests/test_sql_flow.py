"""The PRD1xx dataflow: what reaches a sink, what is safe, what the fix payload says."""

from __future__ import annotations

import ast
import importlib.util
import textwrap
from pathlib import Path

import pytest
from pinned_sdists import sdist

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding, FixSafety
from prodlint.registry import all_rules
from prodlint.rules.sql.parametrize import ParametrizePayload

CHECKER = Checker(Config(), rules=[r for c, r in all_rules().items() if c.startswith("PRD1")])


def check(code: str) -> list[Finding]:
    return CHECKER.check_text(textwrap.dedent(code), "example.py")


def codes(code: str) -> list[str]:
    return [f.code for f in check(code)]


def test_value_built_over_branches_and_augmented_assignments() -> None:
    assert codes("""
        import sqlite3
        def f(conn, name, active):
            q = "SELECT * FROM users WHERE 1 = 1"
            if active:
                q += " AND active = 1"
            for part in ("a", "b"):
                q += " AND name = '" + name + "'"
            conn.execute(q)
    """) == ["PRD101"]


def test_reaching_definition_not_last_assignment() -> None:
    # The dynamic string was overwritten by a constant before the sink.
    assert (
        codes("""
        def f(cursor, name):
            q = "SELECT * FROM t WHERE a = '%s'" % name
            q = "SELECT * FROM t"
            cursor.execute(q)
    """)
        == []
    )


@pytest.mark.parametrize(
    "value",
    [
        "connection.ops.quote_name(table)",
        "qn(table)",
        "int(limit)",
        "len(names)",
        "','.join(['%s'] * len(names))",
        "'?, ' * count",
        "LIMIT",
        "psql.Identifier(table)",
    ],
)
def test_safe_values(value: str) -> None:
    assert (
        codes(f"""
        from django.db import connection
        qn = connection.ops.quote_name
        LIMIT = 10
        def f(cursor, table, limit, names, count):
            cursor.execute("SELECT * FROM t WHERE a IN (%s)" % {value})
    """)
        == []
    )


def test_strings_that_never_reach_a_sink() -> None:
    assert (
        codes("""
        import logging
        def f(cursor, name):
            logging.info("SELECT for %s" % name)
            raise ValueError("DELETE FROM users WHERE name = '" + name + "' failed")
    """)
        == []
    )


def test_not_a_database_receiver() -> None:
    assert (
        codes("""
        def f(runner, name):
            runner.execute("SELECT * FROM t WHERE a = '" + name + "'")
    """)
        == []
    )


def test_identifier_only_from_public_parameters() -> None:
    source = """
        def {name}(cursor, table):
            cursor.execute("SELECT * FROM " + table)
    """
    assert codes(source.format(name="dump")) == ["PRD102"]
    assert codes(source.format(name="_dump")) == []


def test_fix_payload_and_safety_follow_the_paramstyle() -> None:
    (quoted,) = check("""
        import psycopg2
        def f(cur, name):
            cur.execute("SELECT * FROM t WHERE a = '" + name + "' AND b LIKE 'x%'")
    """)
    assert quoted.fix is FixSafety.SAFE
    assert (
        quoted.payload_as(ParametrizePayload).replacement
        == "cur.execute(\"SELECT * FROM t WHERE a = %s AND b LIKE 'x%%'\", (name,))"
    )
    (unquoted,) = check("""
        import sqlite3
        def f(cur, n):
            cur.execute("SELECT * FROM t WHERE a = " + n)
    """)
    assert unquoted.fix is FixSafety.UNSAFE
    (unknown,) = check("""
        def f(cur, name):
            cur.execute("SELECT * FROM t WHERE a = '" + name + "'")
    """)
    assert unknown.fix is FixSafety.NONE


def test_bandit_recall() -> None:
    """bandit's SQL examples, fetched with pip (not committed)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "sql_precision.py"
    spec = importlib.util.spec_from_file_location("sql_precision", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bandit = sdist("bandit==1.9.4")
    found, expected, report = bench.recall(bandit)
    assert expected >= 13 and found == expected, "\n".join(report)


@pytest.mark.parametrize(
    "code",
    [
        # A cursor made at import time, named in camelCase.
        """
    import mysql.connector
    mydb = mysql.connector.connect()
    mydbCursor = mydb.cursor()
    def handler(event):
        mydbCursor.execute("UPDATE t SET a = '%s'" % event["a"])
    """,
        # A handle known by its annotation.
        """
    from clickhouse_driver import Client
    def f(client: Client, kind):
        client.execute("SELECT id FROM events WHERE kind = '%s'" % kind)
    """,
        # pg8000's native run and asyncpg's cursor.
        """
    import pg8000.native
    def f(conn, age):
        conn.run("SELECT name FROM users WHERE age = '" + age + "'")
    """,
        """
    import asyncpg
    async def f(conn, name):
        async for row in conn.cursor("SELECT * FROM users WHERE name = '" + name + "'"):
            pass
    """,
        # A template from another module, formatted with input.
        """
    import asyncpg
    def f(conn, user_input):
        import common
        return conn.fetch(common.bad_query_1.format(user_input))
    """,
        # SQLAlchemy's Query ran a string clause as SQL before 1.4.
        """
    def f(session, var):
        return session.query(User).filter("name = '" + var + "'").all()
    """,
        """
    def f(spark, kind):
        return spark.sql(f"SELECT id FROM events WHERE kind = '{kind}'")
    """,
    ],
)
def test_driver_sinks(code: str) -> None:
    assert codes(code) in (["PRD101"], ["PRD102"])


@pytest.mark.parametrize(
    "code",
    [
        # Django checks the names it is given: not SQL.
        """
    from django.db import models
    def f(queryset, field):
        return queryset.order_by("-" + field).filter("name = '" + field + "'")
    """,
        # Not a database handle: a runner, a subprocess.
        """
    import subprocess
    def f(runner, name):
        runner.run("SELECT * FROM t WHERE a = '" + name + "'")
        subprocess.run("echo SELECT FROM '" + name + "'", shell=True)
    """,
        # A local template is read, and a formatted argument that is no input is left alone.
        """
    import asyncpg
    import common
    def f(conn):
        return conn.fetch(common.bad_query_1.format(common.TABLE))
    """,
        """
    def f(session, column):
        return session.query(User).filter(User.name == column).order_by(User.id).all()
    """,
    ],
)
def test_not_driver_sinks(code: str) -> None:
    assert codes(code) == []


def test_textual_clause_message_says_what_sqlalchemy_does() -> None:
    (finding,) = check("""
        def f(session, var):
            return session.query(User).filter("name = '" + var + "'").all()
    """)
    assert "before 1.4" in finding.message and finding.fix is FixSafety.UNSAFE
    assert (
        finding.payload_as(ParametrizePayload).replacement
        == """session.query(User).filter(text("name = :var").bindparams(var=var))"""
    )


def test_new_params_go_after_the_existing_ones() -> None:
    (finding,) = check("""
        import sqlite3
        def f(cur, x, y):
            cur.execute("SELECT * FROM t WHERE a = ? AND b = '" + x + "' AND c = '" + y + "'", (0,))
    """)
    assert (
        finding.payload_as(ParametrizePayload).replacement
        == 'cur.execute("SELECT * FROM t WHERE a = ? AND b = ? AND c = ?", (0, x, y))'
    )


@pytest.mark.parametrize(
    ("driver", "expected"),
    [
        (
            "clickhouse_driver",
            '"SELECT id FROM t WHERE kind = %(kind)s AND p LIKE \'x%%\'", {"kind": str(kind)}',
        ),
        (
            "oracledb",
            '"SELECT id FROM t WHERE kind = :kind AND p LIKE \'x%\'", {"kind": str(kind)}',
        ),
        ("pymssql", "\"SELECT id FROM t WHERE kind = %s AND p LIKE 'x%%'\", (str(kind),)"),
        ("duckdb", "\"SELECT id FROM t WHERE kind = ? AND p LIKE 'x%'\", (str(kind),)"),
    ],
)
def test_each_driver_gets_its_paramstyle(driver: str, expected: str) -> None:
    (finding,) = check(f"""
        import {driver}
        def f(cursor, kind):
            cursor.execute("SELECT id FROM t WHERE kind = '%s' AND p LIKE 'x%%'" % kind)
    """)
    # (Long lines are wrapped: compare the code, not the layout.)
    assert ast.unparse(
        ast.parse(finding.payload_as(ParametrizePayload).replacement)
    ) == ast.unparse(ast.parse(f"cursor.execute({expected})"))
    typed = driver in ("oracledb", "duckdb", "clickhouse_driver")  # typed binds, backslash escapes
    assert finding.fix is (FixSafety.UNSAFE if typed else FixSafety.SAFE)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # SQL's own escape, inside quotes (peewee's sqlcipher passphrase).
        (
            """
    def f(conn, secret):
        passphrase = secret.replace("'", "''")
        conn.execute("SELECT * FROM t WHERE a = '%s'" % passphrase)
    """,
            [],
        ),
        # ... but not outside them.
        (
            """
    def f(conn, secret):
        conn.execute("SELECT * FROM t WHERE a = " + secret.replace("'", "''"))
    """,
            ["PRD101"],
        ),
        # A PRAGMA value from the code's own settings: configuration, not input.
        (
            """
    def f(self, conn):
        for pragma, value in self._pragmas:
            conn.execute("PRAGMA %s = '%s'" % (pragma, value))
    """,
            [],
        ),
        (
            """
    def set_default(conn, value):
        conn.execute("ALTER TABLE t ADD COLUMN c TEXT DEFAULT '%s'" % value)
    """,
            ["PRD101"],
        ),
        # Numbers by annotation.
        (
            """
    from typing import Optional
    def f(conn, limit: Optional[int], offset: int | None):
        conn.execute("SELECT * FROM t LIMIT {} OFFSET {}".format(limit, offset))
    """,
            [],
        ),
        # Arithmetic with a number is a number.
        (
            """
    def f(conn, page_size):
        conn.execute("SELECT * FROM t LIMIT {}".format(page_size + 1))
    """,
            [],
        ),
        # Tests build SQL from their own data.
        (
            """
    # (path: tests/test_queries.py)
    def test_lookup(conn, name):
        conn.execute("SELECT * FROM t WHERE a = '%s'" % name)
    """,
            [],
        ),
        # A function's name is an identifier, not a value.
        (
            """
    def f(conn, fn_name):
        conn.execute("UPDATE t SET c = {}(c)".format(fn_name))
    """,
            ["PRD102"],
        ),
    ],
)
def test_what_is_a_value(code: str, expected: list[str]) -> None:
    path = "tests/test_queries.py" if "(path: tests/" in code else "example.py"
    assert [f.code for f in CHECKER.check_text(textwrap.dedent(code), path)] == expected


def test_ddl_message_says_no_parameters() -> None:
    (finding,) = check("""
        def set_default(conn, value):
            conn.execute("ALTER TABLE t ADD COLUMN c TEXT DEFAULT '%s'" % value)
    """)
    assert "takes no parameters" in finding.message and finding.fix is FixSafety.NONE


def test_semgrep_rules_sql_suite(tmp_path: Path) -> None:
    """semgrep-rules' SQL-injection tests, read from a fetched copy (CI has no GitHub)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "sql_precision.py"
    spec = importlib.util.spec_from_file_location("sql_precision", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if not bench.SEMGREP_RULES.exists():
        pytest.skip(f"no copy of semgrep-rules at {bench.SEMGREP_RULES}")
    totals, real, report = bench.semgrep_score(bench.SEMGREP_RULES, tmp_path, others=())
    found, false_alarms = totals["prodlint"]
    assert found == real and false_alarms == 0, "\n".join(report)


def test_sql_modules_import_in_one_direction() -> None:
    # sinks -> flow -> parametrize -> common: the verdict module is imported by nothing below
    # it, so each layer loads (and is tested) on its own.
    import subprocess
    import sys

    code = (
        "import sys, prodlint.rules.sql.parametrize\n"
        "print('prodlint.rules.sql.common' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_name_set_on_every_branch_is_not_input_itself() -> None:
    # Both branches build it: what q held before (nothing) cannot reach the sink, so the
    # statement is the SELECT the branches wrote, one that takes parameters (read as an
    # unknown prefix, it looked like a statement that takes none).
    found = check("""
        def search(db, name, exact):
            if exact:
                q = "SELECT * FROM t WHERE name = '" + name + "'"
            else:
                q = "SELECT * FROM t WHERE name LIKE '%" + name + "%'"
            db.execute(q)
    """)
    assert [f.code for f in found] == ["PRD101"]
    assert "`name`" in found[0].message and "`q`" not in found[0].message
    assert found[0].message.endswith("pass them as query parameters")
