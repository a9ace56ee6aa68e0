"""What the N+1 rules share: recognising ORM query chains (Django managers and querysets,
related managers, SQLAlchemy sessions and ``select()``), telling a loop variable's model,
and knowing which relations a queryset already loads eagerly.

Everything here works on stdlib ``ast`` and is memoised on the ``Context`` so each loop and
each queryset is analysed once per file however many attribute accesses ask about it.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field

from prodlint.analysis.context import COMPREHENSION_NODES, Context
from prodlint.analysis.flow import FlowOwner, FunctionFlow, assignment_to, flow_at, flow_of
from prodlint.analysis.imports import last_name
from prodlint.analysis.models import (
    PROJECT_MODELS,
    ModelIndex,
    Relation,
    index_tree,
    may_declare_models,
)
from prodlint.analysis.scopes import FUNCTION_NODES
from prodlint.analysis.walk import CHILD_FIELDS

DJANGO_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
# Queryset methods that return another (lazy) queryset of model instances.
LAZY_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "select_related",
        "prefetch_related",
        "only",
        "defer",
        "distinct",
        "annotate",
        "alias",
        "using",
        "reverse",
        "select_for_update",
        "extra",
        "none",
        "union",
        "intersection",
        "difference",
        "complex_filter",
        "iterator",
        "filter_by",
        "where",
        "options",
        "join",
        "outerjoin",
        "limit",
        "offset",
        "group_by",
        "having",
        "execution_options",
        "with_entities",
        "unique",
        "params",
    }
)
# Queryset methods whose result is rows of plain values, not model instances.
VALUE_METHODS = frozenset({"values", "values_list", "dates", "datetimes"})
# Manager / queryset / query methods that run SQL when called.
DJANGO_QUERY_METHODS = frozenset(
    {
        "get",
        "create",
        "get_or_create",
        "update_or_create",
        "count",
        "exists",
        "first",
        "last",
        "aggregate",
        "earliest",
        "latest",
        "update",
        "delete",
        "in_bulk",
        "contains",
        "explain",
        "bulk_create",
        "bulk_update",
        "raw",
        "aget",
        "acreate",
        "aget_or_create",
        "aupdate_or_create",
        "acount",
        "aexists",
        "afirst",
        "alast",
        "aaggregate",
        "aupdate",
        "adelete",
    }
)
SQLA_QUERY_METHODS = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "count",
        "get",
        "get_or_404",
        "first_or_404",
        "one_or_404",
        "paginate",
        "update",
        "delete",
        "exists",
    }
)
SESSION_QUERY_METHODS = frozenset({"get", "execute", "scalars", "scalar", "refresh", "get_one"})
# Related-manager calls prefetch_related serves from its cache (the rest always query).
PREFETCH_SERVED = frozenset({"all", "count", "exists"})
# Builtins and statements that evaluate a lazy queryset.
EVALUATING_CALLS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "len",
        "sorted",
        "bool",
        "sum",
        "any",
        "all",
        "max",
        "min",
        "dict",
        "frozenset",
        "enumerate",
        "zip",
        "next",
        "iter",
    }
)
SQLA_LOADERS = frozenset(
    {
        "selectinload",
        "joinedload",
        "subqueryload",
        "immediateload",
        "contains_eager",
        "lazyload",
        "noload",
        "raiseload",
        "defaultload",
        "selectin_polymorphic",
        "Load",
    }
)
SQLA_MODULES = ("sqlalchemy", "flask_sqlalchemy", "sqlmodel")
# Any of these in a file's text is a precondition for the rules to look further.
ORM_WORDS = (
    "objects",
    "_manager",
    "query",
    "select(",
    "scalars",
    "session",
    "execute",
    "_set",
    "refresh_from_db",
    "prefetch_related_objects",
    ".save(",
    ".delete(",
    # a related manager read on one row (a signal handler's instance, a parameter)
    ".all()",
    ".filter(",
    ".order_by(",
)


@dataclass(frozen=True)
class Link:
    """One step of an attribute/call chain: ``.name`` (``call`` set when it is called)."""

    name: str
    node: ast.expr
    call: ast.Call | None


@dataclass
class QuerySource:
    """Where a loop's rows come from."""

    framework: str  # django | sqlalchemy
    model: str | None
    expr: ast.expr  # the queryset expression as written (the one a fix rewrites)
    links: list[Link]
    local: bool  # built in the function that loops over it, so a fix can edit it
    # Relations the query loads eagerly ("author", "author__publisher"); None: can't tell.
    eager: set[str] | None = field(default_factory=set)
    # The loop is over a related manager of another loop's row (``for b in a.books.all()``).
    nested: bool = False
    # The reverse relation the rows were read through (``author.books.all()``): Django fills
    # in each row's forward field back to ``author`` without a query.
    via: Relation | None = None
    # The link of ``chain(expr)`` after which a fix inserts the eager load; None: right after
    # the manager (or SQLAlchemy's select / query).
    anchor: int | None = None
    # Rows a parameter gets from every call site (call_sites.py): one of them, for the message.
    passed_by: str | None = None


def eager_anchor(ctx: Context, source: QuerySource) -> int | None:
    """The link of a Django source's chain after which a fix inserts an eager load: the one
    the source names, else the manager's; None when the chain has no manager to follow."""
    if source.anchor is not None:
        return source.anchor
    base, links = chain(source.expr)
    return django_manager_at(base, links, model_index(ctx))


