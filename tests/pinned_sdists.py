"""The tests' way to a pinned sdist: ``bench/sdists.py`` (one helper for tests and benches),
plus the rule for when PyPI cannot be reached: skip on a laptop offline, fail under CI
(which has PyPI, so a test that needs an sdist must run there)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# bench/ on the path once, so the bench scripts the tests load import the same helper.
BENCH = Path(__file__).resolve().parent.parent / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

import sdists  # noqa: E402 - needs BENCH on the path


def sdist(requirement: str) -> Path:
    """The unpacked top folder of a pinned sdist (``name==version``), from the shared cache."""
    try:
        return sdists.fetch(requirement)
    except sdists.FetchError as error:
        if os.environ.get("CI"):
            pytest.fail(
                f"cannot download {requirement} (CI has PyPI: this must run there): {error}"
            )
        pytest.skip(f"cannot download {requirement} (offline?)")
