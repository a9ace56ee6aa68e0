"""prodlint holds its own code to the habits it asks of users' code: formatted, lint-clean,
type-checked strictly (it is a typing linter), with the settings declared once in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys

from corpus import ROOT

OWN_CODE = ["src", "tests", "bench"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_own_code_is_ruff_formatted() -> None:
    done = run("ruff", "format", "--check", *OWN_CODE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_own_code_is_lint_clean() -> None:
    # The rule selection and the line length come from [tool.ruff] in pyproject.toml.
    done = run("ruff", "check", "--no-cache", *OWN_CODE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_passes_on_the_package() -> None:
    # strict = true and the checked files come from [tool.mypy] in pyproject.toml.
    assert "strict = true" in (ROOT / "pyproject.toml").read_text()
    done = run("mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout + done.stderr
