"""The annotations family (PRD6xx) measured against labelled cases and typed real code.

    .venv/bin/python bench/annotations_precision.py [--mypy-check httpx,rich] [--ruff PATH]

1. mypy's own labels: the ``testDisallowAnyExplicit*`` cases of mypy's
   ``test-data/unit/check-flags.test`` (mypy sdist, fetched at run time): each line mypy
   marks ``# E: Explicit "Any" is not allowed`` is a positive, every other line of the case
   a negative. Recall and every difference are printed.
2. ruff's ANN401 labels: the ``flake8_annotations`` fixtures of ruff's public repository,
   with ruff's snapshots as the truth (read from a clone made with the ``fetch`` tool at
   /work/.mirror/astral-sh+ruff/repo or ``--ruff``; skipped when absent).
3. Typed real projects (httpx, pydantic, rich, attrs, starlette, fastapi, typer, SQLAlchemy
   sdists): findings per code, how many carry a fix, and for the projects in
   ``--mypy-check`` mypy run on the package before and after ``prodlint fix
   --unsafe-fixes --select PRD6``: errors before/after and each new one with its line.
4. ``--speed``: what the family adds to checking Django 5.2.8's ``django/`` in one process
   (CPU time, trees parsed beforehand, best of three): the walk alone, every rule but PRD6,
   every rule.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import sdists

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import all_rules

MYPY = "mypy==1.13.0"
# requirement -> (the folder holding the package, the package)
PROJECTS = {
    "httpx==0.27.2": ("", "httpx"),
    "pydantic==2.9.2": ("", "pydantic"),
    "rich==13.9.4": ("", "rich"),
    "attrs==24.2.0": ("src", "attr"),
    "starlette==0.41.3": ("", "starlette"),
    "fastapi==0.115.5": ("", "fastapi"),
    "typer==0.13.1": ("", "typer"),
    "sqlalchemy==2.1.9": ("lib", "sqlalchemy"),
}
RUFF_MIRROR = Path("/work/.mirror/astral-sh+ruff/repo")
RUFF_CASES = {
    # snapshot -> fixture it reports on, and whether ruff's setting allows *args: Any
    "ruff_linter__rules__flake8_annotations__tests__defaults.snap": (
        "annotation_presence.py",
        False,
    ),
    "ruff_linter__rules__flake8_annotations__tests__allow_star_arg_any.snap": (
        "allow_star_arg_any.py",
        True,
    ),
}
MYPY_LABEL = 'Explicit "Any" is not allowed'


def checker(**options: object) -> Checker:
    codes = [code for code in all_rules() if code.startswith("PRD6")]
    config = Config(rule_options={code: dict(options) for code in codes} if options else {})
    return Checker(config, rules=[all_rules()[code] for code in codes])


def mypy_cases(mypy: Path) -> list[tuple[str, str]]:
    text = (mypy / "test-data" / "unit" / "check-flags.test").read_text(encoding="utf-8")
    cases = re.split(r"^\[case ", text, flags=re.M)
    found = []
    for case in cases:
        name, _, body = case.partition("]\n")
        if not name.startswith("testDisallowAnyExplicit"):
            continue
        source = body.split("\n[", 1)[0]  # up to [builtins ...] / [out]
        found.append((name, source))
    return found


def score_mypy(mypy: Path) -> None:
    check = checker()
    positives = hits = false_alarms = 0
    differences = []
    for name, source in mypy_cases(mypy):
        lines = source.splitlines()
        labelled = {n for n, line in enumerate(lines, 1) if MYPY_LABEL in line}
        flagged = {f.line for f in check.check_text(source, "case.py")}
        positives += len(labelled)
        hits += len(labelled & flagged)
        false_alarms += len(flagged - labelled)
        for number in sorted(labelled ^ flagged):
            kind = "missed" if number in labelled else "extra"
            differences.append(f"  {kind:6s} {name}:{number}: {lines[number - 1].strip()}")
    print(
        f"mypy testDisallowAnyExplicit*: {len(mypy_cases(mypy))} cases, "
        f"{positives} labelled lines, "
        f"recall {hits}/{positives} = {hits / max(positives, 1):.0%}, false alarms {false_alarms}"
    )
    print("\n".join(differences))


def ruff_snapshot_positions(snapshot: str) -> set[tuple[int, int]]:
    """(line, col) of each ANN401 diagnostic in a ruff snapshot."""
    found = set()
    for match in re.finditer(r"^ANN401 .*\n\s*--> [^:]+:(\d+):(\d+)", snapshot, flags=re.M):
        found.add((int(match[1]), int(match[2])))
    return found


def git_show(repo: Path, path: str) -> str:
    return subprocess.run(
        [
            "git",
            "--git-dir",
            str(repo / ".git") if (repo / ".git").exists() else str(repo),
            "show",
            f"HEAD:{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def score_ruff(repo: Path) -> None:
    base = "crates/ruff_linter"
    for snap, (fixture, allow_star) in RUFF_CASES.items():
        snapshot = git_show(repo, f"{base}/src/rules/flake8_annotations/snapshots/{snap}")
        source = git_show(repo, f"{base}/resources/test/fixtures/flake8_annotations/{fixture}")
        truth = Counter(line for line, _ in ruff_snapshot_positions(snapshot))
        lines = source.splitlines()
        for label, options in (
            ("prodlint defaults", {}),
            ("same star-args setting as ruff", {"allow-star-args": allow_star}),
        ):
            # ANN401 covers what prodlint splits into PRD601 (bare) and PRD602 (in a union),
            # and points at the annotation where prodlint points at the `Any`: compared per
            # line, as many findings as ruff reports there.
            found = Counter(
                f.line
                for f in checker(**options).check_text(source, fixture)
                if f.code in ("PRD601", "PRD602")
            )
            hits = sum((truth & found).values())
            total = sum(truth.values())
            print(
                f"ruff ANN401 {fixture} ({label}): {total} labelled, recall {hits}/{total}"
                f" = {hits / max(total, 1):.0%}, extra {sum((found - truth).values())}"
            )
            for line in sorted(set(truth - found) | set(found - truth)):
                kind = "missed" if truth[line] > found[line] else "extra"
                print(f"  {kind:6s} {fixture}:{line}: {lines[line - 1].strip()}")


def real_projects(mypy_check: set[str]) -> None:
    check = checker()
    for requirement, (folder, package) in PROJECTS.items():
        try:
            root = sdists.fetch(requirement) / folder / package
        except sdists.FetchError as error:
            print(f"{requirement}: skipped ({error})")
            continue
        counts: Counter[str] = Counter()
        fixable = 0
        files = sorted(root.rglob("*.py"))
        for path in files:
            for finding in check.check_text(
                path.read_text(encoding="utf-8"), str(path.relative_to(root))
            ):
                counts[finding.code] += 1
                fixable += finding.fixable
        shown = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
        print(
            f"{requirement}: {len(files)} files, {sum(counts.values())} findings ({shown}),"
            f" {fixable} with a fix",
            flush=True,
        )
        name = requirement.split("==")[0]
        if name in mypy_check:
            mypy_before_after(root, package)


def mypy_before_after(source: Path, package: str) -> None:
    """mypy on the package as shipped and after ``prodlint fix --unsafe-fixes --select
    PRD6`` (the CLI, so the project facts that see overrides in other files are in play),
    each in a folder of its own so both are checked as the same package. Each new error is
    printed with the line it points at after the fix."""
    with tempfile.TemporaryDirectory() as work:
        before = Path(work) / "before" / package
        after = Path(work) / "after" / package
        shutil.copytree(source, before)
        shutil.copytree(source, after)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "prodlint",
                "fix",
                "--no-cache",
                "--unsafe-fixes",
                "--select",
                "PRD6",
                "--show-fixes",
                "--exit-zero",
                package,
            ],
            cwd=after.parent,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0 or "Traceback" in done.stderr:
            print(f"  prodlint fix failed on {package}:\n{done.stderr[-3000:]}")
            return
        changed = sum(
            (after / path.relative_to(before)).read_bytes() != path.read_bytes()
            for path in before.rglob("*.py")
        )
        errors = {side: mypy_errors(Path(work) / side, package) for side in ("before", "after")}
        old = Counter((path, message) for path, _, message in errors["before"])
        new = []
        for path, line, message in errors["after"]:
            if old[(path, message)]:
                old[(path, message)] -= 1
            else:
                new.append((path, line, message))
        print(
            f"  mypy on {package}: {changed} files fixed, errors before "
            f"{len(errors['before'])}, after {len(errors['after'])}, new {len(new)}",
            flush=True,
        )
        for path, line, message in new:
            lines = (after.parent / path).read_text(encoding="utf-8").splitlines()
            shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            print(f"    new: {path}:{line}: {message}\n         {shown}")


def mypy_errors(folder: Path, package: str) -> list[tuple[str, int, str]]:
    """mypy's errors (defaults, no project config, third-party imports as Any) as
    (path, line, message)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--ignore-missing-imports",
            "--no-incremental",
            "--no-error-summary",
            "--cache-dir",
            str(folder / ".mypy_cache"),
            "-p",
            package,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    errors = []
    for line in done.stdout.splitlines():
        match = re.match(r"^([^:]+):(\d+): error: (.*)$", line)
        if match:
            errors.append((match[1], int(match[2]), match[3]))
    return errors


