"""Which code is a program talking to its user: scripts, command-line entry points and the
functions they reach.

Output there is the program's job (a print is the interface, not a log line), and one-off
programs are held to different standards than request-serving code. Everything here is
computed once per file, the first time a rule asks.
"""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context, is_main_guard
from prodlint.analysis.imports import dotted_name, last_name
from prodlint.analysis.scopes import FUNCTION_NODES, SCOPE_NODES

CLI_DECORATOR_ATTRS = frozenset({"command", "group", "callback", "main"})
# Module-level use of these makes the module a program run from a shell.
PROGRAM_INPUTS = frozenset({"sys.argv", "sys.stdin", "input", "getopt.getopt", "getopt.gnu_getopt"})
# Module-level calls of these end the process: only a program run from a shell does that
# (a container's wait-for-the-database script: ``if url.drivername == "sqlite": exit(0)``).
PROGRAM_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit"})
PARSER_SUFFIXES = ("ArgumentParser", "OptionParser")


def module_qualified_name(expr: ast.expr, ctx: Context) -> str | None:
    """``expr`` resolved through the module's top-level imports only, unlike
    ``ctx.qualified_name``: facts memoised per file must not depend on the function the
    rule that asked first happened to be in."""
    text = dotted_name(expr)
    if text is None:
        return None
    head, dot, rest = text.partition(".")
    qualified = ctx.module_scope.imports.get(head)
    return text if qualified is None else qualified + dot + rest


def _module_qualified(expr: ast.expr, ctx: Context) -> str:
    return module_qualified_name(expr, ctx) or ""


def _decorator_is_cli(decorator: ast.expr, ctx: Context) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    qualified = _module_qualified(target, ctx)
    if qualified.startswith(("click.", "typer.", "asyncclick.", "rich_click.")):
        return True
    # ``@cli.command()`` / ``@app.command()`` on a click group or typer app.
    return isinstance(target, ast.Attribute) and target.attr in CLI_DECORATOR_ATTRS


def _is_parser_call(node: ast.AST, ctx: Context) -> bool:
    return isinstance(node, ast.Call) and _module_qualified(node.func, ctx).endswith(
        PARSER_SUFFIXES
    )


def builds_argparse(func: ast.AST, ctx: Context) -> bool:
    return any(_is_parser_call(node, ctx) for node in ast.walk(func))


def is_entry_point(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> bool:
    """``main``, a click/typer command, or a function that builds an argument parser."""
    return (
        func.name == "main"
        or any(_decorator_is_cli(d, ctx) for d in func.decorator_list)
        or builds_argparse(func, ctx)
    )


def is_command_class(cls: ast.ClassDef) -> bool:
    """A Django management command (or similar): its ``handle`` writes to the terminal."""
    return any((last_name(base) or "").endswith("Command") for base in cls.bases)


def _cli_functions(ctx: Context) -> set[int]:
    tree = ctx.tree
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    roots: list[ast.AST] = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[statement.name] = statement
            if is_entry_point(statement, ctx):
                roots.append(statement)
        elif isinstance(statement, ast.ClassDef):
            methods = [
                m for m in statement.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            ]
            if is_command_class(statement):
                roots.extend(m for m in methods if m.name == "handle")
            elif any(builds_argparse(m, ctx) for m in methods):
                # A command-line tool written as a class: every method serves the terminal.
                roots.extend(methods)
        elif is_main_guard(statement):
            roots.append(statement)
    seen: set[int] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        for inner in ast.walk(node):
            # Any reference counts, not just a call: CLIs dispatch through tables of handlers.
            if isinstance(inner, ast.Name):
                callee = functions.get(inner.id)
                if callee is not None and id(callee) not in seen:
                    seen.add(id(callee))
                    pending.append(callee)
        if isinstance(node, FUNCTION_NODES):
            seen.add(id(node))
    return seen


def cli_functions(ctx: Context) -> set[int]:
    """ids of the functions whose output is the terminal's: entry points (``main``,
    click/typer commands, argparse users, functions the ``__main__`` block calls,
    management-command ``handle``) and the module functions they call or refer to,
    transitively."""
    return ctx.memo("entrypoints.cli_functions", lambda: _cli_functions(ctx))


def _module_level_nodes(tree: ast.Module) -> list[ast.AST]:
    """The nodes that run when the module runs, outside any function or class body."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, SCOPE_NODES):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _is_script(ctx: Context) -> bool:
    if ctx.text.startswith("#!"):
        return True
    for node in _module_level_nodes(ctx.tree):
        if (
            isinstance(node, (ast.Name, ast.Attribute))
            and _module_qualified(node, ctx) in PROGRAM_INPUTS
        ):
            return True
        if _is_parser_call(node, ctx):
            return True
        if isinstance(node, ast.Call) and _module_qualified(node.func, ctx) in PROGRAM_EXITS:
            return True
    return False


def is_script(ctx: Context) -> bool:
    """A program rather than a library module: a shebang line, or top-level code that reads
    ``sys.argv``/stdin/``input()``, builds an argument parser or exits the process."""
    return ctx.memo("entrypoints.is_script", lambda: _is_script(ctx))
