"""The pre-commit hooks through the real pre-commit, following the snippets of docs/frontends.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import FIXABLE, ROOT

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text

BIN = Path(sys.executable).parent


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=prodlint tests", "-c", "user.email=tests@prodlint.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.slow
def test_documented_remote_hook_pinned_to_a_commit(tmp_path: Path) -> None:
    """The remote snippet as written, with this checkout as the repository and its HEAD as
    the pinned commit: pre-commit clones it and installs prodlint into its own env."""
    [config] = [c for c in documented_configs() if "<prodlint git URL>" in c]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    config = config.replace("<prodlint git URL>", str(ROOT)).replace("<commit SHA>", head)
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    target = repo / "app.py"
    target.write_text(FIXABLE, encoding="utf-8")
    (repo / ".pre-commit-config.yaml").write_text(config)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "legacy code")
    original = target.read_text(encoding="utf-8")
    expected = fix_text(original, "app.py", Checker(Config()), unsafe=False)
    assert expected.changed and expected.remaining, (
        "the sample must have safe fixes and findings they leave"
    )
    done = pre_commit(repo, tmp_path / "pre-commit-home", "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Failed" in output, output
    assert "files were modified by this hook" in output, output
    assert target.read_text(encoding="utf-8") == expected.text
    # What the fix left is listed once, by the one hook.
    for finding in expected.remaining:
        assert output.count(f"app.py:{finding.line}:{finding.col}: {finding.code}") == 1, output


DOCS = ROOT / "docs" / "frontends.md"
LEGACY = "def charge(order):\n    try:\n        order.pay()\n    except Exception:\n        pass\n"
NEW = (
    "\n\ndef refund(order):\n    try:\n        order.refund()\n    except Exception:\n"
    "        pass\n"
)


def documented_configs() -> list[str]:
    """The .pre-commit-config.yaml blocks of docs/frontends.md, as written."""
    blocks = re.findall(
        r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", DOCS.read_text(encoding="utf-8"), re.S
    )
    assert len(blocks) >= 3, "the docs lost their pre-commit snippets"
    return blocks


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )


def legacy_repo(tmp_path: Path, config: str) -> Path:
    repo = tmp_path / "legacy"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "pyproject.toml").write_text('[project]\nname = "legacy"\n')
    (repo / "billing.py").write_text(LEGACY)
    if "--baseline" in config:
        done = subprocess.run(
            [str(BIN / "prodlint"), "check", "--write-baseline", ".prodlint-baseline.json"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    (repo / ".pre-commit-config.yaml").write_text(config)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "legacy code")
    return repo


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [c for c in documented_configs() if "repo: local" in c],
    ids=lambda c: "baseline" if "--baseline" in c else "plain",
)
def test_documented_local_hook_works_as_written(tmp_path: Path, config: str) -> None:
    repo = legacy_repo(tmp_path, config)
    home = tmp_path / "home"
    # An edit that adds no finding, with only that file staged.
    (repo / "billing.py").write_text(LEGACY.replace("order.pay()", "order.pay(now=True)"))
    git(repo, "add", "billing.py")
    first = pre_commit(repo, home)
    output = first.stdout + first.stderr
    if "--baseline" in config:
        assert first.returncode == 0 and "Passed" in output, output
    else:
        assert first.returncode == 1 and output.count("billing.py:4:5: PRD503") == 1, output
    # A new finding fails the commit, reported once, and the baselined one is not repeated.
    (repo / "billing.py").write_text(LEGACY + NEW)
    git(repo, "add", "billing.py")
    second = pre_commit(repo, home)
    output = second.stdout + second.stderr
    assert second.returncode == 1 and "Failed" in output, output
    assert output.count("billing.py:11:5: PRD503") == 1, output
    assert output.count("billing.py:4:5: PRD503") == (0 if "--baseline" in config else 1), output
