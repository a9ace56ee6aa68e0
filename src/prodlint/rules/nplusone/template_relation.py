"""PRD204: a view hands a queryset to a template that reads a relation of each row."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from prodlint.analysis.calls import argument
from prodlint.analysis.constants import str_value
from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.analysis.models import ModelIndex
from prodlint.analysis.templates import (
    PROJECT_TEMPLATES,
    Bind,
    Block,
    Include,
    Loop,
    Node,
    Read,
    TemplateIndex,
    parse_template,
)
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.nplusone.lazy_relation import NO_PREFETCH, NO_SELECT, EagerLoadPayload
from prodlint.rules.nplusone.orm import (
    PREFETCH_SERVED,
    QuerySource,
    chain,
    covers,
    eager_anchor,
    eager_lookups,
    model_index,
    nplusone_applies,
    query_source,
    short,
    single_row_model,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# Calls that render a named template: (template position, keyword), (context position, keyword).
RENDER_CALLS: Mapping[str, tuple[tuple[int, str], tuple[int | None, str]]] = {
    "render": ((1, "template_name"), (2, "context")),
    "TemplateResponse": ((1, "template"), (2, "context")),
    "SimpleTemplateResponse": ((0, "template"), (1, "context")),
    "render_to_response": ((0, "template_name"), (1, "context")),
    "render_to_string": ((0, "template_name"), (1, "context")),
    # Flask: the context is the keyword arguments.
    "render_template": ((0, "template_name_or_list"), (None, "")),
}
# ``<loader>.render(context)`` on what these return.
TEMPLATE_GETTERS = frozenset({"get_template", "select_template"})
INLINE_TEMPLATES = frozenset({"Template", "from_string"})
# The name an inline template (``Template("...")``) goes by.
INLINE = "<inline>"
# Rows of a queryset handed to the template stay rows through these.
ROW_KEEPING = frozenset({"all"})
# Class-based views that render a list of a queryset's rows.
LIST_VIEWS = frozenset({"ListView", "ArchiveIndexView", "YearArchiveView", "MonthArchiveView"})
# Methods of a class-based view that return the template's context.
CONTEXT_METHODS = frozenset({"get_context_data", "get_extra_context"})
DETAIL_VIEWS = frozenset({"DetailView", "UpdateView", "DeleteView"})


@dataclass(frozen=True)
class Bound:
    """What a template variable stands for: rows of a queryset (``many``) or one row, read
    from the view's queryset through ``prefix`` (``"chapters__"``)."""

    model: str
    many: bool
    prefix: str
    selectable: bool  # every step of ``prefix`` is a foreign key / one-to-one
    in_loop: bool  # one row of a loop over rows: each read repeats per row
    # The forward field Django fills in on rows read through a reverse relation.
    filled: str | None = None
    rows: str = ""  # the loop's iterable, as the template spells it


@dataclass(frozen=True)
class TemplateRead:
    """A relation the template reads per row that the queryset does not load."""

    lookup: str  # the lookup that loads it, from the view's queryset
    method: str  # select_related or prefetch_related
    model: str
    relation: str
    read: str  # the template's text for it (``book.author.name``)
    rows: str  # the rows it is read on (``books``)
    template: str
    line: int


