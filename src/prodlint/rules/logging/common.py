"""What the logging rules share: recognising logging calls, finding the module's logger,
and turning an eagerly formatted message into a lazy ``"%s"`` template plus arguments."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from prodlint.analysis.constants import str_value
from prodlint.analysis.context import Context
from prodlint.analysis.entrypoints import module_qualified_name
from prodlint.analysis.imports import dotted_name
from prodlint.analysis.strings import (
    Literal,
    concat_operands,
    format_parts,
    formats_plainly,
    fstring_parts,
)

LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
LOGGER_NAME = re.compile(r"^_*(?:log|logger|LOG|LOGGER|Log|Logger)$|_(?:log|logger|LOG|LOGGER)$")
DEFAULT_LOGGER = "logger"
# Builtins that never return a tuple, so ``"..." % f(x)`` formats exactly one value, and
# whose results format the same under ``format(v, "")`` and ``str(v)``.
SCALAR_BUILTINS = frozenset(
    {
        "len",
        "int",
        "str",
        "float",
        "repr",
        "round",
        "abs",
        "bool",
        "ord",
        "hex",
        "oct",
        "bin",
        "format",
        "ascii",
        "chr",
    }
)


@dataclass(frozen=True)
class Piece:
    """Literal text, or one argument with its printf conversion (``s``, ``r`` or ``a``).

    ``exact`` is False for an argument whose ``%s`` text may differ from what the original
    message made of it: ``f"{v}"`` calls ``format(v, "")`` and ``"a" + v`` takes a str's
    own text, where ``%s`` calls ``str(v)`` (str-mixin enums before 3.12, money types).
    ``value`` and ``brace`` are the raw value and its ``str.format`` field, for loggers that
    take brace-style arguments (loguru)."""

    text: str
    is_arg: bool = False
    conversion: str = "s"
    exact: bool = True
    value: str = ""
    brace: str = "{}"


@dataclass(frozen=True)
class LazyMessage:
    template: str
    args: tuple[str, ...]
    exact: bool = True

    @classmethod
    def from_pieces(cls, pieces: list[Piece], has_args: bool | None = None) -> LazyMessage:
        """A ``%``-style template; ``has_args`` says whether the whole message has
        arguments when ``pieces`` is one part of it (``%`` is escaped only then)."""
        if has_args is None:
            has_args = any(piece.is_arg for piece in pieces)
        template = "".join(
            f"%{piece.conversion}"
            if piece.is_arg
            else (piece.text.replace("%", "%%") if has_args else piece.text)
            for piece in pieces
        )
        return cls(
            template,
            tuple(piece.text for piece in pieces if piece.is_arg),
            all(piece.exact for piece in pieces),
        )

    @classmethod
    def brace_from_pieces(cls, pieces: list[Piece]) -> LazyMessage:
        """A ``str.format`` template (what loguru applies to its arguments): the fields keep
        their conversion and spec, so the text is exactly the f-string's."""
        template = "".join(
            piece.brace if piece.is_arg else piece.text.replace("{", "{{").replace("}", "}}")
            for piece in pieces
        )
        return cls(template, tuple(piece.value or piece.text for piece in pieces if piece.is_arg))

    @property
    def is_bare_value(self) -> bool:
        """``"%s"`` with one argument: the value alone is the message (``log.info(x)``
        formats it with ``str()`` too), better than ``log.info("%s", x)``."""
        return self.template == "%s" and len(self.args) == 1


def string_literal(text: str) -> str:
    """A Python literal for ``text``: double-quoted, unless single quotes spare escapes."""
    literal = repr(text)
    if literal.startswith("'") and ('"' not in text or "'" in text):
        # Double quotes as formatters prefer, unless that needs escapes single ones do not.
        body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
        return f'"{body}"'
    return literal


def call_source(template: str, args: tuple[str, ...]) -> str:
    """The arguments of the logging call; a lone ``%s`` value is the message itself."""
    if template == "%s" and len(args) == 1:
        return args[0]
    return ", ".join([string_literal(template), *args])


# --- logging calls -------------------------------------------------------------------

# What a logger turned out to be. ``stdlib``: proven to be the standard library's (lazy
# ``%`` arguments work); ``loguru``: loguru's logger (lazy ``{}`` arguments); ``foreign``:
# another library with its own conventions (structlog's key-values, twisted's named
# fields), where neither rewrite is right; ``unknown``: only its name says it logs.
STDLIB = "stdlib"
LOGURU = "loguru"
FOREIGN = "foreign"
UNKNOWN = "unknown"

