"""Putting an inferred type where ``Any`` stood, with the imports it needs and without the
``Any`` import once nothing uses it."""

from __future__ import annotations

import re

import libcst as cst

from prodlint.fixes.base import FixContext
from prodlint.model import Finding

ANY_MODULES = ("typing", "typing_extensions")


def replace_any(node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
    """The replacement for an ``Any`` name (or the quoted annotation holding it)."""
    from prodlint.rules.annotations.common import AnyPayload

    payload = finding.payload_as(AnyPayload)
    string = payload.string
    if isinstance(node, cst.SimpleString):
        if string is None:
            return None
        replacement: cst.CSTNode = cst.SimpleString(string)
    elif isinstance(node, (cst.Name, cst.Attribute)) and not string:
        replacement = cst.parse_expression(payload.type)
    else:
        return None
    for module, name in payload.imports:
        fixes.add_import(module, name)
    drop = payload.drop
    if drop:
        fixes.add_module_edit(
            f"annotations:drop:{drop}", lambda module: drop_unused_import(module, drop)
        )
    return replacement


def drop_unused_import(module: cst.Module, local: str) -> cst.Module:
    """Remove ``from typing import Any`` (bound as ``local``) from the top-level imports
    when the name appears nowhere else in the file: not in code, strings (``__all__``,
    quoted annotations) or comments (``# type:``). A mention anywhere keeps it."""
    body = list(module.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
            continue
        if (
            small.relative
            or small.module is None
            or cst.Module([]).code_for_node(small.module) not in ANY_MODULES
        ):
            continue
        names = list(small.names)
        kept = [a for a in names if (a.evaluated_alias or a.evaluated_name) != local]
        if len(kept) == len(names):
            continue
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            body[index] = statement.with_changes(body=[small.with_changes(names=kept)])
        else:
            if statement.trailing_whitespace.comment is not None:
                return module
            del body[index]
            if statement.leading_lines and index < len(body):
                # The comments above the import stay, above what now comes first.
                following = body[index]
                body[index] = following.with_changes(
                    leading_lines=[*statement.leading_lines, *following.leading_lines]
                )
            if index == 0 and body:
                # The file now opens with what followed the import: no blank lines first.
                lines = list(body[0].leading_lines)
                while lines and lines[0].comment is None:
                    lines.pop(0)
                body[0] = body[0].with_changes(leading_lines=lines)
        candidate = module.with_changes(body=body)
        if re.search(rf"\b{re.escape(local)}\b", candidate.code):
            return module
        return candidate
    return module