class _Walk:
    """The reads of relations per row, over a template's nodes and what it includes."""

    def __init__(
        self, templates: TemplateIndex | None, index: ModelIndex, eager: set[str] | None
    ) -> None:
        self.templates = templates
        self.index = index
        self.eager = eager
        self.found: dict[str, TemplateRead] = {}
        self.including: list[str] = []

    def nodes(self, nodes: Sequence[Node], env: dict[str, Bound], template: str) -> None:
        for node in nodes:
            if isinstance(node, Read):
                self.read(node.path, env, template, node.line)
            elif isinstance(node, Loop):
                self.loop(node, env, template)
            elif isinstance(node, Bind):
                inner = dict(env)
                for name, path in node.bindings:
                    bound = self.resolve(path, env, template, 0) if path else None
                    if bound is None:
                        inner.pop(name, None)
                    else:
                        inner[name] = bound
                self.nodes(node.body, inner, template)
            elif isinstance(node, Block):
                self.nodes(node.body, env, template)
            elif isinstance(node, Include):
                self.include(node, env)

    def loop(self, node: Loop, env: dict[str, Bound], template: str) -> None:
        inner = dict(env)
        for target in node.targets:
            inner.pop(target, None)
        rows = self.resolve(node.iterable, env, template, node.line) if node.iterable else None
        if rows is not None and rows.many and len(node.targets) == 1:
            inner[node.targets[0]] = replace(
                rows, many=False, in_loop=True, rows=".".join(node.iterable)
            )
        self.nodes(node.body, inner, template)

    def include(self, node: Include, env: dict[str, Bound]) -> None:
        if self.templates is None or node.name in self.including or len(self.including) > 8:
            return
        body = self.templates.effective(node.name)
        if body is None:
            return
        inner = {} if node.only else dict(env)
        for name, path in node.bindings:
            bound = self.resolve(path, env, node.name, node.line) if path else None
            if bound is None:
                inner.pop(name, None)
            else:
                inner[name] = bound
        self.including.append(node.name)
        self.nodes(body, inner, node.name)
        self.including.pop()

    def read(self, path: tuple[str, ...], env: dict[str, Bound], template: str, line: int) -> None:
        self.resolve(path, env, template, line)

    def resolve(
        self, path: tuple[str, ...], env: dict[str, Bound], template: str, line: int
    ) -> Bound | None:
        """What ``path`` stands for, recording each relation it loads per row on the way."""
        bound = env.get(path[0])
        for position, attr in enumerate(path[1:], start=1):
            if bound is None:
                return None
            if bound.many:
                if attr not in ROW_KEEPING:
                    return None  # count, first, a slice: not rows the template reads on
                continue
            if attr == bound.filled:
                return None  # the row it was read from: Django filled it in
            relation = self.index.relation(bound.model, attr)
            if relation is None:
                return None  # a field, a method, a property: nothing known to load
            lookup = bound.prefix + attr
            following = path[position + 1] if position + 1 < len(path) else None
            if relation.many and following not in PREFETCH_SERVED and following is not None:
                return None  # a manager method prefetching does not serve (filter, first)
            loads = not relation.many or following is not None
            selectable = bound.selectable and relation.selectable
            if loads and bound.in_loop and not covers(self.eager, attr, bound.prefix):
                method = "select_related" if selectable else "prefetch_related"
                self.found.setdefault(
                    lookup,
                    TemplateRead(
                        lookup,
                        method,
                        bound.model,
                        attr,
                        ".".join(path[: position + 1]),
                        bound.rows,
                        template,
                        line,
                    ),
                )
            if relation.target is None:
                return None
            bound = Bound(
                relation.target,
                relation.many,
                lookup + "__",
                selectable,
                bound.in_loop,
                relation.remote,
                bound.rows,
            )
        return bound

    def results(self) -> list[TemplateRead]:
        """The reads, a lookup left out when a longer one of the same method loads it."""
        kept = []
        for lookup, read in sorted(self.found.items()):
            longer = any(
                other.startswith(lookup + "__") and self.found[other].method == read.method
                for other in self.found
            )
            if not longer:
                kept.append(read)
        return kept


def _template_names(expr: ast.expr | None, ctx: Context) -> list[str]:
    """``"shop/list.html"``, a name assigned one, or a list of them (the first found)."""
    if expr is None:
        return []
    if isinstance(expr, (ast.List, ast.Tuple)):
        return [name for item in expr.elts if (name := str_value(item, ctx)) is not None]
    name = str_value(expr, ctx)
    return [name] if name is not None else []


