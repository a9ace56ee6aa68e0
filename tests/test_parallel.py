"""The worker processes of a run (prodlint.parallel): every item is done once, by the worker
that holds what it needs when it can be; errors and dead workers end the run instead of
hanging it; and a check gives the same findings and cache whatever the number of workers,
forked or spawned, with the main process parsing nothing."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from test_speed_paths import MODELS

from prodlint import parallel, runner
from prodlint.cache import Cache, code_fingerprint
from prodlint.config import Configs
from prodlint.parallel import WorkerFailed, Workers, _Plan


def _hand_out(plan: _Plan, order: list[int]) -> list[tuple[int, list[int]]]:
    """Chunks in the order workers ask for them (``order`` cycles over the workers)."""
    given: list[tuple[int, list[int]]] = []
    turn = 0
    idle: set[int] = set()
    while len(idle) < plan.workers:
        worker = order[turn % len(order)]
        turn += 1
        if worker in idle:
            continue
        chunk = plan.next_for(worker)
        if not chunk:
            idle.add(worker)
        given.append((worker, chunk))
    return given


def test_every_item_goes_out_once_largest_first() -> None:
    sizes = [5, 900, 0, 40, 40, 7000, 3, 120] * 20
    plan = _Plan(sizes, None, 3, max_files=8)
    given = _hand_out(plan, [0, 1, 2])
    handed = [position for _, chunk in given for position in chunk]
    assert sorted(handed) == list(range(len(sizes)))
    assert [sizes[i] for i in handed] == sorted(sizes, reverse=True)
    assert all(len(chunk) <= 8 for _, chunk in given)
    # Chunks shrink towards the end: the last ones carry little.
    weights = [sum(sizes[i] for i in chunk) for _, chunk in given if chunk]
    assert weights[-1] < weights[0] / 4


def test_pinned_items_go_to_their_owner_until_it_runs_dry() -> None:
    sizes = [100] * 30
    owners = [0] * 10 + [1] * 10 + [-1] * 10
    plan = _Plan(sizes, owners, 2, max_files=2)
    # Worker 1 asks three times as often (worker 0 is slow): it does its own items first,
    # then the unpinned ones, then takes worker 0's.
    given = _hand_out(plan, [1, 1, 1, 0])
    done_by = {position: worker for worker, chunk in given for position in chunk}
    assert sorted(done_by) == list(range(30))
    assert all(done_by[i] == 1 for i in range(10, 20))
    first_of_worker_1 = [p for worker, chunk in given if worker == 1 for p in chunk]
    assert set(first_of_worker_1[:10]) == set(range(10, 20))
    stolen = [i for i in range(10) if done_by[i] == 1]
    assert stolen, "an idle worker takes the busy one's queued items"
    # What it takes is the smallest end of the queue: the owner keeps the big ones.
    kept_by_owner = [i for i in range(10) if done_by[i] == 0]
    assert kept_by_owner and min(kept_by_owner) == 0


def _square_all(numbers: list[int]) -> list[int]:
    return [number * number for number in numbers]


def _fail_on_seven(numbers: list[int]) -> list[int]:
    if 7 in numbers:
        raise ValueError("seven")
    return numbers


def _die(numbers: list[int]) -> list[int]:
    os._exit(3)


def _pid(_: object) -> int:
    return os.getpid()


@pytest.mark.parametrize("fork", [True, False], ids=["fork", "spawn"])
def test_workers_map_broadcast_and_fail(monkeypatch: pytest.MonkeyPatch, fork: bool) -> None:
    monkeypatch.setattr(parallel, "FORK", fork)
    numbers = list(range(50))
    with Workers(2) as group:
        results: dict[int, list[int]] = {}
        for worker, chunk in group.map(_square_all, numbers, [1] * 50, max_files=4):
            results.setdefault(worker, []).extend(chunk)
        assert sorted(n for chunk in results.values() for n in chunk) == [n * n for n in numbers]
        group.broadcast(_pid, None)  # every worker answers
        assert len(group.busy_seconds) == 2 and len(group.busy_seconds[0]) == 2
        # A task's exception reaches the caller as it was raised.
        with pytest.raises(ValueError, match="seven"):
            list(group.map(_fail_on_seven, numbers, [1] * 50, max_files=4))
    with Workers(2) as group, pytest.raises(WorkerFailed):
        list(group.map(_die, numbers, [1] * 50))


VIEW = """
from shop.models import Book


