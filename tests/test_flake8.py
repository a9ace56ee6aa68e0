"""The flake8 plugin, through the real flake8: same findings as ``prodlint check``."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import FIXTURES

BIN = Path(sys.executable).parent
Row = tuple[str, int, int, str, str]
# flake8 prints the message after the code as ``text``; the separator keeps fields apart.
FLAKE8_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"
PYPROJECT = """
[tool.prodlint]
per-file-ignores = {"fixtures/logging/swallowed_exception.py" = ["PRD503"]}

[tool.prodlint.rules.PRD501]
level = "debug"
"""


def flake8(cwd: Path, *args: str) -> list[Row]:
    done = subprocess.run(
        [str(BIN / "flake8"), "--select", "PRD", f"--format={FLAKE8_FORMAT}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = []
    for line in done.stdout.splitlines():
        path, row, col, code, text = line.split("\t")
        rows.append((path.removeprefix("./"), int(row), int(col), code, text))
    return sorted(rows)


def prodlint_check(cwd: Path, *args: str) -> list[Row]:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--format", "json", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return sorted(
        (f["path"], f["line"], f["col"], f["code"], f["message"])
        for f in json.loads(done.stdout)["findings"]
    )


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A copy of the corpus in a project with its own [tool.prodlint] (a rule option and a
    per-file ignore), so the plugin has to read pyproject.toml to agree with the CLI."""
    shutil.copytree(
        FIXTURES, tmp_path / "fixtures", ignore=shutil.ignore_patterns("*.fixed.py", "__pycache__")
    )
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    yield tmp_path


@pytest.mark.slow
def test_flake8_reports_what_prodlint_check_reports(project: Path) -> None:
    expected = prodlint_check(project, "fixtures")
    assert expected, "the corpus must produce findings"
    assert not any(
        row[0].endswith("swallowed_exception.py") and row[3] == "PRD503" for row in expected
    )
    assert any("`logger.debug`" in row[4] for row in expected), "the rule option was not applied"
    assert flake8(project, "fixtures") == expected


@pytest.mark.slow
def test_flake8_options_override_pyproject(project: Path) -> None:
    (project / "setup.cfg").write_text(
        '[flake8]\nprodlint-rule-options =\n    PRD501.level = "warning"\n', encoding="utf-8"
    )
    target = "fixtures/logging/print_existing_logger.py"
    rows = flake8(project, target)
    assert rows and all("`log.warning`" in row[4] for row in rows if row[3] == "PRD501")
    cli = flake8(project, target, "--prodlint-rule-options", 'PRD501.level = "critical"')
    assert cli and all("`log.critical`" in row[4] for row in cli if row[3] == "PRD501")


def flake8_raw(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flake8"), f"--format={FLAKE8_FORMAT}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


CONFIG_PROBLEMS = [
    (
        "setup.cfg",
        "[flake8]\nprodlint-rule-options =\n    PRD501.nope = 1\n",
        "unknown option 'nope'",
    ),
    (".flake8", "[flake8]\nprodlint-config = pyproject.toml\n", "pyproject.toml"),
    ("pyproject.toml", '[tool.prodlint.rules.PRD501]\nlevel = "verbose"\n', "level"),
    ("pyproject.toml", "[tool.prodlint]\nselekt = []\n", "selekt"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "text", "named"),
    CONFIG_PROBLEMS,
    ids=["bad-rule-option", "missing-prodlint-config", "bad-choice", "unknown-key"],
)
def test_config_problem_is_one_flake8_error_and_other_plugins_keep_working(
    tmp_path: Path, name: str, text: str, named: str
) -> None:
    """A prodlint config problem must not crash flake8: pyflakes' results survive, and the
    problem is reported once (one process: ``--jobs 1``) as PRD000 at 1:1."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    for stem in ("a", "b", "c"):
        (tmp_path / f"{stem}.py").write_text(
            "import os\n\n\ndef f(x):\n    print(x)\n", encoding="utf-8"
        )
    done = flake8_raw(tmp_path, "--select", "PRD,F", "--jobs", "1", ".")
    assert "Traceback" not in done.stderr, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert done.returncode == 1, done.stdout + done.stderr
    assert sorted(path for path, _, _, code, _ in rows if code == "F401") == [
        "./a.py",
        "./b.py",
        "./c.py",
    ]
    problems = [(row, col, text) for _, row, col, code, text in rows if code == "PRD000"]
    assert len(problems) == 1, rows
    assert (
        problems[0][:2] == ("1", "1")
        and named in problems[0][2]
        and "configuration error" in problems[0][2]
    )
    # In parallel (flake8's default for several files) other plugins' results survive too.
    parallel = flake8_raw(tmp_path, "--select", "PRD,F", ".")
    assert "Traceback" not in parallel.stderr and parallel.stdout.count("F401") == 3, (
        parallel.stderr
    )


@pytest.mark.slow
def test_flake8_noqa(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(
        "def f(x):\n    print(x)  # noqa: PRD501\n    print(x)  # noqa: E501\n    print(x)\n",
        encoding="utf-8",
    )
    assert [row[1] for row in flake8(tmp_path, "app.py")] == [3, 4]
    assert [row[1] for row in flake8(tmp_path, "--disable-noqa", "app.py")][-1] == 4


def test_plugin_reuses_flake8_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """flake8 parses each file once; the plugin must not parse it again."""
    from flake8.api import legacy
    from flake8.main.options import JobsArgument

    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    target = tmp_path / "app.py"
    target.write_text("def f(x):\n    print(x)\n", encoding="utf-8")
    parses: list[str] = []
    real_parse = ast.parse

    def counting_parse(source: str | bytes, *args: object, **kwargs: object) -> ast.AST:
        parses.append(repr(source)[:40])
        return real_parse(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ast, "parse", counting_parse)
    guide = legacy.get_style_guide(select=["PRD"], jobs=JobsArgument("1"))
    report = guide.check_files([str(target)])
    assert report.get_statistics("PRD501")
    assert len(parses) == 1, parses


@pytest.mark.slow
def test_migration_paths_option_matches_the_cli_setting(tmp_path: Path) -> None:
    """``prodlint-migration-paths`` is ``[tool.prodlint] migration-paths`` for flake8."""
    (tmp_path / "dbchanges").mkdir()
    (tmp_path / "dbchanges" / "0002_fill.py").write_text(
        "def forwards(apps, schema_editor):\n    print('filled')\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    assert [row[3] for row in flake8(tmp_path, "dbchanges")] == ["PRD501"]
    assert flake8(tmp_path, "--prodlint-migration-paths", "dbchanges/*.py", "dbchanges") == []
    (tmp_path / "pyproject.toml").write_text(
        '[tool.prodlint]\nmigration-paths = ["dbchanges/*.py"]\n'
    )
    assert prodlint_check(tmp_path, "dbchanges") == []
