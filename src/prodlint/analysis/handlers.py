"""Which functions serve web requests: route handlers, Django and DRF views, methods of
class-based views.

Code there runs once per request, not once at start-up: a failure in it (a missing
setting, a slow lookup) is paid by every request instead of stopping the deployment
before it takes traffic. Judged per function and memoised, the first time a rule asks.
"""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context
from prodlint.analysis.imports import last_name

# ``@app.route("/x")``, ``@router.api_route(...)``, ``@app.websocket("/ws")``, Pyramid's
# ``@view_config(...)``.
ROUTE_ATTRS = frozenset({"route", "api_route", "websocket", "view_config", "add_route"})
# ``@app.get("/x")``, ``@router.post("/x")``: a verb decorator counts with a path argument,
# so ``@cache.get`` and other ``get`` decorators do not.
VERB_ATTRS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
# Decorators only views wear (Django, DRF).
VIEW_DECORATORS = frozenset(
    {
        "api_view",
        "require_http_methods",
        "require_GET",
        "require_POST",
        "require_safe",
        "login_required",
        "permission_required",
        "staff_member_required",
        "csrf_exempt",
        "action",
    }
)
# Bases of class-based views and handlers: every method runs per request (Django
# instantiates a view class per request).
VIEW_BASE_SUFFIXES = (
    "View",
    "ViewSet",
    "APIView",
    "RequestHandler",
    "MethodView",
    "HTTPEndpoint",
    "WebSocketEndpoint",
    "Resource",
)
# Frameworks whose functions take the incoming ``request`` as a parameter; elsewhere (an
# HTTP client library) a ``request`` parameter is an outgoing one.
WEB_FRAMEWORKS = (
    "django",
    "rest_framework",
    "flask",
    "fastapi",
    "starlette",
    "pyramid",
    "tornado",
    "aiohttp.web",
    "sanic",
    "falcon",
    "quart",
    "bottle",
    "ninja",
    "litestar",
)


def _route_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = last_name(target)
    if name in VIEW_DECORATORS:
        return True
    if not isinstance(decorator, ast.Call) or not isinstance(target, ast.Attribute):
        return False
    if target.attr in ROUTE_ATTRS:
        return True
    if target.attr in VERB_ATTRS:
        path = decorator.args[0] if decorator.args else None
        for keyword in decorator.keywords:
            if keyword.arg == "path":
                path = keyword.value
        return (
            isinstance(path, ast.Constant)
            and isinstance(path.value, str)
            and path.value.startswith("/")
        )
    return False


def _uses_web_framework(ctx: Context) -> bool:
    return ctx.memo(
        "handlers.web_framework",
        lambda: any(
            qualified.startswith(WEB_FRAMEWORKS) for qualified in ctx.module_scope.imports.values()
        ),
    )


def _takes_request(func: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> bool:
    params = [*func.args.posonlyargs, *func.args.args]
    if method:
        params = params[1:]
    return bool(params) and params[0].arg == "request"


def _view_class(cls: ast.ClassDef) -> bool:
    return any((last_name(base) or "").endswith(VIEW_BASE_SUFFIXES) for base in cls.bases)


def is_request_handler(
    func: ast.FunctionDef | ast.AsyncFunctionDef, cls: ast.ClassDef | None, ctx: Context
) -> bool:
    """``func`` serves a request: a route-decorated function, a view decorated as one, a
    function or method of a web application taking ``request`` first, or a method of a
    class-based view (``cls`` is the class ``func`` is defined in, if any)."""
    if any(_route_decorator(decorator) for decorator in func.decorator_list):
        return True
    if cls is not None and _view_class(cls):
        return True
    return _uses_web_framework(ctx) and _takes_request(func, cls is not None)


def _judged(
    func: ast.FunctionDef | ast.AsyncFunctionDef, cls: ast.ClassDef | None, ctx: Context
) -> bool:
    return ctx.memo(
        f"handlers.is_request_handler.{id(func)}", lambda: is_request_handler(func, cls, ctx)
    )


def enclosing_request_handler(ctx: Context) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The request handler the node being visited runs in (directly or in a function nested
    in it), else None."""
    for index in range(len(ctx.ancestors) - 1, -1, -1):
        node = ctx.ancestors[index]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parent = ctx.ancestors[index - 1] if index else None
            if _judged(node, parent if isinstance(parent, ast.ClassDef) else None, ctx):
                return node
    return None
