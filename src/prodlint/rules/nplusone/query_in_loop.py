"""PRD201: a database query run once per loop iteration."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.constants import str_value
from prodlint.analysis.context import COMPREHENSION_NODES, Context
from prodlint.analysis.flow import Use, assignment_to, flow_at
from prodlint.analysis.imports import last_name
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.nplusone.orm import (
    DJANGO_QUERY_METHODS,
    EVALUATING_CALLS,
    LAZY_METHODS,
    PREFETCH_SERVED,
    SESSION_QUERY_METHODS,
    SQLA_QUERY_METHODS,
    Link,
    binding_loop,
    chain,
    covers,
    django_manager_at,
    is_model_expr,
    is_session,
    loop_iterable,
    loop_source,
    model_index,
    name_flow,
    nplusone_applies,
    runs_once,
    short,
    unbounded_loop,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# Method names worth a look at all: the cheap first test on every call in every file.
CANDIDATE_METHODS = frozenset(
    DJANGO_QUERY_METHODS
    | LAZY_METHODS
    | SQLA_QUERY_METHODS
    | SESSION_QUERY_METHODS
    | {
        "query",
        "execute",
        "save",
        "refresh_from_db",
        "prefetch_related_objects",
        "values",
        "values_list",
        "iterator",
    }
)
# Methods of a queryset or query that run it.
RUN_METHODS = DJANGO_QUERY_METHODS | SQLA_QUERY_METHODS
CURSOR_NAMES = frozenset({"cursor", "cur", "curs", "conn", "connection", "db_conn", "cnx", "con"})


def _evaluated(ctx: Context, node: ast.expr, up: int = 1) -> bool:
    """Whether the lazy queryset ``node`` (being visited, or its ``up - 1``-th ancestor) is
    run where it stands."""
    if up > len(ctx.ancestors) or up > 4:
        return False
    parent = ctx.ancestors[-up]
    if isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is node:
        return True
    if isinstance(parent, ast.comprehension) and parent.iter is node:
        return True
    if isinstance(parent, ast.Call) and node in parent.args:
        return isinstance(parent.func, ast.Name) and parent.func.id in EVALUATING_CALLS
    if isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node:
        return True
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return True
    if isinstance(parent, ast.Subscript) and parent.value is node:
        # qs[0] runs a query; qs[:10] stays lazy until what holds the slice runs it
        return isinstance(parent.slice, ast.Constant) or (
            isinstance(parent.slice, ast.Slice) and _evaluated(ctx, parent, up + 1)
        )
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return _name_evaluated(ctx, parent.targets[0].id, parent)
    return False


def _name_evaluated(ctx: Context, name: str, assignment: ast.Assign) -> bool:
    """``rows = M.objects.filter(...)`` in a loop body, then ``for r in rows`` / ``list(rows)``
    / ``if rows`` / ``rows[0]`` / ``rows.first()`` where that value (or what narrowing it
    with ``rows = rows.filter(...)`` made of it) reaches in the loop."""
    loop = ctx.enclosing_loop(assignment)
    if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
        return False
    target = assignment.targets[0]
    assert isinstance(target, ast.Name)
    found = name_flow(ctx, target)
    if found is None:
        return False
    flow = found[0]
    pending: list[ast.stmt] = [assignment]
    done: set[int] = set()
    while pending:
        statement = pending.pop()
        if id(statement) in done:
            continue
        done.add(id(statement))
        for use in flow.uses_reached_from(statement, name):
            if not flow.contains(loop, use.statement):
                continue
            if _evaluates(use):
                return True
            if (
                use.kind == "method"
                and use.attr in LAZY_METHODS
                and assignment_to(use.statement, name)[0] == "assign"
            ):
                pending.append(use.statement)  # ``rows = rows.filter(...)``: still lazy
    return False


def _evaluates(use: Use) -> bool:
    """The reference runs the lazy queryset it holds."""
    name, parent = use.name, use.parent
    if use.kind == "iterated":
        return True
    if use.kind == "argument" and use.call is not None and parent is use.call:
        func = use.call.func
        return isinstance(func, ast.Name) and func.id in EVALUATING_CALLS
    if use.kind == "test" and isinstance(use.statement, (ast.If, ast.While)):
        return use.statement.test is name
    if isinstance(parent, ast.Subscript) and parent.value is name:
        return isinstance(parent.slice, ast.Constant)
    return use.kind in ("method", "attribute") and use.attr in RUN_METHODS


def _is_name(expr: ast.expr, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _outermost(ctx: Context, node: ast.Call) -> bool:
    """True unless the call's result is itself the receiver of another method call (which
    is then the one to judge: ``M.objects.filter(...).first()``)."""
    parent = ctx.parent
    if isinstance(parent, ast.Attribute) and parent.value is node:
        grand = ctx.ancestors[-2] if len(ctx.ancestors) > 1 else None
        return not (isinstance(grand, ast.Call) and grand.func is parent)
    return True


def _runs_query(ctx: Context, node: ast.Call, links: list[Link], start: int) -> bool:
    """Whether the chain from link ``start`` on (the first call after the manager, session,
    or related manager) runs SQL at ``node``."""
    called = [link for link in links[start:] if link.call is not None]
    if not called:
        return False
    last = called[-1].name
    if last in DJANGO_QUERY_METHODS or last in SQLA_QUERY_METHODS - {"all"}:
        return True
    if last in ("values", "values_list", "iterator", "all") or last in LAZY_METHODS:
        if last == "all" and links[0].name == "query" and links[0].call is None:
            return True  # Flask-SQLAlchemy Model.query...all()
        if last == "all" and any(link.name == "query" and link.call is not None for link in links):
            return True  # session.query(...).all()
        return _evaluated(ctx, node)
    return False


def _sql_varies_with_loop(ctx: Context, call: ast.Call, sql: ast.expr) -> bool:
    """The SQL text is built from what the loop iterates over (``for sql, params in
    statements``, ``stmt = template % args``): each pass runs another statement. N+1 is
    one statement run again with other parameters."""
    loop = ctx.enclosing_loop(call)
    if loop is None:
        return False
    generators = loop.generators if isinstance(loop, COMPREHENSION_NODES) else [loop]
    targets = {
        name.id
        for generator in generators
        for name in ast.walk(getattr(generator, "target", None) or ast.Pass())
        if isinstance(name, ast.Name)
    }
    if not targets:
        return False
    names = [name for name in ast.walk(sql) if isinstance(name, ast.Name)]
    used = {name.id for name in names}
    found = flow_at(ctx)
    if found is not None:
        flow, at = found
        # One step back through the assignments that reach the call (``number, index =
        # row[:2]``, ``stmt = t % args``).
        for name in {name.id for name in names}:
            for binding in flow.definitions_reaching(at, name).definitions:
                if isinstance(binding, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and (
                    binding.value is not None
                ):
                    used.update(
                        inner.id for inner in ast.walk(binding.value) if isinstance(inner, ast.Name)
                    )
    return bool(used & targets)


# Related-manager calls that write rather than read.
WRITES = frozenset(
    {
        "create",
        "get_or_create",
        "update_or_create",
        "update",
        "delete",
        "add",
        "remove",
        "set",
        "clear",
        "bulk_create",
        "bulk_update",
        "acreate",
        "aupdate",
        "adelete",
    }
)
# Tables of the database's own catalog: a loop over the schema's indexes or columns reading
# them runs as many queries as the schema has objects, not as the data has rows.
CATALOG_MARKERS = (
    "sqlite_master",
    "sqlite_schema",
    "information_schema",
    "pg_catalog",
    "pg_class",
    "pg_index",
    "pg_attribute",
    "pragma ",
    "all_tab_",
    "user_tab_",
    "user_ind",
)


def _many_parameters(ctx: Context, params: ast.expr) -> bool:
    """A list of parameter sets: a comprehension or a list of dicts, or a name the function
    assigns one to (a list of plain values is one DB-API parameter set)."""
    if isinstance(params, ast.Name):
        found = name_flow(ctx, params)
        bound = found[0].value_reaching(params) if found is not None else None
        params = bound if bound is not None else params
    if isinstance(params, ast.List):
        return bool(params.elts) and all(isinstance(e, ast.Dict) for e in params.elts)
    return isinstance(params, ast.ListComp)


def _reads_catalog(ctx: Context, sql: ast.expr) -> bool:
    text = str_value(sql, ctx)
    return text is not None and any(marker in text.lower() for marker in CATALOG_MARKERS)


# Writes whose failure a per-row ``try`` isolates (a batch would fail or succeed as a whole).
ISOLATED_WRITES = frozenset(
    {
        "save",
        "create",
        "get_or_create",
        "update_or_create",
        "delete",
        "update",
        "asave",
        "acreate",
        "adelete",
    }
)
BROAD_EXCEPTIONS = frozenset(
    {
        "Exception",
        "BaseException",
        "DatabaseError",
        "IntegrityError",
        "Error",
        "ValidationError",
        "SQLAlchemyError",
    }
)


def _isolates_failures(ctx: Context, loop: ast.AST) -> bool:
    """The loop writes each row inside a ``try`` whose broad handler carries on with the
    next row (an importer that reports bad records): the per-row statement is the point,
    since ``bulk_create`` would reject the whole batch for one bad row."""

    def scan() -> bool:
        for node in ast.walk(loop):
            if not isinstance(node, ast.Try) or not any(
                _carries_on(handler) for handler in node.handlers
            ):
                continue
            for inner in (n for statement in node.body for n in ast.walk(statement)):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in ISOLATED_WRITES
                ):
                    return True
        return False

    return ctx.memo(f"nplusone.isolated.{id(loop)}", scan)


def _carries_on(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = (
        [last_name(e) for e in (caught.elts if isinstance(caught, ast.Tuple) else [caught])]
        if caught
        else ["BaseException"]
    )
    if not any(name in BROAD_EXCEPTIONS for name in names):
        return False
    return not any(isinstance(statement, ast.Raise) for statement in handler.body)


class LoopRewrite(FixPayload):
    """The loop rewrites PRD201 knows; the fix reads which one through the subclass."""

    __slots__ = ()


@dataclass(frozen=True)
class BulkCreate(LoopRewrite):
    """``for x in xs: M.objects.create(...)`` -> one ``bulk_create`` of all rows."""

    model: str  # source of the model class the rows are built with
    manager: str  # source of ``M.objects``
    indent: int  # the loop's column, for the width the new call may take


@dataclass(frozen=True)
class InBulk(LoopRewrite):
    """``for pk in ids: obj = M.objects.get(pk=pk)`` -> a loop over one ``in_bulk``."""

    manager: str
    field: str  # ``pk`` or ``id``
    obj: str  # the name each object was bound to


class QueryInLoop(Rule):
    code = "PRD201"
    name = "QueryInLoop"
    summary = "A database query run on every iteration of a loop"
    message = (
        "`{call}` runs a database query on every iteration of the loop on line {loop_line}; "
        "{remedy}"
    )
    what_it_does = """
