"""PRD501: ``print`` used where the application should log."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.analysis.entrypoints import (
    PROGRAM_EXITS,
    cli_functions,
    is_command_class,
    is_script,
    module_qualified_name,
)
from prodlint.analysis.scopes import FUNCTION_NODES
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Option, Rule
from prodlint.rules.logging.common import (
    LOG_METHODS,
    LazyMessage,
    Piece,
    call_source,
    eager_kind,
    has_comment_inside,
    in_logging_machinery,
    logger_for_fix,
    message_pieces,
    percent_message,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

OUTPUT_FUNCTION = re.compile(r"_*(dump|print|pprint|show|display|echo)", re.IGNORECASE)
# Words in a function's name that say it talks to the terminal: ``safe_say``,
# ``emit_banner``, ``report_progress``, ``filter_status`` (a status-line callback).
OUTPUT_WORDS = frozenset(
    {
        "dump",
        "print",
        "pprint",
        "show",
        "display",
        "echo",
        "say",
        "banner",
        "usage",
        "progress",
        "status",
    }
)
# A docstring whose first sentence says the function prints: "Output completion
# suggestions", "..., displaying the fields of each feature".
OUTPUT_DOCSTRING = re.compile(
    r"^\s*output\b|\b(prints?|printing|display(s|ing)?|shows?|showing|dumps?|dumping)\b",
    re.IGNORECASE,
)
VERBOSITY_WORDS = re.compile(r"verbos|quiet|silent", re.IGNORECASE)
# ``if DEBUG_SQL:``, ``if self.trace:``: a trace somebody switched on to read it.
DEBUG_WORDS = re.compile(
    r"debug|^_*trac(e|ing)_*$|_trac(e|ing)$", re.IGNORECASE
)  # not ``trace_id``
ENVIRONMENT_READS = frozenset({"os.environ", "os.getenv", "os.environb", "os.getenvb"})
# Calls that wait for the person at the terminal: the prints around them are the dialogue
# (CTFd's "Please backup your database before proceeding!" before "Run migrations (Y/N)").
PROMPT_CALLS = frozenset(
    {"input", "getpass.getpass", "click.prompt", "click.confirm", "typer.prompt", "typer.confirm"}
)
ERROR_WORDS = ("error", "fail", "fatal", "critical", "exception", "traceback")
# What flake8-print (and ruff's T20 rules) call a print; a noqa for them is false once
# the print is gone.
PRINT_NOQA_CODES = frozenset({"T201", "T203", "T001", "T003"})
NOQA_COMMENT = re.compile(
    r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE
)


def _documented_as_output(func: ast.AST) -> bool:
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    docstring = ast.get_docstring(func, clean=False)
    return docstring is not None and bool(OUTPUT_DOCSTRING.search(docstring.split(".")[0]))


def _named_for_output(func: ast.AST) -> bool:
    name = getattr(func, "name", "")
    return bool(OUTPUT_FUNCTION.match(name)) or bool(
        OUTPUT_WORDS.intersection(name.lower().split("_"))
    )


def _reads_environment(test: ast.expr, ctx: Context, depth: int = 0) -> bool:
    """``os.environ.get("X_DEBUG")``, ``os.getenv(...)``, or a module constant holding one
    (``C_REMDEBUG = os.environ.get("C_REMDEBUG")``; ``if C_REMDEBUG:``)."""
    for node in ast.walk(test):
        if isinstance(node, (ast.Name, ast.Attribute)):
            qualified = module_qualified_name(node, ctx)
            if qualified is not None and any(
                qualified == r or qualified.startswith(r + ".") for r in ENVIRONMENT_READS
            ):
                return True
            if isinstance(node, ast.Name) and depth < 3:
                value = ctx.module_scope.only_assignment(node.id)
                if value is not None and _reads_environment(value, ctx, depth + 1):
                    return True
    return False


def _mentions(test: ast.expr, words: re.Pattern[str]) -> bool:
    for inner in ast.walk(test):
        name = inner.id if isinstance(inner, ast.Name) else getattr(inner, "attr", None)
        if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
            name = inner.value
        if isinstance(name, str) and words.search(name):
            return True
    return False


def _trace_functions(ctx: Context) -> frozenset[str]:
    """Module functions put in place only under a module-level environment check:
    ``if os.environ.get("C_TRACE_APP"): app_or_default = _app_or_default_trace``."""
    names: set[str] = set()
    for statement in ctx.tree.body:
        if isinstance(statement, ast.If) and _reads_environment(statement.test, ctx):
            for part in statement.body:
                names.update(n.id for n in ast.walk(part) if isinstance(n, ast.Name))
    return frozenset(names)


def _is_exit(statement: ast.stmt, ctx: Context) -> bool:
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return module_qualified_name(raised, ctx) == "SystemExit"
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and module_qualified_name(statement.value.func, ctx) in PROGRAM_EXITS
    )


def _prompts(func: ast.AST, ctx: Context) -> bool:
    """The function asks the user something (``input()``, ``getpass``, ``click.confirm``)."""

    def compute() -> bool:
        return any(
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and module_qualified_name(node.func, ctx) in PROMPT_CALLS
            for node in ast.walk(func)
        )

    return ctx.memo(f"logging.prompts:{id(func)}", compute)


def _class_prints(cls: ast.ClassDef) -> dict[str, set[str]]:
    """For each method: whether it prints ("print" in the set) and which ``self.`` methods
    it calls."""
    found: dict[str, set[str]] = {}
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        facts: set[str] = set()
        for node in ast.walk(method):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id == "print":
                    facts.add("print")
                elif (
                    isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "self"
                ):
                    facts.add("self." + node.func.attr)
        found[method.name] = facts
    return found


def _is_logger_class(cls: ast.ClassDef) -> bool:
    """A class whose ``info()``/``warning()``... prints, itself or through one of its
    methods: it is the program's logger, and its prints are the output."""
    methods = _class_prints(cls)
    for name in LOG_METHODS & methods.keys():
        facts = methods[name]
        if "print" in facts or any(
            "print" in methods.get(f[5:], ()) for f in facts if f.startswith("self.")
        ):
            return True
    return False


