"""Which files a run covers, checking them in parallel, and the per-file cache.

A run has three steps. Discovery walks the given paths (``os.scandir``, one compiled
pattern for all excludes, no per-file ``resolve``). The project's ORM model index is then
built from every file that can declare a model, because any file's N+1 findings depend on
models declared elsewhere. Finally the files whose cached findings are not valid any more
are checked, in worker processes when there are enough of them.

The warm path (nothing changed since the last run) must stay cheap: it stats each file,
loads one pickle and returns what it holds, without importing the engine, the rules or
``ast`` at all. Everything that checks is imported only when something must be checked.
"""

from __future__ import annotations

import fnmatch
import gc
import hashlib
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import prodlint
from prodlint.config import Config
from prodlint.model import Finding

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from prodlint.analysis.models import ModelIndex, ModelInfo, Relation
    from prodlint.engine import Checker
    from prodlint.fixer import FixResult

    # What one file declares: each model with the reverse relations it adds to others.
    ModelFacts = list[tuple[ModelInfo, list[tuple[str, Relation]]]]

# Below this many files to check, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24
# Chunks are sized in bytes (parse time follows size), a few per worker and phase, so one
# huge file does not leave the other workers idle at the end.
CHUNKS_PER_WORKER = 6
MAX_CHUNK_FILES = 64
# Reading the model facts of fewer files than this is faster in the main process.
PARALLEL_MODELS_THRESHOLD = 16

ProgressCallback = Callable[[int, int], None]


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    from_cache: int = 0
    # The model index the findings were made with (None when nothing needed one); a fix
    # run hands it to its Checker so re-checks see the same models.
    project: ModelIndex | None = None


class SourceFile(NamedTuple):
    path: str  # as the OS opens it
    key: str  # absolute, the cache key
    shown: str  # as reported: relative to the working directory when below it


def display_path(path: Path) -> str:
    """Paths relative to the working directory when below it, as users type them."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _join(prefix: str, name: str) -> str:
    return name if prefix in ("", ".") else f"{prefix}/{name}"


def _exclude_pattern(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """All exclude globs as one regex: matching every glob per entry dominated warm runs."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _git_visible(folder: str) -> set[str] | None:
    """Files git does not ignore under ``folder``, relative to it; None outside a work tree."""
    try:
        listed = subprocess.run(
            ["git", "-C", folder, "ls-files", "-co", "--exclude-standard", "-z"],
            capture_output=True, timeout=30, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {name for name in listed.decode("utf-8", "surrogateescape").split("\0") if name}


def _excluded_file(path: Path, root: Path, excluded: re.Pattern[str]) -> bool:
    """Whether any folder on the way to ``path`` (from the project root), or its own
    name, is excluded."""
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        parts = path.parts
    return any(excluded.match(part) or excluded.match("/".join(parts[: i + 1])) for i, part in enumerate(parts))


def discover(paths: Sequence[Path], config: Config) -> list[SourceFile]:
    """Python files under ``paths``, skipping excluded and (optionally) git-ignored ones.
    A file named explicitly is always checked, as in ruff. Each file appears once."""
    excluded = _exclude_pattern((*config.exclude, *config.extend_exclude))
    root = config.root.resolve()
    cwd = Path.cwd().resolve()
    found: dict[str, SourceFile] = {}
    for given in paths:
        if given.is_file():
            if config.force_exclude and excluded is not None and _excluded_file(given, root, excluded):
                continue
            key = str(given.resolve())
            found.setdefault(key, SourceFile(str(given), key, display_path(given)))
            continue
        if not given.is_dir():
            continue
        resolved = given.resolve()
        # Relative paths (for excludes, display, git) are worked out once per given folder
        # and extended by plain string joins below it.
        try:
            relative_root = resolved.relative_to(root).as_posix()
        except ValueError:
            relative_root = given.as_posix()
        try:
            shown_root = resolved.relative_to(cwd).as_posix()
        except ValueError:
            shown_root = given.as_posix()
        visible = _git_visible(str(given)) if config.respect_gitignore else None
        key_root = str(resolved)
        stack: list[tuple[str, str]] = [("", str(given))]
        while stack:
            sub, folder = stack.pop()
            prefix = f"{sub}/" if sub else ""
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if not is_dir and not name.endswith((".py", ".pyi")):
                    continue
                relative = prefix + name
                if excluded is not None and (
                    excluded.match(name) or excluded.match(_join(relative_root, relative))
                ):
                    continue
                if is_dir:
                    stack.append((relative, entry.path))
                    continue
                if visible is not None and relative not in visible:
                    continue
                key = f"{key_root}/{relative}"
                found.setdefault(key, SourceFile(entry.path, key, _join(shown_root, relative)))
    # Sorted, so the model index is merged in the same order (and has the same
    # fingerprint) whatever order the file system lists folders in.
    return sorted(found.values(), key=lambda f: f.key)


# --- cache -----------------------------------------------------------------------------


@dataclass
class CacheEntry:
    mtime_ns: int
    size: int
    digest: bytes
    # What the file declares for the model index (None: no models); valid for the content.
    models: ModelFacts | None
    # Findings made with the model index whose fingerprint is ``index``; None when the
    # file only contributed models (it was not among the checked files).
    findings: tuple[Finding, ...] | None
    index: str = ""


class Cache:
    """One pickle per (prodlint version, code, configuration): file path -> entry. Safe to
    delete at any time; a cache that cannot be read or written only costs speed."""

    def __init__(self, folder: Path | None, key: str) -> None:
        self.file = folder / f"{prodlint.__version__}-{key}.pickle" if folder is not None else None
        self.entries: dict[str, CacheEntry] = {}
        # Which files the last run's model index was built from, and its fingerprint: a
        # run where none of them changed reuses it without parsing anything.
        self.index_files: frozenset[str] = frozenset()
        self.index_fingerprint = ""
        self.dirty = False
        if self.file is None:
            return
        enabled = gc.isenabled()
        gc.disable()  # unpickling creates many objects and no cycles
        try:
            with self.file.open("rb") as handle:
                loaded = pickle.load(handle)
            entries, index_files, fingerprint = loaded
            if isinstance(entries, dict) and isinstance(index_files, frozenset) and isinstance(fingerprint, str):
                self.entries, self.index_files, self.index_fingerprint = entries, index_files, fingerprint
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError,
                IndexError, KeyError):
            pass
        finally:
            if enabled:
                gc.enable()

    def store(self, key: str, entry: CacheEntry) -> None:
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.file.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by prodlint\n*\n")
            temp = self.file.with_suffix(f".{os.getpid()}.tmp")
            with temp.open("wb") as handle:
                pickle.dump((self.entries, self.index_files, self.index_fingerprint), handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.file)
        except OSError:
            pass


