"""The ``prodlint`` commands behind ``prodlint.cli``: check, fix, and explain rules.

Exit 0 clean, 1 findings, 2 usage or config error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

import prodlint
from prodlint import runmemo
from prodlint.config import Config, ConfigError, Configs, find_project_root
from prodlint.model import UNCHECKABLE_CODE, Finding, FixSafety
from prodlint.registry import all_rules, canonical_code, is_valid_selector
from prodlint.report import FORMATS, render, render_fixes, render_rows, render_statistics

if TYPE_CHECKING:
    from prodlint.engine import Checker
    from prodlint.report import Style

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"


def _codes(text: str) -> tuple[str, ...]:
    codes = tuple(c.strip().upper() for c in text.split(",") if c.strip())
    for code in codes:
        if not is_valid_selector(code):
            raise argparse.ArgumentTypeError(f"unknown rule code or prefix: {code}")
    return tuple(canonical_code(c) for c in codes)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of worker processes, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 worker process, got {value}")
    return value


class MissingPath(Exception):
    """A path named on the command line does not exist (a typo must not pass CI)."""


def _existing(paths: Sequence[str]) -> None:
    missing = [p for p in paths if p != STDIN and not Path(p).exists()]
    if missing:
        raise MissingPath(", ".join(missing))


def _globs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _add_selection(parser: argparse.ArgumentParser) -> None:
    """Options both ``check`` and ``fix`` take (ruff's spellings where they mean the same)."""
    parser.add_argument(
        "paths", nargs="*", type=str, help="files or folders (default: .); - reads stdin"
    )
    parser.add_argument(
        "--select", type=_codes, help="only these codes or prefixes (comma-separated)"
    )
    parser.add_argument("--ignore", type=_codes, help="skip these codes or prefixes")
    parser.add_argument(
        "--extend-select", type=_codes, help="add codes or prefixes to the selection"
    )
    parser.add_argument(
        "--exclude", type=_globs, help="globs to skip, replacing exclude (comma-separated)"
    )
    parser.add_argument("--extend-exclude", type=_globs, help="globs to skip on top of exclude")
    parser.add_argument("--config", type=Path, help="pyproject.toml to use instead of searching")
    parser.add_argument(
        "--stdin-filename", help="the path stdin stands for (picks per-file settings)"
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--cache-dir", help="where the cache lives (default .prodlint_cache)")
    parser.add_argument("--jobs", type=_jobs, help="worker processes (default: one per core)")
    parser.add_argument(
        "--force-exclude",
        action="store_true",
        default=None,
        help="apply exclude to files named on the command line too (for pre-commit)",
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings left")
    parser.add_argument("--baseline", type=Path, help="ignore the findings recorded in this file")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print findings only, no summary"
    )


def _add_fixing(parser: argparse.ArgumentParser, *, in_check: bool) -> None:
    if in_check:
        parser.add_argument("--fix", action="store_true", help="apply fixes (as `prodlint fix`)")
    parser.add_argument(
        "--diff", action="store_true", help="print a unified diff of the fixes, write nothing"
    )
    parser.add_argument(
        "--unsafe-fixes", action="store_true", help="also apply fixes that may change behaviour"
    )
    parser.add_argument(
        "--show-fixes", action="store_true", help="list the fixes applied, per file and rule"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prodlint", description=__doc__)
    parser.add_argument("--version", action="version", version=f"prodlint {prodlint.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="report findings (with --fix: fix them)")
    _add_selection(check)
    _add_fixing(check, in_check=True)
    check.add_argument(
        "--format", "--output-format", dest="format", choices=FORMATS, default="text"
    )
    check.add_argument("-o", "--output", type=Path, help="write the report to this file")
    check.add_argument("--statistics", action="store_true", help="count findings per rule")
    check.add_argument("--write-baseline", type=Path, help="record today's findings in this file")
    check.add_argument(
        "--add-noqa",
        action="store_true",
        help="add `# noqa: CODE` to every line with a finding (and fix nothing)",
    )
    check.add_argument("--watch", action="store_true", help="check again whenever a file changes")

    fix = commands.add_parser("fix", help="apply fixes and report what is left")
    _add_selection(fix)
    _add_fixing(fix, in_check=False)

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument(
        "--format",
        "--output-format",
        dest="format",
        choices=("text", "json", "markdown"),
        default="text",
    )
    commands.add_parser("rule", help="show one rule's documentation").add_argument(
        "code", help="a rule code (PRD501) or name (PrintUsedAsLogging)"
    )
    commands.add_parser(
        "semgrep-rules", help="write the semgrep rule pack (one YAML per family)"
    ).add_argument("--output", type=Path, required=True, help="folder to write the YAML files into")
    return parser


def _configs(args: argparse.Namespace) -> Configs:
    """Each file's ``[tool.prodlint]`` with the command line's settings on top."""

    def adjust(config: Config) -> Config:
        return config.override(
            select=args.select,
            ignore=(*config.ignore, *args.ignore) if args.ignore else None,
            extend_select=(*config.extend_select, *args.extend_select)
            if args.extend_select
            else None,
            cache_dir=args.cache_dir,
            force_exclude=args.force_exclude,
            exclude=args.exclude,
            extend_exclude=(*config.extend_exclude, *args.extend_exclude)
            if args.extend_exclude
            else None,
        )

    return Configs(
        args.config.resolve() if args.config else None, adjust, cache_listings=not args.no_cache
    )


def _stdin_checker(args: argparse.Namespace, configs: Configs) -> tuple[Checker, str]:
    """The checker for stdin, as if it were ``--stdin-filename`` in its project: that file's
    configuration and the project facts ``prodlint check`` would see."""
    from prodlint.engine import Checker
    from prodlint.runner import project_facts

    where = Path(args.stdin_filename or "stdin.py")
    config = configs.for_path(where)
    project = (
        project_facts(where, configs, use_cache=not args.no_cache, write_cache=True)
        if args.stdin_filename
        else None
    )
    return Checker(config, project=project), args.stdin_filename or "<stdin>"


# A run shorter than this shows no progress bar: it would only flicker.
PROGRESS_AFTER_SECONDS = 1.0


def _progress() -> Callable[[int, int], None] | None:
    """A progress bar on stderr, only on a terminal and only once the run is long."""
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()
    shown = False

    def show(done: int, total: int) -> None:
        nonlocal shown
        if not shown and (done == total or time.monotonic() - started < PROGRESS_AFTER_SECONDS):
            return
        shown = True
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total} files")
        if done == total:
            sys.stderr.write("\r" + " " * (width + 30) + "\r")
        sys.stderr.flush()

    return show


def _check(args: argparse.Namespace) -> int:
    if args.fix or args.diff:
        return _fix(args)
    if args.add_noqa:
        return _add_noqa(args)
    if args.watch:
        return _watch(args)
    return _check_once(args)


class Checked(NamedTuple):
    findings: list[Finding]
    files: list[str]  # as shown
    root: Path  # the project root
    stdin: dict[str, str]  # the text read from stdin, by its shown name (for snippets)


def _run_check(args: argparse.Namespace, configs: Configs) -> Checked:
    from prodlint.runner import check_paths

    if args.paths == [STDIN]:
        checker, shown = _stdin_checker(args, configs)
        data = sys.stdin.buffer.read()
        findings = checker.check_bytes(data, shown)
        root = find_project_root(Path(args.stdin_filename or ".")) or Path.cwd()
        return Checked(findings, [shown], root, {shown: _as_text(data)})
    paths = [Path(p) for p in (args.paths or ["."])]
    result = check_paths(
        paths, configs, use_cache=not args.no_cache, jobs=args.jobs, progress=_progress()
    )
    return Checked(result.findings, result.checked, find_project_root(paths[0]) or Path.cwd(), {})


def _check_once(args: argparse.Namespace) -> int:
    configs = _configs(args)
    checked = _run_check(args, configs)
    findings = checked.findings
    if args.baseline or args.write_baseline:
        from prodlint.baseline import check_with_baseline

        findings = check_with_baseline(
            findings, checked.root, args.baseline, args.write_baseline, checked.files
        )
    to_file = args.output is not None
    text = render(
        findings,
        args.format,
        quiet=args.quiet,
        style=None if to_file else _style(sys.stdout),
        sources=checked.stdin,
    )
    if args.statistics and args.format == "text":
        text = render_statistics(findings)
    if to_file:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    status = EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN
    recorder, runmemo.active = runmemo.active, None
    if recorder is not None:
        first = Path(args.paths[0]) if args.paths else Path.cwd()
        config = configs.for_path(first)
        recorder.save(
            str(Path(config.root, config.cache_dir)),
            str(args.output) if to_file else None,
            text,
            status,
        )
    return status


def _style(stream: TextIO) -> Style:
    """Colour on a terminal; NO_COLOR turns it off and FORCE_COLOR on (no-color.org)."""
    from prodlint.report import Style

    if os.environ.get("NO_COLOR"):
        return Style(colour=False)
    if os.environ.get("FORCE_COLOR"):
        return Style(colour=True)
    return Style(colour=stream.isatty())


def _add_noqa(args: argparse.Namespace) -> int:
    """``--add-noqa``: silence every current finding where it is (adopting prodlint on a
    legacy codebase, as ruff's flag), writing each file atomically in its own encoding."""
    from prodlint.fixer import write_atomic
    from prodlint.noqa import add_noqa
    from prodlint.source import UncheckableSource, decode_source, encode_source

    if args.paths == [STDIN]:
        print("prodlint: --add-noqa needs files, not stdin", file=sys.stderr)
        return EXIT_ERROR
    by_file: dict[str, list[Finding]] = {}
    for finding in _run_check(args, _configs(args)).findings:
        if finding.code != UNCHECKABLE_CODE:
            by_file.setdefault(finding.path, []).append(finding)
    added = 0
    for path, found in sorted(by_file.items()):
        try:
            data = Path(path).read_bytes()
            source = decode_source(data)
        except (OSError, UncheckableSource) as error:
            print(f"{path}: not changed: {error}", file=sys.stderr)
            continue
        text, changed = add_noqa(source.text, found)
        if changed:
            write_atomic(Path(path), encode_source(text, source))
            added += changed
    if not args.quiet:
        print(f"Added {added} noqa comment{'s' if added != 1 else ''}.")
    return EXIT_CLEAN


# How often ``--watch`` looks for changed files.
WATCH_INTERVAL_SECONDS = 0.5


def _watch(args: argparse.Namespace) -> int:
    """Check, then check again whenever a Python file under the paths changes (polling the
    files' stats: no extra dependency, and the cache makes each re-check cheap)."""
    from prodlint.discovery import discover

    paths = [Path(p) for p in (args.paths or ["."])]
    if paths == [Path(STDIN)]:
        print("prodlint: --watch cannot read stdin", file=sys.stderr)
        return EXIT_ERROR
    last: dict[str, tuple[int, int]] | None = None
    try:
        while True:
            stamps: dict[str, tuple[int, int]] = {}
            for file in discover(paths, _configs(args)):
                try:
                    info = os.stat(file.path)
                except OSError:
                    continue
                stamps[file.key] = (info.st_mtime_ns, info.st_size)
            if stamps != last:
                if last is not None:
                    sys.stdout.write("\n")
                sys.stdout.write(f"[{time.strftime('%H:%M:%S')}] checking {len(stamps)} files\n")
                _check_once(args)
                sys.stdout.flush()
                last = stamps
            time.sleep(WATCH_INTERVAL_SECONDS)
    except KeyboardInterrupt:
        return EXIT_CLEAN


def _fix(args: argparse.Namespace) -> int:
    from prodlint.fixer import FixFailed, fix_text, wanted
    from prodlint.runner import check_paths, fix_paths

    configs = _configs(args)
    if args.paths == [STDIN]:
        checker, shown = _stdin_checker(args, configs)
        text = sys.stdin.read()
        try:
            result = fix_text(text, shown, checker, args.unsafe_fixes)
        except FixFailed as error:
            print(f"{shown}: not fixed: {error}", file=sys.stderr)
            sys.stdout.write(text)
            return EXIT_FINDINGS
        sys.stdout.write(_diff(shown, text, result.text) if args.diff else result.text)
        return EXIT_FINDINGS if result.remaining and not args.exit_zero else EXIT_CLEAN

    paths = [Path(p) for p in (args.paths or ["."])]
    found = check_paths(
        paths, configs, use_cache=not args.no_cache, jobs=args.jobs, want_project=True
    )
    targets = sorted({f.path for f in found.findings if wanted(f, args.unsafe_fixes)})
    remaining: list[Finding] = [f for f in found.findings if f.path not in targets]
    applied: list[Finding] = []
    files_changed = failures = 0
    # Re-checks during fixing see the same project facts as the run did.
    outcomes = fix_paths(
        targets,
        configs,
        found.project,
        unsafe=args.unsafe_fixes,
        write=not args.diff,
        jobs=args.jobs,
    )
    for shown, outcome in outcomes:
        if isinstance(outcome, str):
            failures += 1
            print(f"{shown}: not fixed, left unchanged: {outcome}", file=sys.stderr)
            remaining.extend(f for f in found.findings if f.path == shown)
            continue
        old, new, result = outcome
        remaining.extend(result.remaining)
        applied.extend(result.applied)
        if new != old:
            files_changed += 1
            if args.diff:
                sys.stdout.write(_diff(shown, _as_text(old), _as_text(new)))
    remaining.sort(key=Finding.sort_key)
    if args.baseline:
        from prodlint.baseline import check_with_baseline

        root = find_project_root(paths[0]) or Path.cwd()
        remaining = check_with_baseline(remaining, root, args.baseline, None, found.checked)
    # What is left is listed (one report per finding: a pre-commit hook that fixes needs no
    # second hook to say what it could not fix); a diff keeps stdout for the diff.
    fmt = getattr(args, "format", "text")
    # A machine format (``check --fix --format json``) owns stdout: the summary goes aside.
    out = sys.stderr if args.diff or fmt != "text" else sys.stdout
    if fmt != "text" and not args.diff:
        sys.stdout.write(render(remaining, fmt))
    elif remaining and not args.diff:
        out.write(render_rows(remaining, _style(sys.stdout)))
    if args.show_fixes and applied:
        out.write(render_fixes(applied, "Would fix" if args.diff else "Fixed"))
    if not args.quiet:
        verb = "Would fix" if args.diff else "Fixed"
        count = len(applied)
        message = (
            f"{verb} {count} finding{'s' if count != 1 else ''} in {files_changed} "
            f"file{'s' if files_changed != 1 else ''}"
        )
        if remaining:
            unsafe = sum(f.fix is FixSafety.UNSAFE for f in remaining)
            message += f"; {len(remaining)} remaining"
            if unsafe and not args.unsafe_fixes:
                message += f" ({unsafe} fixable with --unsafe-fixes)"
        print(message + ".", file=out)
    if failures or (args.diff and files_changed):
        return EXIT_FINDINGS
    return EXIT_FINDINGS if remaining and not args.exit_zero else EXIT_CLEAN


def _as_text(data: bytes) -> str:
    """A file's bytes as text in its own encoding (a latin-1 file's diff shows é, not �)."""
    from prodlint.source import UncheckableSource, decode_source

    try:
        return decode_source(data).text
    except UncheckableSource:
        return data.decode("utf-8", "replace")


def _diff(name: str, old: str, new: str) -> str:
    import difflib  # only a fix --diff needs it

    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


def _rules(args: argparse.Namespace) -> int:
    rules = all_rules()
    if args.format == "json":
        payload = [
            {
                "code": r.code,
                "name": r.name,
                "summary": r.summary,
                "message": r.message,
                "severity": r.severity.value,
                "fix": r.fix_safety.value,
                "default_enabled": r.default_enabled,
            }
            for r in rules.values()
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return EXIT_CLEAN
    if args.format == "markdown":
        sys.stdout.write(rules_table())
        return EXIT_CLEAN
    # The summary, not the message: a message is a template with {placeholders} the
    # detector fills in.
    for rule in rules.values():
        fix = {"safe": "fix", "unsafe": "unsafe fix", "none": ""}[rule.fix_safety.value]
        opt_in = "opt-in" if not rule.default_enabled else ""
        sys.stdout.write(f"{rule.code}  {rule.name:<28} {fix:<10} {opt_in:<6}  {rule.summary}\n")
    return EXIT_CLEAN


def rules_table() -> str:
    """The README's rule table, generated from the registry (a test keeps them in sync)."""
    rows = ["| code | name | what it flags | fix |", "|---|---|---|---|"]
    for rule in all_rules().values():
        fix = {"safe": "safe", "unsafe": "unsafe", "none": "—"}[rule.fix_safety.value]
        opt_in = " (opt-in)" if not rule.default_enabled else ""
        rows.append(
            f"| {rule.code} | {rule.name}{opt_in} | {rule.summary.replace('|', '/')} | {fix} |"
        )
    return "\n".join(rows) + "\n"


def _rule(args: argparse.Namespace) -> int:
    rules = all_rules()
    rule = rules.get(canonical_code(args.code.upper())) or next(
        (r for r in rules.values() if r.name.lower() == args.code.lower()), None
    )
    if rule is None:
        print(f"prodlint: unknown rule {args.code}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(rule.docs())
    return EXIT_CLEAN


def _semgrep_rules(args: argparse.Namespace) -> int:
    from prodlint.frontends.semgrep import write_pack

    for path in write_pack(args.output):
        print(path)
    return EXIT_CLEAN


def _recordable(args: argparse.Namespace) -> bool:
    """A check that only reports (to stdout or ``-o``) and reads nothing but files: its
    answer can be replayed while those files are unchanged (``prodlint.runmemo``)."""
    return (
        args.command == "check"
        and not (args.fix or args.diff or args.add_noqa or args.watch or args.write_baseline)
        and not args.no_cache
        and STDIN not in (args.paths or ())
    )


def main(argv: list[str]) -> int:
    """The whole command line, as ``prodlint.cli.main`` hands it on."""
    args = build_parser().parse_args(argv)
    if _recordable(args):
        runmemo.active = runmemo.Recorder(argv)
        if args.baseline:
            runmemo.active.probe(str(args.baseline.resolve()), args.baseline.exists())
    handlers = {
        "check": _check,
        "fix": _fix,
        "rules": _rules,
        "rule": _rule,
        "semgrep-rules": _semgrep_rules,
    }
    try:
        _existing(getattr(args, "paths", None) or ())
        return handlers[args.command](args)
    except MissingPath as error:
        print(f"prodlint: error: no such file or directory: {error}", file=sys.stderr)
        return EXIT_ERROR
    except ConfigError as error:
        print(f"prodlint: configuration error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_FINDINGS
    finally:
        runmemo.active = None