def _file_target(call: ast.Call, ctx: Context) -> str | None:
    """``stdout``/``stderr`` for where the print goes, or None for any other file.
    ``sys.__stderr__`` is None too: it is chosen to get past whatever took over
    ``sys.stderr``, logging's redirection included."""
    for keyword in call.keywords:
        if keyword.arg == "file":
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value is None:
                return "stdout"
            qualified = ctx.qualified_name(value)
            if qualified in ("sys.stdout", "sys.stderr"):
                return qualified.rsplit(".", 1)[1]
            return None
    return "stdout"


def _ends_line(call: ast.Call) -> bool:
    """False for ``end=""`` / ``end="\\r"``: a partial line or a progress counter that the
    next print continues, terminal output by construction."""
    for keyword in call.keywords:
        if keyword.arg == "end":
            value = keyword.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value.endswith("\n") and "\r" not in value.value
            return isinstance(value, ast.Constant) and value.value is None
    return True


def _without_print_noqa(comment: str) -> str | None:
    """The trailing comment once the print is gone: a ``# noqa`` for print rules would be
    reported unused (RUF100), so those codes go; None when nothing is left."""
    match = NOQA_COMMENT.search(comment)
    if match is None:
        return comment
    codes = [c for c in re.split(r"[\s,]+", match.group("codes")) if c]
    kept = [c for c in codes if c.upper() not in PRINT_NOQA_CODES]
    if len(kept) == len(codes):
        return comment
    replacement = f"# noqa: {', '.join(kept)}" if kept else ""
    text = (comment[: match.start()] + replacement + comment[match.end() :]).strip()
    if text.startswith("#") and not text.lstrip("#").strip():
        return None
    return text or None


@dataclass(frozen=True)
class PrintPayload(FixPayload):
    call: str  # the logging call that replaces the print, as source
    logger: str
    define_logger: bool  # the module has no such logger yet: the fix defines it


