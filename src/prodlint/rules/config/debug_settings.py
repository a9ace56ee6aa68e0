"""PRD405: debug mode, any-host or any-origin settings left on for production."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from prodlint.analysis.calls import argument
from prodlint.analysis.constants import constant_value
from prodlint.analysis.context import Context
from prodlint.analysis.environment import EnvVariablePayload, os_module_usable
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.config.common import documented_defaults, guarded_by, not_deployed

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# A settings module for a deployed environment, not the one for a laptop or CI.
SETTINGS_FILE = re.compile(r"(?:^|/)(?:[^/]*settings[^/]*\.py|settings/[^/]+\.py)$")
NON_PRODUCTION = re.compile(
    r"(?:^|[/_.-])(?:dev|devel|development|local|test|tests|testing|ci|debug|example|sample)",
    re.IGNORECASE,
)
OPEN_SETTINGS = frozenset(
    {"DEBUG", "ALLOWED_HOSTS", "CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"}
)
# Origin lists of django-cors-headers, Flask-CORS and the FastAPI templates
# (``CORS_ALLOWED_ORIGINS``, ``CORS_ORIGIN_WHITELIST``, ``CORS_ORIGINS``,
# ``BACKEND_CORS_ORIGINS``): a ``"*"`` there lets every site call the API.
CORS_ORIGIN_LIST = re.compile(r"^(?:\w+_)?CORS_(?:ALLOWED_)?ORIGINS?(?:_WHITELIST|_ALLOWLIST)?$")
# Words of the branches and functions that turn debug on for development only.
DEVELOPMENT_WORDS = ("debug", "dev", "local", "test")


def _is_production_settings(path: str) -> bool:
    path = path.replace("\\", "/")
    name = path.rsplit("/", 2)
    tail = "/".join(name[-2:])
    return bool(SETTINGS_FILE.search(path)) and not NON_PRODUCTION.search(
        tail.replace("settings", "")
    )


def _contains_star(expr: ast.expr, ctx: Context) -> bool:
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(constant_value(item, ctx) == "*" for item in expr.elts)
    return constant_value(expr, ctx) == "*"


def _flask_config_target(target: ast.expr, ctx: Context) -> ast.expr | None:
    """The application of ``app.config["DEBUG"]`` or ``app.debug``, else None. Many objects
    have a ``debug`` attribute: ``x.debug`` counts only on a name bound to a Flask
    application, or ``app`` itself in a module that uses Flask."""
    if isinstance(target, ast.Attribute) and target.attr == "debug":
        receiver = target.value
        if not isinstance(receiver, ast.Name):
            return None
        bound = ctx.value_of(receiver.id)
        if isinstance(bound, ast.Call) or receiver.id == "app":
            return receiver
        return None
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Attribute)
        and target.value.attr == "config"
        and isinstance(target.slice, ast.Constant)
        and target.slice.value == "DEBUG"
    ):
        return target.value.value
    return None


def _is_flask_app(receiver: ast.expr, ctx: Context) -> bool:
    if isinstance(receiver, ast.Name):
        bound = ctx.value_of(receiver.id)
        if isinstance(bound, ast.Call):
            return (ctx.qualified_name(bound.func) or "").startswith("flask.")
    return any(q.startswith("flask") for q in ctx.module_scope.imports.values())


class DebugEnabledInProduction(Rule):
    code = "PRD405"
    name = "DebugEnabledInProduction"
    summary = "Debug mode, any host or any origin enabled in application settings"
    message = "{what}: {why}"
    what_it_does = """
Flags `app.run(debug=True)`, `app.config["DEBUG"] = True`,
`app.config.update(DEBUG=True)` / `from_mapping(DEBUG=True)` and `app.debug = True` on a
Flask application; and, at the top level of a settings module (a file named
`*settings*.py` or under `settings/`, except ones named for development, local, test or
CI use), `DEBUG = True`, `ALLOWED_HOSTS` containing `"*"`, CORS origin lists containing
`"*"` (`CORS_ALLOWED_ORIGINS`, `CORS_ORIGIN_WHITELIST`, `CORS_ORIGINS`,
`BACKEND_CORS_ORIGINS`) and `CORS_ALLOW_ALL_ORIGINS = True` /
`CORS_ORIGIN_ALLOW_ALL = True`; and Starlette/FastAPI `CORSMiddleware` with
`allow_origins=["*"]` and `allow_credentials=True`.

Not flagged: `debug=False`, a value read from the environment, settings files for
development or tests, modules of documented defaults that deployments override (Django's
`conf/global_settings.py`, `default_settings.py`), Flask debug switched on in a branch or
function about debugging, development or tests (`if args.debug:`, `def create_dev_app()`),
test files and examples.
"""
    why_bad = """
Debug mode serves stack traces with source, settings and local variables to anyone who
triggers an error; Werkzeug's debugger even runs code typed into the browser.
`ALLOWED_HOSTS = ["*"]` accepts forged `Host` headers (password-reset links pointing at an
attacker's site), and a CORS policy that allows every origin with credentials lets any
web page act as the logged-in user.
"""
    example = """
from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=True)
"""
    use_instead = """
import os

