"""The PRD101 fixes keep queries working and stop injection, checked on real databases.

Every function in fixtures/sql/sqlite3_queries.py takes a connection and a user value; the
same function in the fixed file must return the same rows for a benign value, and where
the fix changed it, the hostile value must leak the table before and nothing after.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import inspect
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Protocol

import pytest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "sql" / "sqlite3_queries.py"
HOSTILE = "' OR '1'='1"
ROWS = [(1, "alice"), (2, "bob"), (3, "carol")]
Query = Callable[[sqlite3.Connection, str], list[tuple[object, ...]]]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ORIGINAL = load(FIXTURE)
FIXED = load(FIXTURE.with_name("sqlite3_queries.fixed.py"))
NAMES = [name for name, value in vars(ORIGINAL).items() if inspect.isfunction(value)]
CHANGED = [
    n
    for n in NAMES
    if inspect.getsource(getattr(ORIGINAL, n)) != inspect.getsource(getattr(FIXED, n))
]


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
    yield connection
    connection.close()


def run(query: Query, conn: sqlite3.Connection, value: str) -> object:
    try:
        return sorted(query(conn, value))
    except (sqlite3.Error, ValueError) as error:
        return type(error)


@pytest.mark.parametrize("name", NAMES)
def test_benign_input_gives_the_same_rows(name: str, conn: sqlite3.Connection) -> None:
    value = "name" if name.startswith("order_by") else "bob"
    before = run(getattr(ORIGINAL, name), conn, value)
    assert before == run(getattr(FIXED, name), conn, value)
    assert before not in ([], sqlite3.Error)


@pytest.mark.parametrize("name", CHANGED)
def test_hostile_input_leaks_before_the_fix_and_not_after(
    name: str, conn: sqlite3.Connection
) -> None:
    original: Query = getattr(ORIGINAL, name)
    fixed: Query = getattr(FIXED, name)
    assert run(original, conn, HOSTILE) == ROWS
    assert run(fixed, conn, HOSTILE) == []
    # A value with quotes and wildcards is data after the fix.
    conn.execute("INSERT INTO users VALUES (4, ?)", (HOSTILE,))
    assert run(fixed, conn, HOSTILE) == [(4, HOSTILE)]


def test_the_fixture_covers_fixed_and_unfixed_functions() -> None:
    assert len(CHANGED) >= 7 and len(CHANGED) < len(NAMES)


# --- drivers with an in-process form: duckdb, aiosqlite, pandas.read_sql on sqlite3 ---------
# Each function in fixtures/sql/<driver>_queries.py takes a connection and a user value, as
# above.


class Connection(Protocol):
    def execute(self, sql: str, /) -> object: ...
    def executemany(self, sql: str, rows: list[tuple[int, str]], /) -> object: ...
    def close(self) -> None: ...


DriverQuery = Callable[[object, str], object]


def in_process_run(connect: Callable[[], Connection]) -> Callable[[DriverQuery, str], object]:
    def run(query: DriverQuery, value: str) -> object:
        conn = connect()
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
        try:
            return query(conn, value)
        finally:
            conn.close()

    return run


def duckdb_connect() -> Connection:
    duckdb = pytest.importorskip("duckdb")
    conn: Connection = duckdb.connect()
    return conn


def sqlite_connect() -> Connection:
    pytest.importorskip("pandas")
    return sqlite3.connect(":memory:")


def aiosqlite_run(query: DriverQuery, value: str) -> object:
    aiosqlite = pytest.importorskip("aiosqlite")

    async def main() -> object:
        async with aiosqlite.connect(":memory:") as db:
            await db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            await db.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
            coroutine = query(db, value)
            assert inspect.isawaitable(coroutine)
            return await coroutine

    return asyncio.run(main())


RUNNERS: dict[str, Callable[[DriverQuery, str], object]] = {
    "duckdb": in_process_run(duckdb_connect),
    "aiosqlite": aiosqlite_run,
    "pandas": in_process_run(sqlite_connect),
}


def cases() -> list[tuple[str, str]]:
    found = []
    for driver in RUNNERS:
        text = FIXTURE.with_name(f"{driver}_queries.py").read_text(encoding="utf-8")
        found += [(driver, name) for name in _function_names(text)]
    return found


def _function_names(text: str) -> list[str]:
    return [
        n.name
        for n in ast.parse(text).body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def run_driver(driver: str, module: ModuleType, name: str, value: str) -> object:
    try:
        rows = RUNNERS[driver](getattr(module, name), value)
    except Exception as error:  # noqa: BLE001 - the error is the behaviour compared
        return type(error).__name__
    assert isinstance(rows, list)
    return sorted(tuple(row) for row in rows)


@pytest.mark.parametrize(("driver", "name"), cases())
def test_fixed_function_keeps_rows_and_stops_injection(driver: str, name: str) -> None:
    pytest.importorskip(driver)
    original = load(FIXTURE.with_name(f"{driver}_queries.py"))
    fixed = load(FIXTURE.with_name(f"{driver}_queries.fixed.py"))
    assert (
        run_driver(driver, original, name, "bob")
        == run_driver(driver, fixed, name, "bob")
        == [(2, "bob")]
    )
    if inspect.getsource(getattr(original, name)) != inspect.getsource(getattr(fixed, name)):
        assert run_driver(driver, original, name, HOSTILE) == ROWS
        assert run_driver(driver, fixed, name, HOSTILE) == []


def test_each_driver_fixture_has_a_fixed_function() -> None:
    for driver in RUNNERS:
        original = FIXTURE.with_name(f"{driver}_queries.py").read_text(encoding="utf-8")
        fixed = FIXTURE.with_name(f"{driver}_queries.fixed.py").read_text(encoding="utf-8")
        assert original != fixed, driver
