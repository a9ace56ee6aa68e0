"""Which files play which role, by path: the default test and migration globs and the
matcher the settings and the semantic layer share (kept out of ``analysis`` so that
``config`` needs nothing from it)."""

from __future__ import annotations

import fnmatch

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
    tails = ["/".join(parts[index:]) for index in range(len(parts))]
    return any(fnmatch.fnmatch(tail, pattern) for pattern in patterns for tail in tails)
