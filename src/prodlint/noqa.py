"""Suppression comments, with flake8's syntax so both front ends agree."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from prodlint.model import Finding

_CODE_LIST = r"[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*"
LINE_NOQA = re.compile(rf"#\s*noqa(?::[\s]?(?P<codes>{_CODE_LIST}))?", re.IGNORECASE)
FILE_NOQA = re.compile(
    rf"^[ \t]*#[ \t]*prodlint:[ \t]*noqa(?::[ \t]*(?P<codes>{_CODE_LIST}))?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
FILE_NOQA_ALL = "*"


def file_suppressions(text: str) -> set[str]:
    """Codes (or prefixes) a ``# prodlint: noqa[: codes]`` line turns off for the file."""
    if "prodlint" not in text:
        return set()
    codes: set[str] = set()
    for match in FILE_NOQA.finditer(text):
        listed = match.group("codes")
        codes.update(_split(listed) if listed else {FILE_NOQA_ALL})
    return codes


def _split(codes: str) -> set[str]:
    return {code.upper() for code in re.split(r"[,\s]+", codes.strip()) if code}


def is_suppressed(line_text: str, code: str) -> bool:
    match = LINE_NOQA.search(line_text)
    if match is None:
        return False
    listed = match.group("codes")
    return not listed or any(code.startswith(prefix) for prefix in _split(listed))


NOSEC = re.compile(r"#.*\bnosec\b", re.IGNORECASE)


def apply_noqa(
    findings: Iterable[Finding], lines: list[str], text: str, nosec_codes: frozenset[str]
) -> list[Finding]:
    """Drop the findings a ``# noqa`` silences, and those of rules that honour bandit's
    ``# nosec`` (``nosec_codes``) when a line of their range carries it."""
    file_codes = file_suppressions(text)
    if FILE_NOQA_ALL in file_codes:
        return []
    kept = []
    for finding in findings:
        if any(finding.code.startswith(prefix) for prefix in file_codes):
            continue
        line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        if "#" in line and is_suppressed(line, finding.code):
            continue
        if finding.code in nosec_codes and any(
            NOSEC.search(text_line) for text_line in lines[finding.line - 1 : finding.end_line]
        ):
            continue
        kept.append(finding)
    return kept


def _lines_inside_strings(text: str) -> set[int]:
    """Lines whose end lies inside a string (a triple-quoted one, or a continued line):
    a comment appended there would become part of the code."""
    import io
    import tokenize

    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[0] < token.end[0] and token.type != tokenize.NL:
                inside.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return inside


def add_noqa(text: str, findings: Iterable[Finding]) -> tuple[str, int]:
    """``text`` with ``# noqa: CODE`` appended to each line that has a finding (merged into
    a ``# noqa: ...`` already there); returns the new text and how many lines changed.
    Lines that end inside a string are left alone: the comment would change the string."""
    wanted: dict[int, set[str]] = {}
    for finding in findings:
        wanted.setdefault(finding.line, set()).add(finding.code)
    if not wanted:
        return text, 0
    unsafe = _lines_inside_strings(text)
    lines = text.splitlines(keepends=True)
    changed = 0
    for number, codes in sorted(wanted.items()):
        if number in unsafe or not 0 < number <= len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        match = LINE_NOQA.search(body)
        if match is not None and not match.group("codes"):
            continue  # a bare ``# noqa`` already silences everything
        if match is not None:
            listed = _split(match.group("codes"))
            missing = sorted(codes - listed)
            if not missing:
                continue
            merged = ", ".join([*sorted(listed), *missing])
            body = body[: match.start()] + f"# noqa: {merged}" + body[match.end() :]
        else:
            body = f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
        lines[number - 1] = body + ending
        changed += 1
    return "".join(lines), changed


# A ``# noqa: PRD...`` comment that suppresses nothing (ruff's RUF100).
UNUSED_NOQA_CODE = "PRD001"
_PRODLINT_NOQA = re.compile(r"noqa\s*:\s*PRD", re.IGNORECASE)


@dataclass(frozen=True)
class NoqaComment:
    line: int
    col: int  # 0-based, where ``# noqa`` starts
    end_col: int
    codes: tuple[str, ...]  # the prodlint codes (or prefixes) it lists, as written


def noqa_comments(text: str) -> list[NoqaComment]:
    """The ``# noqa: ...`` comments listing prodlint codes: real comments only (the text
    ``# noqa: PRD501`` inside a string is data). Other tools' codes are theirs to judge."""
    if "noqa" not in text or _PRODLINT_NOQA.search(text) is None:
        return []
    import io
    import tokenize

    found: list[NoqaComment] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = LINE_NOQA.search(token.string)
            if match is None or not match.group("codes"):
                continue
            codes = tuple(
                code
                for code in re.split(r"[,\s]+", match.group("codes").strip().upper())
                if code.startswith("PRD")
            )
            if codes:
                line, col = token.start
                found.append(NoqaComment(line, col + match.start(), col + match.end(), codes))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return found
    return found


def unused_noqa(
    comments: Iterable[NoqaComment], findings: Iterable[Finding]
) -> list[tuple[NoqaComment, list[str]]]:
    """Each comment with the codes it lists that silence no finding on its line."""
    on_line: dict[int, set[str]] = {}
    for finding in findings:
        on_line.setdefault(finding.line, set()).add(finding.code)
    unused: list[tuple[NoqaComment, list[str]]] = []
    for comment in comments:
        reported = on_line.get(comment.line, set())
        idle = [
            code for code in comment.codes if not any(found.startswith(code) for found in reported)
        ]
        if idle:
            unused.append((comment, idle))
    return unused
