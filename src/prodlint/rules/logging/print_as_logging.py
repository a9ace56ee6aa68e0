"""PRD501: ``print`` used where the application should log."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context, is_main_guard, path_matches
from prodlint.analysis.imports import last_name
from prodlint.analysis.scopes import FUNCTION_NODES
from prodlint.model import FixSafety, Severity
from prodlint.registry import Option, Rule
from prodlint.rules.logging.common import (
    LazyMessage, Piece, call_source, eager_kind, has_comment_inside, logger_for_fix, message_pieces,
    percent_message,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

CLI_DECORATOR_ATTRS = frozenset({"command", "group", "callback", "main"})
OUTPUT_FUNCTION = re.compile(r"_*(dump|print|pprint|show|display|echo)", re.IGNORECASE)
# A docstring whose first sentence says the function prints: "Output completion
# suggestions", "..., displaying the fields of each feature".
OUTPUT_DOCSTRING = re.compile(
    r"^\s*output\b|\b(prints?|printing|display(s|ing)?|shows?|showing|dumps?|dumping)\b", re.IGNORECASE
)
VERBOSITY_WORDS = re.compile(r"verbos|quiet|silent", re.IGNORECASE)
ERROR_WORDS = ("error", "fail", "fatal", "critical", "exception", "traceback")


def _decorator_is_cli(decorator: ast.expr, ctx: Context) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    qualified = ctx.qualified_name(target) or ""
    if qualified.startswith(("click.", "typer.", "asyncclick.", "rich_click.")):
        return True
    # ``@cli.command()`` / ``@app.command()`` on a click group or typer app.
    return isinstance(target, ast.Attribute) and target.attr in CLI_DECORATOR_ATTRS


def _builds_argparse(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> bool:
    return any(
        isinstance(node, ast.Call) and (ctx.qualified_name(node.func) or "").endswith("ArgumentParser")
        for node in ast.walk(func)
    )


def _documented_as_output(func: ast.AST) -> bool:
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    docstring = ast.get_docstring(func, clean=False)
    return docstring is not None and bool(OUTPUT_DOCSTRING.search(docstring.split(".")[0]))


def _is_entry_point(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> bool:
    return (
        func.name == "main"
        or any(_decorator_is_cli(d, ctx) for d in func.decorator_list)
        or _builds_argparse(func, ctx)
    )


def _is_command_class(cls: ast.ClassDef) -> bool:
    """A Django management command (or similar): its ``handle`` writes to the terminal."""
    for base in cls.bases:
        if (last_name(base) or "").endswith("Command"):
            return True
    return False


def cli_functions(ctx: Context) -> set[int]:
    """ids of the functions whose prints are terminal output: entry points (``main``,
    click/typer commands, argparse users, functions the ``__main__`` block calls,
    management-command ``handle``) and the module functions they call or refer to,
    transitively."""
    tree = ctx.tree
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    roots: list[ast.AST] = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[statement.name] = statement
            if _is_entry_point(statement, ctx):
                roots.append(statement)
        elif isinstance(statement, ast.ClassDef):
            methods = [m for m in statement.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            if _is_command_class(statement):
                roots.extend(m for m in methods if m.name == "handle")
            elif any(_builds_argparse(m, ctx) for m in methods):
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


def _file_target(call: ast.Call, ctx: Context) -> str | None:
    """``stdout``/``stderr`` for where the print goes, or None for any other file."""
    for keyword in call.keywords:
        if keyword.arg == "file":
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value is None:
                return "stdout"
            qualified = ctx.qualified_name(value)
            if qualified in ("sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"):
                return qualified.rsplit(".", 1)[1].strip("_")
            return None
    return "stdout"


class PrintUsedAsLogging(Rule):
    code = "PRD501"
    name = "PrintUsedAsLogging"
    summary = "`print` used where the application should log"
    message = "`print` used for logging; use `{logger}.{level}` so output has levels, timestamps and handlers"
    what_it_does = """
Flags `print(...)` calls in library and application code.

Not flagged: code under `if __name__ == "__main__":`, command-line entry points (a
module-level `main`, click/typer commands, functions that build an `argparse` parser,
Django management command `handle` methods, and the module functions they call),
`__main__.py`, prints under a verbosity check (`if verbosity >= 2:`), functions whose
name or docstring says they print (`dump_*`, `print_*`, `show_*`, "Display the ..."),
prints to a file other than `sys.stdout`/`sys.stderr`, test files, and
paths listed in `script-paths`.
"""
    why_bad = """
Output from `print` has no level, no timestamp, no logger name and cannot be routed,
filtered or silenced in production: it ends up interleaved on stdout or lost. Logging
calls go through the handlers the deployment configures.
"""
    example = '''
def charge(order):
    print("charging order", order.id)
'''
    use_instead = '''
import logging

logger = logging.getLogger(__name__)


def charge(order):
    logger.info("charging order %s", order.id)
'''
    fixed_example = '''
import logging

logger = logging.getLogger(__name__)

def charge(order):
    logger.info("charging order %s", order.id)
'''
    fix_safety_note = """
