"""Querysets the project's own methods return, as project facts.

Real apps rarely loop over ``Model.objects...`` written inline: the queryset comes from a
model method or property (``for link in doc.links_to():``), a custom manager or queryset
method (``Book.objects.published()``) or a manager whose ``get_queryset`` already loads
relations. Each such method is summarised once, from its ``return`` statements alone:
the rows it returns (``Link.objects...`` / ``self.<relation>...`` / the manager's own
rows) and the relations every return loads eagerly. The summaries of every file of the
project are project facts (``facts.py``), so a call site in ``views.py`` knows what a
method of ``models.py`` returns from ``prodlint check .``, one file, and flake8 alike.

The per-file facts do not depend on the model index: a return is kept as written
(``Link.objects``, ``self.outgoing``) and resolved against the index where it is used.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.analysis.models import ModelIndex, Relation, may_declare_models, module_classes
from prodlint.facts import FactProvider
from prodlint.rules.nplusone.orm import (
    DJANGO_MANAGERS,
    DJANGO_QUERY_METHODS,
    LAZY_METHODS,
    VALUE_METHODS,
    Link,
    QuerySource,
    binding_loop,
    chain,
    eager_lookups,
    loop_source,
    model_index,
    single_row_model,
)

PROJECT_QUERYSETS = "project-querysets"
# Method names too generic to match on the name alone, without the receiver's model: a
# dict's ``items()`` is not a model method returning rows.
GENERIC_NAMES = frozenset(
    {
        "items",
        "keys",
        "values",
        "get",
        "all",
        "copy",
        "filter",
        "children",
        "get_queryset",
        "queryset",
        "objects",
        "list",
        "search",
        "query",
        "select",
    }
)
PROPERTIES = frozenset({"property", "cached_property"})
# SQLAlchemy calls that hand back one row or a number, not rows.
SQLA_ONE_ROW = frozenset({"first", "one", "one_or_none", "scalar", "scalar_one", "get", "count"})
# What follows a session call that still hands back the rows.
SQLA_RESULTS = LAZY_METHODS | {"scalars", "all", "unique", "yield_per"}
# How a file declaring a manager or queryset class spells its bases (the pre-filter).
QUERYSET_CLASS_MARKERS = (b"Manager)", b"Manager,", b"QuerySet)", b"QuerySet,", b"QuerySet[")
# Chain methods after which an added select_related / prefetch_related raises (FieldError
# with only()/defer(), combined queries) or changes the locking: the rows are reported,
# not fixed.
UNFIXABLE = frozenset(
    {"only", "defer", "union", "intersection", "difference", "select_for_update", "raw", "values"}
)
# Methods a queryset has besides the lazy ones: a chain through them is no custom call.
DJANGO_API = LAZY_METHODS | VALUE_METHODS | DJANGO_QUERY_METHODS


@dataclass(frozen=True)
class Returned:
    """One ``return`` of queryset rows, as written."""

    # "manager" (Model.<manager>...), "relation" (self.<rel>...), "own" (self...); for
    # SQLAlchemy "select" (select(M)...), "query" (session.query(M)...), "scalars"
    # (session.scalars(select(M))..., rows already fetched)
    kind: str
    model: str | None  # for "manager" and SQLAlchemy: the model class named
    attr: str | None  # for "manager": the manager attribute; for "relation": the relation
    eager: frozenset[str] | None  # relations the chain loads; None: cannot tell
    methods: frozenset[str]  # every method the chain calls (a fix must not follow only())


@dataclass(frozen=True)
class Summary:
    owner: str  # the class the method is defined on
    name: str
    prop: bool  # read as an attribute (``@property`` / ``@cached_property``)
    # What every return hands back; None when some path returns anything else.
    returns: tuple[Returned, ...] | None


@dataclass(frozen=True)
class ClassReturns:
    name: str
    bases: tuple[str, ...]
    queryset_class: bool  # a Manager / QuerySet subclass: its rows are its model's
    methods: tuple[Summary, ...]


FileReturns = list[ClassReturns]


@dataclass
class ProjectReturns:
    """Summaries by class, and by method name for receivers of unknown model."""

    classes: dict[str, ClassReturns] = field(default_factory=dict)
    by_name: dict[str, list[Summary]] = field(default_factory=dict)
    twice: set[str] = field(default_factory=set)  # class names declared twice, differently

    def add(self, declared: ClassReturns) -> None:
        known = self.classes.get(declared.name)
        if known is not None:
            if known != declared:
                self.twice.add(declared.name)
            return
        self.classes[declared.name] = declared
        for summary in declared.methods:
            self.by_name.setdefault(summary.name, []).append(summary)

    def method(self, owner: str, name: str) -> Summary | None:
        """``name`` on class ``owner`` or a project base class of it."""
        seen: set[str] = set()
        pending = [owner]
        while pending:
            current = pending.pop(0)
            if current in seen or current in self.twice:
                continue
            seen.add(current)
            declared = self.classes.get(current)
            if declared is None:
                continue
            found = next((s for s in declared.methods if s.name == name), None)
            if found is not None:
                return found
            pending.extend(declared.bases)
        return None

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(self.classes):
            digest.update(repr(self.classes[name]).encode())
        digest.update(repr(sorted(self.twice)).encode())
        return digest.hexdigest()


def _base_names(cls: ast.ClassDef) -> tuple[str, ...]:
    names: list[str] = []
    for base in cls.bases:
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute):
            # BaseManager.from_queryset(BookQuerySet): both are bases of what it makes
            names += [n for n in (last_name(base.func.value), *map(last_name, base.args)) if n]
        elif isinstance(base, ast.Subscript):
            names += [n for n in (last_name(base.value),) if n]
        elif (name := last_name(base)) is not None:
            names.append(name)
    return tuple(names)


def own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a function body, nested blocks included, not those of functions
    or classes nested in it (statements only: a summary reads returns and assignments)."""
    pending: list[ast.stmt] = list(body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if block:
                pending.extend(block)
        handlers = getattr(node, "handlers", None)  # try / try-star (3.11)
        if handlers:
            for handler in handlers:
                pending.extend(handler.body)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                pending.extend(case.body)


def _shape(expr: ast.expr, queryset_class: bool) -> Returned | None:
    """What ``return <expr>`` hands back, or None when it is not recognisably rows. Rows of
    a model this cannot name (``self.request.event.categories.prefetch_related(...)``)
    still say what they load: "unknown" rows, for a caller's prefetch test."""
    found = _known_shape(expr, queryset_class)
    if found is not None:
        return found
    links = chain(expr)[1]
    eager = eager_lookups(links)
    if (
        eager
        and links[-1].call is not None
        and all(link.call is None or link.name in LAZY_METHODS for link in links)
    ):
        methods = frozenset(link.name for link in links if link.call is not None)
        return Returned("unknown", None, None, frozenset(eager), methods)
    return None


def _known_shape(expr: ast.expr, queryset_class: bool) -> Returned | None:
    base, links = chain(expr)
    if isinstance(base, ast.Await):
        # ``(await session.scalars(select(M))).all()``: an async session's result
        base, inner = chain(base.value)
        links = inner + links
    called = [link for link in links if link.call is not None]
    if any(link.name in DJANGO_QUERY_METHODS or link.name in VALUE_METHODS for link in called):
        return None  # a row, a number or plain values
    methods = frozenset(link.name for link in called)
    eager = eager_lookups(links)
    frozen = None if eager is None else frozenset(eager)
    found = _sqla_shape(base, links, frozen, methods)
    if found is not None:
        return found
    if isinstance(base, ast.Name) and base.id == "self":
        if not links:
            return None
        head = links[0]
        if head.call is None and len(links) >= 2 and links[1].call is not None:
            if head.name == "model" and queryset_class:
                # self.model.objects.filter(...) / self.model._default_manager...
                return Returned("own", None, None, frozen, methods)
            return Returned("relation", None, head.name, frozen, methods)
        if head.call is not None and queryset_class:
            return Returned("own", None, None, frozen, methods)
        return None
    if (
        isinstance(base, ast.Call)
        and isinstance(base.func, ast.Name)
        and base.func.id == "super"
        and queryset_class
        and links
        and links[0].call is not None
    ):
        return Returned("own", None, None, frozen, methods)
    model = last_name(base)
    if (
        model is not None
        and model[:1].isupper()
        and len(links) >= 2
        and links[0].call is None
        and links[1].call is not None
    ):
        return Returned("manager", model, links[0].name, frozen, methods)
    return None


def _selected(expr: ast.expr) -> tuple[str, list[Link]] | None:
    """``select(M).where(...)`` -> (``M``, its links)."""
    base, links = chain(expr)
    if (
        isinstance(base, ast.Call)
        and last_name(base.func) == "select"
        and len(base.args) == 1
        and (model := last_name(base.args[0])) is not None
        and model[:1].isupper()
        and all(link.call is not None and link.name in LAZY_METHODS for link in links)
    ):
        return model, links
    return None


def _sqla_shape(
    base: ast.expr, links: list[Link], eager: frozenset[str] | None, methods: frozenset[str]
) -> Returned | None:
    """A repository method's ``select(M)...``, ``session.query(M)...`` or
    ``session.scalars(select(M)...)...`` (sync or async)."""
    if any(link.name in SQLA_ONE_ROW for link in links if link.call is not None):
        return None
    selected = _selected(chain_of(base, links))
    if selected is not None:
        return Returned("select", selected[0], None, eager, methods)
    for position, link in enumerate(links):
        if link.call is None or not _on_session(base, links, position):
            continue
        rest = links[position + 1 :]
        if any(step.call is None or step.name not in SQLA_RESULTS for step in rest):
            return None
        if link.name == "query" and len(link.call.args) == 1:
            model = last_name(link.call.args[0])
            return Returned("query", model, None, eager, methods) if model else None
        if link.name in ("scalars", "execute") and link.call.args:
            inner = _selected(link.call.args[0])
            if inner is None or (link.name == "execute" and "scalars" not in methods):
                return None
            loaded = eager_lookups(inner[1])
            both = None if eager is None or loaded is None else eager | frozenset(loaded)
            return Returned("scalars", inner[0], None, both, methods)
        return None
    return None


def chain_of(base: ast.expr, links: list[Link]) -> ast.expr:
    """The expression ``chain`` split into ``base`` and ``links``."""
    return links[-1].node if links else base


def _on_session(base: ast.expr, links: list[Link], position: int) -> bool:
    """Link ``position`` is called on a session: ``session.x()``, ``self.session.x()``,
    ``db.session.x()``, ``self._session.x()``."""
    owner = last_name(base) if position == 0 else links[position - 1].name
    return owner is not None and "session" in owner.lower()


def _returns(
    func: ast.FunctionDef | ast.AsyncFunctionDef, queryset_class: bool
) -> tuple[Returned, ...] | None:
    returns: list[ast.expr] = []
    for node in own_statements(func.body):
        if isinstance(node, (ast.Expr, ast.Assign)) and isinstance(
            node.value, (ast.Yield, ast.YieldFrom)
        ):
            return None  # a generator
        if isinstance(node, ast.Return):
            if node.value is None:
                return None
            returns.append(node.value)
    if not returns:
        return None
    assigned = assignments(func.body)
    shapes: list[Returned] = []
    for value in returns:
        found = returned_value(value, assigned, queryset_class)
        if found is None:
            return None
        shapes.extend(found)
    return tuple(shapes)


def assignments(body: list[ast.stmt]) -> dict[str, list[ast.expr]]:
    """The values assigned to each plain name in a function body (or a module's)."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in own_statements(body):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
    return assigned


def returned_value(
    value: ast.expr, assigned: dict[str, list[ast.expr]], queryset_class: bool
) -> list[Returned] | None:
    """The shapes ``return value`` can hand back. ``qs = Model.objects...`` then
    ``qs = qs.filter(...)`` on some paths: the first assignment is the rows, the later ones
    narrow them; a relation any of them loads counts as loaded (the summary errs towards
    not reporting)."""
    if isinstance(value, ast.IfExp):
        left = returned_value(value.body, assigned, queryset_class)
        right = returned_value(value.orelse, assigned, queryset_class)
        return None if left is None or right is None else left + right
    base, tail = chain(value)
    if not isinstance(base, ast.Name) or base.id not in assigned:
        shape = _shape(value, queryset_class)
        return None if shape is None else [shape]
    if any(link.call is None or link.name not in LAZY_METHODS for link in tail):
        return None
    loaded_after = eager_lookups(tail)
    roots: list[Returned] = []
    added: set[str] = loaded_after or set()
    methods: set[str] = {link.name for link in tail}
    unknown = loaded_after is None
    for expr in assigned[base.id]:
        root, links = chain(expr)
        if isinstance(root, ast.Name) and root.id == base.id:
            loaded = eager_lookups(links)
            unknown = unknown or loaded is None
            added |= loaded or set()
            methods |= {link.name for link in links if link.call is not None}
            continue
        shape = _shape(expr, queryset_class)
        if shape is None:
            return None
        roots.append(shape)
    if not roots:
        return None
    return [
        Returned(
            root.kind,
            root.model,
            root.attr,
            None if unknown or root.eager is None else root.eager | added,
            root.methods | methods,
        )
        for root in roots
    ]


def _is_property(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(last_name(decorator) in PROPERTIES for decorator in func.decorator_list)


def extract_returns(tree: ast.Module) -> FileReturns:
    """Every class of the module with methods returning rows; a Manager / QuerySet class
    is kept with all its public methods, the others with the rows-returning ones only (a
    call to any other method of a queryset class is then known not to be rows)."""
    found: FileReturns = []
    for statement in module_classes(tree):
        bases = _base_names(statement)
        queryset_class = any(base.endswith(("Manager", "QuerySet")) for base in bases)
        methods: list[Summary] = []
        for func in statement.body:
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if func.name.startswith("_") and func.name != "get_queryset":
                continue
            returns = _returns(func, queryset_class)
            if returns is None and not queryset_class:
                continue
            methods.append(Summary(statement.name, func.name, _is_property(func), returns))
        if methods:
            found.append(ClassReturns(statement.name, bases, queryset_class, tuple(methods)))
    return found


class ReturnsProvider(FactProvider[FileReturns, ProjectReturns]):
    """The querysets the project's methods return, read from every file that can hold a
    model, a manager or a queryset class."""

    key = PROJECT_QUERYSETS

    def may_contain(self, data: bytes) -> bool:
        return b"return" in data and (
            may_declare_models(data) or any(marker in data for marker in QUERYSET_CLASS_MARKERS)
        )

    def extract(self, tree: ast.Module) -> FileReturns | None:
        return extract_returns(tree) or None

    def build(self, facts: Sequence[FileReturns]) -> ProjectReturns:
        project = ProjectReturns()
        for declared in facts:
            for cls in declared:
                project.add(cls)
        return project

    def fingerprint(self, built: ProjectReturns) -> str:
        return built.fingerprint()


def project_returns(ctx: Context) -> ProjectReturns:
    """The project's summaries with this file's own (a file checked alone, or edited since
    the facts were read, is still summarised from its text)."""

    def build() -> ProjectReturns:
        merged = ProjectReturns()
        # Asked for only when a loop's rows come from a call, so the file's own classes
        # are read whatever the project pre-filter says (a view's prefetching property).
        for cls in extract_returns(ctx.tree):
            merged.add(cls)
        project = ctx.settings.get(PROJECT_QUERYSETS)
        if isinstance(project, ProjectReturns):
            for cls in project.classes.values():
                if cls.name not in merged.classes or merged.classes[cls.name] == cls:
                    merged.add(cls)
            merged.twice |= project.twice
        return merged

    return ctx.memo("nplusone.returns", build)


@dataclass(frozen=True)
class Rows:
    """What a call of a summarised method returns, resolved against the model index."""

    model: str
    eager: set[str] | None
    methods: frozenset[str]
    framework: str = "django"
    # A statement or query object a fix can add ``.options(...)`` to (not fetched rows).
    statement: bool = True


def resolve(
    summary: Summary,
    index: ModelIndex,
    project: ProjectReturns,
    model: str | None = None,
    depth: int = 0,
) -> Rows | None:
    """The rows every return of ``summary`` hands back (``model``: the model a manager or
    queryset method is called for), or None when they are not rows of one known model."""
    if summary.returns is None or depth > 3:
        return None
    results: list[Rows] = []
    for returned in summary.returns:
        if returned.kind == "unknown":
            return None
        if returned.kind in ("select", "query", "scalars") or (
            returned.kind == "manager" and returned.attr == "query"  # Flask-SQLAlchemy
        ):
            assert returned.model is not None
            loaded = {n for n, r in _relations(index, returned.model) if r.eager}
            eager = None if returned.eager is None else set(returned.eager) | loaded
            results.append(
                Rows(
                    returned.model,
                    eager,
                    returned.methods,
                    "sqlalchemy",
                    returned.kind != "scalars" and not returned.methods & {"all", "scalars"},
                )
            )
            continue
        if returned.kind == "manager":
            assert returned.model is not None and returned.attr is not None
            if returned.attr not in DJANGO_MANAGERS and returned.attr not in index.managers_of(
                returned.model
            ):
                return None
            base = manager_eager(returned.model, returned.attr, index, project, depth + 1)
            rows_model: str | None = returned.model
        elif returned.kind == "relation":
            assert returned.attr is not None
            relation = index.relation(summary.owner, returned.attr)
            if relation is None or not relation.many or relation.target is None:
                return None
            rows_model, base = relation.target, set()
        else:
            # The manager's own rows: what its get_queryset loads the call site adds.
            rows_model, base = model or manager_model(summary.owner, index), set()
        if rows_model is None:
            return None
        eager = None if base is None or returned.eager is None else base | returned.eager
        results.append(Rows(rows_model, eager, returned.methods))
    first = results[0] if results else None
    if first is None or any(
        (rows.model, rows.framework) != (first.model, first.framework) for rows in results
    ):
        return None
    # A relation is loaded when every return loads it; None (cannot tell) wins.
    eager = first.eager
    for rows in results[1:]:
        eager = None if eager is None or rows.eager is None else eager & rows.eager
    return Rows(
        first.model,
        eager,
        frozenset().union(*(r.methods for r in results)),
        first.framework,
        all(rows.statement for rows in results),
    )


def _relations(index: ModelIndex, model: str) -> list[tuple[str, Relation]]:
    info = index.get(model)
    return list(info.relations.items()) if info is not None else []


def manager_model(owner: str, index: ModelIndex) -> str | None:
    """The one model whose managers are built from the class ``owner``."""
    models = [
        name
        for name, info in index.models.items()
        if any(owner in classes for classes in info.manager_classes.values())
    ]
    return models[0] if len(models) == 1 else None


def manager_eager(
    model: str, manager: str | None, index: ModelIndex, project: ProjectReturns, depth: int = 0
) -> set[str] | None:
    """What ``model``'s manager loads before any call (its ``get_queryset`` override):
    empty for Django's plain manager, None when an override cannot be read."""
    for owner in index.manager_classes_of(model, manager):
        summary = project.method(owner, "get_queryset")
        if summary is None:
            continue
        rows = resolve(summary, index, project, model, depth)
        return None if rows is None else rows.eager
    return set()


def manager_chain(
    ctx: Context, model: str, links: list[Link], manager: int
) -> tuple[set[str] | None, int | None] | None:
    """For ``Model.<manager>.<calls>``: what the manager's ``get_queryset`` and the
    project's own manager / queryset methods in the chain load eagerly, and the link after
    which a fix can add an eager load (None: no fix). None when a custom call returns
    something else than rows.

    The fix goes after the last custom call: ``Book.objects.published()`` becomes
    ``Book.objects.published().select_related(...)``, since inserting it before would call
    ``published`` on a plain QuerySet that may not have it."""
    index = model_index(ctx)
    project = project_returns(ctx)
    name = links[manager].name
    loaded = manager_eager(model, name, index, project)
    anchor: int | None = manager
    classes = index.manager_classes_of(model, name) or index.manager_classes_of(model)
    for position in range(manager + 1, len(links)):
        link = links[position]
        if link.call is None:
            anchor = None
            continue
        if link.name in DJANGO_API:
            continue
        summary = next(
            (s for owner in classes if (s := project.method(owner, link.name)) is not None),
            None,
        )
        if summary is None:
            anchor = None  # a manager method declared outside the project
            continue
        rows = resolve(summary, index, project, model)
        if rows is None:
            return None
        loaded = None if loaded is None or rows.eager is None else loaded | rows.eager
        anchor = None if anchor is None or rows.methods & UNFIXABLE else position
    return loaded, anchor


def receiver_model(ctx: Context, receiver: ast.expr) -> str | None:
    """The model of the object a method is called on, when it can be told: ``self`` in a
    model class, a row of a loop over a query, one fetched row, an annotated parameter."""
    if not isinstance(receiver, ast.Name):
        return None
    name = receiver.id
    if name == "self":
        cls = ctx.enclosing_class()
        return cls.name if cls is not None else None
    if binding_loop(ctx, name) is not None:
        source = loop_source(ctx, name)
        return source.model if source is not None else None
    found = single_row_model(ctx, receiver)
    if found is not None:
        return found
    func = ctx.enclosing_function()
    if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for arg in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs):
            if arg.arg == name and arg.annotation is not None:
                annotated = last_name(arg.annotation)
                if isinstance(arg.annotation, ast.Constant) and isinstance(
                    arg.annotation.value, str
                ):
                    annotated = arg.annotation.value.rpartition(".")[2]
                return annotated if annotated and annotated[:1].isupper() else None
    return None


