"""The fixture corpus drives the engine and the fixer: adding a case needs no test code."""

from __future__ import annotations

import ast

import pytest
from corpus import ROOT, Fixture, all_fixtures

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.model import FixSafety
from prodlint.registry import all_rules

FIXTURES = all_fixtures()
CHECKER = Checker(Config(), rules=list(all_rules().values()))


def ids(fixture: Fixture) -> str:
    return fixture.relative


@pytest.mark.parametrize("fixture", FIXTURES, ids=ids)
def test_findings_match_annotations(fixture: Fixture) -> None:
    text = fixture.path.read_text(encoding="utf-8")
    found = {(f.line, f.code) for f in CHECKER.check_text(text, fixture.relative)}
    missed = sorted(fixture.flagged - found)
    unexpected = sorted(found - fixture.flagged)
    assert not missed and not unexpected, f"missed {missed}, not annotated {unexpected}"
    # An ``ok`` line is a promise too, even when no other line in the file is flagged.
    assert not (fixture.clean & found)


@pytest.mark.parametrize("fixture", FIXTURES, ids=ids)
def test_fix_matches_fixed_file_and_is_stable(fixture: Fixture) -> None:
    text = fixture.path.read_text(encoding="utf-8")
    result = fix_text(text, fixture.relative, CHECKER, unsafe=True)
    if not fixture.fixed_path.exists():
        assert not result.changed, f"fixes apply here: add {fixture.fixed_path.name}"
        return
    expected = fixture.fixed_path.read_text(encoding="utf-8")
    assert result.text == expected
    ast.parse(result.text)
    again = fix_text(result.text, fixture.relative, CHECKER, unsafe=True)
    assert again.text == result.text and not again.changed
    assert not [f for f in result.remaining if f.fix is not FixSafety.NONE]


@pytest.mark.parametrize("fixture", FIXTURES, ids=ids)
def test_safe_fixes_leave_unsafe_findings(fixture: Fixture) -> None:
    text = fixture.path.read_text(encoding="utf-8")
    before = CHECKER.check_text(text, fixture.relative)
    result = fix_text(text, fixture.relative, CHECKER, unsafe=False)
    assert all(f.fix is FixSafety.SAFE for f in result.applied)
    unsafe_before = sum(f.fix is FixSafety.UNSAFE for f in before)
    unsafe_after = sum(f.fix is FixSafety.UNSAFE for f in result.remaining)
    assert unsafe_after == unsafe_before


@pytest.mark.parametrize("code", list(all_rules()))
def test_every_rule_has_flagged_and_clean_cases(code: str) -> None:
    assert any(code == c for f in FIXTURES for _, c in f.flagged), (
        f"no `# ruleid: {code}` in fixtures/"
    )
    assert any(code == c for f in FIXTURES for _, c in f.clean), f"no `# ok: {code}` in fixtures/"


@pytest.mark.parametrize("code", list(all_rules()))
def test_declared_fix_safety_matches_emitted_fixes(code: str) -> None:
    rule = all_rules()[code]
    emitted = {
        finding.fix
        for fixture in FIXTURES
        for finding in CHECKER.check_text(
            fixture.path.read_text(encoding="utf-8"), fixture.relative
        )
        if finding.code == code
    }
    if rule.fix_safety is FixSafety.NONE:
        assert emitted <= {FixSafety.NONE}
    else:
        assert rule.fix_safety in emitted, (
            f"{code} declares {rule.fix_safety.value} fixes; the corpus shows none"
        )
        if rule.fix_safety is FixSafety.UNSAFE:
            assert FixSafety.SAFE not in emitted


def test_corpus_exists() -> None:
    assert FIXTURES and (ROOT / "fixtures").is_dir()
