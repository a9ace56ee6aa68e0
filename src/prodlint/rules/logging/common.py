"""What the logging rules share: recognising logging calls, finding the module's logger,
and turning an eagerly formatted message into a lazy ``"%s"`` template plus arguments."""

from __future__ import annotations

import ast
import io
import re
import string
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from prodlint.analysis.context import Context

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"})
LOGGER_NAME = re.compile(r"^_*(?:log|logger|LOG|LOGGER|Log|Logger)$|_(?:log|logger|LOG|LOGGER)$")
LOGGER_FACTORIES = frozenset({"logging.getLogger", "logging.LoggerAdapter", "logging.root"})
DEFAULT_LOGGER = "logger"
# Builtins that never return a tuple, so ``"..." % f(x)`` formats exactly one value.
SCALAR_BUILTINS = frozenset({"len", "int", "str", "float", "repr", "round", "abs", "bool", "ord", "hex", "oct", "bin", "format", "ascii", "chr"})


@dataclass(frozen=True)
class Piece:
    """Literal text, or one argument with its printf conversion (``s``, ``r`` or ``a``)."""

    text: str
    is_arg: bool = False
    conversion: str = "s"


@dataclass(frozen=True)
class LazyMessage:
    template: str
    args: tuple[str, ...]

    @classmethod
    def from_pieces(cls, pieces: list[Piece]) -> LazyMessage:
        has_args = any(piece.is_arg for piece in pieces)
        template = "".join(
            f"%{piece.conversion}" if piece.is_arg else (piece.text.replace("%", "%%") if has_args else piece.text)
            for piece in pieces
        )
        return cls(template, tuple(piece.text for piece in pieces if piece.is_arg))


def string_literal(text: str) -> str:
    """A double-quoted Python literal for ``text``."""
    literal = repr(text)
    if literal.startswith("'"):
        body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
        return f'"{body}"'
    return literal


def call_source(template: str, args: tuple[str, ...]) -> str:
    return ", ".join([string_literal(template), *args])


# --- logging calls -------------------------------------------------------------------


def is_logger_expression(expr: ast.expr, ctx: Context) -> bool:
    """``logger``, ``self.log``, ``app.logger``, ``logging.getLogger(...)``, or a name bound
    to ``logging.getLogger(...)``."""
    if isinstance(expr, ast.Call):
        return ctx.qualified_name(expr.func) in LOGGER_FACTORIES
    if isinstance(expr, ast.Attribute):
        return bool(LOGGER_NAME.search(expr.attr))
    if isinstance(expr, ast.Name):
        if LOGGER_NAME.search(expr.id):
            return True
        value = ctx.value_of(expr.id)
        return isinstance(value, ast.Call) and ctx.qualified_name(value.func) in LOGGER_FACTORIES
    return False


