"""What the project's call sites pass to its functions, as project facts.

A helper that renders rows (``def render_rows(orders): for o in orders: o.customer.name``)
says nothing of what ``orders`` is; its callers do (``render_rows(Order.objects.filter(
...))`` in ``views.py``). Each file's calls that hand a function rows of a query are kept
with what every argument is, as written (``Order.objects.filter(...)``, or a name assigned
one in the caller), and resolved against the model index where they are used, like the
summaries of ``returns.py``. A parameter is then rows of model M when EVERY call site of
the function passes rows of M: a call passing anything else, a call spreading
``*args`` / ``**kwargs``, the function read other than called (a callback, an export in
``__all__``), a decorator (a framework calls it) or no call site at all (a public function
of a library) leaves it unknown. Likewise a parameter is one fresh instance of M when every
call site passes one fetched without eager loads (``Order.objects.get(...)``,
``get_object_or_404(Order, ...)``): its related managers' rows then read relations a query
each (``orm._parameter_row``).

Only files that can build a query (``.objects``, ``select(``, ``.query(``...) are read for
the project; a call in a file that cannot is missed, which can only hide a reason not to
report (such a file passes no query rows, but could pass other objects with the same
attributes). The checked file's own calls are always read.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name
from prodlint.analysis.walk import CHILD_FIELDS
from prodlint.facts import FactProvider
from prodlint.rules.nplusone.orm import (
    ROW_WRAPPERS,
    SINGLE_ROW,
    Link,
    QuerySource,
    chain,
    eager_lookups,
    model_index,
    unwrap_rows,
)
from prodlint.rules.nplusone.returns import (
    Returned,
    Summary,
    project_returns,
    resolve,
    returned_value,
)

PROJECT_CALL_SITES = "project-call-sites"
# How a file that can build a query spells it (the pre-filter).
QUERY_MARKERS = (b".objects", b"_set.", b"select(", b".query(", b"scalars(")
# Shapes of an argument that a loop iterates as rows (a ``select()`` statement is not rows
# until a session runs it; a manager's own rows need the manager's model).
ROW_KINDS = frozenset({"manager", "relation", "query", "scalars"})
# Decorators that leave a function called only as written in the project.
PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})


@dataclass(frozen=True)
class CallSite:
    """A call that hands some function the rows of a query."""

    name: str  # the callee's last name
    # "name" f(...), "module" helpers.f(...) (an imported name), "self" self.f(...),
    # "class" C.f(...), "attr" x.f(...)
    receiver: str
    origin: str | None  # for "name" / "module": the module the file imports it from
    owner: str | None  # the class the call is written in (``self.<rel>`` rows are its)
    caller: str  # the function the call is in ("<module>" at module level)
    line: int
    args: tuple[tuple[Returned, ...] | None, ...]  # per positional argument; None: not rows
    keywords: tuple[tuple[str, tuple[Returned, ...]], ...]  # the keyword arguments that are rows
    spread: bool  # ``*args`` / ``**kwargs``: which parameter gets what is unknown
    text: str  # the argument as written, for the message
    local: bool  # for "name": the file defines a function of that name (a call of its own)


@dataclass(frozen=True)
class FileCalls:
    sites: tuple[CallSite, ...]
    plain: frozenset[str]  # names called without rows in any argument
    read: frozenset[str]  # names read other than called: callbacks, ``__all__`` entries
    # ``self.f`` / ``module.f`` read other than called: a method or function handed on
    attrs: frozenset[str]
    methods: frozenset[tuple[str, str]]  # (class, method) declared: which classes share a name


@dataclass
class ProjectCalls:
    sites: dict[str, list[CallSite]] = field(default_factory=dict)
    plain: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    attrs: set[str] = field(default_factory=set)
    owners: dict[str, set[str]] = field(default_factory=dict)  # method name -> classes
    _definitions: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def add(self, calls: FileCalls) -> None:
        for site in calls.sites:
            known = self.sites.setdefault(site.name, [])
            if site not in known:
                known.append(site)
        self.plain |= calls.plain
        self.read |= calls.read
        self.attrs |= calls.attrs
        for owner, name in calls.methods:
            self.owners.setdefault(name, set()).add(owner)

    def definitions(self) -> re.Pattern[str]:
        """``def <name>(`` for every name some call passes rows to: one search per file
        (an alternation of literals, far cheaper than listing the file's definitions)."""
        if self._definitions is None:
            names = sorted(self.sites, key=len, reverse=True)
            self._definitions = re.compile("|".join(f"def {re.escape(n)}\\(" for n in names))
        return self._definitions

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(self.sites):
            digest.update(repr(self.sites[name]).encode())
        digest.update(repr(sorted(self.plain)).encode())
        digest.update(repr(sorted(self.read)).encode())
        digest.update(repr(sorted(self.attrs)).encode())
        digest.update(repr(sorted((k, sorted(v)) for k, v in self.owners.items())).encode())
        return digest.hexdigest()


@dataclass
class _Scope:
    """A function (or the module) being read: its name, class, and the values assigned to
    plain names in it, as ``returns.assignments`` reads them (gathered by the same pass)."""

    caller: str
    owner: str | None
    assigned: dict[str, list[ast.expr]] = field(default_factory=dict)


class _Reader:
    """One pass over a module's nodes, keeping the function and class each call is in (for
    the caller's assignments and the owner of ``self.<rel>`` rows). Every file that can
    build a query is read so: the loop is written for speed."""

    def __init__(self, tree: ast.Module) -> None:
        self.imported: dict[str, str] = {}
        self.read_names: set[str] = set()
        # Names bound by an import to what may be a module (``from app import helpers``).
        self.modules: dict[str, str] = {}
        self.read_attrs: set[str] = set()
        self.methods: set[tuple[str, str]] = set()
        self.functions = {
            node.name
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(last_name(target) == "__all__" for target in node.targets)
                and isinstance(node.value, (ast.List, ast.Tuple))
            ):
                # exported: called from outside the project too
                self.read_names.update(
                    e.value
                    for e in node.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imported[alias.asname or alias.name.partition(".")[0]] = alias.name
                    if alias.asname or "." not in alias.name:
                        self.modules[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module is not None:
                prefix = "." * node.level + node.module
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = prefix
                    self.modules[alias.asname or alias.name] = f"{prefix}.{alias.name}"
                    if alias.asname and alias.asname != alias.name:
                        self.read_names.add(alias.name)  # called by another name
        self.sites: list[CallSite] = []
        self.calls: list[tuple[ast.Call, _Scope]] = []
        self.plain: set[str] = set()
        self.tree = tree

    def read(self) -> FileCalls:
        pending: list[tuple[list[ast.AST], _Scope]] = [
            (list(self.tree.body), _Scope("<module>", None))
        ]
        while pending:
            roots, scope = pending.pop()
            self._scan(roots, scope, pending)
        # Once every assignment of the callers is known: a name passed is followed to them.
        for call, scope in self.calls:
            self._call(call, scope)
        return FileCalls(
            tuple(self.sites),
            frozenset(self.plain),
            frozenset(self.read_names),
            frozenset(self.read_attrs),
            frozenset(self.methods),
        )

    def _scan(
        self, roots: list[ast.AST], scope: _Scope, pending: list[tuple[list[ast.AST], _Scope]]
    ) -> None:
        stack: list[object] = list(roots)
        read = self.read_names
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    read.add(node.id)  # type: ignore[attr-defined]
                continue
            if kind is ast.Call:
                assert isinstance(node, ast.Call)
                self.calls.append((node, scope))
                func = node.func
                if isinstance(func, ast.Attribute):
                    stack.append(func.value)
                elif type(func) is not ast.Name:
                    stack.append(func)
                stack.extend(node.args)
                stack.extend(node.keywords)
                continue
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                name = f"{scope.owner}.{node.name}" if scope.owner else node.name
                if scope.owner:
                    self.methods.add((scope.owner, node.name))
                pending.append((list(node.body), _Scope(name, scope.owner)))
                stack.extend(node.decorator_list)
                stack.extend(node.args.defaults)
                stack.extend(node.args.kw_defaults)
                continue
            if kind is ast.ClassDef:
                assert isinstance(node, ast.ClassDef)
                inner = _Scope(scope.caller, node.name, scope.assigned)
                pending.append((list(node.body), inner))
                stack.extend(node.decorator_list)
                stack.extend(node.bases)
                continue
            if kind is ast.Assign:
                targets = node.targets  # type: ignore[attr-defined]
                if len(targets) == 1 and type(targets[0]) is ast.Name:
                    scope.assigned.setdefault(targets[0].id, []).append(node.value)  # type: ignore[attr-defined]
            if kind is ast.Attribute:
                value = node.value  # type: ignore[attr-defined]
                if type(value) is ast.Name and (
                    value.id in ("self", "cls") or value.id in self.imported
                ):
                    self.read_attrs.add(node.attr)  # type: ignore[attr-defined]
                stack.append(value)
                continue
            if kind is ast.Constant or node is None:
                continue
            for name in CHILD_FIELDS[kind]:  # type: ignore[index]
                value = getattr(node, name, None)
                if type(value) is list:
                    stack.extend(value)
                elif value is not None:
                    stack.append(value)

    def _call(self, call: ast.Call, scope: _Scope) -> None:
        func = call.func
        name = last_name(func)
        if name is None:
            return
        args = tuple(_rows(arg, scope) or _row(arg, scope) for arg in call.args)
        keywords = tuple(
            (kw.arg, found)
            for kw in call.keywords
            if kw.arg is not None
            and (found := _rows(kw.value, scope) or _row(kw.value, scope)) is not None
        )
        if not keywords and all(arg is None for arg in args):
            self.plain.add(name)
            return
        origin: str | None = None
        if isinstance(func, ast.Name):
            receiver, origin = "name", self.imported.get(name)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            value = func.value.id
            origin = self.modules.get(value)
            receiver = (
                "self"
                if value in ("self", "cls")
                else "class"
                if value[:1].isupper()
                else "module"
                if value in self.modules
                else "attr"
            )
        else:
            receiver = "attr"
        given = next(
            (arg for arg, found in zip(call.args, args, strict=True) if found is not None),
            next((kw.value for kw in call.keywords if kw.arg == keywords[0][0]), None)
            if keywords
            else None,
        )
        self.sites.append(
            CallSite(
                name,
                receiver,
                origin if receiver in ("name", "module") else None,
                scope.owner,
                scope.caller,
                call.lineno,
                args,
                keywords,
                any(isinstance(arg, ast.Starred) for arg in call.args)
                or any(kw.arg is None for kw in call.keywords),
                _text(given) if given is not None else name,
                receiver == "name" and name in self.functions and name not in self.imported,
            )
        )


def _rows(arg: ast.expr, scope: _Scope) -> tuple[Returned, ...] | None:
    """The shapes of query rows ``arg`` can be (inline, or a name the caller assigned one),
    None when it is not recognisably rows."""
    kind = type(arg)
    if kind is ast.Name:
        assigned = scope.assigned
        if arg.id not in assigned:  # type: ignore[attr-defined]
            return None
    elif kind is ast.Call and type(arg.func) is ast.Name:  # type: ignore[attr-defined]
        if arg.func.id not in ROW_WRAPPERS or not arg.args:  # type: ignore[attr-defined]
            return None  # str(x), len(x): no rows
        return _rows(arg.args[0], scope)  # type: ignore[attr-defined]
    elif kind not in (ast.Call, ast.Subscript, ast.Await):
        return None  # a constant, a literal, an operation, a bare attribute: no rows
    else:
        assigned = scope.assigned
    found = returned_value(unwrap_rows(arg), assigned, False)
    if not found or any(shape.kind not in ROW_KINDS for shape in found):
        return None
    return tuple(found)


def _row(arg: ast.expr, scope: _Scope, depth: int = 0) -> tuple[Returned, ...] | None:
    """One model instance fetched without eager loads: ``Order.objects.get(...)``,
    ``get_object_or_404(Order, ...)``, or a name the caller assigned one (kind "row")."""
    if isinstance(arg, ast.Await):
        arg = arg.value
    if isinstance(arg, ast.Name):
        values = scope.assigned.get(arg.id, [])
        return _row(values[0], scope, depth + 1) if len(values) == 1 and depth < 2 else None
    if not isinstance(arg, ast.Call):
        return None
    if last_name(arg.func) in ("get_object_or_404", "aget_object_or_404") and arg.args:
        model = arg.args[0]
        name = last_name(model) if isinstance(model, (ast.Name, ast.Attribute)) else None
    else:
        base, links = chain(arg)
        if (
            len(links) < 2
            or links[0].call is not None
            or links[-1].name not in SINGLE_ROW
            or eager_lookups(links) != set()
        ):
            return None
        name = last_name(base)
    if not name or not name[:1].isupper():
        return None
    return (Returned("row", name, None, frozenset(), frozenset()),)


def _text(node: ast.expr) -> str:
    """``Order.objects.filter()``: the call chain without its arguments."""
    if isinstance(node, ast.Call):
        return f"{_text(node.func)}()"
    if isinstance(node, ast.Attribute):
        return f"{_text(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return f"{_text(node.value)}[...]"
    if isinstance(node, ast.Name):
        return node.id
    return "..."


def extract_calls(tree: ast.Module) -> FileCalls:
    return _Reader(tree).read()


class CallSitesProvider(FactProvider[FileCalls, ProjectCalls]):
    """The calls passing query rows, from every file that can build a query."""

    key = PROJECT_CALL_SITES

    def may_contain(self, data: bytes) -> bool:
        return any(marker in data for marker in QUERY_MARKERS)

    def extract(self, tree: ast.Module) -> FileCalls | None:
        found = extract_calls(tree)
        return found

    def build(self, facts: Sequence[FileCalls]) -> ProjectCalls:
        project = ProjectCalls()
        for calls in facts:
            project.add(calls)
        # Only names some call passes rows to can be asked about.
        project.plain &= project.sites.keys()
        project.read &= project.sites.keys()
        project.attrs &= project.sites.keys()
        project.owners = {k: v for k, v in project.owners.items() if k in project.sites}
        return project

    def fingerprint(self, built: ProjectCalls) -> str:
        return built.fingerprint()


def project_calls(ctx: Context) -> ProjectCalls:
    """The project's call sites with this file's own (read from its text: a file checked
    alone, or one the project pre-filter left out)."""

    def build() -> ProjectCalls:
        merged = ProjectCalls()
        merged.add(own_calls(ctx))
        project = ctx.settings.get(PROJECT_CALL_SITES)
        if isinstance(project, ProjectCalls):
            for sites in project.sites.values():
                for site in sites:
                    merged.add(
                        FileCalls((site,), frozenset(), frozenset(), frozenset(), frozenset())
                    )
            merged.plain |= project.plain
            merged.read |= project.read
            merged.attrs |= project.attrs
            for name, owners in project.owners.items():
                merged.owners.setdefault(name, set()).update(owners)
        return merged

    return ctx.memo("nplusone.call-sites", build)


def own_calls(ctx: Context) -> FileCalls:
    return ctx.memo("nplusone.own-call-sites", lambda: extract_calls(ctx.tree))


def _module_names(path: str) -> set[str]:
    """The last components an import of the module at ``path`` can end with."""
    parts = path.replace("\\", "/").removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return {parts[-1]} if parts and parts[-1] else set()


def passed_by_callers(
    ctx: Context, param: ast.arg, expr: ast.expr, links: list[Link]
) -> QuerySource | None:
    """Rows of a parameter every call site of its function passes rows of one model
    (``render_rows(Order.objects.filter(...))``), in any file of the project: what they
    load is what every call site loads. Reported without a fix: the eager load belongs at
    the call sites, in other functions and files, each of which may hand its queryset on
    to other code too."""
    handed = _handed(ctx, param)
    if handed is None:
        return None
    index = model_index(ctx)
    returns = project_returns(ctx)
    found: list[tuple[str, str, set[str] | None, CallSite]] = []
    for shapes, site in handed:
        if any(shape.kind == "row" for shape in shapes):
            return None
        rows = resolve(Summary(site.owner or "", site.name, False, shapes), index, returns)
        if rows is None:
            return None
        found.append((rows.framework, rows.model, rows.eager, site))
    if any(f[:2] != found[0][:2] for f in found):
        return None
    loaded = found[0][2]
    for _, _, eager, _ in found[1:]:
        loaded = None if loaded is None or eager is None else loaded & eager
    # The message names a call site that loads the least (the one a reader fixes first).
    site = min(found, key=lambda f: -1 if f[2] is None else len(f[2]))[3]
    later = eager_lookups(links)
    eager = None if loaded is None or later is None else loaded | later
    caller = "module code" if site.caller == "<module>" else f"`{site.caller}()`"
    where = f"{caller} passes `{site.text}` on line {site.line}"
    return QuerySource(found[0][0], found[0][1], expr, links, False, eager, passed_by=where)


def passed_row(ctx: Context, param: ast.arg) -> str | None:
    """The model of the one instance every call site passes as ``param``, fetched without
    eager loads (``render_order(Order.objects.get(pk=pk))``): its related managers are
    then read fresh, one query per read."""
    handed = _handed(ctx, param)
    if handed is None:
        return None
    models = {
        shape.model if shape.kind == "row" else None for shapes, _ in handed for shape in shapes
    }
    model = models.pop() if len(models) == 1 else None
    return model if model is not None and model_index(ctx).is_declared(model) else None


def _handed(ctx: Context, param: ast.arg) -> list[tuple[tuple[Returned, ...], CallSite]] | None:
    """What every call site of the function being visited passes as ``param``; None when
    one passes nothing recognisable, spreads ``*args``, or the function may be called
    from elsewhere (handed on, exported, decorated, no call site at all)."""
    func = ctx.enclosing_function()
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if func.name.startswith("__") or sum(1 for _ in ctx.enclosing_functions()) != 1:
        return None
    if any(last_name(d) not in PLAIN_DECORATORS for d in func.decorator_list):
        return None  # a route, a task, a template tag: called by a framework
    project = project_calls(ctx)
    sites = project.sites.get(func.name)
    cls = ctx.enclosing_class()
    method = cls is not None and any(stmt is func for stmt in cls.body)
    # A method is handed on as ``self.f``; a function by its name, or as ``module.f``.
    handed = func.name in project.attrs or (not method and func.name in project.read)
    if not sites or func.name in project.plain or handed:
        return None
    bound = method and not any(last_name(d) == "staticmethod" for d in func.decorator_list)
    positional = [arg.arg for arg in (*func.args.posonlyargs, *func.args.args)]
    keyword = param.arg not in positional
    if keyword and param not in func.args.kwonlyargs:
        return None  # *args / **kwargs
    position = -1 if keyword else positional.index(param.arg)
    modules = _module_names(ctx.path)
    own = set(own_calls(ctx).sites)
    # Classes declaring a method of this name: with another one, ``x.name(...)`` may call
    # either, so only this class's own ``self.name(...)`` calls are known to be its.
    shared = method and bool(project.owners.get(func.name, set()) - {cls.name if cls else ""})
    found: list[tuple[tuple[Returned, ...], CallSite]] = []
    for site in sites:
        function_call = site.receiver in ("name", "module")  # f(...), helpers.f(...)
        if method == function_call:
            if function_call:
                continue  # a call of a function, not of this method
            return None  # ``x.render_rows(...)``: maybe a method of the same name
        if shared and (site.receiver != "self" or cls is None or site.owner != cls.name):
            return None
        if site.origin is not None and modules and site.origin.rpartition(".")[2] not in modules:
            continue  # a function of that name imported from another module
        if site.local and site not in own:
            continue  # another file's call of its own function of that name
        if site.spread:
            return None
        shapes: tuple[Returned, ...] | None = None
        at = position - (1 if bound and site.receiver != "class" else 0)
        if not keyword and 0 <= at < len(site.args):
            shapes = site.args[at]
        else:
            shapes = dict(site.keywords).get(param.arg)
        if shapes is None:
            return None
        found.append((shapes, site))
    return found or None


def defines_callee(ctx: Context) -> bool:
    """The file defines a function some call of the project passes rows to (a helper file
    that names no ORM call itself); a text test, so that other files are not parsed."""
    project = ctx.settings.get(PROJECT_CALL_SITES)
    if not isinstance(project, ProjectCalls) or not project.sites:
        return False
    return project.definitions().search(ctx.text) is not None
