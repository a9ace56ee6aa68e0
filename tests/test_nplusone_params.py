"""A helper looping over rows it is handed, its callers in other files: the rows are a
queryset when every call site of the project passes one. The same findings come from the
whole tree, the helper's file alone, stdin and flake8; a call site passing anything else,
the helper handed on as a callback, or imported from another module of the same name
takes the finding away."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MODELS = """from django.db import models


class Vendor(models.Model):
    name = models.CharField(max_length=50)


class Parcel(models.Model):
    weight = models.IntegerField()
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE)
"""
# No ORM word in the helpers: nothing in this file says what ``parcels`` is.
HELPERS = """def parcel_labels(parcels):
    return [parcel.vendor.name for parcel in parcels]


def loaded_labels(parcels):
    return [parcel.vendor.name for parcel in parcels]


class Report:
    def rows(self, parcels):
        return [parcel.vendor.name for parcel in parcels]
"""
VIEWS = """from app.helpers import Report, loaded_labels, parcel_labels
from app.models import Parcel


def heavy():
    return parcel_labels(Parcel.objects.filter(weight__gt=10))


def light():
    parcels = Parcel.objects.filter(weight__lte=10)
    return parcel_labels(parcels)


def loaded():
    return loaded_labels(Parcel.objects.select_related("vendor"))


def report():
    return Report().rows(Parcel.objects.all())
"""
FLAGGED = {("app/helpers.py", 2), ("app/helpers.py", 11)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "models.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "app" / "helpers.py").write_text(HELPERS, encoding="utf-8")
    (tmp_path / "app" / "views.py").write_text(VIEWS, encoding="utf-8")
    return tmp_path


def run(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=project,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def findings(project: Path, *target: str, stdin: str | None = None) -> list[dict[str, object]]:
    done = run(
        project,
        "prodlint",
        "check",
        "--no-cache",
        "--select",
        "PRD2",
        "--format",
        "json",
        *target,
        stdin=stdin,
    )
    assert done.returncode in (0, 1), done.stderr
    found: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return found


def flagged(project: Path, target: str = ".") -> set[tuple[object, object]]:
    return {(f["path"], f["line"]) for f in findings(project, target)}


def test_every_entry_point_sees_the_call_sites_of_other_files(project: Path) -> None:
    assert flagged(project) == FLAGGED
    assert flagged(project, "app/helpers.py") == FLAGGED
    piped = findings(project, "--stdin-filename", "app/helpers.py", "-", stdin=HELPERS)
    assert {f["line"] for f in piped} == {2, 11}
    done = run(project, "flake8", "--select", "PRD2", "app/helpers.py")
    assert sorted(line.split(":")[1] for line in done.stdout.splitlines()) == ["11", "2"], (
        done.stdout + done.stderr
    )


def test_message_names_a_call_site_and_no_fix_is_offered(project: Path) -> None:
    found = [f for f in findings(project, ".") if f["line"] == 2]
    assert len(found) == 1
    message = str(found[0]["message"])
    assert 'select_related("vendor") at every call site' in message
    assert "`heavy()` passes `Parcel.objects.filter()` on line 6" in message
    done = run(project, "prodlint", "fix", "--unsafe-fixes", "--no-cache", ".")
    assert done.returncode in (0, 1), done.stderr
    assert (project / "app" / "helpers.py").read_text(encoding="utf-8") == HELPERS
    assert (project / "app" / "views.py").read_text(encoding="utf-8") == VIEWS


# A module of tasks: the project reads the calls of files that can build a query.
TASKS = """from app.models import Parcel


def reweigh():
    Parcel.objects.filter(weight=0).update(weight=1)
