"""(Not named profile.py: that would shadow the stdlib module cProfile imports.)
Where prodlint's time goes on a cold check of Django 5.2.8's ``django/`` (issue 13).

    python bench/profile_check.py                  # fetches the sdist (bench/sdists.py)
    python bench/profile_check.py --src DIR        # DIR holds an unpacked django-5.2.8
    python bench/profile_check.py --top 25         # more rules in the per-rule table
    python bench/profile_check.py --parts 3,4 --runs 5   # only the parallel parts

Four parts, each its own measurement:

1. import time: ``python -X importtime`` of what a check imports (the engine, every rule,
   the fact providers), the total and the slowest modules by their own time;
2. one ``check --no-cache --jobs 1 --select ALL`` under cProfile, in this process: the
   split between discovery, the project-facts pre-pass (reading models and settings from
   every file that may hold some), ``ast.parse``, the walk's own dispatch, and each rule's
   ``check`` (cumulative, so the shared analyses a rule asks for first are billed to it);
3. where a ``--jobs N`` check (N = the cores, at least 2) spends its time: starting the
   workers and stopping them, pickling what crosses the process boundary (the findings
   back, the project facts out to each worker), and one whole ``prodlint check --jobs N``
   run with the main process's CPU split into its serial part (imports, discovery,
   building the project facts, output) and its part inside the parallel steps
   (overlapped with the workers), each worker's CPU per step (reading the facts, taking
   the project facts, checking: the spread is what one worker waits for the other), and
   the workers' CPU outside their tasks (fork, messages, exit). Serial + the longest
   worker of each step is the wall time on an idle machine, which a busy one cannot show;
4. wall and CPU time (user + system, whole process tree) of ``--jobs 1`` and ``--jobs N``
   as separate processes, taking turns, and their ratios; CPU stays comparable on a
   machine busy with other work, wall does not.

cProfile inflates the cost of many small calls, so read part 2 as proportions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pickle
import pstats
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sdists import fetch

DJANGO = "django==5.2.8"
ROOT = Path(__file__).resolve().parent.parent
CHECK = ["check", "--no-cache", "--select", "ALL", "--output-format", "json"]
IMPORTS = (
    "import prodlint.runner, prodlint.engine, prodlint.facts, prodlint.registry as r; r.all_rules()"
)
# One `prodlint check --jobs N` with the main process's CPU inside the parallel steps
# (sending, receiving, storing results: overlapped with the workers) told apart from the
# rest, and each worker's CPU per step; printed as JSON.
TIMED = """
import json, resource, sys, time
start = time.perf_counter()
from prodlint import parallel, runner
overlapped, steps = [0.0], []
mapping, broadcasting = parallel.Workers.map, parallel.Workers.broadcast
checking, starting = runner.check_paths, parallel.Workers._start
def timed_start(self):
    # Importing the rules and forking come before any worker runs: serial, not overlapped.
    before = time.process_time()
    starting(self)
    overlapped[0] -= time.process_time() - before
def timed_map(self, *args, **kwargs):
    before = time.process_time()
    yield from mapping(self, *args, **kwargs)
    overlapped[0] += time.process_time() - before
def timed_broadcast(self, *args):
    before = time.process_time()
    broadcasting(self, *args)
    overlapped[0] += time.process_time() - before
def check_paths(*args, **kwargs):
    result = checking(*args, **kwargs)
    steps.extend(result.worker_seconds)
    return result
parallel.Workers.map, parallel.Workers.broadcast = timed_map, timed_broadcast
parallel.Workers._start = timed_start
runner.check_paths = check_paths
from prodlint.cli import main
sys.stdout = open("/dev/null", "w")
main(["check", "--no-cache", "--select", "ALL", "--jobs", sys.argv[1], sys.argv[2]])
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = time.process_time()
print(json.dumps({"serial": cpu - overlapped[0], "overlapped": overlapped[0], "steps": steps,
                  "cpu": cpu, "children": children.ru_utime + children.ru_stime,
                  "wall": time.perf_counter() - start}), file=sys.__stdout__)
"""
CPU = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, usage.ru_utime + usage.ru_stime)
"""