def titles_{n}():
    return [f"{{book.title}} by {{book.author.name}}" for book in Book.objects.all()]


def report_{n}(cursor, name):
    cursor.execute("SELECT * FROM t WHERE name = '%s'" % name)
    print("done")
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n")
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    for number in range(40):
        (package / f"view_{number}.py").write_text(VIEW.format(n=number))
    # Relative paths: pytest's folder (test_...) would make every file a test file.
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(shop: Path, jobs: int, cache: Path | None = None) -> runner.RunResult:
    configs = Configs(None)
    if cache is None:
        return runner.check_paths([Path("shop")], configs, use_cache=False, jobs=jobs)
    configs = Configs(None, lambda config: config.override(cache_dir=str(cache)))
    return runner.check_paths([Path("shop")], configs, jobs=jobs)


@pytest.mark.parametrize("fork", [True, False], ids=["fork", "spawn"])
def test_same_findings_and_cache_for_any_number_of_workers(
    shop: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    monkeypatch.setattr(parallel, "FORK", fork)
    one = _run(shop, 1, shop / "cache1")
    codes = Counter(f.code for f in one.findings)
    assert codes["PRD202"] == 40 and codes["PRD101"] == 40, codes  # the facts were read
    assert one.worker_seconds == []  # --jobs 1: no processes
    entries: list[Cache] = []
    for jobs in (2, 3):
        many = _run(shop, jobs, shop / f"cache{jobs}")
        assert many.findings == one.findings
        # Reading the facts, handing out the project facts, checking: all in the workers.
        assert len(many.worker_seconds) == 3 and all(len(s) == jobs for s in many.worker_seconds)
        entries.append(Cache(shop / f"cache{jobs}", code_fingerprint()))
    reference = Cache(shop / "cache1", code_fingerprint())
    for cache in entries:
        assert cache.entries == reference.entries
        assert cache.facts_fingerprint == reference.facts_fingerprint
    warm = _run(shop, 2, shop / "cache2")
    assert warm.findings == one.findings and warm.from_cache == warm.files == 42


def test_workers_parse_each_file_once_and_the_main_process_none(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ast

    log = shop / "parsed.log"
    parse = ast.parse
    parent = os.getpid()

    def logged(source: str | bytes, filename: str = "<unknown>", *args: object) -> ast.Module:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()} {filename}\n")
        return parse(source, filename, *args)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(ast, "parse", logged)  # forked workers inherit it
    result = _run(shop, 2)
    monkeypatch.setattr(ast, "parse", parse)
    assert any(f.code == "PRD202" for f in result.findings)
    parsed = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert parsed and all(int(pid) != parent for pid, _ in parsed)
    files = Counter(name for _, name in parsed if name.endswith(".py"))
    # Once each, but for the few a worker left idle took over from the one that read their
    # facts (it parses them again rather than wait).
    assert len(files) == 42 and set(files.values()) <= {1, 2}, files
    assert sum(files.values()) <= 42 + 42 // 3, files


def test_a_file_changed_after_its_facts_were_read_is_not_cached(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its findings were made from other content than its facts: the next run checks it."""
    from prodlint import facts

    models = shop / "shop" / "models.py"
    read = facts.read_facts_and_tree

    def then_edit(data: bytes, path: str) -> tuple[object, object]:
        done = read(data, path)
        if path.endswith("models.py"):
            models.write_text(MODELS + "\n# edited\n")
        return done

    # In the worker that reads it (forked: it inherits the patch).
    monkeypatch.setattr(facts, "read_facts_and_tree", then_edit)
    first = _run(shop, 2, shop / "cache")
    monkeypatch.setattr(facts, "read_facts_and_tree", read)
    assert first.findings
    second = _run(shop, 2, shop / "cache")
    assert second.from_cache == second.files - 1  # models.py alone is checked again
    assert second.findings == first.findings


def test_progress_is_reported_per_chunk(shop: Path) -> None:
    seen: list[tuple[int, int]] = []
    configs = Configs(None)
    runner.check_paths(
        [Path("shop")], configs, use_cache=False, jobs=2, progress=lambda *p: seen.append(p)
    )
    assert seen and seen[-1] == (42, 42)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
