"""Do prodlint's fixes keep real test suites green? (issue 8 "Proof that stays", issue 13)

For each pinned sdist (mkdocs 1.6.0, kombu 5.3.4, celery 5.3.6, Django 4.2.16):

1. fetch it (bench/sdists.py), make a venv under the work folder and install the project
   with its test requirements (PyPI wheels for the dependencies);
2. copy the tree and run ``prodlint fix`` (safe fixes, the default) on one copy and
   ``prodlint fix --unsafe-fixes`` on another;
3. run the project's tests on the untouched copy and on each fixed copy (the copy first on
   ``PYTHONPATH``, so it shadows the installed package) and compare the outcome of every test
   id; a test whose outcome differs is run again on both sides, so a flaky test is not
   blamed on a fix;
4. for every difference, apply each fixed file alone to the untouched tree and rerun the
   differing tests: the files (and their hunks) that change the result are listed;
5. module output: every file a safe fix touched that is a script or CLI entry point (a
   ``__main__`` guard or a shebang) runs with ``--help`` before and after, with a timeout,
   and its stdout, stderr and exit status are compared.

Where a whole suite is too long for a 2-core machine, only the test modules related to the
files the fixes touch run (test modules the fixes touch, or that name a touched module); the
table says which. Nothing is written inside the repository.

    python bench/real_suites.py                      # every project
    python bench/real_suites.py --only mkdocs kombu  # some
    python bench/real_suites.py --workdir /tmp/x     # default /tmp/prodlint-real-suites
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sdists

PRODLINT = [sys.executable, "-m", "prodlint"]
MAX_SELECTED = 40  # test modules (or Django test apps) per project when the suite is cut down
MAX_BLAMED_TESTS = 50  # differing tests rerun to find the files that change them
SCRIPT_TIMEOUT = 30


@dataclass
class Project:
    name: str
    requirement: str
    # pip arguments after the project itself (test requirements, relative to the sdist)
    test_requirements: list[str]
    runner: str  # "pytest" or "django"
    tests: str  # the test folder, relative to the sdist
    pytest_args: list[str] = field(default_factory=list)
    whole_suite: bool = True  # False: only the test modules related to the fixes
    # CLIs whose --help is compared before and after even when no fix touches the file
    # itself (they import what the fixes touched).
    entry_points: list[str] = field(default_factory=list)
    timeout: int = 1800


PROJECTS = [
    Project(
        "mkdocs",
        "mkdocs==1.6.0",
        ["pytest", "babel"],
        "pytest",
        "mkdocs/tests",
        ["-o", "python_files=*tests.py", "--ignore=mkdocs/tests/integration"],
        entry_points=["mkdocs/__main__.py"],
    ),
    # kombu's requirements/test.txt, and the transports' libraries its unit tests import.
    Project(
        "kombu",
        "kombu==5.3.4",
        [
            "-r",
            "requirements/test.txt",
            "boto3",
            "PyYAML",
            "msgpack",
            "redis",
            "sqlalchemy",
            "pymongo",
        ],
        "pytest",
        "t/unit",
    ),
    # celery's requirements/test.txt, less mypy and pre-commit (not used by the unit tests).
    Project(
        "celery",
        "celery==5.3.6",
        [
            "pytest==7.4.3",
            "pytest-celery==0.0.0",
            "pytest-subtests==0.11.0",
            "pytest-timeout==2.2.0",
            "pytest-click==1.1.0",
            "pytest-order==1.2.0",
            "boto3>=1.26.143",
            "moto>=4.1.11,<5",
            "PyYAML",
            "msgpack",
        ],
        "pytest",
        "t/unit",
        whole_suite=False,
        entry_points=["celery/__main__.py"],
    ),
    # Django's tests/requirements/py3.txt needs system libraries (pylibmc, ...); the tests
    # whose optional dependencies are missing skip the same way before and after a fix.
    Project(
        "django",
        "django==4.2.16",
        ["tblib", "Jinja2", "PyYAML", "Pillow", "argon2-cffi", "bcrypt"],
        "django",
        "tests",
        whole_suite=False,
        timeout=2400,
        entry_points=["django/__main__.py"],
    ),
]

Outcomes = dict[str, str]  # test id -> passed / failed / error / skipped


def run(
    command: Sequence[str],
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(command),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        out = (
            error.stdout.decode("utf-8", "replace")
            if isinstance(error.stdout, bytes)
            else (error.stdout or "")
        )
        err = (
            error.stderr.decode("utf-8", "replace")
            if isinstance(error.stderr, bytes)
            else (error.stderr or "")
        )
        return subprocess.CompletedProcess(
            list(command), -9, out, err + f"\n[timed out after {timeout} s]"
        )


def project_named(name: str) -> Project:
    return next(candidate for candidate in PROJECTS if candidate.name == name)


def venv_for(project: Project, source: Path, workdir: Path) -> Path:
    """A venv with the project and its test requirements; made once (under a lock, for
    parallel test workers), reused after. Raises sdists.FetchError when pip fails."""
    venv = workdir / "venvs" / project.name
    python = venv / "bin" / "python"
    marker = venv / ".prodlint-ready"
    venv.parent.mkdir(parents=True, exist_ok=True)
    wanted = json.dumps([project.requirement, *project.test_requirements]) + "\n"
    with sdists.locked(venv.parent / f"{project.name}.lock"):
        if marker.exists() and marker.read_text() == wanted:
            return python
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for arguments in (
            ["-U", "pip", "setuptools", "wheel"],
            [str(source)],
            project.test_requirements,
        ):
            done = run([*pip, *arguments], cwd=source, timeout=1800)
            if done.returncode != 0:
                raise sdists.FetchError(
                    f"{project.name}: pip install {' '.join(arguments)} failed:\n"
                    f"{done.stderr[-3000:]}"
                )
        marker.write_text(wanted)
    return python


def copy_tree(source: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    return target


def python_files(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = path.read_text(
                encoding="utf-8", errors="surrogateescape"
            )
    return found


def fix(tree: Path, unsafe: bool) -> dict[str, tuple[str, str]]:
    """Run ``prodlint fix`` on the tree; the files it changed, as (before, after)."""
    before = python_files(tree)
    command = [*PRODLINT, "fix", "--no-cache", *(["--unsafe-fixes"] if unsafe else []), "."]
    done = run(command, cwd=tree, timeout=3600)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise SystemExit(
            f"prodlint fix failed in {tree}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    after = python_files(tree)
    return {name: (before[name], after[name]) for name in before if after.get(name) != before[name]}


def hunks(before: str, after: str, name: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"a/{name}", f"b/{name}", n=1
        )
    )
    found: list[str] = []
    for line in lines[2:]:
        if line.startswith("@@"):
            found.append(line)
        elif found:
            found[-1] += line if line.endswith("\n") else line + "\n"
    return found


def module_name(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def related_tests(project: Project, root: Path, touched: Sequence[str]) -> list[str]:
    """Test modules (pytest) or test apps (Django) that a fix touches or that name a touched
    module, the most related first."""
    tests_root = root / project.tests
    modules = [module_name(name) for name in touched if not name.startswith(project.tests + "/")]
    patterns = []
    for module in modules:
        parent, _, leaf = module.rpartition(".")
        patterns.append(re.compile(rf"\b{re.escape(module)}\b"))
        if parent:
            patterns.append(
                re.compile(rf"from\s+{re.escape(parent)}\s+import\s+[^\n]*\b{re.escape(leaf)}\b")
            )
    scores: dict[str, int] = {}
    for path in sorted(tests_root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if project.runner == "django":
            parts = path.relative_to(tests_root).parts
            # gis_tests make runtests abort without a GIS database backend.
            if len(parts) < 2 or parts[0] in DJANGO_NEEDS_SERVICES:
                continue
            unit = parts[0]
        else:
            unit = relative
        text = path.read_text(encoding="utf-8", errors="replace")
        score = sum(1 for pattern in patterns if pattern.search(text)) + (
            10 if relative in touched else 0
        )
        if score:
            scores[unit] = scores.get(unit, 0) + score
    ranked = sorted(scores, key=lambda unit: (-scores[unit], unit))
    if project.runner == "pytest":
        python_files_pattern = next(
            (a.split("=", 1)[1] for a in project.pytest_args if a.startswith("python_files=")),
            "test_*.py",
        )
        suffix = python_files_pattern.replace("*", "")
        ranked = [
            unit for unit in ranked if unit.endswith(suffix) or Path(unit).name.startswith("test_")
        ]
    return ranked[:MAX_SELECTED]


def pytest_outcomes(report: Path) -> Outcomes:
    outcomes: Outcomes = {}
    if not report.exists():
        return outcomes
    for case in ET.parse(report).iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        outcome = "passed"
        if "failure" in kinds:
            outcome = "failed"
        elif "error" in kinds:
            outcome = "error"
        elif "skipped" in kinds:
            outcome = "skipped"
        # A test that fails in its teardown appears twice; the worse outcome holds.
        if outcomes.get(test_id) in ("failed", "error") and outcome == "passed":
            continue
        outcomes[test_id] = outcome
    return outcomes


DJANGO_NEEDS_SERVICES = frozenset({"gis_tests"})
DJANGO_LINE = re.compile(
    r"^(?P<name>\w+) \((?P<where>[\w.]+)\)(?:\n.*?)? \.\.\. (?P<outcome>ok|FAIL|ERROR|skipped|expected failure|"
    r"unexpected success)",
    re.MULTILINE,
)
DJANGO_OUTCOMES = {
    "ok": "passed",
    "FAIL": "failed",
    "ERROR": "error",
    "skipped": "skipped",
    "expected failure": "passed",
    "unexpected success": "failed",
}


def run_tests(
    project: Project,
    python: Path,
    tree: Path,
    selection: Sequence[str] | None,
    ids: Sequence[str] | None = None,
) -> tuple[Outcomes, float, str]:
    """Run the tests (all, a selection of modules/apps, or given test ids) in ``tree``."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "PYTHON"))
    }
    env["PYTHONPATH"] = str(tree)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    start = time.perf_counter()
    if project.runner == "pytest":
        report = tree / ".prodlint-junit.xml"
        report.unlink(missing_ok=True)
        if ids is not None:
            targets = [pytest_node(tree, test_id) for test_id in ids]
        else:
            targets = list(selection) if selection is not None else [project.tests]
        command = [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--continue-on-collection-errors",
            *project.pytest_args,
            f"--junitxml={report}",
            *targets,
        ]
        done = run(command, cwd=tree, timeout=project.timeout, env=env)
        outcomes = pytest_outcomes(report)
    else:
        labels = list(ids) if ids is not None else list(selection or [])
        command = [
            str(python),
            "runtests.py",
            "--settings=test_sqlite",
            "--parallel=2",
            "-v",
            "2",
            "--noinput",
            *labels,
        ]
        done = run(command, cwd=tree / project.tests, timeout=project.timeout, env=env)
        outcomes = {
            f"{m['where']}": DJANGO_OUTCOMES[m["outcome"]]
            for m in DJANGO_LINE.finditer(done.stderr)
        }
    return outcomes, time.perf_counter() - start, done.stdout[-1500:] + done.stderr[-1500:]


