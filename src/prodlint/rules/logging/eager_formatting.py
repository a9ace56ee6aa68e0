"""PRD502: a logging call whose message is formatted before the call."""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.constants import str_value
from prodlint.analysis.context import Context
from prodlint.analysis.strings import concat_operands
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.logging.common import (
    FOREIGN,
    LOG_METHODS,
    LOGURU,
    STDLIB,
    LazyMessage,
    Piece,
    concat_value_pieces,
    eager_kind,
    format_call_leaf_pieces,
    has_comment_inside,
    is_text,
    logging_call,
    message_pieces,
    percent_message,
    string_literal,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# What an eagerly formatted message can be: f-string, ``%``/``+``, ``.format()`` call.
EAGER_NODES = frozenset({ast.JoinedStr, ast.BinOp, ast.Call})
# Python 3.12 tokenizes an f-string as FSTRING_START ... FSTRING_END instead of one STRING.
FSTRING_START = getattr(tokenize, "FSTRING_START", None)
FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def _is_constant(node: ast.expr, ctx: Context, depth: int = 0) -> bool:
    """A value that is the same on every call: a literal, or a name assigned one once."""
    if depth > 10:
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_constant(e, ctx, depth + 1) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand, ctx, depth + 1)
    if isinstance(node, ast.Name):
        value = ctx.value_of(node.id)
        return value is not None and _is_constant(value, ctx, depth + 1)
    return str_value(node, ctx) is not None


def formats_only_constants(message: ast.expr, ctx: Context) -> bool:
    """The message is the same text on every call: nothing to group, nothing worth
    deferring (``f"started {APP_NAME}"``, ``"%s, %s" % (4, 5)``)."""
    if isinstance(message, ast.JoinedStr):
        return all(
            _is_constant(v.value, ctx) for v in message.values if isinstance(v, ast.FormattedValue)
        )
    if isinstance(message, ast.BinOp):
        return (
            _is_constant(message.left, ctx)
            and _is_constant(message.right, ctx)
            or (isinstance(message.op, ast.Add) and str_value(message, ctx) is not None)
        )
    if isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute):
        return _is_constant(message.func.value, ctx) and all(
            _is_constant(a, ctx) for a in [*message.args, *(k.value for k in message.keywords)]
        )
    return False


def _named_template_kind(message: ast.expr, ctx: Context) -> str | None:
    """``FORMAT % (a, b)`` and ``FORMAT.format(a)`` with ``FORMAT`` a module string."""
    if (
        isinstance(message, ast.BinOp)
        and isinstance(message.op, ast.Mod)
        and isinstance(message.left, ast.Name)
    ):
        return "%" if str_value(message.left, ctx) is not None else None
    if (
        isinstance(message, ast.Call)
        and isinstance(message.func, ast.Attribute)
        and message.func.attr == "format"
        and isinstance(message.func.value, ast.Name)
        and str_value(message.func.value, ctx) is not None
    ):
        return ".format()"
    return None


def _string_leaves(source: str) -> list[str] | None:
    """The source of each literal of an implicit concatenation (``f"a {x} " "b"``), in
    order; None when the text is anything else."""
    leaves: list[str] = []
    depth = 0
    start: tuple[int, int] | None = None
    lines = source.splitlines(keepends=True)

    def text(begin: tuple[int, int], end: tuple[int, int]) -> str:
        chunk = "".join(lines[begin[0] - 1 : end[0]])
        end_offset = len(chunk) - len(lines[end[0] - 1]) + end[1]
        return chunk[begin[1] : end_offset]

    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if FSTRING_START is not None and token.type == FSTRING_START:
                depth += 1
                if depth == 1:
                    start = token.start
            elif FSTRING_END is not None and token.type == FSTRING_END:
                depth -= 1
                if depth == 0 and start is not None:
                    leaves.append(text(start, token.end))
            elif depth:
                continue
            elif token.type == tokenize.STRING:
                leaves.append(token.string)
            elif token.type == tokenize.OP and token.string in "()":
                continue  # ``("a " "b").format(...)``
            elif token.type not in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.COMMENT,
                tokenize.ENDMARKER,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                return None
    except (tokenize.TokenError, SyntaxError):
        return None
    return leaves


