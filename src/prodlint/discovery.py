"""Discovery: which files a run covers, and where their project is.

It walks the given paths with ``os.scandir``, one compiled pattern for all excludes and no
per-file ``resolve``, so that a warm run over a large tree costs little more than its stats.
Every front end that checks files goes through here (the CLI, pre-commit, flake8 and the
codemod, for the project-wide facts).
"""

from __future__ import annotations

import fnmatch
import marshal
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from prodlint import runmemo
from prodlint.config import PROJECT_MARKERS, Configs


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


def _glob_pattern(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """All exclude globs as one regex: matching every glob per entry dominated warm runs."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _in_work_tree(folder: str) -> bool:
    """Whether ``folder`` may be in a git work tree: a ``.git`` at or above it, or git told
    where one is. Outside one (an unpacked sdist) no ``git`` process is started."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_WORK_TREE")):
        return True
    recorder = runmemo.active
    here = os.path.abspath(folder)
    while True:
        marker = os.path.join(here, ".git")
        found = os.path.exists(marker)
        if recorder is not None:
            recorder.probe(marker, found)
        if found:
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def _git_visible(folder: str) -> set[str] | None:
    """Files git does not ignore under ``folder``, relative to it; None outside a work tree."""
    if not _in_work_tree(folder):
        return None
    import subprocess  # here: a warm run outside a work tree never needs it

    if runmemo.active is not None:
        runmemo.active.git_folders.add(os.path.abspath(folder))

    try:
        listed = subprocess.run(
            ["git", "-C", folder, "ls-files", "-co", "--exclude-standard", "-z"],
            capture_output=True,
            timeout=30,
            check=True,
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
    return any(
        excluded.match(part) or excluded.match("/".join(parts[: i + 1]))
        for i, part in enumerate(parts)
    )


def _test_folders(test_paths: Sequence[str]) -> tuple[str, ...]:
    """The folders a test-paths glob names whole (``tests/*`` -> ``tests``)."""
    return tuple(glob[:-2] for glob in test_paths if glob.endswith("/*") and len(glob) > 2)


def discover(
    paths: Sequence[Path],
    configs: Configs,
    *,
    skip_test_folders: bool = False,
    walked: frozenset[str] = frozenset(),
) -> list[SourceFile]:
    """Python files under ``paths``, skipping excluded and (optionally) git-ignored ones,
    by the config that governs each given path. A file named explicitly is always checked,
    as in ruff (unless force-exclude). Each file appears once. ``skip_test_folders`` does
    not even walk the folders test-paths names (what project facts leave out anyway), nor
    the folders in ``walked`` (absolute, resolved: already listed by the caller)."""
    found = _discover(paths, configs, skip_test_folders, walked)
    recorder = runmemo.active
    if recorder is not None:
        recorder.files.update(found)
    # Sorted, so the model index is merged in the same order (and has the same
    # fingerprint) whatever order the file system lists folders in.
    return [found[key] for key in sorted(found)]


def _discover(
    paths: Sequence[Path], configs: Configs, skip_test_folders: bool, walked: frozenset[str]
) -> dict[str, SourceFile]:
    cwd = Path.cwd().resolve()
    found: dict[str, SourceFile] = {}
    recorder = runmemo.active
    listings = _listings_of(configs, paths[0]) if paths else Listings(None)
    for given in paths:
        config = configs.for_path(given)
        skipped = _test_folders(config.test_paths) if skip_test_folders else ()
        excluded = _glob_pattern((*config.exclude, *config.extend_exclude, *skipped))
        root = config.root.resolve()
        if given.is_file():
            if (
                config.force_exclude
                and excluded is not None
                and _excluded_file(given, root, excluded)
            ):
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
        # Per folder, the prefixes of its entries' cache keys, exclude paths and shown
        # paths: each entry then costs string concatenations, no calls.
        exclude_root = "" if relative_root in ("", ".") else relative_root + "/"
        show_root = "" if shown_root in ("", ".") else shown_root + "/"
        stack: list[tuple[str, str]] = [("", str(given))]
        while stack:
            sub, folder = stack.pop()
            prefix = f"{sub}/" if sub else ""
            listed = f"{key_root}/{sub}" if sub else key_root
            listing = listings.list(folder, listed)
            if listing is None:
                continue
            folders, files, markers = listing
            # The listing says which project markers the folder holds: resolving each
            # file's configuration then costs no stat per folder.
            configs.saw_folder(listed, frozenset(markers))
            if recorder is not None:
                recorder.folders.add(listed)
            key_base = f"{key_root}/{prefix}"
            exclude_base = exclude_root + prefix
            show_base = show_root + prefix
            for name in folders:
                if excluded is not None and (
                    excluded.match(name) or excluded.match(exclude_base + name)
                ):
                    continue
                if not walked or key_base + name not in walked:
                    stack.append((prefix + name, os.path.join(folder, name)))
            for name in files:
                if excluded is not None and (
                    excluded.match(name) or excluded.match(exclude_base + name)
                ):
                    continue
                if visible is not None and prefix + name not in visible:
                    continue
                key = key_base + name
                found.setdefault(key, SourceFile(os.path.join(folder, name), key, show_base + name))
    listings.save()
    return found


LISTINGS_FILE = "listings.marshal"


def _listings_of(configs: Configs, first: Path) -> Listings:
    """The run's folder listings, kept in the cache folder of its first path."""
    if configs.listings is None:
        config = configs.for_path(first)
        configs.listings = Listings(
            str(Path(config.root, config.cache_dir, LISTINGS_FILE))
            if configs.cache_listings
            else None
        )
    return configs.listings


# A folder's listing: its sub-folders, its Python files and the project markers it holds.
Listing = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Listings:
    """Folder listings kept from the last run in the cache folder, each valid while its
    folder's mtime is (adding, removing or renaming an entry changes it): a warm run stats
    a folder instead of listing it. Without a file (``--no-cache``, flake8, the codemod)
    every folder is listed."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.entries: dict[str, tuple[int, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]
        self.entries = {}
        self.dirty = False
        # A folder changed this recently is not kept: a change later within the same tick
        # of its mtime would go unseen (as the run records do, ``prodlint.runmemo``).
        self.stable_before = 0
        if file is None:
            return
        self.stable_before = time.time_ns() - runmemo.RACY_NS
        try:
            with open(file, "rb") as handle:
                loaded = marshal.loads(handle.read())
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, ValueError, EOFError, TypeError):
            pass

    def list(self, folder: str, key: str) -> Listing | None:
        """``folder`` (as the OS opens it; ``key``: absolute) listed, None if unreadable."""
        mtime = 0
        if self.file is not None:
            try:
                mtime = os.stat(folder).st_mtime_ns
            except OSError:
                return None
            known = self.entries.get(key)
            if known is not None and known[0] == mtime:
                return known[1], known[2], known[3]
        try:
            with os.scandir(folder) as scanned:
                entries = list(scanned)
        except OSError:
            return None
        folders: list[str] = []
        files: list[str] = []
        markers: list[str] = []
        for entry in entries:
            name = entry.name
            if name in PROJECT_MARKERS:
                markers.append(name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                folders.append(name)
            elif name.endswith((".py", ".pyi")):
                files.append(name)
        listing = (tuple(folders), tuple(files), tuple(markers))
        if self.file is not None and mtime < self.stable_before:
            self.entries[key] = (mtime, *listing)
            self.dirty = True
        return listing

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        temp = f"{self.file}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.file), exist_ok=True)
            with open(temp, "wb") as handle:
                marshal.dump(self.entries, handle)
            os.replace(temp, self.file)
            self.dirty = False
        except OSError:
            pass


def fact_files(
    roots: Sequence[Path],
    configs: Configs,
    checked: Sequence[SourceFile],
    walked: frozenset[str] = frozenset(),
) -> list[SourceFile]:
    """The files project facts are read from: the checked files and the rest of the
    projects ``roots``, test files left out. Production code never imports test models,
    and leaving them out everywhere keeps one file checked alone and ``check .`` equal."""
    by_config: dict[int, tuple[str, re.Pattern[str] | None]] = {}
    # Per folder: the test pattern and the folder's own tails relative to its project
    # (``a/b``, ``b``), so each file costs one match per tail and no string splitting.
    by_folder: dict[str, tuple[re.Pattern[str] | None, list[str]]] = {}

    def is_test(file: SourceFile) -> bool:
        folder, _, name = file.key.rpartition("/")
        found = by_folder.get(folder)
        if found is None:
            config = configs.for_folder(folder)
            if id(config) not in by_config:
                by_config[id(config)] = (
                    f"{config.root.resolve()}/",
                    _glob_pattern(config.test_paths),
                )
            root, pattern = by_config[id(config)]
            parts = f"{folder}/".removeprefix(root).split("/")[:-1]
            found = by_folder[folder] = (
                pattern,
                ["/".join(parts[i:]) + "/" for i in range(len(parts))],
            )
        pattern, tails = found
        # Each tail, as the semantic layer's path_matches does: ``tests/*`` at any depth.
        return pattern is not None and (
            pattern.match(name) is not None or any(pattern.match(tail + name) for tail in tails)
        )

    seen: set[str] = set()
    kept: list[SourceFile] = []
    extra = discover(roots, configs, skip_test_folders=True, walked=walked) if roots else []
    for file in (*checked, *extra):
        if file.key not in seen:
            seen.add(file.key)
            if not is_test(file):
                kept.append(file)
    return kept
