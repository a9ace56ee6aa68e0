"""PRD502's recall on pylint's own labelled functional tests (``tests/functional/l/logging/``
of the pinned pylint sdist, downloaded at test time): every line pylint expects a
``logging-not-lazy`` / ``logging-format-interpolation`` / ``logging-fstring-interpolation``
message on, except the ones prodlint deliberately leaves alone, listed here with why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pinned_sdists import sdist

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import all_rules

pytestmark = pytest.mark.slow

PYLINT = "pylint==3.3.1"
MESSAGES = ("logging-not-lazy", "logging-format-interpolation", "logging-fstring-interpolation")
CONSTANTS = "formats only constants: the same text on every call (PRD502 documents it)"
# (file, line) pylint labels that prodlint does not flag, on purpose.
NOT_FLAGGED = {
    ("logging_format_interpolation.py", 16): CONSTANTS,  # '{0}, {1}'.format(4, 5)
    ("logging_format_interpolation.py", 17): CONSTANTS,
    ("logging_format_interpolation.py", 18): CONSTANTS,  # FORMAT_STR.format(4, 5)
    ("logging_format_interpolation.py", 19): CONSTANTS,
    ("logging_format_interpolation.py", 20): CONSTANTS,
    ("logging_format_interpolation.py", 36): CONSTANTS,
    ("logging_format_interpolation.py", 37): CONSTANTS,
    ("logging_fstring_interpolation_py36.py", 17): CONSTANTS,  # f'{local_var_1} {local_var_2}'
    ("logging_fstring_interpolation_py36.py", 18): CONSTANTS,
    ("logging_fstring_interpolation_py36.py", 19): CONSTANTS,  # f'pi: {pi:.3f}'
    ("logging_fstring_interpolation_py37.py", 5): CONSTANTS,
    ("logging_fstring_interpolation_py37.py", 8): CONSTANTS,
    ("logging_not_lazy.py", 11): CONSTANTS,
    ("logging_not_lazy.py", 12): CONSTANTS,
    ("logging_not_lazy.py", 13): CONSTANTS,
    ("logging_not_lazy.py", 14): CONSTANTS,
    ("logging_not_lazy.py", 15): CONSTANTS,
    ("logging_not_lazy.py", 16): CONSTANTS,
    ("logging_not_lazy.py", 32): CONSTANTS,
    ("logging_not_lazy_with_logger.py", 8): CONSTANTS,
    ("logging_not_lazy_with_logger.py", 9): CONSTANTS,
    ("logging_not_lazy_with_logger.py", 11): CONSTANTS,
    ("logging_not_lazy_with_logger.py", 13): CONSTANTS,
    # `from my import logging as blogging`: a logging module only by that test's
    # `logging-modules` option.
    ("logging_not_lazy_module.py", 6): "a custom logging module configured in pylint's rc file",
}


def labelled(folder: Path) -> dict[tuple[str, int], str]:
    found: dict[tuple[str, int], str] = {}
    for expected in sorted(folder.glob("logging_*.txt")):
        for line in expected.read_text(encoding="utf-8").splitlines():
            message, _, rest = line.partition(":")
            if message in MESSAGES:
                found[(expected.with_suffix(".py").name, int(rest.split(":")[0]))] = message
    return found


def flagged(folder: Path) -> set[tuple[str, int]]:
    checker = Checker(Config(), rules=[all_rules()["PRD502"]])
    lines: set[tuple[str, int]] = set()
    for path in sorted(folder.glob("logging_*.py")):
        for finding in checker.check_text(path.read_text(encoding="utf-8"), path.name):
            # pylint points at the message, prodlint at the call: any line of the call.
            lines.update((path.name, line) for line in range(finding.line, finding.end_line + 1))
    return lines


# Literal operands in the labelled calls, and a value read at run time instead.
VARIED = re.compile(
    r"\((4|1), (5|2)\)|\(l=123456789\)|'Run!'|\"Run!\"|\"Exceptional!\"|\"junk\"|'info'"
)


def variable_copy(text: str) -> str:
    """The same file with its constants read at run time: what the labels mean on real
    code. ``FORMAT_STR`` stays a constant: it is the template."""
    text = re.sub(
        r"^(?!FORMAT_STR)(\w+) = (['\"].*['\"]|[0-9.]+|datetime\(.*\))$",
        r"\1 = input()",
        text,
        flags=re.M,
    )
    return VARIED.sub(
        lambda m: (
            "(input(), 5)"
            if m.group().startswith("(") and "l=" not in m.group()
            else "(l=input())"
            if "l=" in m.group()
            else "input()"
        ),
        text,
    )


def test_recall_on_pylint_functional_tests() -> None:
    folder = sdist(PYLINT) / "tests" / "functional" / "l" / "logging"
    labels = labelled(folder)
    assert len(labels) == 27, "the pinned sdist's labels changed"
    found = flagged(folder)
    hits = {key for key in labels if key in found}
    expected = set(labels) - set(NOT_FLAGGED)
    print(
        f"\nPRD502 on pylint {PYLINT}: {len(hits)}/{len(labels)} labelled lines flagged; "
        f"{len(NOT_FLAGGED)} left alone on purpose; misses: {sorted(expected - hits)}"
    )
    assert hits == expected
    # The lines pylint expects nothing on stay clean too (tests of what is fine).
    unlabelled = {key for key in found if key not in labels and (key[0], key[1] - 1) not in labels}
    assert not unlabelled, unlabelled


def test_constant_only_labels_are_found_once_the_values_vary(tmp_path: Path) -> None:
    """The constants decision is the only reason for those misses: with each module
    constant read at run time instead, every label but the custom module's is flagged."""
    folder = sdist(PYLINT) / "tests" / "functional" / "l" / "logging"
    varied = tmp_path / "logging"
    varied.mkdir()
    for path in folder.glob("logging_*"):
        text = path.read_text(encoding="utf-8")
        (varied / path.name).write_text(
            variable_copy(text) if path.suffix == ".py" else text, encoding="utf-8"
        )
    labels = labelled(varied)
    found = flagged(varied)
    missed = sorted(key for key in labels if key not in found)
    # Left: the custom module, and `var_name + var`, where no literal shows the operands
    # are text (two numbers add up the same way).
    assert missed == [("logging_not_lazy.py", 16), ("logging_not_lazy_module.py", 6)], missed
