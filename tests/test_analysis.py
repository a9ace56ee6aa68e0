"""The shared semantic layer: names, constants and where a node sits."""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context, is_main_guard, path_matches
from prodlint.analysis.imports import import_bindings


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
        "import os.path\nimport numpy as np\nfrom requests import get as g, post\nfrom . import models\nfrom .x import y"
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
        "from typing import Final\nTABLE: Final = 'users'\nPREFIX = 'SELECT * FROM '\nCHANGED = 'a'\nCHANGED = 'b'\n"
        "def f(user):\n    local = PREFIX + TABLE\n    q = f'{local} WHERE 1'\n    use(q, CHANGED, user)\n"
    )
    ctx, call = context_at(source, is_call_to("use"))
    q, changed, user = call.args  # type: ignore[attr-defined]
    assert ctx.static_string(q) == "SELECT * FROM users WHERE 1"
    assert ctx.static_string(changed) is None  # assigned twice: not a constant
    assert ctx.static_string(user) is None


def test_reassigned_local_is_not_constant() -> None:
    source = "def f(x):\n    q = 'a'\n    q += x\n    use(q)\n"
    ctx, call = context_at(source, is_call_to("use"))
    assert ctx.static_string(call.args[0]) is None  # type: ignore[attr-defined]


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
    source = "import sys\nif __name__ == '__main__':\n    try:\n        run()\n    except Exception as e:\n        report(e)\n"
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
