"""Time prodlint on Django 5.2.8's ``django/`` package next to bandit, ruff and flake8.

    python bench/run.py                 # fetches the sdist into the shared cache (bench/sdists.py)
    python bench/run.py --src DIR       # DIR holds an unpacked django-5.2.8 (skips download)
    python bench/run.py --repeat 5      # best of 5 for the cheap measurements

Goals (issue #2 / #3): prodlint cold <= 0.3 x bandit with its SQL/secret/timeout tests,
warm <= 0.3 s, ``flake8 --select PRD`` <= 1.25 x ``flake8 --select E999``.

Every measurement runs in its own child process (a small wrapper that starts the command
and reports its wall time and the peak RSS of the largest process in its tree, from
``getrusage(RUSAGE_CHILDREN)``), all in the same run so the ratios compare like with like.
``PYTHONDONTWRITEBYTECODE`` is removed from the tools' environment and each tool runs once
before it is timed, so imports come from bytecode caches as in a normal install.
"""

from __future__ import annotations

import argparse
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
BANDIT_TESTS = "B608,B105,B106,B107,B110,B113,B501"  # SQL, secrets, try/except/pass, timeout, verify
RUFF_RULES = "S608,S105,S106,S107,S110,S113,S501,T201,G004"  # the same, plus print and f-string logging
BANDIT_LABEL = "bandit -r (its SQL/secret/... tests)"
GOAL_COLD_VS_BANDIT = 0.3
GOAL_WARM_SECONDS = 0.3
GOAL_FLAKE8_OVERHEAD = 1.25

