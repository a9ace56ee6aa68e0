"""Turning spliced values into placeholders and a params argument, as source text.

Runs at detection time (no libcst): the result is the finding's ``ParametrizePayload``, and is
checked to parse here, so the fix itself only swaps source text in.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from prodlint.analysis.calls import passed
from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.analysis.scopes import FUNCTION_NODES
from prodlint.model import FixPayload
from prodlint.rules.sql.flow import (
    ESCAPED,
    LIST_BEFORE,
    VALUE_BEFORE,
    VALUES_OPEN,
    Flow,
    Piece,
    sql_code,
    sql_state,
)
from prodlint.rules.sql.sinks import Sink

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ``:name`` binds already in the text (not ``::type`` casts, not ``12:30``).
NAMED_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# Statements whose values may be parameters everywhere; DDL (CREATE/ALTER/DROP, views,
# indexes, CHECK and DEFAULT clauses), PRAGMA and SET take none (sqlite raises
# "parameters are not allowed", PostgreSQL "syntax error at or near $1").
DML = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "VALUES"})


class NoFix(Exception):
    """This build cannot be parametrized exactly."""


@dataclass
class Renderer:
    """Renders SQL pieces into a new string expression, collecting params in order."""

    ctx: Context
    style: str
    escape_percent: bool
    first_number: int = 1
    before: str = ""  # literal text so far (for quote parity across statements)
    params: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # existing placeholders before each param
    taken: set[str] = field(default_factory=set)  # bind names the SQL already uses
    unquoted: bool = False

    def placeholder(self, expr: ast.expr | None) -> str:
        if self.style in ("qmark", "qmark-params"):
            return "?"
        if self.style == "format":
            return "%s"
        if self.style == "dollar":
            return f"${self.first_number + len(self.params) - 1}"
        base = last_name(expr) or "p"
        name = base if IDENTIFIER.match(base) and base not in self.names else f"p{len(self.params)}"
        while name in self.names or name in self.taken:
            name += "_"
        self.names[-1] = name
        return f"%({name})s" if self.style == "pyformat" else ":" + name

    def source(self, piece: Piece) -> str:
        assert piece.expr is not None
        text = self.ctx.source_of(piece.expr)
        if "\n" in text or "\\" in text:
            raise NoFix
        if isinstance(piece.expr, (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.Constant)):
            return text
        return f"({text})"

    def field(self, piece: Piece, quote: str) -> str:
        text = self.source(piece)
        if quote in text or "{" in text and piece.spec:
            raise NoFix
        spec = piece.spec
        if spec == "!d":
            return "{int(" + text + ")}"
        if not spec and not piece.formatted and not piece.is_str and not piece.safe:
            spec = "!s"  # ``%s`` rendered ``str(v)``; ``{v}`` would be ``format(v, "")``
        return "{" + text + spec + "}"

    def render(self, pieces: list[Piece]) -> list[tuple[str, str]]:
        """The new string as ('lit', text) / ('mark', new placeholder) / ('field', f-string
        field) parts."""
        out: list[tuple[str, str]] = []
        merged: list[Piece] = []
        for piece in pieces:
            if (
                merged
                and not piece.dynamic
                and not merged[-1].dynamic
                and piece.constant is None
                and merged[-1].constant is None
            ):
                merged[-1] = Piece(text=merged[-1].text + piece.text)
            else:
                merged.append(piece)
        pieces = merged
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            index += 1
            if not piece.dynamic:
                if piece.constant is not None and not {"'", "%", "?"} & set(piece.text):
                    # Keep ``FROM " + TABLE + "`` naming its constant.
                    out.append(("field", "{" + self.ctx.source_of(piece.constant) + "}"))
                else:
                    out.append(("lit", piece.text))
                self.before += piece.text
                continue
            if not piece.exact:
                raise NoFix
            if piece.safe == ESCAPED and sql_state(self.before) != "string":
                raise NoFix  # escaped for quotes, but not in quotes
            if piece.safe:
                out.append(("field", self.field(piece, '"')))
                self.before += "\0"
                continue
            state = sql_state(self.before)
            if state == "comment":
                raise NoFix  # a placeholder in a comment is no placeholder
            if state == "string":
                # Pull the quoted literal into the parameter: '%{x}%' -> %s with "%x%".
                if not out or out[-1][0] != "lit" or "'" not in out[-1][1]:
                    raise NoFix
                last = out.pop()[1]
                cut = last.rindex("'")
                if cut > 0 and last[cut - 1] == "'":
                    raise NoFix
                prefix = last[cut + 1 :]
                if last[:cut]:
                    out.append(("lit", last[:cut]))
                group: list[Piece] = [piece]
                suffix: str | None = None
                rest = ""
                while index < len(pieces):
                    following = pieces[index]
                    index += 1
                    if following.dynamic:
                        if not following.exact:
                            raise NoFix
                        group.append(following)
                        continue
                    if "'" in following.text:
                        cut = following.text.index("'")
                        if following.text[cut + 1 : cut + 2] == "'":
                            raise NoFix
                        suffix = following.text[:cut]
                        rest = following.text[cut + 1 :]
                        break
                    group.append(following)
                if suffix is None:
                    raise NoFix
                self.before = self.before[: len(self.before) - len(prefix) - 1] + "\0" + rest
                self.names.append("")
                self.params.append(self.quoted_param(prefix, group, suffix))
                self.positions.append(self.count_existing(out))
                out.append(("mark", self.placeholder(group[0].expr)))
                if rest:
                    out.append(("lit", rest))
                continue
            if LIST_BEFORE.search(self.before) or not (
                VALUE_BEFORE.search(self.before) or VALUES_OPEN.search(self.before)
            ):
                # Identifiers and clauses stay as they are (PRD102 reports them).
                out.append(("field", self.field(piece, '"')))
                self.before += "\0"
                continue
            if self.before.endswith("\0") or index < len(pieces) and pieces[index].dynamic:
                # Two values side by side (``= " + q + name + q``): one of them may be
                # the quoting, and which is the value is unknown.
                raise NoFix
            self.unquoted = True
            self.names.append("")
            self.params.append(
                self.source(piece) if not piece.spec else 'f"' + self.field(piece, '"') + '"'
            )
            self.positions.append(self.count_existing(out))
            out.append(("mark", self.placeholder(piece.expr)))
            self.before += "\0"
        return out

    def count_existing(self, out: list[tuple[str, str]]) -> int:
        text = "".join(t for kind, t in out if kind == "lit")
        marker = {"qmark": "?", "format": "%s"}.get(self.style)
        return text.count(marker) if marker else 0

    def quoted_param(self, prefix: str, group: list[Piece], suffix: str) -> str:
        """The bound value, with exactly the text the SQL literal had: a value bound as
        itself would turn ``None`` into NULL and ``True`` into 1."""
        if not prefix and not suffix and len(group) == 1 and not group[0].spec:
            only = group[0]
            text = self.source(only)
            if only.is_str:
                return text  # concatenated with ``+``: already a str
            return 'f"{' + text + '}"' if only.formatted else f"str({text})"
        parts = [_escape(prefix.replace("''", "'"), '"')]
        for piece in group:
            if piece.dynamic:
                parts.append(self.field(piece, '"'))
            else:
                parts.append(_escape(piece.text.replace("''", "'"), '"'))
        parts.append(_escape(suffix.replace("''", "'"), '"'))
        return 'f"' + "".join(parts) + '"'


def _escape(text: str, quote: str, braces: bool = True) -> str:
    text = (
        text.replace("\\", "\\\\")
        .replace(quote, "\\" + quote)
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return text.replace("{", "{{").replace("}", "}}") if braces else text


def string_source(parts: list[tuple[str, str]], escape_percent: bool, multiline: bool) -> str:
    """A Python string literal (an f-string when values stay spliced in)."""
    is_f = any(kind == "field" for kind, _ in parts)
    text_parts: list[str] = []
    for kind, text in parts:
        if kind == "field":
            text_parts.append(text)
            continue
        if kind == "mark":  # a placeholder the fix added
            text_parts.append(text)
            continue
        if escape_percent and kind == "lit":
            text = text.replace("%", "%%")
        if multiline:
            text = text.replace("\\", "\\\\")
            text = text.replace("{", "{{").replace("}", "}}") if is_f else text
        else:
            text = _escape(text, '"', braces=is_f)
        text_parts.append(text)
    body = "".join(text_parts)
    quote = '"""' if multiline else '"'
    return ("f" if is_f else "") + quote + body + quote


