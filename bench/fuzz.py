"""The long fuzz run (issue 13): real files mutated, and generated programs, checked and fixed.

    python bench/fuzz.py                         # 40 CPU minutes of mutations + hypothesmith
    python bench/fuzz.py --minutes 5 --scale 5   # shorter
    python bench/fuzz.py --corpus requests==2.32.3 stdlib --seed 7

The properties are tests/test_fuzz.py's (that file is the short run CI makes, on the same
mutations): ``check`` never raises (a file that does not parse is one PRD000 finding),
``fix --unsafe-fixes`` never fails on code that compiles, what it changes compiles, and a
second fix changes nothing. Every rule runs, opt-in ones too.

1. Mutations: files of pinned sdists (Django, SQLAlchemy, requests, celery, Flask) and of
   the interpreter's stdlib, each given one to four edits (lines deleted, duplicated,
   swapped, re-indented, cut or spliced; a block wrapped in a loop, ``try``, ``with`` or a
   function; a name renamed through the file; a ``print``/``logging``/``open``/``execute``
   or ``Any`` statement inserted), checked under its own path or as app code, a test, a
   migration or a script. Runs until ``--minutes`` of CPU time are spent; every failing
   program is written to ``--out`` with its error, and the run goes on.
2. Generated programs: tests/test_fuzz.py's hypothesmith properties with ``--scale`` times
   CI's examples (hypothesis shrinks and prints the first failing program).

The summary gives programs tried, per mutation kind how many parsed and how many a fix
changed, and the failures by kind (crashes, non-compiling fixes, unsettled fixes).

Long run at 12f9f37 and 742b8b8 (seeds 13 and 14, 3172 files of the five sdists and the
3.11 stdlib, on a shared 2-core machine whose load cut the CPU budget short): 77,129
mutated programs in 1,360 s CPU, of which 30,571 parsed and 2,396 were changed by a fix;
100 grammar- and 40 libcst-generated programs; no failure of any kind.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import subprocess
import sys
import sysconfig
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import FixFailed, fix_text
from prodlint.model import UNCHECKABLE_CODE
from prodlint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Where a mutated file lives decides which rules apply (app code, tests, migrations).
PATHS = (
    "app/module.py",
    "app/tests/test_module.py",
    "app/migrations/0002_auto.py",
    "scripts/tool.py",
)
SPLICED = (
    "None",
    "await x",
    "*args",
    "lambda: 0",
    "f'{x}'",
    "%s",
    "[]",
    "yield",
    "global x",
    "del self",
    "return",
    "async ",
)
# Block headers a run of lines is wrapped in; "{}" is the header's indentation.
WRAPPERS = (
    ("{}for _fuzz in range(2):", ""),
    ("{}while True:", ""),
    ("{}if _fuzz:", ""),
    ("{}try:", "{}except Exception:\n{}    pass"),
    ("{}try:", "{}finally:\n{}    cleanup()"),
    ("{}with open(__file__) as _fuzz:", ""),
    ("{}async with session:", ""),
    ("{}def _fuzz(self, x: Any = None) -> Any:", ""),
    ("{}class _Fuzz(Base):", ""),
)
# Statements inserted at a line's indentation: what the rule families look for.
INSERTED = (
    "print(x)",
    "print(f'failed: {error}')",
    'logging.info("value %s" % x)',
    'logger.error(f"{x} went wrong")',
    "logger.exception(error)",
    "f = open(path)",
    "data = open(path).read()",
    "conn = sqlite3.connect(path)",
    'cursor.execute(f"SELECT * FROM t WHERE id = {x}")',
    'cursor.execute("SELECT %s" % x)',
    "session.execute(text(f'DELETE FROM {table}'))",
    "for o in Order.objects.all(): print(o.customer.name)",
    "x: Any = 0",
    "def _f(a: Any, b: Any = 1) -> Any: return a",
    "value = cast(Any, value)",
    'password = "hunter2"',
    'API_URL = "http://10.0.0.1:8000/api"',
    "requests.get(url)",
    "import logging",
    "from typing import Any",
    "import sqlite3",
    "try:\n    x()\nexcept Exception:\n    pass",
    "return None",
    "yield x",
)
RENAMES = ("self", "cursor", "logger", "session", "request", "Any", "print", "open", "object")
KINDS = (
    "delete",
    "duplicate",
    "swap",
    "dedent",
    "indent",
    "truncate",
    "splice",
    "wrap",
    "rename",
    "insert",
)
# Outcomes that break a property; the others are "unchanged", "fixed" and "unparsable".
FAILURES = (
    "check raised",
    "PRD000 wrong",
    "fix raised",
    "fix made invalid code",
    "fix unsettled",
    "libcst refused",
    "second fix changed",
)


def every_rule() -> Checker:
    """A checker with every rule, the opt-in ones too."""
    return Checker(Config(), rules=list(all_rules().values()))


class Chooser(Protocol):
    """Where the mutations' choices come from: hypothesis (shrinkable) or a seeded Random."""

    def integer(self, low: int, high: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...


@dataclass
class RandomChooser:
    rng: random.Random

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _block_end(lines: list[str], at: int) -> int:
    """The end (exclusive) of the block starting at ``at``: the line and those after it
    that are blank or indented deeper."""
    depth = len(_indentation(lines[at]))
    end = at + 1
    while end < len(lines) and (not lines[end].strip() or len(_indentation(lines[end])) > depth):
        end += 1
    return end


def _identifiers(line: str) -> list[str]:
    return [word for word in re.findall(r"[A-Za-z_]\w*", line) if not word.isupper()]


def mutate(text: str, choose: Chooser, kinds: Counter[str] | None = None) -> str:
    """``text`` with one to four edits; the kinds used are counted in ``kinds``."""
    lines = text.split("\n")
    for _ in range(choose.integer(1, 4)):
        if not lines:
            break
        at = choose.integer(0, len(lines) - 1)
        kind = choose.choice(KINDS)
        if kinds is not None:
            kinds[kind] += 1
        line = lines[at]
        indent = _indentation(line)
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, line)
        elif kind == "swap":
            other = choose.integer(0, len(lines) - 1)
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "dedent":
            lines[at] = line.lstrip()
        elif kind == "indent":
            lines[at] = "    " + line
        elif kind == "truncate":
            lines[at] = line[: choose.integer(0, max(len(line) - 1, 0))]
        elif kind == "splice":
            column = choose.integer(0, len(line))
            lines[at] = line[:column] + choose.choice(SPLICED) + line[column:]
        elif kind == "wrap":
            end = _block_end(lines, at)
            head, tail = choose.choice(WRAPPERS)
            body = ["    " + moved if moved.strip() else moved for moved in lines[at:end]]
            closing = tail.format(indent, indent).split("\n") if tail else []
            lines[at:end] = [head.format(indent), *body, *closing]
        elif kind == "rename":
            names = _identifiers(line)
            if names:
                old = choose.choice(names)
                new = choose.choice((*RENAMES, *_identifiers(choose.choice(lines))))
                pattern = re.compile(rf"\b{re.escape(old)}\b")
                lines = [pattern.sub(new, each) for each in lines]
        else:
            statement = choose.choice(INSERTED).replace("\n", "\n" + indent)
            lines.insert(at, indent + statement)
    return "\n".join(lines)


