"""The PRD101 fixes keep queries working and stop injection, checked on a real database.

Every function in fixtures/sql/sqlite3_queries.py takes a connection and a user value; the
same function in the fixed file must return the same rows for a benign value, and where
the fix changed it, the hostile value must leak the table before and nothing after.
"""

from __future__ import annotations

import importlib.util
import inspect
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

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
CHANGED = [n for n in NAMES if inspect.getsource(getattr(ORIGINAL, n)) != inspect.getsource(getattr(FIXED, n))]


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
def test_hostile_input_leaks_before_the_fix_and_not_after(name: str, conn: sqlite3.Connection) -> None:
    original: Query = getattr(ORIGINAL, name)
    fixed: Query = getattr(FIXED, name)
    assert run(original, conn, HOSTILE) == ROWS
    assert run(fixed, conn, HOSTILE) == []
    # A value with quotes and wildcards is data after the fix.
    conn.execute("INSERT INTO users VALUES (4, ?)", (HOSTILE,))
    assert run(fixed, conn, HOSTILE) == [(4, HOSTILE)]


def test_the_fixture_covers_fixed_and_unfixed_functions() -> None:
    assert len(CHANGED) >= 7 and len(CHANGED) < len(NAMES)
