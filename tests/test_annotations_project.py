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


def findings(project: Path, target: str) -> list[dict[str, object]]:
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
    found: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return found


def prodlint(project: Path, target: str) -> set[tuple[object, object]]:
    return {(f["path"], f["line"]) for f in findings(project, target)}


def flake8(project: Path, target: str) -> str:
    done = subprocess.run(
        [str(BIN / "flake8"), "--select", "PRD6", target],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout + done.stderr


def test_override_of_a_base_in_another_file_is_left_alone(project: Path) -> None:
    assert prodlint(project, ".") == {("app/base.py", 5), ("app/audit.py", 10)}
    assert prodlint(project, "app/audit.py") == {("app/audit.py", 10)}
    output = flake8(project, "app/audit.py")
    assert [line.split(":")[1] for line in output.splitlines()] == ["10"], output


def test_base_overridden_in_another_file_keeps_its_signature(tmp_path: Path) -> None:
    # The override (two levels down, in a file that never spells ``Any``) takes ``str``:
    # the base's ``object``/``int`` would make mypy reject it, so no entry point offers
    # the fix, and ``prodlint fix`` leaves the base alone.
    base = (
        "from typing import Any\n\n\n"
        "class Renderer:\n    def render(self, value: Any) -> Any:\n        return 0\n"
    )
    child = (
        "from app.base import Renderer\n\n\nclass Middle(Renderer):\n    pass\n\n\n"
        "class Text(Middle):\n    def render(self, value: str) -> str:\n        return value\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "base.py").write_text(base, encoding="utf-8")
    (tmp_path / "app" / "text.py").write_text(child, encoding="utf-8")
    for target in (".", "app/base.py"):
        found = findings(tmp_path, target)
        assert [(f["line"], bool(f.get("fix"))) for f in found] == [(5, False), (5, False)]
        assert all("`Text` overrides it" in str(f["message"]) for f in found)
    output = flake8(tmp_path, "app/base.py")
    assert output.count("`Text` overrides it") == 2, output
    subprocess.run(
        [str(BIN / "prodlint"), "fix", "--no-cache", "--unsafe-fixes", "--select", "PRD6", "."],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert (tmp_path / "app" / "base.py").read_text(encoding="utf-8") == base
    mypy = subprocess.run(
        [str(BIN / "mypy"), "--no-incremental", "app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert mypy.returncode == 0, mypy.stdout