def chain(expr: ast.expr) -> tuple[ast.expr, list[Link]]:
    """Split ``a.b(x).c[0].d()`` into its base (``a``) and links, base first. Subscripts
    are skipped (slicing a queryset keeps it a queryset)."""
    links: list[Link] = []
    while True:
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            links.append(Link(expr.func.attr, expr, expr))
            expr = expr.func.value
        elif isinstance(expr, ast.Attribute):
            links.append(Link(expr.attr, expr, None))
            expr = expr.value
        elif isinstance(expr, ast.Subscript):
            expr = expr.value
        else:
            break
    links.reverse()
    return expr, links


def model_index(ctx: Context) -> ModelIndex:
    """The project index merged with the models this file declares itself."""

    def build() -> ModelIndex:
        project = ctx.settings.get(PROJECT_MODELS)
        local = ModelIndex()
        if may_declare_models(ctx.text.encode("utf-8", "replace")):
            index_tree(ctx.tree, local)
        if not isinstance(project, ModelIndex):
            return local
        # Most files declare no model: the project's index is theirs, without a copy.
        return local.merged(project) if local.models else project

    return ctx.memo("nplusone.models", build)


def nplusone_applies(ctx: Context) -> bool:
    """The file uses an ORM and is neither a test nor a migration: loops that set up test
    data, and one-off ``RunPython`` data migrations run offline, are not queries production
    serves (``test-paths`` / ``migration-paths`` decide)."""
    return ctx.memo(
        "nplusone.applies",
        lambda: (
            (any(word in ctx.text for word in ORM_WORDS) or _handed_rows(ctx))
            and not ctx.is_test_file
            and not ctx.is_migration_file
        ),
    )


def _handed_rows(ctx: Context) -> bool:
    from prodlint.rules.nplusone.call_sites import defines_callee

    return defines_callee(ctx)  # a helper the project's calls pass rows to


def is_sqla_name(ctx: Context, expr: ast.expr, name: str) -> bool:
    """``select`` / ``selectinload``... imported from SQLAlchemy (or not imported at all,
    as in a snippet)."""
    qualified = ctx.qualified_name(expr) or ""
    return qualified == name or (
        qualified.startswith(SQLA_MODULES) and qualified.endswith("." + name)
    )


def is_session(expr: ast.expr) -> bool:
    name = (last_name(expr) or "").lower()
    return "session" in name or name in ("sess", "db_sess")


def is_model_expr(expr: ast.expr, index: ModelIndex) -> bool:
    """``Book`` / ``models.Book`` / ``self.model``: something that names a model class."""
    name = last_name(expr)
    if name is None:
        return False
    return name in index.models or name[:1].isupper() or name == "model"


def django_manager_at(base: ast.expr, links: list[Link], index: ModelIndex) -> int | None:
    """Position of the manager link in ``Model.objects...`` (or ``self.model._default_manager``)."""
    for position, link in enumerate(links):
        if link.call is not None:
            return None
        owner = base if position == 0 else links[position - 1].node
        model = last_name(owner)
        if model is None:
            continue
        if link.name in DJANGO_MANAGERS or link.name in index.managers_of(model):
            if is_model_expr(owner, index):
                return position
    return None


def model_of_expr(expr: ast.expr) -> str | None:
    name = last_name(expr)
    return None if name == "model" else name


def string_args(call: ast.Call) -> set[str] | None:
    """The lookups a select_related / prefetch_related / prefetch_related_objects call names;
    None when one of them is not a literal (we cannot tell what it loads)."""
    found: set[str] = set()
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(arg.value)
        elif isinstance(arg, ast.Call) and last_name(arg.func) == "Prefetch":
            lookup = (
                arg.args[0]
                if arg.args
                else next((kw.value for kw in arg.keywords if kw.arg == "lookup"), None)
            )
            if isinstance(lookup, ast.Constant) and isinstance(lookup.value, str):
                found.add(lookup.value)
            else:
                return None
            queryset = (
                arg.args[1]
                if len(arg.args) > 1
                else next((kw.value for kw in arg.keywords if kw.arg == "queryset"), None)
            )
            if queryset is not None:
                # Prefetch("books", queryset=Book.objects.select_related("publisher")):
                # the prefetched rows come with their own eager loads.
                inner = eager_lookups(chain(queryset)[1])
                if inner is None:
                    return None
                found |= {f"{lookup.value}__{name}" for name in inner}
        else:
            return None
    return found


def eager_lookups(links: list[Link]) -> set[str] | None:
    eager: set[str] = set()
    for link in links:
        if link.call is None:
            continue
        if link.name == "select_related":
            if not link.call.args:
                return None  # select_related() follows every non-null foreign key
            found = string_args(link.call)
            if found is None:
                return None
            eager |= found
        elif link.name == "prefetch_related":
            found = string_args(link.call)
            if found is None:
                return None
            eager |= found
        elif link.name == "options":
            for arg in link.call.args:
                found = sqla_loaded(arg)
                if found is None:
                    return None
                eager |= found
    return eager


def sqla_loaded(option: ast.expr) -> set[str] | None:
    """The relation names a loader option such as ``selectinload(User.posts).joinedload(...)``
    names; None for a wildcard or anything not spelled out."""
    names: set[str] = set()
    for node in ast.walk(option):
        if isinstance(node, ast.Call) and last_name(node.func) in SQLA_LOADERS:
            for arg in node.args:
                if isinstance(arg, ast.Attribute):
                    names.add(arg.attr)
                elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    if arg.value == "*":
                        return None
                    names.add(arg.value.rpartition(".")[2])
                else:
                    return None
    return names