def _context_items(
    expr: ast.expr | None, ctx: Context, depth: int = 0
) -> Iterator[tuple[str, ast.expr]]:
    """The (name, value) pairs of a context dict as written: a literal, ``dict(a=b)``,
    ``Context({...})``, or a local name assigned one (and items set on it afterwards)."""
    if expr is None or depth > 3:
        return
    if isinstance(expr, ast.Dict):
        for key, value in zip(expr.keys, expr.values, strict=True):
            if key is None:
                yield from _context_items(value, ctx, depth + 1)  # ``{**base, ...}``
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield key.value, value
    elif isinstance(expr, ast.Call):
        name = last_name(expr.func)
        if name == "dict":
            for keyword in expr.keywords:
                if keyword.arg is not None:
                    yield keyword.arg, keyword.value
            if expr.args:
                yield from _context_items(expr.args[0], ctx, depth + 1)
        elif name in ("Context", "RequestContext") and expr.args:
            yield from _context_items(expr.args[-1], ctx, depth + 1)
    elif isinstance(expr, ast.Name):
        assigned = ctx.value_of(expr.id)
        if assigned is not None:
            yield from _context_items(assigned, ctx, depth + 1)
            yield from _set_items(expr.id, ctx)


def _set_items(name: str, ctx: Context) -> Iterator[tuple[str, ast.expr]]:
    """``context["books"] = qs`` and ``context.update({...})`` in the function that
    renders."""
    scope: ast.AST = ctx.enclosing_function() or ctx.tree
    for node in ast.walk(scope):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            for keyword in node.keywords:
                if keyword.arg is not None:
                    yield keyword.arg, keyword.value
            if node.args and isinstance(node.args[0], ast.Dict):
                yield from _context_items(node.args[0], ctx)
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == name
                and isinstance(target.slice, ast.Constant)
                and isinstance(target.slice.value, str)
            ):
                yield target.slice.value, node.value


def _class_values(cls: ast.ClassDef) -> Iterator[tuple[str, ast.expr]]:
    for statement in cls.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            yield statement.targets[0].id, statement.value


def _row_source(ctx: Context, value: ast.expr) -> QuerySource | None:
    """One row handed to the template (``get_object_or_404(Author, ...)``), with what its
    query prefetched: its related managers' rows are read in the template's loops."""
    model = single_row_model(ctx, value)
    if model is None:
        return None
    expr = ctx.value_of(value.id) if isinstance(value, ast.Name) else value
    if isinstance(expr, ast.Call) and last_name(expr.func) in ("get_object_or_404",) and expr.args:
        expr = expr.args[0]
    eager = eager_lookups(chain(expr)[1]) if expr is not None else None
    return QuerySource("django", model, value, [], False, eager)


@dataclass(frozen=True)
class Rendered:
    """A render of a template: its name (or inline source) and its context's entries."""

    template: str
    source: str | None  # the inline template's text (``Template("...")``)
    items: tuple[tuple[str, ast.expr], ...]


def _rendered(node: ast.Call, ctx: Context) -> Rendered | None:
    name = last_name(node.func)
    if name is not None and name in RENDER_CALLS:
        (template_at, template_kw), (context_at, context_kw) = RENDER_CALLS[name]
        if name == "render" and isinstance(node.func, ast.Attribute):
            loaded = _loader_render(node, ctx)
            if loaded is not None or len(node.args) < 2:
                return loaded  # else ``shortcuts.render(request, ...)``
        found = argument(node, template_at, template_kw)
        names = _template_names(found if isinstance(found, ast.expr) else None, ctx)
        if not names:
            return None
        if context_at is None:
            items = tuple((k.arg, k.value) for k in node.keywords if k.arg is not None)
        else:
            context = argument(node, context_at, context_kw)
            items = tuple(_context_items(context if isinstance(context, ast.expr) else None, ctx))
        return Rendered(names[0], None, items) if items else None
    return None


def _loader_render(node: ast.Call, ctx: Context) -> Rendered | None:
    """``get_template("x.html").render(context)``, ``Template("...").render(Context(...))``,
    Jinja2's ``env.get_template("x.html").render(books=qs)``, through a local name too."""
    assert isinstance(node.func, ast.Attribute)
    loader: ast.expr | None = node.func.value
    if isinstance(loader, ast.Name):
        loader = ctx.value_of(loader.id)
    if not isinstance(loader, ast.Call) or not loader.args:
        return None
    kind = last_name(loader.func)
    if node.args:
        items = tuple(_context_items(node.args[0], ctx))
    else:
        items = tuple((k.arg, k.value) for k in node.keywords if k.arg is not None)
    if not items:
        return None
    if kind in TEMPLATE_GETTERS:
        names = _template_names(loader.args[0], ctx)
        return Rendered(names[0], None, items) if names else None
    if kind in INLINE_TEMPLATES:
        text = str_value(loader.args[0], ctx)
        return Rendered(INLINE, text, items) if text is not None else None
    return None


