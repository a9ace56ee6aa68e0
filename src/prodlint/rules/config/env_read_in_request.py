"""PRD406: an environment variable read without a fallback inside request-serving code."""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context
from prodlint.analysis.environment import EnvRead, env_read
from prodlint.analysis.handlers import enclosing_request_handler
from prodlint.model import Severity
from prodlint.registry import Rule
from prodlint.rules.config.common import not_deployed

# Exceptions whose handler around a read is the code's own answer to a missing variable.
CATCHES_MISSING = frozenset({"KeyError", "LookupError", "Exception", "BaseException"})
# Calls that fail on ``None``: a conversion or parse of the value read.
CONVERSIONS = frozenset(
    {"int", "float", "complex", "decimal.Decimal", "json.loads", "uuid.UUID", "bytes.fromhex"}
)


def _catches_missing(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in CATCHES_MISSING for t in types)


def _tests_presence(test: ast.expr, ctx: Context) -> bool:
    """``"X" in os.environ`` (or ``not in``) somewhere in a branch's test."""
    return any(
        isinstance(node, ast.Compare)
        and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
        and any(ctx.qualified_name(c) == "os.environ" for c in node.comparators)
        for node in ast.walk(test)
    )


def _checked_around(ctx: Context) -> bool:
    """The read runs in a ``try`` that handles ``KeyError`` (or wider), or in a branch that
    tested the variable's presence first."""
    ancestors = ctx.ancestors
    for index, node in enumerate(ancestors):
        child = ancestors[index + 1] if index + 1 < len(ancestors) else None
        if isinstance(node, ast.Try) and any(child is stmt for stmt in node.body):
            if any(_catches_missing(handler) for handler in node.handlers):
                return True
        elif isinstance(node, (ast.If, ast.IfExp, ast.While)) and _tests_presence(node.test, ctx):
            return True
    return False


def _fails_on_none(node: ast.expr, parent: ast.AST, ctx: Context) -> bool:
    """``node``'s value is used where ``None`` breaks or is wrong: converted, an attribute
    or item taken from it, joined into a string."""
    if isinstance(parent, ast.Call) and node in parent.args:
        return ctx.qualified_name(parent.func) in CONVERSIONS
    if isinstance(parent, ast.Attribute):
        return True  # ``os.getenv("HOSTS").split(",")``
    if isinstance(parent, ast.Subscript):
        return parent.value is node
    return isinstance(parent, (ast.BinOp, ast.FormattedValue))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _name_fails_on_none(
    name: str, handler: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context
) -> bool:
    """The variable a read was assigned to is used where ``None`` breaks and is never
    tested (``if not token:``, ``token is None``, ``token or default``, ``assert token``):
    the test is the validation the read needs."""
    parents = _parents(handler)
    breaks = False
    for node, parent in parents.items():
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        if isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Assert)):
            return False
        if isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node:
            return False
        breaks = breaks or _fails_on_none(node, parent, ctx)
    return breaks


def _unvalidated(
    node: ast.Subscript | ast.Call,
    read: EnvRead,
    handler: ast.FunctionDef | ast.AsyncFunctionDef,
    ctx: Context,
) -> bool:
    if read.required:
        return not _checked_around(ctx)
    parent = ctx.parent
    if parent is None:
        return False
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        return isinstance(target, ast.Name) and _name_fails_on_none(target.id, handler, ctx)
    return _fails_on_none(node, parent, ctx)


class EnvironmentReadPerRequest(Rule):
    code = "PRD406"
    name = "EnvironmentReadPerRequest"
    summary = "An environment variable read without a fallback inside a request handler"
    message = (
        "`{read}` in the request handler `{handler}`: {consequence}; read and check it once "
        "at start-up (a settings module)"
    )
    what_it_does = """
Flags environment reads with no fallback inside code that serves requests: route
handlers (`@app.route`, `@app.get("/...")`, `@router.post("/...")`, Pyramid's
`@view_config`), Django and DRF views (`@api_view`, `@require_POST`, `@login_required`, a
function of a web application taking `request` first), methods of class-based views
(`View`, `APIView`, `ViewSet`, `MethodView`, Tornado's `RequestHandler`) and functions
nested in them. A read is flagged when it is `os.environ["X"]`, or when `os.getenv("X")` /
`os.environ.get("X")` without a default is converted (`int(...)`, `json.loads(...)`),
has an attribute or item taken from it, or is joined into a string, directly or through
the variable it is assigned to.

Not flagged: reads with a default, reads in a `try` that handles `KeyError`, reads under
`if "X" in os.environ:`, a value that is tested before use (`if not token:`, `token or
default`, `assert token`), reads at module level, in settings, scripts and any function
that serves no request, and test files.
"""
    why_bad = """
A variable read per request fails per request: a deployment that forgot `STRIPE_KEY`
starts, passes its health check and takes traffic, then answers the payment page with a
500 (`KeyError`) or sends `Bearer None` upstream. Read once in a settings module at
start-up, a missing or malformed variable stops the deployment before it serves anyone,
and the value is validated in one place.
"""
    example = """
import os

from flask import Flask

app = Flask(__name__)


@app.post("/charge")
def charge():
    key = os.environ["STRIPE_KEY"]
    return {"key_prefix": key[:7]}
"""
    use_instead = """
import os

from flask import Flask

STRIPE_KEY = os.environ["STRIPE_KEY"]  # fails at start-up, not per request

app = Flask(__name__)


@app.post("/charge")
def charge():
    return {"key_prefix": STRIPE_KEY[:7]}
"""
    fix_safety_note = """
No fix: moving the read to start-up changes when the program fails (and whether it
starts at all), and where the value belongs (a settings module, an application factory)
is the author's choice.
"""
    severity = Severity.WARNING
    # On by default: no finding on Django, Flask, requests, CPython's stdlib, healthchecks,
    # redash, netbox or the FastAPI template (bench/config_precision.py), which read the
    # environment in settings modules.

    requires_text = ("environ", "getenv")

    def applies_to(self, ctx: Context) -> bool:
        return not not_deployed(ctx)

    def check_Subscript(self, node: ast.Subscript, ctx: Context) -> None:
        value = node.value
        if type(value) is ast.Attribute and value.attr == "environ":
            self._check(node, ctx)

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        func = node.func
        if type(func) is not ast.Attribute or len(node.args) != 1 or node.keywords:
            return
        receiver = func.value
        if (func.attr == "getenv" and type(receiver) is ast.Name) or (
            func.attr == "get" and type(receiver) is ast.Attribute and receiver.attr == "environ"
        ):
            self._check(node, ctx)

    def _check(self, node: ast.Subscript | ast.Call, ctx: Context) -> None:
        read = env_read(node, ctx)
        if read is None:
            return
        handler = enclosing_request_handler(ctx)
        if handler is None or not _unvalidated(node, read, handler, ctx):
            return
        consequence = (
            "a missing variable fails each request with `KeyError` instead of the start-up"
            if read.required
            else "a missing variable is `None` here on every request, and nothing checks it"
        )
        shown = ctx.source_of(node)
        self.report(
            ctx,
            node,
            read=shown if len(shown) <= 60 else shown[:57] + "...",
            handler=handler.name,
            consequence=consequence,
        )
