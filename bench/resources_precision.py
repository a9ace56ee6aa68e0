"""PRD3xx on real code, next to ruff SIM115 and pylint R1732 (consider-using-with).

False alarms: every PRD301/302/303 finding on requests, urllib3, httpx (pinned sdists,
downloaded at run time), Django 5.2.8's ``django/`` and this interpreter's stdlib ``Lib/``
is counted (application code and test files apart) and listed for judging; ruff SIM115 and
pylint R1732 are counted on the same trees (pylint only when it is installed; it takes
minutes on the stdlib, ``--skip-pylint`` leaves it out).

Labelled cases: ruff's SIM115 fixture, read from a copy of github.com/astral-sh/ruff (a
bare git directory such as the one the ``fetch`` tool makes, or a checkout; skipped when
there is none). It is mostly module-level code, which PRD301 leaves alone by policy, so it
is scored twice: as it is, and with the module body moved into one function (what the
detector makes of the same statements in a function). pylint's labelled cases are scored
by tests/test_resources_pylint.py.

Speed (``--speed``): CPU time of one walk over Django's ``django/`` (trees parsed
beforehand, best of five) with PRD301-304 against the same walk with PRD304 alone, so
the share of the acquisition rules (and the flow analysis they ask for) shows apart.

    python bench/resources_precision.py [--skip-pylint] [--skip-stdlib] [--ruff-repo DIR]
    python bench/resources_precision.py --speed
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from collections import Counter
from pathlib import Path

import sdists

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding
from prodlint.rules.resources.closed_on_success_only import ClosedOnlyOnSuccess
from prodlint.rules.resources.not_closed import ResourceNotClosed
from prodlint.rules.resources.sqlite_with import ConnectionWithDoesNotClose

PACKAGES = {"requests": "requests==2.32.3", "urllib3": "urllib3==2.2.3", "httpx": "httpx==0.27.2"}
BIN = Path(sys.executable).parent
RUFF_FIXTURE = "crates/ruff_linter/resources/test/fixtures/flake8_simplify/SIM115.py"
DEFAULT_RUFF_REPOS = (Path("/work/.mirror/astral-sh+ruff/repo"), Path.home() / "src" / "ruff")


def checker() -> Checker:
    return Checker(
        Config(), rules=[ResourceNotClosed, ClosedOnlyOnSuccess, ConnectionWithDoesNotClose]
    )


def python_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*.py")
        if "site-packages" not in p.parts and "__pycache__" not in p.parts
    )


def prodlint_findings(root: Path) -> tuple[list[Finding], float]:
    check = checker()
    found: list[Finding] = []
    started = time.perf_counter()
    for path in python_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        # Paths relative to the tree's parent, so test-paths see `test/`, `tests/` folders.
        found += [
            f
            for f in check.check_text(text, path.relative_to(root.parent).as_posix())
            if f.code.startswith("PRD3")
        ]
    return found, time.perf_counter() - started


def is_test(finding: Finding) -> bool:
    parts = finding.path.split("/")
    return any(p in ("test", "tests", "testing", "idle_test") for p in parts) or parts[
        -1
    ].startswith("test_")


def ruff_sim115(*args: str, text: str | None = None) -> list[dict[str, object]]:
    """ruff's SIM115 findings (its JSON records) on the paths or the stdin ``args`` name."""
    done = subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "SIM115",
            "--output-format",
            "json",
            "--exit-zero",
            *args,
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results: list[dict[str, object]] = json.loads(done.stdout or "[]")
    return results


def ruff_count(root: Path) -> Counter[str]:
    results = ruff_sim115("--extend-exclude", "site-packages", str(root))
    return Counter("test" if _test_path(str(r["filename"])) else "app" for r in results)


