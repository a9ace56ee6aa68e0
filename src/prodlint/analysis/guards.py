"""Checks a value passed before it is used: an allow-list test that ends the function (or
the loop iteration) when the value is not in the list.

``if column not in ALLOWED: raise ValueError(column)`` makes ``column`` one of a fixed set
for every statement after it; so does running inside ``if column in ALLOWED:`` or after
``assert column in ALLOWED``.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

STATEMENT_LISTS = ("body", "orelse", "finalbody")
LEAVING = (ast.Raise, ast.Return, ast.Continue, ast.Break)


def _membership(test: ast.expr, name: str, negated: bool) -> bool:
    """``name in X`` (or ``name not in X`` when ``negated``)."""
    if isinstance(test, ast.BoolOp):
        # ``if not col or col not in ALLOWED: raise``: any operand failing leaves.
        wanted = ast.Or if negated else ast.And
        return isinstance(test.op, wanted) and any(
            _membership(v, name, negated) for v in test.values
        )
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    operator = ast.NotIn if negated else ast.In
    return (
        isinstance(test.ops[0], operator)
        and isinstance(test.left, ast.Name)
        and test.left.id == name
    )


def _leaves(body: Sequence[ast.stmt]) -> bool:
    """The block always ends the function or iteration (``raise``, ``return``, ``abort()``)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, LEAVING):
        return True
    return (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, (ast.Name, ast.Attribute))
        and (last.value.func.id if isinstance(last.value.func, ast.Name) else last.value.func.attr)
        in ("abort", "exit", "fail")
    )


def _guards(statement: ast.stmt, name: str) -> bool:
    if isinstance(statement, ast.Assert):
        return _membership(statement.test, name, negated=False)
    if isinstance(statement, ast.If):
        if _membership(statement.test, name, negated=True) and _leaves(statement.body):
            return True
        # ``if col in ALLOWED: pass`` / ``else: raise``
        return _membership(statement.test, name, negated=False) and _leaves(statement.orelse)
    return False


def checked_against_allow_list(name: str, ancestors: Sequence[ast.AST]) -> bool:
    """True when, at the node whose ancestors are given (outermost first), ``name`` has
    passed an allow-list test in the enclosing function."""
    for depth in range(len(ancestors) - 1, 0, -1):
        holder, inner = ancestors[depth - 1], ancestors[depth]
        if isinstance(
            holder, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
        ):
            # Only the enclosing function's own statements count; stop at its def.
            statements = getattr(holder, "body", [])
            if isinstance(statements, list) and inner in statements:
                before = statements[: statements.index(inner)]
                if any(_guards(s, name) for s in before if isinstance(s, ast.stmt)):
                    return True
            return False
        if (
            isinstance(holder, ast.If)
            and inner in holder.body
            and _membership(holder.test, name, negated=False)
        ):
            return True
        for field in STATEMENT_LISTS:
            statements = getattr(holder, field, None)
            if isinstance(statements, list) and inner in statements:
                before = statements[: statements.index(inner)]
                if any(_guards(s, name) for s in before if isinstance(s, ast.stmt)):
                    return True
    return False
