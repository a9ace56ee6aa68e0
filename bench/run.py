"""Time prodlint (all six families, opt-in rules too: ``--select ALL``) on Django 5.2.8's
``django/`` package next to a plain read + ``ast.parse`` of the same files, bandit, semgrep
with prodlint's own ``rules/`` pack, ruff and flake8.

    python bench/run.py                 # fetches the sdist into the shared cache (bench/sdists.py)
    python bench/run.py --src DIR       # DIR holds an unpacked django-5.2.8 (skips download)
    python bench/run.py --repeat 5      # best of 5 for the cheap measurements
    python bench/run.py --no-semgrep    # skip semgrep (slow, and it needs its own install)
    python bench/run.py --prodlint-only # only the parse floor and prodlint (no other tools)

Goals (issue 13), all ratios from the same run: cold ``--no-cache`` on all cores <= 0.75 x
a single-process read + ``ast.parse``, ``--jobs 1`` <= 1.5 x that parse, warm <= 0.08 s,
cold <= 0.3 x bandit with its SQL/secret/timeout tests and <= 0.5 x semgrep with
``rules/``; ``flake8 --select PRD`` <= 1.25 x ``flake8 --select E999`` (issue 3); ``--jobs 2``
<= 0.6 x the wall time of ``--jobs 1`` for <= 1.1 x its CPU time (a row of its own unless the
machine has 2 cores, where the cold run is it).

The table is written as JSON to ``bench/results/<commit>.json`` (``--no-save`` to skip),
so a regression between two commits is a diff of two files. Wall time is what the goals
are about; CPU time (user + system of the whole process tree) is printed too because it
stays meaningful on a machine that is busy with other work, and the ``--jobs 1`` goal is
also given as a ratio of CPU times (``cpu: --jobs 1 / parse``), which load barely moves.

Every measurement runs in its own child process (a small wrapper that starts the command
and reports its wall time and the peak RSS of the largest process in its tree, from
``getrusage(RUSAGE_CHILDREN)``), all in the same run so the ratios compare like with like.
``PYTHONDONTWRITEBYTECODE`` is removed from the tools' environment and each tool runs once
before it is timed, so imports come from bytecode caches as in a normal install.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sdists import fetch

DJANGO = "django==5.2.8"
BIN = Path(sys.executable).parent
BANDIT_TESTS = (
    "B608,B105,B106,B107,B110,B113,B501"  # SQL, secrets, try/except/pass, timeout, verify
)
RUFF_RULES = (
    "S608,S105,S106,S107,S110,S113,S501,T201,G004"  # the same, plus print and f-string logging
)
BANDIT_LABEL = "bandit -r (its SQL/secret/... tests)"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GOAL_COLD_VS_BANDIT = 0.3
GOAL_COLD_VS_SEMGREP = 0.5
GOAL_COLD_VS_PARSE = 0.75
GOAL_JOBS1_VS_PARSE = 1.5
GOAL_WARM_SECONDS = 0.08
GOAL_FLAKE8_OVERHEAD = 1.25
# Two workers must pay on 2 cores: wall <= 0.6 x one process, CPU <= 1.1 x (issue 13).
GOAL_JOBS2_VS_JOBS1 = 0.6
GOAL_JOBS2_CPU_VS_JOBS1 = 1.1
PARSE_LABEL = "read + ast.parse, 1 process"
COLD_LABEL = "prodlint check --no-cache"
JOBS1_LABEL = "prodlint check --jobs 1 --no-cache"
JOBS2_LABEL = "prodlint check --jobs 2 --no-cache"
WARM_LABEL = "prodlint check (warm cache)"
SEMGREP_LABEL = "semgrep --config rules/"
# The floor every Python linter pays: read each file and build its tree, nothing else.
PARSE_ONLY = """
import ast, pathlib, sys, warnings
warnings.simplefilter("ignore")
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    try:
        ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        pass
"""

# Runs one command and prints {"seconds", "maxrss_kb", "returncode"} as JSON: the child's
# peak RSS is then that command's alone (RUSAGE_CHILDREN covers this wrapper's children).
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "returncode": done.returncode,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "stderr": done.stderr.decode("utf-8", "replace")[-2000:]}))
"""


@dataclass
class Measurement:
    label: str
    command: list[str]
    seconds: float
    runs: int
    maxrss_kb: int
    returncode: int
    cpu_seconds: float = 0.0  # of the run with the best wall time


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    return env


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def measure_once(command: Sequence[str], cwd: Path) -> tuple[float, int, int, float]:
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    if result["returncode"] not in (0, 1):
        raise SystemExit(
            f"{' '.join(command)} failed ({result['returncode']}):\n{result['stderr']}"
        )
    return (
        float(result["seconds"]),
        int(result["maxrss_kb"]),
        int(result["returncode"]),
        float(result["cpu"]),
    )


