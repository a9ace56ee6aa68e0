"""PRD502's fixes run for real: with stdlib logging (or loguru) writing to a StringIO, the
fixed program renders exactly the messages the original did. Values are picked where
``%s`` and f-strings part ways: str-mixin enums, Decimal with specs, tuples, dicts, and
objects whose ``__format__`` takes no spec (``!s`` + spec raised TypeError)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.model import FixSafety
from prodlint.registry import all_rules

CHECKER = Checker(Config(), rules=[all_rules()["PRD502"]])

VALUES = """\
import decimal
import enum


class Color(str, enum.Enum):
    RED = "red"


class Plain:
    def __str__(self):
        return "plain"

    def __repr__(self):
        return "Plain()"


VALUES = [Color.RED, decimal.Decimal("1234.5"), (1, 2), {"a": 1}, None, Plain(), "50%", 7]
"""

STDLIB_PROGRAM = """\
import io
import logging as L

from values import VALUES, Color

stream = io.StringIO()
L.basicConfig(stream=stream, level=L.DEBUG, format="%(levelname)s %(message)s")
log = L.getLogger("app")
debug = log.debug


class Service:
    def __init__(self):
        self.logger = L.getLogger("service")

    def run(self, value):
        self.logger.info(f"repr {value!r} str {value!s} ascii {value!a}")
        self.logger.info(f"padded {value!s:>12}|{value!r:<20}|")
        self.logger.warning("pair %s and %r" % (value, value))
        self.logger.info("fmt {!r} then {}".format(value, len(str(value))))
        self.logger.info(
            f"first {value!r} "  # a comment between the lines
            f"second {str(value)}"
        )
        self.logger.info(
            "a message long enough to be written "
            "over two lines: " + str(value)
        )
        self.logger.info(
            ("{!r} written over "
             "two lines as well, 100%").format(value)
        )


for value in VALUES:
    Service().run(value)
    L.log(L.INFO, "level %s, 100%% sure" % (value,))
    L.warn("warned %r" % (value,))
    debug("%s" % (value,))
    log.info(f"{value!s}")
    log.info("len " + str(len(str(value))))
print(stream.getvalue(), end="")
"""


def run(files: dict[str, str], tmp_path: Path) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "main.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Logging error" not in result.stderr, result.stderr
    return result.stdout


def test_safe_fixes_render_the_same_messages(tmp_path: Path) -> None:
    findings = CHECKER.check_text(STDLIB_PROGRAM, "app/main.py")
    assert len(findings) == 12 and all(f.fix is FixSafety.SAFE for f in findings), findings
    fixed = fix_text(STDLIB_PROGRAM, "app/main.py", CHECKER, unsafe=False)
    assert not fixed.remaining, fixed.remaining
    assert "# a comment between the lines" in fixed.text
    assert 'format(str(value), ">12")' in fixed.text and "debug(value)" in fixed.text
    before = run({"values.py": VALUES, "main.py": STDLIB_PROGRAM}, tmp_path)
    after = run({"values.py": VALUES, "main.py": fixed.text}, tmp_path)
    assert after == before
    assert before.count("\n") == 8 * 12
    # Multi-line messages stay multi-line; the values get a line each, as ruff lays out a
    # call it splits; `+ str(value)` passes the value (`%s` calls str() itself).
    assert (
        '"a message long enough to be written "\n            "over two lines: %s",\n'
        "            value,\n        )"
    ) in fixed.text


def test_plain_fields_are_unsafe_because_they_can_render_differently(tmp_path: Path) -> None:
    """``f"{v}"`` is ``format(v, "")``; ``%s`` is ``str(v)``: for a str-mixin enum (before
    3.12) or a class with its own ``__format__`` the text changes."""
    program = textwrap.dedent("""\
        import io
        import logging

        from values import VALUES


        class Money:
            def __format__(self, spec):
                return "EUR 5.00"

            def __str__(self):
                return "Money(500)"


        stream = io.StringIO()
        logging.basicConfig(stream=stream, level=logging.INFO, format="%(message)s")
        log = logging.getLogger("app")
        for value in [*VALUES, Money()]:
            log.info(f"value {value}")
            log.info("joined " + str(value) + " / " + value.__class__.__name__)
        print(stream.getvalue(), end="")
        """)
    findings = CHECKER.check_text(program, "app/main.py")
    assert [f.fix for f in findings] == [FixSafety.UNSAFE, FixSafety.UNSAFE]
    assert not fix_text(program, "app/main.py", CHECKER, unsafe=False).changed
    fixed = fix_text(program, "app/main.py", CHECKER, unsafe=True)
    before = run({"values.py": VALUES, "main.py": program}, tmp_path)
    after = run({"values.py": VALUES, "main.py": fixed.text}, tmp_path)
    assert "value EUR 5.00" in before and "value Money(500)" in after


def test_loguru_fix_uses_braces_and_renders_the_same(tmp_path: Path) -> None:
    pytest.importorskip("loguru")
    program = textwrap.dedent("""\
        import io

        from loguru import logger

        from values import VALUES

        stream = io.StringIO()
        logger.remove()
        logger.add(stream, format="{level} {message}", level="DEBUG")
        for value in VALUES:
            logger.info(f"processing {value!r} at {len(str(value)):>4} ({value!s}, {{raw}})")
            logger.debug("item {} of {!r}".format(value, value))
        print(stream.getvalue(), end="")
        """)
    findings = CHECKER.check_text(program, "app/main.py")
    assert [f.fix for f in findings] == [FixSafety.SAFE, FixSafety.SAFE]
    fixed = fix_text(program, "app/main.py", CHECKER, unsafe=False)
    assert '"processing {!r} at {:>4} ({!s}, {{raw}})", value, len(str(value)), value' in fixed.text
    before = run({"values.py": VALUES, "main.py": program}, tmp_path)
    after = run({"values.py": VALUES, "main.py": fixed.text}, tmp_path)
    assert after == before and before.count("\n") == 16


def test_loguru_printf_template_gets_no_fix() -> None:
    """The old fix wrote ``logger.info("processing %s", x)``: loguru printed it literally."""
    program = "from loguru import logger\n\n\ndef f(x):\n    logger.info('processing %s' % (x,))\n"
    assert [f.fix for f in CHECKER.check_text(program, "app/main.py")] == [FixSafety.NONE]


def test_comment_after_the_message_is_kept() -> None:
    program = textwrap.dedent("""\
        import logging

        log = logging.getLogger(__name__)


        def f(x):
            log.info(
                f"value {x!r}"  # keep
            )
            log.info(
                f"value {x!r}"  # noqa: E501
            )
        """)
    fixed = fix_text(program, "app/main.py", CHECKER, unsafe=False)
    assert fixed.text.count('"value %r", x') == 2
    assert "# keep" in fixed.text and "# noqa: E501" in fixed.text
