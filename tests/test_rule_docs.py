"""Every rule documents itself the way ruff's pages do, and its examples are true."""

from __future__ import annotations

import pytest

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.registry import CODE_PATTERN, REDIRECTS, all_rules

RULES = list(all_rules().values())


def normal(code: str) -> str:
    return code.strip("\n") + "\n"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_declaration_is_complete(rule: type) -> None:
    assert CODE_PATTERN.match(rule.code)
    assert rule.code not in REDIRECTS
    assert rule.name[0].isupper() and " " not in rule.name
    assert len(rule.summary) <= 90 and not rule.summary.endswith("."), (
        f"{rule.code}: summary is one short phrase"
    )
    for attribute in (
        "summary",
        "message",
        "what_it_does",
        "why_bad",
        "example",
        "use_instead",
        "fix_safety_note",
    ):
        assert str(getattr(rule, attribute)).strip(), f"{rule.code} lacks {attribute}"
    assert rule.hooks, f"{rule.code} has no check_<NodeClass> method"
    docs = rule.docs()
    for heading in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "Use instead:",
        "## Fix safety",
    ):
        assert heading in docs
    if rule.fix_safety.value != "none":
        assert rule.fix_node_types and rule.fixed_example is not None


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_examples_are_true(rule: type) -> None:
    checker = Checker(Config(), rules=[rule])
    flagged = checker.check_text(normal(rule.example), "example.py")
    assert [f.code for f in flagged].count(rule.code) >= 1, f"{rule.code}: example is not flagged"
    assert not checker.check_text(normal(rule.use_instead), "example.py"), (
        f"{rule.code}: use_instead is flagged"
    )
    if rule.fixed_example is not None:
        fixed = fix_text(normal(rule.example), "example.py", checker, unsafe=True)
        assert fixed.text == normal(rule.fixed_example)
