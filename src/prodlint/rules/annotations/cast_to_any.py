"""PRD603: ``cast(Any, value)``."""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context
from prodlint.analysis.types import CAST_NAMES, any_uses
from prodlint.model import Severity
from prodlint.registry import Rule
from prodlint.rules.annotations.common import OPTIONS, wanted_file


class CastToAny(Rule):
    code = "PRD603"
    name = "CastToAny"
    summary = "`cast(Any, value)` throws a value's type away"
    message = (
        "`cast(Any, ...)` turns type checking off for this value; cast to the type it really has"
    )
    what_it_does = """
Flags `typing.cast(Any, value)` and casts to a type with `Any` inside
(`cast(list[Any], value)`), also `typing_extensions.cast`, a quoted `"Any"`, however
`cast` and `Any` were imported. The same files are left alone as for PRD601.
"""
    why_bad = """
The cast silences whatever the checker knew about the value, so every later use of it is
unchecked. It is usually a workaround for one wrong declaration elsewhere, better fixed
there or cast to the real type.
"""
    example = """
from typing import Any, cast


def port(settings: dict[str, object]) -> int:
    return cast(Any, settings["port"]) + 1
"""
    use_instead = """
from typing import cast


def port(settings: dict[str, object]) -> int:
    return cast(int, settings["port"]) + 1
"""
    fix_safety_note = """
This rule has no fix: which type the value has is exactly what the cast hides.
"""
    severity = Severity.INFO
    options = OPTIONS
    requires_text = ("Any",)  # the cast's type spells it, quoted or not
    call_names = frozenset({"cast"})

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        func = node.func
        name = (
            func.attr
            if isinstance(func, ast.Attribute)
            else func.id
            if isinstance(func, ast.Name)
            else None
        )
        if name != "cast" or not node.args or not wanted_file(self, ctx):
            return
        # ``cast(Any, x)`` and ``cast(list[Any], x)`` alike (mypy's --disallow-any-explicit
        # flags both); quoted types are parsed.
        if not any_uses(node.args[0], ctx):
            return
        if ctx.qualified_name(func) in CAST_NAMES:
            self.report(ctx, node)
