"""PRD101 fixes that used to break queries (issue 8), run on real databases: sqlite3,
Django on an in-memory sqlite database, SQLAlchemy on sqlite.

Each case is a module defining ``query(db, value)``. The safe fix must return the same rows
(or raise the same error) as the original for every benign value, including ``None``,
``True``, a number, an enum and a type with its own ``__format__``, whose SQL text is
``str()``/``format()`` of the value and not the value itself; the unsafe fix the same for a
plain string. Where a fix
applies, the hostile value leaks the table before it and nothing after.
"""

from __future__ import annotations

import enum
import sqlite3
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.registry import all_rules

CHECKER = Checker(Config(), rules=[r for c, r in all_rules().items() if c.startswith("PRD1")])
HOSTILE = "' OR '1'='1"


class Color(str, enum.Enum):
    RED = "red"


class Money:
    """A type whose ``format(v, "")`` is not ``str(v)`` (so are str-mixin enums on 3.10)."""

    def __str__(self) -> str:
        return "5.00 EUR"

    def __format__(self, spec: str) -> str:
        return "5.00"


BENIGN: list[object] = ["bob", None, True, 5, Color.RED, Money()]
# Rows whose names are the texts the benign values splice in, so a changed binding shows.
ROWS = [
    (1, "alice"),
    (2, "bob"),
    (3, "None"),
    (4, "True"),
    (5, "5"),
    (6, "red"),
    (7, "Color.RED"),
    (8, "   bob"),
    (9, "5.00"),
    (10, "5.00 EUR"),
]


@dataclass(frozen=True)
class Case:
    source: str
    tier: str  # the fix the case must get: safe, unsafe or none
    db: str = "sqlite"
    unsafe_values: tuple[object, ...] = ("bob",)  # where the unsafe fix must agree too
    sample: str = "bob"  # a value the original query finds rows for
    hostile: str = HOSTILE


SQLITE = "import sqlite3\n\n\n"
CASES = {
    # Parameters are not allowed in DDL, views, CHECK/DEFAULT clauses and PRAGMA.
    "ddl_default": Case(
        SQLITE
        + """
def query(conn, value):
    conn.execute("CREATE TABLE t (a TEXT DEFAULT '" + value + "')")
    conn.execute("INSERT INTO t DEFAULT VALUES")
    return conn.execute("SELECT a FROM t").fetchall()
""",
        "none",
    ),
    "ddl_check": Case(
        SQLITE
        + """
def query(conn, value):
    conn.execute("CREATE TABLE t (a TEXT CHECK (a <> '%s'))" % value)
    return conn.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall()
""",
        "none",
    ),
    "create_view": Case(
        SQLITE
        + """
def query(conn, value):
    conn.execute(f"CREATE TEMP VIEW v AS SELECT id, name FROM users WHERE name = '{value}'")
    return conn.execute("SELECT id, name FROM v").fetchall()
""",
        "none",
    ),
    "pragma": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute("PRAGMA table_info('" + value + "')").fetchall()
""",
        "none",
    ),
    # ``%6s`` right-aligns; ``{value:6}`` would left-align a str.
    "width": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE name = '%6s'" % value).fetchall()
""",
        "none",
    ),
    # The quotes come from elsewhere than the literal text.
    "chr_quote": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE name = " + chr(39) + value + chr(39)).fetchall()
""",
        "safe",
    ),
    "quote_constant": Case(
        SQLITE
        + """
QUOTE = "'"


def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE name = " + QUOTE + value + QUOTE).fetchall()
""",
        "safe",
    ),
    "unknown_quote": Case(
        SQLITE
        + """
def quote():
    return "'"


def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE name = " + quote() + value + quote()).fetchall()
""",
        "none",
    ),
    # An apostrophe in an SQL comment opens no string.
    "sql_comment": Case(
        SQLITE
        + '''
def query(conn, value):
    return conn.execute("""SELECT id, name FROM users -- the user's row
        WHERE name = '""" + value + "'").fetchall()
