"""PRD1xx precision and recall on real code, downloaded fresh (nothing third-party is
committed).

Recall: bandit 1.9.4's SQL examples, counting only the calls where a non-constant value
reaches a database call (bandit also flags constants and strings that never reach one).
False alarms: every PRD1 finding on Django 5.2.8's ``django/`` package, listed.

    python bench/sql_precision.py [--workdir DIR] [--skip-django]
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding
from prodlint.registry import all_rules

BANDIT_EXAMPLES = ("sql_statements.py", "django_sql_injection_raw.py", "django_sql_injection_extra.py")
SINKS = frozenset({"execute", "executemany", "executescript", "raw", "extra", "RawSQL"})


def fetch(package: str, workdir: Path) -> Path:
    """Download an sdist with pip and unpack it; returns the unpacked folder."""
    name, _, version = package.partition("==")
    existing = [p for p in workdir.glob(f"{name}-{version}") if p.is_dir()]
    if existing:
        return existing[0]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", str(workdir), package],
        check=True,
    )
    archive = next(workdir.glob(f"{name}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / f"{name}-{version}"


def checker() -> Checker:
    return Checker(Config(), rules=[rule for code, rule in all_rules().items() if code.startswith("PRD1")])


def dynamic_sink_lines(text: str) -> set[int]:
    """Lines of database calls whose SQL argument is not a constant expression: what a
    precise tool should flag."""

    def constant(node: ast.expr, bound: dict[str, ast.expr]) -> bool:
        return all(
            not isinstance(n, ast.Name) or n.id == "dict" or n.id in bound and constant(bound[n.id], {})
            for n in ast.walk(node)
        )

    lines: set[int] = set()
    bound: dict[str, ast.expr] = {}
    tree = ast.parse(text)
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            bound[statement.targets[0].id] = statement.value
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in SINKS:
                continue
            args = [*node.args, *(k.value for k in node.keywords if k.arg != "params")]
            if args and name in ("execute", "raw", "RawSQL") and len(node.args) < 2:
                args = args[:1]
            elif name in ("execute",):
                continue  # passes params: bandit's "good" cases
            if any(not constant(a, bound) for a in args):
                lines.add(node.lineno)
    return lines


def recall(bandit: Path) -> tuple[int, int, list[str]]:
    check = checker()
    expected_total = found_total = 0
    report: list[str] = []
    for name in BANDIT_EXAMPLES:
        text = (bandit / "examples" / name).read_text(encoding="utf-8")
        expected = dynamic_sink_lines(text)
        found = {f.line for f in check.check_text(text, name)}
        expected_total += len(expected)
        found_total += len(expected & found)
        report.append(f"  {name}: {len(expected & found)}/{len(expected)} sink calls with non-constant SQL flagged"
                      f"; missed lines {sorted(expected - found)}; extra lines {sorted(found - expected)}")
    return found_total, expected_total, report


def django_findings(django: Path) -> list[Finding]:
    check = checker()
    findings: list[Finding] = []
    for path in sorted((django / "django").rglob("*.py")):
        findings.extend(check.check_bytes(path.read_bytes(), path.relative_to(django).as_posix()))
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="where sdists go (default: a temp dir)")
    parser.add_argument("--skip-django", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        found, expected, report = recall(fetch("bandit==1.9.4", workdir))
        sys.stdout.write(f"recall on bandit 1.9.4 examples: {found}/{expected}\n" + "\n".join(report) + "\n")
        if not args.skip_django:
            findings = django_findings(fetch("django==5.2.8", workdir))
            sys.stdout.write(f"PRD1 findings on django 5.2.8 django/: {len(findings)}\n")
            for finding in findings:
                sys.stdout.write(f"  {finding.path}:{finding.line}: {finding.code} {finding.message}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