from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: `debug=True` becomes `debug=os.environ.get("FLASK_DEBUG") == "1"` and
`DEBUG = True` becomes `DEBUG = os.environ.get("DJANGO_DEBUG") == "1"` (`APP_DEBUG` outside
Django; a Flask `config["DEBUG"]`/`debug` assignment reads `FLASK_DEBUG`), so debug mode
is off until a developer sets the variable: local runs lose the debugger and auto-reload
until then. `ALLOWED_HOSTS` and CORS settings get no fix: the
right hosts and origins are the deployment's to list.
"""
    severity = Severity.ERROR
    fix_safety = FixSafety.UNSAFE
    fix_node_types = ("Arg", "Name")

    # What each form it flags spells: ``debug=``/``DEBUG=``, ``app.debug``,
    # ``config["DEBUG"]``, ``ALLOWED_HOSTS``, ``CORS_*`` settings, ``allow_credentials=``.
    requires_text = ("debug", "DEBUG", "ALLOWED_HOSTS", "CORS", "allow_credentials")

    # A settings module is read once at the top; calls are found through their keyword, far
    # fewer than calls.
    def check_keyword(self, node: ast.keyword, ctx: Context) -> None:
        if node.arg in ("debug", "allow_credentials", "DEBUG") and isinstance(ctx.parent, ast.Call):
            self._check_call(node, ctx.parent, ctx)

    def check_Assign(self, node: ast.Assign, ctx: Context) -> None:
        if len(node.targets) == 1 and not isinstance(node.targets[0], ast.Name):
            self._check_flask_config(node, ctx)

    def check_Module(self, node: ast.Module, ctx: Context) -> None:
        if (
            _is_production_settings(ctx.project_path)
            and not not_deployed(ctx)
            and not documented_defaults(ctx)
        ):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    self._check_setting(statement, ctx)

    def _check_flask_config(self, node: ast.Assign, ctx: Context) -> None:
        """``app.config["DEBUG"] = True`` and ``app.debug = True`` on a Flask application."""
        app = _flask_config_target(node.targets[0], ctx)
        if (
            app is None
            or constant_value(node.value, ctx) is not True
            or not _is_flask_app(app, ctx)
            or not_deployed(ctx)
            or guarded_by(ctx, *DEVELOPMENT_WORDS)
        ):
            return
        self._report_debug(ctx, node.value, "FLASK_DEBUG", f"`{ctx.source_of(node)}`")

    def _report_debug(
        self,
        ctx: Context,
        node: ast.expr | ast.keyword,
        variable: str,
        what: str,
        why: str = "error pages show source, settings and local variables to anyone",
    ) -> None:
        """A literal ``True`` (the value, or the keyword passing it) becomes an environment
        switch; a ``True`` from a constant is reported without a fix."""
        value = node.value if isinstance(node, ast.keyword) else node
        fixable = isinstance(value, ast.Constant) and os_module_usable(ctx)
        self.report(
            ctx,
            node,
            fix=FixSafety.UNSAFE if fixable else FixSafety.NONE,
            payload=EnvVariablePayload(variable),
            what=what,
            why=why,
        )

    def _check_setting(self, node: ast.Assign, ctx: Context) -> None:
        target = node.targets[0]
        if not isinstance(target, ast.Name):
            return
        if CORS_ORIGIN_LIST.match(target.id):
            if _contains_star(node.value, ctx):
                self.report(
                    ctx,
                    node,
                    what=f'`{target.id}` allows "*"',
                    why="every web origin may call the API",
                )
            return
        if target.id not in OPEN_SETTINGS:
            return
        name = target.id
        value = constant_value(node.value, ctx)
        if name == "DEBUG" and value is True:
            imports = ctx.module_scope.imports.values()
            django = (
                any(q.startswith("django") for q in imports)
                or "INSTALLED_APPS" in ctx.module_scope.bindings
            )
            variable = "DJANGO_DEBUG" if django else "APP_DEBUG"
            self._report_debug(ctx, node.value, variable, "`DEBUG = True` in a settings module")
        elif name == "ALLOWED_HOSTS" and _contains_star(node.value, ctx):
            self.report(
                ctx,
                node,
                what='`ALLOWED_HOSTS` allows "*"',
                why="any Host header is accepted, so links the site builds can point anywhere",
            )
        elif name.startswith("CORS_") and value is True:
            self.report(ctx, node, what=f"`{name} = True`", why="every web origin may call the API")

    def _check_call(self, keyword: ast.keyword, call: ast.Call, ctx: Context) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute) or constant_value(keyword.value, ctx) is not True:
            return
        if keyword.arg == "DEBUG":
            # ``app.config.update(DEBUG=True)`` / ``app.config.from_mapping(DEBUG=True)``
            if (
                func.attr in ("update", "from_mapping")
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "config"
                and _is_flask_app(func.value.value, ctx)
                and not not_deployed(ctx)
                and not guarded_by(ctx, *DEVELOPMENT_WORDS)
            ):
                self._report_debug(
                    ctx, keyword, "FLASK_DEBUG", f"`{func.value.attr}.{func.attr}(DEBUG=True)`"
                )
        elif keyword.arg == "debug" and func.attr == "run":
            if not _is_flask_app(func.value, ctx) or not_deployed(ctx):
                return
            self._report_debug(
                ctx,
                keyword,
                "FLASK_DEBUG",
                "`debug=True`",
                "the Werkzeug debugger lets anyone who sees an error page run code",
            )
        elif keyword.arg == "allow_credentials" and func.attr == "add_middleware" and call.args:
            middleware = ctx.qualified_name(call.args[0]) or ""
            origins = argument(call, None, "allow_origins")
            if (
                middleware.endswith("CORSMiddleware")
                and isinstance(origins, ast.expr)
                and _contains_star(origins, ctx)
            ):
                self.report(
                    ctx,
                    call,
                    what='CORS allows every origin ("*") with credentials',
                    why="any web page can make requests as the logged-in user",
                )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.config import env_flag

        flag = env_flag(finding.payload_as(EnvVariablePayload).variable, fixes)
        if isinstance(node, cst.Arg):
            return node.with_changes(value=flag)
        assert isinstance(node, cst.Name)
        return flag