def covers(eager: set[str] | None, relation: str, prefix: str = "") -> bool:
    if eager is None:
        return True
    wanted = prefix + relation
    return any(lookup == wanted or lookup.startswith(wanted + "__") for lookup in eager) or (
        # SQLAlchemy loaders name only the attribute.
        relation in eager and not prefix
    )


def assigned_chain(ctx: Context, name: ast.Name) -> tuple[ast.expr | ast.arg, list[Link]] | None:
    """For a name read where it was built up as ``qs = Model.objects...`` then possibly
    ``qs = qs.filter(...)`` (in the function, or at module level), the original expression
    (or the parameter it starts from) and the links applied to it afterwards, in source
    order; None if a definition reaching the read binds it any other way (a loop target,
    ``+=``), or two unrelated ones reach it. The definitions are those the function's flow
    says can reach the read (``FunctionFlow.definitions_reaching``)."""
    func = ctx.enclosing_function()
    bindings = (ctx.scope_of(func) if func is not None else ctx.module_scope).bindings
    known = bindings.get(name.id)
    # The cheap answers first, the same the flow would give: a name the function never
    # binds is none of its queries, one it binds only as a parameter is that parameter.
    if not known or isinstance(func, ast.Lambda):
        return None
    if len(known) == 1 and known[0].kind == "param" and isinstance(known[0].node, ast.arg):
        return known[0].node, []
    found = name_flow(ctx, name)
    if found is None:
        return None
    flow, at = found
    return ctx.memo(f"nplusone.chain.{id(name)}", lambda: _chain_back(flow, at, name.id))


def name_flow(ctx: Context, name: ast.Name) -> tuple[FunctionFlow, ast.stmt] | None:
    """The flow of the function being visited (the module at its top level) and the
    statement of it that holds the reference ``name``; None inside a lambda."""
    func = ctx.enclosing_function()
    if isinstance(func, ast.Lambda):
        return None
    flow = flow_of(ctx, func if func is not None else ctx.tree)
    at = flow.statement_of(name)
    return None if at is None else (flow, at)


def _chain_back(
    flow: FunctionFlow, at: ast.stmt, name: str
) -> tuple[ast.expr | ast.arg, list[Link]] | None:
    root: ast.expr | ast.arg | None = None
    steps: dict[int, tuple[ast.stmt, list[Link]]] = {}
    pending, done = [at], set()
    while pending:
        statement = pending.pop()
        if id(statement) in done:
            continue
        done.add(id(statement))
        reaching = flow.definitions_reaching(statement, name)
        if reaching.from_start:
            param = parameter(flow.owner, name)
            if param is None or (root is not None and root is not param):
                return None
            root = param
        for binding in reaching.definitions:
            kind, value = assignment_to(binding, name)
            if kind != "assign" or value is None:
                return None
            base, links = chain(value)
            if isinstance(base, ast.Name) and base.id == name:
                steps[id(binding)] = (binding, links)
                pending.append(binding)
            elif root is None:
                root = value
            elif root is not value:
                return None
    if root is None:
        return None
    ordered = sorted(steps.values(), key=lambda step: (step[0].lineno, step[0].col_offset))
    return root, [link for _, links in ordered for link in links]


def parameter(owner: FlowOwner, name: str) -> ast.arg | None:
    """The parameter ``name`` of a function (none of a module)."""
    if isinstance(owner, ast.Module):
        return None
    args = owner.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None and arg.arg == name:
            return arg
    return None


# What a stored queryset or SQLAlchemy result is iterated through.
RESULT_METHODS = LAZY_METHODS | {"scalars", "unique", "yield_per"}
# ... and a stored ``in_bulk()`` dict's ``values()``.
STORED_METHODS = RESULT_METHODS | {"values"}
# Annotations of a parameter that hand a function rows of a model.
ROW_CONTAINERS = frozenset(
    {
        "QuerySet",
        "Manager",
        "BaseManager",
        "Iterable",
        "Iterator",
        "Sequence",
        "Collection",
        "list",
        "List",
        "AsyncIterable",
        "AsyncIterator",
    }
)


