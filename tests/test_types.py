"""prodlint is a typing linter: its own source must type-check."""

from __future__ import annotations

import subprocess
import sys

from corpus import ROOT


def test_mypy_passes_on_the_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-incremental", "src/prodlint"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
