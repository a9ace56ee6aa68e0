"""The pre-commit hooks, installed by the real ``pre-commit try-repo`` from this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import FIXTURES, ROOT
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text

BIN = Path(sys.executable).parent
SAMPLE = FIXTURES / "logging" / "print_existing_logger.py"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=prodlint tests", "-c", "user.email=tests@prodlint.invalid",
                    *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.mark.slow
def test_try_repo_check_fails_and_fix_rewrites(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    target = repo / "app.py"
    shutil.copyfile(SAMPLE, target)
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "legacy code")
    original = target.read_text(encoding="utf-8")
    expected = fix_text(original, "app.py", Checker(Config()), unsafe=False)
    assert expected.changed, "the sample must have safe fixes"

    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    # No hook id: both hooks run, in file order, from one environment built from ROOT
    # (uncommitted changes included, as try-repo does).
    done = subprocess.run(
        [str(BIN / "pre-commit"), "try-repo", str(ROOT), "--all-files", "--verbose"],
        cwd=repo, capture_output=True, text=True, timeout=600, env=env,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    check_part, _, fix_part = output.partition("prodlint (fix)")
    assert "prodlint" in check_part and "Failed" in check_part, output
    assert "app.py:10:9: PRD501" in check_part, output
    assert "Failed" in fix_part and "files were modified by this hook" in fix_part, output
    assert target.read_text(encoding="utf-8") == expected.text
