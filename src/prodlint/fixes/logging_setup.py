"""Giving a module a logger when a fix starts using one."""

from __future__ import annotations

from prodlint.fixes.base import FixContext
from prodlint.fixes.imports import add_definition


def use_logger(fixes: FixContext, name: str, define: bool) -> None:
    """Record that a fix calls ``name``; define it (and import logging) if it is new.

    The definition goes after the whole import block (so it exists before any module-level
    code that logs, and the imports after it do not become E402)."""
    if define:
        fixes.add_import("logging")
        source = f"{name} = logging.getLogger(__name__)\n"
        fixes.add_module_edit(
            f"logger:{name}", lambda module: add_definition(module, source, name, "logging")
        )
