"""Wrapping a line a fix made too long, the way ruff format (and black) wraps a call.

A fix that turns ``print(f"...")`` into ``logger.info("...", a, b)`` or adds ``timeout=10``
can push a statement past the line length; a reviewer would ask for it to be wrapped like
the code around it. The line length is the project's: ``line-length`` of ruff
(``ruff.toml``, ``.ruff.toml``, ``[tool.ruff]``) or black (``[tool.black]``), else
flake8's ``max-line-length`` (``.flake8``, ``setup.cfg``, ``tox.ini``), else ruff's default
88 (see ``project_line_length``); not the file's longest line, which is often a URL or a
message nobody wraps, and would let a re-indented block run past the limit. Only lines the
fix wrote are touched: a line the user had already written past the limit and the fix
only moved (re-indented into a ``with`` block) is theirs.

ruff's right-hand split: the last bracket pair of the statement that has contents opens onto
its own indented line; the arguments go on one line if they fit there, else one per line
with a trailing comma.
"""

from __future__ import annotations

import configparser
import difflib
import functools
import sys
from collections.abc import Sequence
from pathlib import Path

import libcst as cst

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

from prodlint.fixes.imports import INDENT, LINE_LENGTH


def wrap_long_lines(original: cst.Module, fixed: cst.Module, limit: int) -> cst.Module:
    """``fixed`` with the single-line statements the fixes made longer than ``limit``
    wrapped."""
    before = original.code.splitlines()
    after = fixed.code.splitlines()
    existing = set(before)
    # Cheap text test first: most fixes leave every line short enough.
    long_lines = {line for line in after if len(line) > limit and line not in existing}
    if not long_lines:
        return fixed
    long_lines -= _already_long(before, after, limit)
    if not long_lines:
        return fixed
    return fixed.visit(_Wrapper(fixed, long_lines, limit))


def _already_long(before: list[str], after: list[str], limit: int) -> set[str]:
    """The lines of ``after`` that stand where the user's own line was already past the
    limit: moved to another indentation (into a ``with`` block), or edited in place without
    growing (``verify=False`` become ``verify=True``). They are the user's to wrap, not the
    fix's."""
    moved = {line.strip() for line in before if len(line) > limit}
    found = {line for line in after if line.strip() in moved}
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        # Line for line only: a call the fix joined onto one line is the fix's own layout.
        if tag == "replace" and old_end - old_start == new_end - new_start:
            pairs = zip(before[old_start:old_end], after[new_start:new_end], strict=True)
            found.update(new for old, new in pairs if len(old) > limit and len(new) <= len(old))
    return found