# What a comment says when its author chose print over logging on purpose.
CHOSEN = ("logg", "intentional", "on purpose", "deliberate")


def _explained(node: ast.Call, ctx: Context) -> bool:
    """The comments right above the print (or after it) say why it is a print."""
    lines = ctx.lines
    texts = []
    number = node.lineno - 1
    while number >= 1 and lines[number - 1].lstrip().startswith("#"):
        texts.append(lines[number - 1])
        number -= 1
    first = lines[node.lineno - 1]
    if "#" in first:
        texts.append(first[first.index("#") :])
    text = " ".join(texts).lower()
    return "print" in text and any(word in text for word in CHOSEN)


class PrintUsedAsLogging(Rule):
    code = "PRD501"
    name = "PrintUsedAsLogging"
    summary = "`print` used where the application should log"
    message = (
        "`print` used for logging; use `{logger}.{level}` so output has levels, timestamps"
        " and handlers"
    )
    what_it_does = """
Flags `print(...)` calls in library and application code: prints that report what the
code is doing, where a log line belongs.

Not flagged, because there the print is the program's output: code under
`if __name__ == "__main__":`, `__main__.py`, scripts (a shebang line, or top-level code
that reads `sys.argv`, stdin or `input()`, builds an argument parser or calls `exit()`),
functions that ask the user something (`input()`, `getpass`, `click.confirm`), command-line
entry points (a module-level `main`, click/typer commands, functions that build an
`argparse` parser, Django management commands, and the module functions they call),
prints under a verbosity check (`if verbosity >= 2:`) or a debug switch (`if DEBUG_SQL:`,
`if os.environ.get("X_DEBUG"):`, and functions installed only under such a switch), the
message printed right before `sys.exit()`/`raise SystemExit`, functions whose name or
docstring says they print (`dump_*`, `print_*`, `show_*`, `*_progress`, `safe_say`,
"Display the ..."), partial lines and progress counters (`end=""`, `end="\\r"`), prints to
a file other than `sys.stdout`/`sys.stderr` (`sys.__stderr__` is chosen to get past
redirection), logging handlers, formatters and filters (logging from there recurses),
classes whose `info()`/`warning()`/`log()`... print (the class is the program's logger),
modules that define or import their own `print`, prints whose comment says why they are
prints (`# logger not set up yet, so using print`), test files, migrations, and paths listed
in `script-paths` (by default scripts, docs, examples and browser-test helper folders).
"""
    why_bad = """
Output from `print` has no level, no timestamp, no logger name and cannot be routed,
filtered or silenced in production: it ends up interleaved on stdout or lost. Logging
calls go through the handlers the deployment configures.
"""
    example = """
def charge(order):
    print("charging order", order.id)
"""
    use_instead = """
import logging

logger = logging.getLogger(__name__)


def charge(order):
    logger.info("charging order %s", order.id)
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: it changes what the program outputs. The message goes to the logging
system instead of stdout, and nothing shows `INFO` records until logging is configured, so
a print nobody configured logging for disappears; `end=` and `flush=` are dropped. The
text is the same otherwise (`sep` is kept; f-strings, `%` and `.format()` become lazy `%s`
arguments only where that is exact). `file=sys.stderr` becomes `warning` (or `error` when
the text says error/failed), a print of the caught exception inside `except` becomes
`logger.exception` when the text says error/failed, else `warning`. The fix reuses the
module's standard library logger or adapter
(`log = logging.getLogger(...)`, `logging.LoggerAdapter(...)`, a module class deriving
from them) when one is bound at the module's top level before the print's statement;
otherwise it adds `import logging` and `logger = logging.getLogger(__name__)` after the
imports. No fix is offered for `print(*args)`, a non-literal `sep`, a call with comments
inside it (they would be lost), when the module's logger is bound only later or on some
paths (the fix would raise `NameError`), or when the logger name would be shadowed. A
`# noqa: T201` on the line is removed with the print it excused.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.UNSAFE
    options = (
        Option(
            "level",
            str,
            "info",
            "The logging method a plain `print` becomes.",
            choices=("debug", "info", "warning", "error", "critical"),
        ),
        Option(
            "script-paths",
            tuple,
            (
                "setup.py",
                "manage.py",
                "noxfile.py",
                "scripts/*",
                "*/scripts/*",
                "bin/*",
                "docs/*",
                "examples/*",
                "e2e/*",
                "*_e2e/*",
                "e2e_*/*",
                "*playwright*/*",
                "*selenium*/*",
                "cypress/*",
                "browser_tests/*",
            ),
            "Globs of files whose prints are output: scripts, and helpers of browser/end-to-end"
            " tests.",
        ),
    )
    fix_node_types = ("Call",)
    call_names = frozenset({"print"})  # a call of the builtin, by its name

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        if not isinstance(node.func, ast.Name) or node.func.id != "print":
            return
        if ctx.qualified_name(node.func) != "print" or self._print_is_redefined(ctx):
            return  # shadowed, e.g. ``from rich import print`` or ``def print(...)``
        where = _file_target(node, ctx)
        if where is None or not _ends_line(node) or self._is_output_context(node, ctx):
            return
        level, pieces = self._conversion(node, ctx, where)
        logger = logger_for_fix(ctx)
        if pieces is None or logger is None or has_comment_inside(node, ctx):
            self.report(ctx, node, logger=logger[0] if logger else "logger", level=level)
            return
        message = LazyMessage.from_pieces(pieces)
        if (
            len(node.args) == 1
            and isinstance(node.args[0], ast.BinOp)
            and eager_kind(node.args[0]) == "%"
        ):
            percent = percent_message(node.args[0], ctx)
            if percent is not None and percent[1]:
                message = percent[0]
        # A log record ends its own line: a trailing newline would add a blank line after
        # it (celery's "purge: Erased 3 messages from the queue.\n").
        trimmed = message.template.rstrip("\n")
        if trimmed and trimmed != message.template:
            message = LazyMessage(trimmed, message.args, message.exact)
        self.report(
            ctx,
            node,
            fix=FixSafety.UNSAFE,
            logger=logger[0],
            level=level,
            anchor=self._statement_anchor(node, ctx),
            payload=PrintPayload(
                f"{logger[0]}.{level}({call_source(message.template, message.args)})", *logger
            ),
        )

    @staticmethod
    def _print_is_redefined(ctx: Context) -> bool:
        if "print" in ctx.module_scope.bindings:
            return True
        return any("print" in ctx.scope_of(func).bindings for func in ctx.enclosing_functions())

    @staticmethod
    def _statement_anchor(node: ast.Call, ctx: Context) -> tuple[ast.AST, str] | None:
        """The whole statement line when the print is one, so the fix can drop a
        ``# noqa: T201`` the line carries; None (the call itself) otherwise."""
        parent = ctx.parent
        if not isinstance(parent, ast.Expr) or parent.value is not node:
            return None
        first = ctx.lines[node.lineno - 1]
        last = ctx.lines[(node.end_lineno or node.lineno) - 1]
        before = first.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")
        after = last.encode("utf-8")[node.end_col_offset or 0 :].decode("utf-8", "replace").strip()
        if before.strip() or (after and not after.startswith("#")):
            return None  # ``x = 1; print(x)``: one of several statements on the line
        return parent, "SimpleStatementLine"

    def _is_output_context(self, node: ast.Call, ctx: Context) -> bool:
        if ctx.is_test_file or ctx.is_migration_file or ctx.is_main_module or ctx.in_main_guard():
            return True
        if ctx.path_matches(self.settings["script-paths"]):  # type: ignore[arg-type]
            return True
        if self._under_switch(ctx) or self._before_exit(node, ctx) or is_script(ctx):
            return True
        cls = ctx.enclosing_class()
        if cls is not None and (
            is_command_class(cls)
            or ctx.memo(f"logging.print_class:{id(cls)}", lambda: _is_logger_class(cls))
        ):
            # A management command's methods write to the terminal; a logger class prints
            # because it is the logging.
            return True
        if in_logging_machinery(ctx):
            return True  # logging from a handler recurses: print is its last way out
        if _explained(node, ctx):
            return True  # "logger not set up yet, so using print" (bandit's extension loader)
        functions = list(ctx.enclosing_functions())
        if not functions:
            return False
        if any(_named_for_output(f) or _documented_as_output(f) for f in functions):
            return True  # ``dump_tree()``, ``print_report()``: printing is the job
        if any(_prompts(f, ctx) for f in functions):
            return True  # a question to the user and what it says before asking
        if any(DEBUG_WORDS.search(getattr(f, "name", "")) for f in functions):
            return True  # ``debug_import()``, ``_app_or_default_trace()``: a trace
        outermost = functions[-1]
        if getattr(outermost, "name", None) in ctx.memo(
            "logging.trace_functions", lambda: _trace_functions(ctx)
        ):
            return True
        return id(outermost) in cli_functions(ctx)

    @staticmethod
    def _under_switch(ctx: Context) -> bool:
        """``if verbosity >= 2: print(...)`` in this function: output the user asked for; a
        debug switch or an environment check anywhere around it (the function may be
        defined under ``if os.environ.get("X_DEBUG"):``): a trace someone turned on to
        read it."""
        in_function = True
        for node in reversed(ctx.ancestors):
            if isinstance(node, FUNCTION_NODES):
                in_function = False
            if not isinstance(node, (ast.If, ast.IfExp)):
                continue
            if in_function and _mentions(node.test, VERBOSITY_WORDS):
                return True
            if _mentions(node.test, DEBUG_WORDS) or _reads_environment(node.test, ctx):
                return True
        return False

    @staticmethod
    def _before_exit(node: ast.Call, ctx: Context) -> bool:
        """The message of a program giving up: ``print("no config"); sys.exit(2)``."""
        if len(ctx.ancestors) < 2 or not isinstance(ctx.parent, ast.Expr):
            return False
        statement, block_owner = ctx.ancestors[-1], ctx.ancestors[-2]
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(block_owner, field, None)
            if isinstance(block, list) and any(s is statement for s in block):
                index = next(i for i, s in enumerate(block) if s is statement)
                return any(isinstance(s, ast.stmt) and _is_exit(s, ctx) for s in block[index + 1 :])
        return False

    def _conversion(
        self, call: ast.Call, ctx: Context, where: str
    ) -> tuple[str, list[Piece] | None]:
        """The logging level, and the message pieces (None when no exact rewrite exists)."""
        separator: str | None = " "
        for keyword in call.keywords:
            if keyword.arg == "sep":
                value = keyword.value
                if isinstance(value, ast.Constant) and (
                    value.value is None or isinstance(value.value, str)
                ):
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
        if (
            isinstance(handler, ast.ExceptHandler)
            and handler.name
            and any(
                isinstance(inner, ast.Name) and inner.id == handler.name
                for arg in call.args
                for inner in ast.walk(arg)
            )
        ):
            # A report of the failure gets its traceback; a handled problem the code goes
            # on from (Django's "the member ... is invalid" for a corrupt tar member) is a
            # warning: ERROR mails a Django site's admins.
            level = "exception" if any(word in text for word in ERROR_WORDS) else "warning"
        return level, pieces

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.logging_setup import use_logger

        payload = finding.payload_as(PrintPayload)
        use_logger(fixes, payload.logger, payload.define_logger)
        call = cst.parse_expression(payload.call)
        if not isinstance(node, cst.SimpleStatementLine):
            return call
        statement = node.body[0]
        assert isinstance(statement, cst.Expr)
        trailing = node.trailing_whitespace
        comment = trailing.comment
        if comment is not None:
            kept = _without_print_noqa(comment.value)
            if kept is None:
                trailing = trailing.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
            elif kept != comment.value:
                trailing = trailing.with_changes(comment=cst.Comment(kept))
        return node.with_changes(
            body=[statement.with_changes(value=call)], trailing_whitespace=trailing
        )