class RelationReadInTemplateLoop(Rule):
    code = "PRD204"
    name = "RelationReadInTemplateLoop"
    summary = "A template reads a relation of each row of a queryset the view did not load"
    message = (
        "{template} line {line} reads `{read}` for each row of `{rows}` (`{query}`): "
        "one query per row for `{model}.{relation}`; load it in the view: {remedy}"
    )
    what_it_does = """
Flags the render of a Django or Jinja2 template (`render(request, "x.html", context)`,
`TemplateResponse`, `render_to_string`, `get_template(...).render(...)`, an inline
`Template("...")` / `from_string(...)`) whose context hands the template a Django queryset
(`{"books": Book.objects.filter(...)}`, a name assigned one, `context["books"] = ...`) or
one row (`get_object_or_404(...)`) when the template reads a relation of each row that
the query does not load: `{{ book.author.name }}` inside `{% for book in books %}`, a
nested `{% for c in book.chapters.all %}` (and what it reads on each chapter), Jinja2's
`book.chapters.count()`, `{% with %}` / `{% set %}` names, `{% include %}`d templates with
their `with` bindings, and the blocks of a template that `{% extends %}` another.
Class-based views too: a `ListView` / `DetailView` with `queryset` or `model` and its
`template_name` (or Django's default `<app>/<model>_list.html`), as `object_list`,
`<model>_list`, `page_obj`, `object`, and the querysets a view's `get_context_data`
returns for its `template_name`.

Templates are found by the name rendered, in the project's template folders: the
`templates/` and `jinja2/` folders of each app (beside its models.py, apps.py or
views.py), of the folder holding the apps and of the project's root, read as project
facts. Relations come from the project's models (PRD202's index). Not flagged: relations
named in `select_related` / `prefetch_related` (`__` paths too), plain fields and `*_id`
columns, the back-reference Django fills in on rows read through a reverse relation,
values that are not querysets or rows of known models, templates not found, views that
compute their queryset, object or template (`get_queryset`, `get_object`,
`get_template_names`), tests and migrations.
"""
    why_bad = """
A template reads lazily, like Python code does: every `{{ book.author.name }}` in the
loop runs one query for that row's author the first time it is read. A page of 50 books
runs 51 queries, and nothing in the view's code shows it; Django's debug toolbar does, in
production it is only a slow page. `select_related` joins the relation into the query
the view builds, `prefetch_related` loads a manager's rows for every book in one query.
"""
    example = """
from django.db import models
from django.template import Context, Template


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


# The same as render(request, "books.html", {"books": ...}) with this in templates/books.html.
BOOKS = Template("{% for book in books %}{{ book.title }}: {{ book.author.name }}{% endfor %}")


def book_list():
    return BOOKS.render(Context({"books": Book.objects.order_by("title")}))
"""
    use_instead = """
from django.db import models
from django.template import Context, Template


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


# The same as render(request, "books.html", {"books": ...}) with this in templates/books.html.
BOOKS = Template("{% for book in books %}{{ book.title }}: {{ book.author.name }}{% endfor %}")


def book_list():
    books = Book.objects.select_related("author").order_by("title")
    return BOOKS.render(Context({"books": books}))
"""
    fixed_example = """
from django.db import models
from django.template import Context, Template


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


# The same as render(request, "books.html", {"books": ...}) with this in templates/books.html.
BOOKS = Template("{% for book in books %}{{ book.title }}: {{ book.author.name }}{% endfor %}")


def book_list():
    return BOOKS.render(
        Context({"books": Book.objects.select_related("author").order_by("title")})
    )
"""
    fix_safety_note = """
The fix adds `select_related("rel")` (foreign keys and one-to-ones read on each row, with
the longest `__` path of them) or `prefetch_related("rel")` (reverse and many-to-many
managers, and what is read on their rows) right after the manager in the queryset
expression the view builds, where it is built (inline in the context, or where the name
is assigned). The template sees the same rows with the same values, each relation read
from the rows loaded with the query instead of by a query of its own, so the fix is safe
when the queryset reaches nothing but the template: inline in the context, or a local
name read nowhere else. It is unsafe when the name is also used elsewhere in the view
(a `.values()`, `.update()`, a serializer, a second template): the eager load reaches
those uses too. No fix is offered where an eager load would raise or change the query
(`only()` / `defer()`, `union()` and friends, `select_for_update()`, `iterator()` without
`chunk_size` with a prefetch), nor for querysets not built in the rendering function.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    fix_node_types = ("Call",)
    requires_text = ("render", "TemplateResponse")
    call_names = frozenset({*RENDER_CALLS})

    def applies_to(self, ctx: Context) -> bool:
        return nplusone_applies(ctx)

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        rendered = _rendered(node, ctx)
        if rendered is None:
            return
        body = self._body(ctx, rendered, node)
        if body is None:
            return
        handed: list[tuple[str, ast.expr, QuerySource, bool]] = []
        for context_name, value in rendered.items:
            source = query_source(ctx, value)
            if source is not None:
                handed.append((context_name, value, source, True))
            elif (row := _row_source(ctx, value)) is not None:
                handed.append((context_name, value, row, False))
        self._check(ctx, node, rendered.template, body, handed)

    def check_ClassDef(self, node: ast.ClassDef, ctx: Context) -> None:
        """``ListView`` / ``DetailView`` subclasses: the template they name (or Django's
        default ``<app>/<model>_list.html``) gets the queryset's rows as ``object_list`` /
        ``<model>_list`` (``object`` / ``<model>`` for a detail view)."""
        kinds = {last_name(base) for base in node.bases}
        many = bool(kinds & LIST_VIEWS)
        if not many and not kinds & DETAIL_VIEWS:
            return
        attrs = dict(_class_values(node))
        if any(
            isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            and item.name
            in ("get_queryset", "get_object", "get_template_names", "get_context_object_name")
            for item in node.body
        ):
            return  # what the view renders is computed: not followed
        value = attrs.get("queryset")
        source = query_source(ctx, value) if value is not None else None
        model_expr = attrs.get("model")
        if source is None and isinstance(model_expr, ast.Name):
            value = model_expr
            source = QuerySource("django", model_expr.id, model_expr, [], False)
        if source is None or source.model is None or value is None:
            return
        names = _template_names(attrs.get("template_name"), ctx)
        folder = ctx.path.replace("\\", "/").rsplit("/", 2)
        suffix = "_list" if many else "_detail"
        if not names and len(folder) >= 2:
            names = [f"{folder[-2]}/{source.model.lower()}{suffix}.html"]
        if not names:
            return
        rendered = Rendered(names[0], None, ())
        body = self._body(ctx, rendered, node)
        if body is None:
            return
        given = (
            str_value(attrs["context_object_name"], ctx) if "context_object_name" in attrs else None
        )
        context_names = [
            "object_list" if many else "object",
            given or source.model.lower() + ("_list" if many else ""),
        ]
        if many and "paginate_by" in attrs:
            context_names.append("page_obj")
        handed = [(name, value, source, many) for name in context_names]
        self._check(ctx, value, rendered.template, body, handed)

    def check_Return(self, node: ast.Return, ctx: Context) -> None:
        """A class-based view's ``get_context_data`` (or netbox-style ``get_extra_context``)
        returning its context: the querysets in it reach the class's ``template_name``."""
        if node.value is None or not ctx.memo(
            "nplusone.context-methods", lambda: any(name in ctx.text for name in CONTEXT_METHODS)
        ):
            return  # the cheap test first: every return statement of the file comes here
        func = ctx.enclosing_function()
        if (
            node.value is None
            or not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
            or func.name not in CONTEXT_METHODS
        ):
            return
        cls = ctx.enclosing_class()
        where = ctx.ancestors.index(func)
        if cls is None or where == 0 or ctx.ancestors[where - 1] is not cls:
            return  # a method of the class itself, not of a function nested in one
        names = _template_names(dict(_class_values(cls)).get("template_name"), ctx)
        if not names:
            return
        body = self._body(ctx, Rendered(names[0], None, ()), node)
        if body is None:
            return
        for context_name, value in _context_items(node.value, ctx):
            source = query_source(ctx, value)
            if source is not None:
                self._check(ctx, value, names[0], body, [(context_name, value, source, True)])

    def _body(self, ctx: Context, rendered: Rendered, node: ast.AST) -> tuple[Node, ...] | None:
        if rendered.source is not None:
            text = rendered.source
            return ctx.memo(f"nplusone.template.{id(node)}", lambda: parse_template(text))[1]
        templates = ctx.settings.get(PROJECT_TEMPLATES)
        if not isinstance(templates, TemplateIndex):
            return None
        return templates.effective(rendered.template)

    def _check(
        self,
        ctx: Context,
        node: ast.AST,
        template: str,
        body: tuple[Node, ...],
        handed: list[tuple[str, ast.expr, QuerySource, bool]],
    ) -> None:
        templates = ctx.settings.get(PROJECT_TEMPLATES)
        index = model_index(ctx)
        for context_name, value, source, many in handed:
            if source.framework != "django" or source.model is None:
                continue
            if index.get(source.model) is None:
                continue
            walk = _Walk(
                templates if isinstance(templates, TemplateIndex) else None, index, source.eager
            )
            env = {context_name: Bound(source.model, many, "", True, False)}
            walk.nodes(body, env, template)
            for read in walk.results():
                self._emit(ctx, node, value, source, read)

    def _emit(
        self,
        ctx: Context,
        node: ast.AST,
        value: ast.expr,
        source: QuerySource,
        read: TemplateRead,
    ) -> None:
        payload = _payload(ctx, source, read)
        fix = _fix_tier(ctx, source, value, read.method) if payload else FixSafety.NONE
        self.report(
            ctx,
            node,
            fix=fix,
            payload=payload if fix is not FixSafety.NONE else None,
            template="the inline template" if read.template == INLINE else f"`{read.template}`",
            line=read.line,
            read=read.read,
            rows=read.rows,
            query=short(ctx, source.expr),
            model=read.model,
            relation=read.relation,
            remedy=f'{read.method}("{read.lookup}")',
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        from prodlint.fixes.eager_loads import request_eager_load

        # The render call stays as it is; the queryset is edited where the view builds it.
        return node if request_eager_load(finding, fixes) else None


def _payload(ctx: Context, source: QuerySource, read: TemplateRead) -> EagerLoadPayload | None:
    if not source.local or source.nested:
        return None
    anchor = eager_anchor(ctx, source)
    if anchor is None:
        return None
    expr = source.expr
    return EagerLoadPayload(
        ctx.char_range(expr), ctx.source_of(expr), read.method, read.lookup, anchor
    )


def _fix_tier(ctx: Context, source: QuerySource, value: ast.expr, method: str) -> FixSafety:
    """SAFE when the queryset reaches nothing but the template; UNSAFE when the view uses
    it elsewhere too; NONE where an eager load raises or changes the query."""
    names = {link.name for link in source.links}
    if names & (NO_SELECT if method == "select_related" else NO_PREFETCH):
        return FixSafety.NONE
    if method == "prefetch_related" and any(
        link.name == "iterator"
        and link.call is not None
        and not any(keyword.arg == "chunk_size" for keyword in link.call.keywords)
        and not link.call.args
        for link in source.links
    ):
        return FixSafety.NONE
    if value is source.expr:
        return FixSafety.SAFE
    if not isinstance(value, ast.Name):
        return FixSafety.UNSAFE
    scope: ast.AST = ctx.enclosing_function() or ctx.tree
    loads = sum(
        1
        for node in ast.walk(scope)
        if isinstance(node, ast.Name) and node.id == value.id and isinstance(node.ctx, ast.Load)
    )
    # The context's own read, and ``qs = qs.filter(...)`` steps building the queryset.
    rebuilt = sum(
        1
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)
        and _starts_from(node.value, value.id)
    )
    return FixSafety.SAFE if loads <= 1 + rebuilt else FixSafety.UNSAFE


def _starts_from(expr: ast.expr, name: str) -> bool:
    base = chain(expr)[0]
    return isinstance(base, ast.Name) and base.id == name
