"""Suppression comments, with flake8's syntax so both front ends agree."""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def apply_noqa(findings: Iterable[Finding], lines: list[str], text: str) -> list[Finding]:
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
        kept.append(finding)
    return kept
