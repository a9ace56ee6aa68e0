"""PRD501 on programs that really run: output stays output, and a fix never breaks the
module (issue 8's repros: a key generator that lost its output, a logger bound later in
the file, a handler that printed from ``emit``)."""

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

CHECKER = Checker(Config(), rules=[all_rules()["PRD501"]])


def run(
    source: str, tmp_path: Path, name: str = "program.py", *args: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


# Programs whose prints are what they are for: each prints the same after `fix --unsafe-fixes`.
PROGRAMS = {
    "shebang": """\
        #!/usr/bin/env python3
        from cryptography_stub import generate


        def main_key():
            print(generate())


        main_key()
        """,
    "argv": """\
        import sys


        def greet(name):
            print("hello", name)


        greet(sys.argv[1] if len(sys.argv) > 1 else "world")
        """,
    "input": """\
        def ask():
            print("answer:", answer)


        answer = input() if False else 42
        ask()
        """,
    "argparse at module level": """\
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("--n", type=int, default=3)


        def count(n):
            for i in range(n):
                print("line", i)


        count(parser.parse_args().n)
        """,
    "exit message": """\
        import sys


        def check(value):
            if value < 0:
                print("negative value:", value)
                sys.exit(0)
            return value


        check(-1)
        """,
    "env-gated trace": """\
        import os

        os.environ["APP_TRACE"] = "1"
        if os.environ.get("APP_TRACE"):
            def trace(step):
                print("-- step", step)
        else:
            def trace(step):
                pass
        trace(1)
        """,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_output_is_not_flagged_and_survives_fix(name: str, tmp_path: Path) -> None:
    source = textwrap.dedent(PROGRAMS[name])
    (tmp_path / "cryptography_stub.py").write_text(
        "def generate():\n    return 'k3y=='\n", encoding="utf-8"
    )
    before = run(source, tmp_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip(), "the program prints something"
    assert not CHECKER.check_text(source, "tool.py")
    fixed = fix_text(source, "tool.py", CHECKER, unsafe=True)
    after = run(fixed.text, tmp_path)
    assert (after.returncode, after.stdout) == (before.returncode, before.stdout)


def test_library_print_is_flagged_and_only_unsafe() -> None:
    source = "def charge(order):\n    print('charging', order)\n"
    findings = CHECKER.check_text(source, "shop/billing.py")
    assert [(f.code, f.fix) for f in findings] == [("PRD501", FixSafety.UNSAFE)]
    # `prodlint fix` without --unsafe-fixes leaves the output where it was.
    assert fix_text(source, "shop/billing.py", CHECKER, unsafe=False).text == source


def test_fix_never_uses_a_logger_bound_later(tmp_path: Path) -> None:
    """Module-level code calls the function before ``log`` exists: using ``log`` in the fix
    raised NameError on import."""
    source = textwrap.dedent("""\
        import logging


        def setup():
            print("setting up")


        setup()
        log = logging.getLogger(__name__)


        def later():
            print("later")


        later()
        """)
    assert run(source, tmp_path).returncode == 0
    fixed = fix_text(source, "app/boot.py", CHECKER, unsafe=True)
    after = run(fixed.text, tmp_path)
    assert after.returncode == 0, after.stderr
    # The print after the logger's binding may use it; the one before may not.
    assert 'log.info("later")' in fixed.text and 'print("setting up")' in fixed.text


def test_fix_never_uses_a_logger_bound_on_some_paths(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        import logging

        try:
            import not_installed_anywhere
        except ImportError:
            log = logging.getLogger("fallback")


        def work():
            print("working")


        work()
        """)
    fixed = fix_text(source, "app/work.py", CHECKER, unsafe=True)
    assert "log.info" not in fixed.text
    after = run(fixed.text, tmp_path)
    assert after.returncode == 0, after.stderr


def test_handler_print_is_not_flagged_and_logging_does_not_recurse(tmp_path: Path) -> None:
    """A handler that prints when it cannot deliver: turning that print into a log call
    re-enters the handler."""
    source = textwrap.dedent("""\
        import logging
        import sys


        class Flaky(logging.Handler):
            def emit(self, record):
                try:
                    raise OSError("smtp down")
                except OSError as error:
                    print("cannot deliver:", error, file=sys.stderr)


        log = logging.getLogger("app")
        log.addHandler(Flaky())
        log.error("boom")
        """)
    assert not CHECKER.check_text(source, "app/handlers.py")
    fixed = fix_text(source, "app/handlers.py", CHECKER, unsafe=True)
    after = run(fixed.text, tmp_path)
    assert after.returncode == 0 and "cannot deliver: smtp down" in after.stderr


def test_logger_class_prints_are_its_output() -> None:
    source = textwrap.dedent("""\
        class Log:
            def info(self, message):
                self._write("INFO", message)

            def _write(self, level, message):
                print(level, message)
        """)
    assert not CHECKER.check_text(source, "tool/log.py")


def test_fixed_module_logs_the_same_text(tmp_path: Path) -> None:
    """The unsafe fix keeps the message: with logging configured, the record's text is
    what the print wrote."""
    source = textwrap.dedent("""\
        import io
        import logging
        import sys


        def charge(order, amount):
            print("charging", order, "for", amount, sep=" ")
            print(f"charged {amount!r} at {0.5:.2f}")
            print("total: %d items" % len(order))


        stream = io.StringIO()
        logging.basicConfig(stream=stream, level=logging.INFO, format="%(message)s")
        charge("ab", 3)
        sys.stdout.write(stream.getvalue())
        """)
    before = run(source, tmp_path)
    fixed = fix_text(source, "shop/charge.py", CHECKER, unsafe=True)
    assert fixed.text.count("logger.info(") == 3
    after = run(fixed.text, tmp_path)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