def method_rows(
    ctx: Context, receiver: ast.expr, links: list[Link], expr: ast.expr
) -> QuerySource | None:
    """Rows of ``obj.method()`` / ``obj.prop`` (then lazy calls) where the project declares
    what ``method`` returns. The receiver's model picks the method when it is known;
    otherwise the name must be declared once in the project and not be a generic one."""
    head = links[0]
    project = project_returns(ctx)
    if head.name not in project.by_name:
        return None  # the cheap test: no method of that name returns rows
    index = model_index(ctx)
    owner = receiver_model(ctx, receiver)
    summary: Summary | None
    if owner is not None:
        summary = project.method(owner, head.name)
    else:
        candidates = set(project.by_name[head.name])
        if head.name in GENERIC_NAMES or len(candidates) != 1:
            return None
        summary = candidates.pop()
    if summary is None or summary.prop != (head.call is None):
        return None
    declared = project.classes.get(summary.owner)
    model = manager_model(summary.owner, index) if declared and declared.queryset_class else None
    rows = resolve(summary, index, project, model)
    if rows is None:
        return None
    later = eager_lookups(links[1:])
    eager = None if rows.eager is None or later is None else rows.eager | later
    served = _prefetch_served(ctx, receiver, summary)
    if served is not False:
        # Rows from the outer query's prefetch cache: an eager load added here would
        # bypass it (a query per outer row); the outer prefetch is the place.
        eager = None if served is None or eager is None else eager | served
    fixable = not rows.methods & UNFIXABLE and rows.statement and served is False
    return QuerySource(rows.framework, rows.model, expr, links, fixable, eager, anchor=0)