def _byte_offset(ctx: Context, base: ast.AST, node: ast.AST, end: bool = False) -> int:
    line: int = (node.end_lineno if end else node.lineno) or 0  # type: ignore[attr-defined]
    col: int = node.end_col_offset if end else node.col_offset  # type: ignore[attr-defined]
    start_line: int = base.lineno  # type: ignore[attr-defined]
    offset = 0
    base_col: int = base.col_offset  # type: ignore[attr-defined]
    for number in range(start_line, line):
        width = len(ctx.lines[number - 1].encode("utf-8"))
        offset += width - (base_col if number == start_line else 0) + 1
    return offset + col - (base_col if line == start_line else 0)


def splice(ctx: Context, base: ast.AST, edits: list[tuple[ast.AST, str, str]]) -> str:
    """``base``'s source with each (node, mode, text) applied: mode ``replace`` swaps the
    node's text, ``after`` inserts text after it."""
    data = ctx.source_of(base).encode("utf-8")
    changes: list[tuple[int, int, bytes]] = []
    for node, mode, text in edits:
        stop = _byte_offset(ctx, base, node, end=True)
        start = _byte_offset(ctx, base, node) if mode == "replace" else stop
        changes.append((start, stop, text.encode("utf-8")))
    for start, stop, inserted in sorted(changes, reverse=True):
        data = data[:start] + inserted + data[stop:]
    return data.decode("utf-8")