Flags a call that hits the database inside the body of a `for` / `async for` / `while` loop
or a comprehension: Django `Model.objects.get/filter/create/count/exists/...` (a lazy
queryset counts when it is evaluated in the loop), `instance.save()` / `.delete()` on a row
of a query, related-manager calls (`obj.items.filter(...)`, or `.all()` / `.count()` when
the rows are not from a query PRD202 can fix), `refresh_from_db()`,
`prefetch_related_objects([obj], ...)`; SQLAlchemy `session.query(...)...`,
`session.get/execute/scalars/scalar`, Flask-SQLAlchemy `Model.query...`; DB-API
`cursor.execute(...)`.

Not flagged: the loop header (`for b in Book.objects.all()` runs once), loops over a
literal collection, `range(<constant>)`, a module constant of literal data
(`for old, new in RENAMES.items()`: one set-wide statement per entry) or the schema's
models (`apps.get_models()`, `Model.__subclasses__()`: one query per table), SQL that
reads the database's catalog (`sqlite_master`, `information_schema`, `pg_catalog`), an
import loop that writes each row in a `try` whose broad handler carries on (one bad
record must not fail the batch), a query followed by `break` / `return` / `raise` in its
block (it runs once), lazy querysets handed on unevaluated (`Subquery`,
`Prefetch`, `filter(x__in=qs)`), `bulk_create` / `bulk_update` / `in_bulk`, `.get()` on
anything but a manager, `.save()` on anything not known to be a model row, test
files (`test-paths`), whose loops set up data rather than serve requests, and data
migrations (`migration-paths`), one-off code run offline.
"""
    why_bad = """