def _source_stamps(folder: str, into: list[str]) -> None:
    with os.scandir(folder) as listing:
        for entry in listing:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    _source_stamps(entry.path, into)
            elif entry.name.endswith(".py"):
                info = entry.stat()
                into.append(f"{entry.path}:{info.st_mtime_ns}:{info.st_size}")


def code_fingerprint() -> str:
    """Identifies the installed prodlint code, so an edited rule (a development install)
    never reuses findings made by the old one. A stat per module: cheaper than hashing the
    sources, and an installed wheel's files do not change under the same version."""
    stamps: list[str] = []
    _source_stamps(os.path.dirname(prodlint.__file__), stamps)
    return hashlib.blake2b(";".join(sorted(stamps)).encode(), digest_size=8).hexdigest()


def digest_of(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# --- the model index --------------------------------------------------------------------


def _read_models(data: bytes, path: str) -> ModelFacts | None:
    from prodlint.analysis.models import extract_models, may_declare_models

    if not may_declare_models(data):
        return None
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return extract_models(tree) or None


def _read_models_chunk(chunk: list[tuple[str, str]]) -> list[tuple[str, ModelFacts | None]]:
    results: list[tuple[str, ModelFacts | None]] = []
    for key, path in chunk:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            results.append((key, None))
            continue
        results.append((key, _read_models(data, path)))
    return results


def _build_index(facts: Iterable[ModelFacts]) -> ModelIndex:
    from prodlint.analysis.models import ModelIndex, add_reverse

    index = ModelIndex()
    reverse: list[tuple[str, Relation]] = []
    for declared in facts:
        for info, added in declared:
            index.add(info)
            reverse.extend(added)
    add_reverse(index, reverse)
    return index


# --- checking --------------------------------------------------------------------------

_worker_checker: Checker | None = None


def _init_worker(config: Config, project: ModelIndex | None) -> None:
    global _worker_checker
    from prodlint.engine import Checker

    _worker_checker = Checker(config, project=project)
    # ASTs have no reference cycles: the collector would only rescan them.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


class Job(NamedTuple):
    file: SourceFile
    # The content digest the model facts were read from (b"" when not read): if the file
    # changed since, its entry is not cached, as its facts would not match its findings.
    expected: bytes
    models: ModelFacts | None


def _check_one(checker: Checker, job: Job, index: str) -> tuple[CacheEntry | None, list[Finding]]:
    from prodlint.engine import uncheckable

    file = job.file
    try:
        stat = os.stat(file.path)
        with open(file.path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return None, [uncheckable(file.shown, f"cannot read file: {error.strerror or error}")]
    try:
        findings = checker.check_bytes(data, file.shown)
    except RecursionError:
        return None, [uncheckable(file.shown, "cannot check: the code is nested too deeply")]
    except Exception as error:  # noqa: BLE001 - one broken file or rule must not end the run
        return None, [uncheckable(file.shown, f"internal error while checking: {type(error).__name__}: {error}")]
    digest = digest_of(data)
    if job.expected and digest != job.expected:
        return None, findings
    return CacheEntry(stat.st_mtime_ns, stat.st_size, digest, job.models, tuple(findings), index), findings


def _check_chunk(chunk: list[Job], index: str) -> list[tuple[str, CacheEntry | None, list[Finding]]]:
    checker = _worker_checker
    assert checker is not None
    return [(job.file.key, *_check_one(checker, job, index)) for job in chunk]


def _chunks(items: Sequence[tuple[int, object]], workers: int) -> Iterator[list[int]]:
    """Positions of ``items`` (size, item), largest first, in chunks of about equal bytes."""
    order = sorted(range(len(items)), key=lambda i: -items[i][0])
    total = sum(size for size, _ in items)
    target = max(total // (workers * CHUNKS_PER_WORKER), 1)
    chunk: list[int] = []
    weight = 0
    for position in order:
        chunk.append(position)
        weight += items[position][0]
        if weight >= target or len(chunk) >= MAX_CHUNK_FILES:
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk


def _pool(workers: int, state: tuple[Config, ModelIndex | None] | None) -> ProcessPoolExecutor:
    """Worker processes; ``state`` (config and model index) makes them checkers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork hands the config and the model index to the workers without pickling them.
    method = "fork" if sys.platform == "linux" else None
    if state is None:
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=state,
    )


# --- fixing ----------------------------------------------------------------------------

FixOutcome = tuple[bytes, bytes, "FixResult"] | str  # (old, new, result), or why it failed


def _fix_one(checker: Checker, shown: str, unsafe: bool, write: bool) -> tuple[str, FixOutcome]:
    from prodlint.fixer import FixFailed, fix_file

    try:
        return shown, fix_file(Path(shown), shown, checker, unsafe, write)
    except (FixFailed, OSError) as error:
        return shown, str(error)


def _fix_in_worker(shown: str, unsafe: bool, write: bool) -> tuple[str, FixOutcome]:
    checker = _worker_checker
    assert checker is not None
    return _fix_one(checker, shown, unsafe, write)


def fix_paths(
    targets: Sequence[str], config: Config, project: ModelIndex | None, *,
    unsafe: bool, write: bool, jobs: int | None = None,
) -> Iterator[tuple[str, FixOutcome]]:
    """Fix each file (paths as shown to the user), in parallel when there are several:
    libcst costs seconds on a large file. Results come back in the order given."""
    workers = min(jobs or os.cpu_count() or 1, len(targets))
    if workers <= 1:
        from prodlint.engine import Checker

        checker = Checker(config, project=project)
        for shown in targets:
            yield _fix_one(checker, shown, unsafe, write)
        return
    with _pool(workers, (config, project)) as pool:
        yield from pool.map(_fix_in_worker, targets, [unsafe] * len(targets), [write] * len(targets))


def check_paths(
    paths: Sequence[Path],
    config: Config,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    want_project: bool = False,
) -> RunResult:
    """Findings for every Python file under ``paths``. ``want_project`` builds the model
    index even when every finding comes from the cache (a fix run re-checks with it)."""
    files = discover(paths, config)
    # The index covers the checked files and, in a configured project, the whole project:
    # checking one view must see the models of the app it belongs to.
    index_files = list(files)
    if config.source is not None and config.root.resolve() not in {p.resolve() for p in paths}:
        known = {f.key for f in files}
        index_files += [f for f in discover([config.root], config) if f.key not in known]
    result = RunResult(files=len(files))
    cache_key = f"{config.fingerprint()}-{code_fingerprint()}"
    cache = Cache(Path(config.root, config.cache_dir) if use_cache else None, cache_key)
    workers = max(jobs or os.cpu_count() or 1, 1)

    # 1. Which files changed since the cache was written (by stat, then by content).
    changed: list[SourceFile] = []
    expected: dict[str, bytes] = {}
    sizes: dict[str, int] = {}
    for file in index_files:
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

    # 2. Model facts of changed files; an unchanged content (a touched file) keeps its entry.
    extract: list[SourceFile] = []
    if changed:
        from prodlint.analysis.models import may_declare_models
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
            cache.store(file.key, replace(entry, mtime_ns=stat.st_mtime_ns, size=stat.st_size))
            continue
        expected[file.key] = digest
        if may_declare_models(data):
            extract.append(file)
        # No findings: the old ones were made from other content.
        cache.store(file.key, CacheEntry(stat.st_mtime_ns, stat.st_size, digest, None, None))
    for key, models in _extract_all(extract, sizes, workers):
        cache.entries[key] = replace(cache.entries[key], models=models)

    # 3. The project index: rebuilt only when a file it covers changed or the set did.
    index_keys = frozenset(f.key for f in index_files)
    project: ModelIndex | None = None
    if expected or index_keys != cache.index_files or not cache.index_fingerprint:
        project = _build_index(
            models for f in index_files
            if (entry := cache.entries.get(f.key)) is not None and (models := entry.models)
        )
        fingerprint = project.fingerprint()
        cache.index_files, cache.index_fingerprint, cache.dirty = index_keys, fingerprint, True
    fingerprint = cache.index_fingerprint

    # 4. Check what the cache cannot answer.
    todo: list[Job] = []
    for file in files:
        entry = cache.entries.get(file.key)
        if entry is not None and entry.findings is not None and entry.index == fingerprint:
            result.from_cache += 1
            shown = file.shown
            result.findings.extend(f if f.path == shown else replace(f, path=shown) for f in entry.findings)
            continue
        if entry is None:
            todo.append(Job(file, expected.get(file.key, b""), None))
        else:
            todo.append(Job(file, expected.get(file.key, entry.digest), entry.models))
    if (todo or want_project) and project is None:
        project = _build_index(
            models for f in index_files
            if (entry := cache.entries.get(f.key)) is not None and (models := entry.models)
        )
    result.project = project
    for key, entry, findings in _run(todo, sizes, config, project, fingerprint, workers, progress):
        result.findings.extend(findings)
        if entry is not None:
            cache.store(key, entry)
        else:
            cache.entries.pop(key, None)
    if use_cache:
        cache.save()
    result.findings.sort(key=Finding.sort_key)
    return result


def _extract_all(
    files: list[SourceFile], sizes: dict[str, int], workers: int
) -> Iterable[tuple[str, ModelFacts | None]]:
    items = [(sizes.get(f.key, 0), (f.key, f.path)) for f in files]
    if workers == 1 or len(files) < PARALLEL_MODELS_THRESHOLD:
        return _read_models_chunk([pair for _, pair in items])
    chunks = [[items[i][1] for i in chunk] for chunk in _chunks(items, workers)]
    with _pool(workers, None) as pool:
        pending = pool.map(_read_models_chunk, chunks)
        # While the workers parse, load the rules here: the checking workers forked later
        # inherit them instead of each importing them again.
        _load_rules()
        return [pair for done in pending for pair in done]


def _load_rules() -> None:
    from prodlint.registry import all_rules

    all_rules()


def _run(
    todo: list[Job],
    sizes: dict[str, int],
    config: Config,
    project: ModelIndex | None,
    index: str,
    workers: int,
    progress: ProgressCallback | None,
) -> Iterable[tuple[str, CacheEntry | None, list[Finding]]]:
    if not todo:
        return
    if workers == 1 or len(todo) < PARALLEL_THRESHOLD:
        from prodlint.engine import Checker

        checker = Checker(config, project=project)
        for done, job in enumerate(todo, start=1):
            yield (job.file.key, *_check_one(checker, job, index))
            if progress:
                progress(done, len(todo))
        return
    from concurrent.futures import as_completed

    items = [(sizes.get(job.file.key, 0), job) for job in todo]
    _load_rules()  # once here, inherited by every forked worker
    with _pool(workers, (config, project)) as pool:
        futures = [pool.submit(_check_chunk, [todo[i] for i in chunk], index)
                   for chunk in _chunks(items, workers)]
        done = 0
        for future in as_completed(futures):
            chunk_result = future.result()
            yield from chunk_result
            done += len(chunk_result)
            if progress:
                progress(done, len(todo))