def speed(django: Path) -> None:
    trees = []
    for path in sorted((django / "django").rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        trees.append((str(path.relative_to(django)), text, ast.parse(text)))
    rules = all_rules()
    runs = {
        "walk only": [],
        "all rules but PRD6": [rule for code, rule in rules.items() if not code.startswith("PRD6")],
        "all rules": list(rules.values()),
    }
    best: dict[str, float] = {}
    for label, chosen in runs.items():
        check = Checker(Config(), rules=chosen)
        times = []
        for _ in range(3):
            start = time.process_time()
            for relative, text, tree in trees:
                check.check_text(text, relative, tree=tree)
            times.append(time.process_time() - start)
        best[label] = min(times)
        print(f"django/ {label}: {best[label]:.3f} s CPU")
    added = best["all rules"] - best["all rules but PRD6"]
    print(
        f"PRD6 adds {added:.3f} s = {added / best['all rules but PRD6']:.1%}"
        " to the other rules' check"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mypy-check",
        default="httpx,rich,attrs,starlette,fastapi,typer",
        help="projects to type-check before/after the fixes (pydantic, sqlalchemy take minutes)",
    )
    parser.add_argument("--ruff", type=Path, default=RUFF_MIRROR, help="a clone of astral-sh/ruff")
    parser.add_argument(
        "--speed", action="store_true", help="time the family on Django's django/ too"
    )
    args = parser.parse_args(argv)
    if args.speed:
        speed(sdists.fetch("django==5.2.8"))
    try:
        score_mypy(sdists.fetch(MYPY))
    except sdists.FetchError as error:
        print(f"mypy cases skipped: {error}")
    if args.ruff.exists():
        score_ruff(args.ruff)
    else:
        print(f"ruff ANN401 cases skipped: no clone at {args.ruff}")
    real_projects({name for name in args.mypy_check.split(",") if name})
    return 0


if __name__ == "__main__":
    sys.exit(main())
