"""PRD301-303 fixes against a real sqlite database: the functions of
fixtures/resources/databases.py, as written and as fixed, run on the same database file.
Both must commit the same rows and return the same data; only the fixed ones close their
connection. (sqlite3 reports no ResourceWarning before Python 3.13, so the connections
are made by a ``sqlite3.Connection`` subclass that records ``close()``.)"""

from __future__ import annotations

import ast
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from corpus import FIXTURES

SOURCE = FIXTURES / "resources" / "databases.py"
# The sqlite functions; the module also imports psycopg2, which these never touch.
FUNCTIONS = ("count_rows", "insert", "closing_first", "query", "closed_after")


class Tracked(sqlite3.Connection):
    closed: list[Tracked] = []

    def close(self) -> None:
        Tracked.closed.append(self)
        super().close()


def tracked_connect(database: str, **options: float) -> sqlite3.Connection:
    return sqlite3.connect(database, factory=Tracked, **options)  # type: ignore[arg-type]


def functions(path: Path) -> dict[str, Callable[..., object]]:
    """The named functions of ``path``, compiled on their own with a sqlite3 whose
    connections record their closing."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wanted = [
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS
    ]
    assert {node.name for node in wanted} == set(FUNCTIONS)
    namespace: dict[str, object] = {
        "contextlib": contextlib,
        "sqlite3": SimpleNamespace(connect=tracked_connect),
    }
    exec(compile(ast.Module(body=wanted, type_ignores=[]), str(path), "exec"), namespace)
    return {name: namespace[name] for name in FUNCTIONS}  # type: ignore[misc]


ORIGINAL = functions(SOURCE)
FIXED = functions(SOURCE.with_name("databases.fixed.py"))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "t.db"
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
    yield str(path)


def rows(path: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT x FROM t ORDER BY x").fetchall()


def run(function: Callable[..., object], *args: object) -> tuple[object, int]:
    """What ``function`` returned, and how many connections it closed."""
    Tracked.closed.clear()
    result = function(*args)
    return result, len(Tracked.closed)


@pytest.mark.parametrize("name", ["count_rows", "insert", "query"])
def test_fixed_function_closes_and_commits_the_same(name: str, database: str) -> None:
    args: tuple[object, ...] = {
        "count_rows": (),
        "insert": (2,),
        "query": ("SELECT x FROM t",),
    }[name]
    before, closed_before = run(ORIGINAL[name], database, *args)
    committed_before = rows(database)
    after, closed_after = run(FIXED[name], database, *args)
    assert closed_before == 0, f"{name} as written closes its connection: nothing to flag"
    assert closed_after == 1, f"the fixed {name} leaves its connection open"
    assert before == after
    if name == "insert":
        # The original committed one row; the fixed one commits the next the same way.
        assert committed_before == [(1,), (2,)]
        assert rows(database) == [(1,), (2,), (2,)]


def test_fixed_insert_closes_on_error_too(database: str) -> None:
    """The fixed ``insert`` nests ``with conn`` inside the closing block: a failing insert
    still leaves through both, so the connection is closed on the error path as well."""
    for function, closed in ((ORIGINAL["insert"], 0), (FIXED["insert"], 1)):
        Tracked.closed.clear()
        with pytest.raises(sqlite3.Error):
            function(database, object())  # a value sqlite cannot bind
        assert len(Tracked.closed) == closed
    assert rows(database) == [(1,)]


@pytest.mark.parametrize("name", ["closing_first", "closed_after"])
def test_functions_left_alone_close(name: str, database: str) -> None:
    _, closed = run(ORIGINAL[name], database)
    assert closed == 1