def _stable(ctx: Context, flow: Flow, expr: str, first_line: int, sink_line: int) -> bool:
    """A param moved from a build statement to the sink must mean the same there."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Call, ast.Await, ast.NamedExpr, ast.Yield)) and not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str"
        ):
            return False
    scope = (
        ctx.scope_of(flow.function)
        if isinstance(flow.function, FUNCTION_NODES)
        else ctx.module_scope
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            for binding in scope.bindings.get(node.id, []):
                line = getattr(binding.node, "lineno", 0)
                if first_line <= line <= sink_line and binding.kind != "param":
                    return False
    return True


@dataclass(frozen=True)
class StatementEdit:
    """A statement that built the SQL variable, rewritten to build the template instead."""

    line: int
    col: int  # 0-based characters
    statement: str  # its new source


@dataclass(frozen=True)
class ParametrizePayload(FixPayload):
    replacement: str  # the new sink call's source, SQL template and parameters
    statements: tuple[StatementEdit, ...] = ()
    imported: tuple[str, str] | None = None  # (module, name) the replacement needs


def plan_fix(
    sink: Sink, pieces: list[Piece], flow: Flow, ctx: Context
) -> tuple[ParametrizePayload, bool] | None:
    """The fix and whether it is unsafe, or None when no exact fix exists."""
    try:
        return _plan(sink, pieces, flow, ctx)
    except NoFix:
        return None


def _plan(
    sink: Sink, pieces: list[Piece], flow: Flow, ctx: Context
) -> tuple[ParametrizePayload, bool] | None:
    if sink.style is None:
        return None
    call = sink.call
    sql = sink.sql[0]
    parent = ctx.parent
    if isinstance(parent, ast.Attribute) and parent.attr == "bindparams":
        return None
    existing: ast.expr | None = None
    extra_args = 0
    if sink.style == "dollar":
        extra_args = len(call.args) - 1
        if any(isinstance(a, ast.Starred) for a in call.args) or call.keywords:
            return None
    elif sink.style == "clause":
        if len(call.args) > 1 or call.keywords or not _text_is_free(ctx):
            return None
    elif (
        sink.style in ("named", "values", "keywords", "pyformat", "spark-args", "qmark-params")
        or isinstance(call.func, ast.Name)
        and call.func.id == "text"
    ):
        if (
            len(call.args) > 1
            or call.keywords
            and sink.style != "values"
            or any(k.arg in ("values", "params", "parameters") for k in call.keywords)
        ):
            return None
    elif "read_sql" in sink.label:
        existing = next((k.value for k in call.keywords if k.arg == "params"), None)
    else:
        existing = passed(call, 1, ("params", "parameters", "args", "vars"))
        if len(call.args) > 2:
            return None
    escape = sink.style in ("format", "pyformat") and existing is None
    literal_text = "".join(p.text for p in pieces if not p.dynamic)
    if sink.style != "clause" and not is_dml(
        "".join(p.text if not p.dynamic else "\0" for p in pieces)
    ):
        return None
    if sink.style == "dollar":
        numbers = [int(n) for n in re.findall(r"\$(\d+)", literal_text)]
        first = max([extra_args, *numbers]) + 1
    else:
        first = 1
    if sink.style == "format" and "%(" in literal_text and existing is not None:
        return None
    renderer = Renderer(ctx, sink.style, escape, first, taken=set(NAMED_BIND.findall(literal_text)))
    is_text = (
        isinstance(call.func, ast.Name)
        and call.func.id == "text"
        or (isinstance(call.func, ast.Attribute) and call.func.attr == "text")
    )

    statement_edits: list[StatementEdit] = []
    if isinstance(sql, ast.Name):
        contributions, defined, _ = flow.definitions(sql.id, flow.at)
        at = flow.at
        if not defined or at is None or not all(flow.in_block_of(s, at) for s, _ in contributions):
            return None
        sink_line = call.lineno
        first_line = contributions[0][0].lineno
        if not _only_used_here(ctx, flow, sql.id, [c[0] for c in contributions], call):
            return None
        for stmt, value in contributions:
            if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or has_comment(
                ctx, value
            ):
                return None
            own = flow.pieces(value, stmt, 0, stmt)
            count = len(renderer.params)
            parts = renderer.render(own)
            multiline = "\n" in ctx.source_of(value) and any(
                "\n" in t for k, t in parts if k == "lit"
            )
            new_value = string_source(parts, escape, multiline)
            for param in renderer.params[count:]:
                if not _stable(ctx, flow, param, first_line, sink_line):
                    return None
            statement_edits.append(
                StatementEdit(
                    stmt.lineno,
                    ctx.char_col(stmt.lineno, stmt.col_offset),
                    splice(ctx, stmt, [(value, "replace", new_value)]),
                )
            )
        if not renderer.params:
            return None
        new_sql = ctx.source_of(sql)
    else:
        if any(p.dynamic and p.origin is not None and not p.safe for p in pieces) or has_comment(
            ctx, sql
        ):
            return None
        parts = renderer.render(pieces)
        if not renderer.params:
            return None
        multiline = "\n" in ctx.source_of(sql) and any("\n" in t for k, t in parts if k == "lit")
        new_sql = string_source(parts, escape, multiline)

    edits: list[tuple[ast.AST, str, str]] = (
        [(sql, "replace", new_sql)] if new_sql != ctx.source_of(sql) else []
    )
    params = renderer.params
    names = renderer.names
    mapping = "{" + ", ".join(f'"{n}": {p}' for n, p in zip(names, params, strict=False)) + "}"
    if sink.style == "clause":
        bind = ", ".join(f"{n}={p}" for n, p in zip(names, params, strict=False))
        edits = [(sql, "replace", f"text({new_sql}).bindparams({bind})")]
        replacement = splice(ctx, call, edits)
        payload = ParametrizePayload(replacement, tuple(statement_edits), ("sqlalchemy", "text"))
        return _checked(payload, renderer, sink)
    if is_text:
        bind = ", ".join(f"{n}={p}" for n, p in zip(names, params, strict=False))
        replacement = splice(ctx, call, edits) + f".bindparams({bind})"
        return _checked(ParametrizePayload(replacement, tuple(statement_edits)), renderer, sink)
    if sink.style == "values":  # the ``databases`` package
        edits.append((sql, "after", f", values={mapping}"))
    elif sink.style in ("named", "pyformat"):  # DB-API: a mapping after the SQL
        edits.append((sql, "after", f", {mapping}"))
    elif sink.style == "spark-args":
        edits.append((sql, "after", f", args={mapping}"))
    elif sink.style == "qmark-params":
        edits.append((sql, "after", ", params=[" + ", ".join(params) + "]"))
    elif sink.style == "keywords":  # pg8000.native ``run``
        edits.append(
            (sql, "after", "".join(f", {n}={p}" for n, p in zip(names, params, strict=False)))
        )
    elif sink.style == "dollar":
        edits.append((call.args[-1], "after", "".join(f", {p}" for p in params)))
    elif existing is None:
        tuple_text = "(" + ", ".join(params) + ("," if len(params) == 1 else "") + ")"
        keyword = "params=" if "read_sql" in sink.label else ""
        anchor: ast.AST = call.args[-1] if "read_sql" in sink.label and call.args else sql
        if "read_sql" in sink.label and call.keywords:
            anchor = call.keywords[-1].value
        edits.append((anchor, "after", f", {keyword}{tuple_text}"))
    elif isinstance(existing, (ast.List, ast.Tuple)) and not any(
        isinstance(e, ast.Starred) for e in existing.elts
    ):
        merged = [ctx.source_of(e) for e in existing.elts]
        for offset, (position, param) in enumerate(zip(renderer.positions, params, strict=False)):
            merged.insert(position + offset, param)
        if isinstance(existing, ast.List):
            text = "[" + ", ".join(merged) + "]"
        else:
            text = "(" + ", ".join(merged) + ("," if len(merged) == 1 else "") + ")"
        edits.append((existing, "replace", text))
    else:
        total = renderer.count_existing([("lit", literal_text)])
        if any(position != total for position in renderer.positions):
            return None
        edits.append((existing, "replace", f"(*{ctx.source_of(existing)}, {', '.join(params)})"))
    replacement = splice(ctx, call, edits)
    return _checked(ParametrizePayload(replacement, tuple(statement_edits)), renderer, sink)


def _checked(
    payload: ParametrizePayload, renderer: Renderer, sink: Sink
) -> tuple[ParametrizePayload, bool] | None:
    try:
        ast.parse("(" + payload.replacement + ")", mode="eval")
        for edit in payload.statements:
            ast.parse(edit.statement.strip())
    except SyntaxError:
        return None
    return payload, renderer.unquoted or sink.binds_may_differ


def _text_is_free(ctx: Context) -> bool:
    """``text`` names SQLAlchemy's ``text`` here, or nothing the fix would shadow."""
    for function in ctx.enclosing_functions():
        if "text" in ctx.scope_of(function).bindings:
            return False
    imported = ctx.module_scope.imports.get("text")
    if imported is not None:
        return imported in (
            "sqlalchemy.text",
            "sqlalchemy.sql.text",
            "sqlalchemy.sql.expression.text",
        )
    return "text" not in ctx.module_scope.bindings


