"""Following how the SQL text passed to a sink was built inside its function: literal
text and the values spliced into it, and where each value sits in the SQL."""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass

from prodlint.analysis.constants import str_value
from prodlint.analysis.context import Context
from prodlint.analysis.flow import Built, FlowOwner, FunctionFlow, flow_of
from prodlint.analysis.imports import last_name
from prodlint.analysis.scopes import FUNCTION_NODES
from prodlint.analysis.strings import (
    Literal,
    displayed_elements,
    format_parts,
    formats_plainly,
    fstring_parts,
    joined_items,
    percent_parts,
)

# Callables whose result is a quoted identifier, a number or an escaped literal.
QUOTING = frozenset(
    {
        "quote_name",
        "quote_name_unless_alias",
        "quote_identifier",
        "quote_ident",
        "Identifier",
        "Literal",
        "SQL",
        "Placeholder",
        "format_table",
        "format_column",
        "quote_schema",
        "escape_string",
        "escape_literal",
        "quote_literal",
        "escape_identifier",
        "mogrify",
    }
)
NUMERIC_CALLS = frozenset({"int", "float", "len", "round", "abs", "bool", "ord", "hash", "id"})
NUMERIC_TYPES = frozenset(
    {"d", "i", "o", "u", "x", "X", "e", "E", "f", "F", "g", "G", "n", "b", "%"}
)
VALUE_BEFORE = re.compile(
    r"(?:[=<>]|\b(?:like|ilike|limit|offset|is|is\s+not)|\bbetween\s+\S+\s+and)\s*$", re.IGNORECASE
)
LIST_BEFORE = re.compile(r"\bin\s*\(\s*$", re.IGNORECASE)
VALUES_OPEN = re.compile(r"\bvalues\s*\((?:[^()']|'[^']*')*$", re.IGNORECASE)

MAX_DEPTH = 30
ESCAPED = "quotes escaped"
# ``limit: int``, ``limit: Optional[int]``, ``limit: int | None``
NUMBER_ANNOTATION = re.compile(
    r"^(?:(?:typing\.)?Optional\[(?:int|float|bool)\]|(?:int|float|bool)(?:\s*\|\s*None)?|None\s*\|\s*(?:int|float|bool))$"
)

# --- how a string was built ----------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of literal SQL text, or one value spliced into it."""

    text: str = ""
    expr: ast.expr | None = None
    safe: str = ""  # why a spliced value cannot inject (number, quoted identifier...)
    spec: str = ""  # f-string conversion and format spec the value was rendered with
    exact: bool = True  # False: the value is only approximately ``expr`` (no fix)
    origin: ast.stmt | None = None  # the build statement it came from; None: the sink call
    is_str: bool = False  # concatenated with ``+``, so already a str
    constant: ast.expr | None = None  # the constant's name a literal run was read from
    where: str = ""  # position already known from the piece's own template (joined lists)
    sources: tuple[ast.expr, ...] = ()  # what a variable spliced whole was set to (is it input?)
    formatted: bool = (
        False  # spliced as ``format(expr, "")`` (f-string, ``.format``), not ``str(expr)``
    )

    @property
    def dynamic(self) -> bool:
        return self.expr is not None


def _as_str(piece: Piece, operand: ast.expr) -> Piece:
    if piece.expr is operand and not piece.spec:
        return dataclasses.replace(piece, is_str=True)
    return piece


