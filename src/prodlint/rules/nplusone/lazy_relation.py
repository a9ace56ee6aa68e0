"""PRD202: a relation of each row loaded lazily inside the loop over the rows."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.analysis.models import Relation
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.nplusone.orm import (
    LAZY_METHODS,
    PREFETCH_SERVED,
    QuerySource,
    binding_loop,
    covers,
    eager_anchor,
    function_text,
    loop_source,
    model_index,
    nplusone_applies,
    prefetched_in_function,
    runs_once,
    short,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# Attributes of a model instance that are never relations: bail out before any analysis.
NOT_RELATIONS = frozenset(
    {
        "pk",
        "id",
        "save",
        "delete",
        "refresh_from_db",
        "full_clean",
        "clean",
        "objects",
        "DoesNotExist",
        "MultipleObjectsReturned",
        "get_absolute_url",
        "name",
        "title",
        "slug",
        "created_at",
        "updated_at",
        "email",
        "username",
        "is_active",
        "description",
        "text",
        "body",
    }
)


@dataclass(frozen=True)
class Access:
    """``row.rel`` read inside the loop over ``source``."""

    node: ast.Attribute
    loop: ast.AST
    source: QuerySource
    relation: Relation | None  # None: the model is unknown, the relation a guess
    many: bool
    path: str = ""  # the lookup that loads it ("analysis__pattern"); "" for the attribute
    model: str | None = None  # the model the relation is read on, when not the rows'


def relation_access(node: ast.AST, ctx: Context, guess: bool = False) -> Access | None:
    """The relation read at ``node`` when it loads lazily for every row of a query; with
    ``guess``, also attributes of models the index does not know (PRD203)."""
    if type(node) is not ast.Attribute:
        return None
    value = node.value
    attr = node.attr
    if attr in NOT_RELATIONS or attr.endswith("_id") or attr[:1] == "_":
        return None
    if type(node.ctx) is not ast.Load:
        return None
    if attr not in relation_names(ctx):
        if not guess:
            # No model has a relation of that name: the cheap test before any loop analysis.
            return None
        # A guess needs the relation used (row.rel.x, row.rel.all()); plain row.name reads
        # of unknown attributes are the bulk of all attributes and cannot be one.
        parent = ctx.ancestors[-1] if ctx.ancestors else None
        if (
            type(value) is not ast.Name
            or type(parent) is not ast.Attribute
            or parent.value is not node
        ):
            return None
    if type(value) is ast.Attribute:
        return _chained(node, value, ctx) if nplusone_applies(ctx) else None
    if type(value) is not ast.Name or not nplusone_applies(ctx):
        return None
    # PRD202 and PRD203 both ask about the same node; the first answer stands.
    return ctx.memo(f"nplusone.access.{id(node)}", lambda: _analyse(node, value, attr, ctx))


def deferred_read(
    node: ast.AST, ctx: Context
) -> tuple[ast.Attribute, str, str, QuerySource, str] | None:
    """``row.field`` (or ``row.rel.field``) that the query left out with ``only()`` /
    ``defer()``: Django loads it with one query per row. (read, model, field, query,
    lookup) when so."""
    if (
        type(node) is not ast.Attribute
        or type(node.ctx) is not ast.Load
        or node.attr in ("pk", "id")
    ):
        return None
    if node.attr not in deferrable_names(ctx):
        return None
    steps = [node.attr]
    inner: ast.expr = node.value
    while isinstance(inner, ast.Attribute) and len(steps) < 5:
        steps.append(inner.attr)
        inner = inner.value
    if not isinstance(inner, ast.Name):
        return None
    loop = binding_loop(ctx, inner.id)
    if loop is None or not _defers_here(ctx):
        return None
    source = loop_source(ctx, inner.id)
    if source is None or source.model is None or source.framework != "django":
        return None
    steps.reverse()
    index = model_index(ctx)
    model: str | None = source.model
    for step in steps[:-1]:
        relation = index.relation(model, step) if model else None
        if relation is None or relation.many:
            return None
        model = relation.target
    field = steps[-1]
    if (
        model is None
        or index.relation(model, field) is not None
        or not index.is_known_field(model, field)
    ):
        return None
    prefix = "".join(step + "__" for step in steps[:-1])
    lookup = prefix + field
    if not _left_out(source, prefix, lookup) or runs_once(ctx, loop):
        return None
    seen = ctx.memo(f"nplusone.seen.{id(loop)}", set)
    key = (inner.id, "deferred:" + lookup, False)
    if key in seen:
        return None
    seen.add(key)
    return node, model, field, source, lookup


def _defers_here(ctx: Context) -> bool:
    """The function being visited (or the module, at its top level) calls ``only()`` or
    ``defer()``: a query source's links are the calls of chains written in the function
    that loops over it, so a query of rows it left fields out of is built here."""
    text = function_text(ctx)
    return ".only(" in text or ".defer(" in text


def _left_out(source: QuerySource, prefix: str, lookup: str) -> bool:
    for link in source.links:
        if link.call is None or link.name not in ("only", "defer"):
            continue
        names = {
            arg.value
            for arg in link.call.args
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        }
        if len(names) != len(link.call.args):
            return False  # a lookup this cannot read
        if link.name == "defer" and lookup in names:
            return True
        if link.name == "only":
            # only() names what is loaded: of this model (prefix "") or of the joined relation.
            mentioned = [
                name
                for name in names
                if name.startswith(prefix) and "__" not in name[len(prefix) :]
            ]
            if mentioned and lookup not in names:
                return True
    return False


def relation_names(ctx: Context) -> frozenset[str]:
    """Every relation name of every known model (what PRD202 can report at all)."""

    def collect() -> frozenset[str]:
        if not nplusone_applies(ctx):
            return frozenset()
        return frozenset(
            name for info in model_index(ctx).models.values() for name in info.relations
        )

    return ctx.memo("nplusone.relation-names", collect)


def reportable_names(ctx: Context) -> frozenset[str]:
    """The attribute names PRD202 can report: relations, and fields ``only()`` /
    ``defer()`` may leave out."""
    return ctx.memo(
        "nplusone.reportable-names", lambda: relation_names(ctx) | deferrable_names(ctx)
    )


def deferrable_names(ctx: Context) -> frozenset[str]:
    """Every field and manager name of every known model, in a file that calls ``only()``
    or ``defer()`` (what ``deferred_read`` can report at all); empty elsewhere."""

    def collect() -> frozenset[str]:
        text = ctx.text
        if not (".only(" in text or ".defer(" in text) or not nplusone_applies(ctx):
            return frozenset()
        return frozenset(
            name
            for info in model_index(ctx).models.values()
            for name in (*info.fields, *info.managers)
        )

    return ctx.memo("nplusone.deferrable-names", collect)


def _chained(node: ast.Attribute, value: ast.Attribute, ctx: Context) -> Access | None:
    """``row.a.b``: ``b`` read on a related object that the query did load (``a`` itself
    not loaded is reported at ``row.a``, the first step)."""
    steps = [node.attr]
    inner: ast.expr = value
    while isinstance(inner, ast.Attribute):
        steps.append(inner.attr)
        inner = inner.value
    if not isinstance(inner, ast.Name) or len(steps) > 5 or binding_loop(ctx, inner.id) is None:
        return None
    steps.reverse()
    source = loop_source(ctx, inner.id)
    if (
        source is None
        or source.model is None
        or source.framework != "django"
        or source.eager is None
    ):
        return None
    index = model_index(ctx)
    model: str | None = source.model
    for step in steps[:-1]:
        relation = index.relation(model, step) if model else None
        if relation is None or relation.many:
            return None
        model = relation.target
    prefix = "__".join(steps[:-1]) + "__"
    relation = index.relation(model, node.attr) if model else None
    if (
        relation is None
        or relation.many
        or not covers(
            source.eager, steps[-2], "__".join(steps[:-2]) + "__" if len(steps) > 2 else ""
        )
    ):
        return None
    loop = binding_loop(ctx, inner.id)
    assert loop is not None
    if covers(source.eager, node.attr, prefix) or runs_once(ctx, loop):
        return None
    seen = ctx.memo(f"nplusone.seen.{id(loop)}", set)
    key = (inner.id, prefix + node.attr, False)
    if key in seen:
        return None
    seen.add(key)
    return Access(node, loop, source, relation, False, path=prefix + node.attr, model=model)


def _analyse(node: ast.Attribute, value: ast.Name, attr: str, ctx: Context) -> Access | None:
    loop = binding_loop(ctx, value.id)
    if loop is None:
        return None
    source = loop_source(ctx, value.id)
    if source is None or source.model is None:
        return None
    if source.via is not None and source.via.remote == attr:
        return None  # the related manager filled in each row's way back to its owner
    index = model_index(ctx)
    parent = ctx.parent
    grand = ctx.ancestors[-2] if len(ctx.ancestors) > 1 else None
    method = parent.attr if isinstance(parent, ast.Attribute) and parent.value is node else None
    called = method is not None and isinstance(grand, ast.Call) and grand.func is parent
    relation = index.relation(source.model, attr)
    if relation is None:
        if index.is_declared(source.model) or source.framework != "django":
            return None
        many = called and method in PREFETCH_SERVED
        single = (
            method is not None
            and not called
            and method not in SCALAR_ATTRS
            and attr not in FIELD_LIKE
            and not attr.endswith(FIELD_SUFFIXES)
        )
        if not (many or single):
            return None
        access = Access(node, loop, source, None, many)
    else:
        if relation.kind.startswith("sa_"):
            many = relation.many
        elif relation.many:
            if not (called and method in PREFETCH_SERVED):
                return None  # filter()/create()... on a related manager: PRD201's business
            many = True
        else:
            many = False
        access = Access(node, loop, source, relation, many)
    if (
        covers(source.eager, attr)
        or attr in prefetched_in_function(ctx)
        or "*" in prefetched_in_function(ctx)
    ):
        return None
    if runs_once(ctx, loop):
        return None
    seen = ctx.memo(f"nplusone.seen.{id(loop)}", set)
    key = (value.id, attr, relation is None)
    if key in seen:
        return None  # the first access loads it; later ones in the same loop hit the cache
    seen.add(key)
    return access


# Without model facts, a chain ``row.x.y`` is only a relation guess; these ``y`` say ``x`` is
# a plain value (a date, a string, a file, a JSON dict).
SCALAR_ATTRS = frozenset(
    {
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "date",
        "time",
        "isoformat",
        "strftime",
        "timestamp",
        "weekday",
        "tzinfo",
        "url",
        "path",
        "size",
        "width",
        "height",
        "file",
        "read",
        "open",
        "close",
        "lower",
        "upper",
        "strip",
        "split",
        "startswith",
        "endswith",
        "format",
        "replace",
        "encode",
        "decode",
        "get",
        "items",
        "keys",
        "values",
        "append",
        "copy",
        "quantize",
        "real",
        "imag",
        "hex",
        "total_seconds",
        "days",
        "seconds",
        "label",
        "choices",
    }
)
FIELD_LIKE = frozenset(
    {
        "data",
        "json",
        "meta",
        "metadata",
        "extra",
        "config",
        "settings",
        "image",
        "photo",
        "avatar",
        "attachment",
        "document",
        "file",
        "amount",
        "price",
        "start",
        "end",
        "deadline",
        "timestamp",
    }
)
FIELD_SUFFIXES = ("_at", "_on", "_date", "_time", "_file", "_json", "_data")


def eager_method(access: Access) -> str:
    """The Django call that loads the relation with the rows: ``select_related`` joins a
    foreign key or one-to-one; managers and generic foreign keys (which Django refuses to
    join) need ``prefetch_related``."""
    relation = access.relation
    if access.many or (
        relation is not None
        and (
            relation.kind == "generic_fk"
            or not relation.selectable
            and not relation.kind.startswith("sa_")
        )
    ):
        return "prefetch_related"
    return "select_related"


# Queryset methods after which an added eager load raises or changes the rows:
# only()/defer() + select_related raise FieldError (a field both deferred and traversed),
# union()/intersection()/difference() compare column counts, select_for_update() would lock
# the joined rows too (and Postgres rejects FOR UPDATE on an outer join's nullable side).
NO_SELECT = frozenset(
    {"only", "defer", "union", "intersection", "difference", "select_for_update", "raw"}
)
NO_PREFETCH = frozenset({"only", "defer", "union", "intersection", "difference", "raw"})
# Calls after which rows loaded with the query may no longer be what a lazy read would see.
WRITE_METHODS = frozenset(
    {
        "save",
        "asave",
        "delete",
        "adelete",
        "create",
        "acreate",
        "bulk_create",
        "abulk_create",
        "bulk_update",
        "abulk_update",
        "get_or_create",
        "aget_or_create",
        "update_or_create",
        "aupdate_or_create",
        "flush",
        "commit",
        "execute",
        "executemany",
        "merge",
        "refresh_from_db",
        "arefresh_from_db",
        "aupdate",
    }
)
# On a plain name these are a dict's / set's; on an attribute chain they can be a related
# manager's writes (``row.tags.add(...)``, ``Model.objects.update(...)``).
MANAGER_WRITES = frozenset({"add", "remove", "set", "clear", "update"})
# Calls that read: handing them a row or calling them on it saves nothing.
READ_CALLS = (
    frozenset(
        {
            "print",
            "len",
            "str",
            "repr",
            "int",
            "float",
            "bool",
            "list",
            "tuple",
            "set",
            "dict",
            "sorted",
            "sum",
            "min",
            "max",
            "any",
            "all",
            "enumerate",
            "zip",
            "isinstance",
            "getattr",
            "hasattr",
            "format",
            "id",
            "hash",
            "round",
            "abs",
            "iter",
            "next",
            "map",
            "filter",
            "reversed",
            "frozenset",
            "type",
            "append",
            "extend",
            "insert",
            "setdefault",
            "get",
            "items",
            "keys",
            "values",
            "join",
            "count",
            "exists",
            "first",
            "last",
            "earliest",
            "latest",
            "aggregate",
            "in_bulk",
            "contains",
            "values_list",
            "lower",
            "upper",
            "strip",
            "split",
            "replace",
            "startswith",
            "endswith",
            "isoformat",
            "strftime",
        }
    )
    | LAZY_METHODS
)
READ_PREFIXES = ("get_", "is_", "has_", "to_", "as_", "__")


def _may_write(ctx: Context, access: Access) -> bool:
    """The loop can write to the database before a row's relation is read: read lazily, the
    relation reflects that write; loaded with the query, it is the state before the loop."""
    row: ast.expr = access.node.value
    while isinstance(row, ast.Attribute):
        row = row.value
    assert isinstance(row, ast.Name)
    model = access.source.model
    index = model_index(ctx)

    def mentions(expr: ast.expr) -> bool:
        # The row itself or one of its related objects, which a callee could save.
        while isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Name) and expr.value.id == row.id:
                return model is None or index.relation(model, expr.attr) is not None
            expr = expr.value
        return isinstance(expr, ast.Name) and expr.id == row.id

    for node in ast.walk(access.loop):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name in WRITE_METHODS:
                return True
            if name in MANAGER_WRITES and not isinstance(func.value, ast.Name):
                return True
            if name in READ_CALLS or name.startswith(READ_PREFIXES):
                continue
            if mentions(func.value) or any(mentions(argument) for argument in arguments):
                return True
        elif isinstance(func, ast.Name):
            if func.id not in READ_CALLS and any(mentions(argument) for argument in arguments):
                return True
    return False


def fix_tier(ctx: Context, access: Access, method: str) -> tuple[FixSafety, str]:
    """SAFE only where the eager load cannot change what the loop sees or raise; with the
    reason when it is not offered, to complete the remedy."""
    source = access.source
    names = {link.name for link in source.links}
    if source.framework == "django":
        risky = names & (NO_SELECT if method == "select_related" else NO_PREFETCH)
        if risky & {"only", "defer"}:
            return FixSafety.NONE, f" and keep `{access.node.attr}` out of `defer()` / in `only()`"
        if risky & {"union", "intersection", "difference"}:
            return FixSafety.NONE, " on each queryset of the combination, with the same columns"
        if risky:
            return FixSafety.NONE, ""
        if method == "prefetch_related" and any(
            link.name == "iterator"
            and link.call is not None
            and not link.call.args
            and not any(keyword.arg == "chunk_size" for keyword in link.call.keywords)
            for link in source.links
        ):
            return FixSafety.NONE, " with `iterator(chunk_size=...)`"  # Django 5 requires it
        if _reused_risky(ctx, source, method):
            return FixSafety.NONE, ""
    elif access.relation is not None and access.relation.query_only:
        return FixSafety.NONE, ""  # lazy="dynamic" / write_only: a loader option raises
    return (FixSafety.UNSAFE if _may_write(ctx, access) else FixSafety.SAFE), ""


def _reused_risky(ctx: Context, source: QuerySource, method: str) -> bool:
    """The queryset is a local name also combined or narrowed elsewhere in the function
    (``qs.union(...)``, ``qs.only(...)``): the eager load would reach those uses too."""
    loop_iter = source.expr
    func = ctx.enclosing_function()
    scope: ast.AST = func if func is not None else ctx.tree
    names = {
        target.id
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign) and node.value is loop_iter
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if not names:
        return False
    return any(
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in names
        and node.attr in (NO_SELECT if method == "select_related" else NO_PREFETCH | {"iterator"})
        for node in ast.walk(scope)
    )


@dataclass(frozen=True)
class EagerLoadPayload(FixPayload):
    """The eager load to add where the query is built; findings about one query share it."""

    query: tuple[int, int, int, int]  # the queryset expression's range (0-based char columns)
    query_source: str  # its text, to recognise it at that range
    method: str  # select_related, prefetch_related or options
    arg: str  # the lookup path, or the loader option for ``options``
    anchor: int  # the chain link the call goes after (-1: the base, ``select(M)``)
    imported: str = ""  # the dotted name ``arg`` needs imported, if any


def eager_payload(ctx: Context, access: Access) -> EagerLoadPayload | None:
    """What the fix needs to add eager loading where the query is built, or None when the
    query is not built in this function in a shape the fix can edit."""
    source = access.source
    if not source.local or source.nested:
        return None
    attr = access.node.attr
    expr = source.expr
    line, end_line = expr.lineno, expr.end_lineno or expr.lineno
    where = (
        line,
        ctx.char_col(line, expr.col_offset),
        end_line,
        ctx.char_col(end_line, expr.end_col_offset or 0),
    )
    if source.framework == "django":
        anchor = eager_anchor(ctx, source)
        if anchor is None:
            return None
        return EagerLoadPayload(
            where,
            ctx.source_of(expr),
            eager_method(access),
            access.path or _longest_path(ctx, access),
            anchor,
        )
    anchor = source.anchor if source.anchor is not None else _sqla_anchor(expr)
    if anchor is None:
        return None
    return EagerLoadPayload(
        where,
        ctx.source_of(expr),
        "options",
        f"selectinload({source.model}.{attr})",
        anchor,
        "sqlalchemy.orm.selectinload",
    )


def _longest_path(ctx: Context, access: Access) -> str:
    """``row.a`` read as ``row.a.b.c`` where ``b`` and ``c`` are foreign keys too: the one
    lookup ``a__b__c`` loads the whole chain (``select_related("a")`` would leave a query
    per row for ``b``)."""
    relation = access.relation
    if relation is None or not relation.selectable:
        return access.node.attr
    index = model_index(ctx)
    steps = [access.node.attr]
    current: ast.expr = access.node
    model = relation.target
    for ancestor in reversed(ctx.ancestors):
        if not (isinstance(ancestor, ast.Attribute) and ancestor.value is current and model):
            break
        step = index.relation(model, ancestor.attr)
        if step is None or not step.selectable:
            break
        steps.append(ancestor.attr)
        current, model = ancestor, step.target
    return "__".join(steps)


def _sqla_anchor(expr: ast.expr) -> int | None:
    """The link after which ``.options(...)`` goes: -1 for ``select(M)`` itself, else the
    ``query(M)`` call or the ``M.query`` attribute."""
    from prodlint.rules.nplusone.orm import chain

    base, links = chain(expr)
    if isinstance(base, ast.Call) and last_name(base.func) == "select":
        return -1
    for position, link in enumerate(links):
        if link.name == "query":
            return position
    return None


class LazyRelationInLoop(Rule):
    code = "PRD202"
    name = "LazyRelationInLoop"
    summary = "A relation loaded lazily for each row of a query that did not load it eagerly"
    message = (
        "`{access}` loads `{model}.{relation}` with one query per row of `{query}`; "
        "load it with the rows: {remedy}"
    )
    what_it_does = """
