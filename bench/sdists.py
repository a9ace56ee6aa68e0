"""Pinned sdists fetched from PyPI at test/bench time, unpacked once into a cache outside
the repository (nothing third-party is ever committed).

    from sdists import fetch
    django = fetch("django==5.2.8")   # the unpacked top folder, e.g. .../Django-5.2.8

The cache is ``$PRODLINT_SDIST_CACHE``, else ``$XDG_CACHE_HOME/prodlint-sdists``, else
``~/.cache/prodlint-sdists``. Each requirement is fetched under a file lock and moved into
place with one rename, so parallel pytest-xdist workers (or two bench runs) download it once
and never see half an archive. The tests import this module through ``tests/sdists.py``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DONE = ".prodlint-fetched"


class FetchError(RuntimeError):
    """pip could not download the sdist (offline, unknown version...)."""


def cache_root() -> Path:
    configured = os.environ.get("PRODLINT_SDIST_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prodlint-sdists"


def _pinned(requirement: str) -> tuple[str, str]:
    name, separator, version = requirement.partition("==")
    if (
        not separator
        or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name)
        or not version.strip()
    ):
        raise ValueError(f"pin the sdist exactly (name==version), not {requirement!r}")
    return re.sub(r"[-_.]+", "-", name).lower(), version.strip()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unpack(archive: Path, target: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)
        return
    with tarfile.open(archive) as bundle:
        if hasattr(tarfile, "data_filter"):
            bundle.extractall(target, filter="data")
        else:  # pragma: no cover - Pythons before the extraction filters
            bundle.extractall(target)  # noqa: S202 - an sdist pip just fetched from PyPI


def _top_folder(unpacked: Path) -> Path:
    entries = [entry for entry in unpacked.iterdir() if entry.name != DONE]
    folders = [entry for entry in entries if entry.is_dir()]
    return folders[0] if len(entries) == 1 and folders else unpacked


def fetch(requirement: str, cache: Path | None = None, timeout: float = 900) -> Path:
    """The unpacked top folder of the sdist ``name==version``, downloading it on first use.

    Raises FetchError when pip cannot get it; callers decide whether that skips or fails."""
    name, version = _pinned(requirement)
    root = cache or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{name}-{version}"
    if (final / DONE).exists():
        return _top_folder(final)
    with locked(root / f"{name}-{version}.lock"):
        if (final / DONE).exists():  # another worker finished it while this one waited
            return _top_folder(final)
        for stale in root.glob(f".{name}-{version}.*"):  # left by a run that was killed
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-{version}.", dir=root))
        try:
            download = work / "download"
            try:
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "--no-deps",
                        "--no-binary",
                        ":all:",
                        "--disable-pip-version-check",
                        "-q",
                        "-d",
                        str(download),
                        f"{name}=={version}",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise FetchError(
                    f"pip took over {timeout} s to download {name}=={version}"
                ) from None
            archives = sorted(download.glob("*")) if download.is_dir() else []
            if done.returncode != 0 or len(archives) != 1:
                raise FetchError(
                    f"pip could not download {name}=={version}: {done.stderr.strip()[-2000:]}"
                )
            unpacked = work / "unpacked"
            _unpack(archives[0], unpacked)
            (unpacked / DONE).write_text(archives[0].name + "\n")
            if final.exists():  # a half-made folder from a run killed before the marker
                shutil.rmtree(final)
            os.replace(unpacked, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return _top_folder(final)