def measure(
    label: str, command: list[str], cwd: Path, runs: int, before_each: list[str] | None = None
) -> Measurement:
    """Best wall time of ``runs``; ``before_each`` (untimed) resets state, e.g. a cache."""
    best = float("inf")
    peak = code = 0
    cpu = 0.0
    for _ in range(runs):
        if before_each:
            subprocess.run(
                before_each, cwd=cwd, env=environment(), capture_output=True, check=False
            )
        seconds, rss, code, used = measure_once(command, cwd)
        if seconds < best:
            best, cpu = seconds, used
        peak = max(peak, rss)
    row = Measurement(label, command, best, runs, peak, code, cpu)
    print(
        f"  {label:<34} {best:7.2f} s  cpu {cpu:6.2f} s  "
        f"(best of {runs}, peak {peak / 1024:6.1f} MB)",
        file=sys.stderr,
    )
    return row


def flake8_has_prodlint(cwd: Path) -> bool:
    probe = cwd / "_prodlint_probe.py"
    probe.write_text(
        'import logging\nlogger = logging.getLogger(__name__)\nlogger.info(f"x {probe}")\n'
    )
    try:
        done = subprocess.run(
            [tool("flake8"), "--select", "PRD", str(probe)],
            cwd=cwd,
            env=environment(),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        probe.unlink()
    return "PRD" in done.stdout


def count_findings(cwd: Path) -> tuple[int, int]:
    done = subprocess.run(
        [
            tool("prodlint"),
            "check",
            "--no-cache",
            "--select",
            "ALL",
            "--output-format",
            "json",
            "django",
        ],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(done.stdout)["findings"]
    return len(findings), sum(f["code"] == "PRD000" for f in findings)


def rules_present() -> list[str]:
    done = subprocess.run(
        [tool("prodlint"), "rules", "--format", "json"],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return [rule["code"] for rule in json.loads(done.stdout)]


# The commit the measured prodlint is, when it is not this checkout's HEAD (``--commit``).
MEASURED_COMMIT: list[str] = []


def commit() -> str:
    if MEASURED_COMMIT:
        return MEASURED_COMMIT[0]
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "src"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (done.stdout.strip() or "unknown") + ("-dirty" if dirty else "")


def shown(command: list[str]) -> list[str]:
    return [
        "<bench/run.py PARSE_ONLY>" if part == PARSE_ONLY else part.replace(str(BIN) + os.sep, "")
        for part in command
    ]


def version(command: list[str]) -> str:
    done = subprocess.run(command, env=environment(), capture_output=True, text=True, check=False)
    return (
        (done.stdout.strip() or done.stderr.strip()).splitlines()[0]
        if done.returncode == 0
        else "absent"
    )


@dataclass
class Goal:
    name: str
    value: float
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit


def goals(by_label: dict[str, Measurement]) -> list[Goal]:
    cold = by_label[COLD_LABEL].seconds
    parse = by_label[PARSE_LABEL].seconds
    jobs1 = by_label[JOBS1_LABEL]
    found = [
        Goal("cold / parse", cold / parse, GOAL_COLD_VS_PARSE),
        Goal("--jobs 1 / parse", jobs1.seconds / parse, GOAL_JOBS1_VS_PARSE),
        Goal(
            "cpu: --jobs 1 / parse",
            jobs1.cpu_seconds / max(by_label[PARSE_LABEL].cpu_seconds, 1e-9),
            GOAL_JOBS1_VS_PARSE,
        ),
        Goal("warm seconds", by_label[WARM_LABEL].seconds, GOAL_WARM_SECONDS),
    ]
    # On 2 cores the cold row is the --jobs 2 run; elsewhere it is measured on its own.
    jobs2 = by_label.get(JOBS2_LABEL, by_label[COLD_LABEL])
    found += [
        Goal("--jobs 2 / --jobs 1", jobs2.seconds / jobs1.seconds, GOAL_JOBS2_VS_JOBS1),
        Goal(
            "cpu: --jobs 2 / --jobs 1",
            jobs2.cpu_seconds / max(jobs1.cpu_seconds, 1e-9),
            GOAL_JOBS2_CPU_VS_JOBS1,
        ),
    ]
    if BANDIT_LABEL in by_label:
        found.append(
            Goal("cold / bandit", cold / by_label[BANDIT_LABEL].seconds, GOAL_COLD_VS_BANDIT)
        )
    if SEMGREP_LABEL in by_label:
        found.append(
            Goal("cold / semgrep", cold / by_label[SEMGREP_LABEL].seconds, GOAL_COLD_VS_SEMGREP)
        )
    if "flake8 --select PRD" in by_label:
        found.append(
            Goal(
                "flake8 PRD / E999",
                by_label["flake8 --select PRD"].seconds / by_label["flake8 --select E999"].seconds,
                GOAL_FLAKE8_OVERHEAD,
            )
        )
    return found


def run(source: Path, repeat: int, semgrep: bool, save: bool, others: bool = True) -> None:
    """``others=False`` measures only the parse floor and prodlint."""
    package = source / "django"
    files = sum(1 for _ in package.rglob("*.py"))
    lines = sum(path.read_bytes().count(b"\n") for path in package.rglob("*.py"))
    cache = Path(tempfile.mkdtemp(prefix="prodlint-bench-cache-"))
    prodlint = tool("prodlint")
    every = ["--select", "ALL"]
    # Untimed warm-up: bytecode caches for every tool, the tree in the page cache.
    for warm in (
        [prodlint, "rules"],
        [prodlint, "check", "--no-cache", *every, "django"],
        [tool("bandit"), "--version"],
        [tool("ruff"), "--version"],
        [tool("flake8"), "--version"],
    ):
        subprocess.run(warm, cwd=source, env=environment(), capture_output=True, check=False)

    print(f"measuring on {package} ({files} files, {lines} lines) ...", file=sys.stderr)
    rows = [
        measure(PARSE_LABEL, [sys.executable, "-c", PARSE_ONLY, "django"], source, repeat),
        measure(COLD_LABEL, [prodlint, "check", "--no-cache", *every, "django"], source, repeat),
        measure(
            JOBS1_LABEL,
            [prodlint, "check", "--jobs", "1", "--no-cache", *every, "django"],
            source,
            repeat,
        ),
        measure(
            "prodlint check (empty cache)",
            [prodlint, "check", "--cache-dir", str(cache), *every, "django"],
            source,
            repeat,
            before_each=[
                sys.executable,
                "-c",
                f"import shutil; shutil.rmtree({str(cache)!r}, True)",
            ],
        ),
    ]
    if (os.cpu_count() or 1) != 2:
        rows.append(
            measure(
                JOBS2_LABEL,
                [prodlint, "check", "--jobs", "2", "--no-cache", *every, "django"],
                source,
                repeat,
            )
        )
    subprocess.run(
        [prodlint, "check", "--cache-dir", str(cache), *every, "django"],
        cwd=source,
        env=environment(),
        capture_output=True,
        check=False,
    )
    rows.append(
        measure(
            WARM_LABEL,
            [prodlint, "check", "--cache-dir", str(cache), *every, "django"],
            source,
            max(repeat, 5),
        )
    )
    if others:
        rows += other_tools(source, repeat, semgrep)
    shutil.rmtree(cache, ignore_errors=True)
    report(source, rows, files, lines, save, semgrep and others)


def other_tools(source: Path, repeat: int, semgrep: bool) -> list[Measurement]:
    """bandit, semgrep with ``rules/``, ruff and flake8 on the same tree."""
    rows: list[Measurement] = []
    rows.append(
        measure(
            BANDIT_LABEL,
            [tool("bandit"), "-q", "-r", "django", "-t", BANDIT_TESTS, "-f", "json"],
            source,
            1,
        )
    )
    if semgrep and semgrep_version() != "absent":
        rows.append(
            measure(
                SEMGREP_LABEL,
                [
                    tool("semgrep"),
                    "scan",
                    "--config",
                    str(ROOT / "rules"),
                    "--metrics=off",
                    "--disable-version-check",
                    "--quiet",
                    "--jobs",
                    str(os.cpu_count() or 1),
                    "django",
                ],
                source,
                1,
            )
        )
    rows.append(
        measure(
            "ruff check --no-cache --select ...",
            [tool("ruff"), "check", "--no-cache", "--select", RUFF_RULES, "-q", "django"],
            source,
            repeat,
        )
    )
    # Best of 2: one flake8 run is long enough for a busy machine to skew a single sample.
    rows.append(
        measure("flake8 --select E999", [tool("flake8"), "--select", "E999", "django"], source, 2)
    )
    if flake8_has_prodlint(source):
        rows.append(
            measure("flake8 --select PRD", [tool("flake8"), "--select", "PRD", "django"], source, 2)
        )
    else:
        print(
            "  flake8 --select PRD: the prodlint flake8 plugin is not installed; skipped",
            file=sys.stderr,
        )
    return rows


@functools.lru_cache(maxsize=1)
def semgrep_version() -> str:
    # semgrep --version alone takes seconds: asked once.
    return version([tool("semgrep"), "--version"])


def report(
    source: Path, rows: list[Measurement], files: int, lines: int, save: bool, semgrep: bool
) -> None:
    findings, uncheckable = count_findings(source)
    by_label = {row.label: row for row in rows}
    codes = rules_present()
    checked = goals(by_label)
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0

    print()
    print(
        f"prodlint bench: Django 5.2.8 django/ ({files} .py files, {lines} lines), "
        f"commit {commit()}"
    )
    print(
        f"machine: {cores} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average {load:.1f} at the end"
    )
    print(f"prodlint rules enabled ({len(codes)}, --select ALL): {', '.join(codes)}")
    print(f"prodlint findings on django/: {findings} ({uncheckable} PRD000)")
    print()
    print(
        f"| {'measurement':<36} | {'wall s':>7} | {'cpu s':>7} | {'runs':>4} | "
        f"{'peak RSS MB':>11} | exit |"
    )
    print(f"|{'-' * 38}|{'-' * 9}|{'-' * 9}|{'-' * 6}|{'-' * 13}|------|")
    for row in rows:
        print(
            f"| {row.label:<36} | {row.seconds:7.2f} | {row.cpu_seconds:7.2f} | {row.runs:>4} | "
            f"{row.maxrss_kb / 1024:11.1f} | {row.returncode:>4} |"
        )
    print()
    print("commands:")
    for row in rows:
        print(f"  {row.label}: {' '.join(shown(row.command))}")
    print()
    for goal in checked:
        print(
            f"{goal.name:<26} {goal.value:7.3f}   "
            f"(goal <= {goal.limit}: {'ok' if goal.met else 'MISSED'})"
        )
    jobs2 = by_label[COLD_LABEL].seconds
    print(f"--jobs {cores} vs --jobs 1: {jobs2:.2f} s vs {by_label[JOBS1_LABEL].seconds:.2f} s")
    peak = max(row.maxrss_kb for row in rows if row.label.startswith("prodlint"))
    print(f"prodlint peak memory: {peak / 1024:.1f} MB (largest single process)")
    if save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        measured = commit()
        table = {
            "commit": measured,
            "cores": cores,
            "load_average_at_end": load,
            "machine": platform.machine(),
            "python": platform.python_version(),
            "files": files,
            "lines": lines,
            "rules": codes,
            "findings": findings,
            "uncheckable": uncheckable,
            "versions": {
                "bandit": version([tool("bandit"), "--version"]),
                "semgrep": semgrep_version() if semgrep else "not measured",
                "ruff": version([tool("ruff"), "--version"]),
                "flake8": version([tool("flake8"), "--version"]),
            },
            "rows": [
                {
                    "label": row.label,
                    "command": shown(row.command),
                    "wall_seconds": round(row.seconds, 4),
                    "cpu_seconds": round(row.cpu_seconds, 4),
                    "runs": row.runs,
                    "peak_rss_mb": round(row.maxrss_kb / 1024, 1),
                    "exit": row.returncode,
                }
                for row in rows
            ],
            "goals": [
                {
                    "name": goal.name,
                    "value": round(goal.value, 4),
                    "limit": goal.limit,
                    "met": goal.met,
                }
                for goal in checked
            ],
        }
        target = RESULTS / f"{measured}.json"
        target.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
        print(f"written: {target.relative_to(ROOT)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--src", type=Path, help="an unpacked django-5.2.8 sdist (skips the download)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each cheap measurement (best is kept)"
    )
    parser.add_argument("--no-semgrep", action="store_true", help="skip the semgrep measurement")
    parser.add_argument(
        "--commit",
        help="the commit the prodlint on PYTHONPATH was exported from (default: HEAD here, "
        "-dirty when src/ has changes)",
    )
    parser.add_argument(
        "--prodlint-only",
        action="store_true",
        help="measure the parse floor and prodlint only (no bandit, semgrep, ruff, flake8)",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not write bench/results/<commit>.json"
    )
    args = parser.parse_args(argv)
    if args.commit:
        MEASURED_COMMIT.append(args.commit)
    run(
        args.src if args.src is not None else fetch(DJANGO),
        args.repeat,
        not args.no_semgrep,
        not args.no_save,
        not args.prodlint_only,
    )


if __name__ == "__main__":
    main()
