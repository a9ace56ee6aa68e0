"""The corpus run of issue 13: over a million lines nobody here wrote.

Pinned sdists (bench/sdists.py; nothing is committed) of Django, SQLAlchemy, requests, Flask,
urllib3, httpx, celery and sympy (a large pure-Python project: pandas' sdist cannot even be
downloaded with ``--no-binary :all:`` in reasonable time, pip builds numpy from source to read
its metadata), plus the standard library of the interpreter running this
script (its ``site-packages`` left out):

1. ``prodlint check --select ALL`` (every rule, the opt-in ones too) over all of it: zero
   crashes (a PRD000 saying "internal error"; a PRD000 on a file CPython compiles is wrong
   too), wall time, lines per second and peak memory;
2. ``prodlint fix --unsafe-fixes --select ALL`` over copies: every changed file still
   compiles, a second ``fix`` changes nothing, ``prodlint check`` afterwards shows no fixable
   finding left (the fixer repeats passes until none is; one left is a fix that claimed a
   finding and did not remove it), and files ``ruff format --check`` accepted before stay
   formatted except on the lines prodlint changed.

    python bench/corpus.py [--workdir /tmp/prodlint-corpus] [--skip-fix] [--only requests flask ...]

Tool versions are printed with the table.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import sdists
from run import measure_once

SDISTS = (
    "django==5.2.8",
    "sqlalchemy==2.1.9",
    "requests==2.34.2",
    "flask==3.1.3",
    "urllib3==2.2.3",
    "httpx==0.27.2",
    "celery==5.3.6",
    "sympy==1.13.3",
)
PRODLINT = [sys.executable, "-m", "prodlint"]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
# Every .py file, whatever its folder is called, except the interpreter's installed packages.
# Named on the command line, a folder is checked whatever the config excludes.
SKIPPED = frozenset({"site-packages", "__pycache__"})
CONFIG = '[tool.prodlint]\nexclude = ["site-packages", "__pycache__"]\nrespect-gitignore = false\n'


def trees() -> dict[str, Path]:
    found = {requirement.partition("==")[0]: sdists.fetch(requirement) for requirement in SDISTS}
    found["stdlib"] = Path(sysconfig.get_paths()["stdlib"])
    return found


def is_build_output(root: Path, path: Path) -> bool:
    """A tree's top-level ``build/``: setuptools' copy of the sources, left in the shared sdist
    cache by anyone who pip-installed from it (it would count Django's files twice)."""
    return path.parent == root and path.name == "build" and path.is_dir()


def entries(root: Path) -> list[Path]:
    """What to check of a tree: its top-level folders and .py files, less build output (other
    files named on the command line would be read as Python)."""
    return sorted(
        child
        for child in root.iterdir()
        if (child.is_dir() or child.suffix == ".py")
        and child.name not in SKIPPED
        and not is_build_output(root, child)
    )


def not_copied(root: Path) -> Callable[[str, list[str]], set[str]]:
    """``copytree``'s ignore: what ``python_files`` leaves out."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {
            name for name in names if name in SKIPPED or is_build_output(root, Path(folder) / name)
        }

    return ignore


def python_files(root: Path) -> list[Path]:
    return sorted(
        path
        for entry in entries(root)
        for path in (entry.rglob("*.py") if entry.is_dir() else [entry])
        if path.is_file() and not SKIPPED & set(path.relative_to(root).parts)
    )


def count_lines(paths: Sequence[Path]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in paths)


def compiles(data: bytes, name: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def check(
    folder: Path,
    config: Path,
    output: Path,
    paths: Sequence[str] = (".",),
) -> tuple[float, int, list[dict[str, object]], float]:
    """Wall seconds, peak RSS (kB), the findings and CPU seconds of one check run."""
    command = [
        *PRODLINT,
        "check",
        "--select",
        "ALL",
        "--no-cache",
        "--config",
        str(config),
        "--format",
        "json",
        "-o",
        str(output),
        *paths,
    ]
    seconds, peak_kb, _, cpu = measure_once(command, folder)
    findings: list[dict[str, object]] = json.loads(output.read_text())["findings"]
    return seconds, peak_kb, findings, cpu


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in python_files(root)
    }


def fix(folder: Path, config: Path) -> tuple[float, Counter[tuple[str, str]], str]:
    """Fix everything under ``folder``; the time, the fixes claimed per (file, code), stderr."""
    command = [
        *PRODLINT,
        "fix",
        "--unsafe-fixes",
        "--show-fixes",
        "--select",
        "ALL",
        "--no-cache",
        "--config",
        str(config),
        ".",
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise SystemExit(f"prodlint fix failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    claimed: Counter[tuple[str, str]] = Counter()
    current = ""
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("- ") and line.endswith(":"):
            current = line[2:-1]
        elif current and (match := re.match(r"\s+(\d+) x (PRD\d+)", line)):
            claimed[(current, match.group(2))] += int(match.group(1))
    return time.perf_counter() - start, claimed, done.stderr


def unformatted(folder: Path, names: Sequence[str]) -> dict[str, str]:
    """ruff format's diff per file, for the given files (ruff's defaults, no project config)."""
    if not names:
        return {}
    diffs: dict[str, str] = {}
    for start in range(0, len(names), 500):
        done = subprocess.run(
            [RUFF, "format", "--isolated", "--no-cache", "--diff", *names[start : start + 500]],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        current = ""
        for line in done.stdout.splitlines(keepends=True):
            if line.startswith("--- "):
                current = line[4:].strip()
                diffs[current] = ""
            if current:
                diffs[current] += line
    return diffs


def changed_lines(before: str, after: str) -> set[int]:
    """Lines of ``after`` (1-based) that prodlint wrote."""
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            lines.update(range(j1 + 1, max(j2, j1 + 1) + 1))
    return lines


def format_lines(diff: str) -> set[int]:
    """Lines of the file (1-based, before formatting) that ruff format would change: the
    ``-`` lines of its diff, or the line an insertion goes after (not the context lines)."""
    lines: set[int] = set()
    number = 0
    for line in diff.splitlines():
        if match := re.match(r"@@ -(\d+)", line):
            number = int(match.group(1)) - 1
        elif line.startswith("-") and not line.startswith("---"):
            number += 1
            lines.add(number)
        elif line.startswith("+") and not line.startswith("+++"):
            lines.add(max(number, 1))
        elif line.startswith(" "):
            number += 1
    return lines


@dataclass
class FixReport:
    files_changed: int
    fix_seconds: float
    second_fix_seconds: float
    not_fixed: list[str]  # contained failures: the file is left as it was
    broken: list[str]  # changed files that no longer compile
    unsettled: list[str]  # files a second fix changes again
    claimed: int
    claimed_not_removed: dict[str, str]
    fixable_left: dict[str, int]
    format_clean_touched: int
    format_changed_on_fixed_lines: int
    format_broken_outside_fix: list[str]

    def print(self) -> None:
        print(
            f"fix --unsafe-fixes --select ALL: {self.files_changed} files changed "
            f"in {self.fix_seconds} s (second fix {self.second_fix_seconds} s); "
            f"not fixed (contained failures) {len(self.not_fixed)}; "
            f"no longer compiling {len(self.broken)}; "
            f"changed by a second fix {len(self.unsettled)}"
        )
        print(
            f"  fixes claimed {self.claimed}, "
            f"claimed but still reported {len(self.claimed_not_removed)}; "
            f"offered fixes declined at fix time {sum(self.fixable_left.values())} "
            f"{self.fixable_left}"
        )
        print(
            f"  ruff-format-clean files touched {self.format_clean_touched}: "
            f"unformatted only on lines prodlint wrote {self.format_changed_on_fixed_lines}, "
            f"unformatted elsewhere {len(self.format_broken_outside_fix)}"
        )
        for label, items in (
            ("not fixed", self.not_fixed),
            ("broken", self.broken),
            ("unsettled", self.unsettled),
            ("unformatted elsewhere", self.format_broken_outside_fix),
            ("claimed, still reported", [f"{k}: {v}" for k, v in self.claimed_not_removed.items()]),
        ):
            for item in items[:20]:
                print(f"  {label}: {item}")


def fix_run(sources: dict[str, Path], workdir: Path, config: Path) -> FixReport:
    copies = workdir / "fix"
    shutil.rmtree(copies, ignore_errors=True)
    for name, root in sources.items():
        shutil.copytree(root, copies / name, ignore=not_copied(root), symlinks=True)
    before = digests(copies)
    texts_before = {name: (copies / name).read_bytes() for name in before}
    format_before = unformatted(copies, sorted(before))
    _, _, findings_before, _ = check(copies, config, workdir / "fix-before.json")
    count_before = Counter((str(f["path"]), str(f["code"])) for f in findings_before)

    seconds, claimed, stderr = fix(copies, config)
    after = digests(copies)
    changed = sorted(name for name in before if after.get(name) != before[name])
    failed = [line for line in stderr.splitlines() if "not fixed" in line]
    broken = [name for name in changed if not compiles((copies / name).read_bytes(), name)]

    seconds_again, _, _ = fix(copies, config)
    unsettled = sorted(
        name for name, digest in digests(copies).items() if after.get(name) != digest
    )

    _, _, remaining, _ = check(copies, config, workdir / "fix-after.json")
    count_after = Counter((str(f["path"]), str(f["code"])) for f in remaining)
    # A fix that claimed a finding must have removed it: no more left than before less claimed.
    not_removed = {
        f"{path} {code}": (
            f"{count_before[(path, code)]} - {number} claimed -> {count_after[(path, code)]}"
        )
        for (path, code), number in claimed.items()
        if count_after[(path, code)] > count_before[(path, code)] - number
    }
    # Offered fixes the rule's fix() declined at fix time (no libcst node, a comment inside...).
    left = Counter(str(f["code"]) for f in remaining if f.get("fix") is not None)

    newly_unformatted = []
    format_after = unformatted(copies, [name for name in changed if name not in format_before])
    for name, diff in format_after.items():
        written = changed_lines(
            texts_before[name].decode("utf-8", "replace"),
            (copies / name).read_text(encoding="utf-8", errors="replace"),
        )
        if not format_lines(diff) <= written:
            newly_unformatted.append(name)
    return FixReport(
        files_changed=len(changed),
        fix_seconds=round(seconds, 1),
        second_fix_seconds=round(seconds_again, 1),
        not_fixed=failed,
        broken=broken,
        unsettled=unsettled,
        claimed=sum(claimed.values()),
        claimed_not_removed=not_removed,
        fixable_left=dict(left),
        format_clean_touched=len([name for name in changed if name not in format_before]),
        format_changed_on_fixed_lines=len(format_after) - len(newly_unformatted),
        format_broken_outside_fix=newly_unformatted,
    )


def versions() -> dict[str, str]:
    prodlint = subprocess.run(
        [*PRODLINT, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    ruff = subprocess.run(
        [RUFF, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "prodlint": prodlint,
        "ruff": ruff,
        "sdists": ", ".join(SDISTS),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "prodlint-corpus"
    )
    parser.add_argument("--skip-fix", action="store_true", help="only the check run")
    parser.add_argument(
        "--only", nargs="*", help="some of the trees (names as in the table), e.g. a quick run"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    config = args.workdir / "pyproject.toml"
    config.write_text(CONFIG)
    sources = {name: root for name, root in trees().items() if not args.only or name in args.only}

    rows = []
    for name, root in sources.items():
        paths = python_files(root)
        rows.append((name, len(paths), count_lines(paths)))
    total_files = sum(row[1] for row in rows)
    total_lines = sum(row[2] for row in rows)
    # One run over every tree (absolute paths: findings come back absolute).
    seconds, peak_kb, findings, cpu = check(
        args.workdir,
        config,
        args.workdir / "check.json",
        [str(entry) for root in sources.values() for entry in entries(root)],
    )
    uncheckable = [f for f in findings if f["code"] == "PRD000"]
    crashes = [f for f in uncheckable if "internal error" in str(f["message"])]
    wrong = [
        f
        for f in uncheckable
        if f not in crashes
        and compiles((args.workdir / str(f["path"])).read_bytes(), str(f["path"]))
    ]
    by_code = Counter(str(f["code"]) for f in findings)

    print("corpus")
    for name, files, lines in rows:
        print(f"  {name:<12} {files:>6} files {lines:>9} lines")
    print(f"  {'total':<12} {total_files:>6} files {total_lines:>9} lines")
    print(
        f"check --select ALL: {seconds:.1f} s wall ({cpu:.1f} s CPU), "
        f"{total_lines / seconds:,.0f} lines/s ({total_lines / cpu:,.0f} per CPU second), "
        f"peak {peak_kb / 1024:.0f} MB, {len(findings)} findings; crashes {len(crashes)}, "
        f"PRD000 on compilable files {len(wrong)}, "
        f"PRD000 on files CPython rejects {len(uncheckable) - len(crashes) - len(wrong)}"
    )
    print(
        "  findings per code: "
        + ", ".join(f"{code} {count}" for code, count in sorted(by_code.items()))
    )
    for finding in crashes + wrong:
        print(f"  ! {finding['path']}:{finding['line']}: {finding['message']}")
    result: dict[str, object] = {
        "versions": versions(),
        "files": total_files,
        "lines": total_lines,
        "check_seconds": round(seconds, 2),
        "check_cpu_seconds": round(cpu, 2),
        "lines_per_second": round(total_lines / seconds),
        "peak_mb": round(peak_kb / 1024),
        "findings": dict(by_code),
        "crashes": crashes,
        "prd000_on_compilable": wrong,
    }
    if not args.skip_fix:
        fixed = fix_run(sources, args.workdir, config)
        result["fix"] = asdict(fixed)
        fixed.print()
    print("versions: " + json.dumps(versions()))
    (args.workdir / "results.json").write_text(json.dumps(result, indent=2))
    return 1 if crashes or wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
