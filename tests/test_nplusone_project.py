"""Querysets returned by the project's own methods, declared in another file than the
loop: the same findings from the whole tree, the one file, and flake8 on the one file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MODELS = """from django.db import models


class ShelfQuerySet(models.QuerySet):
    def open(self):
        return self.filter(closed=False)

    def with_keeper(self):
        return self.select_related("keeper")


class Keeper(models.Model):
    name = models.CharField(max_length=50)


class Shelf(models.Model):
    keeper = models.ForeignKey(Keeper, on_delete=models.CASCADE)
    closed = models.BooleanField(default=False)
    objects = ShelfQuerySet.as_manager()

    def neighbours(self):
        return Shelf.objects.filter(keeper=self.keeper)
"""
VIEWS = """from app.models import Shelf


def keepers():
    return [shelf.keeper.name for shelf in Shelf.objects.open()]


def loaded():
    return [shelf.keeper.name for shelf in Shelf.objects.with_keeper()]


def neighbour_keepers(shelf: Shelf):
    return [other.keeper.name for other in shelf.neighbours()]
"""
# The first loop is wrapped: ruff's 88 columns, the longest line the file had.
FIXED = VIEWS.replace(
    "return [shelf.keeper.name for shelf in Shelf.objects.open()]",
    "return [\n"
    '        shelf.keeper.name for shelf in Shelf.objects.open().select_related("keeper")\n'
    "    ]",
).replace("shelf.neighbours()", 'shelf.neighbours().select_related("keeper")')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "app" / "views.py").write_text(VIEWS, encoding="utf-8")
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def prodlint(project: Path, target: str) -> set[tuple[str, int]]:
    done = run(
        project, "prodlint", "check", "--no-cache", "--select", "PRD2", "--format", "json", target
    )
    assert done.returncode in (0, 1), done.stderr
    return {(f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]}


def test_rows_of_a_method_in_another_file(project: Path) -> None:
    expected = {("app/views.py", 5), ("app/views.py", 13)}
    assert prodlint(project, ".") == expected
    assert prodlint(project, "app/views.py") == expected
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--select", "PRD2", "--format", "json"]
        + ["--stdin-filename", "app/views.py", "-"],
        cwd=project,
        input=VIEWS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert {f["line"] for f in json.loads(done.stdout)["findings"]} == {5, 13}, done.stderr
    done = run(project, "flake8", "--select", "PRD2", "app/views.py")
    assert sorted(line.split(":")[1] for line in done.stdout.splitlines()) == ["13", "5"], (
        done.stdout + done.stderr
    )


def test_fix_loads_after_the_method_of_another_file(project: Path) -> None:
    done = run(project, "prodlint", "fix", "--no-cache", "app/views.py")
    assert done.returncode in (0, 1), done.stderr
    assert (project / "app" / "views.py").read_text(encoding="utf-8") == FIXED


def test_facts_follow_an_edit_of_the_other_file(project: Path) -> None:
    """The cache key holds the project facts: once ``open()`` loads the keeper itself, the
    warm run drops its finding."""
    cache = ["--cache-dir", str(project / ".cache")]
    args = ("prodlint", "check", *cache, "--select", "PRD2", "--format", "json", ".")
    first = json.loads(run(project, *args).stdout)["findings"]
    assert {f["line"] for f in first} == {5, 13}
    models = project / "app" / "models.py"
    models.write_text(
        MODELS.replace(
            "self.filter(closed=False)", 'self.filter(closed=False).select_related("keeper")'
        ),
        encoding="utf-8",
    )
    second = json.loads(run(project, *args).stdout)["findings"]
    assert {f["line"] for f in second} == {13}
