"""PRD503: a broad ``except`` that silently does nothing."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.analysis.imports import dotted_name
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.logging.common import logger_for_fix

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
LOG_MESSAGE = "Ignored unexpected exception"


def _is_broad(handler: ast.ExceptHandler, ctx: Context) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    # The spelling first; resolving names (shadowing, aliases) only for a broad-looking one.
    return any(
        dotted_name(t) in BROAD and ctx.qualified_name(t) in BROAD for t in types
    )


def _does_nothing(statement: ast.stmt) -> bool:
    return isinstance(statement, (ast.Pass, ast.Continue)) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


class SwallowedException(Rule):
    code = "PRD503"
    name = "SwallowedException"
    summary = "A broad `except` whose body does nothing"
    message = "`{clause}` silently swallows every error; log it or catch something narrower"
    what_it_does = """
Flags `except:`, `except Exception:` and `except BaseException:` (alone or in a tuple)
whose body only does `pass`, `...` or `continue`.
"""
    why_bad = """
A broad handler that does nothing hides every failure, including the ones nobody
expected: a typo becomes a silent no-op, a lost database connection becomes missing data,
and nothing in the logs says why.
"""
    example = '''
import logging

logger = logging.getLogger(__name__)


def sync(item):
    try:
        push(item)
    except Exception:
        pass
'''
    use_instead = '''
import logging

logger = logging.getLogger(__name__)


def sync(item):
    try:
        push(item)
    except Exception:
        logger.exception("Ignored unexpected exception")
'''
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: it adds a `logger.exception(...)` call (replacing `pass`/`...`, before
`continue`), so each swallowed error is now logged with its traceback, which changes what
the program outputs. The module gets a logger if it has none.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.UNSAFE
    node_types = (ast.ExceptHandler,)
    fix_node_types = ("ExceptHandler",)

    def check(self, node: ast.AST, ctx: Context) -> None:
        assert isinstance(node, ast.ExceptHandler)
        if not all(_does_nothing(statement) for statement in node.body):
            return
        if not _is_broad(node, ctx):
            return
        clause = "except:" if node.type is None else f"except {ast.unparse(node.type)}:"
        logger = logger_for_fix(ctx)
        if logger is None:
            self.report(ctx, node, clause=clause)
            return
        self.report(ctx, node, fix=FixSafety.UNSAFE, clause=clause,
                    hint={"logger": logger[0], "define_logger": logger[1]})

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.logging_setup import use_logger

        assert isinstance(node, cst.ExceptHandler)
        name = str(finding.fix_hint["logger"])
        use_logger(fixes, name, bool(finding.fix_hint["define_logger"]))
        log_call = cst.parse_statement(f'{name}.exception("{LOG_MESSAGE}")\n')
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
