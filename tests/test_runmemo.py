"""A warm ``prodlint check`` answered from the record of the same command
(``prodlint.runmemo``): replayed only while every input is as it was, and the answer is the
full run's, byte for byte."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_entry_points import MODELS, VIEWS

PRINTS = 'def charge(order):\n    print(f"charged {order}")\n'


class Project:
    """A project whose files look edited long ago (a record is only made when no input
    changed in the last seconds), each edit a second later than the one before."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.cache = cache
        self.clock = itertools.count(int(time.time()) - 10_000)

    def age(self) -> None:
        when = next(self.clock)
        for folder, _, names in os.walk(self.root.parent):
            for name in names:
                os.utime(os.path.join(folder, name), (when, when))
            os.utime(folder, (when, when))

    def write(self, relative: str, text: str) -> None:
        """As an editor would: the file's mtime moves on, and its folder's only when the
        file is new (each moved to the past, as if long ago)."""
        path = self.root / relative
        touched = [path]
        folder = path.parent
        while not folder.exists():
            touched.append(folder)
            folder = folder.parent
        if not path.exists():
            touched.append(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        when = next(self.clock)
        for changed in touched:
            os.utime(changed, (when, when))

    def check(self, *args: str, cwd: Path | None = None) -> tuple[str, int, bool]:
        """stdout, exit status, and whether the record answered (nothing else imported)."""
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "prodlint", "check"]
            + ["--cache-dir", str(self.cache), *args],
            cwd=cwd or self.root,
            capture_output=True,
            text=True,
            timeout=300,
            env={k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")},
        )
        assert done.returncode in (0, 1), done.stderr
        return done.stdout, done.returncode, "prodlint.commands" not in done.stderr


@pytest.fixture
def project(tmp_path: Path) -> Project:
    shop = Project(tmp_path / "outer" / "shop", tmp_path / "cache")
    shop.write("pyproject.toml", '[project]\nname = "shop"\n')
    shop.write("app/__init__.py", "")
    shop.write("app/models.py", MODELS)
    shop.write("app/views.py", VIEWS)
    shop.write("app/billing.py", PRINTS)
    return shop


def test_unchanged_inputs_replay_the_same_answer(project: Project) -> None:
    first = project.check(".")
    assert not first[2] and "PRD202" in first[0] and "PRD501" in first[0]
    again = project.check(".")
    assert again == (first[0], first[1], True)
    # Another command (or the same one elsewhere) has its own record.
    assert not project.check("app")[2]
    assert project.check("app")[2]
    assert not project.check("billing.py", cwd=project.root / "app")[2]


def test_an_edited_checked_file_is_checked_again(project: Project) -> None:
    project.check(".")
    project.write("app/billing.py", "def charge(order):\n    return order\n")
    output, status, replayed = project.check(".")
    assert not replayed and "PRD501" not in output
    assert project.check(".") == (output, status, True)


def test_a_new_file_is_checked(project: Project) -> None:
    project.check(".")
    project.write("app/shipping/labels.py", PRINTS)
    output, _, replayed = project.check(".")
    assert not replayed and "labels.py" in output


def test_a_changed_fact_file_changes_the_answer_for_the_view(project: Project) -> None:
    """Only the view is checked; its finding depends on the models file."""
    first = project.check("app/views.py")
    assert "PRD202" in first[0] and project.check("app/views.py")[2]
    project.write("app/models.py", MODELS.replace("ForeignKey(Author", "ForeignKey('Author'"))
    assert not project.check("app/views.py")[2]
    project.write("app/models.py", "")
    output, status, replayed = project.check("app/views.py")
    assert not replayed and "PRD202" not in output and status == 0


def test_configuration_edited_or_created_above(project: Project) -> None:
    project.check(".")
    project.write(
        "pyproject.toml", '[project]\nname = "shop"\n\n[tool.prodlint]\nignore = ["PRD5"]\n'
    )
    output, _, replayed = project.check(".")
    assert not replayed and "PRD501" not in output and "PRD202" in output
    project.check(".")
    # A table in a folder above the project: probed and found missing before.
    project.write("pyproject.toml", '[project]\nname = "shop"\n')
    project.check(".")
    assert project.check(".")[2]
    project.write("../pyproject.toml", '[tool.prodlint]\nignore = ["PRD2"]\n')
    output, _, replayed = project.check(".")
    assert not replayed and "PRD202" not in output


def test_gitignore_and_report_file(project: Project) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project.root, check=True)
    project.write(".gitignore", "*.log\n")
    project.age()
    project.check(".", "-o", "report.txt")
    project.age()  # the run created the report a moment ago: its folder changed
    report = project.root / "report.txt"
    assert not project.check(".", "-o", "report.txt")[2]
    first = report.read_text()
    assert "billing.py" in first
    project.write("report.txt", "stale")  # the report is an output, not an input
    assert project.check(".", "-o", "report.txt") == ("", 1, True)
    assert report.read_text() == first
    # An edited .gitignore changes no folder: git's inputs are read as files.
    project.write(".gitignore", "app/billing.py\n")
    assert not project.check(".", "-o", "report.txt")[2]
    assert "billing.py" not in report.read_text()
    assert project.check(".", "-o", "report.txt")[2]


def test_no_cache_and_fixes_make_no_record(project: Project) -> None:
    for _ in range(2):
        assert not project.check("--no-cache", ".")[2]
    assert not project.check("--fix", "--diff", ".")[2]