def logging_call_level(call: ast.Call, ctx: Context) -> str | None:
    """The method name if ``call`` is a call to the logging module or a logger, else None."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return None
    if ctx.qualified_name(func) == f"logging.{func.attr}":
        return func.attr
    return func.attr if is_logger_expression(func.value, ctx) else None


def module_logger(ctx: Context) -> str | None:
    """The name of an existing module-level logger, whatever it is called."""

    def find() -> str | None:
        for name, bindings in ctx.module_scope.bindings.items():
            if len(bindings) == 1 and bindings[0].kind == "assign":
                value = bindings[0].value
                if isinstance(value, ast.Call) and ctx.qualified_name(value.func) == "logging.getLogger":
                    return name
        return None

    return ctx.memo("logging.module_logger", find)


def logger_for_fix(ctx: Context) -> tuple[str, bool] | None:
    """(logger name, whether the fix must define it), or None when the name would be
    shadowed where the fix puts it."""
    existing = module_logger(ctx)
    name = existing or DEFAULT_LOGGER
    if existing is None and name in ctx.module_scope.bindings:
        return None
    for func in ctx.enclosing_functions():
        if name in ctx.scope_of(func).bindings:
            return None
    return name, existing is None


def has_comment_inside(node: ast.AST, ctx: Context) -> bool:
    """True when a multi-line call carries comments a rewrite of it would drop."""
    if node.lineno == node.end_lineno:  # type: ignore[attr-defined]
        return False
    text = ctx.source_of(node)
    if "#" not in text:
        return False
    try:
        return any(token.type == tokenize.COMMENT
                   for token in tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return True


# --- messages ------------------------------------------------------------------------

_UNSAFE_ARG_NODES = (ast.Starred, ast.Yield, ast.YieldFrom, ast.GeneratorExp)


def _inner_source(node: ast.expr) -> str | None:
    # Expressions inside f-strings have unreliable positions before Python 3.12, so their
    # text is regenerated rather than sliced from the file.
    if isinstance(node, _UNSAFE_ARG_NODES):
        return None
    return ast.unparse(node)


def _arg_source(node: ast.expr, ctx: Context) -> str | None:
    if isinstance(node, _UNSAFE_ARG_NODES):
        return None
    text = ctx.source_of(node)
    return f"({text})" if isinstance(node, ast.NamedExpr) else text


def fstring_pieces(node: ast.JoinedStr) -> list[Piece] | None:
    pieces: list[Piece] = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            pieces.append(Piece(str(part.value)))
            continue
        assert isinstance(part, ast.FormattedValue)
        source = _inner_source(part.value)
        if source is None:
            return None
        conversion = {-1: "s", 115: "s", 114: "r", 97: "a"}[part.conversion]
        if part.format_spec is None:
            pieces.append(Piece(source, True, conversion))
            continue
        spec = part.format_spec
        if conversion != "s" or not all(isinstance(v, ast.Constant) for v in spec.values):  # type: ignore[attr-defined]
            return None
        spec_text = "".join(str(v.value) for v in spec.values)  # type: ignore[attr-defined]
        # format() keeps the exact formatting; only the %-interpolation becomes lazy.
        pieces.append(Piece(f"format({source}, {string_literal(spec_text)})", True))
    return pieces


def format_call_pieces(call: ast.Call) -> list[Piece] | None:
    """``"a {} {x!r}".format(1, x=2)`` as pieces, when each field maps to one argument."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    literal = func.value
    assert isinstance(literal, ast.Constant) and isinstance(literal.value, str)
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    keywords = {k.arg: k.value for k in call.keywords}
    pieces: list[Piece] = []
    auto_index = 0
    used: list[ast.expr] = []
    try:
        parsed = list(string.Formatter().parse(literal.value))
    except ValueError:
        return None
    for text, field, spec, conversion in parsed:
        if text:
            pieces.append(Piece(text))
        if field is None:
            continue
        if field == "":
            index: int | str = auto_index
            auto_index += 1
        elif field.isdigit():
            index = int(field)
        elif field.isidentifier():
            index = field
        else:
            return None  # attribute or item access inside the field
        if isinstance(index, int):
            if index >= len(call.args):
                return None
            value = call.args[index]
        elif index in keywords:
            value = keywords[index]
        else:
            return None
        if any(value is seen for seen in used) and not isinstance(value, (ast.Name, ast.Constant)):
            return None  # the value would be evaluated twice
        used.append(value)
        source = _inner_source(value)
        if source is None or (spec and "{" in spec):
            return None
        if spec:
            if conversion and conversion != "s":
                return None
            pieces.append(Piece(f"format({source}, {string_literal(spec)})", True))
        else:
            pieces.append(Piece(source, True, conversion or "s"))
    return pieces


def _concat_operands(node: ast.expr) -> Iterator[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _concat_operands(node.left)
        yield from _concat_operands(node.right)
    else:
        yield node


def is_text(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr)


def eager_kind(node: ast.expr) -> str | None:
    """How a message is formatted before the logging call sees it: ``f-string``, ``%``,
    ``.format()`` or ``+``; None for a plain value."""
    if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in node.values):
        return "f-string"
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod) and is_text(node.left):
            return "%"
        if isinstance(node.op, ast.Add):
            operands = list(_concat_operands(node))
            if any(is_text(o) for o in operands) and not all(isinstance(o, ast.Constant) for o in operands):
                return "+"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return ".format()"
    return None


def message_pieces(node: ast.expr, ctx: Context) -> list[Piece] | None:
    """One message expression as pieces, or None when it cannot be split exactly."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [Piece(node.value)]
    if isinstance(node, ast.JoinedStr):
        return fstring_pieces(node)
    kind = eager_kind(node)
    if kind == "+":
        pieces: list[Piece] = []
        for operand in _concat_operands(node):
            inner = message_pieces(operand, ctx) if is_text(operand) else None
            if inner is None:
                source = _arg_source(operand, ctx)
                if source is None:
                    return None
                inner = [Piece(source, True)]
            pieces.extend(inner)
        return pieces
    if kind == ".format()":
        assert isinstance(node, ast.Call)
        return format_call_pieces(node)
    source = _arg_source(node, ctx)
    return None if source is None else [Piece(source, True)]


def percent_message(node: ast.BinOp, ctx: Context) -> tuple[LazyMessage, bool] | None:
    """``"..." % values`` keeps its template; returns the message and whether the split is
    exact (a single non-tuple operand could be a tuple at run time)."""
    left = node.left
    if not isinstance(left, ast.Constant) or not isinstance(left.value, str):
        return None
    right = node.right
    if isinstance(right, ast.Tuple):
        sources = [_arg_source(element, ctx) for element in right.elts]
        if any(source is None for source in sources):
            return None
        return LazyMessage(left.value, tuple(s for s in sources if s is not None)), True
    source = _arg_source(right, ctx)
    if source is None:
        return None
    exact = (
        isinstance(right, (ast.Dict, ast.JoinedStr))
        or (isinstance(right, ast.Constant) and not isinstance(right.value, tuple))
        or (isinstance(right, ast.Call) and isinstance(right.func, ast.Name) and right.func.id in SCALAR_BUILTINS)
    )
    return LazyMessage(left.value, (source,)), exact
