"""What a call passes: one argument lookup that knows ``*args`` and ``**kwargs`` can hide one."""

from __future__ import annotations

import ast
import enum
from typing import Final, Literal


class Hidden(enum.Enum):
    """The argument may be passed, but through ``*args`` or ``**kwargs``: unknown here."""

    UNKNOWN = "unknown"


UNKNOWN: Final = Hidden.UNKNOWN
ArgumentLookup = ast.expr | Literal[Hidden.UNKNOWN] | None


def argument(
    call: ast.Call, position: int | None, name: str | tuple[str, ...] | None
) -> ArgumentLookup:
    """The expression passed for the parameter at ``position`` (0-based, None when it is
    keyword-only) named ``name`` (None when positional-only; a tuple when callees spell it
    differently: ``sql``, ``query``, ``operation``); None when the call certainly does not
    pass it, ``UNKNOWN`` when a ``*args`` or ``**kwargs`` could."""
    if name is not None:
        names = (name,) if isinstance(name, str) else name
        for keyword in call.keywords:
            if keyword.arg in names:
                return keyword.value
    hidden = False
    if position is not None:
        for index, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                hidden = True  # everything from here on sits at an unknown position
                break
            if index == position:
                return arg
    if name is not None and any(keyword.arg is None for keyword in call.keywords):
        hidden = True
    return UNKNOWN if hidden else None


def passed(
    call: ast.Call, position: int | None, name: str | tuple[str, ...] | None
) -> ast.expr | None:
    """The argument when the call visibly passes it: what ``*args`` or ``**kwargs`` may hide
    counts as not passed."""
    found = argument(call, position, name)
    return None if found is UNKNOWN else found
