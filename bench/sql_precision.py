"""PRD1xx precision and recall on real code, downloaded fresh (nothing third-party is
committed).

Recall: bandit 1.9.4's SQL examples, counting only the calls where a non-constant value
reaches a database call (bandit also flags constants and strings that never reach one).
False alarms: every PRD1 finding on Django 5.2.8's ``django/`` package, listed.
semgrep-rules: its Python SQL-injection tests (``# ruleid:`` / ``# ok:`` lines), read from
a copy of github.com/semgrep/semgrep-rules (a checkout or a bare git directory; skipped when
there is none), scored next to ruff S608 and bandit B608, every miss listed with its
classification.

    python bench/sql_precision.py [--workdir DIR] [--skip-django] [--semgrep-rules DIR]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import sdists

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding
from prodlint.registry import all_rules

BANDIT_EXAMPLES = (
    "sql_statements.py",
    "django_sql_injection_raw.py",
    "django_sql_injection_extra.py",
)
SINKS = frozenset({"execute", "executemany", "executescript", "raw", "extra", "RawSQL"})


def fetch(package: str, workdir: Path | None = None) -> Path:
    """The unpacked sdist, from the shared cache of bench/sdists.py (or ``workdir``)."""
    return sdists.fetch(package, cache=workdir)


def checker() -> Checker:
    return Checker(
        Config(), rules=[rule for code, rule in all_rules().items() if code.startswith("PRD1")]
    )


def dynamic_sink_lines(text: str) -> set[int]:
    """Lines of database calls whose SQL argument is not a constant expression: what a
    precise tool should flag."""

    def constant(node: ast.expr, bound: dict[str, ast.expr]) -> bool:
        return all(
            not isinstance(n, ast.Name)
            or n.id == "dict"
            or n.id in bound
            and constant(bound[n.id], {})
            for n in ast.walk(node)
        )

    lines: set[int] = set()
    bound: dict[str, ast.expr] = {}
    tree = ast.parse(text)
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            bound[statement.targets[0].id] = statement.value
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
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
        report.append(
            f"  {name}: {len(expected & found)}/{len(expected)} sink calls"
            " with non-constant SQL flagged"
            f"; missed lines {sorted(expected - found)}; extra lines {sorted(found - expected)}"
        )
    return found_total, expected_total, report


def django_findings(django: Path) -> list[Finding]:
    check = checker()
    findings: list[Finding] = []
    for path in sorted((django / "django").rglob("*.py")):
        findings.extend(check.check_bytes(path.read_bytes(), path.relative_to(django).as_posix()))
    return findings


SEMGREP_RULES = Path("/work/.mirror/semgrep+semgrep-rules/repo")
# The SQL-injection tests: files under python/ named for SQL, less the ones that test other
# things (SQLAlchemy correctness/performance advice, Django ``as_sql`` templates).
NOT_INJECTION = ("/correctness/", "/performance/", "custom-expression-as-sql")
ANNOTATION = re.compile(r"#\s*(ruleid|ok)\s*:")
# Annotated lines prodlint leaves alone on purpose, with why (path suffix, line).
UNCHANGED = '`"... = %s".format(x)` has no `{}`: the text is not changed, nothing is spliced'
QUOTED = "`ext.quote_ident(...)` quotes the identifier properly"
RIGHT_MISSES: dict[tuple[str, int], str] = {
    ("python/django/security/injection/sql/sql-injection-rawsql.py", 21): UNCHANGED,
    ("python/django/security/injection/sql/sql-injection-rawsql.py", 28): UNCHANGED,
    (
        "python/django/security/injection/sql/sql-injection-using-db-cursor-execute.py",
        11,
    ): UNCHANGED,
    (
        "python/django/security/injection/sql/sql-injection-using-db-cursor-execute.py",
        34,
    ): UNCHANGED,
    ("python/django/security/injection/sql/sql-injection-using-raw.py", 25): UNCHANGED,
    ("python/django/security/injection/tainted-sql-string.py", 33): UNCHANGED,
    ("python/lang/security/audit/formatted-sql-query.py", 39): UNCHANGED,
    ("python/lang/security/audit/sqli/aiopg-sqli.py", 80): QUOTED,
    ("python/lang/security/audit/sqli/asyncpg-sqli.py", 58): QUOTED,
    ("python/lang/security/audit/sqli/psycopg-sqli.py", 66): QUOTED,
    (
        "python/sqlalchemy/security/sqlalchemy-execute-raw-query.py",
        248,
    ): "`insert(table) + 'test'` is no string building (it raises TypeError)",
    (
        "python/aws-lambda/security/tainted-sql-string.py",
        13,
    ): "semgrep marks the string; prodlint flags the execute() it reaches, line 18",
}


def semgrep_tests(repo: Path) -> dict[str, str]:
    """path -> text of each SQL-injection test file, from a checkout or a bare git dir."""
    checkout = (repo / "python").is_dir()
    if checkout:
        paths = sorted(p.relative_to(repo).as_posix() for p in (repo / "python").rglob("*.py"))
    else:
        listing = subprocess.run(
            ["git", "--git-dir", str(repo), "ls-tree", "-r", "--name-only", "HEAD", "python"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        paths = sorted(listing.split())

    def read(path: str) -> str:
        if checkout:
            return (repo / path).read_text(encoding="utf-8")
        return subprocess.run(
            ["git", "--git-dir", str(repo), "show", f"HEAD:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    chosen = [
        p
        for p in paths
        if p.endswith(".py") and "sql" in p.lower() and not any(n in p for n in NOT_INJECTION)
    ]
    return {path: read(path) for path in chosen}


def annotated(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(first, last) line spans marked ``ruleid`` and ``ok``. semgrep's taint rules report
    where the match starts (often the line reading the request, not the query call), so a
    mark covers the lines from it to the next mark or the end of its function."""
    tree = ast.parse(text)
    function_ends = sorted(
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )
    statements = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return))
    ]
    lines = text.splitlines()
    marks: list[tuple[int, str, int]] = []  # (annotation line, kind, first target line)
    for number, line in enumerate(lines, start=1):
        match = ANNOTATION.search(line)
        if not match:
            continue
        target = number
        if line.lstrip().startswith("#"):
            target = number + 1
            while target <= len(lines) and lines[target - 1].lstrip().startswith("#"):
                target += 1
        marks.append((number, match.group(1), target))
    marked: dict[str, list[tuple[int, int]]] = {"ruleid": [], "ok": []}
    for index, (_, kind, target) in enumerate(marks):
        last = marks[index + 1][0] - 1 if index + 1 < len(marks) else len(lines)
        inside = [end for start, end in function_ends if start <= target <= end]
        if inside:
            last = min(last, min(inside))
        else:
            # A mark before a ``def``: that function.
            following = [end for start, end in function_ends if start == target]
            last = min(last, following[0]) if following else last
        # A mark inside a statement (an argument line) covers the whole statement.
        first = min(
            [start for start, end in statements if start <= target <= end and start < target]
            or [target]
        )
        # An ``ok`` mark is about its own statement only.
        marked[kind].append(
            (
                first,
                max(target, last)
                if kind == "ruleid"
                else max([end for start, end in statements if start == first] or [target]),
            )
        )
    return marked["ruleid"], marked["ok"]


