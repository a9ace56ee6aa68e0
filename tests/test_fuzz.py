"""Fuzzing (issue 13), the short run CI can afford: programs hypothesmith generates from
Python's grammar and from libcst's node types, and corpus files (the fixtures, and real
files of a pinned sdist) mutated by bench/fuzz.py's edits. ``check`` never raises (a file
that does not parse is one PRD000 finding), and ``fix --unsafe-fixes`` never fails on code
that compiles: whatever it changes compiles, and fixing again changes nothing.
``bench/fuzz.py`` runs the same properties for much longer.

The mutations keep most of a real file intact, so they reach the rules' deep paths
(half-edited functions, a loop body cut loose, a call that lost its arguments, a block
wrapped in a ``try``) that random programs almost never do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import hypothesmith
import pytest
from corpus import all_fixtures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pinned_sdists import sdist, sdists

# Only now is bench/ on the path (pinned_sdists puts it there).
assert sdists.__file__ is not None
import fuzz  # noqa: E402

T = TypeVar("T")
# PRODLINT_FUZZ_EXAMPLES scales every property for a long run (bench/fuzz.py sets it).
SCALE = max(int(os.environ.get("PRODLINT_FUZZ_EXAMPLES", "1")), 1)
FIXTURE_TEXTS = [fixture.path.read_text(encoding="utf-8") for fixture in all_fixtures()]
CHECKER = fuzz.every_rule()


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


class DrawChooser:
    """The mutations' choices drawn by hypothesis, so a failing program shrinks."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))


def check_and_fix(source: str, path: str = "app/module.py") -> None:
    """The fuzzed properties, for one program."""
    result = fuzz.outcome(source, path, CHECKER)
    assert not result.failed, f"{result.kind} on:\n{source}\n{result.detail}"


@st.composite
def mutated(draw: st.DrawFn, texts: Sequence[str]) -> str:
    return fuzz.mutate(draw(st.sampled_from(texts)), DrawChooser(draw))


@fuzz_settings(40)
@given(mutated(FIXTURE_TEXTS), st.sampled_from(fuzz.PATHS))
def test_mutated_corpus_files_check_and_fix_cleanly(source: str, path: str) -> None:
    check_and_fix(source, path)


@pytest.fixture(scope="module")
def requests_files() -> list[tuple[str, str]]:
    sdist("requests==2.32.3")
    return fuzz.corpus_files(["requests==2.32.3"])


@fuzz_settings(15)
@given(data=st.data())
def test_mutated_real_files_check_and_fix_cleanly(
    requests_files: list[tuple[str, str]], data: st.DataObject
) -> None:
    relative, text = data.draw(st.sampled_from(requests_files))
    source = data.draw(mutated([text]))
    check_and_fix(source, data.draw(st.sampled_from((relative, *fuzz.PATHS))))


@fuzz_settings(20)
@given(hypothesmith.from_grammar())
def test_grammar_generated_programs_check_and_fix_cleanly(source: str) -> None:
    check_and_fix(source)


@fuzz_settings(8)
@given(hypothesmith.from_node())
def test_libcst_generated_programs_check_and_fix_cleanly(source: str) -> None:
    check_and_fix(source)


def test_a_wrapped_block_and_an_inserted_call_stay_valid_python() -> None:
    # The edits that keep a file compiling are the ones reaching the fixes: a wrap must
    # indent the whole block under its header, an insertion keep the line's indentation.
    text = "def f(x):\n    if x:\n        return 1\n    return 2\n"

    class Fixed:
        def __init__(self, picks: list[object]) -> None:
            self.picks = picks

        def integer(self, low: int, high: int) -> int:
            value = self.picks.pop(0)
            assert isinstance(value, int) and low <= value <= high
            return value

        def choice(self, options: Sequence[T]) -> T:
            wanted = self.picks.pop(0)
            return next(option for option in options if option == wanted)

    wrapped = fuzz.mutate(
        text, Fixed([1, 1, "wrap", ("{}try:", "{}except Exception:\n{}    pass")])
    )
    assert wrapped == (
        "def f(x):\n    try:\n        if x:\n            return 1\n"
        "    except Exception:\n        pass\n    return 2\n"
    )
    inserted = fuzz.mutate(text, Fixed([1, 3, "insert", "print(x)"]))
    assert inserted == "def f(x):\n    if x:\n        return 1\n    print(x)\n    return 2\n"
    assert fuzz.compiles(wrapped) and fuzz.compiles(inserted)