def import_time(top: int) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORTS],
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[int, int, str]] = []
    total = 0
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if found:
            rows.append((int(found[1]), int(found[2]), found[4]))
            if len(found[3]) == 1:  # imported by the command itself: these add up to the whole
                total += int(found[2])
    mine = sum(own for own, _, name in rows if name.startswith("prodlint"))
    print(
        f"1. import time of a check (engine, all rules, fact providers): {total / 1e6:.3f} s "
        f"(prodlint's own modules {mine / 1e6:.3f} s, the rest stdlib)"
    )
    for own, cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"   {own / 1e3:8.1f} ms own  {cumulative / 1e3:8.1f} ms cumulative  {name}")


def rule_of_module() -> dict[str, str]:
    from prodlint.registry import all_rules

    found: dict[str, str] = {}
    for code, rule in all_rules().items():
        module = sys.modules[rule.__module__].__file__ or ""
        found[module] = f"{found[module]}+{code}" if module in found else code
    return found


def profiled(package: Path, top: int) -> None:
    from prodlint.cli import main

    profile = cProfile.Profile()
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            profile.runcall(main, [*CHECK, "--jobs", "1", str(package)])
        finally:
            sys.stdout = stdout
    wall = time.perf_counter() - start
    stats = pstats.Stats(profile, stream=io.StringIO())
    table = stats.stats  # type: ignore[attr-defined]

    def cumulative(file_suffix: str, function: str) -> float:
        return sum(
            entry[3]
            for (file, _, name), entry in table.items()
            if file.endswith(file_suffix) and name == function
        )

    parse = sum(
        entry[3]
        for (file, _, name), entry in table.items()
        if file.endswith("ast.py") and name == "parse"
    )
    # read_facts calls it: this covers both.
    facts_parse = cumulative("prodlint/facts.py", "read_facts_and_tree")
    walk = cumulative("prodlint/engine.py", "walk")
    rules = rule_of_module()
    per_rule = sorted(
        (
            (entry[3], entry[0], rules[file])
            for (file, _, name), entry in table.items()
            if name.startswith("check") and file in rules
        ),
        reverse=True,
    )
    in_rules = sum(cost for cost, _, _ in per_rule)
    print(f"\n2. cProfile of check --jobs 1 --select ALL: {wall:.2f} s under the profiler")
    for label, cost in (
        (
            "discovery",
            cumulative("prodlint/discovery.py", "discover")
            + cumulative("prodlint/discovery.py", "fact_files"),
        ),
        ("project facts pre-pass (gather)", cumulative("prodlint/runner.py", "gather")),
        ("  of which reading facts (parse included)", facts_parse),
        ("ast.parse, all callers", parse),
        ("walk, rules included", walk),
        ("  rules' check(), cumulative", in_rules),
        ("  walk's own dispatch", walk - in_rules),
    ):
        print(f"   {label:<42} {cost:7.2f} s  {100 * cost / wall:5.1f} %")
    print(f"   slowest {top} rules by check() cumulative time (calls):")
    for cost, calls, code in per_rule[:top]:
        per_call = 1e6 * cost / max(calls, 1)
        print(f"   {code:<14} {cost:7.3f} s  {calls:>8} calls  {per_call:6.2f} us/call")


