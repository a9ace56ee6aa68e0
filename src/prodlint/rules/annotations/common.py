"""Where the annotations family finds ``Any``, what it leaves alone, and what it proposes.

PRD601 (bare ``Any``) and PRD602 (``Any`` inside a generic) read the same list of places per
statement, computed once and memoised; each reports its own kind.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from prodlint.analysis.context import Context
from prodlint.analysis.imports import dotted_name, last_name
from prodlint.analysis.signatures import (
    ANY_SIGNATURES,
    overridden_with_any,
    overriding_in_module,
    overriding_subclass,
    signature_mentions_any,
)
from prodlint.analysis.types import (
    ANY_NAMES,
    OVERRIDE_NAMES,
    AnyUse,
    Evidence,
    Inferred,
    any_uses,
    builtin_available,
    expression_type,
    is_any,
    module_types,
    parameter_type,
    return_type,
    short,
    simple_literal_source,
    union_members,
    values_are_read,
)
from prodlint.model import FixPayload, FixSafety
from prodlint.registry import Option, Rule

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# Signatures fixed by the data model: ``__eq__(self, other)`` must take anything, and
# ``__getattr__``/``__setattr__``/``__exit__`` are dynamic by nature.
DYNAMIC_DUNDERS = frozenset(
    {
        "__getattr__",
        "__getattribute__",
        "__setattr__",
        "__delattr__",
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__contains__",
        "__exit__",
        "__aexit__",
        "__get__",
        "__set__",
        "__set_name__",
        "__reduce__",
        "__reduce_ex__",
        "__getstate__",
        "__setstate__",
        "__class_getitem__",
        "__init_subclass__",
    }
)
# Decorators that leave annotations to type checkers; any other decorator (a web route, a
# CLI command, a validator) may read them at run time, so no fix is offered there.
INERT_DECORATORS = frozenset(
    {
        "staticmethod",
        "classmethod",
        "property",
        "setter",
        "getter",
        "deleter",
        "abstractmethod",
        "cached_property",
        "wraps",
        "lru_cache",
        "cache",
        "final",
        "contextmanager",
        "asynccontextmanager",
    }
)
GENERIC_ALIAS_BASES = frozenset({"dict", "list", "set", "frozenset", "tuple", "type"})
TYPE_ALIAS_NAMES = frozenset({"typing.TypeAlias", "typing_extensions.TypeAlias"})

OPTIONS = (
    Option("allow-star-args", bool, True, "Leave `*args: Any` and `**kwargs: Any` alone."),
    Option("check-stubs", bool, False, "Check `.pyi` stub files too."),
    Option("check-tests", bool, False, "Check test files too."),
)


@dataclass(frozen=True)
class Place:
    """One ``Any`` to report: where it is, how the message names it, and the fix if any."""

    use: AnyUse
    where: str
    fix: Inferred | None
    reason: str
    outer: str = ""
    comment: bool = False


def mentions_any(ctx: Context) -> bool:
    return ctx.memo("annotations:mentions", lambda: "Any" in ctx.text)


def wanted_file(rule: Rule, ctx: Context) -> bool:
    """Whether the rule looks at this file at all: decided once per file (the test-path
    globs are costly to match on every node)."""
    if not mentions_any(ctx):
        return False
    return ctx.memo(
        f"annotations:wanted:{rule.code}",
        lambda: (
            not (
                (ctx.path.endswith(".pyi") and not rule.settings.get("check-stubs"))
                or (ctx.is_test_file and not rule.settings.get("check-tests"))
            )
        ),
    )


def places(node: ast.AST, ctx: Context, rule: Rule) -> list[Place]:
    """Every ``Any`` the statement ``node`` declares, memoised for the sibling rule."""
    return ctx.memo(f"annotations:places:{id(node)}", lambda: _places(node, ctx, rule))


def _top_statement(node: ast.AST, ctx: Context) -> ast.AST:
    return ctx.ancestors[1] if len(ctx.ancestors) > 1 else node


def _places(node: ast.AST, ctx: Context, rule: Rule) -> list[Place]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _signature(node, ctx, rule)
    if isinstance(node, ast.AnnAssign):
        return _annotated_assignment(node, ctx)
    if isinstance(node, ast.Module):
        return _module_places(node, ctx)
    type_alias = getattr(ast, "TypeAlias", None)
    if type_alias is not None and isinstance(node, type_alias):
        name = getattr(node, "name", None)
        label = (
            f"in type alias `{ast.unparse(name)}`"
            if isinstance(name, ast.expr)
            else "in a type alias"
        )
        # ast.TypeAlias exists from 3.12 only: its fields are read without naming the class.
        value: ast.expr = getattr(node, "value")  # noqa: B009
        return [
            Place(use, label, None, "an alias is named where it is used")
            for use in any_uses(value, ctx)
        ]
    return []


def _module_places(tree: ast.Module, ctx: Context) -> list[Place]:
    """Aliases and assignments' ``# type:`` comments, read from the module once: plain
    assignments are too many to visit one by one for what only a few files hold."""
    found: list[Place] = []
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, ast.Assign):
            found += _alias(statement, ctx) + _type_factory(statement, ctx)
        elif isinstance(statement, ast.ClassDef):
            stack.extend(reversed(statement.body))
        elif isinstance(statement, (ast.If, ast.Try)):
            stack.extend(reversed([*statement.body, *statement.orelse]))
    if ctx.memo("annotations:type-comments", lambda: "# type:" in ctx.text):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                found += type_comment_places(node, ctx)
    return found


def _outer(annotation: ast.expr) -> str:
    head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    text = dotted_name(head)
    return text or ast.unparse(head)


def _signature(
    func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context, rule: Rule
) -> list[Place]:
    if func.name in DYNAMIC_DUNDERS or _overrides(func, ctx):
        return []
    top = _top_statement(func, ctx)
    blocked = _fix_blocked(func, ctx) or _overridden_below(func, ctx) or _defined_twice(func, ctx)
    args = func.args
    found: list[Place] = []
    star = {id(a) for a in (args.vararg, args.kwarg) if a is not None}
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is None or arg.annotation is None:
            continue
        if id(arg) in star and rule.settings.get("allow-star-args"):
            continue
        uses = any_uses(arg.annotation, ctx)
        if not uses:
            continue
        evidence: Evidence | None = None
        for use in uses:
            if blocked or id(arg) in star:
                fix, reason = None, blocked or "a `*args`/`**kwargs` type is each argument's"
            elif not use.nested:
                evidence = evidence or parameter_type(func, arg, ctx, top)
                fix, reason = evidence.inferred, evidence.reason
                base = _possible_base(func, ctx)
                if fix is not None and fix.text != "object" and base:
                    # A narrower parameter than the base method's breaks substitutability;
                    # ``object`` never does.
                    fix, reason = (
                        None,
                        f"it may override a method of `{base}`, which a narrower type would break",
                    )
            else:
                fix, reason = _nested_parameter_fix(func, arg, use, ctx, top)
            found.append(
                Place(use, f"in parameter `{arg.arg}`", fix, reason, _outer(arg.annotation))
            )
    if func.returns is not None:
        uses = any_uses(func.returns, ctx)
        result: Evidence | None = None
        for use in uses:
            if blocked:
                fix, reason = None, blocked
            else:
                result = result or _returned(func, ctx, top)
                fix, reason = result.inferred, result.reason
                base = _base_declaring(func, ctx) if fix is not None else ""
                if base:
                    fix, reason = (
                        None,
                        f"it may override `{base}.{func.name}`, whose return type it must fit",
                    )
                if use.nested:
                    fix, reason = _json_shape(func.returns, use, fix, reason)
            found.append(
                Place(
                    use, f"in the return type of `{func.name}`", fix, reason, _outer(func.returns)
                )
            )
    return found + type_comment_places(func, ctx)


def _overridden_below(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> str:
    """Why a method a subclass of the module or the project redefines keeps its signature:
    the override's types may not fit a narrower one (mypy then reports the override, and
    fixing it in turn is a cascade)."""
    cls = ctx.enclosing_class()
    if cls is None or ctx.enclosing_function() is not None:
        return ""
    below = overriding_in_module(module_types(ctx).classes, cls.name, func.name)
    project = ctx.settings.get(ANY_SIGNATURES)
    if not below and isinstance(project, dict):
        below = overriding_subclass(cls.name, func.name, project)
    return f"`{below}` overrides it and may not fit a narrower signature" if below else ""


def _defined_twice(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> str:
    """A module-level function bound more than once (``if PY3: def f... else: def f``):
    mypy wants every variant's signature the same, so one alone is not narrowed."""
    if ctx.enclosing_class() is not None or ctx.enclosing_function() is not None:
        return ""
    if len(ctx.module_scope.bindings.get(func.name, ())) > 1:
        return f"`{func.name}` is defined more than once, and its variants share one signature"
    return ""


