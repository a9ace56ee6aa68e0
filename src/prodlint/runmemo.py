"""Warm runs answered from the last identical run (issue 13: a warm check in <= 0.08 s).

A ``prodlint check`` whose inputs have not changed since the same command last ran prints
what that run printed, without importing the rest of prodlint: even with every file's
findings cached, the imports alone (``dataclasses``, ``typing``, ``pathlib``, ``argparse``,
``tomllib``, ``pickle``) cost more than the budget. The record says what the answer
depended on, and it is replayed only when all of it is as it was:

- the command: the arguments, the working directory, the Python, the environment variables
  and terminals that change the output (colour) or what git lists;
- every folder discovery listed (a file added, removed or renamed changes its mtime);
- every file read: the checked files, the project-fact files (models, templates), the
  configuration files, the baseline, git's index and ignore files, prodlint's own sources;
- every path probed and found missing (a ``pyproject.toml`` created above the project).

Anything else falls through to the full run, which also writes the record. A record is not
written when an input changed within ``RACY_NS`` of the run (file system timestamps are
coarse: a change in the same tick would look unchanged), as git does for its index. The
records live in the run's cache folder; this module imports nothing beyond ``os``, ``sys``
and ``marshal``.
"""

from __future__ import annotations

import marshal
import os
import sys

FORMAT = 1
# Inputs changed less than this long before the run started make no record.
RACY_NS = 2_000_000_000
# Records kept per cache folder (one per distinct command).
KEEP = 32
FOLDER = "runs"
DEFAULT_CACHE_DIR = ".prodlint_cache"
# Environment variables the output or the listing of files depends on.
ENVIRONMENT = (
    "NO_COLOR",
    "FORCE_COLOR",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "HOME",
    "XDG_CONFIG_HOME",
)

# The options of ``check`` that take a value (the value is no path to check).
VALUED = frozenset(
    {
        "--select",
        "--ignore",
        "--extend-select",
        "--exclude",
        "--extend-exclude",
        "--config",
        "--stdin-filename",
        "--jobs",
        "--baseline",
        "--format",
        "--output-format",
        "-o",
        "--output",
        "--write-baseline",
    }
)

# (format, Python, interpreter, working directory, arguments, environment, stdout and
# stderr terminals)
Key = tuple[int, str, str, str, tuple[str, ...], tuple[str | None, ...], bool, bool]
Record = tuple[
    Key,
    tuple[tuple[str, int], ...],  # listed folders and their mtimes
    tuple[tuple[str, int, int], ...],  # files read, their mtimes and sizes
    tuple[str, ...],  # paths probed and missing
    tuple[str | None, str],  # the report file (None: stdout) and the report
    int,  # the exit status
]


def _key(argv: list[str]) -> Key:
    return (
        FORMAT,
        sys.version,
        sys.executable,
        os.getcwd(),
        tuple(argv),
        tuple(os.environ.get(name) for name in ENVIRONMENT),
        sys.stdout.isatty(),
        sys.stderr.isatty(),
    )


def _file_name(key: Key) -> str:
    import zlib  # an extension module, cheap: the name needs no cryptographic hash

    return f"run-{zlib.crc32(repr(key).encode('utf-8', 'surrogateescape')):08x}.marshal"


def _cache_folders(argv: list[str]) -> list[str]:
    """Where the record of this command may be: ``--cache-dir`` when given absolute, else
    the default cache folder of the first path's folder or a folder above it (the records
    are keyed by the whole command, so finding one in the wrong place answers nothing)."""
    named = None
    paths: list[str] = []
    arguments = iter(argv[1:])
    for arg in arguments:
        if arg == "--cache-dir":
            named = next(arguments, None)
        elif arg.startswith("--cache-dir="):
            named = arg.partition("=")[2]
        elif arg in VALUED:
            next(arguments, None)
        elif not arg.startswith("-"):
            paths.append(arg)
    if named is not None and os.path.isabs(named):
        return [named]
    start = os.path.abspath(paths[0] if paths else ".")
    if not os.path.isdir(start):
        start = os.path.dirname(start)
    found = []
    while True:
        found.append(os.path.join(start, named or DEFAULT_CACHE_DIR))
        parent = os.path.dirname(start)
        if parent == start:
            return found
        start = parent


def replay(argv: list[str]) -> int | None:
    """Print what the last run of this same command printed and return its exit code, if
    none of its inputs changed; None otherwise (then nothing was printed)."""
    if not argv or argv[0] != "check":
        return None
    key = _key(argv)
    name = _file_name(key)
    for folder in _cache_folders(argv):
        try:
            # One read, then loads: marshal.load on a file reads it in small pieces.
            with open(os.path.join(folder, FOLDER, name), "rb") as handle:
                record = marshal.loads(handle.read())
        except (OSError, ValueError, EOFError, TypeError):
            continue
        if not isinstance(record, tuple) or len(record) != 6 or record[0] != key:
            continue
        _, folders, files, missing, output, status = record
        if not _unchanged(folders, files, missing):
            return None
        target, text = output
        if target is None:
            sys.stdout.write(text)
        else:
            try:
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(text)
            except OSError:
                return None  # the full run reports why
        return int(status)
    return None


