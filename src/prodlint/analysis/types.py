"""What the code itself says about types: where ``Any`` stands in an annotation, and which
type an expression, a return value or a parameter obviously has.

Inference here is deliberately shallow: it answers only when the code leaves one obvious
answer (a literal, a constructor, a comprehension, a module function's declared return, the
union of ``isinstance`` checks, one protocol a parameter is used through) and says what it
tried otherwise. Every answer is annotation text that evaluates in the module as it stands,
plus the imports it needs.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field

from prodlint.analysis.context import Context, FunctionNode
from prodlint.analysis.imports import dotted_name, last_name
from prodlint.analysis.walk import CHILD_FIELDS

ANY_NAMES = frozenset({"typing.Any", "typing_extensions.Any"})
CAST_NAMES = frozenset({"typing.cast", "typing_extensions.cast"})
OVERRIDE_NAMES = frozenset({"typing.override", "typing_extensions.override"})
# Wrappers that leave the wrapped type as the annotation's meaning: ``ClassVar[Any]`` is a
# bare ``Any``, ``list[Any]`` is not.
QUALIFIERS = frozenset({"ClassVar", "Final", "Annotated", "Required", "NotRequired", "ReadOnly"})
SCALARS = ("bool", "int", "float", "complex", "str", "bytes", "bytearray")
CONSTANT_TYPES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    complex: "complex",
    str: "str",
    bytes: "bytes",
}


@dataclass(frozen=True)
class AnyUse:
    """One ``Any`` inside an annotation expression. ``string`` is the string literal the
    ``Any`` was parsed from (a quoted annotation), with ``offset`` the ``Any``'s
    character offset in that string's value."""

    node: ast.expr
    nested: bool
    string: ast.Constant | None = None
    offset: int = 0


def is_any(expr: ast.expr, ctx: Context) -> bool:
    """``Any`` however it was imported (``t.Any``, ``from typing import Any as A``)."""
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return False
    # The spelling first: resolving through imports only for names that can be ``Any``.
    name = last_name(expr)
    if name != "Any" and not (
        isinstance(expr, ast.Name) and ctx.module_scope.imports.get(name or "") in ANY_NAMES
    ):
        return False
    return ctx.qualified_name(expr) in ANY_NAMES


def any_uses(annotation: ast.expr, ctx: Context) -> list[AnyUse]:
    """Every ``Any`` in an annotation, quoted parts parsed, ``Literal[...]`` skipped."""
    found: list[AnyUse] = []
    _collect(annotation, ctx, False, None, 0, found)
    return found


def _collect(
    expr: ast.expr,
    ctx: Context,
    nested: bool,
    string: ast.Constant | None,
    base: int,
    found: list[AnyUse],
) -> None:
    if is_any(expr, ctx):
        found.append(AnyUse(expr, nested, string, base + expr.col_offset if string else 0))
        return
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str) and string is None:
        parsed = parse_quoted(expr, ctx)
        if parsed is not None:
            _collect(parsed, ctx, nested, expr, 0, found)
        return
    if isinstance(expr, ast.Subscript):
        head = last_name(expr.value)
        if head == "Literal":
            return
        items = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        if head in QUALIFIERS:
            # ``Annotated[T, metadata]``: only T is a type.
            _collect(items[0], ctx, nested, string, base, found)
            return
        for item in items:
            _collect(item, ctx, True, string, base, found)
        return
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        _collect(expr.left, ctx, True, string, base, found)
        _collect(expr.right, ctx, True, string, base, found)
    elif isinstance(expr, (ast.List, ast.Tuple)):
        for item in expr.elts:
            _collect(item, ctx, True, string, base, found)


def parse_quoted(constant: ast.Constant, ctx: Context) -> ast.expr | None:
    """The expression inside a quoted annotation, positions relative to the string's value;
    None when it does not parse or does not mention ``Any``-like names at all."""
    text = constant.value
    if not isinstance(text, str) or "Any" not in text and not _aliases_any(ctx):
        return None
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None
    indent = len(text) - len(text.lstrip())
    if indent:
        for node in ast.walk(tree.body):
            if hasattr(node, "col_offset"):
                node.col_offset += indent
    return tree.body


def _aliases_any(ctx: Context) -> bool:
    return ctx.memo(
        "types:any-alias",
        lambda: any(
            q in ANY_NAMES and local != "Any" for local, q in ctx.module_scope.imports.items()
        ),
    )


