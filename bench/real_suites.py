"""Do prodlint's fixes keep real test suites green? (issue 8 "Proof that stays", issue 13
"Fixes keep real test suites green, for every family")

For each pinned sdist (mkdocs 1.6.0, kombu 5.3.4, celery 5.3.6 and Django 5.2.8 for the
logging, SQL and N+1 fixes; requests 2.32.3, urllib3 2.2.3 and httpx 0.27.2 for the cleanup,
config and typing fixes):

1. fetch it (bench/sdists.py), make a venv under the work folder and install the project
   with its test requirements (PyPI wheels for the dependencies);
2. copy the tree and run ``prodlint fix`` (safe fixes, the default) on one copy and
   ``prodlint fix --unsafe-fixes`` on another;
3. run the project's tests on the untouched copy and on each fixed copy (the copy first on
   ``PYTHONPATH``, so it shadows the installed package) and compare the outcome of every test
   id; a test whose outcome differs is run again on both sides, so a flaky test is not
   blamed on a fix;
4. for every difference, the fix's hunks are applied to a copy of the untouched tree in
   halves (bench/hunks.py), a half that changes the differing tests is split again, down to
   the hunk: each differing test is listed with its hunk (path, line, rule code, diff);
5. module output: every file a safe fix touched that is a script or CLI entry point (a
   ``__main__`` guard or a shebang), and the project's own CLIs, run with ``--help`` before
   and after, with a timeout, and their stdout, stderr and exit status are compared;
6. typing: for a typed project, ``mypy`` (pinned) runs on the package before and after each
   fix; the error count must not grow, and each new error is listed with the hunk under it.

Where a whole suite is too long for a 2-core machine (Django, celery), the test modules or
apps related to the files the fixes touch run (touched ones, or ones that name a touched
module), plus a fixed slice; the result says which. Nothing is written inside the
repository except the results JSON (``--results``).

    python bench/real_suites.py                       # every project
    python bench/real_suites.py --only mkdocs kombu   # some
    python bench/real_suites.py --select PRD5         # one family's fixes (as logging_suites did)
    python bench/real_suites.py --workdir /tmp/x      # default /tmp/prodlint-real-suites
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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hunks
import sdists

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

PRODLINT = [sys.executable, "-m", "prodlint"]
MAX_SELECTED = 40  # test modules (or Django test apps) per project when the suite is cut down
MAX_BLAMED_TESTS = 50  # differing tests rerun to find the hunks that change them
SCRIPT_TIMEOUT = 30
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Project:
    name: str
    requirement: str
    # pip arguments after the project itself (test requirements, relative to the sdist)
    test_requirements: list[str]
    runner: str  # "pytest" or "django"
    tests: str  # the test folder, relative to the sdist
    pytest_args: list[str] = field(default_factory=list)
    whole_suite: bool = True  # False: only the test modules related to the fixes (+ slice)
    # test modules or Django apps that run on top of the related ones when the suite is cut
    slice: list[str] = field(default_factory=list)
    # CLIs whose --help is compared before and after even when no fix touches the file
    # itself (they import what the fixes touched).
    entry_points: list[str] = field(default_factory=list)
    timeout: int = 1800
    extras: str = ""  # the project's own extras, as "[a,b]"
    import_roots: list[str] = field(default_factory=lambda: [""])  # PYTHONPATH, in the tree
    mypy: list[str] = field(default_factory=list)  # mypy's arguments (typed projects)


# Large Django apps that run next to the ones related to the fixes (the settings every app
# reads, mail, the cache, migrations, the admin): the whole suite is ~18k tests, too long
# for three runs (and the blame) on 2 shared cores.
DJANGO_SLICE = ["admin_views", "auth_tests", "cache", "mail", "migrations", "model_fields"]
MYPY = "mypy==1.13.0"

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
        entry_points=["celery/__main__.py"],
    ),
    # Django's tests/requirements/py3.txt less what needs system libraries or services
    # (pylibmc, selenium, redis, watchman); tests whose optional dependencies are missing
    # skip the same way before and after a fix.
    Project(
        "django",
        "django==5.2.8",
        ["tblib", "Jinja2", "PyYAML", "Pillow", "argon2-cffi", "bcrypt", "numpy", "docutils"],
        "django",
        "tests",
        whole_suite=False,
        slice=DJANGO_SLICE,
        timeout=3600,
        entry_points=["django/__main__.py"],
    ),
    # requests' requirements-dev.txt (pytest-httpbin serves httpbin on loopback: offline).
    Project(
        "requests",
        "requests==2.32.3",
        ["pytest>=7,<9", "pytest-httpbin==2.0.0", "httpbin~=0.10.0", "trustme", "PySocks"],
        "pytest",
        "tests",
        ["-p", "no:warnings", "-o", "timeout=60"],
        import_roots=["src", ""],
    ),
    # urllib3's dev-requirements.txt from PyPI (its hypercorn fork lives on GitHub; the
    # released hypercorn serves the loopback dummy servers).
    Project(
        "urllib3",
        "urllib3==2.2.3",
        [
            "pytest==8.0.2",
            "pytest-timeout==2.1.0",
            "PySocks==1.7.1",
            "h2==4.1.0",
            "trustme",
            "cryptography",
            "pyOpenSSL",
            "trio==0.26.2",
            "Quart==0.19.4",
            "flask==3.0.3",  # Quart 0.19.4 predates Flask 3.1's PROVIDE_AUTOMATIC_OPTIONS
            "werkzeug==3.0.6",
            "quart-trio==0.11.1",
            "hypercorn",
            "httpx==0.25.2",
            "pytest-socket==0.7.0",
            MYPY,
        ],
        "pytest",
        "test",
        # A dummy-server test that waits for a timeout it expects takes seconds; one that
        # hangs (the released hypercorn is not urllib3's fork) is cut at 20 s.
        ["-p", "no:warnings", "-o", "timeout=20"],
        import_roots=["src", ""],
        mypy=["src/urllib3"],
    ),
    # httpx's requirements.txt (its test servers run on loopback); typed strictly.
    Project(
        "httpx",
        "httpx==0.27.2",
        ["pytest", "trio", "trustme", "uvicorn", "chardet", "cryptography", MYPY],
        "pytest",
        "tests",
        ["-p", "no:warnings"],
        extras="[brotli,cli,http2,socks,zstd]",
        mypy=["httpx"],
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
    wanted = json.dumps([project.requirement + project.extras, *project.test_requirements]) + "\n"
    with sdists.locked(venv.parent / f"{project.name}.lock"):
        if marker.exists() and marker.read_text() == wanted:
            return python
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for arguments in (
            ["-U", "pip", "setuptools", "wheel"],
            [f"{source}{project.extras}"],
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


def selection_flags(select: str | None) -> list[str]:
    return ["--select", select] if select else []


def fix(tree: Path, unsafe: bool, select: str | None = None) -> dict[str, tuple[str, str]]:
    """Run ``prodlint fix`` on the tree; the files it changed, as (before, after)."""
    before = python_files(tree)
    command = [
        *PRODLINT,
        "fix",
        "--no-cache",
        *selection_flags(select),
        *(["--unsafe-fixes"] if unsafe else []),
        ".",
    ]
    done = run(command, cwd=tree, timeout=3600)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise SystemExit(
            f"prodlint fix failed in {tree}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    after = python_files(tree)
    return {name: (before[name], after[name]) for name in before if after.get(name) != before[name]}


def fixable_findings(tree: Path, select: str | None = None) -> list[hunks.Finding]:
    """The fixable findings of the untouched tree, to name the rule behind each hunk."""
    command = [*PRODLINT, "check", "--no-cache", "--format", "json", *selection_flags(select), "."]
    done = run(command, cwd=tree, timeout=3600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"prodlint check failed in {tree}:\n{done.stderr[-4000:]}") from None
    return [
        hunks.Finding(
            Path(item["path"]).as_posix().removeprefix("./"),
            item["line"],
            item.get("end_line") or item["line"],
            item["code"],
        )
        for item in report["findings"]
        if item.get("fix")
    ]


def split_fix(
    files: dict[str, tuple[str, str]], findings: Sequence[hunks.Finding]
) -> list[hunks.Hunk]:
    found = [
        hunk for name, (old, new) in sorted(files.items()) for hunk in hunks.split(name, old, new)
    ]
    return hunks.attribute(found, findings)


def module_name(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def related_tests(project: Project, root: Path, touched: Sequence[str]) -> list[str]:
    """Test modules (pytest) or test apps (Django) that a fix touches or that name a touched
    module, the most related first."""
    tests_root = root / project.tests
    modules = [
        module_name(name.removeprefix(prefix))
        for name in touched
        if not name.startswith(project.tests + "/")
        for prefix in [
            next((r + "/" for r in project.import_roots if r and name.startswith(r + "/")), "")
        ]
    ]
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
    return list(dict.fromkeys([*ranked[:MAX_SELECTED], *project.slice]))


TREE = "<tree>"  # the tree's path in a test id (parametrised by __file__), the same on every copy


def pytest_outcomes(report: Path, tree: Path) -> Outcomes:
    outcomes: Outcomes = {}
    if not report.exists():
        return outcomes
    for case in ET.parse(report).iter("testcase"):
        if not case.get("classname") or case.get("classname") == "pytest":
            # pytest's own crash (INTERNALERROR) or a collection error, not a test: the
            # tests it cost show as missing, and those are rerun one by one.
            continue
        test_id = f"{case.get('classname')}::{case.get('name')}".replace(str(tree), TREE)
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
    r"^(?P<name>\w+) \((?P<where>[\w.]+)\)(?:\n.*?)? \.\.\. "
    r"(?P<outcome>ok|FAIL|ERROR|skipped|expected failure|unexpected success)",
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


def tree_env(project: Project, tree: Path) -> dict[str, str]:
    """The environment a project's code runs in: the tree's copy first on the path, nothing
    of the caller's Python settings (pytest's, prodlint's own PYTHONPATH)."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "PYTHON"))
    }
    env["PYTHONPATH"] = os.pathsep.join(str(tree / root) for root in project.import_roots)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_tests(
    project: Project,
    python: Path,
    tree: Path,
    selection: Sequence[str] | None,
    ids: Sequence[str] | None = None,
) -> tuple[Outcomes, float, str]:
    """Run the tests (all, a selection of modules/apps, or given test ids) in ``tree``."""
    env = tree_env(project, tree)
    start = time.perf_counter()
    if project.runner == "pytest":
        report = tree / ".prodlint-junit.xml"
        report.unlink(missing_ok=True)
        if ids is not None:
            targets = [pytest_node(tree, test_id.replace(TREE, str(tree))) for test_id in ids]
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
        outcomes = pytest_outcomes(report, tree)
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
    fix_hunks: list[hunks.Hunk] = field(default_factory=list)
    outcomes: Outcomes = field(default_factory=dict)
    seconds: float = 0.0
    differences: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the hunks (one, or several that change the result only together) -> the tests they change
    blame: list[tuple[list[hunks.Hunk], list[str]]] = field(default_factory=list)
    scripts: list[tuple[str, bool, str]] = field(default_factory=list)
    mypy: dict[str, object] = field(default_factory=dict)


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