Flags a relation read on the loop variable of a loop over a Django queryset or a SQLAlchemy
query (`for b in Book.objects.filter(...)`, `for u in session.scalars(select(User))`,
inline or assigned earlier in the function) when the query does not load that relation
eagerly: a foreign key or one-to-one followed (`b.author.name`), a reverse or many-to-many
manager read (`a.books.all()`, `.count()`, `.exists()`), a SQLAlchemy `relationship()`,
a chain of foreign keys read past what `select_related` loads (`t.ticker.industry` after
`select_related("ticker")`), or a field the query left out with `only()` / `defer()`.
The rows can come inline, from a name assigned (sliced, `.iterator()`, `list(...)`), from
a parameter annotated `QuerySet[M]` / `Iterable[M]` / `list[M]` or that every call site
in the project passes a queryset of one model (`render_rows(Order.objects.filter(...))`,
in any file; none when a call passes anything else, spreads `*args`, or the function is
handed on as a callback, exported in `__all__`, decorated or never called), from one
object's related manager (`get_object_or_404(...)`, a parameter annotated with a model, a signal
handler's `instance`, then `obj.items.all()`), or from the project's own methods, in any
file: model methods and properties (`for link in doc.links_to()`), custom manager and
queryset methods (`Book.objects.published()`), a manager whose `get_queryset` loads
relations, SQLAlchemy repository methods returning `select(M)` / `session.query(M)` /
`session.scalars(...)`; in a function or at module level.

