"""Giving a module a logger when a fix starts using one."""

from __future__ import annotations

import libcst as cst

from prodlint.fixes.base import FixContext, end_of_leading_imports


def insert_logger(module: cst.Module, name: str) -> cst.Module:
    """Put ``name = logging.getLogger(__name__)`` right after the module's leading imports
    (so it exists before any module-level code that logs)."""
    body = list(module.body)
    position = end_of_leading_imports(module)
    definition = cst.parse_statement(f"{name} = logging.getLogger(__name__)\n", config=module.config_for_parsing)
    if position < len(body):
        # One blank line between the imports and the logger, the way formatters leave it.
        definition = definition.with_changes(leading_lines=[cst.EmptyLine()])
        following = body[position]
        if not following.leading_lines:
            body[position] = following.with_changes(leading_lines=[cst.EmptyLine()])
    elif position:
        definition = definition.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, definition)
    return module.with_changes(body=body)


def use_logger(fixes: FixContext, name: str, define: bool) -> None:
    """Record that a fix calls ``name``; define it (and import logging) if it is new."""
    if define:
        fixes.add_import("logging")
        fixes.add_module_edit(f"logger:{name}", lambda module: insert_logger(module, name))
