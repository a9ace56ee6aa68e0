"""PRD502: a logging call whose message is formatted before the call."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.logging.common import (
    LazyMessage, eager_kind, has_comment_inside, logging_call, message_pieces, percent_message, string_literal,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding


class EagerLogFormatting(Rule):
    code = "PRD502"
    name = "EagerLogFormatting"
    summary = "A logging message formatted before the logging call"
    message = "Logging message built with {kind} before the call; pass the values as arguments"
    what_it_does = """
Flags calls to the `logging` module's functions and to logger objects (`logger`, `log`,
`self.logger`, `app.logger`, `logging.getLogger(...)`, names bound to it) whose message
is an f-string, a `%` expression, a `.format()` call or a `+` concatenation with
non-constant parts. A `+` that only composes a template for arguments passed after
it (`logger.info("%s: " + fmt, name, *args)`) is not flagged.
"""
    why_bad = """
The message is formatted even when the level is disabled, which costs time on hot paths,
and every distinct value makes a distinct message, so log aggregation (Sentry, Datadog,
ELK) cannot group the occurrences. Passing the values as arguments defers formatting to
the handler and keeps one message template.
"""
    example = '''
import logging

logger = logging.getLogger(__name__)


def refund(order, amount):
    logger.info(f"refunding {amount} on order {order.id}")
'''
    use_instead = '''
import logging

logger = logging.getLogger(__name__)


def refund(order, amount):
    logger.info("refunding %s on order %s", amount, order.id)
'''
    fixed_example = use_instead
    fix_safety_note = """
The fix is safe where the rewrite is exact: f-string fields and `.format()` fields become
`%s` (`%r` for `!r`; a field with a format spec keeps it through `format(value, spec)`),
`"..." % (a, b)` passes `a, b`, `+` pieces become `%s`. No fix when the call already has
positional arguments, the message has comments inside it, a field uses attribute or
index access, a value would be evaluated twice, or `"..." % value` has a single operand
that could be a tuple at run time.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    node_types = (ast.Call,)
    fix_node_types = ("Call",)

    def check(self, node: ast.AST, ctx: Context) -> None:
        assert isinstance(node, ast.Call)
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        index = 1 if func.attr == "log" else 0
        if len(node.args) <= index:
            return
        message = node.args[index]
        # The syntactic test first: telling a logger from any ``.error()`` call may need
        # the function's scope index, which most calls should never pay for.
        kind = eager_kind(message)
        if kind is None or logging_call(node, ctx) is None:
            return
        if ctx.static_string(message) is not None:
            return
        if kind == "+" and len(node.args) > index + 1:
            return  # ``"%s " + msg, *args`` composes a template; the values stay lazy
        exact_rewrite = len(node.args) == index + 1 and not has_comment_inside(message, ctx)
        lazy = self._lazy(message, kind, ctx) if exact_rewrite else None
        if lazy is None:
            self.report(ctx, node, kind=kind)
            return
        self.report(ctx, node, fix=FixSafety.SAFE, kind=kind,
                    hint={"index": index, "template": lazy.template, "args": list(lazy.args)})

    @staticmethod
    def _lazy(message: ast.expr, kind: str, ctx: Context) -> LazyMessage | None:
        if kind == "%":
            assert isinstance(message, ast.BinOp)
            found = percent_message(message, ctx)
            return found[0] if found and found[1] else None
        pieces = message_pieces(message, ctx)
        return None if pieces is None else LazyMessage.from_pieces(pieces)

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        assert isinstance(node, cst.Call)
        hint = finding.fix_hint
        index = int(hint["index"])  # type: ignore[call-overload]
        args = list(node.args)
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        replacement = [cst.Arg(cst.parse_expression(string_literal(str(hint["template"]))), comma=comma)]
        replacement += [cst.Arg(cst.parse_expression(source), comma=comma) for source in hint["args"]]  # type: ignore[attr-defined]
        replacement[-1] = replacement[-1].with_changes(comma=args[index].comma)
        if index + 1 < len(args) and args[index].comma is cst.MaybeSentinel.DEFAULT:
            replacement[-1] = replacement[-1].with_changes(comma=comma)
        return node.with_changes(args=[*args[:index], *replacement, *args[index + 1:]])
