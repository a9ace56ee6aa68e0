"""The PRD1xx verdict for one call, shared by PRD101 and PRD102: the sink (sinks.py), how
its SQL was built (flow.py) and the parametrized call (parametrize.py).

Everything here runs at detection time on stdlib ``ast``; the fix functions only parse the
source text computed here (the finding's payload), so a fix stays small and detection never needs
libcst.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.analysis.strings import formatting
from prodlint.rules.sql.flow import ESCAPED, Flow, Piece, classify
from prodlint.rules.sql.parametrize import ParametrizePayload, is_dml, plan_fix
from prodlint.rules.sql.sinks import SINK_METHODS, Sink, find_sink

SQL_WORDS = re.compile(
    r"\b(?:select|insert|update|delete|from|where|values|create|drop|alter|pragma|union|"
    r"join|truncate|merge|replace\s+into|order\s+by|group\s+by|set)\b",
    re.IGNORECASE,
)

# --- the verdict --------------------------------------------------------------------------


@dataclass
class Analysis:
    sink: Sink
    values: list[Piece]  # unsafe values in value positions (PRD101)
    identifiers: list[Piece]  # unsafe values in identifier or clause positions (PRD102)
    fix: ParametrizePayload | None = None
    fix_unsafe: bool = False
    ddl: bool = False  # a statement that takes no parameters (CREATE, ALTER, PRAGMA...)

    @property
    def advice(self) -> str:
        if self.sink.textual_clause:
            return (
                "SQLAlchemy before 1.4 runs a string here as SQL (1.4 rejects it): pass "
                "`text(...)` with bound parameters or a column expression"
            )
        if self.ddl:
            return (
                "this statement takes no parameters: check them against a fixed set or quote "
                "them as literals"
            )
        return "pass them as query parameters"


def analyse(call: ast.Call, ctx: Context) -> Analysis | None:
    """The SQL-injection verdict for one call (memoised: PRD101 and PRD102 share it)."""
    if last_name(call.func) not in SINK_METHODS:
        return None
    # Tests build SQL from their own data: no input reaches it.
    if ctx.memo("sql.test_file", lambda: ctx.is_test_file):
        return None
    cache: dict[int, Analysis | None] = ctx.memo("sql.analysis", dict)
    key = id(call)
    if key not in cache:
        cache[key] = _analyse(call, ctx)
    return cache[key]


def _analyse(call: ast.Call, ctx: Context) -> Analysis | None:
    # Most sink-named calls pass a constant or an opaque variable: decide that before
    # finding the sink or following any dataflow.
    first = (
        call.args[0]
        if call.args
        else next(
            (
                k.value
                for k in call.keywords
                if k.arg in ("sql", "query", "text", "raw_query", "where", "select", "tables")
            ),
            None,
        )
    )
    is_extra = isinstance(call.func, ast.Attribute) and call.func.attr == "extra"
    if (first is None or isinstance(first, ast.Constant)) and not is_extra:
        return None
    sink = find_sink(call, ctx)
    if sink is None:
        return None
    flow = Flow.around(ctx, call)
    values: list[Piece] = []
    identifiers: list[Piece] = []
    templates: list[list[Piece]] = []
    for sql in sink.sql:
        if isinstance(sql, ast.Constant):
            continue
        pieces = flow.pieces(sql, flow.at)
        literal = "".join(p.text for p in pieces if not p.dynamic)
        if (
            not any(p.dynamic and (not p.safe or p.safe == ESCAPED) for p in pieces)
            or not literal.strip()
        ):
            continue
        if sink.needs_sql_words and not SQL_WORDS.search(literal):
            continue
        templates.append(pieces)
        # DDL, PRAGMA and SET take no parameters: a value there is configuration the code
        # must splice, reported (like a name) only when it comes from outside.
        ddl = not is_dml("".join(p.text if not p.dynamic else "\0" for p in pieces))
        for where, piece in classify(pieces):
            if where != "identifier" and (not ddl or flow.piece_is_input(piece)):
                values.append(piece)
            elif flow.piece_is_input(piece):
                identifiers.append(piece)
    if not values and not identifiers and not templates and len(sink.sql) == 1:
        values = _formatted_foreign_template(sink.sql[0], flow, ctx)
    if not values and not identifiers:
        return None
    analysis = Analysis(sink, values, identifiers)
    if len(templates) == 1:
        analysis.ddl = ddl
    if values and len(sink.sql) == 1 and len(templates) == 1:
        plan = plan_fix(sink, templates[0], flow, ctx)
        if plan is not None:
            analysis.fix, analysis.fix_unsafe = plan
    return analysis


def _formatted_foreign_template(sql: ast.expr, flow: Flow, ctx: Context) -> list[Piece]:
    """``common.bad_query.format(user_input)``: a template held by another module (its text
    is not in this file) formatted with input. Where the values land is unknown, that they
    are spliced into SQL is not."""
    found = formatting(sql)
    if found is None:
        return []
    template, args = found
    root = template
    while isinstance(root, ast.Attribute):
        root = root.value
    if template is root or not isinstance(root, ast.Name) or not is_imported(ctx, root.id):
        return []
    return [Piece(expr=arg) for arg in args if flow.is_input(arg)]


def is_imported(ctx: Context, name: str) -> bool:
    """``name`` is bound by an import where it is read (a function's own import first)."""
    for function in ctx.enclosing_functions():
        scope = ctx.scope_of(function)
        if name in scope.imports:
            return True
        if name in scope.bindings:
            return False
    return name in ctx.module_scope.imports


def describe(ctx: Context, pieces: list[Piece]) -> str:
    names: list[str] = []
    for piece in pieces:
        if piece.expr is not None:
            text = ctx.source_of(piece.expr)
            text = text if len(text) <= 40 else text[:37] + "..."
            if f"`{text}`" not in names:
                names.append(f"`{text}`")
    return ", ".join(names)