# Bases that declare no methods of their own a subclass would override by name.
BARE_BASES = frozenset(
    {"typing.Generic", "typing.Protocol", "typing_extensions.Protocol", "abc.ABC"}
)


def _base_declaring(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> str:
    """A base of the method's class that declares (or may declare: it is not the
    module's) the same method, whose return type a narrowed one would have to fit; ""
    when every base is known not to (typer's ``source_vars() -> dict[str, object]`` broke
    click's ``ShellComplete.source_vars`` returning a TypedDict)."""
    cls = ctx.enclosing_class()
    if cls is None or ctx.enclosing_function() is not None:
        return ""
    classes = module_types(ctx).classes
    seen: set[str] = set()
    pending = list(cls.bases)
    while pending:
        base = pending.pop()
        if isinstance(base, ast.Subscript):  # ``Generic[T]``, ``Base[int]``
            base = base.value
        name = dotted_name(base) if isinstance(base, (ast.Name, ast.Attribute)) else None
        if name is None:
            return ast.unparse(base)
        if isinstance(base, ast.Name) and base.id in classes:
            if base.id in seen:
                continue
            seen.add(base.id)
            definition = classes[base.id]
            if any(
                isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == func.name
                for s in definition.body
            ):
                return base.id
            pending.extend(definition.bases)
            continue
        if ctx.qualified_name(base) in BARE_BASES and not func.name.startswith("__"):
            continue
        if isinstance(base, ast.Name) and builtin_available(base.id, ctx):
            if hasattr(getattr(builtins, base.id), func.name):
                return base.id
            continue
        return name
    return ""


def _returned(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context, top: ast.AST) -> Evidence:
    """``return_type``, less ``None`` where a value may be expected: a method returning
    nothing under ``-> Any`` is a hook whose overrides return something, and a function
    whose result the module uses would make each such use a type error."""
    found = return_type(func, ctx, top)
    if found.inferred is None or found.inferred.text != "None":
        return found
    if ctx.enclosing_class() is not None:
        return Evidence(reason="a method returning nothing under `-> Any` is a hook to override")
    if _result_used(func.name, ctx):
        return Evidence(reason=f"the module uses the result of `{func.name}()`")
    return found


def _result_used(name: str, ctx: Context) -> bool:
    """Whether the module calls ``name()`` anywhere but as a statement of its own."""

    def compute() -> frozenset[str]:
        calls: Counter[str] = Counter()
        for node in ast.walk(ctx.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                calls[node.func.id] += 1
            elif (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
            ):
                calls[node.value.func.id] -= 1
        return frozenset(called for called, count in calls.items() if count > 0)

    return name in ctx.memo("annotations:results-used", compute)


def _possible_base(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> str:
    """The first base of the class ``func`` is a method of, if it has any."""
    cls = ctx.enclosing_class()
    if cls is None or ctx.enclosing_function() is not None or not cls.bases:
        return ""
    return dotted_name(cls.bases[0]) or ast.unparse(cls.bases[0])


def _fix_blocked(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> str:
    """Why no fix may touch this signature (empty when one may)."""
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = last_name(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
        if name == "overload":
            return "an `@overload` signature is one of a set"
        if name not in INERT_DECORATORS:
            shown = dotted_name(target) or "a decorator"
            return f"`@{shown}` may read the annotations at run time"
    return ""


def _nested_parameter_fix(
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    arg: ast.arg,
    use: AnyUse,
    ctx: Context,
    top: ast.AST,
) -> tuple[Inferred | None, str]:
    """``Callable[..., Any]`` for a callback whose result is never used: ``object``."""
    annotation = arg.annotation
    if isinstance(annotation, ast.Constant):
        return None, "the annotation is quoted"
    if (
        isinstance(annotation, ast.Subscript)
        and last_name(annotation.value) == "Callable"
        and isinstance(annotation.slice, ast.Tuple)
        and len(annotation.slice.elts) == 2
        and annotation.slice.elts[1] is use.node
    ):
        evidence = parameter_type(func, arg, ctx, top)
        if evidence.inferred is not None and evidence.inferred.text in (
            "object",
            "Callable[..., object]",
        ):
            return Inferred("object"), ""
        return None, evidence.reason or "the callback's result is used"
    if _union_member(annotation, use.node):
        # ``Optional[Any]`` is ``Any``: the parameter's uses decide, but only ``object``
        # keeps the union's other members meaningful.
        evidence = parameter_type(func, arg, ctx, top)
        if evidence.inferred is not None and evidence.inferred.text == "object":
            return Inferred("object"), ""
        return None, evidence.reason or "the other members of the union do not say more"
    return None, "nothing in the code says what the items are"


def _union_member(annotation: ast.expr | None, node: ast.expr) -> bool:
    """``Optional[Any]`` / ``Any | None``: a union of ``Any`` and ``None`` only."""
    if annotation is None:
        return False
    members = union_members(annotation)
    if len(members) == 1 and not (
        isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Optional"
    ):
        return False
    others = [m for m in members if m is not node]
    return len(others) == len(members) - 1 and all(
        isinstance(m, ast.Constant) and m.value is None for m in others
    )


def _json_shape(
    annotation: ast.expr, use: AnyUse, fix: Inferred | None, reason: str
) -> tuple[Inferred | None, str]:
    """``dict[str, Any]`` filled from str-keyed dict displays: ``dict[str, object]``."""
    if (
        isinstance(annotation, ast.Subscript)
        and last_name(annotation.value) in ("dict", "Dict")
        and isinstance(annotation.slice, ast.Tuple)
        and len(annotation.slice.elts) == 2
        and annotation.slice.elts[1] is use.node
        and fix is not None
        and fix.text.startswith("dict[str, ")
    ):
        return Inferred("object"), ""
    return None, reason or "nothing in the code says what the values are"


def _overrides(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> bool:
    """``@override``, or a base class of this module or of the project whose same-named
    method uses ``Any``: the signature is the base's to change."""
    if any(
        ctx.qualified_name(d) in OVERRIDE_NAMES
        for d in func.decorator_list
        if isinstance(d, (ast.Name, ast.Attribute))
    ):
        return True
    cls = ctx.enclosing_class()
    if cls is None or ctx.enclosing_function() is not None:
        return False
    seen: set[str] = set()
    bases = [b for b in cls.bases if isinstance(b, ast.Name)]
    classes = module_types(ctx).classes
    while bases:
        base = bases.pop()
        if base.id in seen or base.id not in classes:
            continue
        seen.add(base.id)
        definition = classes[base.id]
        for statement in definition.body:
            if (
                isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and statement.name == func.name
            ):
                if signature_mentions_any(statement, ctx.module_scope.imports):
                    return True
        bases.extend(b for b in definition.bases if isinstance(b, ast.Name))
    # Bases from other files of the project, from the project facts when the front end
    # gathered them.
    project = ctx.settings.get(ANY_SIGNATURES)
    if isinstance(project, dict):
        foreign = [
            name
            for base in cls.bases
            if (name := last_name(base)) is not None and name not in classes
        ]
        return overridden_with_any(foreign, func.name, project)
    return False


def _annotated_assignment(node: ast.AnnAssign, ctx: Context) -> list[Place]:
    target = ast.unparse(node.target)
    if ctx.qualified_name(node.annotation) in TYPE_ALIAS_NAMES and node.value is not None:
        return [
            Place(
                use,
                f"in type alias `{target}`",
                None,
                "an alias is named where it is used",
                _outer(node.value),
            )
            for use in any_uses(node.value, ctx)
        ]
    uses = any_uses(node.annotation, ctx)
    if not uses:
        return []
    top = _top_statement(node, ctx)
    fix: Inferred | None = None
    reason = "it has no value to infer from"
    cls = ctx.enclosing_class()
    field_of = cls if cls is not None and ctx.enclosing_function() is None else None
    decorators = (
        []
        if field_of is None
        else [
            d
            for d in field_of.decorator_list
            if last_name(d.func if isinstance(d, ast.Call) else d)
            not in ("dataclass", "final", "total_ordering")
        ]
    )
    if field_of is not None and field_of.bases:
        reason = f"fields of a `{ast.unparse(field_of.bases[0])}` subclass may be read at run time"
    elif decorators:
        # ``@attrs.define``, ``@pydantic.dataclasses.dataclass`` validate or convert by the
        # annotations; a plain ``@dataclass`` does not.
        shown = dotted_name(
            decorators[0].func if isinstance(decorators[0], ast.Call) else decorators[0]
        )
        reason = f"`@{shown or 'a decorator'}` may read the class's annotations at run time"
    elif node.value is not None:
        found = expression_type(node.value, ctx, top)
        if found is None or found.text == "None":
            reason = f"the value `{short(ctx.source_of(node.value))}` has no obvious type"
        else:
            fix, reason = found, ""
    result = []
    for use in uses:
        use_fix, use_reason = fix, reason
        if use.nested:
            use_fix, use_reason = _json_shape(node.annotation, use, fix, reason)
        if use_fix is not None and (use.nested or use_fix.text.startswith("dict[")):
            # A dict's values typed ``object`` refuse every use: read back, iterated or
            # passed on as ``**kwargs`` (SQLAlchemy's ``Table(name, self, **reflect_opts)``).
            read = values_are_read(target, ctx.enclosing_function(), ctx)
            if read:
                use_fix, use_reason = None, read
        result.append(
            Place(
                use,
                f"in the annotation of `{target}`",
                use_fix,
                use_reason,
                _outer(node.annotation),
            )
        )
    return result


def _alias(node: ast.Assign, ctx: Context) -> list[Place]:
    """``JSON = dict[str, Any]`` at module or class level: flagged once, at the alias."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        return []
    value = node.value
    if isinstance(value, ast.Subscript):
        base = ctx.qualified_name(value.value) or ""
        if not (
            base in GENERIC_ALIAS_BASES
            or base.startswith(("typing.", "typing_extensions.", "collections.abc."))
        ):
            return []
    elif isinstance(value, ast.BinOp):
        if not isinstance(value.op, ast.BitOr):
            return []
    elif not is_any(value, ctx):
        return []
    name = node.targets[0].id
    return [
        Place(
            use,
            f"in type alias `{name}`",
            None,
            "an alias is named where it is used",
            _outer(value),
        )
        for use in any_uses(value, ctx)
    ]


TYPE_FACTORIES = frozenset(
    {
        f"{module}.{name}"
        for module in ("typing", "typing_extensions", "mypy_extensions")
        for name in ("TypeVar", "NewType", "NamedTuple", "TypedDict")
    }
)


def _type_factory(node: ast.Assign, ctx: Context) -> list[Place]:
    """``T = TypeVar("T", bound=Any)``, ``NewType``, and the call forms of ``NamedTuple``
    and ``TypedDict``: their arguments are types."""
    call = node.value
    if not isinstance(call, ast.Call) or not isinstance(call.func, (ast.Name, ast.Attribute)):
        return []
    if last_name(call.func) not in ("TypeVar", "NewType", "NamedTuple", "TypedDict"):
        return []
    kind = ctx.qualified_name(call.func) or ""
    if kind not in TYPE_FACTORIES:
        return []
    types: list[ast.expr] = [
        *call.args[1:],
        *(k.value for k in call.keywords if k.arg in ("bound", "default")),
    ]
    if kind.endswith(("NamedTuple", "TypedDict")):
        fields = call.args[1] if len(call.args) > 1 else None
        types = [k.value for k in call.keywords if k.arg not in ("total", "closed")]
        if isinstance(fields, (ast.List, ast.Tuple)):
            types += [
                f.elts[1] for f in fields.elts if isinstance(f, ast.Tuple) and len(f.elts) == 2
            ]
        elif isinstance(fields, ast.Dict):
            types += fields.values
    label = f"in `{ast.unparse(node.targets[0])}`, a `{kind.rsplit('.', 1)[1]}`"
    return [
        Place(use, label, None, "the type is declared where it is used", _outer(expression))
        for expression in types
        for use in any_uses(expression, ctx)
    ]


# --- ``# type:`` comments ----------------------------------------------------------------


def type_comment_places(node: ast.AST, ctx: Context) -> list[Place]:
    """``Any`` in ``# type:`` comments, found in the statement's own source lines (the
    engine parses without type comments, so they are read here, only for files that have
    any). They are reported without a fix."""
    if not ctx.memo("annotations:type-comments", lambda: "# type:" in ctx.text):
        return []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        first, last, start_col = node.lineno, node.body[0].lineno - 1, 0
        if node.body[0].lineno == node.lineno:
            return []
        mode = "func_type"
    elif isinstance(node, ast.Assign):
        first = last = node.end_lineno or node.lineno
        start_col = len(
            ctx.lines[first - 1]
            .encode("utf-8")[: node.end_col_offset or 0]
            .decode("utf-8", "replace")
        )
        mode = "eval"
    else:
        return []
    found: list[Place] = []
    for number in range(first, last + 1):
        line = ctx.lines[number - 1]
        at = line.find("# type:", start_col)
        if at < 0:
            continue
        text = line[at + len("# type:") :]
        comment = text.split("#", 1)[0].rstrip()
        if not comment.strip() or comment.strip().startswith("ignore"):
            continue
        offset = at + len("# type:") + len(comment) - len(comment.lstrip())
        try:
            tree = ast.parse(
                comment.strip(),
                mode=mode if comment.strip().startswith("(") or mode == "eval" else "eval",
            )
        except (SyntaxError, ValueError):
            continue
        expressions: list[ast.expr]
        if isinstance(tree, ast.FunctionType):
            expressions = [*tree.argtypes, tree.returns]
        else:
            assert isinstance(tree, ast.Expression)
            expressions = [tree.body]
        for expression in expressions:
            for use in any_uses(expression, ctx):
                column = offset + use.node.col_offset
                marker = ast.Name(
                    id="Any",
                    ctx=ast.Load(),
                    lineno=number,
                    col_offset=len(line[:column].encode("utf-8")),
                    end_lineno=number,
                    end_col_offset=len(
                        line[
                            : column + (use.node.end_col_offset or 0) - use.node.col_offset
                        ].encode("utf-8")
                    ),
                )
                found.append(
                    Place(
                        AnyUse(marker, use.nested),
                        "in a `# type:` comment",
                        None,
                        "type comments are left to be rewritten as annotations",
                        _outer(expression),
                        comment=True,
                    )
                )
    return found


# --- reporting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnyPayload(FixPayload):
    """What the fix puts where ``Any`` stood."""

    type: str  # the inferred type's source text
    imports: tuple[tuple[str, str], ...]  # (module, name) the type needs imported
    drop: str  # the local name of an ``Any`` import to drop once unused ("": none)
    string: str | None  # the whole new quoted annotation, when ``Any`` sat in a string


def payload_for(place: Place, ctx: Context) -> AnyPayload | None:
    """What the fix needs, or None when the place gets no fix: the replacement text, the
    imports it needs, and the ``Any`` import to drop once unused."""
    if place.fix is None or place.comment:
        return None
    imports: list[tuple[str, str]] = []
    for module, name in place.fix.imports:
        bound = ctx.module_scope.imports.get(name)
        if bound in (f"{module}.{name}", f"typing.{name}"):
            continue
        if name in ctx.module_scope.bindings:
            return None  # the name means something else here
        imports.append((module, name))
    node = place.use.node
    drop = ""
    if isinstance(node, ast.Name) and ctx.module_scope.imports.get(node.id) in ANY_NAMES:
        drop = node.id
    string = place.use.string
    quoted = None
    if string is not None:
        quote = simple_literal_source(string, ctx)
        value = str(string.value)
        if quote is None or "\n" in value:
            return None
        end = place.use.offset + len(ast.unparse(node))
        quoted = quote + value[: place.use.offset] + place.fix.text + value[end:] + quote
    return AnyPayload(place.fix.text, tuple(imports), drop, quoted)


def report_places(rule: Rule, node: ast.AST, ctx: Context, nested: bool) -> None:
    for place in places(node, ctx, rule):
        if place.use.nested is not nested:
            continue
        payload = payload_for(place, ctx)
        shown: ast.AST = place.use.string if place.use.string is not None else place.use.node
        if payload is None:
            advice = (
                f"no narrower type was inferred ({place.reason})"
                if place.reason
                else "name the real type"
            )
            rule.report(ctx, shown, where=place.where, outer=place.outer, advice=advice)
        else:
            rule.report(
                ctx,
                shown,
                fix=FixSafety.UNSAFE,
                payload=payload,
                where=place.where,
                outer=place.outer,
                advice=f"use `{place.fix.text if place.fix else ''}`",
            )


class AnyAnnotationRule(Rule):
    """What PRD601 and PRD602 share: the places they read and the fix; each reports one
    kind (``nested``)."""

    nested: ClassVar[bool]
    fix_safety = FixSafety.UNSAFE
    options = OPTIONS
    fix_node_types = ("Name", "Attribute", "SimpleString")
    # Every place either rule reports spells ``Any`` (imported, dotted, quoted or in a
    # ``# type:`` comment).
    requires_text = ("Any",)

    def check_FunctionDef(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.AnnAssign | ast.Module,
        ctx: Context,
    ) -> None:
        if wanted_file(self, ctx):
            report_places(self, node, ctx, nested=self.nested)

    check_AsyncFunctionDef = check_AnnAssign = check_Module = check_FunctionDef

    if sys.version_info >= (3, 12):

        def check_TypeAlias(self, node: ast.TypeAlias, ctx: Context) -> None:
            if wanted_file(self, ctx):
                report_places(self, node, ctx, nested=self.nested)

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        from prodlint.fixes.annotations import replace_any

        return replace_any(node, finding, fixes)
