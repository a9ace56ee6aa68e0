"""The shared semantic layer: names, constants and where a node sits."""

from __future__ import annotations

import ast
import subprocess
import sys

from prodlint.analysis.calls import UNKNOWN, argument, passed
from prodlint.analysis.constants import str_value
from prodlint.analysis.context import Context, is_main_guard
from prodlint.analysis.imports import import_bindings
from prodlint.paths import path_matches


def context_at(source: str, predicate: object) -> tuple[Context, ast.AST]:
    """A Context positioned at the first node satisfying ``predicate`` (walk order)."""
    tree = ast.parse(source)
    ctx = Context("pkg/mod.py", source, tree, {})
    found: list[tuple[list[ast.AST], ast.AST]] = []

    def walk(node: ast.AST, stack: list[ast.AST]) -> None:
        if not found and predicate(node):  # type: ignore[operator]
            found.append((list(stack), node))
        for child in ast.iter_child_nodes(node):
            walk(child, [*stack, node])

    walk(tree, [])
    assert found, "no node matched"
    ctx.ancestors.extend(found[0][0])
    return ctx, found[0][1]


def is_call_to(name: str) -> object:
    return lambda n: (
        isinstance(n, ast.Call)
        and isinstance(n.func, (ast.Name, ast.Attribute))
        and ast.unparse(n.func) == name
    )


def test_import_bindings() -> None:
    tree = ast.parse(
        "import os.path\nimport numpy as np\nfrom requests import get as g, post\n"
        "from . import models\nfrom .x import y"
    )
    bound = [b for stmt in tree.body for b in import_bindings(stmt)]  # type: ignore[arg-type]
    assert bound == [
        ("os", "os"),
        ("np", "numpy"),
        ("g", "requests.get"),
        ("post", "requests.post"),
        ("models", ".models"),
        ("y", ".x.y"),
    ]


def test_qualified_names_follow_aliases_and_local_imports() -> None:
    source = (
        "from requests import get as g\n\ndef f():\n    import sqlite3 as db\n    g(db.connect())\n"
    )
    ctx, call = context_at(source, is_call_to("g"))
    assert ctx.qualified_name(call.func) == "requests.get"  # type: ignore[attr-defined]
    assert ctx.qualified_name(call.args[0].func) == "sqlite3.connect"  # type: ignore[attr-defined]


def test_parameters_shadow_module_imports() -> None:
    source = "import requests\n\ndef f(requests):\n    requests.get()\n"
    ctx, call = context_at(source, is_call_to("requests.get"))
    assert ctx.qualified_name(call.func) == "requests.get"  # type: ignore[attr-defined]
    source = "import requests as r\n\ndef f(r):\n    r.get()\n"
    ctx, call = context_at(source, is_call_to("r.get"))
    assert ctx.qualified_name(call.func) == "r.get"  # type: ignore[attr-defined]


def test_static_strings_from_constants() -> None:
    source = (
        "from typing import Final\nTABLE: Final = 'users'\nPREFIX = 'SELECT * FROM '\n"
        "CHANGED = 'a'\nCHANGED = 'b'\n"
        "def f(user):\n    local = PREFIX + TABLE\n    q = f'{local} WHERE 1'\n"
        "    use(q, CHANGED, user)\n"
    )
    ctx, call = context_at(source, is_call_to("use"))
    q, changed, user = call.args  # type: ignore[attr-defined]
    assert str_value(q, ctx) == "SELECT * FROM users WHERE 1"
    assert str_value(changed, ctx) is None  # assigned twice: not a constant
    assert str_value(user, ctx) is None


def test_reassigned_local_is_not_constant() -> None:
    source = "def f(x):\n    q = 'a'\n    q += x\n    use(q)\n"
    ctx, call = context_at(source, is_call_to("use"))
    assert str_value(call.args[0], ctx) is None  # type: ignore[attr-defined]


def test_enclosing_loop_tells_body_from_header() -> None:
    source = "def f(rows):\n    for r in query():\n        save(r)\n"
    ctx, call = context_at(source, is_call_to("query"))
    assert ctx.enclosing_loop(call) is None
    ctx, call = context_at(source, is_call_to("save"))
    assert isinstance(ctx.enclosing_loop(call), ast.For)


def test_enclosing_loop_in_comprehensions_and_functions() -> None:
    source = "def f(ids):\n    return [get(i) for i in first()]\n"
    ctx, call = context_at(source, is_call_to("get"))
    assert isinstance(ctx.enclosing_loop(call), ast.ListComp)
    ctx, call = context_at(source, is_call_to("first"))
    assert ctx.enclosing_loop(call) is None
    source = "for x in y:\n    def g():\n        save()\n"
    ctx, call = context_at(source, is_call_to("save"))
    assert ctx.enclosing_loop(call) is None  # defined in the loop, not run by it


def test_main_guard_and_context() -> None:
    source = (
        "import sys\nif __name__ == '__main__':\n    try:\n        run()\n"
        "    except Exception as e:\n        report(e)\n"
    )
    ctx, call = context_at(source, is_call_to("report"))
    assert ctx.in_main_guard()
    assert isinstance(ctx.enclosing(ast.ExceptHandler), ast.ExceptHandler)
    assert is_main_guard(ast.parse("if '__main__' == __name__: pass").body[0])
    assert not is_main_guard(ast.parse("if __name__ == 'x': pass").body[0])


def test_columns_count_characters_and_source_segments() -> None:
    source = "x = 'é'; print('ü', y)\n"
    ctx, call = context_at(source, is_call_to("print"))
    assert ctx.char_col(1, call.col_offset) == source.index("print")  # type: ignore[attr-defined]
    assert ctx.source_of(call) == "print('ü', y)"


def test_form_feed_does_not_shift_lines() -> None:
    source = "a = 1\n\x0c\nprint(a)\n"
    ctx, call = context_at(source, is_call_to("print"))
    assert ctx.lines[call.lineno - 1] == "print(a)"  # type: ignore[attr-defined]


def test_test_paths() -> None:
    assert path_matches("pkg/tests/test_views.py", ("tests/*",))
    assert path_matches("src/pkg/test_views.py", ("test_*.py",))
    assert path_matches("./test_x.py", ("test_*.py",))
    assert not path_matches("pkg/views.py", ("*/tests/*", "test_*.py"))


def test_argument_under_any_of_its_spellings() -> None:
    def call(text: str) -> ast.Call:
        node = ast.parse(text).body[0].value  # type: ignore[attr-defined]
        assert isinstance(node, ast.Call)
        return node

    names = ("sql", "query", "operation")
    found = passed(call("cur.execute(operation=q)"), 0, names)
    assert isinstance(found, ast.Name) and found.id == "q"
    found = passed(call("cur.execute(q, params)"), 1, ("params", "args"))
    assert isinstance(found, ast.Name) and found.id == "params"
    # What ``*args`` / ``**kwargs`` may carry is unknown: not visibly passed.
    assert argument(call("cur.execute(*args)"), 0, names) is UNKNOWN
    assert passed(call("cur.execute(*args)"), 0, names) is None
    assert passed(call("cur.execute(sql, *rest)"), 1, "params") is None
    assert passed(call("cur.execute(**options)"), 0, names) is None
    assert passed(call("cur.execute()"), 0, names) is None


def test_settings_need_no_semantic_layer() -> None:
    # Reading pyproject.toml must not pay for (or cycle through) the analysis package.
    code = (
        "import sys, prodlint.config\n"
        "print(any(m.startswith('prodlint.analysis') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
