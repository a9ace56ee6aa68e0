"""PRD503: a broad ``except`` that silently does nothing."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.analysis.imports import dotted_name
from prodlint.analysis.scopes import TRY_NODES
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.logging.common import in_logging_machinery, logger_for_fix

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
LOG_MESSAGE = "Ignored exception"
# Calls whose failure is routinely ignored: releasing something on the way out.
CLEANUP_CALLS = re.compile(
    r"^_*(close|aclose|cancel|release|shutdown|stop|terminate|kill|unlink|remove|rmtree|disconnect|"
    r"force_close_all|close_all|cleanup|clean_up|collect|dispose|join|detach|quit|logout|unregister|"
    r"rollback|__exit__)$"
)
# Methods that run on the way out, where a failure has nowhere better to go.
CLEANUP_METHODS = frozenset(
    {
        "close",
        "aclose",
        "__del__",
        "__exit__",
        "__aexit__",
        "shutdown",
        "cleanup",
        "dispose",
        "release",
        "stop",
        "terminate",
    }
)
# Probes: the except is the "no" answer (an optional import, a format that may not parse).
PROBE_CALLS = frozenset({"import_module", "import_string", "__import__", "importlib.import_module"})
# Another linter's suppression on the handler: someone already decided this one.
SUPPRESSED = re.compile(
    r"pylint:\s*disable=[\w,\s-]*(broad-except|broad-exception-caught|bare-except|W0703|W0718|W0702)"
    r"|noqa:[\w,\s]*(BLE001|S110|E722)|nosec",
    re.IGNORECASE,
)


def _is_broad(handler: ast.ExceptHandler, ctx: Context) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    # The spelling first; resolving names (shadowing, aliases) only for a broad-looking one.
    return any(dotted_name(t) in BROAD and ctx.qualified_name(t) in BROAD for t in types)


def _does_nothing(statement: ast.stmt) -> bool:
    return isinstance(statement, (ast.Pass, ast.Continue)) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


def _is_cleanup(statement: ast.stmt) -> bool:
    """``resource.close()``, ``os.unlink(path)``: letting such a failure pass is the norm."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    func = statement.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return bool(CLEANUP_CALLS.match(name))


def _is_probe(statement: ast.stmt, ctx: Context) -> bool:
    """An import tried in case it works: ``import x``, ``module = import_module(name)``."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return True
    value = getattr(statement, "value", None)
    if isinstance(value, ast.Call):
        qualified = ctx.qualified_name(value.func) or ""
        return qualified.rsplit(".", 1)[-1] in PROBE_CALLS
    return False


@dataclass(frozen=True)
class LoggerPayload(FixPayload):
    logger: str  # the name the handler logs through
    define_logger: bool  # the module has no such logger yet: the fix defines it


class SwallowedException(Rule):
    code = "PRD503"
    name = "SwallowedException"
    summary = "A broad `except` whose body does nothing"
    message = "`{clause}` silently swallows every error; log it or catch something narrower"
    what_it_does = """
Flags `except:`, `except Exception:` and `except BaseException:` (alone or in a tuple)
whose body only does `pass`, `...` or `continue`.

