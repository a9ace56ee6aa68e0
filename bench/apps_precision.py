"""PRD3xx/PRD4xx/PRD5xx precision on real applications nobody tuned the rules on, judged
finding by finding (and fix hunk by fix hunk) in bench/apps_labels.json.

The applications are public repositories at pinned commits, of different kinds: a Flask app
(CTFd), a FastAPI service (Netflix dispatch), a large Django app (saleor), a CLI tool
(httpie) and a chat bot (errbot). Each is read from a bare git directory such as the one the
``fetch`` tool makes (``/work/.mirror/<owner>+<name>/repo``, or ``--mirrors DIR``); an
application whose mirror or commit is missing is skipped and said so. Nothing third-party
is committed: the trees are unpacked into a temporary folder.

prodlint runs as a user runs it, through its command line in the unpacked tree with the
rules of the three families selected (``check --select PRD3,PRD4,PRD5``, default settings,
so test files are treated as a project's tests are), and ``fix --unsafe-fixes --diff`` for
the hunks. A finding's id is ``app:path:code:digest`` (the digest of its stripped source
line, so a label survives lines moving; ``#2`` for the second alike finding), a hunk's
``app:path:digest`` of its changed lines. Labels: ``{"findings": {id: {"verdict":
"true"|"false", "why": ...}}, "hunks": {id: {"verdict": "correct"|"ugly"|"wrong", "why":
...}}}``. Precision per rule is true / (true + false) over the labelled findings;
unlabelled ones are counted and, with ``--list``, printed with their line to be judged.

    python bench/apps_precision.py [--only ctfd] [--list] [--hunks] [--json OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

MIRRORS = Path("/work/.mirror")
LABELS = Path(__file__).with_name("apps_labels.json")
SELECT = "PRD3,PRD4,PRD5"
# name: (mirror folder, commit, what kind of code it is)
APPS: dict[str, tuple[str, str, str]] = {
    "ctfd": ("CTFd+CTFd", "91ced62d44d3ec3142a0948ee96ed19947cfc979", "Flask app"),
    "dispatch": (
        "Netflix+dispatch",
        "dd2837e82a0bf5565b1b4b4b91ea30b7262d4061",
        "FastAPI service with Alembic migrations and vendor plugins",
    ),
    "saleor": ("saleor+saleor", "723cd4eba87dfc72822ade45dc08a3caa548428d", "Django app"),
    "httpie": ("httpie+cli", "5b604c37c6c67e18e7c3e9aee6c88a8c22b98345", "CLI tool"),
    "errbot": ("errbotio+errbot", "af1bb75b933178cf4dc5ddc8a0e327d2c2bc21d8", "chat bot"),
}
HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def unpack(name: str, mirrors: Path, target: Path) -> Path | None:
    """The application's tree at its pinned commit under ``target``; None (said why) when
    the mirror or the commit is missing."""
    folder, commit, _ = APPS[name]
    git_dir = mirrors / folder / "repo"
    if not git_dir.is_dir():
        sys.stdout.write(f"{name}: skipped, no mirror at {git_dir}\n")
        return None
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", commit],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        sys.stdout.write(f"{name}: skipped, {commit[:12]} is not in {git_dir}\n")
        return None
    tree = target / name
    tree.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def prodlint(tree: Path, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prodlint", *arguments],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise RuntimeError(f"prodlint {' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:10]


def findings(name: str, tree: Path) -> list[dict[str, object]]:
    """The CLI's findings, each with its id and source line."""
    report = json.loads(
        prodlint(
            tree,
            "check",
            "--select",
            SELECT,
            "--no-cache",
            "--exit-zero",
            "--format",
            "json",
        )
    )
    seen: Counter[str] = Counter()
    found = []
    for item in report["findings"]:
        path = str(item["path"])
        lines = (tree / path).read_text(encoding="utf-8", errors="surrogateescape").splitlines()
        line = lines[int(item["line"]) - 1].strip() if int(item["line"]) <= len(lines) else ""
        base = f"{name}:{path}:{item['code']}:{digest(line)}"
        seen[base] += 1
        found.append(
            {**item, "id": base if seen[base] == 1 else f"{base}#{seen[base]}", "source": line}
        )
    return found


