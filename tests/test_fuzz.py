"""Fuzzing (issue 13), the short run CI can afford: programs hypothesmith generates from
Python's grammar and from libcst's node types, and corpus files mutated line by line.
``check`` never raises (a file that does not parse is one PRD000 finding), and ``fix
--unsafe-fixes`` never fails: whatever it changes compiles, and fixing again changes
nothing. ``bench/fuzz.py`` runs the same properties for much longer.

The mutations keep most of a real fixture intact, so they reach the rules' deep paths
(half-edited functions, a loop body cut loose, a call that lost its arguments) that random
programs almost never do.
"""

from __future__ import annotations

import ast
import os
import warnings

import hypothesmith
from corpus import all_fixtures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fix_properties import CHECKER

from prodlint.fixer import FixFailed, fix_text
from prodlint.model import UNCHECKABLE_CODE

# PRODLINT_FUZZ_EXAMPLES scales every property for a long run (bench/fuzz.py sets it).
SCALE = max(int(os.environ.get("PRODLINT_FUZZ_EXAMPLES", "1")), 1)
FIXTURE_TEXTS = [fixture.path.read_text(encoding="utf-8") for fixture in all_fixtures()]
# Where a mutated file lives decides which rules apply (app code, tests, migrations).
PATHS = (
    "app/module.py",
    "app/tests/test_module.py",
    "app/migrations/0002_auto.py",
    "scripts/tool.py",
)


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


def parses(source: str, *, compiles: bool = False) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if compiles:  # also the checks after parsing: await or return outside a function...
                compile(source, "fuzzed.py", "exec", dont_inherit=True)
            else:
                ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def check_and_fix(source: str, path: str = "app/module.py") -> None:
    """The fuzzed properties, for one program."""
    findings = CHECKER.check_text(source, path)
    if not parses(source):
        assert [f.code for f in findings] == [UNCHECKABLE_CODE], findings
    try:
        fixed = fix_text(source, path, CHECKER, unsafe=True)
    except FixFailed as error:  # a fix that raised, broke the code or never settled
        if not parses(source, compiles=True):
            return  # code that never compiled: the fixer refuses to touch it, as it should
        raise AssertionError(f"fix failed on:\n{source}\n{error}") from None
    if fixed.text != source:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(fixed.text, path, "exec", dont_inherit=True)
        again = fix_text(fixed.text, path, CHECKER, unsafe=True)
        assert again.text == fixed.text, f"fixes did not settle on:\n{source}"


@st.composite
def mutated_fixture(draw: st.DrawFn) -> str:
    """A corpus file with a few line edits: deleted, duplicated, swapped, re-indented,
    truncated, or with a token spliced in."""
    lines = draw(st.sampled_from(FIXTURE_TEXTS)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(
                ("delete", "duplicate", "swap", "dedent", "indent", "truncate", "splice")
            )
        )
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "dedent":
            lines[at] = lines[at].lstrip()
        elif kind == "indent":
            lines[at] = "    " + lines[at]
        elif kind == "truncate":
            lines[at] = lines[at][: draw(st.integers(0, max(len(lines[at]) - 1, 0)))]
        else:
            token = draw(
                st.sampled_from(
                    (
                        "None",
                        "await x",
                        "*args",
                        "lambda: 0",
                        "f'{x}'",
                        "%s",
                        "[]",
                        "yield",
                        "global x",
                        "del self",
                        "return",
                        "async ",
                    )
                )
            )
            column = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:column] + token + lines[at][column:]
    return "\n".join(lines)


@fuzz_settings(40)
@given(mutated_fixture(), st.sampled_from(PATHS))
def test_mutated_corpus_files_check_and_fix_cleanly(source: str, path: str) -> None:
    check_and_fix(source, path)


@fuzz_settings(20)
@given(hypothesmith.from_grammar())
def test_grammar_generated_programs_check_and_fix_cleanly(source: str) -> None:
    check_and_fix(source)


@fuzz_settings(8)
@given(hypothesmith.from_node())
def test_libcst_generated_programs_check_and_fix_cleanly(source: str) -> None:
    check_and_fix(source)
