"""A fixed file as separate hunks that can be applied one at a time, so a test that changes
after ``prodlint fix`` is blamed on the hunk (path, line, rule code, diff) that changes it,
not on the whole file (bench/real_suites.py).

A hunk is one run of changed lines (``difflib.SequenceMatcher`` opcode): any subset of a
file's hunks applies to the untouched text without conflicts, because hunks never overlap.
A hunk that only adds module-level lines supports the others (an added ``import logging`` or
``logger = logging.getLogger(__name__)`` that a rewritten call needs); trials apply it with
every subset, so the rewritten call is judged with its names in place instead of failing
with a NameError of the trial's making. The support hunks alone are a trial of their own.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Hunk:
    path: str
    start: int  # first line it replaces in the untouched file (1-based; before it for an insertion)
    new_start: int  # first line it writes in the fixed file (1-based)
    old: tuple[str, ...]
    new: tuple[str, ...]
    codes: tuple[str, ...] = ()  # the rules whose fixes wrote it (from the untouched findings)

    @property
    def supporting(self) -> bool:
        """Only adds module-level lines (imports, a logger): applied in every trial, blamed
        only when they change a result by themselves."""
        added = [line for line in self.new if line.strip()]
        removed = [line for line in self.old if line.strip()]
        return (
            bool(added)
            and all(not line[0].isspace() for line in added)
            and all(line in added for line in removed)
        )

    @property
    def label(self) -> str:
        return f"{self.path}:{self.start} {','.join(self.codes) or '?'}"

    def diff(self) -> str:
        header = f"@@ -{self.start},{len(self.old)} +{self.new_start},{len(self.new)} @@\n"
        body = [f"-{line}" for line in self.old] + [f"+{line}" for line in self.new]
        return header + "".join(line if line.endswith("\n") else line + "\n" for line in body)

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.start,
            "codes": list(self.codes),
            "supporting": self.supporting,
            "diff": self.diff(),
        }


def split(path: str, before: str, after: str) -> list[Hunk]:
    """The hunks that turn ``before`` into ``after``, in file order."""
    old, new = before.splitlines(True), after.splitlines(True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        Hunk(path, i1 + 1, j1 + 1, tuple(old[i1:i2]), tuple(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def apply(before: str, chosen: Iterable[Hunk]) -> str:
    """``before`` with only the chosen hunks (all of one file) applied."""
    lines = before.splitlines(True)
    for hunk in sorted(chosen, key=lambda hunk: hunk.start, reverse=True):
        first = hunk.start - 1
        if tuple(lines[first : first + len(hunk.old)]) != hunk.old:
            raise ValueError(f"{hunk.label} does not apply to this text")
        lines[first : first + len(hunk.old)] = hunk.new
    return "".join(lines)


@dataclass(frozen=True)
class Finding:
    """A fixable finding of the untouched tree, as ``prodlint check --format json`` says."""

    path: str
    line: int
    end_line: int
    code: str


def attribute(found: Sequence[Hunk], findings: Sequence[Finding]) -> list[Hunk]:
    """Each hunk with the rule codes of the fixable findings it overlaps; a hunk that overlaps
    none (an import added for a fix further down, a fix anchored on the enclosing block)
    takes the codes of the nearest fixable findings in the same file."""
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    out = []
    for hunk in found:
        candidates = by_path.get(hunk.path, [])
        last = hunk.start + max(len(hunk.old), 1) - 1
        codes = {f.code for f in candidates if f.line <= last and f.end_line >= hunk.start}
        if not codes and candidates:
            distance = {
                f: min(abs(f.line - hunk.start), abs(f.end_line - last)) for f in candidates
            }
            nearest = min(distance.values())
            codes = {f.code for f in candidates if distance[f] == nearest}
        out.append(
            Hunk(hunk.path, hunk.start, hunk.new_start, hunk.old, hunk.new, tuple(sorted(codes)))
        )
    return out


def texts(
    originals: Mapping[str, str], chosen: Iterable[Hunk], always: Iterable[Hunk] = ()
) -> dict[str, str]:
    """The text of every file a chosen (or always-applied) hunk belongs to."""
    per_file: dict[str, list[Hunk]] = {}
    for hunk in [*chosen, *always]:
        per_file.setdefault(hunk.path, []).append(hunk)
    return {path: apply(originals[path], set(group)) for path, group in per_file.items()}


Blame = list[tuple[list[Hunk], list[str]]]  # guilty hunks -> what they change


def bisect(found: Sequence[Hunk], probe: Callable[[Sequence[Hunk]], list[str]]) -> Blame:
    """The hunks behind the changes ``probe`` sees. ``probe(chosen)`` applies the chosen
    hunks and the supporting ones to the untouched tree and says what changed (tests whose
    outcome moved, new mypy errors). Halves that change something are split again, down to
    single hunks; a group is blamed whole when only its hunks together change anything."""
    support = [hunk for hunk in found if hunk.supporting]
    blamed: Blame = []

    def search(chosen: Sequence[Hunk]) -> None:
        changed = probe(chosen)
        if not changed:
            return
        if len(chosen) == 1:
            blamed.append((list(chosen), changed))
            return
        half = len(chosen) // 2
        before = len(blamed)
        search(chosen[:half])
        search(chosen[half:])
        if len(blamed) == before:
            blamed.append((list(chosen), changed))

    by_support = probe([]) if support else []
    if by_support:
        blamed.append((support, by_support))
    search([hunk for hunk in found if not hunk.supporting])
    return blamed