def annotated_model(annotation: ast.expr | None) -> str | None:
    """``QuerySet[Order]`` / ``Iterable["Order"]`` / ``list[Order]`` -> ``Order``."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if (
        not isinstance(annotation, ast.Subscript)
        or last_name(annotation.value) not in ROW_CONTAINERS
    ):
        return None
    inner = annotation.slice
    if isinstance(inner, ast.Tuple) and inner.elts:
        inner = inner.elts[0]
    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
        return inner.value.rpartition(".")[2] or None
    name = last_name(inner)
    return name if name and name[:1].isupper() else None


# Calls on a manager that return one model instance.
SINGLE_ROW = frozenset(
    {"get", "first", "last", "earliest", "latest", "aget", "afirst", "alast", "get_or_create"}
)


def single_row_model(ctx: Context, expr: ast.expr) -> str | None:
    """The model of the one row ``expr`` holds: ``Model.objects.get(...)``,
    ``get_object_or_404(Model, ...)``, or a local name assigned one of those; a parameter
    annotated with a model of the project, or the ``instance`` a signal handler receives
    (fresh from ``save()``: nothing of it is prefetched)."""
    if isinstance(expr, ast.Name):
        found = assigned_chain(ctx, expr)
        if found is None or found[1]:
            return None
        if isinstance(found[0], ast.arg):
            return _parameter_row(ctx, found[0])
        expr = found[0]
    if isinstance(expr, ast.Await):
        expr = expr.value
    if (
        isinstance(expr, ast.Call)
        and last_name(expr.func) in ("get_object_or_404", "aget_object_or_404")
        and expr.args
    ):
        return model_of_expr(expr.args[0])
    base, links = chain(expr)
    manager = django_manager_at(base, links, model_index(ctx))
    if manager is None or not links[-1].call or links[-1].name not in SINGLE_ROW:
        return None
    return model_of_expr(base if manager == 0 else links[manager - 1].node)


# Signals whose handlers get the saved or deleted row as ``instance``.
MODEL_SIGNALS = frozenset(
    {"post_save", "pre_save", "post_delete", "pre_delete", "post_init", "m2m_changed"}
)


def _parameter_row(ctx: Context, param: ast.arg) -> str | None:
    annotation = param.annotation
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        name: str | None = annotation.value.rpartition(".")[2]
    else:
        name = last_name(annotation) if annotation is not None else None
    if name and model_index(ctx).is_declared(name):
        return name
    from prodlint.rules.nplusone.call_sites import passed_row

    passed = passed_row(ctx, param)  # one instance every call site in the project passes
    if passed is not None:
        return passed
    if param.arg != "instance":
        return None
    func = ctx.enclosing_function()
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    return signal_sender(ctx, func)


def signal_sender(ctx: Context, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The model a signal handler is connected for: ``@receiver(post_save, sender=M)``
    or ``post_save.connect(handler, sender=M)`` in the same module."""
    calls = [d for d in func.decorator_list if isinstance(d, ast.Call)]
    if not calls:
        calls = [
            node
            for node in ctx.memo("nplusone.connects", lambda: _connect_calls(ctx.tree))
            if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == func.name
        ]
    for call in calls:
        if last_name(call.func) not in ("receiver", "connect"):
            continue
        signal = call.args[0] if call.args and last_name(call.func) == "receiver" else call.func
        if isinstance(signal, ast.Attribute) and last_name(call.func) == "connect":
            signal = signal.value
        if last_name(signal) not in MODEL_SIGNALS:
            continue
        sender = next((kw.value for kw in call.keywords if kw.arg == "sender"), None)
        if sender is not None:
            return model_of_expr(sender)
    return None


def _connect_calls(tree: ast.Module) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "connect"
    ]


# Calls that iterate the rows they are given (``list(qs)``, ``tqdm(qs)``).
ROW_WRAPPERS = frozenset({"list", "tuple", "enumerate", "reversed", "sorted", "iter", "tqdm"})


def unwrap_rows(expr: ast.expr) -> ast.expr:
    """``list(qs)`` / ``enumerate(qs)`` / ``tqdm(qs)`` iterate the queryset they are given;
    ``await session.scalars(...)`` is the async session's result."""
    while True:
        if isinstance(expr, ast.Await):
            expr = expr.value
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.args
            and expr.func.id in ROW_WRAPPERS
        ):
            expr = expr.args[0]
        else:
            return expr


def query_source(ctx: Context, iterable: ast.expr, depth: int = 0) -> QuerySource | None:
    """What a loop iterates, when it is model instances from a query."""
    if depth > 3:
        return None
    index = model_index(ctx)
    expr = unwrap_rows(iterable)
    local = True
    base, links = chain(expr)
    # Follow local names back to the query: ``qs = M.objects...; top = qs[:10]`` then
    # ``for row in top.iterator()``; a parameter annotated ``QuerySet[M]`` is rows of M.
    for _hop in range(4):
        if not isinstance(base, ast.Name) or base.id[:1].isupper() or is_session(base):
            break
        if any(link.call is None or link.name not in STORED_METHODS for link in links):
            # ``data.items()``, ``obj.rel.all()``: not a stored queryset (the cheap test first)
            break
        found = assigned_chain(ctx, base)
        if found is None:
            break
        root, extra = found
        if isinstance(root, ast.arg):
            model = annotated_model(root.annotation)
            if model is None:
                # A private helper every call of which (in this file) passes a queryset.
                handed = _passed_rows(ctx, root)
                if handed is None:
                    from prodlint.rules.nplusone.call_sites import passed_by_callers

                    # A function every call of which in the project passes rows.
                    callers = passed_by_callers(ctx, root, expr, extra + links)
                    if callers is not None:
                        return callers
                    break
                model, loaded = handed
                eager = eager_lookups(extra + links)
                eager = None if eager is None or loaded is None else eager | loaded
                return QuerySource("django", model, expr, extra + links, False, eager)
            links = extra + links
            eager = eager_lookups(links)
            info = index.get(model)
            framework = info.framework if info is not None else "django"
            passed = _passed_eager(ctx, root)
            if eager is not None:
                eager = None if passed is None else eager | passed
            return QuerySource(framework, model, expr, links, False, eager)
        expr = unwrap_rows(root)
        base, inner = chain(expr)
        links = inner + extra + links
    runs = DJANGO_QUERY_METHODS - {"raw"}
    if (
        len(links) >= 2
        and links[-1].name == "values"
        and links[-1].call is not None
        and not links[-1].call.args
        and links[-2].name == "in_bulk"
    ):
        # ``Model.objects.in_bulk(ids).values()``: the rows of the dict in_bulk returns.
        links, runs = links[:-1], runs - {"in_bulk"}
    if any(link.name in VALUE_METHODS for link in links):
        return None
    single = next(
        (
            position
            for position, link in enumerate(links)
            if link.call is not None and link.name in runs
        ),
        None,
    )
    if single is not None:
        # ``M.objects.get(...).books.all()``: the related rows of one object.
        if links[single].name in SINGLE_ROW and single + 1 < len(links):
            model = single_row_model(ctx, links[single].node)
            if model is not None:
                return _manager_rows(model, links[single + 1 :], expr, index, single + 1)
        return None  # get(), count(), first()... is one row or a number, not rows
    manager = django_manager_at(base, links, index)
    if manager is not None:
        from prodlint.rules.nplusone.returns import manager_chain

        owner = base if manager == 0 else links[manager - 1].node
        model = model_of_expr(owner)
        eager = eager_lookups(links)
        if model is None:
            return QuerySource("django", model, expr, links, local, eager)
        custom = manager_chain(ctx, model, links, manager)
        if custom is None:
            return None  # a custom manager method that returns no rows
        loaded, anchor = custom
        eager = None if eager is None or loaded is None else eager | loaded
        return QuerySource(
            "django", model, expr, links, local and anchor is not None, eager, anchor=anchor
        )
    sqla = _sqla_source(ctx, base, links, expr, index)
    if sqla is not None:
        sqla.local = local
        return sqla
    related = _related_source(ctx, base, links, expr, index, depth)
    if related is None and links and (model := single_row_model(ctx, base)) is not None:
        related = _manager_rows(model, links, expr, index, 0)
        if related is not None and isinstance(base, ast.Name):
            _served_by_row_prefetch(ctx, base, links, related)
    if (
        related is None
        and links
        and all(link.call is not None and link.name in LAZY_METHODS for link in links[1:])
    ):
        from prodlint.rules.nplusone.returns import method_rows

        related = method_rows(ctx, base, links, expr)
    return related


