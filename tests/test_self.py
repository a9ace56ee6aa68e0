"""prodlint holds its own source to its rules."""

from __future__ import annotations

import os

import pytest
from corpus import ROOT

from prodlint.cli import main
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import all_rules


def test_prodlint_is_clean_on_its_own_source(capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(ROOT)
    code = main(["check", "--no-cache", "src"])
    assert code == 0, capsys.readouterr().out


def test_no_any_in_annotations() -> None:
    """The annotations family (PRD6xx) on prodlint's own source: no ``Any`` anywhere, bare,
    nested, quoted or cast to. The rules run with every option at its strictest, so
    ``*args: Any`` and test-file leniency do not hide one."""
    strict = {"allow-star-args": False, "check-stubs": True, "check-tests": True}
    config = Config(rule_options={code: strict for code in all_rules() if code.startswith("PRD6")})
    checker = Checker(
        config, rules=[rule for code, rule in all_rules().items() if code.startswith("PRD6")]
    )
    offenders = []
    checked = 0
    for path in sorted((ROOT / "src").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        offenders += [
            f"{relative}:{f.line} {f.code}"
            for f in checker.check_text(path.read_text(encoding="utf-8"), relative)
        ]
        checked += 1
    assert checked > 20 and not offenders
