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

# Below this many files to check, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24
# Reading the project facts of fewer files than this is faster in the main process.
PARALLEL_FACTS_THRESHOLD = 16
# Source bytes whose trees the facts pre-pass keeps for checking; files beyond it are
# parsed again when checked. A tree takes ~25x its source in memory: Django's 2 MB of
# models and fields files raise the peak from 42 to 94 MB, so the cap is ~100 MB.
KEPT_TREES_BUDGET = 4 * 1024 * 1024

# Trees the facts pre-pass parsed, by cache key, with the digest of the content parsed:
# checking the same file uses it instead of parsing again. Forked workers inherit it.
_kept_trees: dict[str, tuple[bytes, ast.Module]] = {}

ProgressCallback = Callable[[int, int], None]


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


# --- project facts -------------------------------------------------------------------


def _read_facts_chunk(chunk: list[tuple[str, str]]) -> list[tuple[str, FileFacts | None]]:
    from prodlint.facts import read_facts

    results: list[tuple[str, FileFacts | None]] = []
    for key, path in chunk:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            results.append((key, None))
            continue
        results.append((key, read_facts(data, path)))
    return results


def _load_rules() -> None:
    from prodlint.facts import all_providers
    from prodlint.registry import all_rules

    all_rules()
    all_providers()


def _extract_all(
    files: list[SourceFile], sizes: dict[str, int], workers: int
) -> list[tuple[str, FileFacts | None]]:
    if not files:
        return []  # a warm run: nothing to read, nothing to import
    pairs = [(f.key, f.path) for f in files]
    if workers == 1 or len(files) < PARALLEL_FACTS_THRESHOLD:
        return _read_facts_chunk(pairs)
    from prodlint.parallel import map_chunked

    # Providers (and rules) are loaded before the fork so every worker inherits them;
    # while the workers parse, nothing else is left to do here.
    _load_rules()
    done = map_chunked(_read_facts_chunk, pairs, [sizes.get(key, 0) for key, _ in pairs], workers)
    return [pair for chunk in done for pair in chunk]


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
    files: list[SourceFile], cache: Cache, workers: int, keep: frozenset[str] = frozenset()
) -> Gathered:
    """``keep``: keys of the files the run checks next; their facts are read here, in this
    process, and their trees kept for the check (``_kept_trees``): a models file is parsed
    once, not once for the facts and once for the findings."""
    # 1. Which files changed since the cache was written (by stat, then by content).
    changed: list[SourceFile] = []
    sizes: dict[str, int] = {}
    for file in files:
        entry = cache.entries.get(file.key)
        try:
            stat = os.stat(file.path)
        except OSError:
            changed.append(file)
            continue
        sizes[file.key] = stat.st_size
        if entry is not None and entry.mtime_ns == stat.st_mtime_ns and entry.size == stat.st_size:
            continue
        changed.append(file)

    # 2. Facts of changed files; an unchanged content (a touched file) keeps its entry.
    expected: dict[str, bytes] = {}
    extract: list[SourceFile] = []
    read_here: dict[str, FileFacts | None] = {}
    budget = KEPT_TREES_BUDGET
    if changed:
        from prodlint.facts import may_contribute, read_facts_and_tree
    for file in changed:
        try:
            with open(file.path, "rb") as handle:
                data = handle.read()
            stat = os.stat(file.path)
        except OSError:
            cache.entries.pop(file.key, None)
            continue
        digest = digest_of(data)
        entry = cache.entries.get(file.key)
        if entry is not None and entry.digest == digest:
            cache.store(file.key, entry.replace(mtime_ns=stat.st_mtime_ns, size=stat.st_size))
            continue
        expected[file.key] = digest
        if may_contribute(data, file.path):
            if file.key in keep and len(data) <= budget:
                read_here[file.key], tree = read_facts_and_tree(data, file.path)
                if tree is not None:
                    _kept_trees[file.key] = (digest, tree)
                    budget -= len(data)
            else:
                extract.append(file)
        # No findings: the old ones were made from other content.
        cache.store(file.key, CacheEntry(stat.st_mtime_ns, stat.st_size, digest, None, None))
    for key, facts in [*read_here.items(), *_extract_all(extract, sizes, workers)]:
        cache.entries[key] = cache.entries[key].replace(facts=facts)

    # 3. The project facts: rebuilt only when a file they cover changed or the set did.
    keys = frozenset(f.key for f in files)
    project: ProjectFacts | None = None
    if expected or keys != cache.facts_files or not cache.facts_fingerprint:
        project, fingerprint = _build(cache, files)
        cache.facts_files, cache.facts_fingerprint, cache.dirty = keys, fingerprint, True
    return Gathered(cache, files, sizes, expected, cache.facts_fingerprint, project)


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
    gathered = gather(with_templates(fact_files([root], configs, ())), cache, 1)
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


def _init_worker(configs: Sequence[Config], project: ProjectFacts | None) -> None:
    global _worker_checkers
    _worker_checkers = Checkers(configs, project)
    _collect_rarely()


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
    file: SourceFile
    config: int  # position in the run's list of configurations
    made_with: str  # what the findings depend on beyond the file: settings and facts
    # The content digest the facts were read from (b"" when not read): if the file changed
    # since, its entry is not cached, as its facts would not match its findings.
    expected: bytes
    facts: FileFacts | None