# Calls that return a standard library logger or adapter. celery's loggers are stdlib
# ``logging.Logger`` objects too.
STDLIB_LOGGER_FACTORIES = frozenset(
    {
        "logging.getLogger",
        "logging.LoggerAdapter",
        "logging.Logger",
        "logging.RootLogger",
        "celery.utils.log.get_task_logger",
        "celery.utils.log.get_logger",
    }
)
STDLIB_LOGGER_OBJECTS = frozenset({"logging.root", "flask.current_app.logger"})
STDLIB_LOGGER_BASES = frozenset({"logging.Logger", "logging.LoggerAdapter"})
LOGURU_LOGGER = "loguru.logger"
# Logging libraries whose loggers do not take printf-style arguments.
FOREIGN_LOGGING_PACKAGES = frozenset({"structlog", "twisted", "eliot", "logbook", "loguru"})


def _local_logger_classes(ctx: Context) -> frozenset[str]:
    """Module classes deriving (transitively) from ``logging.Logger``/``LoggerAdapter``:
    mkdocs' ``_LoggerAdapter``."""

    def find() -> frozenset[str]:
        found: set[str] = set()
        changed = True
        classes = [s for s in ctx.tree.body if isinstance(s, ast.ClassDef)]
        while changed:
            changed = False
            for cls in classes:
                if cls.name in found:
                    continue
                for base in cls.bases:
                    text = dotted_name(base)
                    if text is not None and (
                        text in found or module_qualified_name(base, ctx) in STDLIB_LOGGER_BASES
                    ):
                        found.add(cls.name)
                        changed = True
                        break
        return frozenset(found)

    return ctx.memo("logging.local_logger_classes", find)


def _call_kind(call: ast.Call, qualified: str | None, ctx: Context) -> str | None:
    if qualified in STDLIB_LOGGER_FACTORIES:
        return STDLIB
    if qualified is None:
        return None
    if qualified.startswith(LOGURU_LOGGER + "."):
        return LOGURU  # ``logger.bind(...)``, ``logger.opt(...)``
    if qualified.partition(".")[0] in FOREIGN_LOGGING_PACKAGES:
        return FOREIGN
    if isinstance(call.func, ast.Name) and call.func.id in _local_logger_classes(ctx):
        return STDLIB
    return None


def _imported_kind(qualified: str) -> str | None:
    if qualified == LOGURU_LOGGER:
        return LOGURU
    if qualified in STDLIB_LOGGER_OBJECTS:
        return STDLIB
    if qualified.partition(".")[0] in FOREIGN_LOGGING_PACKAGES:
        return FOREIGN
    return None


def value_logger_kind(value: ast.expr, ctx: Context, depth: int = 0) -> str | None:
    """What logger an assigned value is, resolving names at module level only (the value
    may come from another function than the one being checked)."""
    if depth > 5:
        return None
    if isinstance(value, ast.Call):
        return _call_kind(value, module_qualified_name(value.func, ctx), ctx)
    qualified = module_qualified_name(value, ctx)
    if qualified is None:
        return None
    kind = _imported_kind(qualified)
    if kind is None and isinstance(value, ast.Name):
        bound = ctx.module_scope.only_assignment(value.id)
        if bound is not None:
            kind = value_logger_kind(bound, ctx, depth + 1)
    return kind


def _class_attribute_values(cls: ast.ClassDef, ctx: Context) -> dict[str, list[ast.expr | None]]:
    """``self.X = value`` in the class's methods and ``X = value`` in its body, by X; None
    for a binding whose value is not known (augmented, unpacked)."""

    def collect() -> dict[str, list[ast.expr | None]]:
        found: dict[str, list[ast.expr | None]] = {}
        for statement in cls.body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append(statement.value)
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(statement):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                    targets, value = (
                        [node.target],
                        node.value if isinstance(node, ast.AnnAssign) else None,
                    )
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id in ("self", "cls")
                    ):
                        found.setdefault(target.attr, []).append(
                            value if len(targets) == 1 else None
                        )
        return found

    return ctx.memo(f"logging.class_attributes:{id(cls)}", collect)


