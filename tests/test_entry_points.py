"""One answer whatever the entry point: the same PRD202 for a view whose models live in
another file of the project, whether the run names the whole project, the view alone, the
view on stdin, one staged file in pre-commit, the view through flake8 or the codemod.

Each case is a real project in a temp folder (with and without a ``[tool.prodlint]``
table, marked by pyproject.toml, setup.cfg or .git only), driven through the real tools.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from corpus import ROOT

BIN = Path(sys.executable).parent
MODELS = """from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""
VIEWS = """from .models import Book


def names():
    return [book.author.name for book in Book.objects.all()]
"""
VIEW = "app/catalog/views.py"
Row = tuple[str, int, int, str, str]
MARKERS = {
    "pyproject-without-table": ("pyproject.toml", '[project]\nname = "shop"\n'),
    "pyproject-with-table": ("pyproject.toml", "[tool.prodlint]\n"),
    "setup-cfg": ("setup.cfg", "[metadata]\nname = shop\n"),
    "git-only": (None, ""),
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=prodlint tests", "-c", "user.email=tests@prodlint.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(params=sorted(MARKERS))
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "app" / "catalog").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "catalog" / "__init__.py").write_text("")
    (root / "app" / "catalog" / "models.py").write_text(MODELS)
    (root / VIEW).write_text(VIEWS)
    marker, text = MARKERS[request.param]
    if marker is not None:
        (root / marker).write_text(text)
    git(root, "init", "-q")
    return root


def prodlint_json(cwd: Path, *args: str, stdin: str | None = None) -> list[Row]:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--format", "json", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return sorted(
        (f["path"], f["line"], f["col"], f["code"], f["message"])
        for f in json.loads(done.stdout)["findings"]
    )