def pytest_node(tree: Path, test_id: str) -> str:
    """A junit ``classname::name`` back to a pytest node id (``t/unit/x.py::Class::test``)."""
    classname, _, name = test_id.partition("::")
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        candidate = "/".join(parts[:cut]) + ".py"
        if (tree / candidate).is_file():
            return "::".join([candidate, *parts[cut:], name])
    return test_id


def compare(before: Outcomes, after: Outcomes) -> dict[str, tuple[str, str]]:
    return {
        test: (before.get(test, "missing"), after.get(test, "missing"))
        for test in sorted(set(before) | set(after))
        if before.get(test) != after.get(test)
    }


@dataclass
class Side:
    label: str
    files: dict[str, tuple[str, str]]
    outcomes: Outcomes = field(default_factory=dict)
    seconds: float = 0.0
    differences: dict[str, tuple[str, str]] = field(default_factory=dict)
    blame: dict[str, list[str]] = field(default_factory=dict)  # file -> tests it changes
    scripts: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def hunk_count(self) -> int:
        return sum(len(hunks(before, after, name)) for name, (before, after) in self.files.items())


def confirm(
    project: Project,
    python: Path,
    base: Path,
    tree: Path,
    differing: dict[str, tuple[str, str]],
) -> dict[str, tuple[str, str]]:
    """Rerun differing tests on both trees; only differences that hold are kept."""
    if not differing:
        return {}
    ids = sorted(differing)
    again_base, _, _ = run_tests(project, python, base, None, ids=ids)
    again_fixed, _, _ = run_tests(project, python, tree, None, ids=ids)
    held = compare(again_base, again_fixed)
    return {
        test: differing[test] for test in ids if test in held or not again_base or not again_fixed
    }