class Flow:
    """Follows string building within one function, from one sink."""

    def __init__(
        self,
        ctx: Context,
        at: ast.stmt | None,
        function: ast.AST | None,
        flow: FunctionFlow | None,
    ) -> None:
        self.ctx = ctx
        self.at = at  # the statement holding the sink
        self.function = function
        self.flow = flow
        self._built: dict[tuple[int, str], Built] = {}

    @classmethod
    def around(cls, ctx: Context, node: ast.AST) -> Flow:
        """The flow of the function (or module top level) holding ``node``; none inside a
        lambda, whose body has no statements."""
        function: ast.AST | None = None
        statements: list[ast.stmt] = []
        for parent in reversed(ctx.ancestors):
            if isinstance(parent, ast.stmt):
                statements.append(parent)
            if isinstance(parent, FUNCTION_NODES):
                function = parent
                break
        owner: FlowOwner | None = (
            ctx.tree
            if function is None
            else function
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            else None
        )
        flow = None if owner is None else flow_of(ctx, owner)
        # A statement of a class body is not one of the function's: the class statement is.
        at = next((s for s in statements if flow is not None and id(s) in flow.node_of), None)
        return cls(ctx, at, function, flow)

    def definitions(self, name: str, at: ast.stmt | None) -> Built:
        """How ``name`` read at ``at`` was built in this function (``FunctionFlow.built_from``;
        memoised: the pieces of one sink ask again for the same names)."""
        if self.flow is None or at is None:
            return Built((), False, False)
        key = (id(at), name)
        known = self._built.get(key)
        if known is None:
            known = self._built[key] = self.flow.built_from(at, name)
        return known

    def in_block_of(self, stmt: ast.stmt, at: ast.stmt) -> bool:
        """``stmt`` sits in the same statement list as ``at``, before it (straight-line code)."""
        if self.flow is None:
            return False
        mine, theirs = self.flow.block_of(stmt), self.flow.block_of(at)
        return (
            mine is not None
            and theirs is not None
            and mine.statements is theirs.statements
            and mine.index < theirs.index
        )

    def is_param(self, name: str) -> ast.arg | None:
        if not isinstance(self.function, FUNCTION_NODES):
            return None
        args = self.function.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.arg == name:
                return arg
        return None

    def piece_is_input(self, piece: Piece) -> bool:
        return (
            any(self.is_input(source) for source in piece.sources)
            if piece.sources
            else self.is_input(piece.expr)
        )

    def is_input(self, expr: ast.expr | None) -> bool:
        """Whether a value comes from outside: a parameter of a public function (or
        something read from one), or a name bound nowhere in the file. Names and clauses
        computed inside a library (introspection results, compiled sub-queries) are not
        flagged as identifiers: their callers decide what reaches them."""
        while isinstance(expr, (ast.Attribute, ast.Subscript)):
            expr = expr.value
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            return self.is_input(expr.func.value) and expr.func.attr in ("get", "getlist", "pop")
        if not isinstance(expr, ast.Name) or expr.id in ("self", "cls"):
            return False
        if self.is_param(expr.id) is not None:
            return not getattr(self.function, "name", "_").startswith("_")
        if (
            isinstance(self.function, FUNCTION_NODES)
            and expr.id in self.ctx.scope_of(self.function).bindings
        ):
            return False
        return expr.id not in self.ctx.module_scope.bindings

    def name_pieces(
        self, node: ast.Name, at: ast.stmt | None, depth: int, origin: ast.stmt | None
    ) -> list[Piece]:
        contributions, defined, opaque = self.definitions(node.id, at)
        if not contributions and not defined:
            param = self.is_param(node.id)
            if param is not None:
                if param.annotation is not None and NUMBER_ANNOTATION.match(
                    ast.unparse(param.annotation)
                ):
                    return [Piece(expr=node, safe="number", origin=origin)]
                return [Piece(expr=node, origin=origin)]
            value = None if opaque else self.ctx.value_of(node.id)
            if value is not None and depth < MAX_DEPTH:
                inner = self.pieces(value, None, depth + 1, origin)
                if all(not p.dynamic for p in inner):
                    return [Piece(text="".join(p.text for p in inner), constant=node)]
                if all(not p.dynamic or p.safe for p in inner):
                    return [Piece(expr=node, safe="constant", origin=origin)]
            return [Piece(expr=node, origin=origin)]
        result: list[Piece] = []
        if not defined:
            # ``q += ...`` with no ``q = ...`` we can see: what it started as is unknown.
            result.append(Piece(expr=node, origin=origin))
        opaque_values = defined
        sources: list[ast.expr] = []
        for stmt, value in contributions:
            sources.append(value)
            own = self.pieces(value, stmt, depth + 1, stmt)
            opaque_values = (
                opaque_values
                and not isinstance(stmt, ast.AugAssign)
                and len(own) == 1
                and (own[0].expr is value and not own[0].safe and own[0].exact)
            )
            result.extend(own)
        if opaque_values:
            # ``address = event["ip"]`` then ``"... '%s'" % address``: the value is the
            # variable itself wherever it was set, so the fix can bind the variable.
            return [Piece(expr=node, origin=origin, sources=tuple(sources))]
        if all(not p.dynamic or p.safe for p in result) and any(p.dynamic for p in result):
            # A variable built only from constants and safe values is safe as a whole; keeping
            # it whole means a fix leaves it where it is.
            safe = ESCAPED if any(p.safe == ESCAPED for p in result) else "built from constants"
            return [Piece(expr=node, safe=safe, origin=origin)]
        return result

    def pieces(
        self, expr: ast.expr, at: ast.stmt | None, depth: int = 0, origin: ast.stmt | None = None
    ) -> list[Piece]:
        if depth > MAX_DEPTH:
            return [Piece(expr=expr, origin=origin, exact=False)]
        if isinstance(expr, ast.Constant):
            if isinstance(expr.value, str):
                return [Piece(text=expr.value)]
            return [Piece(expr=expr, safe="constant", origin=origin)]
        if isinstance(expr, ast.JoinedStr):
            return self.fstring(expr, at, depth, origin)
        if isinstance(expr, ast.BinOp):
            if isinstance(expr.op, ast.Add):
                if any(
                    isinstance(side, ast.Constant) and type(side.value) in (int, float)
                    for side in (expr.left, expr.right)
                ):
                    # ``page_size + 1`` adds numbers (a str would raise TypeError).
                    return [Piece(expr=expr, safe="number", origin=origin)]
                left = self.pieces(expr.left, at, depth + 1, origin)
                right = self.pieces(expr.right, at, depth + 1, origin)
                if all(p.dynamic and p.safe == "number" for p in left + right):
                    return [Piece(expr=expr, safe="number", origin=origin)]
                return [
                    _as_str(p, side)
                    for side, part in ((expr.left, left), (expr.right, right))
                    for p in part
                ]
            if isinstance(expr.op, ast.Mod):
                left = self.pieces(expr.left, at, depth + 1, origin)
                if all(not p.dynamic for p in left) and left:
                    return self.percent(
                        "".join(p.text for p in left), expr.right, at, depth, origin
                    )
                if all(not p.dynamic or p.safe for p in left) and self.is_number(
                    expr.left, at, depth
                ):
                    return [Piece(expr=expr, safe="number", origin=origin)]
                return [Piece(expr=expr, origin=origin, exact=False)]
            if isinstance(expr.op, ast.Mult):
                for text_side, count in ((expr.left, expr.right), (expr.right, expr.left)):
                    text = self.pieces(text_side, at, depth + 1, origin)
                    if (
                        text
                        and all(not p.dynamic for p in text)
                        and self.is_number(count, at, depth)
                    ):
                        return [Piece(expr=expr, safe="placeholder list", origin=origin)]
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            method = expr.func.attr
            if method == "format" and formats_plainly(expr):
                receiver = self.pieces(expr.func.value, at, depth + 1, origin)
                if receiver and all(not p.dynamic for p in receiver):
                    return self.format(expr, "".join(p.text for p in receiver), at, depth, origin)
            elif joined_items(expr) is not None:
                separator = self.pieces(expr.func.value, at, depth + 1, origin)
                if separator and all(not p.dynamic for p in separator):
                    return self.join("".join(p.text for p in separator), expr, at, depth, origin)
            elif method == "replace" and len(expr.args) == 2:
                return self.replace(expr, at, depth, origin)
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "chr"
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.Constant)
            and type(expr.args[0].value) is int
            and 0 <= expr.args[0].value < 0x110000
        ):
            # ``chr(39)`` is a quote: the SQL's own text, wherever it is written.
            return [Piece(text=chr(expr.args[0].value))]
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "str"
            and len(expr.args) == 1
            and not expr.keywords
        ):
            return self.pieces(expr.args[0], at, depth + 1, origin)
        if isinstance(expr, ast.Name):
            return self.name_pieces(expr, at, depth, origin)
        if isinstance(expr, ast.IfExp):
            branches = self.pieces(expr.body, at, depth + 1, origin) + self.pieces(
                expr.orelse, at, depth + 1, origin
            )
            if all(not p.dynamic or p.safe for p in branches):
                return [Piece(expr=expr, safe="constant choice", origin=origin)]
            return [Piece(expr=expr, origin=origin, exact=False)]
        return [Piece(expr=expr, safe=self.why_safe(expr, at, depth), origin=origin)]

    def fstring(
        self, expr: ast.JoinedStr, at: ast.stmt | None, depth: int, origin: ast.stmt | None
    ) -> list[Piece]:
        result: list[Piece] = []
        for part in fstring_parts(expr, self.ctx):
            if isinstance(part, Literal):
                result.append(Piece(text=part.text))
                continue
            spec = part.format_text
            if part.value is None or spec is None:
                result.append(Piece(expr=part.value, origin=origin, exact=False))
                continue
            result.extend(self.value(part.value, spec, at, depth, origin, formatted=True))
        return result

    def value(
        self,
        expr: ast.expr,
        spec: str,
        at: ast.stmt | None,
        depth: int,
        origin: ast.stmt | None,
        formatted: bool = False,
    ) -> list[Piece]:
        """One value formatted into the string with ``spec`` (f-string syntax); ``formatted``:
        by ``format()`` (f-string, ``.format``) rather than ``str()`` (``%s``)."""
        if not spec:
            pieces = self.pieces(expr, at, depth + 1, origin)
            if not formatted:
                return pieces
            # ``format(v, "")`` is not always ``str(v)`` (str-mixin enums before 3.12).
            return [dataclasses.replace(p, formatted=True) if p.expr is expr else p for p in pieces]
        numeric = spec[-1:] in NUMERIC_TYPES and ":" in spec
        safe = "number" if numeric else self.why_safe(expr, at, depth)
        return [Piece(expr=expr, safe=safe, spec=spec, origin=origin)]

    def percent(
        self, text: str, right: ast.expr, at: ast.stmt | None, depth: int, origin: ast.stmt | None
    ) -> list[Piece]:
        result: list[Piece] = []
        for part in percent_parts(text, right):
            if isinstance(part, Literal):
                result.append(Piece(text=part.text))
                continue
            value, kind, flags, precision = part.value, part.kind, part.flags, part.precision
            if value is None:
                result.append(Piece(expr=right, origin=origin, exact=False))
                continue
            if kind in "sra" and not flags and precision is None:
                spec = "" if kind == "s" else "!" + kind
            elif kind in "diu" and not flags and precision is None:
                result.append(Piece(expr=value, safe="number", spec="!d", origin=origin))
                continue
            elif kind in "eEfFgG" and not flags and "*" not in (precision or ""):
                spec = ":" + (f".{precision}" if precision else "") + kind
            else:
                # Widths, flags and %c/%x/%o... render differently as format specs (``%5s``
                # right-aligns, ``{:5}`` left-aligns a str; ``%-5d`` is not ``{:-5d}``).
                safe = "number" if kind in NUMERIC_TYPES else self.why_safe(value, at, depth)
                result.append(Piece(expr=value, safe=safe, origin=origin, exact=False))
                continue
            result.extend(self.value(value, spec, at, depth, origin))
        return result

    def format(
        self, call: ast.Call, text: str, at: ast.stmt | None, depth: int, origin: ast.stmt | None
    ) -> list[Piece]:
        found = format_parts(text, call)
        if found is None:
            return [Piece(expr=call, origin=origin, exact=False)]
        result: list[Piece] = []
        for part in found[0]:
            if isinstance(part, Literal):
                result.append(Piece(text=part.text))
                continue
            spec = part.format_text
            if part.value is None or spec is None or "{" in spec:
                result.append(Piece(expr=call, origin=origin, exact=False))
                continue
            result.extend(self.value(part.value, spec, at, depth, origin, formatted=True))
        return result

    def join(
        self,
        separator: str,
        call: ast.Call,
        at: ast.stmt | None,
        depth: int,
        origin: ast.stmt | None,
    ) -> list[Piece]:
        items = call.args[0]
        elements = displayed_elements(items)
        if elements is not None:
            result: list[Piece] = []
            for number, element in enumerate(elements):
                if number:
                    result.append(Piece(text=separator))
                result.extend(self.pieces(element, at, depth + 1, origin))
            return result
        parts: list[Piece] = []
        if isinstance(items, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            parts = self.pieces(items.elt, at, depth + 1, origin)
        elif isinstance(items, ast.BinOp) and isinstance(items.op, ast.Mult):
            parts = self.pieces(items, at, depth + 1, origin)
            if not parts or parts[0].safe != "placeholder list":
                for side in (items.left, items.right):
                    if isinstance(side, (ast.List, ast.Tuple)):
                        parts = [
                            q for e in side.elts for q in self.pieces(e, at, depth + 1, origin)
                        ]
        elif isinstance(items, ast.Name):
            parts = self.appended(items, at, depth, origin)
        else:
            parts = [Piece(expr=items, safe=self.why_safe(items, at, depth), origin=origin)]
        if parts and all(not p.dynamic or p.safe for p in parts):
            return [Piece(expr=call, safe="joined safe parts", origin=origin)]
        # Report each value where it sits in its own piece (``"name = '%s'" % name``
        # appended to a list of conditions is a quoted value, not a clause).
        inner = [
            Piece(
                expr=p.expr,
                origin=origin,
                exact=False,
                where=where if where != "identifier" else "",
            )
            for where, p in classify(parts)
            if p.expr is not None
        ]
        return inner or [Piece(expr=call, origin=origin, exact=False)]

    def appended(
        self, items: ast.Name, at: ast.stmt | None, depth: int, origin: ast.stmt | None
    ) -> list[Piece]:
        """What went into a list that is joined: its literal and every ``append``."""
        if not isinstance(self.function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return [Piece(expr=items, origin=origin)]
        contributions, defined, _ = self.definitions(items.id, at)
        if not defined:
            return [Piece(expr=items, origin=origin)]
        parts: list[Piece] = []
        for stmt, value in contributions:
            if isinstance(value, (ast.List, ast.Tuple)):
                for element in value.elts:
                    parts.extend(self.pieces(element, stmt, depth + 1, origin))
            else:
                parts.append(Piece(expr=items, origin=origin))
        for node in ast.walk(self.function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == items.id
                and node.func.attr in ("append", "extend", "insert")
                and node.args
            ):
                added = node.args[-1]
                if node.func.attr == "extend":
                    if isinstance(added, (ast.List, ast.Tuple)):
                        for element in added.elts:
                            parts.extend(self.pieces(element, at, depth + 1, origin))
                    else:
                        parts.append(Piece(expr=added, origin=origin))
                else:
                    parts.extend(self.pieces(added, at, depth + 1, origin))
        return parts

    def replace(
        self, call: ast.Call, at: ast.stmt | None, depth: int, origin: ast.stmt | None
    ) -> list[Piece]:
        assert isinstance(call.func, ast.Attribute)
        receiver = self.pieces(call.func.value, at, depth + 1, origin)
        old = str_value(call.args[0], self.ctx)
        if not old:
            return [Piece(expr=call, origin=origin, exact=False)]
        new = self.pieces(call.args[1], at, depth + 1, origin)
        if old == "'" and [p.text for p in new] == ["''"] and any(p.dynamic for p in receiver):
            # ``value.replace("'", "''")``: SQL's own escape, safe inside quotes only.
            return [Piece(expr=call, safe=ESCAPED, origin=origin)]
        result: list[Piece] = []
        for piece in receiver:
            if piece.dynamic:
                result.append(piece)
                continue
            chunks = piece.text.split(old)
            for number, chunk in enumerate(chunks):
                if number:
                    result.extend(new)
                if chunk:
                    result.append(Piece(text=chunk))
        return result

    # Values that cannot carry SQL.
    def is_number(self, expr: ast.expr, at: ast.stmt | None, depth: int) -> bool:
        return self.why_safe(expr, at, depth) == "number"

    def why_safe(self, expr: ast.expr, at: ast.stmt | None, depth: int) -> str:
        if depth > MAX_DEPTH:
            return ""
        if isinstance(expr, ast.Constant):
            return "number" if isinstance(expr.value, (int, float)) else "constant"
        if isinstance(expr, ast.Call):
            callee = expr.func
            name = last_name(callee) or ""
            if isinstance(callee, ast.Name) and name in NUMERIC_CALLS:
                return "number"
            if name.rsplit(".", 1)[-1] in QUOTING:
                return "quoted identifier"
            if isinstance(callee, ast.Name):
                bound = self.ctx.value_of(callee.id)
                if bound is None:
                    contributions, defined, _ = self.definitions(callee.id, at)
                    bound = contributions[0][1] if defined and len(contributions) == 1 else None
                if isinstance(bound, ast.Attribute) and bound.attr in QUOTING:
                    return "quoted identifier"
            if isinstance(callee, ast.Attribute) and callee.attr in (
                "count",
                "index",
                "bit_length",
            ):
                return "number"
            return ""
        if isinstance(expr, ast.BinOp) and not isinstance(expr.op, (ast.Add, ast.Mod)):
            if self.is_number(expr.left, at, depth + 1) and self.is_number(
                expr.right, at, depth + 1
            ):
                return "number"
            return ""
        if isinstance(expr, ast.UnaryOp):
            return self.why_safe(expr.operand, at, depth + 1)
        if isinstance(expr, ast.Name):
            pieces = self.name_pieces(expr, at, depth + 1, None)
            if len(pieces) == 1 and pieces[0].dynamic:
                return pieces[0].safe
            return "constant" if all(not p.dynamic or p.safe for p in pieces) else ""
        return ""


def classify(pieces: list[Piece]) -> list[tuple[str, Piece]]:
    """Each unsafe value with where it sits: ``quoted`` (inside '...'), ``value`` (after
    an operator), ``list`` (``IN (...)``) or ``identifier`` (anything else)."""
    result: list[tuple[str, Piece]] = []
    before = ""
    for index, piece in enumerate(pieces):
        if not piece.dynamic:
            before += piece.text
            continue
        state = sql_state(before)
        if not piece.safe or piece.safe == ESCAPED and state != "string":
            following = pieces[index + 1] if index + 1 < len(pieces) else None
            if piece.where:
                where = piece.where
            elif (
                following is not None
                and not following.dynamic
                and following.text.lstrip().startswith("(")
            ):
                where = "identifier"  # a function's name: ``= {fn}(col)``
            elif state in ("string", "comment"):
                where = "quoted"  # inside a string literal or a comment
            elif LIST_BEFORE.search(before):
                where = "list"
            elif VALUE_BEFORE.search(before) or VALUES_OPEN.search(before):
                where = "value"
            else:
                where = "identifier"
            result.append((where, piece))
        before += "\0"
    return result


def _scan(text: str) -> tuple[str, str]:
    """``text`` with string literals, quoted names and comments blanked out, and the lexical
    state at its end: ``code``, ``string`` (inside '...'), ``name`` (inside "..." or `...`)
    or ``comment`` (after ``--`` or inside ``/* */``). An apostrophe in a comment opens no
    string."""
    state = "code"
    code: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        step = 1
        if state == "code":
            if char == "'":
                state = "string"
            elif char in '"`':
                state = "name" + char
            elif text.startswith("--", index):
                state, step = "line comment", 2
            elif text.startswith("/*", index):
                state, step = "block comment", 2
            else:
                code.append(char)
                index += 1
                continue
        elif state == "string":
            if char == "'":
                state = "code"
        elif state.startswith("name"):
            if char == state[-1]:
                state = "code"
        elif state == "line comment":
            if char == "\n":
                state = "code"
        elif text.startswith("*/", index):
            state, step = "code", 2
        code.append(" " * step)
        index += step
    if state.startswith("name"):
        state = "name"
    return "".join(code), "comment" if state.endswith("comment") else state


def sql_state(before: str) -> str:
    return _scan(before)[1]


def sql_code(text: str) -> str:
    """The SQL's own syntax: literals, quoted names and comments blanked out."""
    return _scan(text)[0]
