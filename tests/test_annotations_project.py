"""An override of a base class from another file of the project is left to its base, from
every entry point: the whole tree, the one file, and flake8 on the one file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
BASE = (
    "from typing import Any\n\n\n"
    "class Handler:\n    def handle(self, event: Any) -> None:\n        print(event)\n"
)
SUBCLASS = (
    "from typing import Any\n\nfrom app.base import Handler\n\n\nclass Audit(Handler):\n"
    "    def handle(self, event: Any) -> None:\n        print('audit', event)\n\n"
    "    def extra(self, event: Any) -> None:\n        print(event)\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "base.py").write_text(BASE, encoding="utf-8")
    (tmp_path / "app" / "audit.py").write_text(SUBCLASS, encoding="utf-8")
    return tmp_path


def prodlint(project: Path, target: str) -> set[tuple[str, int]]:
    done = subprocess.run(
        [
            str(BIN / "prodlint"),
            "check",
            "--no-cache",
            "--select",
            "PRD6",
            "--format",
            "json",
            target,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return {(f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]}


def test_override_of_a_base_in_another_file_is_left_alone(project: Path) -> None:
    assert prodlint(project, ".") == {("app/base.py", 5), ("app/audit.py", 10)}
    assert prodlint(project, "app/audit.py") == {("app/audit.py", 10)}
    done = subprocess.run(
        [str(BIN / "flake8"), "--select", "PRD6", "app/audit.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert [line.split(":")[1] for line in done.stdout.splitlines()] == ["10"], (
        done.stdout + done.stderr
    )