''',
        "safe",
    ),
    # None, True and 5 are spliced as 'None', 'True' and '5'.
    "percent": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE name = '%s'" % value).fetchall()
""",
        "safe",
    ),
    # An f-string splices format(value, ""), not str(value).
    "fstring": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute(f"SELECT id, name FROM users WHERE name = '{value}'").fetchall()
""",
        "safe",
    ),
    "like": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE name LIKE '%%%s%%'" % value).fetchall()
""",
        "safe",
    ),
    "unquoted": Case(
        SQLITE
        + """
def query(conn, value):
    return conn.execute("SELECT id, name FROM users WHERE id = " + value).fetchall()
""",
        "unsafe",
        unsafe_values=("2",),
        sample="2",
        hostile="0 OR 1 = 1",
    ),
    # Unsafe: Django may run on MySQL, which read backslashes in the literal as escapes.
    "django_percent": Case(
        """
from django.db import connection


def query(conn, value):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name FROM users WHERE name = '%s'" % value)
        return cursor.fetchall()
""",
        "unsafe",
        db="django",
        unsafe_values=tuple(BENIGN),
    ),
    "django_fstring": Case(
        """
from django.db import connection


def query(conn, value):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM users WHERE name = '{value}' AND id > 0")
        return cursor.fetchall()
""",
        "unsafe",
        db="django",
        unsafe_values=tuple(BENIGN),
    ),
    # ``:value`` is taken: the new bind needs another name. Unsafe: dialects that cast bound
    # strings (asyncpg, psycopg 3) type it as VARCHAR; sqlite agrees for every value.
    "sqlalchemy_bind_clash": Case(
        """
from sqlalchemy import text


def query(conn, value):
    sql = text("SELECT id, name FROM users WHERE id > :value AND name = '" + value + "'")
    return conn.execute(sql, {"value": 0}).fetchall()
""",
        "unsafe",
        db="sqlalchemy",
        unsafe_values=tuple(BENIGN),
    ),
}
# A Python comment inside the SQL expression stays, or there is no fix.
COMMENTED = (
    SQLITE
    + """
def query(conn, value):
    return conn.execute(
        "SELECT id, name FROM users "  # every column
        "WHERE name = '%s'" % value
    ).fetchall()
"""
)


def connect(kind: str) -> Iterator[object]:
    if kind == "sqlite":
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
        conn.execute("CREATE TABLE bob (id INTEGER)")
        yield conn
        conn.close()
    elif kind == "sqlalchemy":
        import sqlalchemy

        engine = sqlalchemy.create_engine("sqlite://")
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            for row in ROWS:
                connection.exec_driver_sql("INSERT INTO users VALUES (?, ?)", row)
            yield connection
        engine.dispose()
    else:
        import django
        from django.conf import settings

        if not settings.configured:
            settings.configure(
                DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
            )
            django.setup()
        from django.db import connection as django_connection

        with django_connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS users")
            cursor.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            cursor.executemany("INSERT INTO users VALUES (%s, %s)", ROWS)
        yield django_connection


def run(source: str, kind: str, value: object) -> object:
    namespace: dict[str, object] = {}
    exec(compile(source, "case.py", "exec"), namespace)  # noqa: S102 - the case under test
    query = namespace["query"]
    assert callable(query)
    for db in connect(kind):
        try:
            return sorted(query(db, value))
        except Exception as error:  # noqa: BLE001 - the error is the behaviour compared
            return type(error).__name__
    raise AssertionError("no connection")


def fixed(source: str, unsafe: bool) -> str:
    return fix_text(source, "case.py", CHECKER, unsafe=unsafe).text


@pytest.mark.parametrize("name", CASES)
def test_fix_tier_and_behaviour(name: str) -> None:
    case = CASES[name]
    safe, everything = fixed(case.source, unsafe=False), fixed(case.source, unsafe=True)
    tier = "safe" if safe != case.source else "unsafe" if everything != case.source else "none"
    assert tier == case.tier, everything
    for value in BENIGN:
        before = run(case.source, case.db, value)
        # ``"..." + value`` raised TypeError for a value that is not a str: no fix keeps that.
        if before != "TypeError":
            assert run(safe, case.db, value) == before, (value, safe)
    for value in case.unsafe_values:
        before = run(case.source, case.db, value)
        if before != "TypeError":
            assert run(everything, case.db, value) == before, (value, everything)
    assert run(case.source, case.db, case.sample) not in ([], "OperationalError")
    if tier != "none":
        assert len(run(case.source, case.db, case.hostile)) == len(ROWS)  # type: ignore[arg-type]
        assert run(everything, case.db, case.hostile) in ([], "OperationalError")


def test_a_comment_inside_the_sql_is_kept() -> None:
    result = fixed(COMMENTED, unsafe=True)
    assert "# every column" in result
    assert run(result, "sqlite", "bob") == run(COMMENTED, "sqlite", "bob") == [(2, "bob")]


def test_a_comment_elsewhere_in_the_call_is_kept() -> None:
    source = (
        SQLITE
        + """
def query(conn, value):
    return conn.execute(
        "SELECT id, name FROM users WHERE name = '%s'" % value,  # the user's own row
    ).fetchall()
"""
    )
    result = fixed(source, unsafe=False)
    assert result != source and "# the user's own row" in result
    assert run(result, "sqlite", "bob") == run(source, "sqlite", "bob") == [(2, "bob")]


@pytest.mark.parametrize(
    "template",
    [
        "SELECT a FROM t WHERE b = '{}'",
        "with x as (select 1) SELECT * FROM x WHERE b = '{}'",
        "INSERT INTO t VALUES ('{}')",
        "UPDATE t SET a = '{}'",
        "DELETE FROM t WHERE a = '{}'",
    ],
)
def test_dml_is_fixed(template: str) -> None:
    source = textwrap.dedent(f"""
        import sqlite3
        def f(conn, v):
            conn.execute("{template}".format(v))
    """)
    assert fixed(source, unsafe=False) != source


@pytest.mark.parametrize(
    "template",
    [
        "ALTER TABLE t ADD COLUMN c TEXT DEFAULT '{}'",
        "CREATE INDEX i ON t (a) WHERE a = '{}'",
        "DROP TABLE t; SELECT * FROM t WHERE a = '{}'",
        "SET search_path = '{}'",
    ],
)
def test_ddl_is_flagged_not_fixed(template: str) -> None:
    source = textwrap.dedent(f"""
        import sqlite3
        def f(conn, v):
            conn.execute("{template}".format(v))
    """)
    assert [f.code for f in CHECKER.check_text(source, "case.py")] == ["PRD101"]
    assert fixed(source, unsafe=True) == source


TEXTUAL_CLAUSE = """
from sqlalchemy.orm import Session


def query(session, model, value):
    return [row.name for row in session.query(model).filter("name = '" + value + "'").order_by(model.id)]
"""


def test_textual_clause_fix_binds_with_text() -> None:
    """SQLAlchemy 2 rejects the string clause; the (unsafe) fix makes it a bound ``text()``."""
    import sqlalchemy
    from sqlalchemy.orm import DeclarativeBase, Session

    class Base(DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "users"
        id = sqlalchemy.Column(sqlalchemy.Integer, primary_key=True)
        name = sqlalchemy.Column(sqlalchemy.String)

    engine = sqlalchemy.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    result = fixed(TEXTUAL_CLAUSE, unsafe=True)
    assert fixed(TEXTUAL_CLAUSE, unsafe=False) == TEXTUAL_CLAUSE
    assert (
        "from sqlalchemy import text" in result
        and 'text("name = :value").bindparams(value=value)' in result
    )
    with Session(engine) as session:
        session.add_all([User(id=i, name=n) for i, n in ROWS])
        session.commit()
        for source, value, expected in [
            (TEXTUAL_CLAUSE, "bob", "ArgumentError"),
            (result, "bob", ["bob"]),
            (result, HOSTILE, []),
        ]:
            namespace: dict[str, object] = {}
            exec(compile(source, "case.py", "exec"), namespace)  # noqa: S102 - the case under test
            query = namespace["query"]
            assert callable(query)
            try:
                outcome: object = query(session, User, value)
            except sqlalchemy.exc.ArgumentError as error:
                outcome = type(error).__name__
            assert outcome == expected
