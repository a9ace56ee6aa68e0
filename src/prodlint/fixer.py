"""Apply fixes: libcst only for files with fixable findings, re-check until stable, verify.

A fix pass parses the file with libcst, hands each fixable finding's node to its rule, and
writes nothing itself; ``fix_text`` repeats passes until no fixable finding is left (a fix
that keeps producing work "fails to converge"), then checks the result compiles.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from prodlint.engine import Checker
from prodlint.model import Finding, FixSafety
from prodlint.registry import Rule
from prodlint.source import UncheckableSource, decode_source, encode_source

MAX_PASSES = 8


class FixFailed(Exception):
    """The file could not be fixed; it is left as it was."""


@dataclass
class FixResult:
    text: str
    applied: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def wanted(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is FixSafety.SAFE or (unsafe and finding.fix is FixSafety.UNSAFE)


def fix_text(text: str, path: str, checker: Checker, unsafe: bool = False) -> FixResult:
    """Fix one file's text. Raises FixFailed (and changes nothing) when a fix breaks the
    code or never settles."""
    original = text
    applied: list[Finding] = []
    for _ in range(MAX_PASSES):
        findings = _check(checker, text, path)
        targets = [f for f in findings if wanted(f, unsafe)]
        if not targets:
            break
        try:
            new_text, done = _apply_pass(text, targets, checker, unsafe)
        except FixFailed:
            raise
        except Exception as error:  # noqa: BLE001 - a broken fix must cost one file, not the run
            raise FixFailed(
                f"a fix raised {type(error).__name__}: {error}; file left unchanged"
            ) from None
        if not done or new_text == text:
            break
        applied.extend(done)
        text = new_text
    else:
        raise FixFailed(f"fixes did not converge after {MAX_PASSES} passes")
    if text != original:
        try:
            with warnings.catch_warnings():
                # Invalid escapes in the user's strings are not about the fix.
                warnings.simplefilter("ignore")
                compile(text, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            raise FixFailed(f"a fix produced invalid code ({error}); file left unchanged") from None
    remaining = _check(checker, text, path) if text != original else findings
    return FixResult(text, applied, remaining)


def _check(checker: Checker, text: str, path: str) -> list[Finding]:
    try:
        return checker.check_text(text, path)
    except Exception as error:  # noqa: BLE001 - a rule crash must cost one file, not the run
        raise FixFailed(f"checking raised {type(error).__name__}: {error}") from None


def _apply_pass(
    text: str, targets: list[Finding], checker: Checker, unsafe: bool
) -> tuple[str, list[Finding]]:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from prodlint.fixes.base import FixContext
    from prodlint.fixes.wrap import project_line_length

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise FixFailed(f"libcst cannot parse the file: {error}") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    config = checker.config
    # Config() with no project behind it (a test, an API caller) formats to ruff's default.
    root = config.source.parent if config.source is not None else config.project
    fixes = FixContext(module, unsafe, project_line_length(root))

    # Each target is handed the node at its fix anchor (by default the finding's own range)
    # whose libcst class is one the fix accepts.
    by_range: dict[tuple[int, int, int, int], list[tuple[Rule, Finding, frozenset[str]]]] = {}
    node_types: set[str] = set()
    for finding in targets:
        rule = checker.rule(finding.code)
        if rule is None:
            continue
        anchor = finding.fix_anchor
        if anchor is None:
            key = (finding.line, finding.col - 1, finding.end_line, finding.end_col - 1)
            accepted = frozenset(rule.fix_node_types)
        else:
            key = (anchor.line, anchor.col, anchor.end_line, anchor.end_col)
            accepted = frozenset({anchor.node_type})
        by_range.setdefault(key, []).append((rule, finding, accepted))
        node_types.update(accepted)
    done: list[Finding] = []

    class Applier(cst.CSTTransformer):
        def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
            if type(original).__name__ not in node_types:
                return updated
            where = positions.get(original)
            if where is None:
                return updated
            key = (where.start.line, where.start.column, where.end.line, where.end.column)
            for rule, finding, accepted in by_range.get(key, ()):
                if type(original).__name__ not in accepted:
                    continue
                replacement = rule.fix(updated, finding, fixes)
                if replacement is not None:
                    updated = replacement
                    done.append(finding)
            return updated

    new_module = wrapper.module.visit(Applier())
    if not done:
        return text, []
    new_module = fixes.finish(new_module)
    return new_module.code, done


def write_atomic(path: Path, data: bytes) -> None:
    """Replace the file in one step so a crash never leaves half a file; keep its mode."""
    mode = path.stat().st_mode
    handle, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".prodlint"
    )
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def fix_file(
    path: Path, display_path: str, checker: Checker, unsafe: bool, write: bool
) -> tuple[bytes, bytes, FixResult]:
    """Fix one file; returns (old bytes, new bytes, result). Writes only when asked."""
    data = path.read_bytes()
    try:
        source = decode_source(data)
    except UncheckableSource as error:
        raise FixFailed(str(error)) from None
    result = fix_text(source.text, display_path, checker, unsafe)
    try:
        new_data = encode_source(result.text, source) if result.changed else data
    except UnicodeEncodeError as error:
        raise FixFailed(
            f"the fixed code cannot be written in the file's encoding {source.encoding}: {error}"
        ) from None
    if write and new_data != data:
        write_atomic(path, new_data)
    return data, new_data, result