def logger_kind(expr: ast.expr, ctx: Context) -> str | None:
    """What ``expr`` is as a logger (one of the kinds above), or None when it is not one."""
    if isinstance(expr, ast.Call):
        return _call_kind(expr, ctx.qualified_name(expr.func), ctx)
    if isinstance(expr, ast.Attribute) and not (
        LOGGER_NAME.search(expr.attr) or expr.attr == "root"
    ):
        return None  # ``parser.error(...)``, ``self.fail(...)``: not worth resolving
    qualified = ctx.qualified_name(expr)
    if qualified is None:
        return None
    kind = _imported_kind(qualified)
    if kind is not None:
        return kind
    if isinstance(expr, ast.Name):
        value = ctx.value_of(expr.id)
        if value is not None:
            kind = value_logger_kind(value, ctx)
            if kind is not None:
                return kind
        return UNKNOWN if LOGGER_NAME.search(expr.id) else None
    if isinstance(expr, ast.Attribute):
        cls = ctx.enclosing_class()
        if (
            cls is not None
            and isinstance(expr.value, ast.Name)
            and expr.value.id in ("self", "cls")
        ):
            values = _class_attribute_values(cls, ctx).get(expr.attr, [])
            kinds = {None if v is None else value_logger_kind(v, ctx) for v in values}
            if len(kinds) == 1 and None not in kinds:
                return kinds.pop()
        return UNKNOWN if LOGGER_NAME.search(expr.attr) else None
    return None


def logging_call(call: ast.Call, ctx: Context) -> tuple[str, str] | None:
    """(method name, logger kind) if ``call`` logs through the logging module, a logger, or
    a name bound to a logger's method (``debug = log.debug``), else None."""
    func = call.func
    if isinstance(func, ast.Name):
        bound = ctx.value_of(func.id)
        if not isinstance(bound, ast.Attribute) or bound.attr not in LOG_METHODS:
            return None
        func = bound
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return None
    if ctx.qualified_name(func) == f"logging.{func.attr}":
        return func.attr, STDLIB
    kind = logger_kind(func.value, ctx)
    return None if kind is None else (func.attr, kind)


LOGGING_MACHINERY = re.compile(r"^logging\.(?:handlers\.)?\w*(?:Handler|Formatter|Filter)$")
# Methods the logging machinery calls with a record.
RECORD_METHODS = frozenset({"emit", "handle", "handleError", "format", "formatMessage", "filter"})


def is_logging_machinery(cls: ast.ClassDef, ctx: Context) -> bool:
    """A logging handler, formatter or filter (or a class with their record methods): its
    code runs inside a logging call, where logging again recurses or mails the admins."""

    def decide() -> bool:
        for base in cls.bases:
            qualified = module_qualified_name(base, ctx) or ""
            if LOGGING_MACHINERY.match(qualified) or qualified == "logging.Filterer":
                return True
        return any(
            isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            and m.name in RECORD_METHODS
            and len(m.args.args) == 2
            and m.args.args[1].arg == "record"
            for m in cls.body
        )

    return ctx.memo(f"logging.machinery:{id(cls)}", decide)


def in_logging_machinery(ctx: Context) -> bool:
    return any(
        isinstance(node, ast.ClassDef) and is_logging_machinery(node, ctx) for node in ctx.ancestors
    )


def module_logger(ctx: Context) -> tuple[str, int] | None:
    """An existing module-level standard library logger (or adapter) bound once, by a
    statement at the module's top level (so it exists on every path): its name and the
    index of that statement."""

    def find() -> tuple[str, int] | None:
        for index, statement in enumerate(ctx.tree.body):
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                target = statement.target
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            bindings = ctx.module_scope.bindings.get(target.id, [])
            if len(bindings) == 1 and value_logger_kind(statement.value, ctx) == STDLIB:  # type: ignore[arg-type]
                return target.id, index
        return None

    return ctx.memo("logging.module_logger", find)


