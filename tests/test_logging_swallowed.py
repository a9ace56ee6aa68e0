"""PRD503's fix run for real: the swallowed error is kept at DEBUG with its traceback and
nothing visible changes under the default configuration, nor for an ERROR handler such as
Django's AdminEmailHandler (issue 8: logger.exception mailed the admins per bad request)."""

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

CHECKER = Checker(Config(), rules=[all_rules()["PRD503"]])

APP = textwrap.dedent("""\
    def parse_header(value):
        try:
            return int(value)
        except Exception:
            pass


    def sync(value):
        try:
            parse_header(value) + "x"
        except Exception:
            pass
    """)


def run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "main.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )


def fixed_app() -> str:
    findings = CHECKER.check_text(APP, "app/headers.py")
    # The parse-or-default helper is a probe, not a swallowed bug; `sync` hides a TypeError.
    assert [(f.line, f.fix) for f in findings] == [(11, FixSafety.UNSAFE)]
    result = fix_text(APP, "app/headers.py", CHECKER, unsafe=True)
    assert 'logger.debug("Ignored exception", exc_info=True)' in result.text
    return result.text


def test_default_configuration_shows_nothing_new(tmp_path: Path) -> None:
    (tmp_path / "headers.py").write_text(fixed_app(), encoding="utf-8")
    result = run("import headers\nheaders.sync('bad')\nprint('done')\n", tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "done\n", "")


def test_debug_logging_keeps_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "headers.py").write_text(fixed_app(), encoding="utf-8")
    result = run(
        "import logging, headers\nlogging.basicConfig(level=logging.DEBUG)\nheaders.sync('bad')\n",
        tmp_path,
    )
    assert result.returncode == 0
    assert "Ignored exception" in result.stderr and "TypeError" in result.stderr


def test_django_admin_email_handler_sends_no_mail(tmp_path: Path) -> None:
    (tmp_path / "headers.py").write_text(fixed_app(), encoding="utf-8")
    result = run(
        textwrap.dedent("""\
        import logging
        import django
        from django.conf import settings

        settings.configure(
            ADMINS=[("ops", "ops@example.com")],
            SECRET_KEY="test-only",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            LOGGING_CONFIG=None,
        )
        django.setup()
        from django.core import mail
        from django.utils.log import AdminEmailHandler

        mail.outbox = []
        handler = AdminEmailHandler()
        handler.setLevel(logging.ERROR)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.DEBUG)
        import headers
        for value in ["a", "b", "c"]:
            headers.sync(value)
        # The old fix (logger.exception) made an ERROR record per call: a mail each.
        logging.getLogger("headers").exception("control")
        print(len(mail.outbox))
        """),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11 syntax")
def test_an_except_star_handler_is_named_and_fixed_as_written() -> None:
    # The stdlib's test_except_star.py got a fix that was offered and never made, under a
    # message naming `except Exception:`.
    code = textwrap.dedent("""\
        def sync(values):
            try:
                raise ExceptionGroup("many", [ValueError(v) for v in values])
            except* Exception:
                pass
        """)
    findings = CHECKER.check_text(code, "app/groups.py")
    assert [(f.line, f.fix) for f in findings] == [(4, FixSafety.UNSAFE)]
    assert "`except* Exception:`" in findings[0].message
    result = fix_text(code, "app/groups.py", CHECKER, unsafe=True)
    assert 'logger.debug("Ignored exception", exc_info=True)' in result.text
    assert "except* Exception:" in result.text
    compile(result.text, "groups.py", "exec")
    assert CHECKER.check_text(result.text, "app/groups.py") == []
