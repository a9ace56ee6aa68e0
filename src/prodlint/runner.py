"""Which files a run covers, checking them in parallel, and the per-file cache."""

from __future__ import annotations

import fnmatch
import gc
import hashlib
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import prodlint
from prodlint.config import Config
from prodlint.engine import Checker, uncheckable
from prodlint.model import Finding

# Below this many files to check, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24
CHUNK_SIZE = 12


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    from_cache: int = 0


def display_path(path: Path) -> str:
    """Paths relative to the working directory when below it, as users type them."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _excluded(name: str, relative: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(relative, p) for p in patterns)


def _git_visible(folder: Path) -> set[Path] | None:
    """Files git does not ignore under ``folder``, or None outside a git work tree."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-co", "--exclude-standard", "-z"],
            capture_output=True, timeout=30, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {(folder / name).resolve() for name in listed.decode("utf-8", "replace").split("\0") if name}


def discover(paths: Sequence[Path], config: Config) -> list[Path]:
    """Python files under ``paths``, skipping excluded and (optionally) git-ignored ones.
    A file named explicitly is always checked, as in ruff."""
    patterns = (*config.exclude, *config.extend_exclude)
    root = config.root.resolve()
    found: list[Path] = []
    for given in paths:
        if given.is_file():
            found.append(given)
            continue
        if not given.is_dir():
            continue
        visible = _git_visible(given) if config.respect_gitignore else None
        for folder, subfolders, files in os.walk(given):
            here = Path(folder)
            try:
                relative_folder = here.resolve().relative_to(root).as_posix()
            except ValueError:
                relative_folder = here.as_posix()
            subfolders[:] = sorted(
                d for d in subfolders
                if not _excluded(d, f"{relative_folder}/{d}".lstrip("./"), patterns)
            )
            for name in sorted(files):
                if not name.endswith((".py", ".pyi")):
                    continue
                if _excluded(name, f"{relative_folder}/{name}".lstrip("./"), patterns):
                    continue
                path = here / name
                if visible is not None and path.resolve() not in visible:
                    continue
                found.append(path)
    return found


# --- cache -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheEntry:
    mtime_ns: int
    size: int
    digest: bytes
    findings: tuple[Finding, ...]


class Cache:
    """One pickle per (prodlint version, configuration): file path -> findings, keyed by
    content. Safe to delete at any time."""

    def __init__(self, folder: Path, key: str) -> None:
        self.file = folder / f"{prodlint.__version__}-{key}.pickle"
        self.entries: dict[str, CacheEntry] = {}
        self.dirty = False
        try:
            with self.file.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            self.entries = {}

    def lookup(self, path: Path, stat: os.stat_result) -> CacheEntry | None:
        entry = self.entries.get(str(path.resolve()))
        if entry is not None and entry.mtime_ns == stat.st_mtime_ns and entry.size == stat.st_size:
            return entry
        return None

    def lookup_digest(self, path: Path, digest: bytes) -> CacheEntry | None:
        entry = self.entries.get(str(path.resolve()))
        return entry if entry is not None and entry.digest == digest else None

    def store(self, path: Path, entry: CacheEntry) -> None:
        self.entries[str(path.resolve())] = entry
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.file.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by prodlint\n*\n")
            temp = self.file.with_suffix(f".{os.getpid()}.tmp")
            with temp.open("wb") as handle:
                pickle.dump(self.entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.file)
        except OSError:
            pass  # a cache that cannot be written only costs speed next time


def code_fingerprint() -> str:
    """Identifies the installed prodlint code, so an edited rule (a development install)
    never reuses findings made by the old one."""
    package = Path(prodlint.__file__).parent
    stamp = hashlib.blake2b(digest_size=8)
    for source in sorted(package.rglob("*.py")):
        info = source.stat()
        stamp.update(f"{source.relative_to(package)}:{info.st_mtime_ns}:{info.st_size};".encode())
    return stamp.hexdigest()


def digest_of(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# --- checking --------------------------------------------------------------------------

_worker_checker: Checker | None = None


def _init_worker(config: Config) -> None:
    global _worker_checker
    _worker_checker = Checker(config)
    # ASTs have no reference cycles: the collector would only rescan them.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _check_one(checker: Checker, path: Path, shown: str) -> tuple[CacheEntry | None, list[Finding]]:
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError as error:
        return None, [uncheckable(shown, f"cannot read file: {error.strerror or error}")]
    findings = checker.check_bytes(data, shown)
    return CacheEntry(stat.st_mtime_ns, stat.st_size, digest_of(data), tuple(findings)), findings


def _check_chunk(chunk: list[tuple[Path, str]]) -> list[tuple[Path, CacheEntry | None, list[Finding]]]:
    checker = _worker_checker
    assert checker is not None
    return [(path, *_check_one(checker, path, shown)) for path, shown in chunk]


def _chunks(items: list[tuple[Path, str]], size: int) -> Iterator[list[tuple[Path, str]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_paths(
    paths: Sequence[Path],
    config: Config,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    files = discover(paths, config)
    result = RunResult(files=len(files))
    cache_key = f"{config.fingerprint()}-{code_fingerprint()}"
    cache = Cache(Path(config.root, config.cache_dir), cache_key) if use_cache else None
    todo: list[tuple[Path, str]] = []
    for path in files:
        shown = display_path(path)
        entry = None
        if cache is not None:
            try:
                entry = cache.lookup(path, path.stat())
            except OSError:
                entry = None
        if entry is None:
            todo.append((path, shown))
            continue
        result.from_cache += 1
        result.findings.extend(f if f.path == shown else replace(f, path=shown) for f in entry.findings)
    for path, entry, findings in _run(todo, config, jobs, progress):
        result.findings.extend(findings)
        if cache is not None and entry is not None:
            cache.store(path, entry)
    if cache is not None:
        cache.save()
    result.findings.sort(key=Finding.sort_key)
    return result


def _run(
    todo: list[tuple[Path, str]],
    config: Config,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> Iterable[tuple[Path, CacheEntry | None, list[Finding]]]:
    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(todo) < PARALLEL_THRESHOLD:
        checker = Checker(config)
        for done, (path, shown) in enumerate(todo, start=1):
            yield (path, *_check_one(checker, path, shown))
            if progress:
                progress(done, len(todo))
        return
    import multiprocessing

    method = "fork" if sys.platform == "linux" else None
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(config,),
    ) as pool:
        done = 0
        for chunk_result in pool.map(_check_chunk, _chunks(todo, CHUNK_SIZE)):
            for item in chunk_result:
                yield item
            done += len(chunk_result)
            if progress:
                progress(done, len(todo))