def _has_import(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return True
    return isinstance(statement, (ast.If, ast.Try)) and any(
        isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(statement)
    )


def logger_for_fix(ctx: Context) -> tuple[str, bool] | None:
    """(logger name, whether the fix must define it), or None when no logger can be used
    here: the module's logger is bound after this statement (a NameError when the module
    runs it), or the name would be shadowed."""
    existing = module_logger(ctx)
    statement = ctx.ancestors[1] if len(ctx.ancestors) > 1 else None
    position = next((i for i, s in enumerate(ctx.tree.body) if s is statement), None)
    if existing is not None and (position is None or existing[1] >= position):
        return None  # bound later in the file: a second logger would be a reviewer's no
    if (
        existing is None
        and position is not None
        and not any(True for _ in ctx.enclosing_functions())
    ):
        # Module-level code among the imports runs before the logger the fix would add
        # after them.
        if any(_has_import(s) for s in ctx.tree.body[position:]):
            return None
    name = existing[0] if existing else DEFAULT_LOGGER
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
        return any(
            token.type == tokenize.COMMENT
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
        )
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
    if "\n" in text:
        # Broken over lines by the brackets it sat in: alone it needs one line (the
        # callers refuse messages with comments, so none is lost).
        text = ast.unparse(node)
    return f"({text})" if isinstance(node, ast.NamedExpr) else text


STR_RESULT_METHODS = frozenset(
    {
        "join",
        "format",
        "upper",
        "lower",
        "strip",
        "lstrip",
        "rstrip",
        "replace",
        "title",
        "capitalize",
        "casefold",
        "center",
        "ljust",
        "rjust",
        "zfill",
        "decode",
    }
)


def formats_like_str(node: ast.expr, need_str: bool = False) -> bool:
    """Whether ``%s`` gives exactly the text the original message did: literals, and
    results of builtins and str methods, whose ``__format__`` is ``__str__``. With
    ``need_str`` (an operand of ``+``) only values that are ``str`` qualify."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) or (
            not need_str and isinstance(node.value, (int, float))
        )
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return is_text(node.left)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in (
                ("str", "repr", "ascii", "format", "chr", "hex", "oct", "bin")
                if need_str
                else SCALAR_BUILTINS
            )
        if isinstance(func, ast.Attribute) and func.attr in STR_RESULT_METHODS:
            return is_text(func.value) or func.attr == "decode"
    return False


def _field(source: str, value: ast.expr, conversion: str, spec: str) -> Piece:
    """One replacement field, ``{value!conversion:spec}``, as a piece."""
    brace = "{" + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    if spec:
        # format() keeps the exact formatting; only the %-interpolation becomes lazy. A
        # conversion is applied first, as the f-string does (``format(x, ">5")`` without
        # ``str()`` raised TypeError for types that take no spec).
        converted = {"s": f"str({source})", "r": f"repr({source})", "a": f"ascii({source})"}.get(
            conversion, source
        )
        return Piece(
            f"format({converted}, {string_literal(spec)})", True, value=source, brace=brace
        )
    if conversion:
        return Piece(source, True, conversion, value=source, brace=brace)
    return Piece(source, True, exact=formats_like_str(value), value=source, brace=brace)


def fstring_pieces(node: ast.JoinedStr) -> list[Piece] | None:
    pieces: list[Piece] = []
    for part in fstring_parts(node):
        if isinstance(part, Literal):
            pieces.append(Piece(part.text))
            continue
        source = None if part.value is None else _inner_source(part.value)
        if source is None or part.value is None or part.spec is None:
            return None  # a nested field in the spec
        pieces.append(_field(source, part.value, part.conversion, part.spec))
    return pieces


@dataclass
class _FormatState:
    """What ``str.format`` carries from one literal of the template to the next."""

    # The file, so arguments keep their own text (they sit outside any f-string).
    ctx: Context | None = None
    auto_index: int = 0
    used: list[ast.expr] = field(default_factory=list)


def _format_text_pieces(text: str, call: ast.Call, state: _FormatState) -> list[Piece] | None:
    found = format_parts(text, call, state.auto_index)
    if found is None:
        return None
    parts, state.auto_index = found
    pieces: list[Piece] = []
    for part in parts:
        if isinstance(part, Literal):
            pieces.append(Piece(part.text))
            continue
        value, spec, conversion = part.value, part.spec, part.conversion
        if value is None:
            return None  # no argument, or attribute or item access inside the field
        if any(value is seen for seen in state.used) and not isinstance(
            value, (ast.Name, ast.Constant)
        ):
            return None  # the value would be evaluated twice
        state.used.append(value)
        source = _inner_source(value) if state.ctx is None else _arg_source(value, state.ctx)
        if source is None or (spec and "{" in spec) or conversion not in ("", "s", "r", "a"):
            return None
        pieces.append(_field(source, value, conversion, spec or ""))
    return pieces


def _format_call_ok(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Constant)
        and isinstance(func.value.value, str)
        and formats_plainly(call)
    )


def format_call_pieces(call: ast.Call, ctx: Context | None = None) -> list[Piece] | None:
    """``"a {} {x!r}".format(1, x=2)`` as pieces, when each field maps to one argument."""
    if not _format_call_ok(call):
        return None
    assert isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Constant)
    return _format_text_pieces(str(call.func.value.value), call, _FormatState(ctx))


def format_call_leaf_pieces(
    call: ast.Call, leaves: list[str], ctx: Context
) -> list[list[Piece]] | None:
    """The same, one list per literal of an implicitly concatenated template (each literal
    must hold whole fields)."""
    if not _format_call_ok(call):
        return None
    state = _FormatState(ctx)
    split = [_format_text_pieces(leaf, call, state) for leaf in leaves]
    return None if any(p is None for p in split) else [p for p in split if p is not None]


def is_text(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def eager_kind(node: ast.expr) -> str | None:
    """How a message is formatted before the logging call sees it: ``f-string``, ``%``,
    ``.format()`` or ``+``; None for a plain value."""
    if isinstance(node, ast.JoinedStr) and any(
        isinstance(v, ast.FormattedValue) for v in node.values
    ):
        return "f-string"
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod) and is_text(node.left):
            return "%"
        if isinstance(node.op, ast.Add):
            operands = list(concat_operands(node))
            if any(is_text(o) for o in operands) and not all(
                isinstance(o, ast.Constant) for o in operands
            ):
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


def concat_value_pieces(operand: ast.expr, ctx: Context) -> list[Piece] | None:
    """A value added to text with ``+``: ``%s`` is its own text only if it is a str."""
    if (
        isinstance(operand, ast.Call)
        and isinstance(operand.func, ast.Name)
        and operand.func.id == "str"
        and len(operand.args) == 1
        and not isinstance(operand.args[0], ast.Starred)
        and not operand.keywords
    ):
        # ``"formats: " + str(v)``: ``%s`` calls ``str(v)`` itself (bandit's baseline error).
        inner = _arg_source(operand.args[0], ctx)
        if inner is not None:
            return [Piece(inner, True, exact=True, value=inner)]
    source = _arg_source(operand, ctx)
    if source is None:
        return None
    return [Piece(source, True, exact=formats_like_str(operand, need_str=True), value=source)]


def message_pieces(node: ast.expr, ctx: Context) -> list[Piece] | None:
    """One message expression as pieces, or None when it cannot be split exactly."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [Piece(node.value)]
    if isinstance(node, ast.JoinedStr):
        return fstring_pieces(node)
    kind = eager_kind(node)
    if kind == "+":
        pieces: list[Piece] = []
        for operand in concat_operands(node):
            inner = (
                message_pieces(operand, ctx)
                if is_text(operand)
                else concat_value_pieces(operand, ctx)
            )
            if inner is None:
                return None
            pieces.extend(inner)
        return pieces
    if kind == ".format()":
        assert isinstance(node, ast.Call)
        return format_call_pieces(node, ctx)
    source = _arg_source(node, ctx)
    return None if source is None else [Piece(source, True, value=source)]


def percent_message(node: ast.BinOp, ctx: Context) -> tuple[LazyMessage, bool] | None:
    """``"..." % values`` keeps its template; returns the message and whether the split is
    exact (a single non-tuple operand could be a tuple at run time)."""
    template = str_value(node.left, ctx)
    if template is None:
        return None
    right = node.right
    if isinstance(right, ast.Tuple):
        sources = [_arg_source(element, ctx) for element in right.elts]
        if any(source is None for source in sources):
            return None
        return LazyMessage(template, tuple(s for s in sources if s is not None)), True
    source = _arg_source(right, ctx)
    if source is None:
        return None
    exact = (
        isinstance(right, (ast.Dict, ast.JoinedStr))
        or (isinstance(right, ast.Constant) and not isinstance(right.value, tuple))
        or (
            isinstance(right, ast.Call)
            and isinstance(right.func, ast.Name)
            and right.func.id in SCALAR_BUILTINS
        )
    )
    return LazyMessage(template, (source,)), exact