def _passed_rows(ctx: Context, param: ast.arg) -> tuple[str, set[str] | None] | None:
    """For a parameter of a private helper (``_name``, or a function nested in another):
    the model and eager loads of the queryset every call of it in this file passes
    (``_rows(Book.objects.filter(...))``, or a name assigned one); None when a call passes
    anything else, or there is none. A private helper is called from its own module."""
    func = ctx.enclosing_function()
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    nested = any(f is not func for f in ctx.enclosing_functions())
    if not (func.name.startswith("_") or nested) or func.name.startswith("__"):
        return None
    params = [arg.arg for arg in (*func.args.posonlyargs, *func.args.args)]
    if param.arg not in params:
        return None
    position = params.index(param.arg) - (1 if params[0] in ("self", "cls") else 0)
    if ctx.text.count(func.name) < 2:
        return None  # named only where it is defined: no call in the file (the cheap test)

    def scan() -> tuple[str, set[str] | None] | None:
        index = model_index(ctx)
        found: list[tuple[str, set[str] | None]] = []
        for call, caller in calls_of(ctx, func.name):
            given = next((kw.value for kw in call.keywords if kw.arg == param.arg), None)
            if given is None and 0 <= position < len(call.args):
                given = call.args[position]
            if given is None or any(isinstance(arg, ast.Starred) for arg in call.args):
                return None
            given = unwrap_rows(given)
            if isinstance(given, ast.Name):
                given = flow_of(ctx, caller if caller is not None else ctx.tree).value_reaching(
                    given
                )
                if given is None:
                    return None
            base, links = chain(given)
            manager = django_manager_at(base, links, index)
            owner = base if manager == 0 else links[manager - 1].node if manager else None
            model = model_of_expr(owner) if owner is not None else None
            if model is None or any(link.name in VALUE_METHODS for link in links):
                return None
            found.append((model, eager_lookups(links)))
        if not found or any(model != found[0][0] for model, _ in found):
            return None
        eager = found[0][1]
        for _, loaded in found[1:]:
            eager = None if eager is None or loaded is None else eager & loaded
        return found[0][0], eager

    return ctx.memo(f"nplusone.passed-rows.{id(func)}.{param.arg}", scan)


Caller = ast.FunctionDef | ast.AsyncFunctionDef | None


def calls_of(ctx: Context, name: str) -> list[tuple[ast.Call, Caller]]:
    """Every call of the plain or ``self.`` name ``name`` in the file, with the function it
    is in. Only statements spanning a line that holds the name are walked."""

    def scan() -> list[tuple[ast.Call, Caller]]:
        hits = [number for number, line in enumerate(ctx.lines, 1) if name in line]
        found: list[tuple[ast.Call, Caller]] = []
        pending: list[tuple[ast.AST, Caller]] = [(ctx.tree, None)]
        while pending:
            node, func = pending.pop()
            if isinstance(node, ast.stmt) and not _spans_any(node, hits):
                continue
            if type(node) is ast.Call and last_name(node.func) == name:
                found.append((node, func))
            inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            for child_field in CHILD_FIELDS[type(node)]:
                value = getattr(node, child_field, None)
                if type(value) is list:
                    pending.extend((child, inner) for child in value if child is not None)
                elif value is not None:
                    pending.append((value, inner))
        return found

    return ctx.memo(f"nplusone.calls-of.{name}", scan)


def _spans_any(stmt: ast.stmt, lines: list[int]) -> bool:
    """One of the (sorted) ``lines`` lies within ``stmt``, its decorators included."""
    decorators = getattr(stmt, "decorator_list", None) or ()
    first = min([stmt.lineno, *(d.lineno for d in decorators)])
    at = bisect.bisect_left(lines, first)
    return at < len(lines) and lines[at] <= (stmt.end_lineno or stmt.lineno)


