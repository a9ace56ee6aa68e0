"""How a string was built, read from its syntax: the literal runs and the values rendered
into them, for f-strings, ``%``-formatting, ``str.format``, ``+`` and ``sep.join(...)``.

Each family asks its own question of the pieces (is the value input reaching SQL? what
``%s`` template keeps a log message's text?), so this module only takes strings apart and
says how each value is rendered (its conversion and format spec); following a name back to
the statements that built it, ``+=`` included, is ``built_from`` on the function's flow.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

from prodlint.analysis.constants import str_value
from prodlint.analysis.context import Context

# One printf conversion: ``%(key)-8.3f``.
PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[#0\- +]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?"
    r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])"
)
_CONVERSIONS = {-1: "", 115: "s", 114: "r", 97: "a"}


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Field:
    """A value rendered with ``format()`` (an f-string or ``str.format`` field).

    ``value`` is None when no argument fills the field (``{2}`` with two arguments,
    ``{user.name}``, a missing keyword); ``spec`` is None when it is computed at run time."""

    value: ast.expr | None
    conversion: str = ""  # "", "s", "r" or "a"
    spec: str | None = ""
    colon: bool = False  # ``f"{x:}"`` writes an empty spec (kept: the text says it)

    @property
    def format_text(self) -> str | None:
        """The field in f-string syntax after the value: ``!r:>5``."""
        if self.spec is None:
            return None
        return ("!" + self.conversion if self.conversion else "") + (
            ":" + self.spec if self.spec or self.colon else ""
        )


@dataclass(frozen=True)
class PercentField:
    """One ``%`` conversion: ``value`` None when the operand does not say which value."""

    value: ast.expr | None
    kind: str  # the conversion letter: s, r, d, f...
    flags: str  # flags and width (``-8``)
    precision: str | None


Part = Literal | Field
PercentPart = Literal | PercentField


def fstring_parts(node: ast.JoinedStr, ctx: Context | None = None) -> list[Part]:
    """An f-string's literal runs and fields. A spec with nested fields (``{x:{width}}``)
    is resolved through constants when ``ctx`` is given, else left None."""
    parts: list[Part] = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            parts.append(Literal(str(part.value)))
            continue
        if not isinstance(part, ast.FormattedValue):
            continue
        spec: str | None = ""
        if part.format_spec is not None:
            spec = _literal_text(part.format_spec)
            if spec is None and ctx is not None:
                spec = str_value(part.format_spec, ctx)
        conversion = _CONVERSIONS.get(part.conversion, "")
        parts.append(Field(part.value, conversion, spec, part.format_spec is not None))
    return parts


def _literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


def format_parts(text: str, call: ast.Call, auto: int = 0) -> tuple[list[Part], int] | None:
    """``text.format(...)`` as parts, and the automatic field number reached (the next
    literal of an implicitly concatenated template goes on from there); None when ``text``
    is no valid template."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    parts: list[Part] = []
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(Literal(literal))
        if name is None:
            continue
        value: ast.expr | None = None
        if name == "":
            value = call.args[auto] if auto < len(call.args) else None
            auto += 1
        elif name.isdigit():
            value = call.args[int(name)] if int(name) < len(call.args) else None
        elif name.isidentifier():
            value = keywords.get(name)
        parts.append(Field(value, conversion or "", spec or ""))
    return parts, auto


def formats_plainly(call: ast.Call) -> bool:
    """A ``.format`` call whose fields map to its arguments: no ``*args`` or ``**kwargs``."""
    return not any(isinstance(a, ast.Starred) for a in call.args) and all(
        k.arg for k in call.keywords
    )


def percent_parts(text: str, right: ast.expr) -> list[PercentPart]:
    """``text % right`` as parts (``%%`` is a literal ``%``; empty literal runs dropped)."""
    specs = list(PERCENT_SPEC.finditer(text))
    real = [m for m in specs if m.group("type") != "%"]
    values: list[ast.expr] | None = None
    mapping: dict[str, ast.expr] | None = None
    if any(m.group("key") is not None for m in real):
        if isinstance(right, ast.Dict) and all(isinstance(k, ast.Constant) for k in right.keys):
            mapping = {
                k.value: v
                for k, v in zip(right.keys, right.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    elif isinstance(right, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in right.elts):
        values = list(right.elts)
    elif len(real) == 1:
        values = [right]
    parts: list[PercentPart] = []
    position = 0
    consumed = 0
    for match in specs:
        parts.append(Literal(text[position : match.start()]))
        position = match.end()
        kind = match.group("type")
        if kind == "%":
            parts.append(Literal("%"))
            continue
        value: ast.expr | None = None
        if mapping is not None:
            value = mapping.get(match.group("key") or "")
        elif values is not None and consumed < len(values):
            value = values[consumed]
        consumed += 1
        flags = (match.group("flags") or "") + (match.group("width") or "")
        parts.append(PercentField(value, kind, flags, match.group("prec")))
    parts.append(Literal(text[position:]))
    return [p for p in parts if not isinstance(p, Literal) or p.text]


def formatting(expr: ast.expr) -> tuple[ast.expr, list[ast.expr]] | None:
    """``template.format(a, b=c)`` or ``template % (a, b)`` as (template, values), when the
    template is only known as an expression (a name, another module's constant)."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        if expr.func.attr == "format":
            return expr.func.value, [*expr.args, *(k.value for k in expr.keywords)]
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        right = expr.right
        return expr.left, list(right.elts) if isinstance(right, ast.Tuple) else [right]
    return None


def concat_operands(node: ast.expr) -> Iterator[ast.expr]:
    """The operands of a chain of ``+``, left to right."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from concat_operands(node.left)
        yield from concat_operands(node.right)
    else:
        yield node


def joined_items(call: ast.Call) -> tuple[ast.expr, ast.expr] | None:
    """``sep.join(items)`` as (separator, items)."""
    if (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "join"
        and len(call.args) == 1
        and not call.keywords
    ):
        return call.func.value, call.args[0]
    return None


def displayed_elements(items: ast.expr) -> list[ast.expr] | None:
    """The elements of a list, tuple or set display with no ``*unpacking``."""
    if isinstance(items, (ast.List, ast.Tuple, ast.Set)) and not any(
        isinstance(e, ast.Starred) for e in items.elts
    ):
        return list(items.elts)
    return None
