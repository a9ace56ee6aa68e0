"""Zero crashes on real code: every ``.py`` file of the Django 5.2.8, SQLAlchemy, requests and
Flask sdists goes through the real ``prodlint check`` (and a sample through ``prodlint fix``).

The pinned sdists come from the shared cache of ``bench/sdists.py`` (downloaded once with
pip, outside the repository; nothing third-party is committed). Offline they are skipped,
except under CI, where a failed download fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pinned_sdists import sdist

from prodlint.source import MAX_FILE_BYTES

pytestmark = pytest.mark.slow

REQUIREMENTS = ("django==5.2.8", "sqlalchemy==2.1.9", "requests==2.34.2", "flask==3.1.3")
# Every .py file, whatever its folder is called (the default excludes skip build/, env/...).
CONFIG = "[tool.prodlint]\nexclude = []\nrespect-gitignore = false\n"
# Files per fixable code and project that go through `prodlint fix` (the smallest ones:
# libcst takes seconds on SQLAlchemy's largest modules), to keep the file near two minutes.
FIX_SAMPLE_PER_CODE = 4


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    (folder / "pyproject.toml").write_text(CONFIG)
    return folder / "pyproject.toml"


@pytest.fixture(scope="session", params=REQUIREMENTS)
def tree(request: pytest.FixtureRequest) -> Path:
    """The unpacked sdist, shared by every test and worker: only read, never written."""
    return sdist(str(request.param))


def prodlint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "prodlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-5000:]
    return done


def compiles(path: Path) -> bool:
    """Whether CPython itself accepts the file (with its default limits)."""
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES or b"\0" in data:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@pytest.fixture(scope="session")
def findings(tree: Path, config: Path) -> list[dict[str, object]]:
    done = prodlint(tree, "check", "--no-cache", "--format", "json", "--config", str(config), ".")
    found: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    assert done.stderr == "", done.stderr[-3000:]
    assert done.returncode == (1 if found else 0)
    return found


def test_check_never_crashes(tree: Path, findings: list[dict[str, object]]) -> None:
    files = sorted(tree.rglob("*.py"))
    assert len(files) > 20
    uncheckable = [f for f in findings if f["code"] == "PRD000"]
    crashes = [f for f in uncheckable if "internal error" in str(f["message"])]
    assert not crashes, crashes
    # PRD000 only where Python itself gives up on the file.
    wrong = [f for f in uncheckable if compiles(tree / str(f["path"]))]
    assert not wrong, wrong
    reported = {str(f["path"]) for f in findings}
    assert reported <= {p.relative_to(tree).as_posix() for p in files}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fix_sample(tree: Path, findings: list[dict[str, object]]) -> list[str]:
    """The smallest few files with a fixable finding of each code."""
    by_code: dict[str, set[str]] = {}
    for finding in findings:
        if finding["fix"] is not None:
            by_code.setdefault(str(finding["code"]), set()).add(str(finding["path"]))
    sample: set[str] = set()
    for paths in by_code.values():
        sample.update(
            sorted(paths, key=lambda p: ((tree / p).stat().st_size, p))[:FIX_SAMPLE_PER_CODE]
        )
    return sorted(sample)


def test_fix_never_breaks_code(
    tree: Path, config: Path, findings: list[dict[str, object]], tmp_path: Path
) -> None:
    sample = fix_sample(tree, findings)
    if not sample:
        pytest.skip("no fixable findings in this sdist")
    # The whole project, not the sample alone: whether a finding has a fix can depend on
    # the other files (PRD601 leaves a method alone when a base elsewhere may declare it),
    # and the sample was chosen from a check that saw all of them.
    tmp_path = tmp_path / "project"
    shutil.copytree(tree, tmp_path, symlinks=True)
    before = {relative: digest(tmp_path / relative) for relative in sample}

    preview = prodlint(
        tmp_path, "fix", "--diff", "--unsafe-fixes", "--no-cache", "--config", str(config), *sample
    )
    assert {relative: digest(tmp_path / relative) for relative in sample} == before, (
        "--diff wrote files"
    )
    assert preview.stdout.count("\n--- a/") + preview.stdout.startswith("--- a/") >= 1

    done = prodlint(
        tmp_path, "fix", "--unsafe-fixes", "--no-cache", "--config", str(config), *sample
    )
    failed = [line for line in done.stderr.splitlines() if "not fixed" in line]
    # A failed fix is contained (the file is left alone), but a fix that raises is a bug.
    assert not [line for line in failed if " raised " in line], failed
    changed = [relative for relative in sample if digest(tmp_path / relative) != before[relative]]
    assert changed
    broken = [relative for relative in changed if not compiles(tmp_path / relative)]
    assert not broken, broken
    for line in failed:
        path = line.split(": not fixed", 1)[0]
        assert digest(tmp_path / path) == before[path], f"{path} changed although its fix failed"