def _passed_eager(ctx: Context, param: ast.arg) -> set[str] | None:
    """What every call of the function in this file loads eagerly on the queryset it passes
    as ``param``: a relation all callers load is loaded. None when a call passes something
    this cannot read (then nothing is reported); empty when there is no call in the file."""
    func = ctx.enclosing_function()
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return set()
    params = [arg.arg for arg in (*func.args.posonlyargs, *func.args.args)]
    if param.arg not in params:
        return set()
    position = params.index(param.arg) - (1 if params and params[0] in ("self", "cls") else 0)

    def scan() -> set[str] | None:
        common: set[str] | None = None
        for node in ast.walk(ctx.tree):
            if not (isinstance(node, ast.Call) and last_name(node.func) == func.name):
                continue
            given = next((kw.value for kw in node.keywords if kw.arg == param.arg), None)
            if given is None and 0 <= position < len(node.args):
                given = node.args[position]
            if isinstance(given, ast.Name):
                given = ctx.module_scope.only_assignment(given.id) or given
            if given is None:
                return None
            loaded = eager_lookups(chain(given)[1])
            if loaded is None:
                return None
            common = loaded if common is None else common & loaded
        return common if common is not None else set()

    return ctx.memo(f"nplusone.passed.{id(func)}.{param.arg}", scan)


def _served_by_row_prefetch(
    ctx: Context, row: ast.Name, links: list[Link], source: QuerySource
) -> None:
    """``tag = Tag.objects.prefetch_related("books__publisher").get(...)`` then
    ``tag.books.all()``: the rows come from the prefetch cache with what it loaded below
    them; no fix then (an eager load on the manager would bypass the cache)."""
    found = assigned_chain(ctx, row)
    if found is None or not isinstance(found[0], ast.expr) or len(links) != 2:
        return
    if links[1].call is None or links[1].name not in PREFETCH_SERVED:
        return
    outer = eager_lookups(chain(unwrap_rows(found[0]))[1])
    head = links[0].name
    if outer is None:
        source.eager, source.local = None, False
    elif any(lookup == head or lookup.startswith(head + "__") for lookup in outer):
        below = {lookup[len(head) + 2 :] for lookup in outer if lookup.startswith(head + "__")}
        source.eager = None if source.eager is None else source.eager | below
        source.local = False


def _manager_rows(
    model: str, links: list[Link], expr: ast.expr, index: ModelIndex, at: int
) -> QuerySource | None:
    """Rows of ``obj.rel.all()`` / ``obj.rel.filter(...)`` for one object of ``model``
    (``at``: the position of ``rel`` in ``chain(expr)``, after which a fix loads eagerly);
    a SQLAlchemy ``obj.rel`` list too."""
    if links[0].call is not None:
        return None
    relation = index.relation(model, links[0].name)
    if relation is None or not relation.many:
        return None
    if relation.kind.startswith("sa_"):
        if len(links) > 1:
            return None
        return QuerySource("sqlalchemy", relation.target, expr, [], False, set(), via=relation)
    if len(links) == 1:
        # Iterating the manager itself raises TypeError; what it stands for (``.all()``)
        # is the N+1. Reported, never fixed: a fix would make failing code run.
        return QuerySource("django", relation.target, expr, [], False, set(), via=relation)
    if links[1].call is None or links[1].name not in LAZY_METHODS:
        return None
    return QuerySource(
        "django",
        relation.target,
        expr,
        links[1:],
        True,
        eager_lookups(links[1:]),
        via=relation,
        anchor=at,
    )


def _sqla_source(
    ctx: Context, base: ast.expr, links: list[Link], expr: ast.expr, index: ModelIndex
) -> QuerySource | None:
    # select(User)... handed to session.scalars / execute(...).scalars()
    if (
        links
        and links[0].call is not None
        and links[0].name in ("scalars", "execute")
        and is_session(base)
    ):
        if links[0].name == "execute" and not any(link.name == "scalars" for link in links[1:]):
            return None
        inner = links[0].call.args[0] if links[0].call.args else None
        if inner is None:
            return None
        if isinstance(inner, ast.Name):
            found = assigned_chain(ctx, inner)
            if found is None or isinstance(found[0], ast.arg):
                return None
            inner_base, inner_links = chain(found[0])
            inner_links = inner_links + found[1]
            stmt_expr = found[0]
        else:
            inner_base, inner_links = chain(inner)
            stmt_expr = inner
        if not (
            isinstance(inner_base, ast.Call)
            and is_sqla_name(ctx, inner_base.func, "select")
            and len(inner_base.args) == 1
        ):
            from prodlint.rules.nplusone.returns import statement_rows

            # ``session.scalars(repo.active())``: a statement a project method returns.
            rows = statement_rows(ctx, stmt_expr)
            if rows is None:
                return None
            later = eager_lookups(links)
            eager = None if rows.eager is None or later is None else rows.eager | later
            return QuerySource(
                "sqlalchemy", rows.model, stmt_expr, links, rows.statement, eager, anchor=0
            )
        model = last_name(inner_base.args[0])
        return QuerySource(
            "sqlalchemy",
            model,
            stmt_expr,
            inner_links + links,
            True,
            _sqla_eager(model, inner_links + links, index),
        )
    # session.query(User)...
    if links and links[0].name == "query" and links[0].call is not None and is_session(base):
        args = links[0].call.args
        if len(args) != 1:
            return None
        model = last_name(args[0])
        return QuerySource("sqlalchemy", model, expr, links, True, _sqla_eager(model, links, index))
    # db.session.query(User)...
    if (
        len(links) >= 2
        and links[0].name == "session"
        and links[0].call is None
        and links[1].name == "query"
        and links[1].call is not None
        and len(links[1].call.args) == 1
    ):
        model = last_name(links[1].call.args[0])
        return QuerySource("sqlalchemy", model, expr, links, True, _sqla_eager(model, links, index))
    # User.query... (Flask-SQLAlchemy)
    if links and links[0].name == "query" and links[0].call is None and is_model_expr(base, index):
        if len(links) < 2 or links[-1].name not in (
            "all",
            "filter",
            "filter_by",
            "order_by",
            "options",
            "limit",
            "offset",
            "join",
            "yield_per",
        ):
            return None
        model = last_name(base)
        return QuerySource("sqlalchemy", model, expr, links, True, _sqla_eager(model, links, index))
    return None