def is_dml(template: str) -> bool:
    """Every statement in the SQL (values as NUL) starts with a DML keyword."""
    statements = [s.strip().lstrip("(").strip() for s in sql_code(template).split(";")]
    words = [re.match(r"[A-Za-z]+", s) for s in statements if s]
    return bool(words) and all(w is not None and w.group().upper() in DML for w in words)


def has_comment(ctx: Context, node: ast.AST) -> bool:
    """A Python comment inside the expression: rewriting its text would drop it."""
    text = ctx.source_of(node)
    if "#" not in text:
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("(" + text + "\n)").readline))
    except (tokenize.TokenError, SyntaxError):
        return True
    return any(t.type == tokenize.COMMENT for t in tokens)


def _only_used_here(
    ctx: Context, flow: Flow, name: str, builders: list[ast.stmt], call: ast.Call
) -> bool:
    """The SQL variable is read only by its own ``+=`` and the sink: changing its text
    changes nothing else."""
    scope_node = flow.function if flow.function is not None else ctx.tree
    allowed = {id(n) for stmt in builders for n in ast.walk(stmt)} | {id(n) for n in ast.walk(call)}
    for node in ast.walk(scope_node):
        if isinstance(node, ast.Name) and node.id == name and id(node) not in allowed:
            return False
    return True
