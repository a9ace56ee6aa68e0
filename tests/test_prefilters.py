"""The rules' pre-filters (``Rule.requires_text``, ``Rule.applies_to``) only skip work: the
findings with them are the findings without them, on the fixture corpus and on real code
(bench/prefilters.py runs the same comparison on Django and any folder)."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path
from typing import ClassVar

import pytest
from corpus import FIXTURES
from pinned_sdists import sdist, sdists

from prodlint.analysis.context import Context
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import Rule, all_rules

# Only now is bench/ on the path (pinned_sdists puts it there).
assert Path(sdists.__file__).parent.name == "bench"
import prefilters  # noqa: E402

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def assert_same(folder: Path) -> None:
    result = prefilters.compare(folder)
    assert result.files > 0
    assert result.differences == []


def test_fixture_corpus_same_with_and_without_prefilters() -> None:
    assert_same(FIXTURES)


@pytest.mark.parametrize("requirement", ["requests==2.32.3", "flask==3.0.3"])
def test_real_projects_same_with_and_without_prefilters(requirement: str) -> None:
    top = sdist(requirement)
    name = requirement.split("==")[0]
    assert_same(top / "src" / name)


@pytest.mark.parametrize("package", ["sqlite3", "logging", "http"])
def test_stdlib_same_with_and_without_prefilters(package: str) -> None:
    assert_same(STDLIB / package)


def _active_codes(checker: Checker, text: str, path: str = "app/views.py") -> set[str]:
    ctx = Context(path, text, ast.parse(text), checker.settings)
    return {rule.code for rule, on in zip(checker.rules, checker._active(ctx), strict=True) if on}


def test_a_file_without_the_text_skips_the_rule() -> None:
    checker = Checker(Config().override(select=("ALL",)))
    plain = _active_codes(checker, "def total(prices):\n    return sum(prices)\n")
    typed = _active_codes(checker, "from typing import Any\n\ndef f(x: Any) -> None: ...\n")
    assert "PRD601" not in plain and "PRD601" in typed
    # Rules that declare no filter run everywhere.
    unfiltered = {
        code
        for code, rule in all_rules().items()
        if not rule.requires_text and rule.applies_to is Rule.applies_to
    }
    assert unfiltered & {r.code for r in checker.rules} <= plain


class Recording(Rule):
    """Records the names it is shown, in files that mention ``execute``."""

    code = "PRD999"
    requires_text = ("execute",)
    seen: ClassVar[list[str]] = []

    def check_Name(self, node: ast.Name, ctx: Context) -> None:
        self.seen.append(node.id)


def test_no_rule_left_means_no_walk() -> None:
    """A file no rule's filter lets through is not walked."""
    Recording.seen.clear()
    checker = Checker(Config(), rules=[Recording])
    assert checker.check_text("x = y\n", "a.py") == []
    assert Recording.seen == []
    assert checker.check_text("x = y  # execute\n", "a.py") == []
    assert Recording.seen == ["x", "y"]


def test_identifiers_folded_to_ascii_pass_the_text_filter() -> None:
    """``\uff45xecute`` is the name ``execute`` to Python (NFKC): the filter must see it."""
    Recording.seen.clear()
    checker = Checker(Config(), rules=[Recording])
    checker.check_text("\uff45xecute = 1\n", "a.py")
    assert Recording.seen == ["execute"]
