"""Where a literal goes: the name it is bound to or the call parameter it is passed as.

Rules about configuration values judge a literal by its destination (``API_URL = "..."``,
``requests.get("...")``, ``{"PASSWORD": "..."}``), not by its text alone; strings in
messages, docstrings and comparisons have none and are left alone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from prodlint.analysis.context import Context

DestinationKind = Literal["name", "attribute", "subscript", "key", "keyword", "argument", "default"]


@dataclass(frozen=True)
class Destination:
    """``kind`` says what ``name`` is: an assigned ``name``, an assigned ``attribute``
    (``self.url = ...``), a ``subscript`` key (``conf["url"] = ...``), a dict ``key``, a call
    ``keyword``, a positional ``argument`` (``position``), or a parameter ``default``.

    ``whole`` is False when the literal is only a piece of a built value (f-string, ``+``,
    ``%``, ``.format``); ``element`` is its index when it sits in a tuple or list literal
    (``auth=("user", "pass")``)."""

    kind: DestinationKind
    name: str | None
    call: ast.Call | None = None
    position: int | None = None
    whole: bool = True
    element: int | None = None
    holder: ast.AST | None = None  # the Assign/Dict/Call/arguments node that takes the value
    # Names of the enclosing dict keys and assignment, innermost first: for
    # ``DATABASES = {"default": {"HOST": ...}}`` the key ``HOST`` has ("default", "DATABASES").
    outer: tuple[str, ...] = ()


def _subscript_key(target: ast.Subscript) -> str | None:
    key = target.slice
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _assigned(target: ast.expr) -> tuple[DestinationKind, str | None] | None:
    if isinstance(target, ast.Name):
        return "name", target.id
    if isinstance(target, ast.Attribute):
        return "attribute", target.attr
    if isinstance(target, ast.Subscript):
        return "subscript", _subscript_key(target)
    return None


def _default_name(arguments: ast.arguments, child: ast.AST) -> str | None:
    positional = [*arguments.posonlyargs, *arguments.args]
    for index, default in enumerate(arguments.defaults):
        if default is child:
            return positional[len(positional) - len(arguments.defaults) + index].arg
    for arg, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        if kw_default is child:
            return arg.arg
    return None


def _outer_names(ancestors: list[ast.AST], index: int, child: ast.AST) -> tuple[str, ...]:
    """The dict keys and assigned name around the dict at ``ancestors[index]``."""
    names: list[str] = []
    for position in range(index - 1, -1, -1):
        holder = ancestors[position]
        if isinstance(holder, ast.Dict):
            for key, value in zip(holder.keys, holder.values, strict=True):
                if value is child and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    names.append(key.value)
        elif isinstance(holder, (ast.Assign, ast.AnnAssign)):
            target = holder.targets[0] if isinstance(holder, ast.Assign) else holder.target
            found = _assigned(target)
            if found and found[1]:
                names.append(found[1])
            break
        elif not isinstance(holder, (ast.Call, ast.keyword)):
            break
        child = holder
    return tuple(names)


def destination(node: ast.expr, ctx: Context) -> Destination | None:
    """The destination of ``node``, which must be the node the engine is visiting (its
    ancestors are ``ctx.ancestors``); None for a literal that is not bound or passed."""
    ancestors = ctx.ancestors
    child: ast.AST = node
    whole = True
    element: int | None = None
    for index in range(len(ancestors) - 1, -1, -1):
        holder = ancestors[index]
        if (
            isinstance(holder, ast.JoinedStr)
            or (isinstance(holder, ast.BinOp) and isinstance(holder.op, (ast.Add, ast.Mod)))
            or (
                isinstance(holder, ast.Attribute)
                and holder.attr == "format"
                and holder.value is child
            )
        ):
            whole = False  # a piece of a built string
        elif (
            isinstance(holder, ast.Call)
            and isinstance(child, ast.Attribute)
            and holder.func is child
        ):
            pass  # the ``.format(...)`` call around a template
        elif isinstance(holder, (ast.Tuple, ast.List)) and element is None and whole:
            element = next(i for i, item in enumerate(holder.elts) if item is child)
        elif isinstance(holder, ast.keyword):
            call = ancestors[index - 1]
            assert isinstance(call, ast.Call)
            return Destination("keyword", holder.arg, call, None, whole, element, call)
        elif isinstance(holder, ast.Call):
            for position, arg in enumerate(holder.args):
                if arg is child:
                    return Destination("argument", None, holder, position, whole, element, holder)
            return None
        elif isinstance(holder, (ast.Assign, ast.AnnAssign)):
            if holder.value is not child:
                return None
            target = holder.targets[0] if isinstance(holder, ast.Assign) else holder.target
            found = _assigned(target)
            if found is None:
                return None
            return Destination(found[0], found[1], None, None, whole, element, holder)
        elif isinstance(holder, ast.NamedExpr) and isinstance(holder.target, ast.Name):
            return Destination("name", holder.target.id, None, None, whole, element, holder)
        elif isinstance(holder, ast.Dict):
            for key, value in zip(holder.keys, holder.values, strict=True):
                if value is child and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    return Destination(
                        "key",
                        key.value,
                        None,
                        None,
                        whole,
                        element,
                        holder,
                        _outer_names(ancestors, index, holder),
                    )
            return None
        elif isinstance(holder, ast.arguments):
            name = _default_name(holder, child)
            return (
                None
                if name is None
                else Destination("default", name, None, None, whole, element, holder)
            )
        else:
            return None
        child = holder
    return None