def _parsed_leaves(source: str) -> list[ast.expr] | None:
    leaves = _string_leaves(source)
    if leaves is None:
        return None
    parsed: list[ast.expr] = []
    for leaf in leaves:
        try:
            parsed.append(ast.parse(leaf, mode="eval").body)
        except SyntaxError:
            return None
    return parsed


def _leaf_groups(message: ast.expr, kind: str, ctx: Context) -> list[list[Piece]] | None:
    """The message's pieces split the way its literals are split over lines."""
    groups: list[list[Piece]] = []
    if kind == "f-string":
        leaves = _parsed_leaves(ctx.source_of(message))
        for leaf in leaves or []:
            pieces = message_pieces(leaf, ctx)
            if pieces is None:
                return None
            groups.append(pieces)
    elif kind == ".format()":
        assert isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute)
        leaves = _parsed_leaves(ctx.source_of(message.func.value))
        if leaves is None or not all(
            isinstance(v, ast.Constant) and isinstance(v.value, str) for v in leaves
        ):
            return None
        split = format_call_leaf_pieces(message, [str(v.value) for v in leaves], ctx)  # type: ignore[attr-defined]
        groups = split or []
    elif kind == "+":
        for operand in concat_operands(message):
            leaves = _parsed_leaves(ctx.source_of(operand)) if is_text(operand) else None
            if leaves is not None:
                for leaf in leaves:
                    pieces = message_pieces(leaf, ctx)
                    if pieces is None:
                        return None
                    groups.append(pieces)
                continue
            pieces = (
                message_pieces(operand, ctx)
                if is_text(operand)
                else concat_value_pieces(operand, ctx)
            )
            if pieces is None:
                return None
            if not groups:
                groups.append([])
            groups[-1].extend(pieces)
    return groups if len(groups) > 1 else None


def _absolute_indent(node: cst.BaseExpression) -> cst.BaseExpression:
    """The line breaks between the literals carry their full indentation: libcst would
    otherwise add the enclosing block's on top."""
    import libcst as cst

    if not isinstance(node, cst.ConcatenatedString):
        return node
    between = node.whitespace_between
    if isinstance(between, cst.ParenthesizedWhitespace):
        between = between.with_changes(indent=False)
    return node.with_changes(right=_absolute_indent(node.right), whitespace_between=between)


def _quote_of(message: cst.BaseExpression) -> str:
    """The quote the message's first literal is written with, when it is a plain one."""
    import libcst as cst

    while isinstance(message, (cst.ConcatenatedString, cst.BinaryOperation, cst.Call)):
        if isinstance(message, cst.Call):
            func = message.func
            message = func.value if isinstance(func, cst.Attribute) else func
        else:
            message = message.left
    if isinstance(message, cst.SimpleString):
        return message.quote
    if isinstance(message, cst.FormattedString):
        return message.start.lstrip("fFrRbBuU")
    return '"'


def _literal(text: str, quote: str) -> str:
    """``text`` as a literal in the quotes the message was written in (a single-quoted
    code base keeps its quotes), unless those would need escapes."""
    if quote == "'" and "'" not in text:
        return repr(text)
    return string_literal(text)


@dataclass(frozen=True)
class LazyCallPayload(FixPayload):
    """The message argument rewritten as a template and its arguments."""

    index: int  # which positional argument is the message
    template: str  # "": the value alone is the message
    args: tuple[str, ...]  # the arguments' source
    # Where the message starts: the new arguments of a call split over lines are laid out
    # from there.
    column: int = 0
    keep_template: bool = False  # ``template % values``: the literal is the template already
    # A message over several lines: one template literal per line, aligned at ``indent``.
    leaves: tuple[str, ...] | None = None
    indent: int = 0
    # A message over several lines that starts on the call's line: the call is split as
    # ruff would, the arguments one per line at ``indent``.
    explode: bool = False
    # A call on one line: that line's indentation and length, to split the call as ruff
    # would when the new arguments make it too long.
    line_indent: int = 0
    line_length: int = 0