def compiles(source: str, *, parse_only: bool = False) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if parse_only:
                ast.parse(source)
            else:  # also the checks after parsing: await or return outside a function...
                compile(source, "fuzzed.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


@dataclass(frozen=True)
class Outcome:
    kind: str  # "unchanged", "fixed", "unparsable" or one of FAILURES
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


def _fix_failure(error: FixFailed) -> str:
    message = str(error)
    if "did not converge" in message:
        return "fix unsettled"
    if "invalid code" in message:
        return "fix made invalid code"
    if "libcst cannot parse" in message:
        return "libcst refused"
    if message.startswith("checking raised"):
        return "check raised"
    return "fix raised"


def outcome(source: str, path: str, checker: Checker) -> Outcome:
    """What checking and fixing ``source`` (as the file ``path``) does to the properties."""
    try:
        findings = checker.check_text(source, path)
    except Exception:  # noqa: BLE001 - the crash is what is being looked for
        return Outcome("check raised", traceback.format_exc())
    if not compiles(source, parse_only=True):
        codes = [finding.code for finding in findings]
        if codes != [UNCHECKABLE_CODE]:
            return Outcome("PRD000 wrong", repr(findings))
        return Outcome("unparsable")
    try:
        fixed = fix_text(source, path, checker, unsafe=True)
    except FixFailed as error:
        if not compiles(source):
            return Outcome("unparsable")  # the fixer refuses code that never compiled
        return Outcome(_fix_failure(error), str(error))
    if fixed.text == source:
        return Outcome("unchanged")
    if not compiles(fixed.text):
        return Outcome("fix made invalid code", fixed.text)
    try:
        again = fix_text(fixed.text, path, checker, unsafe=True)
    except FixFailed as error:
        return Outcome("second fix changed", f"the second fix failed: {error}")
    if again.text != fixed.text:
        return Outcome("second fix changed", again.text)
    return Outcome("fixed")


# --- the long run ------------------------------------------------------------------------

SDISTS = {
    "django==5.2.8": "django",
    "sqlalchemy==2.1.9": "lib/sqlalchemy",
    "requests==2.32.3": "src/requests",
    "celery==5.3.6": "",
    "flask==3.0.3": "",
}
MAX_CHARS = 60_000  # longer files cost seconds per fix pass and add no new shape


def corpus_files(names: Sequence[str]) -> list[tuple[str, str]]:
    """(relative path, text) of every Python file of the named sdists (``stdlib``: this
    interpreter's Lib/), up to MAX_CHARS each."""
    sys.path.insert(0, str(ROOT / "bench"))
    import sdists

    found: list[tuple[str, str]] = []
    for name in names:
        if name == "stdlib":
            root = Path(sysconfig.get_paths()["stdlib"])
            prefix = "Lib"
        else:
            try:
                root = sdists.fetch(name) / SDISTS.get(name, "")
            except sdists.FetchError as error:
                print(f"{name}: skipped ({error})", file=sys.stderr)
                continue
            prefix = name.partition("==")[0]
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).parts
            if {"site-packages", "build", "__pycache__"} & set(parts) or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if len(text) <= MAX_CHARS:
                found.append((f"{prefix}/{'/'.join(parts)}", text))
    return found


