"""The ``extra-resources`` option of PRD301/302: factories the project names. Nothing says
such a resource is a context manager, so the fix closes it through ``contextlib.closing``,
or ``contextlib.aclosing`` under ``async with`` when its closer is ``aclose`` (an async
generator is one: it has ``aclose()`` and no ``async with``). The modules are run before
and after the fix: the fixed ones close at the end of the block, the originals leave it to
the collector (for an async generator, to the event loop some time later). A closer with no
block form (``drain``) is called in a ``finally``."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.rules.resources.closed_on_success_only import ClosedOnlyOnSuccess
from prodlint.rules.resources.not_closed import ResourceNotClosed

OPTIONS = {
    "extra-resources": (
        "ticker:aclose",
        "start_ticker:aclose",
        "logs.open_log",
        "logs.open_pool:drain",
    )
}
CHECKER = Checker(
    Config(rule_options={"PRD301": OPTIONS, "PRD302": OPTIONS}),
    rules=[ResourceNotClosed, ClosedOnlyOnSuccess],
)

LOGS = """
def open_log(path):
    return open(path, encoding="utf-8")


class Pool:
    def __init__(self, path):
        self.file = open(path, encoding="utf-8")

    def read(self):
        return self.file.read()

    def drain(self):
        self.file.close()


def open_pool(path):
    return Pool(path)
"""

APP = """import logs

cleaned = []


async def ticker():
    try:
        yield 1
        yield 2
    finally:
        cleaned.append("ticker")


async def first_tick():
    agen = ticker()
    async for value in agen:
        break
    await agen.aclose()
    return value


async def start_ticker():
    return ticker()


async def awaited_tick():
    agen = await start_ticker()
    async for value in agen:
        break
    return value


def log_size(path):
    log = logs.open_log(path)
    return len(log.read())


def pool_size(path):
    pool = logs.open_pool(path)
    return len(pool.read())
"""

FIXED_FUNCTIONS = """
async def first_tick():
    async with contextlib.aclosing(ticker()) as agen:
        async for value in agen:
            break
    return value


async def awaited_tick():
    async with contextlib.aclosing(await start_ticker()) as agen:
        async for value in agen:
            break
    return value


def log_size(path):
    with contextlib.closing(logs.open_log(path)) as log:
        return len(log.read())


def pool_size(path):
    pool = logs.open_pool(path)
    try:
        return len(pool.read())
    finally:
        pool.drain()
"""


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[tuple[ModuleType, ModuleType, str]]:
    (tmp_path / "logs.py").write_text(LOGS, encoding="utf-8")
    fixed = fix_text(APP, "app.py", CHECKER, unsafe=True).text
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "app_fixed.py").write_text(fixed, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield load(tmp_path / "app.py"), load(tmp_path / "app_fixed.py"), fixed
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("logs", None)


def test_findings_and_fixes(modules: tuple[ModuleType, ModuleType, str]) -> None:
    found = {(f.line, f.code, f.fix.name) for f in CHECKER.check_text(APP, "app.py")}
    assert found == {
        (15, "PRD302", "SAFE"),
        (27, "PRD301", "UNSAFE"),
        (34, "PRD301", "UNSAFE"),
        (39, "PRD301", "UNSAFE"),  # ``drain`` has no block form: try/finally
    }
    fixed = modules[2]
    assert fixed.startswith("import contextlib\n\nimport logs\n")
    for function in FIXED_FUNCTIONS.strip().split("\n\n\n"):
        assert function in fixed


def test_aclosing_finalizes_the_generator_at_the_end_of_the_block(
    modules: tuple[ModuleType, ModuleType, str],
) -> None:
    original, fixed, _ = modules

    async def run(module: ModuleType) -> tuple[object, list[str]]:
        module.cleaned.clear()
        value = await module.awaited_tick()
        # No await since it returned: only a close the function ran itself shows here.
        return value, list(module.cleaned)

    assert asyncio.run(run(original)) == (1, [])
    assert asyncio.run(run(fixed)) == (1, ["ticker"])
    assert asyncio.run(original.first_tick()) == asyncio.run(fixed.first_tick()) == 1


def test_closing_and_finally_close_a_named_factory(
    modules: tuple[ModuleType, ModuleType, str], tmp_path: Path
) -> None:
    original, fixed, _ = modules
    path = tmp_path / "app.log"
    path.write_text("twelve chars", encoding="utf-8")
    for function in ("log_size", "pool_size"):
        for module, leaks in ((original, True), (fixed, False)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ResourceWarning)
                assert getattr(module, function)(str(path)) == 12
                gc.collect()
            unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
            assert bool(unclosed) == leaks, (function, unclosed)