One round trip per row: a loop over 1,000 ids runs 1,000 queries, each paying the network
and parsing cost. It passes review and tests with a handful of rows and dominates response
time in production.
"""
    example = """
def import_rows(Tag, rows):
    for row in rows:
        Tag.objects.create(name=row["name"], slug=row["slug"])
"""
    use_instead = """
def import_rows(Tag, rows):
    Tag.objects.bulk_create([Tag(name=row["name"], slug=row["slug"]) for row in rows])
"""
    fixed_example = """
def import_rows(Tag, rows):
    Tag.objects.bulk_create([Tag(name=row["name"], slug=row["slug"]) for row in rows])
"""
    fix_safety_note = """
The fixes are unsafe because they change what runs besides the SQL:
- a loop whose whole body is `M.objects.create(**fields)` becomes
  `M.objects.bulk_create([M(**fields) for ... in ...])`: `save()` is not called, the
  `pre_save` / `post_save` signals are not sent, and on some databases the objects get
  no primary key back;
- a loop starting `obj = M.objects.get(pk=x)` over a name `ids` becomes
  `for x, obj in M.objects.in_bulk(ids).items():`: missing ids are skipped instead of
  raising `DoesNotExist`, duplicates collapse and the order is the database's.
Other findings have no automatic fix.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.UNSAFE
    fix_node_types = ("For",)
    # The callee test ``check`` starts with.
    call_names = CANDIDATE_METHODS | {"prefetch_related_objects"}

    def applies_to(self, ctx: Context) -> bool:
        # The file test ``check`` starts with: an ORM word, and no test or migration.
        return nplusone_applies(ctx)

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        func = node.func
        if type(func) is ast.Attribute:
            if func.attr not in CANDIDATE_METHODS:
                return
        elif type(func) is ast.Name:
            if func.id != "prefetch_related_objects":
                return
        else:
            return
        if not nplusone_applies(ctx) or not _outermost(ctx, node):
            return
        loop = unbounded_loop(ctx, node)
        if loop is None:
            return
        found = self._query(node, ctx)
        if found is None or runs_once(ctx, loop) or _isolates_failures(ctx, loop):
            return
        what, remedy = found
        plan = self._fix_plan(node, loop, ctx)
        payload = None
        if plan is not None:
            payload, remedy = plan
        self.report(
            ctx,
            node if payload is None else loop,
            fix=FixSafety.NONE if payload is None else FixSafety.UNSAFE,
            payload=payload,
            call=what,
            loop_line=getattr(loop, "lineno", 0),
            remedy=remedy,
        )

    def _query(self, node: ast.Call, ctx: Context) -> tuple[str, str] | None:
        """(what runs the query, how to avoid it), or None when this is not a query."""
        func = node.func
        if isinstance(func, ast.Name):
            if node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
                return (
                    "prefetch_related_objects([...])",
                    "prefetch for all rows at once, before the loop",
                )
            return None
        assert isinstance(func, ast.Attribute)
        index = model_index(ctx)
        base, links = chain(node)
        manager = django_manager_at(base, links, index)
        if manager is not None:
            if not _runs_query(ctx, node, links, manager + 1):
                return None
            if links[-1].name in ("bulk_create", "bulk_update", "in_bulk"):
                return None
            return short(
                ctx, node
            ), "query once before the loop (`filter(pk__in=...)`, `in_bulk`) or batch the writes"
        if func.attr == "refresh_from_db":
            return short(ctx, node), "load the fields with the query that fetched the rows"
        if func.attr in ("save", "delete") and not node.args and isinstance(func.value, ast.Name):
            if self._is_row(ctx, func.value.id):
                return short(
                    ctx, node
                ), "batch with `bulk_update` / `bulk_create` / a queryset `update()` or `delete()`"
            return None
        if func.attr == "execute" and isinstance(func.value, (ast.Name, ast.Attribute)):
            receiver = (last_name(func.value) or "").lower()
            if receiver in CURSOR_NAMES or receiver.endswith(("cursor", "_cur")):
                if node.args and _sql_varies_with_loop(ctx, node, node.args[0]):
                    # A different statement each time: a script, not the same query N times.
                    return None
                if node.args and _reads_catalog(ctx, node.args[0]):
                    # One query per index/table of the schema: bounded like get_models().
                    return None
                if len(node.args) > 1 and _many_parameters(ctx, node.args[1]):
                    # SQLAlchemy's execute(stmt, [params, ...]): one executemany per batch
                    # (its unit of work runs one per table and column set).
                    return None
                return short(ctx, node), "use one query with `IN (...)`, or `executemany`"
        found = self._sqlalchemy(node, base, links, ctx)
        if found is not None:
            return found
        return self._related_manager(node, base, links, ctx)

    def _sqlalchemy(
        self, node: ast.Call, base: ast.expr, links: list[Link], ctx: Context
    ) -> tuple[str, str] | None:
        remedy = "load all rows with one `select(...).where(Model.id.in_(...))` before the loop"
        if not links:
            return None
        session_at = 0
        if is_session(base):
            session_at = 0
        elif links[0].name == "session" and links[0].call is None:
            session_at = 1
        elif (
            links[0].name == "query"
            and links[0].call is None
            and is_model_expr(base, model_index(ctx))
        ):
            # Flask-SQLAlchemy ``Model.query...``
            return (short(ctx, node), remedy) if _runs_query(ctx, node, links, 1) else None
        else:
            return None
        if session_at >= len(links) or links[session_at].call is None:
            return None
        first = links[session_at].name
        if first in SESSION_QUERY_METHODS:
            return short(ctx, node), remedy
        if first == "query" and _runs_query(ctx, node, links, session_at + 1):
            return short(ctx, node), remedy
        return None

    def _related_manager(
        self, node: ast.Call, base: ast.expr, links: list[Link], ctx: Context
    ) -> tuple[str, str] | None:
        """``row.rel.filter(...)`` where ``rel`` is a many-relation of the row's model."""
        if not isinstance(base, ast.Name) or len(links) < 2 or links[0].call is not None:
            return None
        rel = links[0].name
        if links[1].call is None:
            return None
        index = model_index(ctx)
        source = loop_source(ctx, base.id) if binding_loop(ctx, base.id) is not None else None
        relation = (
            index.relation(source.model, rel) if source is not None and source.model else None
        )
        if relation is None:
            if not rel.endswith("_set") and not any(
                (r := info.relations.get(rel)) is not None and r.many
                for info in index.models.values()
            ):
                return None
        elif not relation.many or relation.kind.startswith("sa_"):
            return None
        if not _runs_query(ctx, node, links, 1):
            return None
        served = len(links) == 2 and links[1].name in PREFETCH_SERVED
        loop = binding_loop(ctx, base.id)
        if served and source is None and loop is not None:
            # Rows of something this cannot follow (``teams_of(event).prefetch_related(
            # "limit_tracks")``): the prefetch written on the loop's iterable still serves.
            from prodlint.rules.nplusone.returns import written_eager

            iterable = loop_iterable(loop, base.id)
            if iterable is not None and covers(written_eager(ctx, iterable), rel):
                return None
        if served and source is not None:
            if covers(source.eager, rel):
                return None
            if source.model is not None and (
                relation is not None or not index.is_declared(source.model)
            ):
                return None  # PRD202 (or PRD203) reports it, with prefetch_related as the remedy
        if links[-1].name in WRITES:
            return short(
                ctx, node
            ), "batch the writes (`bulk_create` / `bulk_update` / one queryset `update()`)"
        return short(
            ctx, node
        ), f'prefetch the relation (`prefetch_related("{rel}")`) and filter in Python'

    def _is_row(self, ctx: Context, name: str) -> bool:
        """The name holds a model instance: a row of a query the loop runs over, or the
        result of ``Model(...)`` / ``Model.objects.get(...)`` for a model the project declares."""
        if binding_loop(ctx, name) is not None and loop_source(ctx, name) is not None:
            return True
        found = flow_at(ctx)
        if found is None or isinstance(found[0].owner, ast.Module):
            return False
        flow, at = found
        index = model_index(ctx)
        for binding in flow.definitions_reaching(at, name).definitions:
            kind, value = assignment_to(binding, name)
            if kind != "assign" or not isinstance(value, ast.Call):
                continue
            if isinstance(value.func, ast.Name) and index.is_declared(value.func.id):
                return True
            base, links = chain(value)
            manager = django_manager_at(base, links, index)
            if manager is not None and links[-1].name in ("get", "create", "first", "last"):
                return True
        return False

    # --- fixes ------------------------------------------------------------------------

    def _fix_plan(
        self, node: ast.Call, loop: ast.AST, ctx: Context
    ) -> tuple[LoopRewrite, str] | None:
        """The loop's rewrite and the remedy the message then names, or None."""
        if not isinstance(loop, ast.For) or loop.orelse or isinstance(loop, COMPREHENSION_NODES):
            return None
        func = node.func
        if not isinstance(func, ast.Attribute):
            return None
        base, links = chain(node)
        index = model_index(ctx)
        manager = django_manager_at(base, links, index)
        if manager is None or manager + 2 != len(links):
            return None
        model_src = ctx.source_of(base if manager == 0 else links[manager - 1].node)
        manager_src = ctx.source_of(links[manager].node)
        body = loop.body
        if (
            func.attr == "create"
            and len(body) == 1
            and isinstance(body[0], ast.Expr)
            and body[0].value is node
            and not node.args
            and _no_await(node)
        ):
            return (
                BulkCreate(model_src, manager_src, loop.col_offset),
                f"create all rows with one `{manager_src}.bulk_create([...])`",
            )
        if (
            func.attr == "get"
            and isinstance(body[0], ast.Assign)
            and body[0].value is node
            and len(body[0].targets) == 1
            and isinstance(body[0].targets[0], ast.Name)
            and isinstance(loop.target, ast.Name)
            and isinstance(loop.iter, ast.Name)
            and not node.args
            and len(node.keywords) == 1
            and node.keywords[0].arg in ("pk", "id")
            and _is_name(node.keywords[0].value, loop.target.id)
        ):
            return (
                InBulk(manager_src, node.keywords[0].arg, body[0].targets[0].id),
                f"fetch them all with one `{manager_src}.in_bulk(...)`",
            )
        return None

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        if not isinstance(node, cst.For) or node.asynchronous is not None:
            return None
        plan = finding.payload_as(LoopRewrite)
        body = node.body
        if not isinstance(body, cst.IndentedBlock) or not body.body:
            return None
        first = body.body[0]
        if not isinstance(first, cst.SimpleStatementLine) or len(first.body) != 1:
            return None
        statement = first.body[0]
        if isinstance(plan, BulkCreate) and isinstance(statement, cst.Expr):
            call = statement.value
            if not isinstance(call, cst.Call):
                return None
            from prodlint.fixes.imports import LINE_LENGTH

            code = fixes.module.code_for_node
            instance = code(call.with_changes(func=cst.parse_expression(plan.model)))
            # The width fixes keep to (fixes/wrap.py): ruff's default, or the file's longest line.
            width = max([LINE_LENGTH, *map(len, fixes.module.code.splitlines())]) - plan.indent
            text = _bulk_create_text(
                f"{plan.manager}.bulk_create",
                instance,
                code(node.target),
                code(node.iter),
                width,
            )
            replacement = cst.parse_statement(text)
            return replacement.with_changes(
                leading_lines=[*node.leading_lines, *_comments_of(node)]
            )
        if isinstance(plan, InBulk) and isinstance(statement, cst.Assign):
            ids = node.iter
            args = [cst.Arg(ids)]
            if plan.field != "pk":
                args.append(
                    cst.Arg(
                        cst.SimpleString(f'"{plan.field}"'),
                        keyword=cst.Name("field_name"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                    )
                )
            in_bulk = cst.Call(func=cst.parse_expression(f"{plan.manager}.in_bulk"), args=args)
            items = cst.Call(func=cst.Attribute(value=in_bulk, attr=cst.Name("items")))
            target = cst.Tuple(
                elements=[cst.Element(node.target), cst.Element(cst.Name(plan.obj))],
                lpar=[],
                rpar=[],
            )
            rest = list(body.body[1:])
            if not rest:
                rest = [cst.SimpleStatementLine(body=[cst.Pass()])]
            # The comments about the dropped get() stay, above what follows it.
            kept = [*first.leading_lines, *_trailing_comment(first.trailing_whitespace)]
            head = rest[0]
            if isinstance(head, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                rest[0] = head.with_changes(leading_lines=[*kept, *head.leading_lines])
            return node.with_changes(target=target, iter=items, body=body.with_changes(body=rest))
        return None


def _bulk_create_text(bulk: str, instance: str, target: str, iterable: str, width: int) -> str:
    """``bulk([instance for target in iterable])`` on one line when it fits in ``width``,
    else wrapped the way black and ruff wrap a call (the instance keeps its own lines and
    the comments inside it)."""
    comprehension = f"[{instance} for {target} in {iterable}]"
    if "\n" not in comprehension:
        if len(bulk) + len(comprehension) + 2 <= width:
            return f"{bulk}({comprehension})\n"
        if len(comprehension) + 4 <= width:
            return f"{bulk}(\n    {comprehension}\n)\n"
    inner = instance.replace("\n", "\n        ")
    return f"{bulk}(\n    [\n        {inner}\n        for {target} in {iterable}\n    ]\n)\n"


def _trailing_comment(whitespace: cst.TrailingWhitespace) -> list[cst.EmptyLine]:
    import libcst as cst

    return [] if whitespace.comment is None else [cst.EmptyLine(comment=whitespace.comment)]


def _comments_of(loop: cst.For) -> list[cst.EmptyLine]:
    """The comments of a loop a fix replaces by one statement: on the ``for`` line, above
    and after its body statement, and at the end of the block."""
    import libcst as cst

    found: list[cst.EmptyLine] = []
    body = loop.body
    if isinstance(body, cst.IndentedBlock):
        found += _trailing_comment(body.header)
        for statement in body.body:
            if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                found += [line for line in statement.leading_lines if line.comment is not None]
            if isinstance(statement, cst.SimpleStatementLine):
                found += _trailing_comment(statement.trailing_whitespace)
        found += [line for line in body.footer if line.comment is not None]
    return [line.with_changes(indent=True) for line in found]


def _no_await(node: ast.AST) -> bool:
    return not any(
        isinstance(inner, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr))
        for inner in ast.walk(node)
    )