def hunks(name: str, tree: Path) -> list[dict[str, str]]:
    """The hunks of ``prodlint fix --unsafe-fixes --diff``, each with its id."""
    diff = prodlint(tree, "fix", "--select", SELECT, "--unsafe-fixes", "--diff", "--no-cache")
    found: list[dict[str, str]] = []
    path = ""
    for line in diff.splitlines(keepends=True):
        if line.startswith("+++ "):
            path = line[4:].strip().removeprefix("b/")
        elif HUNK_HEADER.match(line):
            found.append({"path": path, "text": line})
        elif found and not line.startswith("--- "):
            found[-1]["text"] += line
    seen: Counter[str] = Counter()
    for hunk in found:
        changed = "".join(
            line for line in hunk["text"].splitlines(keepends=True)[1:] if line[:1] in "+-"
        )
        base = f"{name}:{hunk['path']}:{digest(changed)}"
        seen[base] += 1
        hunk["id"] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    return found


def precision_table(
    found: list[dict[str, object]], labels: dict[str, dict[str, str]]
) -> tuple[str, dict[str, dict[str, int]]]:
    counts: dict[str, dict[str, int]] = defaultdict(Counter)  # type: ignore[arg-type]
    for item in found:
        if item["code"] == "PRD000":
            continue  # a file prodlint cannot parse (saleor's Python 3.12 syntax), no rule's
        verdict = labels.get(str(item["id"]), {}).get("verdict", "unlabelled")
        counts[str(item["code"])]["findings"] += 1
        counts[str(item["code"])][verdict] += 1
    rows = [
        "| rule | findings | true | false | unlabelled | precision |",
        "|---|---|---|---|---|---|",
    ]
    for code in sorted(counts):
        row = counts[code]
        judged = row["true"] + row["false"]
        precision = f"{row['true'] / judged:.1%}" if judged else "-"
        rows.append(
            f"| {code} | {row['findings']} | {row['true']} | {row['false']} | "
            f"{row['unlabelled']} | {precision} |"
        )
    return "\n".join(rows) + "\n", {code: dict(row) for code, row in counts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--only", action="append", default=[], choices=sorted(APPS))
    parser.add_argument("--list", action="store_true", help="print the unlabelled findings")
    parser.add_argument("--hunks", action="store_true", help="judge the fix hunks too")
    parser.add_argument("--json", type=Path, help="write findings, hunks and counts here")
    args = parser.parse_args(argv)
    labels = json.loads(LABELS.read_text(encoding="utf-8")) if LABELS.exists() else {}
    finding_labels: dict[str, dict[str, str]] = labels.get("findings", {})
    hunk_labels: dict[str, dict[str, str]] = labels.get("hunks", {})
    all_found: list[dict[str, object]] = []
    all_hunks: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="apps-precision-") as work:
        for name in args.only or list(APPS):
            tree = unpack(name, args.mirrors, Path(work))
            if tree is None:
                continue
            found = findings(name, tree)
            all_found.extend(found)
            kind = APPS[name][2]
            per_rule = Counter(str(item["code"]) for item in found)
            sys.stdout.write(
                f"{name} ({kind}): {len(found)} findings {dict(sorted(per_rule.items()))}\n"
            )
            if args.hunks:
                all_hunks.extend(hunks(name, tree))
    table, counts = precision_table(all_found, finding_labels)
    sys.stdout.write("\n" + table)
    if args.hunks:
        verdicts = Counter(
            hunk_labels.get(h["id"], {}).get("verdict", "unlabelled") for h in all_hunks
        )
        sys.stdout.write(f"\nfix hunks: {len(all_hunks)} {dict(sorted(verdicts.items()))}\n")
        for hunk in all_hunks:
            label = hunk_labels.get(hunk["id"])
            if label is not None and label["verdict"] != "correct":
                sys.stdout.write(f"  {label['verdict']}: {hunk['id']}: {label['why']}\n")
    if args.list:
        for item in all_found:
            if str(item["id"]) not in finding_labels:
                sys.stdout.write(
                    f"  UNLABELLED {item['id']} line {item['line']}: {item['source'][:100]}\n"
                )
        for hunk in all_hunks:
            if hunk["id"] not in hunk_labels:
                sys.stdout.write(f"  UNLABELLED HUNK {hunk['id']}\n{hunk['text']}")
    if args.json:
        args.json.write_text(
            json.dumps({"findings": all_found, "hunks": all_hunks, "counts": counts}, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