def pylint_count(root: Path, app_only: bool) -> Counter[str] | None:
    """R1732 findings; ``app_only`` leaves test folders out (pylint needs most of an hour
    for the whole stdlib on two cores)."""
    if not (BIN / "pylint").exists():
        return None
    ignored = "site-packages,test,tests,idle_test" if app_only else "site-packages"
    done = subprocess.run(
        [
            str(BIN / "pylint"),
            "--disable=all",
            "--enable=consider-using-with",
            "--output-format=json",
            "--jobs=2",
            "--recursive=y",
            "--score=n",
            f"--ignore={ignored}",
            str(root),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    try:
        results = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return None
    return Counter(
        "test" if _test_path(str(r["path"])) else "app"
        for r in results
        if r.get("symbol") == "consider-using-with"
    )


def _test_path(path: str) -> bool:
    parts = Path(path).parts
    return any(p in ("test", "tests", "testing", "idle_test") for p in parts) or Path(
        path
    ).name.startswith("test_")


def trees(skip_stdlib: bool) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name, requirement in PACKAGES.items():
        top = sdists.fetch(requirement)
        package = next((p for p in (top / "src" / name, top / name) if p.is_dir()), top)
        found[name] = package
    found["django"] = sdists.fetch("django==5.2.8") / "django"
    if not skip_stdlib:
        found["stdlib Lib"] = Path(sysconfig.get_paths()["stdlib"])
    return found


def false_alarms(skip_pylint: bool, skip_stdlib: bool) -> None:
    print(
        "== PRD3xx findings on real code (app code / test files), "
        "next to ruff SIM115 and pylint R1732"
    )
    print(
        f"{'tree':12} {'prodlint app':>12} {'prodlint test':>13} {'ruff app':>9} {'ruff test':>9} "
        f"{'pylint app':>10} {'pylint test':>11}  seconds"
    )
    listed: list[Finding] = []
    for name, root in trees(skip_stdlib).items():
        found, seconds = prodlint_findings(root)
        app = [f for f in found if not is_test(f)]
        ruff = ruff_count(root)
        app_only = name == "stdlib Lib"
        pylint = None if skip_pylint else pylint_count(root, app_only)
        shown = (
            ("-", "-")
            if pylint is None
            else (str(pylint["app"]), "not run" if app_only else str(pylint["test"]))
        )
        print(
            f"{name:12} {len(app):>12} {len(found) - len(app):>13} "
            f"{ruff['app']:>9} {ruff['test']:>9} "
            f"{shown[0]:>10} {shown[1]:>11}  {seconds:.1f}"
        )
        listed += app
    print("\n== every PRD3xx finding in application code (to judge)")
    for finding in sorted(listed, key=Finding.sort_key):
        print(f"{finding.path}:{finding.line}: {finding.code} {finding.message}")
    codes = Counter(f.code for f in listed)
    print("by code:", dict(sorted(codes.items())))


def ruff_repo(explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else list(DEFAULT_RUFF_REPOS)
    return next((c for c in candidates if c.exists()), None)


def read_repo_file(repo: Path, path: str) -> str:
    if (repo / path).is_file():
        return (repo / path).read_text(encoding="utf-8")
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def ruff_lines(text: str) -> set[int]:
    results = ruff_sim115("--stdin-filename", "SIM115.py", "-", text=text)
    return {int(location["row"]) for r in results if isinstance(location := r["location"], dict)}


def blank_definitions(text: str) -> str:
    lines = text.splitlines()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            for index in range(first - 1, node.end_lineno or node.lineno):
                lines[index] = ""
    return "\n".join(lines) + "\n"


def ruff_fixture(explicit: str | None) -> None:
    repo = ruff_repo(explicit)
    print("\n== ruff's SIM115 fixture")
    if repo is None:
        print("skipped: no copy of github.com/astral-sh/ruff (pass --ruff-repo)")
        return
    text = read_repo_file(repo, RUFF_FIXTURE)
    labelled = ruff_lines(text)
    check = checker()
    as_is = {f.line for f in check.check_text(text, "SIM115.py") if f.code.startswith("PRD3")}
    # The module's own statements as a function body: one header line, every line one
    # further down; its functions and classes are blanked out (they stay judged as they are
    # in the first run), else a nested ``def`` naming ``f`` would make every ``f`` captured.
    wrapped = (
        "def module_body():\n" + textwrap.indent(blank_definitions(text), "    ") + "    pass\n"
    )
    in_function = as_is | {
        f.line - 1 for f in check.check_text(wrapped, "SIM115.py") if f.code.startswith("PRD3")
    }
    lines = text.splitlines()
    print(
        f"ruff flags {len(labelled)} lines; prodlint as is: {len(as_is & labelled)} of them "
        f"(+{len(as_is - labelled)} others); as a function body: {len(in_function & labelled)} "
        f"(+{len(in_function - labelled)} others)"
    )
    for line in sorted(labelled | in_function):
        mark = (
            "both"
            if line in labelled and line in in_function
            else "ruff only"
            if line in labelled
            else "prodlint only"
        )
        print(f"  {line:4} {mark:13} {lines[line - 1].strip()[:70]}")


def speed(rounds: int = 5) -> None:
    from prodlint.analysis.context import Context
    from prodlint.rules.resources.registry_leak import ConnectionRegistryLeak

    root = sdists.fetch("django==5.2.8") / "django"
    trees = []
    for path in python_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            trees.append((path.as_posix(), text, ast.parse(text)))
        except SyntaxError:
            continue
    family = [ResourceNotClosed, ClosedOnlyOnSuccess, ConnectionWithDoesNotClose]
    sets = {
        "PRD304 alone": [ConnectionRegistryLeak],
        "PRD301-304": [*family, ConnectionRegistryLeak],
    }
    best = dict.fromkeys(sets, float("inf"))
    for _ in range(rounds):
        for name, rules in sets.items():
            check = Checker(Config(), rules=rules)
            started = time.process_time()
            for path, text, tree in trees:
                check.walk(tree, Context(path, text, tree, check.settings))
            best[name] = min(best[name], time.process_time() - started)
    print(
        f"Speed on django/ ({len(trees)} files, CPU s, best of {rounds}): walk with PRD304 "
        f"alone {best['PRD304 alone']:.2f}, with PRD301-304 {best['PRD301-304']:.2f}: "
        f"PRD301-303 add {best['PRD301-304'] - best['PRD304 alone']:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-pylint", action="store_true")
    parser.add_argument("--skip-stdlib", action="store_true")
    parser.add_argument("--ruff-repo")
    parser.add_argument("--speed", action="store_true", help="only the speed measurement")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    if args.speed:
        speed()
        return
    false_alarms(args.skip_pylint, args.skip_stdlib)
    ruff_fixture(args.ruff_repo)


if __name__ == "__main__":
    main()
