"""Wrapping a line a fix made too long, the way ruff format (and black) wraps a call.

A fix that turns ``print(f"...")`` into ``logger.info("...", a, b)`` or adds ``timeout=10``
can push a statement past the line length; a reviewer would ask for it to be wrapped like
the code around it. Only lines the fix wrote are touched, and only when they are longer than
both ruff's default line length and the longest line the file already had (a project that
allows 120 characters keeps its 110-character lines).

ruff's right-hand split: the last bracket pair of the statement that has contents opens onto
its own indented line; the arguments go on one line if they fit there, else one per line
with a trailing comma.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

import libcst as cst

from prodlint.fixes.imports import INDENT, LINE_LENGTH


def wrap_long_lines(original: cst.Module, fixed: cst.Module) -> cst.Module:
    """``fixed`` with the single-line statements the fixes made too long wrapped."""
    existing = set(original.code.splitlines())
    # Cheap text test first: most fixes leave every line short enough.
    long_lines = {
        line for line in fixed.code.splitlines() if len(line) > LINE_LENGTH and line not in existing
    }
    if not long_lines:
        return fixed
    limit = line_limit(original.code)
    long_lines = {line for line in long_lines if len(line) > limit}
    if not long_lines:
        return fixed
    return fixed.visit(_Wrapper(fixed, long_lines, limit))


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


def code_lines(code: str) -> list[str]:
    """The lines a formatter could have split: code with an operator or a comma, and no
    string of 40 characters or more. Comments, docstrings and long messages are left long
    by black and ruff, so they say nothing about the line length a project keeps to."""
    lines = code.splitlines()
    splittable: set[int] = set()
    long_string: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.STRING and len(token.string) >= 40:
                long_string.update(range(token.start[0], token.end[0] + 1))
            elif token.type == tokenize.OP and token.string not in "()[]{}":
                splittable.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        return lines
    return [lines[n - 1] for n in sorted(splittable - long_string) if n <= len(lines)]


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
        """``statement`` with the last call of ``expression`` that has arguments wrapped."""
        calls = _call_chain(expression) if expression is not None else []
        target = next((call for call in calls if call.args), None)
        if target is None or any(
            "\n" in self.module.code_for_node(arg) or "#" in self.module.code_for_node(arg)
            for arg in target.args
        ):
            return statement
        arguments = [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in target.args]
        hugged = ", ".join(self.module.code_for_node(arg).strip() for arg in arguments)
        one_per_line = len(self.indents[-1] + INDENT + hugged) > self.limit
        return statement.deep_replace(target, rewrap(target, arguments, one_per_line))

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