The fix is safe: the message text is the same (`sep` is kept, f-strings, `%` and
`.format()` become lazy `%s` arguments only where that is exact), it goes to the logging
system instead of stdout. `end=` and `flush=` are dropped. `file=sys.stderr` becomes
`warning` (or `error` when the text says error/failed), a print of the caught exception
inside `except` becomes `logger.exception`. The module gets `import logging` and
`logger = logging.getLogger(__name__)` unless it already has a module-level logger,
whose name is reused. No fix is offered for `print(*args)`, a non-literal `sep`, a call
with comments inside it (they would be lost), or when the logger name would be shadowed.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    options = (
        Option("level", str, "info", "The logging method a plain `print` becomes.",
               choices=("debug", "info", "warning", "error", "critical")),
        Option(
            "script-paths",
            tuple,
            ("setup.py", "manage.py", "noxfile.py", "scripts/*", "*/scripts/*", "bin/*", "docs/*", "examples/*"),
            "Globs of files that are scripts, where print is output.",
        ),
    )
    node_types = (ast.Call,)
    fix_node_types = ("Call",)

    def check(self, node: ast.AST, ctx: Context) -> None:
        assert isinstance(node, ast.Call)
        if not isinstance(node.func, ast.Name) or node.func.id != "print":
            return
        if ctx.qualified_name(node.func) != "print" or ctx.value_of("print") is not None:
            return  # shadowed, e.g. ``from rich import print``
        where = _file_target(node, ctx)
        if where is None or self._is_output_context(ctx):
            return
        level, pieces = self._conversion(node, ctx, where)
        logger = logger_for_fix(ctx)
        if pieces is None or logger is None or has_comment_inside(node, ctx):
            self.report(ctx, node, logger=logger[0] if logger else "logger", level=level)
            return
        message = LazyMessage.from_pieces(pieces)
        if len(node.args) == 1 and isinstance(node.args[0], ast.BinOp) and eager_kind(node.args[0]) == "%":
            percent = percent_message(node.args[0], ctx)
            if percent is not None and percent[1]:
                message = percent[0]
        self.report(
            ctx, node, fix=FixSafety.SAFE, logger=logger[0], level=level,
            hint={"call": f"{logger[0]}.{level}({call_source(message.template, message.args)})",
                  "logger": logger[0], "define_logger": logger[1]},
        )

    def _is_output_context(self, ctx: Context) -> bool:
        if ctx.is_test_file or ctx.is_main_module or ctx.in_main_guard():
            return True
        if path_matches(ctx.path, self.settings["script-paths"]):  # type: ignore[arg-type]
            return True
        if self._under_verbosity_check(ctx):
            return True
        functions = list(ctx.enclosing_functions())
        if not functions:
            return False
        if any(OUTPUT_FUNCTION.match(getattr(f, "name", "")) or _documented_as_output(f) for f in functions):
            return True  # ``dump_tree()``, ``print_report()``: printing is the job
        cli = ctx.memo("logging.cli_functions", lambda: cli_functions(ctx))
        if id(functions[-1]) in cli:
            return True
        # Methods of a management command other than ``handle`` also write to the terminal.
        cls = ctx.enclosing_class()
        return cls is not None and _is_command_class(cls)

    @staticmethod
    def _under_verbosity_check(ctx: Context) -> bool:
        """``if verbosity >= 2: print(...)``: output the user asked for on the terminal."""
        for node in reversed(ctx.ancestors):
            if isinstance(node, FUNCTION_NODES):
                return False
            if isinstance(node, (ast.If, ast.IfExp)):
                for inner in ast.walk(node.test):
                    name = inner.id if isinstance(inner, ast.Name) else getattr(inner, "attr", None)
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                        name = inner.value
                    if isinstance(name, str) and VERBOSITY_WORDS.search(name):
                        return True
        return False

    def _conversion(self, call: ast.Call, ctx: Context, where: str) -> tuple[str, list[Piece] | None]:
        """The logging level, and the message pieces (None when no exact rewrite exists)."""
        separator: str | None = " "
        for keyword in call.keywords:
            if keyword.arg == "sep":
                value = keyword.value
                if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, str)):
                    separator = " " if value.value is None else value.value
                else:
                    separator = None
            elif keyword.arg not in ("file", "end", "flush"):
                separator = None  # ``**kwargs``: unknown
        pieces: list[Piece] | None = [] if separator is not None else None
        for index, arg in enumerate(call.args):
            arg_pieces = message_pieces(arg, ctx)
            if arg_pieces is None or pieces is None:
                pieces = None
                continue
            if index:
                pieces.append(Piece(separator or ""))
            pieces.extend(arg_pieces)
        if pieces is not None and not call.args:
            pieces = None  # a bare print() is a blank line of output, not a message
        level = str(self.settings["level"])
        text = " ".join(p.text.lower() for p in pieces or [] if not p.is_arg)
        if where == "stderr":
            level = "error" if any(word in text for word in ERROR_WORDS) else "warning"
        handler = ctx.enclosing(ast.ExceptHandler, stop_at_function=True)
        if isinstance(handler, ast.ExceptHandler) and handler.name and any(
            isinstance(inner, ast.Name) and inner.id == handler.name for arg in call.args for inner in ast.walk(arg)
        ):
            level = "exception"
        return level, pieces

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.logging_setup import use_logger

        use_logger(fixes, str(finding.fix_hint["logger"]), bool(finding.fix_hint["define_logger"]))
        return cst.parse_expression(str(finding.fix_hint["call"]))
