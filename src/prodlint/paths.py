"""Which files play which role, by path: the default test and migration globs and the
matcher the settings and the semantic layer share (kept out of ``analysis`` so that
``config`` needs nothing from it)."""

from __future__ import annotations

import fnmatch
import functools
import os
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


def path_matches(path: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Glob match against the path and each of its tails, so ``tests/*`` and ``test_*.py``
    match at any depth."""
    parts = path.replace("\\", "/").lstrip("./").split("/")
    matcher = _matcher(tuple(patterns))
    normcase = os.path.normcase
    return any(matcher(normcase("/".join(parts[index:]))) for index in range(len(parts)))


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """All globs as one compiled regex (``fnmatch.fnmatch`` per glob and tail was a hot
    spot: rules ask for every file), matching as ``fnmatch`` does."""
    if not patterns:
        return lambda _: None
    return re.compile(
        "|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns)
    ).match
