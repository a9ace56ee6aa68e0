"""The shared helpers the configuration rules added to analysis/: one argument lookup that
knows ``*args``/``**kwargs``, one constant evaluator through bindings, and where a
literal goes."""

from __future__ import annotations

import ast

from prodlint.analysis.calls import UNKNOWN, argument
from prodlint.analysis.constants import NOT_CONSTANT, constant_value
from prodlint.analysis.context import Context
from prodlint.analysis.destinations import Destination, destination


def context(source: str) -> tuple[ast.Module, Context]:
    tree = ast.parse(source)
    return tree, Context("app.py", source, tree, {})


def call(source: str) -> ast.Call:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    return node.value


def test_argument_by_position_keyword_and_hidden() -> None:
    assert ast.unparse(argument(call("f(a, b, timeout=3)"), 1, "data")) == "b"  # type: ignore[arg-type]
    assert ast.unparse(argument(call("f(a, timeout=3)"), 2, "timeout")) == "3"  # type: ignore[arg-type]
    assert argument(call("f(a)"), 2, "timeout") is None
    assert argument(call("f(*args)"), 2, "timeout") is UNKNOWN
    assert argument(call("f(a, **kwargs)"), 2, "timeout") is UNKNOWN
    assert argument(call("f(a, **kwargs)"), 0, None) is not UNKNOWN  # positional-only, passed
    assert argument(call("f(a, *rest)"), 0, "url") is not UNKNOWN  # before the star


def test_constant_value_through_bindings() -> None:
    tree, ctx = context(
        'A = "x"\nB = A + "y"\nC = not True\nD = -3\nE = f"{B}!"\nF = b"k" + b"v"\nG = None\n'
        'H = 1\nH = 2\nI = f"{D:>4}"\n'
    )
    values = {
        stmt.targets[0].id: constant_value(stmt.value, ctx)  # type: ignore[attr-defined]
        for stmt in tree.body
        if isinstance(stmt, ast.Assign)
    }
    assert values["B"] == "xy" and values["C"] is False and values["D"] == -3
    assert values["E"] == "xy!" and values["F"] == b"kv" and values["G"] is None
    assert constant_value(ast.Name("H"), ctx) is NOT_CONSTANT  # bound twice
    assert values["I"] is NOT_CONSTANT  # a format spec


def destinations_of(source: str) -> list[Destination | None]:
    """The destination of every string literal, as the engine's walk would see it."""
    tree, ctx = context(source)
    found: list[Destination | None] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(destination(node, ctx))
        ctx.ancestors.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)
        ctx.ancestors.pop()

    visit(tree)
    return found


def test_destination_names_what_a_literal_is_bound_or_passed_to() -> None:
    found = destinations_of(
        'API_URL = "u"\n'
        'self.token = "t"\n'
        'DATABASES = {"default": {"HOST": "h"}}\n'
        'requests.get("g", auth=("user", "p"))\n'
        'def f(password="d", *, key="k"): pass\n'
        'URL = "http://" + host\n'
        'if url.startswith("http://"): pass\n'
    )
    kinds = [(d.kind, d.name, d.whole, d.element) if d else None for d in found]
    assert kinds[0] == ("name", "API_URL", True, None)
    assert kinds[1] == ("attribute", "token", True, None)
    assert kinds[2] is None and kinds[3] is None  # dict keys go nowhere
    assert (
        kinds[4] == ("key", "HOST", True, None)
        and found[4] is not None
        and found[4].outer == ("default", "DATABASES")
    )
    assert (
        kinds[5] == ("argument", None, True, None)
        and found[5] is not None
        and found[5].position == 0
    )
    assert kinds[6] == ("keyword", "auth", True, 0) and kinds[7] == ("keyword", "auth", True, 1)
    assert kinds[8] == ("default", "key", True, None) and kinds[9] == (
        "default",
        "password",
        True,
        None,
    )
    assert kinds[10] == ("name", "URL", False, None)
    assert kinds[11] == ("argument", None, True, None)  # a method argument, not a binding


def handlers_of(source: str) -> dict[str, bool]:
    """Function name -> whether analysis/handlers judges it a request handler."""
    from prodlint.analysis.handlers import is_request_handler

    tree, ctx = context(source)
    judged: dict[str, bool] = {}
    for node in ast.walk(tree):
        body = node.body if isinstance(node, (ast.Module, ast.ClassDef)) else []
        for func in body:
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                cls = node if isinstance(node, ast.ClassDef) else None
                judged[func.name] = is_request_handler(func, cls, ctx)
    return judged


def test_request_handlers() -> None:
    assert handlers_of(
        "from flask import Flask\n"
        "from django.views import View\n"
        "app = Flask(__name__)\n"
        "@app.route('/a')\ndef route(): pass\n"
        "@app.get('/b')\ndef verb(): pass\n"
        "@cache.get(key='x')\ndef cached(): pass\n"
        "@login_required\ndef decorated(user): pass\n"
        "def view(request, pk): pass\n"
        "def helper(user, request): pass\n"
        "class Export(View):\n    def get(self, request): pass\n    def setup_rows(self): pass\n"
        "class Client:\n    def send(self, request): pass\n"
    ) == {
        "route": True,
        "verb": True,
        "cached": False,
        "decorated": True,
        "view": True,
        "helper": False,
        "get": True,
        "setup_rows": True,
        "send": True,
    }
    # Outside a web application a ``request`` parameter is an outgoing request.
    assert handlers_of("import urllib3\ndef send(request): pass\n") == {"send": False}


def test_env_read_without_fallback() -> None:
    from prodlint.analysis.environment import EnvRead, env_read

    tree, ctx = context(
        "import os\nos.environ['A']\nos.getenv('B')\nos.environ.get('C')\n"
        "os.getenv('D', 'x')\nos.environ.get('E', default=None)\nd.get('F')\n"
        "os.environ[key]\n"
    )
    reads = [
        env_read(node, ctx)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Subscript, ast.Call))
    ]
    assert [read for read in reads if read is not None] == [
        EnvRead("A", required=True),
        EnvRead("B", required=False),
        EnvRead("C", required=False),
        EnvRead(None, required=True),
    ]