def _check_one(checker: Checker, job: Job) -> tuple[CacheEntry | None, list[Finding]]:
    from prodlint.engine import uncheckable

    file = job.file
    try:
        stat = os.stat(file.path)
        with open(file.path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return None, [uncheckable(file.shown, f"cannot read file: {error.strerror or error}")]
    kept = _kept_trees.pop(file.key, None)
    digest = digest_of(data)
    try:
        if kept is not None and kept[0] == digest:
            findings = checker.check_bytes(data, file.shown, kept[1])
        else:
            findings = checker.check_bytes(data, file.shown)
    except RecursionError:
        return None, [uncheckable(file.shown, "cannot check: the code is nested too deeply")]
    except Exception as error:  # noqa: BLE001 - one broken file or rule must not end the run
        return None, [
            uncheckable(
                file.shown, f"internal error while checking: {type(error).__name__}: {error}"
            )
        ]
    if job.expected and digest != job.expected:
        return None, findings
    return CacheEntry(
        stat.st_mtime_ns, stat.st_size, digest, job.facts, tuple(findings), job.made_with
    ), findings


def _check_chunk(chunk: list[Job]) -> list[tuple[str, CacheEntry | None, list[Finding]]]:
    checkers = _worker_checkers
    assert checkers is not None
    return [(job.file.key, *_check_one(checkers[job.config], job)) for job in chunk]


def _run(
    todo: list[Job],
    sizes: dict[str, int],
    checkers: Checkers,
    workers: int,
    progress: ProgressCallback | None,
) -> Iterable[tuple[str, CacheEntry | None, list[Finding]]]:
    if not todo:
        return
    if workers == 1 or len(todo) < PARALLEL_THRESHOLD:
        for done, job in enumerate(todo, start=1):
            yield (job.file.key, *_check_one(checkers[job.config], job))
            if progress:
                progress(done, len(todo))
        return
    from prodlint.parallel import map_chunked

    _load_rules()  # once here, inherited by every forked worker
    done = 0
    for chunk in map_chunked(
        _check_chunk,
        todo,
        [_weight(job.file.key, sizes) for job in todo],
        workers,
        initializer=_init_worker,
        initargs=(checkers.configs, checkers.project),
    ):
        yield from chunk
        done += len(chunk)
        if progress:
            progress(done, len(todo))


def _weight(key: str, sizes: dict[str, int]) -> int:
    """What checking a file costs, for cutting the work into equal chunks: its size, about
    halved when its tree is kept (the rules cost about what the parse does)."""
    size = sizes.get(key, 0)
    return size // 2 if key in _kept_trees else size


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
    try:
        with _rare_collections():
            return _check_files(paths, files, configs, cache, workers, progress, want_project)
    finally:
        _kept_trees.clear()  # a tree not used (its file is unreadable now) is not kept


def _check_files(
    paths: Sequence[Path],
    files: list[SourceFile],
    configs: Configs,
    cache: Cache,
    workers: int,
    progress: ProgressCallback | None,
    want_project: bool,
) -> RunResult:
    result = RunResult(files=len(files), checked=[f.shown for f in files])
    gathered = gather(
        _fact_files(paths, files, configs), cache, workers, frozenset(f.key for f in files)
    )

    # 4. Check what the cache cannot answer.
    run_configs: list[Config] = []
    positions: dict[int, tuple[int, str]] = {}
    todo: list[Job] = []
    for file in files:
        config = configs.for_folder(os.path.dirname(file.key))
        known = positions.get(id(config))
        if known is None:
            known = positions[id(config)] = (
                len(run_configs),
                f"{config.fingerprint()}-{gathered.fingerprint}",
            )
            run_configs.append(config)
        position, made_with = known
        entry = cache.entries.get(file.key)
        if entry is not None and entry.findings is not None and entry.made_with == made_with:
            result.from_cache += 1
            shown = file.shown
            result.findings.extend(
                f if f.path == shown else replace(f, path=shown) for f in entry.findings
            )
            continue
        if entry is None:
            todo.append(Job(file, position, made_with, gathered.expected.get(file.key, b""), None))
        else:
            todo.append(
                Job(
                    file,
                    position,
                    made_with,
                    gathered.expected.get(file.key, entry.digest),
                    entry.facts,
                )
            )
    if todo or want_project:
        result.project = gathered.build()
    checkers = Checkers(run_configs, result.project)
    for key, entry, findings in _run(todo, gathered.sizes, checkers, workers, progress):
        result.findings.extend(findings)
        if entry is not None:
            cache.store(key, entry)
        else:
            cache.entries.pop(key, None)
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
    from prodlint.parallel import map_chunked

    sizes = [_size(shown) for shown in targets]
    outcomes: dict[int, FixOutcome] = {}
    for chunk in map_chunked(
        _fix_chunk,
        work,
        sizes,
        workers,
        initializer=_init_worker,
        initargs=(run_configs, project),
        max_files=1,
    ):
        outcomes.update(chunk)
    for job in work:
        yield job.shown, outcomes[job.position]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