@dataclass
class Tally:
    programs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # mutations made, per kind
    parsed: Counter[str] = field(default_factory=Counter)  # of programs with that kind
    fixed: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # kind, path, file


def run_mutations(
    files: Sequence[tuple[str, str]],
    minutes: float,
    seed: int,
    out: Path,
    log: Callable[[str], None],
    wall_minutes: float = 0,
) -> Tally:
    checker = every_rule()
    choose = RandomChooser(random.Random(seed))
    tally = Tally()
    out.mkdir(parents=True, exist_ok=True)
    budget = minutes * 60
    start = time.process_time()
    # On a shared machine the CPU budget can take hours of wall time: a wall deadline too.
    deadline = time.monotonic() + wall_minutes * 60 if wall_minutes else float("inf")
    next_log = 60.0
    seen_errors: set[tuple[str, str]] = set()
    while time.process_time() - start < budget and time.monotonic() < deadline:
        relative, text = choose.choice(files)
        path = relative if choose.integer(0, 1) else choose.choice(PATHS)
        kinds: Counter[str] = Counter()
        source = mutate(text, choose, kinds)
        result = outcome(source, path, checker)
        tally.programs += 1
        tally.outcomes[result.kind] += 1
        tally.kinds.update(kinds)
        for kind in kinds:
            if result.kind in ("unchanged", "fixed"):
                tally.parsed[kind] += 1
            if result.kind == "fixed":
                tally.fixed[kind] += 1
        if result.failed:
            # One file per distinct error (its last line), so a common bug is not saved
            # thousands of times.
            signature = (result.kind, result.detail.strip().splitlines()[-1][:200])
            if signature not in seen_errors:
                seen_errors.add(signature)
                saved = out / f"{result.kind.replace(' ', '-')}-{len(tally.failures):04d}.py"
                saved.write_text(
                    f"# path: {path} (from {relative})\n# {result.kind}\n"
                    + "".join(f"# | {line}\n" for line in result.detail.splitlines()[-30:])
                    + source,
                    encoding="utf-8",
                )
                tally.failures.append((result.kind, path, str(saved)))
                log(f"{result.kind} on {relative} as {path}: saved {saved}")
        spent = time.process_time() - start
        if spent > next_log:
            next_log += 60
            log(f"{tally.programs} programs, {spent:.0f} s CPU, {dict(tally.outcomes)}")
    return tally


