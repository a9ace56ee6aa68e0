"""The reviewer's table (issue 8): every hunk ``prodlint fix`` makes on real code, judged.

For each pinned sdist below (fetched with bench/sdists.py, never committed), the package
folder is copied twice into the work folder:

1. ``prodlint fix --no-cache .`` on the first copy: the safe tier, what a user gets by
   default;
2. ``prodlint fix --unsafe-fixes --select ALL --no-cache .`` on the second: every rule,
   opt-in ones too, both tiers.

Both diffs are split into hunks (one line of context, as ``git diff -U1``). A hunk of the
second run whose text is also a hunk of the first is the safe tier's; the rest are the
unsafe tier's. Each hunk gets a stable id: project, path, the codes of the findings (from
``prodlint check --select ALL`` on the untouched copy) whose lines it covers, and the sha1 of
its text without the line numbers, so the id survives edits elsewhere in the file. A hunk that
covers no finding (an added ``import logging`` or logger line) carries the codes fixed in its
file, in brackets.

The hunks are written to ``<workdir>/hunks/<project>/<tier>.txt`` for reading (with the path
of the untouched copy, to open the file around them), and joined with the committed labels in
``bench/review_labels.json``::

    {"<id>": {"verdict": "correct" | "ugly" | "wrong", "tier": "safe" | "unsafe",
              "rule": "PRD501", "why": "..."}}

The labels are a reviewer's reading of each hunk in its file, not a script's guess: wrong =
changes behaviour in a way the tier does not allow, breaks code, or is false; ugly = correct,
but a reviewer would edit it before merging. The table counts correct / ugly / wrong per rule
and tier for the hunks of this run (labels of hunks the run no longer makes are listed as
stale), plus the unlabeled ones.

    python bench/review_hunks.py                       # every project
    python bench/review_hunks.py --only mkdocs kombu   # some
    python bench/review_hunks.py --workdir /tmp/x      # default /tmp/prodlint-review
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sdists

LABELS = Path(__file__).with_name("review_labels.json")
# -P: the checked folder (cwd) must not shadow the standard library (pydantic/warnings.py).
PRODLINT = [sys.executable, "-P", "-m", "prodlint"]
VERDICTS = ("correct", "ugly", "wrong")
TIERS = ("safe", "unsafe")

# project name -> (requirement, package folder inside the sdist)
PROJECTS: dict[str, tuple[str, str]] = {
    "mkdocs": ("mkdocs==1.6.0", "mkdocs"),
    "kombu": ("kombu==5.3.4", "kombu"),
    "celery": ("celery==5.3.6", "celery"),
    "django": ("django==5.2.8", "django"),
    "requests": ("requests==2.32.3", "src"),
    "urllib3": ("urllib3==2.2.3", "src"),
    "httpx": ("httpx==0.27.2", "httpx"),
    "flask": ("flask==3.0.3", "src"),
    # A Django application (models, views, querysets): where PRD2 and PRD4 fire.
    "allauth": ("django-allauth==65.3.0", "allauth"),
    # Typed libraries: where PRD6 fires.
    "pydantic": ("pydantic==2.9.2", "pydantic"),
    "rich": ("rich==13.9.4", "rich"),
    # A CLI with logging and prints (PRD5).
    "bandit": ("bandit==1.9.4", "bandit"),
}

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    project: str
    path: str
    tier: str
    codes: str
    old_start: int
    text: str  # the hunk with its @@ header
    repeat: int = 0  # earlier hunks of the file with the same text (the same edit twice)

    @property
    def body(self) -> str:
        return self.text.split("\n", 1)[1]

    @property
    def id(self) -> str:
        digest = hashlib.sha1(self.body.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        suffix = f"#{self.repeat + 1}" if self.repeat else ""
        return f"{self.project}:{self.path}:{self.codes}:{digest}{suffix}"


class ProdlintFailed(RuntimeError):
    """prodlint crashed on a project: its hunks are missing from the table, said so."""


def python_files(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(
            encoding="utf-8", errors="surrogateescape"
        )
        for path in sorted(root.rglob("*.py"))
        if path.is_file() and not path.is_symlink()
    }


def prodlint(arguments: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*PRODLINT, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise ProdlintFailed(
            f"prodlint {' '.join(arguments)} failed in {cwd}:\n{done.stderr[-4000:]}"
        )
    return done


def fixed(tree: Path, unsafe: bool) -> dict[str, tuple[str, str]]:
    """Run ``prodlint fix`` on the tree; the files it changed, as (before, after)."""
    before = python_files(tree)
    tier = ["--unsafe-fixes", "--select", "ALL"] if unsafe else []
    prodlint(["fix", "--no-cache", "--exit-zero", "-q", *tier, "."], tree)
    after = python_files(tree)
    return {name: (text, after[name]) for name, text in before.items() if after[name] != text}


Findings = dict[str, list[tuple[int, int, str, bool]]]  # path -> (line, end_line, code, fixable)


def findings(tree: Path) -> Findings:
    done = prodlint(
        ["check", "--no-cache", "--exit-zero", "--select", "ALL", "--format", "json", "."], tree
    )
    found: Findings = {}
    for item in json.loads(done.stdout)["findings"]:
        found.setdefault(Path(item["path"]).as_posix().removeprefix("./"), []).append(
            (item["line"], item["end_line"], item["code"], item["fix"] is not None)
        )
    return found


def split(before: str, after: str, name: str) -> list[tuple[int, int, str]]:
    """(first old line, old line count, hunk text) for each hunk of the diff."""
    lines = difflib.unified_diff(
        before.splitlines(True), after.splitlines(True), f"a/{name}", f"b/{name}", n=1
    )
    found: list[tuple[int, int, str]] = []
    for line in list(lines)[2:]:
        text = line if line.endswith("\n") else line + "\n"
        header = HUNK_HEADER.match(line)
        if header:
            start, count = int(header[1]), int(header[2] or "1")
            found.append((start if count else start + 1, count, text))
        elif found:
            start, count, hunk = found[-1]
            found[-1] = (start, count, hunk + text)
    return found


def codes_for(start: int, count: int, in_file: list[tuple[int, int, str, bool]]) -> str:
    last = start + max(count, 1) - 1
    covered = sorted(
        {code for line, end, code, fix in in_file if fix and line <= last and end >= start}
    )
    if covered:
        return "+".join(covered)
    return "[" + "+".join(sorted({code for _, _, code, fix in in_file if fix})) + "]"


def project_hunks(name: str, workdir: Path) -> list[Hunk]:
    requirement, folder = PROJECTS[name]
    source = sdists.fetch(requirement) / folder
    pristine = workdir / "pristine" / name
    if not pristine.exists():
        shutil.copytree(source, pristine, symlinks=True)
    found = findings(pristine)
    runs: dict[str, dict[str, tuple[str, str]]] = {}
    for tier in TIERS:
        tree = workdir / tier / name
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(pristine, tree, symlinks=True)
        runs[tier] = fixed(tree, unsafe=tier == "unsafe")
    safe_bodies: set[tuple[str, str]] = set()
    hunks: list[Hunk] = []
    for tier in TIERS:
        for path, (before, after) in sorted(runs[tier].items()):
            seen: Counter[str] = Counter()
            for start, count, text in split(before, after, path):
                codes = codes_for(start, count, found.get(path, []))
                body = text.split("\n", 1)[1]
                hunk = Hunk(name, path, tier, codes, start, text, seen[body])
                seen[body] += 1
                if tier == "safe":
                    safe_bodies.add((path, hunk.body))
                elif (path, hunk.body) in safe_bodies:
                    continue  # the same edit the safe run made
                hunks.append(hunk)
    return hunks


def _listed(project: str, item: dict[str, str]) -> Hunk:
    """A hunk as ``write_for_reading`` listed it (its id carries path, codes and repeat)."""
    _, path, codes, rest = item["id"].split(":", 3)
    repeat = int(rest.partition("#")[2] or "1") - 1
    header = HUNK_HEADER.match(item["text"])
    start = int(header[1]) if header else 0
    return Hunk(project, path, item["tier"], codes, start, item["text"], repeat)


def write_for_reading(
    hunks: Sequence[Hunk], workdir: Path, labels: dict[str, dict[str, str]]
) -> None:
    for name in sorted({hunk.project for hunk in hunks}):
        folder = workdir / "hunks" / name
        folder.mkdir(parents=True, exist_ok=True)
        for tier in TIERS:
            chosen = [hunk for hunk in hunks if hunk.project == name and hunk.tier == tier]
            parts = []
            for hunk in chosen:
                label = labels.get(hunk.id)
                verdict = f"{label['verdict']}: {label['why']}" if label else "UNLABELED"
                parts.append(
                    f"### {hunk.id}\n# {workdir / 'pristine' / name / hunk.path}:{hunk.old_start}"
                    f"\n# {verdict}\n{hunk.text}"
                )
            (folder / f"{tier}.txt").write_text("\n".join(parts), encoding="utf-8")
        listed = [
            {"id": hunk.id, "tier": hunk.tier, "codes": hunk.codes, "text": hunk.text}
            for hunk in hunks
            if hunk.project == name
        ]
        (folder / "hunks.json").write_text(json.dumps(listed, indent=1), encoding="utf-8")


def table(hunks: Sequence[Hunk], labels: dict[str, dict[str, str]]) -> str:
    counts: Counter[tuple[str, str, str]] = Counter()
    for hunk in hunks:
        label = labels.get(hunk.id)
        if label is None:
            counts[(hunk.codes.strip("[]").split("+")[0] or "?", hunk.tier, "unlabeled")] += 1
        else:
            counts[(label["rule"], hunk.tier, label["verdict"])] += 1
    rows = sorted({(rule, tier) for rule, tier, _ in counts})
    columns = (*VERDICTS, "unlabeled")
    lines = [f"{'rule':8} {'tier':7} " + " ".join(f"{column:>9}" for column in columns)]
    for rule, tier in rows:
        lines.append(
            f"{rule:8} {tier:7} "
            + " ".join(f"{counts[(rule, tier, column)]:>9}" for column in columns)
        )
    for tier in (*TIERS, "both"):
        total = {
            column: sum(counts[(rule, t, column)] for rule, t in rows if tier in (t, "both"))
            for column in columns
        }
        labelled = sum(total[verdict] for verdict in VERDICTS)
        share = f"{100 * total['ugly'] / labelled:.1f} % ugly" if labelled else "-"
        lines.append(
            f"{'all':8} {tier:7} "
            + " ".join(f"{total[column]:>9}" for column in columns)
            + f"   {share}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(PROJECTS), default=sorted(PROJECTS))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/prodlint-review"))
    parser.add_argument(
        "--rejoin",
        action="store_true",
        help="no new run: join the labels with the hunks the last run wrote to the workdir",
    )
    args = parser.parse_args(argv)
    labels: dict[str, dict[str, str]] = json.loads(LABELS.read_text(encoding="utf-8"))
    hunks: list[Hunk] = []
    failed: list[str] = []
    for name in args.only if args.rejoin else []:
        listed = args.workdir / "hunks" / name / "hunks.json"
        if not listed.exists():
            failed.append(name)
            continue
        for item in json.loads(listed.read_text(encoding="utf-8")):
            hunks.append(_listed(name, item))
    for name in [] if args.rejoin else args.only:
        shutil.rmtree(args.workdir / "pristine" / name, ignore_errors=True)
        try:
            made = project_hunks(name, args.workdir)
        except ProdlintFailed as error:
            failed.append(name)
            print(error, file=sys.stderr)
            continue
        print(f"{name}: {len(made)} hunks", file=sys.stderr)
        hunks.extend(made)
    write_for_reading(hunks, args.workdir, labels)
    print(table(hunks, labels))
    seen = {hunk.id for hunk in hunks}
    projects = set(args.only)
    stale = sorted(key for key in labels if key.split(":")[0] in projects and key not in seen)
    if stale:
        verdicts = Counter(labels[key]["verdict"] for key in stale)
        print(f"\n{len(stale)} labels for hunks this run no longer makes: {dict(verdicts)}")
        for key in stale[:20]:
            print(f"  {key} ({labels[key]['verdict']})")
    if failed:
        print(f"\nNOT IN THE TABLE (prodlint failed): {', '.join(failed)}")
    print(f"\nhunks for reading: {args.workdir / 'hunks'}/<project>/<tier>.txt")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