class Trial:
    """A copy of the untouched tree on which some hunks are applied, then taken back."""

    def __init__(self, base: Path, target: Path, side: Side) -> None:
        self.root = copy_tree(base, target)
        self.originals = {name: before for name, (before, _) in side.files.items()}
        self.support = [hunk for hunk in side.fix_hunks if hunk.supporting]

    def probe(self, chosen: Sequence[hunks.Hunk], look: Callable[[], list[str]]) -> list[str]:
        written = hunks.texts(self.originals, chosen, self.support)
        for name, text in written.items():
            (self.root / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            return look()
        finally:
            for name in written:
                (self.root / name).write_text(
                    self.originals[name], encoding="utf-8", errors="surrogateescape"
                )


def blame(project: Project, python: Path, base: Path, workdir: Path, side: Side) -> None:
    """Which hunks change which of the differing tests (hunks.bisect: a few reruns of those
    tests for a few guilty hunks among many)."""
    ids = sorted(side.differences)[:MAX_BLAMED_TESTS]
    trial = Trial(base, workdir / "trial", side)
    reference, _, _ = run_tests(project, python, trial.root, None, ids=ids)

    def changed_tests() -> list[str]:
        outcomes, _, _ = run_tests(project, python, trial.root, None, ids=ids)
        return sorted(compare(reference, outcomes))

    side.blame = hunks.bisect(side.fix_hunks, lambda chosen: trial.probe(chosen, changed_tests))


def is_entry_point(text: str) -> bool:
    return (
        text.startswith("#!")
        or re.search(r"^if\s+__name__\s*==\s*['\"]__main__['\"]", text, re.MULTILINE) is not None
    )


def console_scripts(root: Path) -> list[str]:
    """The project's console scripts (``[project.scripts]``), as ``module:function``."""
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return []
    scripts = tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {})
    return sorted(str(target) for target in scripts.values())


