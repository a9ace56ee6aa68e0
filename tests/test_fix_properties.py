"""Property test: modules stitched together from the corpus's own statements, in any
order and combination, never crash the checker, and their fixes compile and settle."""

from __future__ import annotations

import ast

from corpus import all_fixtures
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.registry import all_rules


def top_level_statements() -> list[str]:
    pieces: list[str] = []
    for fixture in all_fixtures():
        text = fixture.path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in tree.body:
            segment = ast.get_source_segment(text, node, padded=True)
            if segment:
                pieces.append(segment)
    return pieces


def compiles(source: str) -> bool:
    try:
        compile(source, "app/module.py", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


PIECES = top_level_statements()
CHECKER = Checker(Config(), rules=list(all_rules().values()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6))
def test_stitched_modules_check_and_fix_cleanly(pieces: list[str]) -> None:
    source = "\n\n".join(pieces) + "\n"
    # ast.parse accepts a misplaced ``from __future__``; only compile() rejects it.
    assume(compiles(source))
    CHECKER.check_text(source, "app/module.py")
    fixed = fix_text(source, "app/module.py", CHECKER, unsafe=True)
    compile(fixed.text, "app/module.py", "exec")
    again = fix_text(fixed.text, "app/module.py", CHECKER, unsafe=True)
    assert again.text == fixed.text