def blame(project: Project, python: Path, base: Path, workdir: Path, side: Side) -> None:
    """Which fixed files change which of the differing tests: the fixed files are applied to
    one copy of the untouched tree in halves, and a half that changes results is split
    again (a few test runs for a few guilty files among many)."""
    ids = sorted(side.differences)[:MAX_BLAMED_TESTS]
    trial = copy_tree(base, workdir / "trial")
    reference, _, _ = run_tests(project, python, trial, None, ids=ids)

    def changed_by(names: Sequence[str]) -> dict[str, tuple[str, str]]:
        for name in names:
            (trial / name).write_text(
                side.files[name][1], encoding="utf-8", errors="surrogateescape"
            )
        try:
            outcomes, _, _ = run_tests(project, python, trial, None, ids=ids)
        finally:
            for name in names:
                (trial / name).write_text(
                    side.files[name][0], encoding="utf-8", errors="surrogateescape"
                )
        return compare(reference, outcomes)

    def search(names: Sequence[str]) -> None:
        changed = changed_by(names)
        if not changed:
            return
        if len(names) == 1:
            side.blame[names[0]] = sorted(changed)
            return
        half = len(names) // 2
        before = len(side.blame)
        search(names[:half])
        search(names[half:])
        if len(side.blame) == before:  # only the files together change the result
            side.blame[" + ".join(names)] = sorted(changed)

    search(sorted(side.files))


