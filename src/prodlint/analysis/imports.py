"""Import bindings: which local name stands for which qualified name."""

from __future__ import annotations

import ast
from collections.abc import Iterator


def import_bindings(stmt: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """Yield ``(local name, qualified name)`` for each name an import statement binds.

    ``import os.path`` binds ``os``; ``from requests import get as g`` binds ``g`` to
    ``requests.get``; a relative import keeps its dots (``from . import models`` ->
    ``.models``) so rules can still recognise the last part.
    """
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:
                top = alias.name.partition(".")[0]
                yield top, top
        return
    base = "." * stmt.level + (stmt.module or "")
    for alias in stmt.names:
        if alias.name == "*":
            continue
        joined = f"{base}.{alias.name}" if base and not base.endswith(".") else base + alias.name
        yield alias.asname or alias.name, joined


def last_name(expr: ast.AST | None) -> str | None:
    """The name an expression ends in: ``b`` for ``a.b`` and for ``b``, else None (also for
    no expression, or any other node ``ast.walk`` yields)."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def dotted_name(expr: ast.expr) -> str | None:
    """``a.b.c`` as text, or None when the expression is not a plain attribute chain."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))