def _unchanged(
    folders: tuple[tuple[str, int], ...],
    files: tuple[tuple[str, int, int], ...],
    missing: tuple[str, ...],
) -> bool:
    stat = os.stat
    try:
        for path, mtime in folders:
            if stat(path).st_mtime_ns != mtime:
                return False
        for path, mtime, size in files:
            info = stat(path)
            if info.st_mtime_ns != mtime or info.st_size != size:
                return False
    except OSError:
        return False
    exists = os.path.exists
    return not any(exists(path) for path in missing)


class Recorder:
    """What one full run read, as the front ends and discovery report it."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.key = _key(argv)
        self.started_ns = _now_ns()
        self.folders: set[str] = set()
        self.files: set[str] = set()
        self.missing: set[str] = set()
        # Folders git was asked about: its index and ignore files are inputs too.
        self.git_folders: set[str] = set()

    def probe(self, path: str, exists: bool) -> None:
        (self.files if exists else self.missing).add(path)

    def save(self, cache_folder: str, target: str | None, text: str, status: int) -> None:
        """Write the record into ``cache_folder`` (the run's cache), when the fast path
        would look there and no input changed too recently to tell."""
        if os.path.abspath(cache_folder) not in map(os.path.abspath, _cache_folders(self.argv)):
            return
        for folder in self.git_folders:
            self._git_inputs(folder)
        self.files.update(source_files())
        folders: list[tuple[str, int]] = []
        files: list[tuple[str, int, int]] = []
        newest = self.started_ns - RACY_NS
        try:
            for path in sorted(self.folders):
                mtime = os.stat(path).st_mtime_ns
                if mtime >= newest:
                    return
                folders.append((path, mtime))
            for path in sorted(self.files):
                info = os.stat(path)
                if info.st_mtime_ns >= newest:
                    return
                files.append((path, info.st_mtime_ns, info.st_size))
        except OSError:
            return
        missing = tuple(sorted(p for p in self.missing if not os.path.exists(p)))
        if len(missing) != len(self.missing):
            return
        record: Record = (
            self.key,
            tuple(folders),
            tuple(files),
            missing,
            (target, text),
            status,
        )
        _write(os.path.join(cache_folder, FOLDER), _file_name(self.key), record)

    def _git_inputs(self, folder: str) -> None:
        """The files ``git ls-files --exclude-standard`` reads besides the listings: the
        index, the repository's and the user's ignore files and configuration, and every
        ``.gitignore`` from the work tree's top down to the listed folders."""
        top = folder
        while not os.path.exists(os.path.join(top, ".git")):
            parent = os.path.dirname(top)
            if parent == top:
                return
            top = parent
        git = os.path.join(top, ".git")
        if os.path.isfile(git):
            with open(git, encoding="utf-8", errors="replace") as handle:
                line = handle.read().strip()
            git = os.path.join(top, line.removeprefix("gitdir:").strip())
        candidates = [os.path.join(git, name) for name in ("index", "config", "commondir")]
        candidates.append(os.path.join(git, "info", "exclude"))
        home = os.path.expanduser("~")
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        candidates += [
            os.path.join(home, ".gitconfig"),
            os.path.join(xdg, "git", "config"),
            os.path.join(xdg, "git", "ignore"),
        ]
        for listed in (*self.folders, folder):
            here = listed
            while here.startswith(top):
                candidates.append(os.path.join(here, ".gitignore"))
                parent = os.path.dirname(here)
                if parent == here:
                    break
                here = parent
        for path in candidates:
            self.probe(path, os.path.exists(path))
        excludes = _git_excludes_file(folder)
        if excludes:
            self.probe(excludes, os.path.exists(excludes))


def _git_excludes_file(folder: str) -> str | None:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-C", folder, "config", "--get", "core.excludesFile"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return os.path.expanduser(value) if value else None


def _now_ns() -> int:
    import time

    return time.time_ns()


def source_files() -> list[str]:
    """prodlint's own sources: an edited rule must not replay the old one's findings."""
    found: list[str] = []
    folders = [os.path.dirname(os.path.abspath(__file__))]
    while folders:
        with os.scandir(folders.pop()) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    found.append(entry.path)
    return found


def _write(folder: str, name: str, record: Record) -> None:
    """Atomically, keeping the ``KEEP`` newest records; a folder that cannot be written
    only costs the next run its speed."""
    try:
        os.makedirs(folder, exist_ok=True)
        temp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            marshal.dump(record, handle)
        os.replace(temp, os.path.join(folder, name))
        records = sorted(
            (entry.stat().st_mtime_ns, entry.path)
            for entry in os.scandir(folder)
            if entry.name.startswith("run-")
        )
        for _, path in records[:-KEEP]:
            os.remove(path)
    except (OSError, ValueError):
        pass


# The recorder of the run in progress; None when nobody records (flake8, the codemod, a
# fix): then reporting costs one attribute check.
active: Recorder | None = None
