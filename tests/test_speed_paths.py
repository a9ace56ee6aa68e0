"""What the speed budget relies on (issue 13) keeps the findings: a models file is parsed
once per check (its facts and its findings come from one tree), and a warm run answers
from the cache without importing the engine, any rule or the fact providers."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from prodlint import runner
from prodlint.config import Configs
from prodlint.facts import may_contribute

MODELS = """
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""
VIEWS = """
from shop.models import Book


def titles():
    return [f"{book.title} by {book.author.name}" for book in Book.objects.all()]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n")
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (package / "views.py").write_text(VIEWS)
    return tmp_path


def _check(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int]:
    parsed: list[str] = []
    parse = ast.parse

    def counting(source: str | bytes, filename: str = "<unknown>", *args: object) -> ast.Module:
        parsed.append(str(filename))
        return parse(source, filename, *args)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(ast, "parse", counting)
    result = runner.check_paths([folder], Configs(None), use_cache=False, jobs=1)
    monkeypatch.setattr(ast, "parse", parse)
    files = [name for name in parsed if name.endswith(".py")]
    return [f"{f.path}:{f.line}:{f.code}" for f in result.findings], len(files)


def test_a_models_file_is_parsed_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative paths: pytest's folder (test_a_...) would make every file a test file.
    monkeypatch.chdir(project)
    findings, parses = _check(Path("shop"), monkeypatch)
    assert any(":PRD202" in finding for finding in findings)  # the facts were read
    assert parses == 3  # __init__, models, views: once each
    monkeypatch.setattr(runner, "KEPT_TREES_BUDGET", 0)
    again, parses_without = _check(Path("shop"), monkeypatch)
    assert again == findings
    # Each file holding facts (models.py, and views.py for what its functions return) a
    # second time: once for its facts, once for its findings.
    holding = [
        path
        for path in ("shop/models.py", "shop/views.py")
        if may_contribute(Path(path).read_bytes())
    ]
    assert holding and parses_without == 3 + len(holding)


def test_a_warm_run_imports_no_rules(project: Path) -> None:
    script = (
        "import json, sys\n"
        "from prodlint.cli import main\n"
        "code = main(['check', '--output-format', 'json', 'shop'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('prodlint'))))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], cwd=project, capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    cold, warm = (set(json.loads(run.strip().splitlines()[-1])) for run in runs)
    assert "prodlint.engine" in cold and any(m.startswith("prodlint.rules.") for m in cold)
    loaded = {m for m in warm if m.startswith(("prodlint.rules", "prodlint.analysis"))}
    assert loaded == set()
    assert {"prodlint.engine", "prodlint.facts"}.isdisjoint(warm)
    # Same findings from the cache.
    assert runs[0].splitlines()[:-1] == runs[1].splitlines()[:-1]