"""


@pytest.mark.parametrize(
    ("extra", "gone"),
    [
        # a call site passing a list of something else
        (
            "from app.helpers import parcel_labels\n\n\ndef cached(rows):\n"
            "    return parcel_labels(list(rows))\n",
            2,
        ),
        # the helper is handed on: who calls it with what is unknown
        ("from app import helpers\n\nHANDLERS = {'labels': helpers.parcel_labels}\n", 2),
        # ``*args``: which parameter gets what is unknown
        (
            "from app.helpers import Report\n\n\ndef again(args):\n"
            "    return Report().rows(*args)\n",
            11,
        ),
    ],
)
def test_a_call_site_not_passing_rows_takes_the_finding_away(
    project: Path, extra: str, gone: int
) -> None:
    (project / "app" / "tasks.py").write_text(TASKS + extra, encoding="utf-8")
    assert flagged(project) == FLAGGED - {("app/helpers.py", gone)}


def test_a_function_of_the_same_name_in_another_module_is_not_called(project: Path) -> None:
    """``other.parcel_labels`` has no call site of its own: the project's calls import the
    one of ``app.helpers``."""
    (project / "app" / "other.py").write_text(
        HELPERS.split("\n\n\ndef loaded_labels")[0] + "\n", encoding="utf-8"
    )
    assert flagged(project) == FLAGGED


def test_a_public_function_without_call_sites_is_not_flagged(project: Path) -> None:
    (project / "app" / "views.py").write_text(
        "from app.models import Parcel\n\n\ndef count():\n    return Parcel.objects.count()\n",
        encoding="utf-8",
    )
    assert flagged(project) == set()


def test_the_cached_facts_follow_a_new_call_site(project: Path) -> None:
    cache = ["--cache-dir", str(project / ".cache")]
    args = ("prodlint", "check", *cache, "--select", "PRD2", "--format", "json", ".")
    first = json.loads(run(project, *args).stdout)["findings"]
    assert {(f["path"], f["line"]) for f in first} == FLAGGED
    views = project / "app" / "views.py"
    views.write_text(VIEWS + "\n\ndef empty():\n    return parcel_labels([])\n", encoding="utf-8")
    second = json.loads(run(project, *args).stdout)["findings"]
    assert {(f["path"], f["line"]) for f in second} == {("app/helpers.py", 11)}


def test_a_method_another_class_declares_too_is_judged_by_its_own_calls(project: Path) -> None:
    """``Report().rows(...)`` may call either class's ``rows`` once another class declares
    one (in a file that can build a query, as the project reads them): the method is then
    judged by its class's ``self.rows(...)`` calls alone."""
    (project / "app" / "tables.py").write_text(
        "from app.models import Vendor\n\n\nclass Table:\n"
        "    def rows(self, items):\n        return list(items)\n\n"
        "    def vendors(self):\n        return Vendor.objects.count()\n",
        encoding="utf-8",
    )
    assert flagged(project) == FLAGGED - {("app/helpers.py", 11)}


def test_a_module_calling_its_own_function_of_the_same_name(project: Path) -> None:
    """Each ``parcel_labels`` is judged by its own calls: the views import the helpers' one,
    ``local.py`` calls its own (with the vendor loaded: not flagged there)."""
    (project / "app" / "local.py").write_text(
        "from app.models import Parcel\n\n\n"
        + HELPERS.split("\n\n\ndef loaded_labels")[0]
        + "\n\n\ndef labels():\n"
        + '    return parcel_labels(Parcel.objects.select_related("vendor"))\n',
        encoding="utf-8",
    )
    assert flagged(project) == FLAGGED


def test_a_call_through_the_imported_module_is_a_call_site(project: Path) -> None:
    (project / "app" / "api.py").write_text(
        "from app import helpers\nfrom app.models import Parcel\n\n\n"
        "def api():\n    return helpers.parcel_labels(Parcel.objects.filter(weight=1))\n",
        encoding="utf-8",
    )
    assert flagged(project) == FLAGGED
    found = [f for f in findings(project, "app/helpers.py") if f["line"] == 2]
    assert len(found) == 1
