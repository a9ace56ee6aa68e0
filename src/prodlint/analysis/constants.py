"""One constant evaluator: the str, bytes, bool, int or None an expression always has.

It follows names to their only assignment (``Context.value_of``), so ``KEY = "x"`` then
``jwt.encode(data, KEY)`` sees ``"x"``; anything that may differ from run to run (a call,
a parameter, a name bound twice) is not a constant.
"""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from prodlint.analysis.context import Context


class NotConstant(enum.Enum):
    VALUE = "not a constant"


NOT_CONSTANT: Final = NotConstant.VALUE
ConstantValue = str | bytes | bool | int | None
Evaluated = ConstantValue | Literal[NotConstant.VALUE]
MAX_DEPTH = 20


def constant_value(expr: ast.expr, ctx: Context, _depth: int = 0) -> Evaluated:
    """The value ``expr`` always evaluates to, or ``NOT_CONSTANT``."""
    if _depth > MAX_DEPTH:
        return NOT_CONSTANT
    if isinstance(expr, ast.Constant):
        value = expr.value
        if value is None or isinstance(value, (str, bytes, bool, int)):
            return value
        return NOT_CONSTANT
    if isinstance(expr, ast.Name):
        bound = ctx.value_of(expr.id)
        return NOT_CONSTANT if bound is None else constant_value(bound, ctx, _depth + 1)
    if isinstance(expr, ast.UnaryOp):
        operand = constant_value(expr.operand, ctx, _depth + 1)
        if operand is NOT_CONSTANT:
            return NOT_CONSTANT
        if isinstance(expr.op, ast.Not):
            return not operand
        if isinstance(expr.op, ast.USub) and type(operand) is int:
            return -operand
        return NOT_CONSTANT
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left = constant_value(expr.left, ctx, _depth + 1)
        if left is NOT_CONSTANT:
            return NOT_CONSTANT
        right = constant_value(expr.right, ctx, _depth + 1)
        for kind in (str, bytes, int):
            if type(left) is kind and type(right) is kind:
                return left + right  # type: ignore[operator]
        return NOT_CONSTANT
    if isinstance(expr, ast.JoinedStr):
        parts = []
        for part in expr.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion != -1:
                    return NOT_CONSTANT
                inner = constant_value(part.value, ctx, _depth + 1)
                if not isinstance(inner, str):
                    return NOT_CONSTANT
                parts.append(inner)
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            else:
                return NOT_CONSTANT
        return "".join(parts)
    return NOT_CONSTANT


def string_value(expr: ast.expr, ctx: Context) -> str | None:
    """The text an expression always has; bytes are read as latin-1 so secrets given as
    ``b"..."`` are seen too."""
    value = constant_value(expr, ctx)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


def str_value(expr: ast.expr, ctx: Context) -> str | None:
    """The str an expression always evaluates to (bytes are not text here: a SQL template
    or a log message is a str)."""
    value = constant_value(expr, ctx)
    return value if isinstance(value, str) else None