Not flagged, because there the error is expected and ignoring it is the design: a narrow
`except` (`ImportError`, `KeyError`, `OSError`...: the code names what it expects), best
effort cleanup (a `try` that only calls `close()`, `cancel()`, `release()`, `unlink()`...,
or any handler in `close`/`__exit__`/`__del__`-like methods), probes whose failure is an
answer (a `try` with an `else:` branch; a `try` that returns its result and falls through
to a default; an optional import), handlers inside logging handlers, formatters and filters
(logging from there recurses, or mails the admins), handlers another linter's
suppression already covers (`# pylint: disable=broad-except`, `# noqa: BLE001`/`S110`,
`# nosec`), and test files (a test provokes the error it swallows, then asserts on the state
it left: saleor's `try: with allow_writer(): fail() except Exception: pass`).
"""
    why_bad = """
A broad handler that does nothing hides every failure, including the ones nobody
expected: a typo becomes a silent no-op, a lost database connection becomes missing data,
and nothing in the logs says why.
"""
    example = """
import logging

logger = logging.getLogger(__name__)


def sync(item):
    try:
        push(item)
    except Exception:
        pass
"""
    use_instead = """
import logging

logger = logging.getLogger(__name__)


def sync(item):
    try:
        push(item)
    except Exception:
        logger.debug("Ignored exception", exc_info=True)
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: it adds `logger.debug("Ignored exception", exc_info=True)` (replacing
`pass`/`...`, before `continue`). At `DEBUG` the record keeps the traceback for whoever
turns debugging on and changes nothing visible under the default configuration, unlike
`logger.exception`, whose `ERROR` records reach error handlers (Django's
`AdminEmailHandler` mails the admins) and tests that assert on logs. It still calls the
logging system, which a handler configured at `DEBUG` sees. The module gets a logger if it
has none; no fix where no logger can be used (the module's logger is bound only later, or
the handler runs among the imports, before the logger the fix would add).
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.UNSAFE
    fix_node_types = ("ExceptHandler", "ExceptStarHandler")

    def applies_to(self, ctx: Context) -> bool:
        return not ctx.is_test_file  # the pre-filter of the test below

    def check_ExceptHandler(self, node: ast.ExceptHandler, ctx: Context) -> None:
        if not all(_does_nothing(statement) for statement in node.body) or ctx.is_test_file:
            return
        if not _is_broad(node, ctx) or self._expected(node, ctx):
            return
        # ``except*`` handlers are ast.ExceptHandler too; libcst gives them their own class.
        star = not isinstance(ctx.parent, ast.Try)
        keyword = "except*" if star else "except"
        clause = "except:" if node.type is None else f"{keyword} {ast.unparse(node.type)}:"
        logger = logger_for_fix(ctx)
        if logger is None:
            self.report(ctx, node, clause=clause)
            return
        self.report(
            ctx,
            node,
            fix=FixSafety.UNSAFE,
            clause=clause,
            payload=LoggerPayload(*logger),
            anchor=(node, "ExceptStarHandler") if star else None,
        )

    @staticmethod
    def _expected(handler: ast.ExceptHandler, ctx: Context) -> bool:
        """Whether the code shows the error is one it means to ignore."""
        header = ctx.lines[handler.lineno - 1]
        last = ctx.lines[(handler.end_lineno or handler.lineno) - 1]
        if "#" in header + last and SUPPRESSED.search(header + " " + last):
            return True
        statement = ctx.parent
        if not isinstance(statement, TRY_NODES):
            return False
        if statement.orelse:
            return True  # ``try: probe() except: pass else: use it``
        body = statement.body
        if all(_is_cleanup(s) for s in body) or any(_is_probe(s, ctx) for s in body):
            return True
        if (
            isinstance(body[-1], ast.Return)
            and body[-1].value is not None
            and not statement.finalbody
        ):
            return True  # ``try: return parse(x) except: pass`` falls through to a default
        function = ctx.enclosing_function()
        if getattr(function, "name", None) in CLEANUP_METHODS:
            return True
        return in_logging_machinery(ctx)

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.logging_setup import use_logger

        assert isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler))
        payload = finding.payload_as(LoggerPayload)
        name = payload.logger
        use_logger(fixes, name, payload.define_logger)
        log_call = cst.parse_statement(f'{name}.debug("{LOG_MESSAGE}", exc_info=True)\n')
        body = node.body
        if not isinstance(body, cst.IndentedBlock):
            # ``except Exception: pass`` on one line: keep it one simple statement line.
            small = [s for s in body.body if not isinstance(s, (cst.Pass, cst.Expr))]
            assert isinstance(log_call, cst.SimpleStatementLine)
            return node.with_changes(body=body.with_changes(body=[*log_call.body, *small]))
        statements: list[cst.BaseStatement] = []
        kept_comments: list[cst.EmptyLine] = []
        trailing: cst.TrailingWhitespace | None = None
        for statement in body.body:
            smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else []
            if smalls and all(isinstance(s, (cst.Pass, cst.Expr)) for s in smalls):
                # ``pass`` / ``...`` give way to the log call; the comments around them,
                # often the reason the error is ignored, stay.
                assert isinstance(statement, cst.SimpleStatementLine)
                kept_comments.extend(statement.leading_lines)
                if statement.trailing_whitespace.comment is not None:
                    trailing = statement.trailing_whitespace
                continue
            statements.append(statement)
        assert isinstance(log_call, cst.SimpleStatementLine)
        log_call = log_call.with_changes(leading_lines=kept_comments)
        if trailing is not None:
            log_call = log_call.with_changes(trailing_whitespace=trailing)
        return node.with_changes(body=body.with_changes(body=[log_call, *statements]))
