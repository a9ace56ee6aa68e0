"""Per-rule snapshots: every finding's message and exact range, and what the rule's fix alone
makes of each fixture, in ``tests/snapshots/<CODE>.txt``.

The corpus test checks which lines are flagged; these catch the rest of a regression: a
reworded message, a range that moved by a column, a fix that now writes something else.
A deliberate change is recorded by regenerating the snapshots, never silently:

    PRODLINT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_snapshots.py

then reviewing ``git diff tests/snapshots``.
"""

from __future__ import annotations

import difflib
import functools
import os

import pytest
from corpus import ROOT, Fixture, all_fixtures

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import FixFailed, fix_text
from prodlint.model import Finding
from prodlint.registry import all_rules

SNAPSHOTS = ROOT / "tests" / "snapshots"
UPDATE = os.environ.get("PRODLINT_UPDATE_SNAPSHOTS") == "1"
FIXTURES = all_fixtures()
CHECKER = Checker(Config(), rules=list(all_rules().values()))


@functools.cache
def findings_of(relative: str) -> tuple[Finding, ...]:
    """Every rule's findings on one fixture, as the corpus test makes them (the unused-noqa
    rule needs the others' findings)."""
    return tuple(CHECKER.check_text((ROOT / relative).read_text(encoding="utf-8"), relative))


def fix_diff(code: str, fixture: Fixture) -> list[str]:
    """The rule's fixes alone (``--unsafe-fixes``) on one fixture, as a unified diff."""
    text = fixture.path.read_text(encoding="utf-8")
    checker = Checker(Config(), rules=[all_rules()[code]])
    try:
        fixed = fix_text(text, fixture.relative, checker, unsafe=True).text
    except FixFailed as error:
        return [f"fix failed: {error}"]
    return list(
        difflib.unified_diff(
            text.splitlines(),
            fixed.splitlines(),
            f"a/{fixture.relative}",
            f"b/{fixture.relative}",
            lineterm="",
        )
    )


def snapshot(code: str) -> str:
    rule = all_rules()[code]
    out = [
        f"# {code} {rule.name}: findings (line:col-end_line:end_col, fix safety, message) and",
        "# the rule's own fix on each fixture it flags. Regenerate with",
        "# PRODLINT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_snapshots.py",
    ]
    for fixture in FIXTURES:
        found = [f for f in findings_of(fixture.relative) if f.code == code]
        if not found:
            continue
        out += ["", f"## {fixture.relative}"]
        out += [
            f"{f.line}:{f.col}-{f.end_line}:{f.end_col} {f.fix.value} {f.message}" for f in found
        ]
        if any(f.fixable for f in found):
            out += ["### fix", *fix_diff(code, fixture)]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("code", list(all_rules()))
def test_rule_matches_its_snapshot(code: str) -> None:
    path = SNAPSHOTS / f"{code}.txt"
    actual = snapshot(code)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != actual:
            path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), (
        f"no snapshot for {code}: run PRODLINT_UPDATE_SNAPSHOTS=1 on this test and review it"
    )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        changes = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), actual.splitlines(), "snapshot", "now", lineterm=""
            )
        )
        pytest.fail(
            f"{code} differs from tests/snapshots/{code}.txt (if intended, regenerate with "
            f"PRODLINT_UPDATE_SNAPSHOTS=1 and review the diff):\n{changes}"
        )


def test_no_snapshot_outlives_its_rule() -> None:
    stale = sorted(p.name for p in SNAPSHOTS.glob("*.txt") if p.stem not in all_rules())
    assert not stale, f"snapshots of rules that no longer exist: {stale}"


def test_snapshots_are_plain_files_in_the_repo() -> None:
    # Paths in snapshots are repo-relative, so they read the same on every checkout.
    for path in SNAPSHOTS.glob("*.txt"):
        assert str(ROOT) not in path.read_text(encoding="utf-8"), path.name
