"""What the walk costs on Django 5.2.8's ``django/`` (issue 13), apart from the rules: the
nodes it visits and the handler calls it makes, and CPU seconds (best of ``--runs``, this
process) of reading and parsing every file, of the walk with every handler replaced by one
that returns at once, and of ``Checker.check_text`` with all rules (``--select ALL``) on
the parsed trees.

    python bench/walk_cost.py                 # fetches the sdist (bench/sdists.py)
    python bench/walk_cost.py --src DIR       # DIR holds an unpacked django-5.2.8
    python bench/walk_cost.py --src DIR --runs 9

CPU time (``time.process_time``) barely moves on a machine busy with other work, where
wall-clock time does.
"""

from __future__ import annotations

import argparse
import ast
import gc
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from sdists import fetch

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.config import Config, Configs
from prodlint.engine import Checker, Walker
from prodlint.runner import check_paths

DJANGO = "django==5.2.8"
# Load/Store and operators: the walk never looks at them (``analysis.walk``).
UNWALKED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def _ignore(node: ast.AST, ctx: Context) -> None:
    return None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", type=Path, help="an unpacked django-5.2.8 sdist")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    package = (args.src if args.src is not None else fetch(DJANGO)) / "django"
    paths = sorted(package.rglob("*.py"))
    texts = [(str(path), path.read_text(encoding="utf-8")) for path in paths]
    warnings.simplefilter("ignore")  # invalid escapes in the checked code

    def parse_all() -> None:
        for path in paths:
            ast.parse(path.read_bytes())

    parse_seconds = best(args.runs, parse_all)
    trees = [ast.parse(text) for _, text in texts]
    gc.freeze()  # the trees stay: collections must not walk them over and over
    select = Configs(None, lambda config: config.override(select=("ALL",)))
    project = check_paths([package], select, use_cache=False, jobs=1, want_project=True).project
    checker = Checker(Config().override(select=("ALL",)), project=project)
    walkers = [
        checker._walker(checker._active(Context(path, text, tree, checker.settings)))
        for (path, text), tree in zip(texts, trees, strict=True)
    ]
    nodes = visited = handler_calls = 0
    for tree, walker in zip(trees, walkers, strict=True):
        for node in ast.walk(tree):
            if isinstance(node, UNWALKED):
                continue
            nodes += 1
            if type(node) in walker.skipped:
                continue
            visited += 1
            handler_calls += len(walker.dispatch.get(type(node), ()))
            if isinstance(node, ast.Call) and walker.by_name:
                handler_calls += len(walker.by_name.get(last_name(node.func) or "", ()))
    # The same tables, every handler a no-op: what is left is the walk's own work.
    idle: dict[int, Walker] = {}
    for walker in walkers:
        if id(walker) not in idle:
            idle[id(walker)] = Walker(
                {kind: [_ignore] * len(found) for kind, found in walker.dispatch.items()},
                {name: [_ignore] * len(found) for name, found in (walker.by_name or {}).items()},
            )

    def walk_all() -> None:
        for (path, text), tree, walker in zip(texts, trees, walkers, strict=True):
            idle[id(walker)].walk(tree, Context(path, text, tree, checker.settings))

    def check_all() -> None:
        for (path, text), tree in zip(texts, trees, strict=True):
            checker.check_text(text, path, tree)

    walk_seconds = best(args.runs, walk_all)
    check_seconds = best(args.runs, check_all)
    print(f"{package}: {len(paths)} files, {nodes} nodes (Load/Store and operators left out)")
    print(f"  nodes the walk visits:       {visited} ({100 * visited / nodes:.0f} %)")
    print(f"  handler calls:               {handler_calls}")
    print(f"  CPU, best of {args.runs}:")
    print(f"    read + ast.parse:          {parse_seconds:.3f} s")
    print(f"    walk, no-op handlers:      {walk_seconds:.3f} s")
    print(f"    check_text, all rules:     {check_seconds:.3f} s (tree given)")


if __name__ == "__main__":
    main()