def script_command(python: Path, root: Path, relative: str) -> list[str]:
    if ":" in relative:  # a console script: call its function as the installed wrapper does
        module, _, function = relative.partition(":")
        call = (
            f"import sys; sys.argv[0] = {module.partition('.')[0]!r}; "
            f"from {module} import {function}; sys.exit({function}())"
        )
        return [str(python), "-c", call, "--help"]
    path = root / relative
    if path.name == "__init__.py":  # a package's CLI, run as ``python -m package``
        return [str(python), "-m", module_name(Path(relative).parent.as_posix()), "--help"]
    if (path.parent / "__init__.py").exists():
        return [str(python), "-m", module_name(relative), "--help"]
    return [str(python), relative, "--help"]


def script_output(project: Project, python: Path, root: Path, relative: str) -> str:
    env = tree_env(project, root)
    done = run(script_command(python, root, relative), cwd=root, timeout=SCRIPT_TIMEOUT, env=env)
    text = f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    # A traceback's line numbers move with any added line (an import); its text is the point.
    return re.sub(r'(File "[^"]+", line )\d+', r"\1N", text.replace(str(root), "<root>"))


def check_scripts(project: Project, python: Path, base: Path, tree: Path, side: Side) -> None:
    """Run every touched script or CLI, and the project's own CLIs, with ``--help`` on both
    trees."""
    touched = [name for name, (before, _) in side.files.items() if is_entry_point(before)]
    for name in sorted({*touched, *project.entry_points, *console_scripts(base)}):
        old = script_output(project, python, base, name)
        new = script_output(project, python, tree, name)
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


