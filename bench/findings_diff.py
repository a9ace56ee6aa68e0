"""Findings and fix diffs of two prodlint source trees on the same code, compared: the check
that a refactor of the shared layer changed no behaviour.

    python bench/findings_diff.py snapshot OUT.json [--src DIR] [--select PRD]
        [--code DIR ...]
    python bench/findings_diff.py compare BEFORE.json AFTER.json
    python bench/findings_diff.py commits REV_BEFORE REV_AFTER [--select ...] [--code DIR ...]

``snapshot`` runs ``python -m prodlint`` with ``--src`` (default: this checkout's src/) first
on ``sys.path``, so the tree of an older commit (``git archive REV src | tar -x -C DIR``) can be
measured by the same script. It records every finding (path, range, code, message, fix safety)
and the ``--diff --unsafe-fixes`` text of each code folder (default: the fixtures and Django
5.2.8's ``django/`` from the shared sdist cache). ``compare`` prints what differs and exits 1
when anything does. ``commits`` does both for the ``src/`` of two commits (``git archive``),
so one commit's effect is measured apart from what others change in the working tree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sdists

REPO = Path(__file__).resolve().parent.parent
# Per code folder: its sorted findings and the lines of its fix diff.
Snapshot = dict[str, dict[str, list[str]]]
LAUNCH = "import sys; del sys.path[0]; from prodlint.cli import main; sys.exit(main())"


def default_code() -> list[Path]:
    django = sdists.fetch("django==5.2.8")
    return [REPO / "fixtures", django / "django"]


def _prodlint(src: Path, arguments: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> str:
    # The checked folder is the working directory: its own types.py or inspect.py must not
    # shadow the standard library, so the script's folder leaves sys.path before any import.
    environment = dict(os.environ, PYTHONPATH=str(src))
    result = subprocess.run(
        [sys.executable, "-c", LAUNCH, *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    # Every run passes --exit-zero (``--diff`` still exits 1 when it has fixes to show):
    # any other status is a crash, not an empty report.
    if result.returncode not in ok:
        raise SystemExit(f"prodlint {' '.join(arguments)} failed:\n{result.stderr}")
    return result.stdout


def snapshot(src: Path, select: str, code: list[Path]) -> Snapshot:
    folders: Snapshot = {}
    for folder in code:
        common = ["--no-cache", "--select", select, "--jobs", "1", "--exit-zero", "."]
        output = _prodlint(src, ["check", "--format", "json", *common], folder)
        # A folder whose project settings exclude every file prints no report at all.
        report = json.loads(output) if output.strip() else {"findings": []}
        findings = sorted(
            f"{item['path']}:{item['line']}:{item['col']}-{item['end_line']}:{item['end_col']} "
            f"{item['code']} {item['message']} fix={(item['fix'] or {}).get('safety')}"
            for item in report["findings"]
        )
        fixes = ["check", "--diff", "--unsafe-fixes", "-q", *common]
        diff = _prodlint(src, fixes, folder, ok=(0, 1))
        folders[str(folder)] = {"findings": findings, "diff": diff.splitlines()}
    return folders


def compare(before: Snapshot, after: Snapshot) -> int:
    differences = 0
    for folder, old in before.items():
        new = after.get(folder, {"findings": [], "diff": []})
        for key in ("findings", "diff"):
            if old[key] != new[key]:
                differences += 1
                print(f"{folder} {key}: {len(old[key])} -> {len(new[key])} lines")
                for line in sorted(set(old[key]) - set(new[key]))[:40]:
                    print(f"  - {line}")
                for line in sorted(set(new[key]) - set(old[key]))[:40]:
                    print(f"  + {line}")
        print(f"{folder}: {len(old['findings'])} findings before, {len(new['findings'])} after")
    print("identical" if not differences else f"{differences} differences")
    return 1 if differences else 0


def archived_src(revision: str, into: Path) -> Path:
    """The ``src/`` folder of ``revision``, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "src"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    target = into / revision.replace("/", "_")
    target.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot")
    take.add_argument("out", type=Path)
    take.add_argument("--src", type=Path, default=REPO / "src")
    revisions = commands.add_parser("commits")
    revisions.add_argument("before")
    revisions.add_argument("after")
    for command in (take, revisions):
        command.add_argument("--select", default="PRD")
        command.add_argument("--code", type=Path, action="append")
    both = commands.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    arguments = parser.parse_args()
    if arguments.command == "compare":
        return compare(
            json.loads(arguments.before.read_text()), json.loads(arguments.after.read_text())
        )
    code = [folder.resolve() for folder in arguments.code or default_code()]
    if arguments.command == "snapshot":
        result = snapshot(arguments.src.resolve(), arguments.select, code)
        arguments.out.write_text(json.dumps(result, indent=1))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        trees = [archived_src(r, Path(scratch)) for r in (arguments.before, arguments.after)]
        old, new = (snapshot(tree, arguments.select, code) for tree in trees)
    return compare(old, new)


if __name__ == "__main__":
    sys.exit(main())
