"""Turning findings into text for people and formats for tools (JSON, SARIF, GitHub)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import prodlint
from prodlint.model import UNCHECKABLE_CODE, Finding, FixSafety, Severity
from prodlint.registry import all_rules

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "All checks passed!"
    safe = sum(f.fix is FixSafety.SAFE for f in findings)
    unsafe = sum(f.fix is FixSafety.UNSAFE for f in findings)
    line = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''}."
    if safe:
        line += f"\n[*] {safe} fixable with `prodlint fix`."
    if unsafe:
        line += f"\n{unsafe} more fixable with `prodlint fix --unsafe-fixes`."
    return line


# Where a rule's documentation is: prodlint has no published docs site, so the text output
# points at the command that prints the page (offline, for the installed version) and SARIF
# carries the whole page in each rule's help.markdown (what code-scanning UIs show).
def docs_hint(code: str) -> str | None:
    # Not by asking the registry: that imports every rule, which a warm run never needs.
    return None if code == UNCHECKABLE_CODE else f"prodlint rule {code}"


@dataclass(frozen=True)
class Style:
    """How text output looks: ANSI colour or plain, and whether to show source snippets."""

    colour: bool = False
    snippets: bool = True

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


PLAIN = Style(colour=False, snippets=False)
BOLD, RED, CYAN, BLUE = "1", "1;31", "36", "1;34"


def _snippet(finding: Finding, lines: list[str], style: Style) -> list[str]:
    """ruff's "full" output: the flagged line with a line around it and a caret line."""
    if not 0 < finding.line <= len(lines):
        return []
    first = max(finding.line - 1, 1)
    last = min(finding.line + 1, len(lines))
    while last > finding.line and not lines[last - 1].strip():
        last -= 1
    width = len(str(last))
    gutter = style.paint(" " * width + " |", BLUE)
    out = [gutter]
    for number in range(first, last + 1):
        text = lines[number - 1].expandtabs(4) if "\t" in lines[number - 1] else lines[number - 1]
        out.append(f"{style.paint(f'{number:>{width}} |', BLUE)} {text}".rstrip())
        if number == finding.line:
            start = max(finding.col - 1, 0)
            end = finding.end_col - 1 if finding.end_line == finding.line else len(text)
            carets = "^" * max(end - start, 1)
            out.append(f"{gutter} {' ' * start}{style.paint(carets + ' ' + finding.code, RED)}")
    out.append(gutter)
    hint = docs_hint(finding.code)
    if hint:
        out.append(f"{' ' * width} {style.paint('=', BLUE)} docs: `{hint}`")
    return out


def render_rows(
    findings: Sequence[Finding], style: Style = PLAIN, sources: Mapping[str, str] | None = None
) -> str:
    """One line per finding (``path:line:col: CODE message``), each followed by its source
    snippet when the style asks for them; ``sources`` gives text not on disk (stdin)."""
    rows: list[str] = []
    read: dict[str, list[str]] = {}
    for f in findings:
        location = style.paint(f"{f.path}:{f.line}:{f.col}:", BOLD)
        marker = f"{style.paint('[*]', CYAN)} " if f.fix is FixSafety.SAFE else ""
        rows.append(f"{location} {style.paint(f.code, RED)} {marker}{f.message}")
        if style.snippets:
            if f.path not in read:
                text = (sources or {}).get(f.path)
                if text is None:
                    from prodlint.baseline import read_lines  # only when there is a snippet to show

                    read[f.path] = read_lines(f.path)
                else:
                    read[f.path] = text.split("\n")
            snippet = _snippet(f, read[f.path], style)
            if snippet:
                rows.extend([*snippet, ""])
    return "".join(row + "\n" for row in rows)


def render_text(
    findings: Sequence[Finding],
    style: Style = PLAIN,
    quiet: bool = False,
    sources: Mapping[str, str] | None = None,
) -> str:
    text = render_rows(findings, style, sources)
    return text if quiet else text + summary(findings) + "\n"


def render_fixes(applied: Sequence[Finding], verb: str) -> str:
    """``--show-fixes``: what was fixed, per file and rule (as ruff's list)."""
    rules = all_rules()
    counts = Counter((f.path, f.code) for f in applied)
    lines = [f"{verb} {len(applied)} finding{'s' if len(applied) != 1 else ''}:"]
    for path in sorted({path for path, _ in counts}):
        lines.append(f"- {path}:")
        for (where, code), count in sorted(counts.items()):
            if where == path:
                name = rules[code].name if code in rules else code
                lines.append(f"    {count} x {code} ({name})")
    return "\n".join(lines) + "\n"


def render_statistics(findings: Sequence[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    rules = all_rules()
    fixable = Counter(f.code for f in findings if f.fix is FixSafety.SAFE)
    rows = []
    for code, count in counts.most_common():
        name = rules[code].name if code in rules else "Uncheckable"
        rows.append(f"{count:6d}\t{code}\t{'[*] ' if fixable[code] else '    '}{name}")
    return "\n".join(rows) + ("\n" if rows else "")


def render_json(findings: Sequence[Finding]) -> str:
    payload = {"version": prodlint.__version__, "findings": [f.to_json() for f in findings]}
    return json.dumps(payload, indent=2) + "\n"


def render_github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""

    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return escape(text).replace(":", "%3A").replace(",", "%2C")

    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    return "".join(
        f"::{level[f.severity]} file={prop(f.path)},line={f.line},col={f.col},"
        f"endLine={f.end_line},endColumn={f.end_col},title={prop(f.code)}::"
        f"{escape(f'{f.code} {f.message}')}\n"
        for f in findings
    )


def render_sarif(findings: Sequence[Finding]) -> str:
    rules = all_rules()
    used = sorted({f.code for f in findings} | set(rules))
    descriptors = []
    for code in used:
        rule = rules.get(code)
        if rule is None:
            descriptors.append(
                {
                    "id": code,
                    "name": "Uncheckable",
                    "shortDescription": {"text": "The file could not be checked."},
                    "defaultConfiguration": {"level": "error"},
                }
            )
            continue
        descriptors.append(
            {
                "id": code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": " ".join(rule.what_it_does.split())},
                "help": {"text": " ".join(rule.why_bad.split()), "markdown": rule.docs()},
                "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
                "properties": {"tags": [code[:4] + "xx"], "fix": rule.fix_safety.value},
            }
        )
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    for f in findings:
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.col,
                                "endLine": max(f.end_line, f.line),
                                "endColumn": max(f.end_col, 1),
                            },
                        }
                    }
                ],
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "prodlint",
                        "version": prodlint.__version__,
                        "informationUri": "https://github.com/prodlint/prodlint",
                        "rules": descriptors,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def render(
    findings: Sequence[Finding],
    fmt: str,
    *,
    quiet: bool = False,
    style: Style | None = None,
    sources: Mapping[str, str] | None = None,
) -> str:
    """``style`` None: plain text without snippets (a report written to a file)."""
    if fmt == "json":
        return render_json(findings)
    if fmt == "sarif":
        return render_sarif(findings)
    if fmt == "github":
        return render_github(findings)
    return render_text(findings, style or PLAIN, quiet, sources)