def summary(tally: Tally, seconds: float, files: int) -> str:
    lines = [
        f"mutations: {tally.programs} programs from {files} files in {seconds:.0f} s CPU",
        "  outcomes: " + ", ".join(f"{k} {n}" for k, n in tally.outcomes.most_common()),
        "  per kind (edits made / programs that parsed / programs a fix changed):",
    ]
    lines += [
        f"    {kind:10s} {tally.kinds[kind]:6d} / {tally.parsed[kind]:6d} / {tally.fixed[kind]:6d}"
        for kind in KINDS
    ]
    failed = sum(tally.outcomes[kind] for kind in FAILURES)
    lines.append(
        f"  failures: {failed} ("
        + ", ".join(f"{kind} {tally.outcomes[kind]}" for kind in FAILURES)
        + f"); distinct ones saved: {len(tally.failures)}"
    )
    lines += [f"    {kind}: {path} -> {saved}" for kind, path, saved in tally.failures]
    return "\n".join(lines)


def run_generated(scale: int) -> tuple[int, float]:
    """tests/test_fuzz.py's hypothesmith properties, ``scale`` times CI's examples."""
    env = {**os.environ, "PRODLINT_FUZZ_EXAMPLES": str(scale)}
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
            "-k",
            "generated",
            str(ROOT / "tests" / "test_fuzz.py"),
        ],
        cwd=ROOT,
        env=env,
        check=False,
    )
    return done.returncode, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=40, help="CPU minutes of mutations")
    parser.add_argument(
        "--wall-minutes", type=float, default=0, help="stop the mutations after this long, too"
    )
    parser.add_argument(
        "--scale", type=int, default=20, help="hypothesmith examples, as a multiple of CI's"
    )
    parser.add_argument(
        "--corpus", nargs="*", default=[*SDISTS, "stdlib"], help="sdists (name==version), stdlib"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path("/tmp/prodlint-fuzz"))
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    files = corpus_files(args.corpus)
    log(f"{len(files)} corpus files from {', '.join(args.corpus)}; seed {args.seed}")
    start = time.process_time()
    tally = (
        run_mutations(files, args.minutes, args.seed, args.out, log, args.wall_minutes)
        if args.minutes
        else None
    )
    seconds = time.process_time() - start
    code, generated_seconds = run_generated(args.scale) if args.scale else (0, 0.0)
    if tally is not None:
        print(summary(tally, seconds, len(files)))
    if args.scale:
        print(
            f"generated programs: up to {20 * args.scale} grammar-generated and "
            f"{8 * args.scale} libcst-generated, {generated_seconds:.0f} s, "
            f"{'all properties held' if code == 0 else 'FAILED'}"
        )
    failed = tally is not None and any(tally.outcomes[kind] for kind in FAILURES)
    return 1 if failed or code else 0


if __name__ == "__main__":
    raise SystemExit(main())