def simple_literal_source(constant: ast.Constant, ctx: Context) -> str | None:
    """The quote a string literal uses, when its source is exactly quote + value + quote
    (no prefix, escape or implicit concatenation), so its text can be edited in place."""
    source = ctx.source_of(constant)
    for quote in ('"""', "'''", '"', "'"):
        if source == quote + str(constant.value) + quote and "\\" not in source:
            return quote
    return None


# --- inferred types --------------------------------------------------------------------


@dataclass(frozen=True)
class Inferred:
    """Annotation text and the ``from module import name`` pairs it needs."""

    text: str
    imports: tuple[tuple[str, str], ...] = ()


@dataclass
class Evidence:
    """What inference saw; ``reason`` says why it gave up, for the message."""

    inferred: Inferred | None = None
    reason: str = ""


def union(types: list[Inferred]) -> Inferred:
    texts: list[str] = []
    imports: list[tuple[str, str]] = []
    for item in types:
        for part in item.text.split(" | "):
            if part not in texts:
                texts.append(part)
        imports += [i for i in item.imports if i not in imports]
    if "None" in texts:
        # ``X | None`` reads better last; ``object`` already holds None.
        texts.remove("None")
        texts.append("None")
    if "object" in texts:
        return Inferred("object")
    return Inferred(" | ".join(texts), tuple(imports))


@dataclass
class ModuleTypes:
    """The module's own top-level classes and functions, and whether annotations are
    evaluated lazily there."""

    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    lazy_annotations: bool = False


def module_types(ctx: Context) -> ModuleTypes:
    def compute() -> ModuleTypes:
        facts = ModuleTypes()
        for statement in ctx.tree.body:
            if isinstance(statement, ast.ClassDef):
                facts.classes[statement.name] = statement
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                facts.functions[statement.name] = statement
        facts.lazy_annotations = (
            ctx.module_scope.imports.get("annotations") == "__future__.annotations"
        )
        # A name bound twice at the top level may not be the class or function seen here.
        for name in list(facts.classes) + list(facts.functions):
            if len(ctx.module_scope.bindings.get(name, ())) != 1:
                facts.classes.pop(name, None)
                facts.functions.pop(name, None)
        return facts

    return ctx.memo("types:module", compute)


def builtin_available(name: str, ctx: Context) -> bool:
    return hasattr(builtins, name) and name not in ctx.module_scope.bindings


def class_type(name: str, ctx: Context, at: ast.AST) -> Inferred | None:
    """A module class as an annotation at ``at`` (the top-level statement holding the
    annotation), when the name is defined by the time the annotation is evaluated."""
    cls = module_types(ctx).classes.get(name)
    if cls is None or getattr(cls, "type_params", None):
        return None
    if any(not isinstance(base, (ast.Name, ast.Attribute)) for base in cls.bases):
        return None  # ``Generic[T]`` / ``Base[int]``: a bare name would need parameters
    if not module_types(ctx).lazy_annotations and (cls.end_lineno or cls.lineno) >= getattr(
        at, "lineno", 0
    ):
        return None
    return Inferred(name)


