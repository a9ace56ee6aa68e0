"""Turning findings into text for people and formats for tools (JSON, SARIF, GitHub)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import prodlint
from prodlint.model import Finding, FixSafety, Severity
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


def render_text(findings: Sequence[Finding]) -> str:
    rows = [
        f"{f.path}:{f.line}:{f.col}: {f.code} {'[*] ' if f.fix is FixSafety.SAFE else ''}{f.message}"
        for f in findings
    ]
    return "\n".join([*rows, summary(findings)]) + "\n"


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
        f"endLine={f.end_line},endColumn={f.end_col},title={prop(f.code)}::{escape(f'{f.code} {f.message}')}\n"
        for f in findings
    )


def render_sarif(findings: Sequence[Finding]) -> str:
    rules = all_rules()
    used = sorted({f.code for f in findings} | set(rules))
    descriptors = []
    for code in used:
        rule = rules.get(code)
        if rule is None:
            descriptors.append({
                "id": code, "name": "Uncheckable",
                "shortDescription": {"text": "The file could not be checked."},
                "defaultConfiguration": {"level": "error"},
            })
            continue
        descriptors.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": " ".join(rule.what_it_does.split())},
            "help": {"text": " ".join(rule.why_bad.split()), "markdown": rule.docs()},
            "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
            "properties": {"tags": [code[:4] + "xx"], "fix": rule.fix_safety.value},
        })
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    for f in findings:
        results.append({
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                    "region": {
                        "startLine": f.line, "startColumn": f.col,
                        "endLine": max(f.end_line, f.line), "endColumn": max(f.end_col, 1),
                    },
                }
            }],
        })
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "prodlint",
                "version": prodlint.__version__,
                "informationUri": "https://github.com/prodlint/prodlint",
                "rules": descriptors,
            }},
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"


def render(findings: Sequence[Finding], fmt: str) -> str:
    if fmt == "json":
        return render_json(findings)
    if fmt == "sarif":
        return render_sarif(findings)
    if fmt == "github":
        return render_github(findings)
    return render_text(findings)