def tool_lines(tool: str, folder: Path) -> dict[str, set[int]]:
    """Lines ruff S608 or bandit B608 flag, by file."""
    if tool == "ruff":
        command = [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "S608",
            "--output-format",
            "json",
            "--exit-zero",
            str(folder),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bandit",
            "-q",
            "-r",
            "-t",
            "B608",
            "-f",
            "json",
            str(folder),
        ]
    # Both exit non-zero when they report something.
    output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    found: dict[str, set[int]] = {}
    data = json.loads(output or "[]")
    items = data if tool == "ruff" else data.get("results", [])
    for item in items:
        path = Path(item["filename"]).resolve().relative_to(folder.resolve()).as_posix()
        line = item["location"]["row"] if tool == "ruff" else item["line_number"]
        found.setdefault(path, set()).add(line)
        if tool == "bandit":
            found[path].update(item.get("line_range", []))
    return found


def semgrep_score(
    repo: Path, workdir: Path, others: tuple[str, ...] = ("ruff", "bandit")
) -> tuple[dict[str, list[int]], int, list[str]]:
    """({tool: [ruleid lines flagged, ok lines flagged]}, ruleid lines that are real
    injections, report lines)."""
    tests = semgrep_tests(repo)
    folder = workdir / "semgrep-sql-tests"
    for path, text in tests.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    check = checker()
    flagged: dict[str, dict[str, set[int]]] = {"prodlint": {}}
    for path, text in tests.items():
        flagged["prodlint"][path] = {f.line for f in check.check_text(text, path)}
    for tool in others:
        flagged[tool] = tool_lines(tool, folder)
    totals = {tool: [0, 0] for tool in flagged}  # found, false alarms
    positives = negatives = 0
    misses: list[str] = []
    for path, text in tests.items():
        ruleid, ok = annotated(text)
        positives += len(ruleid)
        negatives += len(ok)
        for tool, lines in flagged.items():
            hit = lines.get(path, set())
            totals[tool][0] += sum(any(a <= n <= b for n in hit) for a, b in ruleid)
            totals[tool][1] += sum(any(a <= n <= b for n in hit) for a, b in ok)
        hit = flagged["prodlint"].get(path, set())
        for a, b in ruleid:
            if not any(a <= n <= b for n in hit):
                why = RIGHT_MISSES.get((path, a))
                label = f"prodlint right: {why}" if why else "real miss"
                misses.append(f"  {path}:{a}: {label}: {text.splitlines()[a - 1].strip()[:100]}")
    right = sum("prodlint right" in m for m in misses)
    out = [
        f"semgrep-rules SQL-injection tests: {len(tests)} files, {positives} ruleid,"
        f" {negatives} ok lines"
    ]
    for tool, (found, false) in totals.items():
        out.append(
            f"  {tool:9} flags {found}/{positives} ruleid lines, {false} false alarms on ok lines"
        )
    out.append(
        f"  prodlint recall on real positives: {totals['prodlint'][0]}/{positives - right}"
        f" ({right} ruleid lines are not injections, see below)"
    )
    out.append("misses:")
    out.extend(misses)
    return totals, positives - right, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where sdists and scratch files go (default: the shared sdist cache, a temp dir)",
    )
    parser.add_argument("--skip-django", action="store_true")
    parser.add_argument("--skip-bandit", action="store_true")
    parser.add_argument(
        "--semgrep-rules",
        type=Path,
        default=SEMGREP_RULES,
        help="a checkout or bare git dir of github.com/semgrep/semgrep-rules",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.semgrep_rules.exists():
            sys.stdout.write("\n".join(semgrep_score(args.semgrep_rules, workdir)[2]) + "\n")
        else:
            sys.stdout.write(f"semgrep-rules not found at {args.semgrep_rules}: skipped\n")
        if not args.skip_bandit:
            found, expected, report = recall(fetch("bandit==1.9.4", args.workdir))
            sys.stdout.write(
                f"recall on bandit 1.9.4 examples: {found}/{expected}\n" + "\n".join(report) + "\n"
            )
        if not args.skip_django:
            findings = django_findings(fetch("django==5.2.8", args.workdir))
            sys.stdout.write(f"PRD1 findings on django 5.2.8 django/: {len(findings)}\n")
            for finding in findings:
                sys.stdout.write(
                    f"  {finding.path}:{finding.line}: {finding.code} {finding.message}\n"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