def expression_type(expr: ast.expr, ctx: Context, at: ast.AST, depth: int = 0) -> Inferred | None:
    """The obvious type of an expression, or None. ``at`` is the top-level statement that
    holds the annotation being inferred (for names that must exist when it is evaluated)."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Constant):
        if expr.value is None:
            return Inferred("None")
        kind = CONSTANT_TYPES.get(type(expr.value))
        return Inferred(kind) if kind and builtin_available(kind, ctx) else None
    if isinstance(expr, ast.JoinedStr):
        return Inferred("str") if builtin_available("str", ctx) else None
    if isinstance(expr, ast.UnaryOp):
        if isinstance(expr.op, ast.Not):
            return Inferred("bool")
        inner = expression_type(expr.operand, ctx, at, depth + 1)
        return inner if inner and inner.text in ("int", "float", "complex") else None
    if isinstance(expr, ast.Compare):
        return Inferred("bool") if builtin_available("bool", ctx) else None
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Mod)
        and isinstance(expr.left, ast.Constant)
        and isinstance(expr.left.value, str)
    ):
        return Inferred("str")
    if isinstance(expr, (ast.List, ast.Set)):
        return _container(
            "list" if isinstance(expr, ast.List) else "set", expr.elts, ctx, at, depth
        )
    if isinstance(expr, ast.Tuple):
        if not expr.elts or len(expr.elts) > 4:
            return None
        parts = [expression_type(e, ctx, at, depth + 1) for e in expr.elts]
        if any(p is None or "|" in p.text for p in parts) or not builtin_available("tuple", ctx):
            return None
        return union_free("tuple", [p for p in parts if p is not None])
    if isinstance(expr, ast.Dict):
        if not expr.keys or any(k is None for k in expr.keys):
            return None
        keys = _common([expression_type(k, ctx, at, depth + 1) for k in expr.keys if k is not None])
        values = _common([expression_type(v, ctx, at, depth + 1) for v in expr.values])
        if keys is None or not builtin_available("dict", ctx):
            return None
        if values is None:
            values = Inferred("object") if keys.text == "str" else None
        return None if values is None else union_free("dict", [keys, values])
    if isinstance(expr, (ast.ListComp, ast.SetComp)):
        element = expression_type(expr.elt, ctx, at, depth + 1)
        kind = "list" if isinstance(expr, ast.ListComp) else "set"
        return (
            None
            if element is None or not builtin_available(kind, ctx)
            else union_free(kind, [element])
        )
    if isinstance(expr, ast.DictComp):
        key = expression_type(expr.key, ctx, at, depth + 1)
        value = expression_type(expr.value, ctx, at, depth + 1)
        if key is None or value is None or not builtin_available("dict", ctx):
            return None
        return union_free("dict", [key, value])
    if isinstance(expr, ast.Call):
        return _call_type(expr, ctx, at)
    return None


def union_free(generic: str, parts: list[Inferred]) -> Inferred:
    imports = tuple(i for p in parts for i in p.imports)
    return Inferred(f"{generic}[{', '.join(p.text for p in parts)}]", imports)


def _common(types: list[Inferred | None]) -> Inferred | None:
    """One type for all elements: the same type, or their union when each is known."""
    if not types or any(t is None for t in types):
        return None
    known = [t for t in types if t is not None]
    joined = union(known)
    return joined if joined.text.count("|") < 3 else None


def _container(
    kind: str, elements: list[ast.expr], ctx: Context, at: ast.AST, depth: int
) -> Inferred | None:
    if (
        not elements
        or any(isinstance(e, ast.Starred) for e in elements)
        or not builtin_available(kind, ctx)
    ):
        return None
    element = _common([expression_type(e, ctx, at, depth + 1) for e in elements])
    return None if element is None else union_free(kind, [element])


def _call_type(call: ast.Call, ctx: Context, at: ast.AST) -> Inferred | None:
    if not isinstance(call.func, ast.Name):
        return None
    name = call.func.id
    if name in SCALARS and builtin_available(name, ctx):
        return Inferred(name)
    facts = module_types(ctx)
    if name in facts.classes:
        return class_type(name, ctx, at)
    func = facts.functions.get(name)
    if func is None or func.returns is None or isinstance(func, ast.AsyncFunctionDef):
        return None
    if any_uses(func.returns, ctx) or _has_generator_body(func):
        return None
    returns = func.returns
    names = {n.id for n in ast.walk(returns) if isinstance(n, ast.Name)}
    # The declared return is reused as written: only when every name in it is a builtin
    # or a class of this module that already exists where the new annotation goes.
    for used in names:
        if not builtin_available(used, ctx) and class_type(used, ctx, at) is None:
            return None
    return Inferred(ctx.source_of(returns))


def _has_generator_body(func: FunctionNode) -> bool:
    return any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in own_nodes(func))


def own_nodes(func: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of a function's body, not of functions, lambdas or classes inside it."""
    # In source order, so unions list types the way the code checks them.
    stack: list[ast.AST] = (
        [func.body] if isinstance(func, ast.Lambda) else list(reversed(func.body))
    )
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        for name in reversed(CHILD_FIELDS[type(node)]):
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(item for item in reversed(value) if item is not None)
            elif value is not None:
                stack.append(value)


