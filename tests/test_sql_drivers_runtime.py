"""The PRD101 fixes for drivers with an in-process form, run on real databases: duckdb,
aiosqlite, and pandas.read_sql on sqlite3.

Each function in fixtures/sql/<driver>_queries.py takes a connection and a user value; the
same function in the fixed file must return the same rows for a benign value and, where the
fix changed it, the hostile value must leak the table before and nothing after.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import inspect
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"
HOSTILE = "' OR '1'='1"
ROWS = [(1, "alice"), (2, "bob"), (3, "carol")]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def duckdb_run(query: Callable[[object, str], object], value: str) -> object:
    duckdb = pytest.importorskip("duckdb")
    conn = duckdb.connect()
    conn.execute("CREATE TABLE users (id INTEGER, name VARCHAR)")
    conn.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
    try:
        return query(conn, value)
    finally:
        conn.close()


def aiosqlite_run(query: Callable[[object, str], object], value: str) -> object:
    aiosqlite = pytest.importorskip("aiosqlite")

    async def main() -> object:
        async with aiosqlite.connect(":memory:") as db:
            await db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            await db.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
            coroutine = query(db, value)
            assert inspect.isawaitable(coroutine)
            return await coroutine

    return asyncio.run(main())


def pandas_run(query: Callable[[object, str], object], value: str) -> object:
    pytest.importorskip("pandas")
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO users VALUES (?, ?)", ROWS)
    try:
        return query(conn, value)
    finally:
        conn.close()


RUNNERS: dict[str, Callable[[Callable[[object, str], object], str], object]] = {
    "duckdb": duckdb_run, "aiosqlite": aiosqlite_run, "pandas": pandas_run,
}


def cases() -> list[tuple[str, str]]:
    found = []
    for driver in RUNNERS:
        text = (FIXTURES / f"{driver}_queries.py").read_text(encoding="utf-8")
        found += [(driver, name) for name in _function_names(text)]
    return found


def _function_names(text: str) -> list[str]:
    return [n.name for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def run(driver: str, module: ModuleType, name: str, value: str) -> object:
    try:
        rows = RUNNERS[driver](getattr(module, name), value)
    except Exception as error:  # noqa: BLE001 - the error is the behaviour compared
        return type(error).__name__
    assert isinstance(rows, list)
    return sorted(tuple(row) for row in rows)


@pytest.mark.parametrize(("driver", "name"), cases())
def test_fixed_function_keeps_rows_and_stops_injection(driver: str, name: str) -> None:
    pytest.importorskip(driver)
    original = load(FIXTURES / f"{driver}_queries.py")
    fixed = load(FIXTURES / f"{driver}_queries.fixed.py")
    assert run(driver, original, name, "bob") == run(driver, fixed, name, "bob") == [(2, "bob")]
    if inspect.getsource(getattr(original, name)) != inspect.getsource(getattr(fixed, name)):
        assert run(driver, original, name, HOSTILE) == ROWS
        assert run(driver, fixed, name, HOSTILE) == []


def test_each_driver_fixture_has_a_fixed_function() -> None:
    for driver in RUNNERS:
        original = (FIXTURES / f"{driver}_queries.py").read_text(encoding="utf-8")
        fixed = (FIXTURES / f"{driver}_queries.fixed.py").read_text(encoding="utf-8")
        assert original != fixed, driver
