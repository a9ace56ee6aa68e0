"""Baselines: adopt prodlint on a legacy repo by recording today's findings and failing
only on new ones.

A finding is identified by its code, its file (relative to the project root, so the
baseline works from any working directory) and the normalised source of the flagged code
(tokens without whitespace or comments), never by its line: an edit above a finding moves
it without making it new. Identical fingerprints are counted, so a second copy of a
baselined line is a new finding, and a fixed one stops matching anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import textwrap
import tokenize
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prodlint.config import ConfigError
from prodlint.model import Finding
from prodlint.source import UncheckableSource, decode_source

FORMAT_VERSION = 1
_SKIPPED_TOKENS = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)


@dataclass(frozen=True, order=True)
class Fingerprint:
    path: str
    code: str
    digest: str


@dataclass
class BaselineResult:
    new: list[Finding] = field(default_factory=list)  # not in the baseline: these fail
    known: int = 0  # findings the baseline accounts for
    gone: int = 0  # baselined findings that no longer occur (fixed)


def normalise(snippet: str) -> str:
    """The snippet's tokens joined by single spaces: re-indenting, re-wrapping or editing a
    comment leaves it unchanged; changing the code does not."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(textwrap.dedent(snippet)).readline)
        return " ".join(t.string for t in tokens if t.type not in _SKIPPED_TOKENS)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # A slice that is not whole tokens (it starts inside a string): compare the text.
        return " ".join(snippet.split())


def flagged_source(finding: Finding, lines: Sequence[str]) -> str:
    """The lines the finding spans, from the first flagged character to the last line."""
    if not 0 < finding.line <= len(lines):
        return finding.message
    last = min(max(finding.end_line, finding.line), len(lines))
    return "\n".join(lines[finding.line - 1 : last])


def project_path(path: str, root: Path) -> str:
    """``path`` as the CLI shows it (relative to the working directory), made relative to
    the project root when it lies below it."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return Path(path).as_posix()


def read_lines(path: str) -> list[str]:
    """A file's lines as the engine numbers them (empty when it cannot be read)."""
    try:
        text = decode_source(Path(path).read_bytes()).text
    except (OSError, UncheckableSource):
        return []
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def fingerprints(
    findings: Sequence[Finding], root: Path, read_lines: Callable[[str], list[str]] = read_lines
) -> list[tuple[Finding, Fingerprint]]:
    """Each finding with its fingerprint; each file is read once."""
    cache: dict[str, list[str]] = {}
    keyed = []
    for finding in findings:
        if finding.path not in cache:
            cache[finding.path] = read_lines(finding.path)
        source = normalise(flagged_source(finding, cache[finding.path]))
        digest = hashlib.blake2b(source.encode(), digest_size=10).hexdigest()
        keyed.append((finding, Fingerprint(project_path(finding.path, root), finding.code, digest)))
    return keyed


def write_baseline(file: Path, findings: Sequence[Finding], root: Path) -> int:
    """Record ``findings`` in ``file`` (sorted, so the file diffs well); returns how many."""
    counts = Counter(key for _, key in fingerprints(findings, root))
    entries = [
        {"path": key.path, "code": key.code, "fingerprint": key.digest, "count": count}
        for key, count in sorted(counts.items())
    ]
    document = {"prodlint-baseline": FORMAT_VERSION, "findings": entries}
    file.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return sum(counts.values())


def load_baseline(file: Path) -> Counter[Fingerprint]:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the baseline: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{file}: not a prodlint baseline: {error}") from None
    if not isinstance(document, dict) or document.get("prodlint-baseline") != FORMAT_VERSION:
        raise ConfigError(f"{file}: not a prodlint baseline (version {FORMAT_VERSION})")
    counts: Counter[Fingerprint] = Counter()
    try:
        for entry in document["findings"]:
            key = Fingerprint(str(entry["path"]), str(entry["code"]), str(entry["fingerprint"]))
            counts[key] += int(entry["count"])
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{file}: malformed baseline entry: {error!r}") from None
    return counts


def apply_baseline(
    findings: Sequence[Finding],
    baseline: Counter[Fingerprint],
    root: Path,
    checked: Sequence[str] | None = None,
) -> BaselineResult:
    """Drop the findings the baseline accounts for. With more findings of one fingerprint
    than recorded, the later ones (in file order) are the new ones. ``checked`` (paths as
    shown) limits the judgement to the files the run checked: a run over one folder says
    nothing about the baselined findings elsewhere."""
    if checked is not None:
        judged = {project_path(path, root) for path in checked}
        baseline = Counter({key: count for key, count in baseline.items() if key.path in judged})
    remaining = Counter(baseline)
    result = BaselineResult()
    for finding, key in fingerprints(sorted(findings, key=Finding.sort_key), root):
        if remaining[key] > 0:
            remaining[key] -= 1
            result.known += 1
        else:
            result.new.append(finding)
    result.gone = sum(count for count in remaining.values() if count > 0)
    return result


def check_with_baseline(
    findings: Sequence[Finding],
    root: Path,
    baseline: Path | None,
    write: Path | None,
    checked: Sequence[str] | None = None,
) -> list[Finding]:
    """What ``prodlint check --baseline / --write-baseline`` reports. Writing records every
    finding, so that run passes; the counts are terminal output for the user, on stderr,
    away from machine formats on stdout."""
    if write is not None:
        count = write_baseline(write, findings, root)
        sys.stderr.write(
            f"prodlint: recorded {count} finding{'s' if count != 1 else ''} in {write}\n"
        )
        return []
    if baseline is None:
        return list(findings)
    result = apply_baseline(findings, load_baseline(baseline), root, checked)
    if result.known or result.gone:
        note = f"prodlint: {result.known} finding{'s' if result.known != 1 else ''} in the baseline"
        if result.gone:
            plural = "s" if result.gone != 1 else ""
            note += (
                f"; {result.gone} baselined finding{plural} fixed"
                " (rewrite the baseline to drop them)"
            )
        sys.stderr.write(note + "\n")
    return result.new