def _sqla_eager(model: str | None, links: list[Link], index: ModelIndex) -> set[str] | None:
    eager = eager_lookups(links)
    if eager is None or model is None:
        return eager
    info = index.get(model)
    if info is not None:
        eager = eager | {name for name, rel in info.relations.items() if rel.eager}
    return eager


def _related_source(
    ctx: Context, base: ast.expr, links: list[Link], expr: ast.expr, index: ModelIndex, depth: int
) -> QuerySource | None:
    """``for b in author.books.all()`` where ``author`` is itself a row of a query."""
    if not isinstance(base, ast.Name) or len(links) < 2 or links[0].call is not None:
        return None
    if links[1].call is None or links[1].name not in LAZY_METHODS:
        return None
    owner = loop_source(ctx, base.id, depth + 1)
    if owner is None or owner.model is None:
        return None
    relation = index.relation(owner.model, links[0].name)
    if relation is None or not relation.many:
        return None
    eager = eager_lookups(links[1:])
    if eager is not None and len(links) == 2 and links[1].name in PREFETCH_SERVED:
        # ``a.books.all()`` is served by the outer prefetch, with what it loaded below it
        # (``prefetch_related("books__publisher")``).
        if owner.eager is None:
            eager = None
        else:
            head = links[0].name + "__"
            eager |= {lookup[len(head) :] for lookup in owner.eager if lookup.startswith(head)}
    return QuerySource(
        owner.framework, relation.target, expr, links[1:], False, eager, nested=True, via=relation
    )


def binding_loop(ctx: Context, name: str) -> ast.AST | None:
    """The innermost enclosing loop (statement or comprehension, in this function) whose
    target is the plain name ``name`` and whose body holds the node being visited."""
    child: ast.AST | None = None
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, FUNCTION_NODES):
            return None
        if isinstance(ancestor, (ast.For, ast.AsyncFor)):
            if (
                child is not ancestor.iter
                and child is not ancestor.target
                and _binds(ancestor.target, name)
            ):
                if any(child is stmt for stmt in ancestor.body):
                    return ancestor
                return None
        elif isinstance(ancestor, COMPREHENSION_NODES):
            for generator in ancestor.generators:
                if _binds(generator.target, name) and child is not generator:
                    return ancestor
        child = ancestor
    return None


def _binds(target: ast.expr, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    # ``for i, row in enumerate(qs)``: the second element is the row.
    if isinstance(target, ast.Tuple) and len(target.elts) == 2:
        second = target.elts[1]
        return isinstance(second, ast.Name) and second.id == name
    return False


def loop_iterable(loop: ast.AST, name: str) -> ast.expr | None:
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        if isinstance(loop.target, ast.Tuple):
            return loop.iter if _is_enumerate(loop.iter) else None
        return loop.iter
    if isinstance(loop, COMPREHENSION_NODES):
        for generator in loop.generators:
            if _binds(generator.target, name):
                if isinstance(generator.target, ast.Tuple) and not _is_enumerate(generator.iter):
                    return None
                return generator.iter
    return None


def _is_enumerate(expr: ast.expr) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "enumerate"
    )


def loop_source(ctx: Context, name: str, depth: int = 0) -> QuerySource | None:
    """The query whose rows the loop variable ``name`` (at the current node) ranges over,
    unless the loop's row is not what ``name`` holds here (``row = row.parent`` before)."""
    loop = binding_loop(ctx, name)
    if loop is None:
        return None
    key = f"nplusone.source.{id(loop)}.{name}"
    iterable = loop_iterable(loop, name)
    if iterable is None:
        return None
    source = ctx.memo(key, lambda: query_source(ctx, iterable, depth))
    return source if source is not None and _holds_row(ctx, name, loop) else None