def parallel_cost(package: Path, jobs: int) -> None:
    from prodlint import parallel
    from prodlint.config import Configs
    from prodlint.discovery import discover
    from prodlint.runner import check_paths

    configs = Configs(None, lambda config: config.override(select=("ALL",)))
    start = time.perf_counter()
    files = discover([package], configs)
    found = time.perf_counter() - start
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        with parallel.Workers(jobs) as group:
            group.broadcast(abs, 0)
        runs.append(time.perf_counter() - start)
    result = check_paths([package], configs, use_cache=False, jobs=1, want_project=True)
    start = time.perf_counter()
    back = pickle.dumps(result.findings)
    pickle.loads(back)
    findings_cost = time.perf_counter() - start
    start = time.perf_counter()
    facts = pickle.dumps(result.project)
    pickle.loads(facts)
    facts_cost = time.perf_counter() - start

    assert check_paths([package], configs, use_cache=False, jobs=jobs).findings == (
        result.findings
    ), "--jobs 1 and --jobs N disagree"
    timed = min(
        (
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", TIMED, str(jobs), str(package)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(3)
        ),
        key=lambda run: run["serial"] + sum(max(step) for step in run["steps"]),
    )
    serial, steps = timed["serial"], timed["steps"]
    longest = sum(max(step) for step in steps)
    in_tasks = sum(sum(step) for step in steps)

    print(f"\n3. going parallel ({len(files)} files; discovery {found:.3f} s)")
    print(f"   start {jobs} workers, one empty task each, stop them: best {min(runs):.3f} s of 3")
    print(
        f"   pickle + unpickle the findings: {findings_cost * 1e3:.1f} ms "
        f"({len(back) / 1024:.0f} KB, {len(result.findings)} findings)"
    )
    print(
        f"   pickle + unpickle the project facts (sent to each worker): "
        f"{facts_cost * 1e3:.1f} ms ({len(facts) / 1024:.0f} KB)"
    )
    print(
        f"   a whole `prodlint check --jobs {jobs}` (best of 3 by its critical path; "
        f"wall {timed['wall']:.2f} s on this machine now), CPU seconds:"
    )
    print(f"     main process, serial (imports, discovery, fork, output) {serial:6.2f}")
    print(f"     main process, in the parallel steps (overlapped)       {timed['overlapped']:6.2f}")
    names = ("read facts", "send project facts", "check")
    for number, step in enumerate(steps):
        name = names[number] if len(steps) == len(names) else f"step {number}"
        shown = " ".join(f"{seconds:.2f}" for seconds in step)
        print(f"     workers in {name:<20} {shown}   (spread {max(step) - min(step):.2f})")
    print(
        f"     workers outside tasks (fork, messages, exit)            "
        f"{timed['children'] - in_tasks:6.2f}"
    )
    print(
        f"   critical path on an idle machine (serial + the longest worker of each step): "
        f"{serial + longest:.2f} s; all CPU {timed['cpu'] + timed['children']:.2f} s"
    )


def cpu_times(package: Path, runs: int) -> None:
    prodlint = str(Path(sys.executable).parent / "prodlint")
    cores = os.cpu_count() or 1
    counts = sorted({1, max(cores, 2)})
    print(
        f"\n4. wall and CPU time (user + system, process tree), best of {runs}, the job counts "
        f"taking turns; {cores} cores"
    )
    samples: dict[int, list[tuple[float, float]]] = {jobs: [] for jobs in counts}
    for _ in range(runs):
        for jobs in counts:
            command = [sys.executable, "-c", CPU, prodlint, *CHECK, "--jobs", str(jobs)]
            done = subprocess.run(
                [*command, str(package)], capture_output=True, text=True, check=True
            )
            wall, cpu = (float(value) for value in done.stdout.split())
            samples[jobs].append((wall, cpu))
    best = {jobs: (min(w for w, _ in got), min(c for _, c in got)) for jobs, got in samples.items()}
    for jobs, (wall, cpu) in best.items():
        print(f"   --jobs {jobs}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    top = counts[-1]
    print(
        f"   --jobs {top} / --jobs 1: wall {best[top][0] / best[1][0]:.2f}, "
        f"CPU {best[top][1] / best[1][1]:.2f} (goals <= 0.6 and <= 1.1 on 2 cores)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--src", type=Path, help="an unpacked django-5.2.8 sdist (skips the download)"
    )
    parser.add_argument(
        "--top", type=int, default=15, help="rows in the import and per-rule tables"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each job count in part 4")
    parser.add_argument(
        "--parts", default="1,2,3,4", help="which parts to run, comma-separated (default: all)"
    )
    args = parser.parse_args(argv)
    package = (args.src if args.src is not None else fetch(DJANGO)) / "django"
    parts = {int(part) for part in args.parts.split(",")}
    if 1 in parts:
        import_time(args.top)
    if 2 in parts:
        profiled(package, args.top)
    if 3 in parts:
        parallel_cost(package, max(os.cpu_count() or 1, 2))
    if 4 in parts:
        cpu_times(package, args.runs)


if __name__ == "__main__":
    main()
