"""Where a warm ``prodlint check`` of Django 5.2.8's ``django/`` spends its time (issue 13:
goal <= 0.08 s).

    python bench/warm.py                 # fetches the sdist (bench/sdists.py)
    python bench/warm.py --src DIR       # DIR holds an unpacked django-5.2.8
    python bench/warm.py --runs 20

Two warm runs are measured, each as separate processes (wall and CPU time, best and median):

- replayed: nothing changed since the same command ran, so ``prodlint.runmemo`` prints the
  last run's output after statting what it read;
- cached: every file's findings are in the cache but the run's record is gone (what the
  first run after an edit elsewhere in the tree pays): the full pipeline, findings from
  the cache.

Then the breakdown: interpreter start, the console script's own ``import re``, the imports
of the full pipeline (``-X importtime``, top level), and in one process the phases of the
cached path (discovery, cache load, the facts pre-pass's stats, rendering).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from run import environment, measure_once
from sdists import fetch

FULL_PIPELINE = """
import importlib.util, prodlint.cli, prodlint.runner
if importlib.util.find_spec("prodlint.commands"):
    import prodlint.commands
"""


PHASES = """
import sys, time
from pathlib import Path
clock = time.process_time
started = clock()
import prodlint.cli, importlib.util
if importlib.util.find_spec("prodlint.commands"):  # the CLI body, since 15566b4
    import prodlint.commands
from prodlint import runner, discovery, cache, report
from prodlint.config import Configs
imported = clock()
def configs():
    return Configs(None, lambda config: config.override(select=("ALL",), cache_dir=sys.argv[1]))
paths = [Path("django")]
files = discovery.discover(paths, configs())
listed = clock()
store = cache.Cache(Path(sys.argv[1]), cache.code_fingerprint())
loaded = clock()
result = runner.check_paths(paths, configs(), use_cache=True)
checked = clock()
report.render(result.findings, "text")
rendered = clock()
print(f"imports {imported - started:.4f}")
print(f"discovery (one walk of the checked folder) {listed - imported:.4f}")
print(f"cache load ({len(store.entries)} entries) {loaded - listed:.4f}")
cached = f"{result.from_cache} of {result.files}"
print(f"check_paths ({cached} files from the cache) {checked - loaded:.4f}")
print(f"render {rendered - checked:.4f}")
"""


def timed(command: Sequence[str], cwd: Path, before: Sequence[str] | None) -> tuple[float, float]:
    """Wall and CPU seconds of one run (``before`` runs first, untimed)."""
    if before:
        subprocess.run(before, cwd=cwd, env=environment(), check=False)
    seconds, _, _, cpu = measure_once(command, cwd)
    return seconds, cpu


def report_runs(label: str, runs: list[tuple[float, float]]) -> None:
    walls = [wall for wall, _ in runs]
    cpus = [cpu for _, cpu in runs]
    print(
        f"{label:<34} wall best {min(walls):.3f} median {statistics.median(walls):.3f}   "
        f"CPU best {min(cpus):.3f} median {statistics.median(cpus):.3f}  ({len(runs)} runs)"
    )


def import_time(source: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", FULL_PIPELINE],
        cwd=source,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    top = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):
            top.append((int(cumulative), name.strip()))
    print(f"imports of the full pipeline: {sum(t for t, _ in top) / 1e6:.3f} s wall, top level:")
    for cumulative, name in sorted(top, reverse=True)[:8]:
        print(f"    {cumulative / 1e6:.4f}  {name}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, help="an unpacked django-5.2.8 (default: fetch)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    source = args.src or fetch("django==5.2.8")
    prodlint = shutil.which("prodlint", path=os.path.dirname(sys.executable)) or "prodlint"
    cache = Path(tempfile.mkdtemp(prefix="prodlint-warm-"))
    check = [prodlint, "check", "--cache-dir", str(cache), "--select", "ALL", "django"]
    try:
        for _ in range(2):  # fill the cache, then write the run's record
            subprocess.run(check, cwd=source, env=environment(), capture_output=True)
        forget = [
            sys.executable,
            "-c",
            f"import shutil; shutil.rmtree({str(cache / 'runs')!r}, True)",
        ]
        report_runs(
            "replayed (record valid)", [timed(check, source, None) for _ in range(args.runs)]
        )
        report_runs(
            "cached (record removed)", [timed(check, source, forget) for _ in range(args.runs)]
        )
        report_runs(
            "python -c pass",
            [timed([sys.executable, "-c", "pass"], source, None) for _ in range(args.runs)],
        )
        report_runs(
            "python -c 'import re' (the script)",
            [timed([sys.executable, "-c", "import re"], source, None) for _ in range(args.runs)],
        )
        import_time(source)
        print("phases of the cached path, CPU seconds in one process:")
        done = subprocess.run(
            [sys.executable, "-c", PHASES, str(cache)],
            cwd=source,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        print("    " + done.stdout.strip().replace("\n", "\n    "))
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
