"""PRD602: ``Any`` inside a generic (``dict[str, Any]``, ``Callable[..., Any]``)."""

from __future__ import annotations

from prodlint.model import Severity
from prodlint.rules.annotations.common import AnyAnnotationRule


class NestedAny(AnyAnnotationRule):
    code = "PRD602"
    name = "NestedAny"
    summary = "`Any` nested in a generic or union annotation (`dict[str, Any]`)"
    message = "`Any` inside `{outer}` {where} leaves those values unchecked; {advice}"
    what_it_does = """
Flags `Any` nested inside another type in the same places PRD601 looks: `dict[str,
Any]`, `list[Any]`, `Optional[Any]`, `Any | None`, `Callable[..., Any]`, in annotations,
quoted annotations, `# type:` comments and type aliases (`JSON = dict[str, Any]` is
flagged once, at the alias, not at each use). The same places are left alone as for
PRD601.
"""
    why_bad = """
The container is checked but what is in it is not: `payload["user"]["nmae"]` passes, and
so does calling the result of a `Callable[..., Any]` as if it returned anything. It is
less severe than a bare `Any` because the outer type still holds.
"""
    example = """
from typing import Any


def summary(order_id: int) -> dict[str, Any]:
    return {"id": order_id, "status": "paid"}
"""
    use_instead = """
def summary(order_id: int) -> dict[str, object]:
    return {"id": order_id, "status": "paid"}
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: it changes what type checkers accept. It is offered in two shapes the
code makes plain: a JSON-shaped `dict[str, Any]` built from str-keyed dict displays (a
return value or a variable's value) becomes `dict[str, object]`, and a
`Callable[..., Any]` parameter whose calls' results are never used becomes
`Callable[..., object]`. Everywhere else the message says that nothing in the code says
what the items are. Neither shape is offered where PRD601 would not narrow either (a
method a subclass redefines, a return type a base declares, conditional variants), nor
for a dict whose values are read or passed on as `**kwargs`. Imports are tidied as for
PRD601.
"""
    severity = Severity.INFO
    nested = True
