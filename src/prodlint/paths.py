"""Which files play which role, by path: the default test and migration globs and the
matcher the settings and the semantic layer share (kept out of ``analysis`` so that
``config`` needs nothing from it).

Every path glob of the settings (test-paths, migration-paths, per-file-ignores, a rule's
script-paths) matches the file's path relative to the project root of the configuration
it comes from, as ruff matches per-file-ignores: so ``prodlint check src/app/x.py`` at the
root, ``cd src && prodlint check app/x.py``, an absolute path, flake8's ``./x.py`` and a
pre-commit run all pick the same files. The folders above the root never count (a project
kept under ``~/test/`` is not all tests). A relative glob matches at any depth (each tail of
that path: ``tests/*`` is ``app/tests/x.py`` too); an absolute glob matches the absolute
path.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import posixpath
import re
from collections.abc import Callable

DEFAULT_TEST_PATHS = (
    "test_*.py",
    "*_test.py",
    "tests.py",
    "conftest.py",
    "tests/*",
    "test/*",
    "testing/*",
)
# Schema and data migrations (Django, Alembic) run once, offline: per-row loops and prints
# there are not production request code.
DEFAULT_MIGRATION_PATHS = ("migrations/*.py", "alembic/versions/*.py", "migrations/versions/*.py")


def project_path(path: str, root: str | None) -> str:
    """``path`` (as given: relative to the working directory, or absolute) relative to the
    project ``root``, with ``/`` separators. A file outside the root (a ``--config`` kept
    elsewhere) is taken relative to the working directory, where the user runs prodlint
    from, so the folders above it do not count either; the absolute path when it is outside
    that too. Without a root, the normalised path as given."""
    path = path.replace("\\", "/")
    if root is None:
        return posixpath.normpath(path)
    cwd = os.getcwd()
    absolute = path if os.path.isabs(path) else os.path.join(cwd, path)
    return _relative_to(absolute, root, cwd)


@functools.lru_cache(maxsize=4096)
def _relative_to(absolute: str, root: str, cwd: str) -> str:
    for base in (root, cwd):
        for candidate in (os.path.normpath(absolute), os.path.realpath(absolute)):
            relative = os.path.relpath(candidate, base).replace("\\", "/")
            if relative != ".." and not relative.startswith("../"):
                return relative
    return os.path.normpath(absolute).replace("\\", "/")


def path_matches(path: str, patterns: tuple[str, ...] | list[str], root: str | None = None) -> bool:
    """Whether ``path`` matches any glob of ``patterns`` (see the module docstring), where
    ``root`` is the project root the globs are relative to."""
    if not patterns:
        return False
    relative = project_path(path, root)
    relative_globs, absolute_globs = _split(tuple(patterns))
    normcase = os.path.normcase
    if absolute_globs is not None:
        absolute = os.path.normpath(os.path.join(os.getcwd(), path))
        if absolute_globs(normcase(absolute.replace("\\", "/"))):
            return True
    if relative_globs is None:
        return False
    parts = relative.split("/")
    return any(relative_globs(normcase("/".join(parts[index:]))) for index in range(len(parts)))


Matcher = Callable[[str], re.Match[str] | None]


@functools.lru_cache(maxsize=64)
def _split(patterns: tuple[str, ...]) -> tuple[Matcher | None, Matcher | None]:
    """The relative and the absolute globs, each as one compiled regex (``fnmatch.fnmatch``
    per glob and tail was a hot spot: rules ask for every file), matching as ``fnmatch``
    does."""
    absolute = tuple(p for p in patterns if os.path.isabs(p))
    relative = tuple(p for p in patterns if not os.path.isabs(p))
    return _matcher(relative), _matcher(absolute)


def _matcher(patterns: tuple[str, ...]) -> Matcher | None:
    if not patterns:
        return None
    return re.compile(
        "|".join(
            f"(?:{fnmatch.translate(os.path.normcase(p.replace(chr(92), '/')))})" for p in patterns
        )
    ).match