def is_entry_point(text: str) -> bool:
    return (
        text.startswith("#!")
        or re.search(r"^if\s+__name__\s*==\s*['\"]__main__['\"]", text, re.MULTILINE) is not None
    )


def script_command(python: Path, root: Path, relative: str) -> list[str]:
    path = root / relative
    in_package = (path.parent / "__init__.py").exists()
    if in_package:
        return [str(python), "-m", module_name(relative), "--help"]
    return [str(python), relative, "--help"]


def script_output(python: Path, root: Path, relative: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(root)
    done = run(script_command(python, root, relative), cwd=root, timeout=SCRIPT_TIMEOUT, env=env)
    text = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    # A traceback's line numbers move with any added line (an import); its text is the point.
    return re.sub(r'(File "[^"]+", line )\d+', r"\1N", text.replace(str(root), "<root>"))


def check_scripts(project: Project, python: Path, base: Path, tree: Path, side: Side) -> None:
    """Run every touched script or CLI, and the project's own CLIs, with ``--help`` on both trees."""
    touched = [name for name, (before, _) in side.files.items() if is_entry_point(before)]
    for name in sorted({*touched, *project.entry_points}):
        old, new = script_output(python, base, name), script_output(python, tree, name)
        side.scripts.append(
            (
                name,
                old == new,
                "".join(
                    difflib.unified_diff(
                        old.splitlines(True), new.splitlines(True), "before", "after", n=2
                    )
                ),
            )
        )


def summarise(outcomes: Outcomes) -> str:
    counts = {kind: 0 for kind in ("passed", "failed", "error", "skipped")}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return "/".join(str(counts[kind]) for kind in ("passed", "failed", "error", "skipped"))


def measure(project: Project, workdir: Path, log: Callable[[str], None]) -> dict[str, object]:
    source = sdists.fetch(project.requirement)
    log(f"{project.name}: venv and dependencies ...")
    python = venv_for(project, source, workdir)
    root = workdir / project.name
    base = copy_tree(source, root / "base")
    sides = []
    for label, unsafe in (("safe", False), ("unsafe", True)):
        tree = copy_tree(source, root / label)
        log(f"{project.name}: prodlint fix{' --unsafe-fixes' if unsafe else ''} ...")
        sides.append((Side(label, fix(tree, unsafe)), tree))
    touched = sorted({name for side, _ in sides for name in side.files})
    selection = None if project.whole_suite else related_tests(project, base, touched)
    if selection is not None and not selection:
        log(f"{project.name}: no test module is related to the {len(touched)} fixed files")
    log(
        f"{project.name}: tests on the untouched tree ({'all' if selection is None else len(selection)}) ..."
    )
    reference, seconds, tail = run_tests(project, python, base, selection)
    if not reference:
        log(f"{project.name}: no test results; the runner said:\n{tail}")
    for side, tree in sides:
        if not side.files:
            side.outcomes = reference
            continue
        log(f"{project.name}: tests after the {side.label} fix ...")
        side.outcomes, side.seconds, _ = run_tests(project, python, tree, selection)
        side.differences = confirm(project, python, base, tree, compare(reference, side.outcomes))
        if side.differences:
            log(
                f"{project.name}: {len(side.differences)} tests differ after the {side.label} fix; finding the files ..."
            )
            blame(project, python, base, root, side)
        if side.label == "safe":
            check_scripts(project, python, base, tree, side)
    return {
        "project": project.requirement,
        "selection": "whole suite" if selection is None else selection,
        "base": summarise(reference),
        "base_seconds": round(seconds, 1),
        "sides": {
            side.label: {
                "files": len(side.files),
                "hunks": side.hunk_count,
                "result": summarise(side.outcomes),
                "differences": {test: list(change) for test, change in side.differences.items()},
                "blame": {
                    key: {
                        "tests": tests,
                        "hunks": [
                            hunk
                            for name in key.split(" + ")
                            for hunk in hunks(*side.files[name], name)
                        ],
                    }
                    for key, tests in side.blame.items()
                },
                "scripts": [
                    {"file": name, "same": same, "diff": diff} for name, same, diff in side.scripts
                ],
            }
            for side, _ in sides
        },
    }


def table(results: Sequence[dict[str, object]]) -> str:
    header = (
        "project",
        "tests",
        "before p/f/e/s",
        "fix",
        "files",
        "hunks",
        "after p/f/e/s",
        "changed tests",
        "scripts same",
    )
    rows = [header]
    for result in results:
        selection = result["selection"]
        tests = "whole suite" if selection == "whole suite" else f"{len(selection)} modules"  # type: ignore[arg-type]
        sides = result["sides"]
        assert isinstance(sides, dict)
        for label, side in sides.items():
            scripts = side["scripts"]
            rows.append(
                (
                    str(result["project"]),
                    tests,
                    str(result["base"]),
                    label,
                    str(side["files"]),
                    str(side["hunks"]),
                    side["result"],
                    str(len(side["differences"])),
                    f"{sum(s['same'] for s in scripts)}/{len(scripts)}" if label == "safe" else "-",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows
    )


def details(results: Sequence[dict[str, object]]) -> str:
    out = []
    for result in results:
        sides = result["sides"]
        assert isinstance(sides, dict)
        for label, side in sides.items():
            for test, (old, new) in side["differences"].items():
                out.append(f"{result['project']} {label}: {test}: {old} -> {new}")
            for name, blamed in side["blame"].items():
                out.append(
                    f"{result['project']} {label}: {name} changes {len(blamed['tests'])} tests: "
                    + ", ".join(blamed["tests"][:5])
                )
                out.extend("    " + line for hunk in blamed["hunks"] for line in hunk.splitlines())
            for script in side["scripts"]:
                if not script["same"]:
                    out.append(
                        f"{result['project']} {label}: {script['file']} prints differently:\n{script['diff']}"
                    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", choices=[project.name for project in PROJECTS])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/prodlint-real-suites"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    version = run([*PRODLINT, "--version"], cwd=args.workdir, timeout=60).stdout.strip()

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    log(f"{version}; work folder {args.workdir}")
    results = []
    for project in PROJECTS:
        if args.only and project.name not in args.only:
            continue
        results.append(measure(project, args.workdir, log))
        (args.workdir / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print(details(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