# Runs one command and prints {"seconds", "maxrss_kb", "returncode"} as JSON: the child's
# peak RSS is then that command's alone (RUSAGE_CHILDREN covers this wrapper's children).
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "returncode": done.returncode,
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


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    return env


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def measure_once(command: Sequence[str], cwd: Path) -> tuple[float, int, int]:
    done = subprocess.run([sys.executable, "-c", WRAPPER, *command], cwd=cwd, env=environment(),
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["returncode"] not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({result['returncode']}):\n{result['stderr']}")
    return float(result["seconds"]), int(result["maxrss_kb"]), int(result["returncode"])


def measure(label: str, command: list[str], cwd: Path, runs: int, before_each: list[str] | None = None) -> Measurement:
    """Best wall time of ``runs``; ``before_each`` (untimed) resets state, e.g. a cache."""
    best = float("inf")
    peak = code = 0
    for _ in range(runs):
        if before_each:
            subprocess.run(before_each, cwd=cwd, env=environment(), capture_output=True, check=False)
        seconds, rss, code = measure_once(command, cwd)
        best = min(best, seconds)
        peak = max(peak, rss)
    row = Measurement(label, command, best, runs, peak, code)
    print(f"  {label:<34} {best:7.2f} s  (best of {runs}, peak {peak / 1024:6.1f} MB)", file=sys.stderr)
    return row


def flake8_has_prodlint(cwd: Path) -> bool:
    probe = cwd / "_prodlint_probe.py"
    probe.write_text('import logging\nlogger = logging.getLogger(__name__)\nlogger.info(f"x {probe}")\n')
    try:
        done = subprocess.run([tool("flake8"), "--select", "PRD", str(probe)], cwd=cwd, env=environment(),
                              capture_output=True, text=True, check=False)
    finally:
        probe.unlink()
    return "PRD" in done.stdout


def count_findings(cwd: Path) -> tuple[int, int]:
    done = subprocess.run([tool("prodlint"), "check", "--no-cache", "--format", "json", "django"], cwd=cwd,
                          env=environment(), capture_output=True, text=True, check=False)
    findings = json.loads(done.stdout)["findings"]
    return len(findings), sum(f["code"] == "PRD000" for f in findings)


def rules_present() -> list[str]:
    done = subprocess.run([tool("prodlint"), "rules", "--format", "json"], env=environment(),
                          capture_output=True, text=True, check=True)
    return [rule["code"] for rule in json.loads(done.stdout)]


def run(source: Path, repeat: int) -> None:
    package = source / "django"
    files = sum(1 for _ in package.rglob("*.py"))
    cache = Path(tempfile.mkdtemp(prefix="prodlint-bench-cache-"))
    prodlint = tool("prodlint")
    # Untimed warm-up: bytecode caches for every tool, the tree in the page cache.
    for warm in ([prodlint, "rules"], [prodlint, "check", "--no-cache", "django"], [tool("bandit"), "--version"],
                 [tool("ruff"), "--version"], [tool("flake8"), "--version"]):
        subprocess.run(warm, cwd=source, env=environment(), capture_output=True, check=False)

    print(f"measuring on {package} ({files} files) ...", file=sys.stderr)
    rows = [
        measure("prodlint check --no-cache", [prodlint, "check", "--no-cache", "django"], source, repeat),
        measure("prodlint check (empty cache)", [prodlint, "check", "--cache-dir", str(cache), "django"], source,
                repeat, before_each=[sys.executable, "-c", f"import shutil; shutil.rmtree({str(cache)!r}, True)"]),
    ]
    subprocess.run([prodlint, "check", "--cache-dir", str(cache), "django"], cwd=source, env=environment(),
                   capture_output=True, check=False)
    rows.append(measure("prodlint check (warm cache)", [prodlint, "check", "--cache-dir", str(cache), "django"],
                        source, max(repeat, 5)))
    rows.append(measure("prodlint check --jobs 1 --no-cache", [prodlint, "check", "--jobs", "1", "--no-cache",
                                                                 "django"], source, 1))
    rows.append(measure(BANDIT_LABEL, [tool("bandit"), "-q", "-r", "django", "-t", BANDIT_TESTS,
                                                          "-f", "json"], source, 1))
    rows.append(measure("ruff check --no-cache --select ...", [tool("ruff"), "check", "--no-cache", "--select",
                                                                RUFF_RULES, "-q", "django"], source, repeat))
    flake8_prd: Measurement | None = None
    # Best of 2: one flake8 run is long enough for a busy machine to skew a single sample.
    flake8_e999 = measure("flake8 --select E999", [tool("flake8"), "--select", "E999", "django"], source, 2)
    rows.append(flake8_e999)
    if flake8_has_prodlint(source):
        flake8_prd = measure("flake8 --select PRD", [tool("flake8"), "--select", "PRD", "django"], source, 2)
        rows.append(flake8_prd)
    else:
        print("  flake8 --select PRD: the prodlint flake8 plugin is not installed; skipped", file=sys.stderr)
    shutil.rmtree(cache, ignore_errors=True)

    findings, uncheckable = count_findings(source)
    by_label = {row.label: row for row in rows}
    cold = by_label["prodlint check (empty cache)"].seconds
    bandit = by_label[BANDIT_LABEL].seconds
    warm = by_label["prodlint check (warm cache)"].seconds
    codes = rules_present()

    print()
    print(f"prodlint bench: Django 5.2.8 django/ ({files} .py files)")
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"prodlint rules present ({len(codes)}): {', '.join(codes)}")
    print(f"prodlint findings on django/: {findings} ({uncheckable} PRD000)")
    print()
    print(f"| {'measurement':<36} | {'wall s':>7} | {'runs':>4} | {'peak RSS MB':>11} | exit |")
    print(f"|{'-' * 38}|{'-' * 9}|{'-' * 6}|{'-' * 13}|------|")
    for row in rows:
        print(f"| {row.label:<36} | {row.seconds:7.2f} | {row.runs:>4} | {row.maxrss_kb / 1024:11.1f} | "
              f"{row.returncode:>4} |")
    print()
    print("commands:")
    for row in rows:
        print(f"  {row.label}: {' '.join(row.command).replace(str(BIN) + os.sep, '')}")
    print()
    ok = "ok" if cold <= GOAL_COLD_VS_BANDIT * bandit else "MISSED"
    print(f"cold (empty cache) / bandit = {cold:.2f} / {bandit:.2f} = {cold / bandit:.3f}   "
          f"(goal <= {GOAL_COLD_VS_BANDIT}: {ok})")
    ok = "ok" if warm <= GOAL_WARM_SECONDS else "MISSED"
    print(f"warm = {warm:.3f} s   (goal <= {GOAL_WARM_SECONDS} s: {ok})")
    ruff = by_label["ruff check --no-cache --select ..."].seconds
    print(f"cold / ruff = {cold:.2f} / {ruff:.2f} = {cold / ruff:.1f}   (for scale; ruff is native code)")
    if flake8_prd is not None:
        overhead = flake8_prd.seconds / flake8_e999.seconds
        ok = "ok" if overhead <= GOAL_FLAKE8_OVERHEAD else "MISSED"
        print(f"flake8 --select PRD / --select E999 = {flake8_prd.seconds:.2f} / {flake8_e999.seconds:.2f} = "
              f"{overhead:.3f}   (goal <= {GOAL_FLAKE8_OVERHEAD}: {ok})")
    else:
        print("flake8 --select PRD / --select E999: not measured (plugin not available)")
    peak = max(row.maxrss_kb for row in rows if row.label.startswith("prodlint"))
    print(f"prodlint peak memory: {peak / 1024:.1f} MB (largest single process)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, help="an unpacked django-5.2.8 sdist (skips the download)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each cheap measurement (best is kept)")
    args = parser.parse_args(argv)
    run(args.src if args.src is not None else fetch(DJANGO), args.repeat)


if __name__ == "__main__":
    main()
