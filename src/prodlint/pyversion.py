"""Which Python a file needs, guessed from the syntax error the running interpreter gives.

prodlint parses with the ``ast`` of the interpreter it runs on, so a project written for a
newer Python fails to parse under an older one. Reporting a bare syntax error there reads
as "your code is broken"; the user needs to hear "run prodlint under Python 3.x". The
guess is a few patterns on the failing line and the error message, each naming the first
version whose grammar accepts it, and only used when that version is newer than ours.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize

# (first Python that accepts it, what it is, pattern on the failing line or the message)
_LINE_FEATURES: tuple[tuple[tuple[int, int], str, re.Pattern[str]], ...] = (
    (
        (3, 14),
        "`except A, B:` without parentheses",
        re.compile(r"^\s*except\*?\s+[^\s(][^:]*,[^:]*:"),
    ),
    ((3, 12), "a `type` alias statement", re.compile(r"^\s*type\s+\w+\s*(?:\[[^\]]*\])?\s*=")),
    (
        (3, 12),
        "type parameters (`def f[T]()` / `class C[T]`)",
        re.compile(r"^\s*(?:async\s+def|def|class)\s+\w+\s*\["),
    ),
    ((3, 11), "`except*`", re.compile(r"^\s*except\s*\*")),
)
_MESSAGE_FEATURES: tuple[tuple[tuple[int, int], str, re.Pattern[str]], ...] = (
    (
        (3, 14),
        "`except A, B:` without parentheses",
        re.compile(r"multiple exception types must be parenthesized"),
    ),
    (
        (3, 12),
        "an f-string that older Pythons reject (nested quotes, backslashes or comments inside)",
        re.compile(r"^f-string"),
    ),
)


def needed_python(message: str, line: str) -> tuple[tuple[int, int], str] | None:
    """The (version, feature) a syntax error suggests, when that version is newer than the
    running interpreter; None when the error looks like a plain mistake."""
    running = sys.version_info[:2]
    for version, feature, pattern in _MESSAGE_FEATURES:
        if version > running and pattern.search(message):
            return version, feature
    for version, feature, pattern in _LINE_FEATURES:
        if version > running and pattern.search(line):
            return version, feature
    if (3, 14) > running and _has_template_string(line):
        return (3, 14), "a template string (t-string)"
    return None


def _has_template_string(line: str) -> bool:
    """Older tokenizers read ``t"..."`` as the name ``t`` directly followed by a string."""
    if "t'" not in line.lower() and 't"' not in line.lower():
        return False
    previous: tokenize.TokenInfo | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if (
                token.type == tokenize.STRING
                and previous is not None
                and previous.type == tokenize.NAME
                and previous.string.lower() in ("t", "tr", "rt")
                and previous.end == token.start
            ):
                return True
            previous = token
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return False


def syntax_error_message(error: SyntaxError, text: str) -> str:
    """The PRD000 message for a file that does not parse."""
    lines = text.splitlines()
    lineno = error.lineno or 0
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else (error.text or "")
    message = f"syntax error: {error.msg}"
    guess = needed_python(error.msg, line)
    if guess is None:
        return message
    (major, minor), feature = guess
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return (
        f"{message}; this looks like Python {major}.{minor} syntax ({feature}) and prodlint "
        f"runs on Python {running}: run prodlint under Python {major}.{minor} or newer "
        f"(e.g. `python{major}.{minor} -m pip install prodlint`, "
        f"or `uvx --python {major}.{minor} prodlint`)"
    )