def return_type(
    func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context, at: ast.AST
) -> Evidence:
    """The union of the obvious types of everything the function returns."""
    if func.name[:1].isupper() or func.name == "field":
        # pydantic's ``PrivateAttr()`` and ``Field()``, FastAPI's ``Query()``: a factory
        # standing in for a class says ``Any`` on purpose, so that its call can be the
        # default of a field of any annotated type.
        return Evidence(reason="a field factory returns `Any` so that any annotated field takes it")
    returns: list[ast.Return] = []
    for node in own_nodes(func):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return Evidence(reason="it is a generator")
        if isinstance(node, ast.Return):
            returns.append(node)
    types: list[Inferred] = []
    for statement in returns:
        if statement.value is None:
            types.append(Inferred("None"))
            continue
        found = expression_type(statement.value, ctx, at)
        if found is None:
            return Evidence(
                reason=f"`return {short(ctx.source_of(statement.value))}` has no obvious type"
            )
        types.append(found)
    if _can_fall_off(func.body):
        types.append(Inferred("None"))
    if not types:
        return Evidence(reason="it never returns")
    joined = union(types)
    if joined.text.count("|") > 2:
        return Evidence(reason="it returns too many different types")
    if joined.text == "None" and returns and not _is_abstract_shape(func):
        return Evidence(Inferred("None"))
    if joined.text == "None" and _is_abstract_shape(func):
        return Evidence(reason="its body is a stub")
    return Evidence(joined)