def _holds_row(ctx: Context, name: str, loop: ast.AST) -> bool:
    """The one definition of ``name`` reaching the node being visited is ``loop``'s target
    (a comprehension's variable cannot be rebound inside it)."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return True
    func = ctx.enclosing_function()
    bindings = (ctx.scope_of(func) if func is not None else ctx.module_scope).bindings
    known = bindings.get(name, [])
    if len(known) == 1 and known[0].node is loop:
        return True  # the loop is all that binds it: what the flow would say, for less
    found = flow_at(ctx)
    if found is None:
        return True
    flow, at = found

    def ask() -> bool:
        reaching = flow.definitions_reaching(at, name)
        return reaching.definitions == (loop,) and not reaching.from_start

    return ctx.memo(f"nplusone.holds-row.{id(at)}.{name}", ask)


def runs_once(ctx: Context, loop: ast.AST) -> bool:
    """True when the node being visited runs at most once per run of the statement loop
    around it: once its statement has run, no path comes back to the loop's head
    (``break`` / ``return`` / ``raise`` on every way on, ``FunctionFlow.loops_back``)."""
    if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) or not _may_leave(ctx, loop):
        return False
    found = flow_at(ctx)
    if found is None:
        return False
    flow, at = found
    return flow.contains(loop, at) and not flow.loops_back(at, loop)


# Statements after which a loop body may not come back to the loop's head.
_LEAVING = (ast.Break, ast.Return, ast.Raise, ast.While, ast.Match)


def _may_leave(ctx: Context, loop: ast.For | ast.AsyncFor | ast.While) -> bool:
    """The loop's body has a statement that can keep a path from the loop's head (a jump
    out, or a ``while`` that might not end): without one, every statement loops back, and
    the flow need not be built to say so."""
    from prodlint.rules.nplusone.returns import own_statements

    return ctx.memo(
        f"nplusone.may-leave.{id(loop)}",
        lambda: any(isinstance(stmt, _LEAVING) for stmt in own_statements(loop.body)),
    )


# Calls that list the models or tables of the project: a loop over them runs one query
# per table, a fixed number the schema decides, which no single query can replace.
SCHEMA_LISTINGS = frozenset(
    {
        "__subclasses__",
        "get_models",
        "get_app_configs",
        "table_names",
        "get_table_list",
        "sorted_tables",
    }
)


def bounded_iterable(expr: ast.expr, ctx: Context | None = None, depth: int = 0) -> bool:
    """A loop over a literal collection, ``range(<constant>)``, a constant of the module
    (``for kind, label in KINDS.items()``) or the project's models: a fixed handful of
    queries, not one per row."""
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(isinstance(e, ast.Constant) for e in expr.elts) or len(expr.elts) <= 5
    if isinstance(expr, ast.Dict):
        return True
    if isinstance(expr, ast.Attribute) and expr.attr == "sorted_tables":
        return True  # SQLAlchemy metadata.sorted_tables
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        if expr.func.id == "range":
            return all(isinstance(a, ast.Constant) for a in expr.args)
        if expr.func.id in ("enumerate", "sorted", "reversed", "list", "tuple") and expr.args:
            return bounded_iterable(expr.args[0], ctx, depth)
        return expr.func.id == "get_models"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        name = expr.func.attr
        if name in SCHEMA_LISTINGS:
            return True
        if name in ("items", "keys", "values") and not expr.args:
            return bounded_iterable(expr.func.value, ctx, depth)
    if isinstance(expr, ast.Name) and ctx is not None and depth < 3 and expr.id.isupper():
        # A module constant (assigned once, upper-case by convention) of literal data.
        value = ctx.module_scope.only_assignment(expr.id)
        return (
            value is not None and _literal_data(value) and bounded_iterable(value, ctx, depth + 1)
        )
    return False


def _literal_data(expr: ast.expr) -> bool:
    return isinstance(expr, (ast.Dict, ast.List, ast.Tuple, ast.Set)) and all(
        isinstance(
            node,
            (
                ast.Constant,
                ast.Dict,
                ast.List,
                ast.Tuple,
                ast.Set,
                ast.Name,
                ast.Attribute,
                ast.Load,
                ast.UnaryOp,
                ast.USub,
            ),
        )
        for node in ast.walk(expr)
    )


def function_text(ctx: Context) -> str:
    """The source of the function being visited, decorators included (the whole file at
    module level): what a cheap textual test before an analysis of it looks at."""
    func = ctx.enclosing_function()
    if func is None:
        return ctx.text

    def lines() -> str:
        decorators = getattr(func, "decorator_list", None) or ()
        first = min([func.lineno, *(d.lineno for d in decorators)])
        return "\n".join(ctx.lines[first - 1 : func.end_lineno])

    return ctx.memo(f"nplusone.text.{id(func)}", lines)


def unbounded_loop(ctx: Context, node: ast.AST) -> ast.AST | None:
    """The loop that runs ``node`` once per row, unless it is bounded (the cheap test:
    whether ``node`` is left right after, ``runs_once``, asks the function's flow)."""
    loop = ctx.enclosing_loop(node)
    if loop is None:
        return None
    if isinstance(loop, (ast.For, ast.AsyncFor)) and bounded_iterable(loop.iter, ctx):
        return None
    if isinstance(loop, COMPREHENSION_NODES) and all(
        bounded_iterable(g.iter, ctx) for g in loop.generators
    ):
        return None
    return loop


def prefetched_in_function(ctx: Context) -> set[str]:
    """Relations ``prefetch_related_objects(rows, "rel", ...)`` loads anywhere in the
    function: the rows it is given are then served from cache."""
    func = ctx.enclosing_function()
    if func is None:
        return set()

    def scan() -> set[str]:
        found: set[str] = set()
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and last_name(node.func) == "prefetch_related_objects":
                if node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
                    continue  # one object at a time: the N+1 itself
                lookups = string_args(ast.Call(func=node.func, args=node.args[1:], keywords=[]))
                found |= lookups if lookups is not None else {"*"}
        return found

    return ctx.memo(f"nplusone.prefetched.{id(func)}", scan)


def short(ctx: Context, node: ast.expr, limit: int = 60) -> str:
    """A one-line rendering of an expression for messages, with call arguments elided."""
    base, links = chain(node)
    text = ast.unparse(base) if not isinstance(base, ast.Call) else ast.unparse(base.func) + "(...)"
    for link in links:
        text += f".{link.name}" + ("()" if link.call is not None else "")
    return text if len(text) <= limit else text[: limit - 3] + "..."
