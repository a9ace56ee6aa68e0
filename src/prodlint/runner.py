"""The pipeline: source -> parse -> detect -> findings -> report | fix.

``check_paths`` runs it for the CLI (and pre-commit): discovery (``prodlint.discovery``)
lists the checked files and, for the project facts, the rest of each one's project; the
facts (``prodlint.facts``) are read from every file that can hold some and built once,
because any file's findings may depend on what others declare; then the files whose
cached findings (``prodlint.cache``) are not valid any more are checked by the engine,
in worker processes (``prodlint.parallel``) when there are enough of them. Findings go to
``prodlint.report`` or, for ``prodlint fix``, to ``fix_paths``. Front ends that see one
file at a time (stdin, flake8, the codemod) get the same facts from ``project_facts``.

The warm path (nothing changed since the last run) stats each file, loads one pickle and
returns what it holds, without importing the engine, the rules or ``ast``. Everything that
checks is imported only when something must be checked.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from prodlint.cache import Cache, CacheEntry, FileFacts, code_fingerprint, digest_of
from prodlint.config import Config, Configs, find_project_root
from prodlint.discovery import SourceFile, discover, fact_files
from prodlint.model import Finding
from prodlint.textfiles import with_templates

if TYPE_CHECKING:
    import ast

    from prodlint.engine import Checker
    from prodlint.facts import ProjectFacts
    from prodlint.fixer import FixResult
    from prodlint.parallel import Workers

# Below this many files to check, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24
# Reading the project facts of fewer files than this is faster in the main process.
PARALLEL_FACTS_THRESHOLD = 16
# Source bytes whose trees the facts pre-pass keeps for checking, in each process that
# reads facts (this one, or each worker); files beyond it are parsed again when checked. A
# tree takes ~25x its source in memory, so the cap is ~100 MB a process. On Django 5.2 MB
# of the 5.6 MB may hold facts: one process keeps 4 MB (peak 149 MB), two workers keep
# their ~2.6 MB shares whole (peak 99 MB; half the cap each left 1.2 MB to parse again).
KEPT_TREES_BUDGET = 4 * 1024 * 1024

# What a file costs beyond its bytes (open, stat, a Context, the dispatch), in bytes' worth
# of parsing and checking: about 0.16 ms, the time of ~250 bytes. Empty __init__.py files
# are many and not free.
FILE_COST = 256

ProgressCallback = Callable[[int, int], None]


class _KeptTrees:
    """Trees the facts pre-pass parsed, by cache key, with the digest of the content
    parsed: checking the same file uses one instead of parsing again. Each process has its
    own (a forked worker inherits the parent's)."""

    def __init__(self) -> None:
        self.trees: dict[str, tuple[bytes, ast.Module]] = {}
        self.budget = 0

    def reset(self, budget: int) -> None:
        self.trees.clear()
        self.budget = budget

    def take(self, key: str, digest: bytes) -> ast.Module | None:
        kept = self.trees.pop(key, None)
        return kept[1] if kept is not None and kept[0] == digest else None


_kept = _KeptTrees()


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    from_cache: int = 0
    # The project facts the findings were made with (None when every finding came from
    # the cache and nobody asked); a fix run hands them on so re-checks see the same.
    project: ProjectFacts | None = None
    # The checked files, as shown (a baseline judges only these).
    checked: list[str] = field(default_factory=list)
    # CPU seconds each worker process spent on the tasks of each parallel step (reading
    # facts, handing out the project facts, checking); empty when all ran in this process.
    worker_seconds: list[list[float]] = field(default_factory=list)


# --- project facts -------------------------------------------------------------------


class Read(NamedTuple):
    """A file whose facts must be read again (its stat changed)."""

    key: str
    path: str
    known: bytes  # the digest of the cached content (b"": none): the same content is not parsed
    keep: bool  # a checked file: its tree is kept for the check (within the budget)


class Readout(NamedTuple):
    key: str
    mtime_ns: int
    size: int
    digest: bytes | None  # None: the file cannot be read
    facts: FileFacts | None
    kept: bool  # its tree is kept in the process that read it


def _read_chunk(chunk: list[Read]) -> list[Readout]:
    from prodlint.facts import may_contribute, read_facts, read_facts_and_tree

    results: list[Readout] = []
    for read in chunk:
        try:
            # Stat first: a change after it gives the next run another stat to notice.
            stat = os.stat(read.path)
            with open(read.path, "rb") as handle:
                data = handle.read()
        except OSError:
            results.append(Readout(read.key, 0, 0, None, None, False))
            continue
        digest = digest_of(data)
        facts: FileFacts | None = None
        kept = False
        if digest == read.known or not may_contribute(data, read.path):
            pass
        elif read.keep and len(data) <= _kept.budget:
            facts, tree = read_facts_and_tree(data, read.path)
            if tree is not None:
                _kept.trees[read.key] = (digest, tree)
                _kept.budget -= len(data)
                kept = True
        else:
            facts = read_facts(data, read.path)
        results.append(Readout(read.key, stat.st_mtime_ns, stat.st_size, digest, facts, kept))
    return results


def _load_rules(configs: Sequence[Config]) -> None:
    """The run's rules and the fact providers, imported once before the workers fork so
    every worker inherits them: only the selected rules (``--select PRD5`` imports the
    PRD5 modules, not every rule module)."""
    from prodlint.facts import all_providers
    from prodlint.registry import selected_rules

    for config in configs:
        selected_rules(config.select, config.ignore, config.extend_select)
    all_providers()


def _read_all(
    reads: list[Read], sizes: dict[str, int], workers: Workers | None
) -> Iterator[tuple[int, list[Readout]]]:
    """Each chunk of readouts with the worker that read it (-1: this process)."""
    if not reads:
        return  # a warm run: nothing to read, nothing to import
    if workers is None or workers.count == 1 or len(reads) < PARALLEL_FACTS_THRESHOLD:
        yield -1, _read_chunk(reads)
        return
    costs = [sizes.get(read.key, 0) + FILE_COST for read in reads]
    yield from workers.map(_read_chunk, reads, costs)


@dataclass
class Gathered:
    """The project facts for a set of files, from the cache where it can answer."""

    cache: Cache
    files: list[SourceFile]
    sizes: dict[str, int]
    # Content digests of the files read this run: a file that changes while it is being
    # checked must not have its findings cached under the old content.
    expected: dict[str, bytes]
    fingerprint: str
    project: ProjectFacts | None
    # The worker holding the tree of each checked file a worker parsed for its facts.
    owners: dict[str, int] = field(default_factory=dict)

    def build(self) -> ProjectFacts:
        if self.project is None:
            self.project, _ = _build(self.cache, self.files)
        return self.project


def _build(cache: Cache, files: Iterable[SourceFile]) -> tuple[ProjectFacts, str]:
    from prodlint.facts import build_project

    return build_project(
        facts
        for f in files
        if (entry := cache.entries.get(f.key)) is not None
        and entry.has_facts
        and (facts := entry.facts)
    )


def gather(
    files: list[SourceFile],
    cache: Cache,
    workers: Workers | None = None,
    keep: frozenset[str] = frozenset(),
) -> Gathered:
    """``keep``: keys of the files the run checks next; the process that reads the facts
    of one keeps its tree for the check: a models file is parsed once, not once for the
    facts and once for the findings."""
    # 1. Which files changed since the cache was written (by stat; the content is compared
    # where the files are read).
    reads: list[Read] = []
    sizes: dict[str, int] = {}
    for file in files:
        entry = cache.entries.get(file.key)
        try:
            stat = os.stat(file.path)
        except OSError:
            reads.append(Read(file.key, file.path, b"", file.key in keep))
            continue
        sizes[file.key] = stat.st_size
        if entry is not None and entry.mtime_ns == stat.st_mtime_ns and entry.size == stat.st_size:
            continue
        reads.append(Read(file.key, file.path, entry.digest if entry else b"", file.key in keep))

    # 2. Facts of changed files; an unchanged content (a touched file) keeps its entry.
    expected: dict[str, bytes] = {}
    owners: dict[str, int] = {}
    for worker, readouts in _read_all(reads, sizes, workers):
        for out in readouts:
            entry = cache.entries.get(out.key)
            if out.digest is None:
                cache.entries.pop(out.key, None)
            elif entry is not None and entry.digest == out.digest:
                cache.store(out.key, entry.replace(mtime_ns=out.mtime_ns, size=out.size))
            else:
                expected[out.key] = out.digest
                if out.kept and worker >= 0:
                    owners[out.key] = worker
                # No findings: the old ones were made from other content.
                cache.store(
                    out.key, CacheEntry(out.mtime_ns, out.size, out.digest, out.facts, None)
                )

    # 3. The project facts: rebuilt only when a file they cover changed or the set did.
    keys = frozenset(f.key for f in files)
    project: ProjectFacts | None = None
    if expected or keys != cache.facts_files or not cache.facts_fingerprint:
        project, fingerprint = _build(cache, files)
        cache.facts_files, cache.facts_fingerprint, cache.dirty = keys, fingerprint, True
    return Gathered(cache, files, sizes, expected, cache.facts_fingerprint, project, owners)


def _fact_files(
    paths: Sequence[Path], files: list[SourceFile], configs: Configs
) -> list[SourceFile]:
    """Checking one view must see the models of the app it belongs to, whichever front end
    asks: the facts come from the checked files and the rest of their projects."""
    given = {path.resolve() for path in paths}
    roots = sorted(
        {
            root
            for path in paths
            if (root := find_project_root(path)) is not None and root not in given
        }
    )
    # The given folders were listed already: the walk of their project skips them.
    walked = frozenset(str(path) for path in given if path.is_dir())
    return with_templates(fact_files(roots, configs, files, walked))


def _cache_for(config: Config, use_cache: bool) -> Cache:
    return Cache(Path(config.root, config.cache_dir) if use_cache else None, code_fingerprint())


def project_facts(
    path: Path, configs: Configs, *, use_cache: bool = True, write_cache: bool = False
) -> ProjectFacts:
    """The project facts ``prodlint check .`` at the project root would use, for a front end
    that checks ``path`` alone (stdin, flake8, the codemod). They read the cache ``prodlint
    check`` keeps; only the CLI writes it (an editor's flake8 run must not leave files in
    the project it looks at)."""
    root = find_project_root(path)
    if root is None:
        return {}
    cache = _cache_for(configs.for_path(root), use_cache)
    gathered = gather(with_templates(fact_files([root], configs, ())), cache)
    project = gathered.build()
    if use_cache and write_cache:
        cache.save()
    return project


# --- checking --------------------------------------------------------------------------


class Checkers:
    """A Checker per configuration of the run, made on first use (in each worker)."""

    def __init__(self, configs: Sequence[Config], project: ProjectFacts | None) -> None:
        self.configs = configs
        self.project = project
        self._made: dict[int, Checker] = {}

    def __getitem__(self, position: int) -> Checker:
        checker = self._made.get(position)
        if checker is None:
            from prodlint.engine import Checker

            checker = self._made[position] = Checker(self.configs[position], project=self.project)
        return checker


_worker_checkers: Checkers | None = None


def _init_worker(configs: Sequence[Config], project: ProjectFacts | None, budget: int) -> None:
    global _worker_checkers
    _worker_checkers = Checkers(configs, project)
    _kept.reset(budget)
    _collect_rarely()


def _set_project(project: ProjectFacts | None) -> None:
    """In a worker: the project facts the run's checks are made with."""
    global _worker_checkers
    assert _worker_checkers is not None
    _worker_checkers = Checkers(_worker_checkers.configs, project)


# Collector thresholds while checking: ASTs have no reference cycles, and with the kept
# trees alive every collection of the default thresholds rescans them (it cost as much as
# parsing them again).
RARE_COLLECTIONS = (100_000, 50, 100)


def _collect_rarely() -> None:
    gc.freeze()
    gc.set_threshold(*RARE_COLLECTIONS)


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """``_collect_rarely`` for the duration of a check in this process, then as before."""
    before = gc.get_threshold()
    _collect_rarely()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


class Job(NamedTuple):
    """A file to check, as sent to the process that checks it."""

    file: SourceFile
    config: int  # position in the run's list of configurations
    # The content digest the facts were read from (b"" when not read): if the file changed
    # since, its entry is not cached, as its facts would not match its findings.
    expected: bytes


class Checked(NamedTuple):
    key: str
    mtime_ns: int
    size: int
    digest: bytes
    findings: list[Finding]
    cacheable: bool  # the findings are of the content the facts were read from


def _check_one(checker: Checker, job: Job) -> Checked:
    from prodlint.engine import uncheckable

    file = job.file
    try:
        stat = os.stat(file.path)
        with open(file.path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        why = f"cannot read file: {error.strerror or error}"
        return Checked(file.key, 0, 0, b"", [uncheckable(file.shown, why)], False)
    digest = digest_of(data)
    try:
        findings = checker.check_bytes(data, file.shown, _kept.take(file.key, digest))
    except RecursionError:
        findings = [uncheckable(file.shown, "cannot check: the code is nested too deeply")]
        return Checked(file.key, 0, 0, digest, findings, False)
    except Exception as error:  # noqa: BLE001 - one broken file or rule must not end the run
        why = f"internal error while checking: {type(error).__name__}: {error}"
        return Checked(file.key, 0, 0, digest, [uncheckable(file.shown, why)], False)
    cacheable = not job.expected or digest == job.expected
    return Checked(file.key, stat.st_mtime_ns, stat.st_size, digest, findings, cacheable)


def _check_chunk(chunk: list[Job]) -> list[Checked]:
    checkers = _worker_checkers
    assert checkers is not None
    return [_check_one(checkers[job.config], job) for job in chunk]


def _run(
    todo: list[Job],
    gathered: Gathered,
    checkers: Checkers,
    workers: Workers,
    progress: ProgressCallback | None,
) -> Iterable[Checked]:
    if not todo:
        return
    if workers.count == 1 or (not workers.started and len(todo) < PARALLEL_THRESHOLD):
        for done, job in enumerate(todo, start=1):
            yield _check_one(checkers[job.config], job)
            if progress:
                progress(done, len(todo))
        return
    workers.broadcast(_set_project, checkers.project)
    owners = gathered.owners
    done = 0
    for _, chunk in workers.map(
        _check_chunk,
        todo,
        [_weight(job.file.key, gathered.sizes, owners) for job in todo],
        owners=[owners.get(job.file.key, -1) for job in todo],
    ):
        yield from chunk
        done += len(chunk)
        if progress:
            progress(done, len(todo))


def _weight(key: str, sizes: dict[str, int], owners: dict[str, int]) -> int:
    """What checking a file costs, for cutting the work into equal chunks: its size, about
    halved when its tree is kept (the rules cost about what the parse does)."""
    size = sizes.get(key, 0)
    return FILE_COST + (size // 2 if key in owners or key in _kept.trees else size)


def check_paths(
    paths: Sequence[Path],
    configs: Configs,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    want_project: bool = False,
) -> RunResult:
    """Findings for every Python file under ``paths``, each under the configuration that
    governs it. ``want_project`` builds the project facts even when every finding comes
    from the cache (a fix run re-checks with them)."""
    files = discover(paths, configs)
    cache = _cache_for(configs.for_path(paths[0] if paths else Path.cwd()), use_cache)
    workers = max(jobs or os.cpu_count() or 1, 1)
    _kept.reset(KEPT_TREES_BUDGET)
    try:
        with _rare_collections():
            return _check_files(paths, files, configs, cache, workers, progress, want_project)
    finally:
        _kept.reset(0)  # a tree not used (its file is unreadable now) is not kept


def _check_files(
    paths: Sequence[Path],
    files: list[SourceFile],
    configs: Configs,
    cache: Cache,
    count: int,
    progress: ProgressCallback | None,
    want_project: bool,
) -> RunResult:
    result = RunResult(files=len(files), checked=[f.shown for f in files])
    run_configs: list[Config] = []
    by_config: dict[int, int] = {}
    config_of: list[int] = []
    for file in files:
        config = configs.for_folder(os.path.dirname(file.key))
        position = by_config.setdefault(id(config), len(run_configs))
        if position == len(run_configs):
            run_configs.append(config)
        config_of.append(position)
    from prodlint.parallel import Workers

    # Workers read the facts and keep the trees of their share of the files.
    with Workers(
        count,
        _init_worker,
        (run_configs, None, KEPT_TREES_BUDGET),
        functools.partial(_load_rules, run_configs),
    ) as workers:
        gathered = gather(
            _fact_files(paths, files, configs), cache, workers, frozenset(f.key for f in files)
        )
        made_with = [f"{config.fingerprint()}-{gathered.fingerprint}" for config in run_configs]

        # 4. Check what the cache cannot answer.
        todo: list[Job] = []
        for file, position in zip(files, config_of, strict=True):
            entry = cache.entries.get(file.key)
            if (
                entry is not None
                and entry.findings is not None
                and entry.made_with == made_with[position]
            ):
                result.from_cache += 1
                shown = file.shown
                result.findings.extend(
                    f if f.path == shown else replace(f, path=shown) for f in entry.findings
                )
                continue
            known = entry.digest if entry is not None else b""
            todo.append(Job(file, position, gathered.expected.get(file.key, known)))
        if todo or want_project:
            result.project = gathered.build()
        checkers = Checkers(run_configs, result.project)
        config_of_key = {job.file.key: job.config for job in todo}
        for checked in _run(todo, gathered, checkers, workers, progress):
            result.findings.extend(checked.findings)
            key = checked.key
            if not checked.cacheable:
                cache.entries.pop(key, None)
                continue
            findings = tuple(checked.findings)
            with_what = made_with[config_of_key[key]]
            old = cache.entries.get(key)
            cache.store(
                key,
                CacheEntry(
                    checked.mtime_ns, checked.size, checked.digest, None, findings, with_what
                )
                if old is None
                # Its facts were read from this content (else it is not cacheable).
                else old.replace(
                    mtime_ns=checked.mtime_ns,
                    size=checked.size,
                    digest=checked.digest,
                    findings=findings,
                    made_with=with_what,
                ),
            )
    result.worker_seconds = workers.busy_seconds
    cache.save()  # a no-op without a cache folder
    result.findings.sort(key=Finding.sort_key)
    return result


# --- fixing ----------------------------------------------------------------------------

FixOutcome = tuple[bytes, bytes, "FixResult"] | str  # (old, new, result), or why it failed


def _fix_one(checker: Checker, shown: str, unsafe: bool, write: bool) -> FixOutcome:
    from prodlint.fixer import FixFailed, fix_file

    try:
        return fix_file(Path(shown), shown, checker, unsafe, write)
    except (FixFailed, OSError) as error:
        return str(error)


class FixJob(NamedTuple):
    position: int  # in the order given
    shown: str
    config: int
    unsafe: bool
    write: bool


def _fix_chunk(chunk: list[FixJob]) -> list[tuple[int, FixOutcome]]:
    checkers = _worker_checkers
    assert checkers is not None
    return [
        (job.position, _fix_one(checkers[job.config], job.shown, job.unsafe, job.write))
        for job in chunk
    ]


def fix_paths(
    targets: Sequence[str],
    configs: Configs,
    project: ProjectFacts | None,
    *,
    unsafe: bool,
    write: bool,
    jobs: int | None = None,
) -> Iterator[tuple[str, FixOutcome]]:
    """Fix each file (paths as shown to the user), in parallel when there are several:
    libcst costs seconds on a large file. Results come back in the order given."""
    run_configs: list[Config] = []
    positions: dict[int, int] = {}
    work: list[FixJob] = []
    for number, shown in enumerate(targets):
        config = configs.for_path(Path(shown))
        position = positions.setdefault(id(config), len(run_configs))
        if position == len(run_configs):
            run_configs.append(config)
        work.append(FixJob(number, shown, position, unsafe, write))
    checkers = Checkers(run_configs, project)
    workers = min(jobs or os.cpu_count() or 1, len(targets))
    if workers <= 1:
        for job in work:
            yield job.shown, _fix_one(checkers[job.config], job.shown, unsafe, write)
        return
    from prodlint.parallel import Workers

    sizes = [_size(shown) for shown in targets]
    outcomes: dict[int, FixOutcome] = {}
    with Workers(
        workers,
        _init_worker,
        (run_configs, project, 0),
        functools.partial(_load_rules, run_configs),
    ) as group:
        for _, chunk in group.map(_fix_chunk, work, sizes, max_files=1):
            outcomes.update(chunk)
    for job in work:
        yield job.shown, outcomes[job.position]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