def _is_abstract_shape(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body of only a docstring, ``...``, ``pass`` or ``raise``: an interface whose
    subclasses decide the type."""
    return all(
        isinstance(s, (ast.Pass, ast.Raise))
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in func.body
    )


def _can_fall_off(body: list[ast.stmt]) -> bool:
    if not body:
        return True
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return False
    if isinstance(last, ast.If):
        return _can_fall_off(last.body) or _can_fall_off(last.orelse)
    if (
        isinstance(last, ast.While)
        and isinstance(last.test, ast.Constant)
        and last.test.value is True
    ):
        return any(isinstance(n, ast.Break) for n in ast.walk(last))
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return _can_fall_off(last.body)
    if isinstance(last, ast.Try) and not last.finalbody:
        return _can_fall_off(last.orelse or last.body) or any(
            _can_fall_off(h.body) for h in last.handlers
        )
    return True


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 30 else text[:27] + "..."


# --- parameters --------------------------------------------------------------------------

# Callables that accept any object for every argument.
OBJECT_SINKS = frozenset(
    {"print", "repr", "id", "hash", "bool", "type", "callable", "ascii", "vars", "dir"}
)
TYPED_BY_ARGUMENT = frozenset({"type", "vars"})
# Builtins whose first argument may be any object, the others not (``isinstance(o, cls)``,
# ``str(data, encoding)`` with bytes).
FIRST_ARGUMENT_SINKS = frozenset({"hasattr", "getattr", "isinstance", "format", "str"})
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
PROTOCOLS = {
    "iterable": Inferred("Iterable[object]", (("collections.abc", "Iterable"),)),
    "callable": Inferred("Callable[..., object]", (("collections.abc", "Callable"),)),
    "awaitable": Inferred("Awaitable[object]", (("collections.abc", "Awaitable"),)),
    "mapping": Inferred("Mapping[str, object]", (("collections.abc", "Mapping"),)),
}


class _ParentMap:
    def __init__(self, func: FunctionNode) -> None:
        self.parent: dict[int, ast.AST] = {}
        for node in own_nodes(func):
            for name in CHILD_FIELDS[type(node)]:
                value = getattr(node, name, None)
                for child in value if type(value) is list else [value]:
                    if isinstance(child, ast.AST):
                        self.parent[id(child)] = node
        self.func = func

    def of(self, node: ast.AST) -> ast.AST | None:
        return self.parent.get(id(node))


def parent_map(func: FunctionNode, ctx: Context) -> _ParentMap:
    return ctx.memo(f"types:parents:{id(func)}", lambda: _ParentMap(func))


def parameter_type(
    func: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg, ctx: Context, at: ast.AST
) -> Evidence:
    """The type a parameter's uses call for: its default's type, the one protocol it is
    used through, or ``object`` when it is only passed on, printed, logged, formatted,
    compared or tested with ``isinstance``."""
    name = arg.arg
    if _is_abstract_shape(func):
        return Evidence(reason="the body is a stub: implementations decide what it takes")
    scope = ctx.scope_of(func)
    if any(b.kind != "param" for b in scope.bindings.get(name, ())):
        return Evidence(reason=f"`{name}` is reassigned")
    parents = parent_map(func, ctx)
    uses = [n for n in own_nodes(func) if isinstance(n, ast.Name) and n.id == name]
    if _captured(func, name):
        return Evidence(reason=f"`{name}` is used by a nested function")
    checked: list[Inferred] = []
    protocols: set[str] = set()
    default = _default_of(func, arg)
    default_type = None if default is None else expression_type(default, ctx, at)
    for use in uses:
        outcome = _classify(use, name, parents, ctx, at, checked, protocols)
        if outcome and default_type is not None and default_type.text != "None":
            # The default's type is what callers are meant to pass; uses do not overrule it.
            return Evidence(union([*checked, default_type]))
        if outcome:
            return Evidence(reason=outcome)
    if checked and not protocols:
        # An isinstance test is there because other values come in: a fallback branch, a
        # validator's raise, a type guard's False. The function takes any object.
        return Evidence(union([Inferred("object")]))
    found: list[Inferred] = list(checked)
    if default is not None:
        if default_type is None:
            return Evidence(
                reason=f"the default `{short(ctx.source_of(default))}` has no obvious type"
            )
        if default_type.text != "None" or found or protocols:
            found.append(default_type)
    if protocols:
        if len(protocols) > 1 or checked:
            return Evidence(reason=f"`{name}` is used through several protocols")
        if default is not None and (not found or found[-1].text != "None"):
            return Evidence(reason=f"`{name}` is used through a protocol and has a default")
        kind = PROTOCOLS[protocols.pop()]
        return Evidence(union([kind, *found]) if found else kind)
    if found:
        return Evidence(union(found))
    return Evidence(Inferred("object"))


def _default_of(func: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg) -> ast.expr | None:
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    if arg in positional:
        index = positional.index(arg) - (len(positional) - len(args.defaults))
        return args.defaults[index] if index >= 0 else None
    if arg in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(arg)]
    return None


def _captured(func: FunctionNode, name: str) -> bool:
    for node in own_nodes(func):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
                return True
    return False


def _narrowed(node: ast.AST, name: str, parents: _ParentMap) -> bool:
    """Inside the body of ``if isinstance(name, ...)``, where type checkers narrow."""
    child = node
    parent = parents.of(node)
    while parent is not None:
        if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
            in_body = child in parent.body if isinstance(parent, ast.If) else child is parent.body
            if in_body and _isinstance_of(parent.test, name) is not None:
                return True
        child, parent = parent, parents.of(parent)
    return False


def _isinstance_of(test: ast.expr, name: str) -> list[ast.expr] | None:
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "isinstance"
        and len(test.args) == 2
        and isinstance(test.args[0], ast.Name)
        and test.args[0].id == name
    ):
        spec = test.args[1]
        return list(spec.elts) if isinstance(spec, ast.Tuple) else [spec]
    return None


def _checked_type(expr: ast.expr, ctx: Context, at: ast.AST) -> Inferred | None:
    """A class named in ``isinstance`` as an annotation: non-generic builtins, module
    classes, and classes reached through a module-level import."""
    if isinstance(expr, ast.Name) and expr.id in SCALARS and builtin_available(expr.id, ctx):
        return Inferred(expr.id)
    if isinstance(expr, ast.Name) and expr.id in module_types(ctx).classes:
        return class_type(expr.id, ctx, at)
    text = dotted_name(expr)
    if text is None:
        return None
    qualified = ctx.qualified_name(expr) or ""
    head = text.split(".")[0]
    # Reached through a module-level import, and not a generic ABC (a bare ``Mapping``
    # would need type parameters).
    if head not in ctx.module_scope.imports or qualified.startswith(
        ("typing.", "collections.", "builtins.")
    ):
        return None
    last = text.rsplit(".", 1)[-1]
    return Inferred(text) if last[:1].isupper() or last in DATETIME_CLASSES else None


DATETIME_CLASSES = frozenset({"datetime", "date", "time", "timedelta", "timezone"})


def _classify(
    use: ast.Name,
    name: str,
    parents: _ParentMap,
    ctx: Context,
    at: ast.AST,
    checked: list[Inferred],
    protocols: set[str],
) -> str:
    """Record what one use of a parameter says; return why inference must stop, or ""."""
    parent = parents.of(use)
    if isinstance(parent, ast.Call) and use in parent.args:
        spec = _isinstance_of(parent, name)
        if spec is not None:
            for item in spec:
                found = _checked_type(item, ctx, at)
                if found is None:
                    return (
                        f"`isinstance({name}, {short(ctx.source_of(item))})` names no usable class"
                    )
                checked.append(found)
            return ""
    if _narrowed(use, name, parents):
        return ""
    return _object_use(use, parents, ctx, protocols, name)


def _object_use(
    node: ast.expr, parents: _ParentMap, ctx: Context, protocols: set[str] | None, name: str
) -> str:
    """ "" when an expression of type ``object`` is fine where ``node`` stands; with
    ``protocols`` given, a protocol use is recorded instead of refused."""
    parent = parents.of(node)
    shown = f"`{name}`"
    if isinstance(parent, ast.Expr):
        return ""
    if isinstance(parent, ast.FormattedValue) and parent.value is node:
        return ""
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
        return ""
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return ""
    if isinstance(parent, ast.BoolOp) and isinstance(
        parents.of(parent), (ast.If, ast.While, ast.Assert)
    ):
        return ""
    if isinstance(parent, ast.Compare):
        ops = parent.ops
        if parent.left is node and all(
            isinstance(o, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn))
            for o in ops[:1]
        ):
            return ""
        if parent.left is not node and all(
            isinstance(o, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) for o in ops
        ):
            return ""
        return f"{shown} is compared by order or membership"
    if (
        isinstance(parent, ast.BinOp)
        and isinstance(parent.op, ast.Mod)
        and parent.right is node
        and isinstance(parent.left, ast.Constant)
        and isinstance(parent.left.value, str)
    ):
        return ""
    if isinstance(parent, ast.Tuple) and isinstance(parents.of(parent), ast.BinOp):
        outer = parents.of(parent)
        if (
            isinstance(outer, ast.BinOp)
            and isinstance(outer.op, ast.Mod)
            and isinstance(outer.left, ast.Constant)
        ):
            return ""
    call = parent if isinstance(parent, ast.Call) else None
    if isinstance(parent, ast.keyword):
        keyword_call = parents.of(parent)
        call = keyword_call if isinstance(keyword_call, ast.Call) else None
    if call is not None and call.func is not node:
        return _passed_on(node, call, parents, ctx, shown)
    if protocols is None:
        return f"{shown} is used as more than an object"
    if call is not None and isinstance(parents.of(call), ast.Expr):
        protocols.add("callable")
        return ""
    if isinstance(parent, ast.Await) and isinstance(parents.of(parent), ast.Expr):
        protocols.add("awaitable")
        return ""
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
        if isinstance(parent, ast.AsyncFor):
            return f"{shown} is iterated asynchronously"
        reason = _target_is_object(parent, parents, ctx)
        if reason:
            return reason
        protocols.add("iterable")
        return ""
    if (
        isinstance(parent, ast.Subscript)
        and parent.value is node
        and isinstance(parent.ctx, ast.Load)
        and isinstance(parent.slice, ast.Constant)
        and isinstance(parent.slice.value, str)
    ):
        reason = _object_use(parent, parents, ctx, None, f"{name}[...]")
        if reason:
            return reason
        protocols.add("mapping")
        return ""
    if isinstance(parent, ast.Attribute):
        return f"{shown} is used through `.{parent.attr}`"
    if isinstance(parent, ast.Return):
        return f"{shown} is returned"
    return (
        f"{shown} is used in `{short(ctx.source_of(parent))}`"
        if parent is not None and hasattr(parent, "lineno")
        else f"{shown} is used in a way inference does not follow"
    )


def _target_is_object(loop: ast.For | ast.comprehension, parents: _ParentMap, ctx: Context) -> str:
    """Iterating as ``Iterable[object]`` only works when each item is used as an object."""
    if not isinstance(loop.target, ast.Name):
        return "the loop unpacks its items"
    target = loop.target.id
    scope: ast.AST = loop
    if isinstance(loop, ast.comprehension):
        owner = parents.of(loop)
        scope = owner if owner is not None else loop
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == target and isinstance(node.ctx, ast.Load):
            if _object_use(node, parents, ctx, None, target):
                return f"the loop's items are used as more than objects (`{target}`)"
    return ""


def _passed_on(
    node: ast.expr, call: ast.Call, parents: _ParentMap, ctx: Context, shown: str
) -> str:
    """Passing an ``object`` on is fine to callables that take any object."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in OBJECT_SINKS and builtin_available(func.id, ctx):
        if func.id in TYPED_BY_ARGUMENT:
            # ``type(x)`` / ``vars(x)`` carry the argument's type on: their result must be
            # used as a mere object too.
            return _object_use(call, parents, ctx, None, f"{func.id}({shown.strip('`')})")
        return ""
    if (
        isinstance(func, ast.Name)
        and func.id in FIRST_ARGUMENT_SINKS
        and call.args
        and call.args[0] is node
        and builtin_available(func.id, ctx)
        and (func.id != "str" or len(call.args) == 1)
    ):
        return ""
    if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS:
        return ""
    if isinstance(func, ast.Name):
        target = module_types(ctx).functions.get(func.id)
        if target is not None and _accepts_object(target, call, node, ctx):
            return ""
    method = _own_method(func, ctx)
    if method is not None and _accepts_object(method, call, node, ctx, bound=True):
        return ""
    callee = dotted_name(func) or "a call"
    return f"{shown} is passed to `{callee}`, whose parameter type is not known"


def _own_method(func: ast.expr, ctx: Context) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """``self.method`` called inside a class: that class's own (not static) method."""
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
    ):
        return None
    cls = ctx.enclosing_class()
    if cls is None:
        return None
    for statement in cls.body:
        if (
            isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
            and statement.name == func.attr
        ):
            static = any(
                last_name(d) == "staticmethod"
                for d in statement.decorator_list
                if isinstance(d, (ast.Name, ast.Attribute))
            )
            return None if static else statement
    return None


