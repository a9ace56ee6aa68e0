"""The logging family's fixes against real test suites: a project's own tests run on its
pinned sdist as released, after ``prodlint fix --select PRD5`` (safe fixes) and after
``--unsafe-fixes``; every test whose outcome changed is listed, with the fixes applied.

    python bench/logging_suites.py [--only mkdocs] [--keep DIR]

Each project gets a virtualenv in a temporary folder with its released wheel installed for
the dependencies; the tests then import the checked-out copy (it comes first on the path).
Needs PyPI (pip) and a few minutes.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import FixFailed, fix_text
from prodlint.registry import all_rules
from sdists import fetch


@dataclass(frozen=True)
class Suite:
    requirement: str
    install: tuple[str, ...]  # what pip installs for the dependencies
    package: str  # the folder the fixes touch
    command: tuple[str, ...]  # run from the sdist's top folder


SUITES = (
    Suite(
        "mkdocs==1.6.0",
        ("mkdocs[i18n]==1.6.0",),
        "mkdocs",
        ("-m", "unittest", "discover", "-v", "-s", "mkdocs", "-p", "*tests.py", "-t", "."),
    ),
    Suite(
        "kombu==5.3.4",
        ("kombu==5.3.4", "pytest==7.4.3", "hypothesis", "pytest-freezer", "python-etcd"),
        "kombu",
        (
            "-m",
            "pytest",
            "-q",
            "-rA",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",
            "t/unit",
        ),
    ),
)
# unittest -v: "test_name (module.Class.test_name) ... ok"; pytest -rA: "PASSED t/x.py::test".
UNITTEST_LINE = re.compile(
    r"^(?P<name>\S+ \([\w.]+\)) \.\.\. (?P<outcome>ok|FAIL|ERROR|skipped.*|expected failure)"
)
PYTEST_LINE = re.compile(
    r"^(?P<outcome>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (?P<name>\S+::\S+)"
)


def outcomes(python: Path, suite: Suite, root: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(python), *suite.command],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    found: dict[str, str] = {}
    for line in (done.stdout + done.stderr).splitlines():
        match = UNITTEST_LINE.match(line) or PYTEST_LINE.match(line)
        if match:
            found[match.group("name")] = match.group("outcome").split()[0].lower()
    if not found:
        raise RuntimeError(
            f"no test results from {suite.requirement}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return found


def apply_fixes(root: Path, package: str, unsafe: bool) -> collections.Counter[str]:
    checker = Checker(
        Config(), rules=[rule for code, rule in all_rules().items() if code.startswith("PRD5")]
    )
    applied: collections.Counter[str] = collections.Counter()
    for path in sorted((root / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            result = fix_text(text, path.relative_to(root).as_posix(), checker, unsafe=unsafe)
        except FixFailed as error:
            applied[f"failed: {error}"] += 1
            continue
        if result.changed:
            path.write_text(result.text, encoding="utf-8")
            applied.update(f"{f.code} {f.fix.value}" for f in result.applied)
    return applied


def compare(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [
        f"{name}: {before.get(name, 'absent')} -> {after.get(name, 'absent')}"
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]


def run_suite(suite: Suite, workdir: Path) -> None:
    source = fetch(suite.requirement)
    env_dir = workdir / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *suite.install], check=True, timeout=1800
    )
    copies = {}
    for tier in ("released", "safe", "unsafe"):
        copies[tier] = workdir / tier
        shutil.copytree(source, copies[tier])
    fixes = {
        "safe": apply_fixes(copies["safe"], suite.package, unsafe=False),
        "unsafe": apply_fixes(copies["unsafe"], suite.package, unsafe=True),
    }
    results = {tier: outcomes(python, suite, root) for tier, root in copies.items()}
    base = results["released"]
    counts = collections.Counter(base.values())
    sys.stdout.write(f"{suite.requirement}: {len(base)} tests as released ({dict(counts)})\n")
    for tier in ("safe", "unsafe"):
        changed = compare(base, results[tier])
        sys.stdout.write(
            f"  after {tier} fixes ({dict(fixes[tier])}): {len(changed)} tests changed outcome\n"
        )
        for line in changed:
            sys.stdout.write(f"    {line}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="only these projects"
    )
    parser.add_argument(
        "--keep", type=Path, help="work here and keep the copies (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    for suite in SUITES:
        if args.only and suite.requirement.partition("==")[0] not in args.only:
            continue
        if args.keep:
            workdir = args.keep / suite.package
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            run_suite(suite, workdir)
        else:
            with tempfile.TemporaryDirectory() as temp:
                run_suite(suite, Path(temp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