def _toml_line_length(path: Path, *keys: str) -> int | None:
    try:
        table: object = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for key in keys:
        table = table.get(key) if isinstance(table, dict) else None
    value = table.get("line-length") if isinstance(table, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _flake8_line_length(path: Path) -> int | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
        value = parser.get("flake8", "max-line-length", fallback=None)
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return int(value) if value is not None and value.strip().isdigit() else None


@functools.lru_cache(maxsize=64)
def project_line_length(root: Path | None) -> int:
    """The line length the project at ``root`` formats to: ruff's, black's, flake8's, in
    that order (ruff's and black's formatter are what wraps the code; flake8's limit only
    complains), else ruff's default."""
    if root is None:
        return LINE_LENGTH
    found = (
        _toml_line_length(root / "ruff.toml")
        or _toml_line_length(root / ".ruff.toml")
        or _toml_line_length(root / "pyproject.toml", "tool", "ruff")
        or _toml_line_length(root / "pyproject.toml", "tool", "black")
        or _flake8_line_length(root / ".flake8")
        or _flake8_line_length(root / "setup.cfg")
        or _flake8_line_length(root / "tox.ini")
    )
    if found is not None:
        return found
    return LINE_LENGTH


def line_limit(code: str) -> int:
    """The longest line a fix may write in a module: ruff's default, or the longest line the
    module already has (a project that allows 120 characters keeps its 110-character lines)."""
    return max([LINE_LENGTH, *map(len, code.splitlines())])


def break_like(
    whitespace: cst.BaseParenthesizableWhitespace,
) -> cst.ParenthesizedWhitespace | None:
    """A line break to the indentation ``whitespace`` breaks to, without the comment or
    blank lines it may carry (a new argument must not copy those); None when it does not
    break the line."""
    if not isinstance(whitespace, cst.ParenthesizedWhitespace):
        return None
    return cst.ParenthesizedWhitespace(indent=whitespace.indent, last_line=whitespace.last_line)


def _call_chain(expression: cst.BaseExpression) -> list[cst.Call]:
    """The calls along ``a.b(x).c(y)``, the last one (outermost) first."""
    calls = []
    node = expression
    while True:
        if isinstance(node, cst.Call):
            calls.append(node)
            node = node.func
        elif isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        else:
            return calls


def _value(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(small, (cst.Expr, cst.Return, cst.Assign, cst.AugAssign, cst.AnnAssign)):
        value = small.value
        return value.expression if isinstance(value, cst.Await) else value
    return None


def rewrap(call: cst.Call, arguments: Sequence[cst.Arg], one_per_line: bool) -> cst.Call:
    def inside(extra: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(extra))

    # A lone argument has no commas to split at: ruff (and black) give it its own line and
    # no trailing comma, which would not even parse after a bare generator
    # (``f(x for x in y,)``).
    one_per_line = one_per_line and len(arguments) > 1
    args = []
    for position, arg in enumerate(arguments):
        last = position == len(arguments) - 1
        if one_per_line:
            comma = cst.Comma(whitespace_after=inside("" if last else INDENT))
            args.append(
                arg.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
            )
        elif last:
            args.append(
                arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=inside(""))
            )
        else:
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            args.append(
                arg.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
            )
    return call.with_changes(whitespace_before_args=inside(INDENT), args=args)


class _Wrapper(cst.CSTTransformer):
    def __init__(self, module: cst.Module, long_lines: set[str], limit: int) -> None:
        self.module = module
        self.long_lines = long_lines
        self.limit = limit
        self.indents = [""]

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        indent = node.indent if node.indent is not None else self.module.default_indent
        self.indents.append(self.indents[-1] + indent)

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.indents.pop()
        return updated

    def _first_line_is_new_and_long(self, node: cst.CSTNode) -> bool:
        text = self.module.code_for_node(node)
        return self.indents[-1] + text.split("\n", 1)[0].rstrip("\r") in self.long_lines

    def _split(self, statement: cst.CSTNode, expression: cst.BaseExpression | None) -> cst.CSTNode:
        """``statement`` with a call of ``expression`` wrapped: the last one with arguments
        whose opening line and closing line both fit, as ruff (and black) choose in a chain
        (``qs.prefetch_related("tags").filter(`` / ``).order_by("id")``); the last one with
        arguments when none does."""
        calls = [call for call in (_call_chain(expression) if expression else []) if call.args]
        target = next((call for call in calls if self._fits_around(statement, call)), None)
        target = target if target is not None else next(iter(calls), None)
        if target is None or any(
            "\n" in self.module.code_for_node(arg) or "#" in self.module.code_for_node(arg)
            for arg in target.args
        ):
            return statement
        arguments = [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in target.args]
        hugged = ", ".join(self.module.code_for_node(arg).strip() for arg in arguments)
        one_per_line = len(self.indents[-1] + INDENT + hugged) > self.limit
        return statement.deep_replace(target, rewrap(target, arguments, one_per_line))

    def _fits_around(self, statement: cst.CSTNode, call: cst.Call) -> bool:
        """Whether the line up to ``call``'s opening bracket and the line from its closing
        bracket on both fit, once its arguments move to lines of their own."""
        line = self.indents[-1] + self.module.code_for_node(statement).split("\n", 1)[0]
        text = self.module.code_for_node(call)
        start = line.find(text)
        if start < 0:
            return False
        head = start + len(self.module.code_for_node(call.func)) + 1
        tail = len(self.indents[-1]) + len(line) - (start + len(text)) + 1
        return head <= self.limit and tail <= self.limit

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if len(updated.body) != 1:
            return updated
        alone = updated.with_changes(leading_lines=())
        if self.module.code_for_node(alone).rstrip("\r\n").count(
            "\n"
        ) or not self._first_line_is_new_and_long(alone):
            return updated
        return cst.ensure_type(
            self._split(updated, _value(updated.body[0])), cst.SimpleStatementLine
        )

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        # One context manager: its call is split like a statement's. Several would need
        # parenthesized context managers, which not every Python the project runs on reads.
        if len(updated.items) != 1 or not self._first_line_is_new_and_long(
            updated.with_changes(leading_lines=())
        ):
            return updated
        return cst.ensure_type(self._split(updated, updated.items[0].item), cst.With)

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        # A loop header (PRD202's eager load added to the iterable): its call is split like
        # a statement's, the body untouched.
        if not self._first_line_is_new_and_long(updated.with_changes(leading_lines=())):
            return updated
        return cst.ensure_type(self._split(updated, updated.iter), cst.For)