def _accepts_object(
    target: ast.FunctionDef | ast.AsyncFunctionDef,
    call: ast.Call,
    node: ast.expr,
    ctx: Context,
    bound: bool = False,
) -> bool:
    args = target.args
    param: ast.arg | None = None
    if node in call.args:
        position = call.args.index(node)
        positional = [*args.posonlyargs, *args.args][1 if bound else 0 :]
        if any(isinstance(a, ast.Starred) for a in call.args[:position]):
            return False
        param = positional[position] if position < len(positional) else args.vararg
    else:
        keyword = next((k for k in call.keywords if k.value is node), None)
        if keyword is None or keyword.arg is None:
            return False
        param = next(
            (a for a in [*args.args, *args.kwonlyargs] if a.arg == keyword.arg), args.kwarg
        )
    if param is None:
        return False
    if param.annotation is None:
        return True
    return any(
        (isinstance(member, ast.Name) and member.id == "object") or is_any(member, ctx)
        for member in union_members(param.annotation)
    )


def union_members(annotation: ast.expr) -> list[ast.expr]:
    """The alternatives of ``A | B`` / ``Optional[A]`` / ``Union[A, B]``; the annotation
    itself when it is no union."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return [*union_members(annotation.left), *union_members(annotation.right)]
    if isinstance(annotation, ast.Subscript) and last_name(annotation.value) in (
        "Optional",
        "Union",
    ):
        items = (
            annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        )
        return [member for item in items for member in union_members(item)]
    return [annotation]


def values_are_read(name: str, func: FunctionNode | None, ctx: Context) -> str:
    """Why a ``dict[str, Any]`` bound to ``name`` cannot become ``dict[str, object]``: its
    values are read and used (``d["k"] + 1``), which an ``object`` value would refuse.
    Empty when the dict is only filled, passed on or returned. ``func`` is the function the
    name is local to, None for a module-level name."""
    if func is not None:
        nodes: list[ast.AST] = list(own_nodes(func))
        parents = parent_map(func, ctx)
        parent_of = parents.of
    else:
        table = ctx.memo("types:module-parents", lambda: _module_parents(ctx.tree))
        nodes = list(ast.walk(ctx.tree))
        parent_of = lambda node: table.get(id(node))  # noqa: E731 - same shape as parents.of
    for node in nodes:
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = parent_of(node)
        if (
            isinstance(parent, ast.Subscript)
            and parent.value is node
            and isinstance(parent.ctx, ast.Load)
        ):
            return f"`{name}[...]` values are read"
        if isinstance(parent, ast.Attribute) and parent.attr in (
            "get",
            "pop",
            "values",
            "items",
            "setdefault",
        ):
            call = parent_of(parent)
            if not isinstance(parent_of(call) if call is not None else None, ast.Expr):
                return f"`{name}.{parent.attr}()` values are read"
        if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
            return f"`{name}` is iterated"
        if isinstance(parent, ast.keyword) and parent.arg is None:
            # ``f(**name)``: each value meets a typed parameter (urllib3's urlopen_kw).
            return f"`**{name}` passes the values as arguments"
    return ""


def _module_parents(tree: ast.Module) -> dict[int, ast.AST]:
    table: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            table[id(child)] = node
    return table