Relations are known from the project's models (Django `ForeignKey` / `OneToOneField` /
`ManyToManyField` with their `related_name` or default `<model>_set` reverse names,
`GenericForeignKey`, SQLAlchemy `relationship()` and `backref`), indexed across the
checked files. Not flagged: relations named in `select_related` / `prefetch_related`
(including `Prefetch(...)` and `prefetch_related_objects(rows, ...)` in the function),
SQLAlchemy `selectinload` / `joinedload` / `subqueryload` options or an eager `lazy=` on
the relationship, `values()` / `values_list()` rows, `*_id` columns, and a read followed
by `break` / `return`, test files (`test-paths`) and migrations (`migration-paths`).
When the model is not in the project, PRD203 (opt-in) guesses.
"""
    why_bad = """
Each row's relation is fetched by its own query the first time it is read: a page of 50
books runs 51 queries instead of 1 or 2. Test data with three rows hides it; production
data does not. `select_related` joins the relation into the same query, `prefetch_related`
(and SQLAlchemy's `selectinload`) fetch it for all rows in one more query.
"""
    example = """
from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


def titles():
    return [(b.title, b.author.name) for b in Book.objects.filter(title__contains="a")]
"""
    use_instead = """
from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


def titles():
    return [
        (b.title, b.author.name)
        for b in Book.objects.select_related("author").filter(title__contains="a")
    ]
"""
    fixed_example = """
from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


def titles():
    return [
        (b.title, b.author.name)
        for b in Book.objects.select_related("author").filter(title__contains="a")
    ]
"""
    fix_safety_note = """
The fix adds `select_related("rel")` (foreign key, one-to-one) or `prefetch_related("rel")`
(reverse and many-to-many managers, generic foreign keys) right after the manager in the
queryset expression, or `.options(selectinload(Model.rel))` to a SQLAlchemy `select()` /
`query()` (adding the import). The rows and their values are the same; only when and how
the relation is fetched changes, so it is safe, except:
- it is unsafe when the loop may write to the database (`save()`, `create()`, `update()`,
  `delete()`, `flush()`, a related manager's `add()`, a call handed the row): read lazily,
  the relation shows those writes; loaded with the rows, it shows the state before the loop;
- no fix is offered where the eager load would raise or change the query: `only()` /
  `defer()` with `select_related` (FieldError), `union()` / `intersection()` /
  `difference()` (column counts), `select_for_update()` (it would lock the related rows),
  `iterator()` without `chunk_size` with `prefetch_related` (Django 5 raises), a queryset
  also narrowed or combined elsewhere in the function, and SQLAlchemy `lazy="dynamic"` /
  write-only relationships (loader options raise `InvalidRequestError`);
- nor when the query is not built in the same function, for nested relations
  (`for b in a.books.all()`), or for guessed relations (PRD203). Rows a project method
  returns as a queryset (or a SQLAlchemy statement / query object) get the eager load at
  the call site (`doc.links_to().select_related(...)`, after a custom manager method rather
  than before it); rows it returns already fetched (`.all()` on a SQLAlchemy result) are
  reported without a fix. Rows a function is handed by its callers are reported without a
  fix too, naming a call site: the eager load belongs at every call site, in other
  functions and files, each of which may hand its queryset to other code as well.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    fix_node_types = ("Attribute",)

    def applies_to(self, ctx: Context) -> bool:
        # ``check`` reports the read of a known relation (its name is in the text) or of a
        # field ``only()`` / ``defer()`` left out.
        if not nplusone_applies(ctx):
            return False
        text = ctx.text
        if ".only(" in text or ".defer(" in text or not text.isascii():
            return True
        names = relation_names(ctx)
        if not names:
            return False
        # A relation is read as ``row.rel``: the name right after a dot, with what the
        # tokenizer lets stand between them (whitespace, a line continuation, a comment in
        # brackets), not anywhere in the text (``user`` in ``users``).
        pattern = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
        return re.search(rf"\.(?:\s|\\|#[^\r\n]*)*(?:{pattern})\b", text) is not None

    def check_Attribute(self, node: ast.Attribute, ctx: Context) -> None:
        if node.attr not in reportable_names(ctx):
            return  # the cheap test on every attribute of the file
        access = relation_access(node, ctx)
        if access is not None and access.relation is not None:
            self.emit(ctx, access)
            return
        deferred = deferred_read(node, ctx)
        if deferred is not None:
            read, model, field, source, lookup = deferred
            self.report(
                ctx,
                read,
                access=ctx.source_of(read),
                model=model,
                relation=field,
                query=short(ctx, source.expr),
                remedy=f'name "{lookup}" in `only()` (or leave it out of `defer()`)',
            )

    def emit(self, ctx: Context, access: Access) -> None:
        hint = eager_payload(ctx, access)
        source = access.source
        attr = access.node.attr
        query_only = access.relation is not None and access.relation.query_only
        method = eager_method(access) if source.framework == "django" else "options"
        fix, caveat = fix_tier(ctx, access, method) if hint else (FixSafety.NONE, "")
        lookup = (
            (hint.arg if hint else None)
            or access.path
            or (_longest_path(ctx, access) if source.framework == "django" else attr)
        )
        if source.framework == "django":
            remedy = f'{method}("{lookup}"){caveat}'
        elif query_only:
            remedy = (
                f'`{attr}` is a lazy="dynamic" / write-only query: '
                "query the children of all rows at once"
            )
        else:
            remedy = f".options(selectinload({source.model}.{attr}))"
        if source.passed_by is not None:
            remedy += f" at every call site ({source.passed_by})"
        self.report(
            ctx,
            access.node,
            fix=fix,
            payload=hint if fix is not FixSafety.NONE else None,
            access=ctx.source_of(access.node),
            model=access.model or source.model,
            relation=attr,
            query=short(ctx, source.expr),
            remedy=remedy,
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        from prodlint.fixes.eager_loads import request_eager_load

        # The access stays as it is; the queryset it came from is edited once per file.
        return node if request_eager_load(finding, fixes) else None