MYPY_ERROR = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<message>.*)$", re.MULTILINE)


def mypy_errors(project: Project, python: Path, tree: Path) -> list[tuple[str, int, str]]:
    """mypy's errors on the tree (its own config), as (path, line, message)."""
    command = [
        str(python),
        "-m",
        "mypy",
        "--no-incremental",
        "--show-error-codes",
        "--no-pretty",
        "--no-error-summary",
        *project.mypy,
    ]
    done = run(command, cwd=tree, timeout=1800, env=tree_env(project, tree))
    if done.returncode not in (0, 1):
        raise SystemExit(f"mypy failed in {tree}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return [(m["path"], int(m["line"]), m["message"]) for m in MYPY_ERROR.finditer(done.stdout)]


def new_errors(
    before: Sequence[tuple[str, int, str]], after: Sequence[tuple[str, int, str]]
) -> list[tuple[str, int, str]]:
    """mypy errors of ``after`` that ``before`` does not have (line numbers aside: a fix that
    adds an import moves every error below it)."""
    old = Counter((path, message) for path, _, message in before)
    found = []
    for path, line, message in after:
        if old[(path, message)]:
            old[(path, message)] -= 1
        else:
            found.append((path, line, message))
    return found


def check_types(
    project: Project,
    python: Path,
    before: Sequence[tuple[str, int, str]],
    base: Path,
    tree: Path,
    workdir: Path,
    side: Side,
) -> None:
    """mypy's error count after the fix; when it grew, the hunks behind the new errors."""
    added = new_errors(before, mypy_errors(project, python, tree))
    blamed: hunks.Blame = []
    if added:
        trial = Trial(base, workdir / "trial", side)

        def errors() -> list[str]:
            found = new_errors(before, mypy_errors(project, python, trial.root))
            return [f"{path}: {message}" for path, _, message in found]

        blamed = hunks.bisect(side.fix_hunks, lambda chosen: trial.probe(chosen, errors))
    side.mypy = {
        "before": len(before),
        "after": len(before) + len(added),
        "new": [f"{path}:{line}: {message}" for path, line, message in added],
        "blame": [
            {"hunks": [hunk.as_json() for hunk in guilty], "errors": errors}
            for guilty, errors in blamed
        ],
    }


def summarise(outcomes: Outcomes) -> str:
    counts = {kind: 0 for kind in ("passed", "failed", "error", "skipped")}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return "/".join(str(counts[kind]) for kind in ("passed", "failed", "error", "skipped"))


def measure(
    project: Project, workdir: Path, log: Callable[[str], None], select: str | None = None
) -> dict[str, object]:
    source = sdists.fetch(project.requirement)
    log(f"{project.name}: venv and dependencies ...")
    python = venv_for(project, source, workdir)
    root = workdir / project.name
    base = copy_tree(source, root / "base")
    findings = fixable_findings(base, select)
    sides = []
    for label, unsafe in (("safe", False), ("unsafe", True)):
        tree = copy_tree(source, root / label)
        log(f"{project.name}: prodlint fix{' --unsafe-fixes' if unsafe else ''} ...")
        files = fix(tree, unsafe, select)
        sides.append((Side(label, files, split_fix(files, findings)), tree))
    touched = sorted({name for side, _ in sides for name in side.files})
    selection = None if project.whole_suite else related_tests(project, base, touched)
    if selection is not None and not selection:
        log(f"{project.name}: no test module is related to the {len(touched)} fixed files")
    size = "all" if selection is None else len(selection)
    log(f"{project.name}: tests on the untouched tree ({size}) ...")
    reference, seconds, tail = run_tests(project, python, base, selection)
    log(f"{project.name}: {summarise(reference)} passed/failed/error/skipped in {seconds:.0f} s")
    if not reference:
        log(f"{project.name}: no test results; the runner said:\n{tail}")
    types_before = mypy_errors(project, python, base) if project.mypy else []
    for side, tree in sides:
        if project.mypy and side.files:
            check_types(project, python, types_before, base, tree, root, side)
        check_scripts(project, python, base, tree, side)
        if not side.files:
            side.outcomes = reference
            continue
        log(f"{project.name}: tests after the {side.label} fix ...")
        side.outcomes, side.seconds, _ = run_tests(project, python, tree, selection)
        side.differences = confirm(project, python, base, tree, compare(reference, side.outcomes))
        if side.differences:
            log(
                f"{project.name}: {len(side.differences)} tests differ after the {side.label} "
                "fix; finding the hunks ..."
            )
            blame(project, python, base, root, side)
    return {
        "project": project.requirement,
        "selection": "whole suite" if selection is None else selection,
        "tests": len(reference),
        "base": summarise(reference),
        "base_seconds": round(seconds, 1),
        "sides": {
            side.label: {
                "files": len(side.files),
                "hunks": len(side.fix_hunks),
                "rules": dict(Counter(code for hunk in side.fix_hunks for code in hunk.codes)),
                "result": summarise(side.outcomes),
                "seconds": round(side.seconds, 1),
                "differences": {test: list(change) for test, change in side.differences.items()},
                "blame": [
                    {"hunks": [hunk.as_json() for hunk in guilty], "tests": tests}
                    for guilty, tests in side.blame
                ],
                "unexplained": sorted(
                    set(side.differences) - {test for _, tests in side.blame for test in tests}
                ),
                "scripts": [
                    {"file": name, "same": same, "diff": diff} for name, same, diff in side.scripts
                ],
                "mypy": side.mypy
                or (
                    {"before": len(types_before), "after": len(types_before)}
                    if project.mypy
                    else {}
                ),
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
        "mypy errors",
    )
    rows = [header]
    for result in results:
        selection = result["selection"]
        scope = "whole suite" if selection == "whole suite" else f"{len(selection)} modules/apps"  # type: ignore[arg-type]
        sides = result["sides"]
        assert isinstance(sides, dict)
        for label, side in sides.items():
            scripts = side["scripts"]
            mypy = side["mypy"]
            rows.append(
                (
                    str(result["project"]),
                    f"{result['tests']} ({scope})",
                    str(result["base"]),
                    label,
                    str(side["files"]),
                    str(side["hunks"]),
                    side["result"],
                    str(len(side["differences"])),
                    f"{sum(s['same'] for s in scripts)}/{len(scripts)}" if scripts else "-",
                    f"{mypy['before']} -> {mypy['after']}" if mypy else "-",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def details(results: Sequence[dict[str, object]]) -> str:
    out = []
    for result in results:
        sides = result["sides"]
        assert isinstance(sides, dict)
        for label, side in sides.items():
            where = f"{result['project']} {label}"
            for test, (old, new) in side["differences"].items():
                out.append(f"{where}: {test}: {old} -> {new}")
            for blamed in side["blame"]:
                labels = " + ".join(
                    f"{h['path']}:{h['line']} {','.join(h['codes'])}" for h in blamed["hunks"]
                )
                out.append(
                    f"{where}: {labels} changes {len(blamed['tests'])} tests: "
                    + ", ".join(blamed["tests"][:5])
                )
                out.extend(
                    "    " + line for h in blamed["hunks"] for line in h["diff"].splitlines()
                )
            if side["unexplained"]:
                out.append(f"{where}: no hunk alone or together explains {side['unexplained'][:5]}")
            for script in side["scripts"]:
                if not script["same"]:
                    out.append(f"{where}: {script['file']} prints differently:\n{script['diff']}")
            for error in (side["mypy"] or {}).get("new", []):
                out.append(f"{where}: new mypy error {error}")
            for blamed in (side["mypy"] or {}).get("blame", []):
                labels = " + ".join(
                    f"{h['path']}:{h['line']} {','.join(h['codes'])}" for h in blamed["hunks"]
                )
                out.append(f"{where}: {labels} adds {len(blamed['errors'])} mypy errors")
                out.extend(
                    "    " + line for h in blamed["hunks"] for line in h["diff"].splitlines()
                )
    return "\n".join(out)


def git_commit() -> str:
    done = run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, timeout=30)
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", choices=[project.name for project in PROJECTS])
    parser.add_argument("--select", help="fix only these codes or prefixes (PRD5: logging)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/prodlint-real-suites"))
    parser.add_argument(
        "--results", type=Path, help="write the results JSON here too (bench/results/...)"
    )
    parser.add_argument(
        "--commit",
        default=git_commit(),
        help="the prodlint commit measured (default: this checkout's HEAD)",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    version = run([*PRODLINT, "--version"], cwd=args.workdir, timeout=60).stdout.strip()

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    log(f"{version}; work folder {args.workdir}")
    results: list[dict[str, object]] = []
    chosen = [project for project in PROJECTS if not args.only or project.name in args.only]
    if args.results and args.results.exists():  # keep the other projects' last results
        names = {project.requirement for project in chosen}
        earlier = json.loads(args.results.read_text())["results"]
        results = [result for result in earlier if result["project"] not in names]
    for project in chosen:
        results.append({"commit": args.commit, **measure(project, args.workdir, log, args.select)})
        for target in [args.workdir / "results.json", *([args.results] if args.results else [])]:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(
                    {"prodlint": version, "select": args.select, "results": results}, indent=2
                )
                + "\n"
            )
    print(table(results))
    print(details(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