class EagerLogFormatting(Rule):
    code = "PRD502"
    name = "EagerLogFormatting"
    summary = "A logging message formatted before the logging call"
    message = "Logging message built with {kind} before the call; pass the values as arguments"
    what_it_does = """
Flags calls to the `logging` module's functions (however it is imported: `import logging
as L; L.log(L.DEBUG, ...)`), to logger objects (`logger`, `log`, `self.logger`,
`app.logger`, `logging.getLogger(...)`, names bound to it, loguru's `logger`) and to
bound logger methods (`debug = log.debug`), whose message is an f-string, a `%`
expression, a `.format()` call or a `+` concatenation with non-constant parts.

Not flagged: a `+` or `.format()` that composes a template for arguments passed after it
(`logger.info("%s: " + fmt, name, *args)`, `logger.debug(fmt.format(msg=msg), *args)`), and
messages formatted only from constants
(`f"started {APP_NAME}"` with `APP_NAME = "shop"`, `"%s, %s" % (4, 5)`): they are the
same text on every call, so there is nothing to group and nothing worth deferring.
"""
    why_bad = """
The message is formatted even when the level is disabled, which costs time on hot paths,
and every distinct value makes a distinct message, so log aggregation (Sentry, Datadog,
ELK) cannot group the occurrences. Passing the values as arguments defers formatting to
the handler and keeps one message template.
"""
    example = """
import logging

logger = logging.getLogger(__name__)


def refund(order, amount):
    logger.info("refunding %s on order %s" % (amount, order.id))
"""
    use_instead = """
import logging

logger = logging.getLogger(__name__)


def refund(order, amount):
    logger.info("refunding %s on order %s", amount, order.id)
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is safe only where the logger is proven to be the standard library's (the
`logging` module, `logging.getLogger(...)`, `logging.LoggerAdapter`, classes deriving from
them, `self.x` assigned one of those in the class, celery's `get_task_logger`) and the
rewrite is exact: `"..." % (a, b)` passes `a, b` (same `%` formatting, done by the
handler); f-string and `.format()` fields with a conversion (`!s` → `%s`, `!r` → `%r`) or
a format spec (kept through `format(str(v), spec)`), and fields whose value is a literal or
a builtin's result.

It is unsafe for a plain field `f"{v}"` or `"a" + v` of unknown type: the f-string calls
`format(v, "")` and `+` takes a str's own text, where `%s` calls `str(v)`, and the two
differ for some types (str-mixin enums before Python 3.12 print `Color.RED` instead of
`red`; money and decimal types with their own `__format__`). It is unsafe for a receiver
that is a logger only by its name (an imported `logger` may be another library's), and in
every case the values are formatted when the record is handled, not at the call, so a
buffering handler (`MemoryHandler`) shows a mutable value's later state.

loguru's logger gets its own lazy form, `logger.info("processing {}", x)` (the fields keep
their conversions and specs: exact). No fix for other logging libraries (structlog's
key-value events, twisted's named fields), when the call already has positional arguments,
a field uses attribute or index access, a value would be evaluated twice,
`"..." % value` has a single operand that could be a tuple at run time, or comments inside
the message would be lost. A comment after the message is kept, and a message written over
several lines stays on several lines.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    fix_node_types = ("Call",)

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr not in LOG_METHODS:
                return
            index = 1 if func.attr == "log" else 0
        elif isinstance(func, ast.Name) and node.args:
            # ``debug = log.debug; debug(f"...")``: only worth resolving for an eager message
            # and a name bound at module level or named like a level (``ValueError(f"...")``
            # must not cost a scope index).
            first = node.args[0]
            second = node.args[1] if len(node.args) > 1 else None
            if not (
                (type(first) in EAGER_NODES and eager_kind(first))
                or (second is not None and type(second) in EAGER_NODES and eager_kind(second))
            ):
                return
            alias = ctx.module_scope.only_assignment(func.id)
            if func.id not in LOG_METHODS and not (
                isinstance(alias, ast.Attribute) and alias.attr in LOG_METHODS
            ):
                return
            bound = ctx.value_of(func.id)
            if not isinstance(bound, ast.Attribute) or bound.attr not in LOG_METHODS:
                return
            index = 1 if bound.attr == "log" else 0
        else:
            return
        if len(node.args) <= index:
            return
        message = node.args[index]
        # The syntactic test first: telling a logger from any ``.error()`` call may need
        # the function's scope index, which most calls should never pay for.
        kind = eager_kind(message) or _named_template_kind(message, ctx)
        if kind is None:
            return
        call = logging_call(node, ctx)
        if call is None or formats_only_constants(message, ctx):
            return
        if kind in ("+", ".format()") and len(node.args) > index + 1:
            # ``"%s " + msg, *args``, ``fmt.format(msg=msg), *args``: composing the template
            # the arguments after it fill; the values stay lazy.
            return
        logger_kind = call[1]
        fix = self._fix(node, message, kind, index, logger_kind, ctx)
        if fix is None:
            self.report(ctx, node, kind=kind)
            return
        safety, payload = fix
        self.report(ctx, node, fix=safety, kind=kind, payload=payload)

    def _fix(
        self,
        call: ast.Call,
        message: ast.expr,
        kind: str,
        index: int,
        logger_kind: str,
        ctx: Context,
    ) -> tuple[FixSafety, LazyCallPayload] | None:
        if logger_kind == FOREIGN or len(call.args) != index + 1:
            return None
        if logger_kind == LOGURU:
            # loguru formats ``message.format(*args, **kwargs)``: other keywords would be
            # formatted in too, and ``%`` / ``+`` have no exact brace form.
            if (
                call.keywords
                or kind not in ("f-string", ".format()")
                or has_comment_inside(message, ctx)
            ):
                return None
            pieces = message_pieces(message, ctx)
            if pieces is None:
                return None
            lazy = LazyMessage.brace_from_pieces(pieces)
            return FixSafety.SAFE, LazyCallPayload(index, lazy.template, tuple(lazy.args))
        keep_template = False
        leaves: list[str] | None = None
        indent = 0
        explode = False
        if kind == "%":
            assert isinstance(message, ast.BinOp)
            found = percent_message(message, ctx)
            if found is None or not found[1] or self._comment_outside_template(message, ctx):
                return None
            lazy = found[0]
            if lazy.is_bare_value:
                lazy = LazyMessage("", lazy.args, lazy.exact)
            else:
                keep_template = True  # the literal (or its name) is the template already
        else:
            commented = has_comment_inside(message, ctx)
            if (commented and kind != "f-string") or (
                kind == ".format()" and _named_template_kind(message, ctx)
            ):
                return None  # comments would be lost; a named template would be inlined
            pieces = message_pieces(message, ctx)
            if pieces is None:
                return None
            lazy = LazyMessage.from_pieces(pieces)
            if message.lineno != message.end_lineno:
                groups = _leaf_groups(message, kind, ctx)
                has_args = any(p.is_arg for p in pieces)
                leaves = (
                    None
                    if groups is None
                    else [LazyMessage.from_pieces(g, has_args).template for g in groups]
                )
                if leaves is not None and "".join(leaves) == lazy.template:
                    indent = ctx.char_col(message.lineno, message.col_offset)
                    if message.lineno == call.lineno:
                        line = ctx.lines[call.lineno - 1]
                        indent = len(line) - len(line.lstrip()) + 4
                        explode = True
                elif commented:
                    return None
                else:
                    leaves = None
            if lazy.is_bare_value and leaves is None:
                lazy = LazyMessage("", lazy.args, lazy.exact)
        payload = LazyCallPayload(
            index,
            lazy.template,
            tuple(lazy.args),
            ctx.char_col(message.lineno, message.col_offset),
            keep_template,
            None if leaves is None else tuple(leaves),
            indent,
            explode,
            *self._single_line(call, ctx),
        )
        exact = lazy.exact and logger_kind == STDLIB
        return (FixSafety.SAFE if exact else FixSafety.UNSAFE), payload

    @staticmethod
    def _comment_outside_template(message: ast.BinOp, ctx: Context) -> bool:
        """The fix keeps the template's own text (comments in a multi-line literal stay);
        comments elsewhere in ``template % values`` would be lost."""
        if has_comment_inside(message.right, ctx):
            return True
        between = ctx.source_of(message)[len(ctx.source_of(message.left)) :]
        return "#" in between[: len(between) - len(ctx.source_of(message.right))]

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        assert isinstance(node, cst.Call)
        payload = finding.payload_as(LazyCallPayload)
        index = payload.index
        args = list(node.args)
        original = args[index].value
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        values: list[cst.BaseExpression] = [cst.parse_expression(a) for a in payload.args]
        template: cst.BaseExpression | None
        quote = _quote_of(original)
        if payload.keep_template:
            assert isinstance(original, cst.BinaryOperation)
            template = original.left
            right = original.right
            if isinstance(right, cst.Tuple):
                values = [element.value for element in right.elements]
            else:
                values = [right]
        elif payload.leaves is not None:
            leaves = list(payload.leaves)
            template = (
                self._leaves(original, leaves, quote, payload.indent if payload.explode else None)
                if isinstance(original, cst.ConcatenatedString)
                else None
            )
            if template is None:
                # A new concatenation, one literal per line of the original, aligned on it.
                indent = "\n" + " " * payload.indent
                joined = cst.parse_expression(
                    "(" + indent.join(_literal(leaf, quote) for leaf in leaves) + ")"
                )
                template = _absolute_indent(joined.with_changes(lpar=[], rpar=[]))
        elif payload.template:
            template = cst.parse_expression(_literal(payload.template, quote))
        else:
            template = None  # the value alone is the message
        replacement = [cst.Arg(template, comma=comma)] if template is not None else []
        replacement += [cst.Arg(value, comma=comma) for value in values]
        # The message's own comma and what follows it (a comment before the closing
        # parenthesis) stay with the last argument.
        replacement[-1] = replacement[-1].with_changes(
            comma=args[index].comma, whitespace_after_arg=args[index].whitespace_after_arg
        )
        if index + 1 < len(args) and args[index].comma is cst.MaybeSentinel.DEFAULT:
            replacement[-1] = replacement[-1].with_changes(comma=comma)
        from prodlint.fixes.wrap import break_like

        if payload.explode and len(replacement) > 1:
            exploded = self._explode(
                node, [*args[:index], *replacement, *args[index + 1 :]], payload.indent
            )
            if exploded is not None:
                return exploded
        if payload.line_length and len(replacement) > 1:
            laid = [*args[:index], *replacement, *args[index + 1 :]]
            limit = self._too_long(node, laid, payload.line_length, fixes)
            empty = cst.Module(body=[])
            bare = [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) for arg in laid]
            texts = [empty.code_for_node(arg).strip() for arg in bare]
            if limit is not None and not any("#" in text or "\n" in text for text in texts):
                from prodlint.fixes.wrap import rewrap

                hugged = payload.line_indent + 4 + len(", ".join(texts))
                return rewrap(node, bare, hugged > limit)
        before = node.whitespace_before_args if index == 0 else args[index - 1].comma
        whitespace = before.whitespace_after if isinstance(before, cst.Comma) else before
        # No comma at all (MaybeSentinel) breaks no line.
        line_break = None if isinstance(whitespace, cst.MaybeSentinel) else break_like(whitespace)
        if line_break is not None and len(replacement) > 1:
            multi_line = payload.leaves is not None
            if self._one_per_line(
                node, args, index, replacement, payload.column, multi_line, fixes
            ):
                replacement = self._spread(replacement, line_break, index == len(args) - 1)
        return node.with_changes(args=[*args[:index], *replacement, *args[index + 1 :]])

    @staticmethod
    def _too_long(
        call: cst.Call, laid: list[cst.Arg], line_length: int, fixes: FixContext
    ) -> int | None:
        """The project's line length, when the one line the call was on is past it with the
        new arguments; else None."""
        import libcst as cst

        empty = cst.Module(body=[])
        grown = len(empty.code_for_node(call.with_changes(args=laid))) - len(
            empty.code_for_node(call)
        )
        limit = fixes.line_length
        return limit if line_length + grown > limit else None

    @staticmethod
    def _one_per_line(
        call: cst.Call,
        args: list[cst.Arg],
        index: int,
        replacement: list[cst.Arg],
        column: int,
        multi_line: bool,
        fixes: FixContext,
    ) -> bool:
        """ruff's layout of a call already split over lines: the arguments on one line when
        they fit there and every other argument shares its line too, else one per line."""
        import libcst as cst

        if multi_line:
            return True
        from prodlint.fixes.wrap import break_like

        if any(
            isinstance(arg.comma, cst.Comma) and break_like(arg.comma.whitespace_after)
            for arg in args[:-1]
        ):
            return True  # the call has one argument per line already
        empty = cst.Module(body=[])
        hugged = ", ".join(
            empty.code_for_node(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip()
            for arg in [*args[:index], *replacement, *args[index + 1 :]]
        )
        return column + len(hugged) + 1 > fixes.line_length

    @staticmethod
    def _single_line(call: ast.Call, ctx: Context) -> tuple[int, int]:
        if call.lineno != call.end_lineno:
            return 0, 0
        line = ctx.lines[call.lineno - 1]
        return len(line) - len(line.lstrip()), len(line)

    @staticmethod
    def _explode(call: cst.Call, args: list[cst.Arg], indent: int) -> cst.Call | None:
        """The call split as ruff splits one whose arguments do not fit on its line: each
        argument on its own line, a trailing comma, ``)`` back at the call's indentation.
        None when a comment between the arguments would have to move."""
        import libcst as cst

        empty = cst.Module(body=[])
        if any(
            "#" in empty.code_for_node(arg.whitespace_after_arg)
            or (isinstance(arg.comma, cst.Comma) and "#" in empty.code_for_node(arg.comma))
            for arg in args
        ):
            return None

        def at(column: int) -> cst.ParenthesizedWhitespace:
            return cst.ParenthesizedWhitespace(
                indent=False, last_line=cst.SimpleWhitespace(" " * column)
            )

        laid = [
            arg.with_changes(
                comma=cst.Comma(
                    whitespace_after=at(indent if position < len(args) - 1 else indent - 4)
                ),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
            for position, arg in enumerate(args)
        ]
        return call.with_changes(whitespace_before_args=at(indent), args=laid)

    @staticmethod
    def _spread(
        replacement: list[cst.Arg], line_break: cst.ParenthesizedWhitespace, last: bool
    ) -> list[cst.Arg]:
        """Each argument on its own line, at the message's indentation; a call's last
        argument gets the trailing comma ruff adds to a call it splits."""
        import libcst as cst

        spread = [
            arg.with_changes(
                comma=cst.Comma(whitespace_after=line_break),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
            for arg in replacement[:-1]
        ]
        final = replacement[-1]
        # A ``)`` that hugs the last argument (kombu's style) stays where it was: a trailing
        # comma there would read ``value,)``.
        if (
            last
            and final.comma is cst.MaybeSentinel.DEFAULT
            and isinstance(final.whitespace_after_arg, cst.ParenthesizedWhitespace)
        ):
            final = final.with_changes(
                comma=cst.Comma(whitespace_after=final.whitespace_after_arg),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
        return [*spread, final]

    @staticmethod
    def _leaves(
        original: cst.BaseExpression, templates: list[str], quote: str, indent: int | None
    ) -> cst.BaseExpression | None:
        """The implicit concatenation with each literal replaced by its template, lines and
        comments between them as they were; each line at ``indent`` when given (the call is
        being split), else where it was."""
        import libcst as cst

        remaining = list(templates)

        def rebuild(node: cst.BaseExpression) -> cst.BaseExpression | None:
            if isinstance(node, cst.ConcatenatedString):
                left = rebuild(node.left)
                right = rebuild(node.right)
                if left is None or right is None:
                    return None
                between = node.whitespace_between
                if indent is not None and isinstance(between, cst.ParenthesizedWhitespace):
                    between = between.with_changes(
                        indent=False, last_line=cst.SimpleWhitespace(" " * indent)
                    )
                return node.with_changes(left=left, right=right, whitespace_between=between)
            if isinstance(node, (cst.SimpleString, cst.FormattedString)) and remaining:
                template = remaining.pop(0)
                if isinstance(node, cst.SimpleString) and node.evaluated_value == template:
                    return node  # a literal with nothing to change stays as written
                literal = cst.parse_expression(_literal(template, quote))
                assert isinstance(literal, cst.SimpleString)
                return literal.with_changes(lpar=node.lpar, rpar=node.rpar)
            return None

        rebuilt = rebuild(original)
        return rebuilt if rebuilt is not None and not remaining else None