def test_every_entry_point_sees_the_models_of_the_project(project: Path) -> None:
    whole = prodlint_json(project, "--no-cache", ".")
    assert [(path, code) for path, _, _, code, _ in whole] == [(VIEW, "PRD202")], whole
    assert prodlint_json(project, "--no-cache", VIEW) == whole
    assert prodlint_json(project, VIEW) == whole  # and again from the cache
    assert prodlint_json(project, "--no-cache", "-", "--stdin-filename", VIEW, stdin=VIEWS) == whole
    # From a sub-folder: paths are shown from there, the finding is the same.
    inside = prodlint_json(project / "app", "--no-cache", "catalog/views.py")
    assert [(f"app/{path}", *rest) for path, *rest in inside] == whole

    flake8 = subprocess.run(
        [
            str(BIN / "flake8"),
            "--select",
            "PRD",
            "--format=%(path)s\t%(row)d\t%(col)d\t%(code)s %(text)s",
            VIEW,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in flake8.stderr, flake8.stderr
    rows = [line.split("\t") for line in flake8.stdout.splitlines()]
    assert [(path, int(line), int(col), text) for path, line, col, text in rows] == [
        (path, line, col, f"{code} {message}") for path, line, col, code, message in whole
    ]


def test_codemod_applies_the_fix_prodlint_fix_makes(project: Path, tmp_path: Path) -> None:
    expected_dir = tmp_path / "expected"
    subprocess.run(["cp", "-r", str(project), str(expected_dir)], check=True)
    fixed = subprocess.run(
        [str(BIN / "prodlint"), "fix", "--no-cache", VIEW],
        cwd=expected_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    expected = (expected_dir / VIEW).read_text()
    assert "select_related" in expected
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "--no-format",
            "-x",
            "prodlint.codemods.rules.LazyRelationInLoop",
            VIEW,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "Transformed 1 files successfully" in done.stderr, done.stderr
    assert (project / VIEW).read_text() == expected


def hook_entry(hook_id: str) -> list[str]:
    """The hook's command as .pre-commit-hooks.yaml declares it, run from this venv."""
    hooks = {
        hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    command, *args = hooks[hook_id]["entry"].split()
    return [str(BIN / command), *args]


def run_precommit(repo: Path, home: Path, *staged: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit run`` of the documented hook (from this venv) with ``staged`` staged."""
    entry = " ".join(hook_entry("prodlint"))
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: prodlint\n    name: prodlint\n"
        f"    entry: {entry}\n    language: system\n    types_or: [python, pyi]\n"
        "    require_serial: true\n"
    )
    git(repo, "add", ".pre-commit-config.yaml", *staged)
    return subprocess.run(
        [str(BIN / "pre-commit"), "run"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


@pytest.mark.slow
def test_precommit_with_only_the_view_staged(project: Path, tmp_path: Path) -> None:
    git(project, "add", "app/catalog/models.py", "app/__init__.py", "app/catalog/__init__.py")
    git(project, "commit", "-q", "-m", "models")
    done = run_precommit(project, tmp_path / "pre-commit-home", VIEW)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Failed" in output, output
    assert f"{VIEW}:5:13: PRD202" in output, output


def test_config_is_each_files_own_whatever_the_order(tmp_path: Path) -> None:
    """A sub-project's [tool.prodlint] governs its files in any run, as in ruff."""
    (tmp_path / "pyproject.toml").write_text('[tool.prodlint]\nselect = ["PRD501"]\n')
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "pyproject.toml").write_text('[tool.prodlint]\nselect = ["PRD502"]\n')
    code = (
        "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
        'def f(name):\n    logger.info(f"hi {name}")\n    print(name)\n'
    )
    (tmp_path / "a.py").write_text(code)
    (tmp_path / "legacy" / "b.py").write_text(code)
    forward = prodlint_json(tmp_path, "--no-cache", "a.py", "legacy/b.py")
    assert prodlint_json(tmp_path, "--no-cache", "legacy/b.py", "a.py") == forward
    assert [(path, rule) for path, _, _, rule, _ in forward] == [
        ("a.py", "PRD501"),
        ("legacy/b.py", "PRD502"),
    ]
    assert prodlint_json(tmp_path, "--no-cache", ".") == forward


# Path globs of [tool.prodlint] are relative to the project root (the pyproject holding
# them), whatever the working directory and the front end: per-file-ignores silences the
# legacy module, test-paths names the data checks, and the folder the project sits in
# (here ``test/``) is no part of any file's path.
GLOBS = """[tool.prodlint]
select = ["PRD501"]
test-paths = ["src/app/check_*.py"]

[tool.prodlint.per-file-ignores]
"src/app/legacy.py" = ["PRD501"]
"""
PRINTS = 'def charge(order):\n    print(f"charged {order}")\n'
GLOBBED = ("src/app/views.py", "src/app/legacy.py", "src/app/check_data.py")


@pytest.fixture
def globbed(tmp_path: Path) -> Path:
    root = tmp_path / "test" / "shop"
    (root / "src" / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(GLOBS)
    for name in GLOBBED:
        (root / name).write_text(PRINTS)
    return root


def flagged(rows: list[Row], cwd: Path) -> list[tuple[Path, int, str]]:
    """The findings by absolute path, whatever the paths were shown relative to."""
    return sorted(((cwd / path).resolve(), line, code) for path, line, _, code, _ in rows)


def flake8_rows(cwd: Path, *paths: str) -> list[Row]:
    done = subprocess.run(
        [
            str(BIN / "flake8"),
            "--select",
            "PRD",
            "--format=%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s",
            *paths,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    return [
        (path, int(line), int(col), code, text)
        for path, line, col, code, text in (row.split("\t") for row in done.stdout.splitlines())
    ]


def test_path_globs_are_relative_to_the_project_root_from_every_entry_point(
    globbed: Path,
) -> None:
    views = globbed / "src" / "app" / "views.py"
    expected = [(views, 2, "PRD501")]
    outside = globbed.parent.parent
    src = globbed / "src"
    assert flagged(prodlint_json(globbed, "--no-cache", "."), globbed) == expected
    assert flagged(prodlint_json(globbed, "--no-cache", *GLOBBED), globbed) == expected
    assert flagged(prodlint_json(globbed, *GLOBBED), globbed) == expected  # from the cache
    named = [name.removeprefix("src/") for name in GLOBBED]
    assert flagged(prodlint_json(src, "--no-cache", *named), src) == expected
    assert flagged(prodlint_json(src, *named), src) == expected  # the cache written above
    assert flagged(prodlint_json(src / "app", "--no-cache", "."), src / "app") == expected
    from_outside = [str(globbed.relative_to(outside) / name) for name in GLOBBED]
    assert flagged(prodlint_json(outside, "--no-cache", *from_outside), outside) == expected
    absolute = [str(globbed / name) for name in GLOBBED]
    assert flagged(prodlint_json(outside, "--no-cache", *absolute), outside) == expected
    for cwd in (globbed, src, outside):
        by_stdin = [
            row
            for name in absolute
            for row in prodlint_json(
                cwd, "--no-cache", "-", "--stdin-filename", os.path.relpath(name, cwd), stdin=PRINTS
            )
        ]
        assert flagged(by_stdin, cwd) == expected, cwd
    assert flagged(flake8_rows(globbed, *(f"./{name}" for name in GLOBBED)), globbed) == expected
    assert flagged(flake8_rows(globbed, "."), globbed) == expected
    assert flagged(flake8_rows(src, *named), src) == expected
    assert flagged(flake8_rows(outside, *absolute), outside) == expected
    # The codemod fixes what is reported: not the ignored module nor the data checks.
    done = subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "-x"]
        + ["prodlint.codemods.rules.PrintUsedAsLogging", "--unsafe-fixes", *named],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert [name for name in GLOBBED if (globbed / name).read_text() != PRINTS] == [GLOBBED[0]]


@pytest.mark.slow
def test_precommit_path_globs_in_a_subproject(globbed: Path, tmp_path: Path) -> None:
    """pre-commit runs at the top of the repository and passes paths from there; the
    project's globs are relative to the project, one folder below."""
    repo = globbed.parent
    git(repo, "init", "-q")
    done = run_precommit(repo, tmp_path / "pre-commit-home", *(f"shop/{n}" for n in GLOBBED))
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "shop/src/app/views.py:2:5: PRD501" in output, output
    assert "legacy.py" not in output and "check_data.py" not in output, output