def _prefetch_served(
    ctx: Context, receiver: ast.expr, summary: Summary
) -> set[str] | Literal[False] | None:
    """A method returning ``self.<rel>.all()`` called on a row of a loop whose query
    prefetched ``<rel>``: the prefetch serves it, with what it loaded below (``<rel>__x``);
    None when that query's loads are unknown (cannot tell); False when no prefetch serves
    the rows."""
    returns = summary.returns or ()
    attrs = {returned.attr for returned in returns}
    if (
        not returns
        or len(attrs) != 1
        or any(r.kind != "relation" or not r.methods <= {"all"} for r in returns)
        or not isinstance(receiver, ast.Name)
        or binding_loop(ctx, receiver.id) is None
    ):
        return False
    outer = loop_source(ctx, receiver.id)
    if outer is None:
        return False
    if outer.eager is None:
        return None
    head = f"{attrs.pop()}__"
    if not any(lookup == head[:-2] or lookup.startswith(head) for lookup in outer.eager):
        return False
    return {lookup[len(head) :] for lookup in outer.eager if lookup.startswith(head)}


def written_eager(ctx: Context, iterable: ast.expr) -> set[str]:
    """The relations an iterable's own chain loads, with what the project method or
    property it starts from loads on every return, whatever its model
    (``self.categories`` returning ``....prefetch_related("limit_tracks")``)."""
    base, links = chain(iterable)
    written = eager_lookups(links) or set()
    if not links:
        return written
    head = links[0]
    project = project_returns(ctx)
    candidates = project.by_name.get(head.name, [])
    owner = receiver_model(ctx, base)
    summary = project.method(owner, head.name) if owner is not None else None
    if summary is None and len(candidates) == 1 and head.name not in GENERIC_NAMES:
        summary = candidates[0]
    if summary is None or summary.returns is None or summary.prop != (head.call is None):
        return written
    common: set[str] | None = None
    for returned in summary.returns:
        loaded = set(returned.eager or ())
        common = loaded if common is None else common & loaded
    return written | (common or set())


def statement_rows(ctx: Context, expr: ast.expr) -> Rows | None:
    """``repo.active_stmt()`` handed to ``session.scalars(...)``: the ``select(M)`` a
    project method returns."""
    if not isinstance(expr, ast.Call):
        return None
    base, links = chain(expr)
    if len(links) != 1 or links[0].call is None:
        return None
    source = method_rows(ctx, base, links, expr)
    if source is None or source.framework != "sqlalchemy" or source.model is None:
        return None
    return Rows(source.model, source.eager, frozenset(), "sqlalchemy", source.local)
