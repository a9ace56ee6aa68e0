"""The flow layer: control flow with exception edges, def-use, and the "runs on every
path" query, on small functions whose answer is known."""

from __future__ import annotations

import ast
import textwrap

import pytest

from prodlint.analysis.context import Context
from prodlint.analysis.flow import FunctionFlow, build_flow, flow_at, flow_of, value_role


def function(source: str) -> tuple[ast.FunctionDef, FunctionFlow]:
    tree = ast.parse(textwrap.dedent(source))
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    return func, build_flow(func)


def statement(func: ast.AST, text: str) -> ast.stmt:
    """The statement whose source is ``text`` (first match, in source order)."""
    for node in ast.walk(func):
        if isinstance(node, ast.stmt) and ast.unparse(node).splitlines()[0] == text:
            return node
    raise AssertionError(f"no statement {text!r}")


def exits(
    source: str, start: str = "x = acquire()", closes: tuple[str, ...] = ("x.close()",)
) -> set[str]:
    func, flow = function(source)
    through = [statement(func, text) for text in closes]
    return set(flow.exits_avoiding(statement(func, start), through))


def test_close_in_finally_runs_on_every_path() -> None:
    source = """
    def f():
        x = acquire()
        try:
            if x.ready():
                return x.read()
            x.write()
        finally:
            x.close()
    """
    assert exits(source) == set()
    func, flow = function(source)
    assert flow.runs_on_every_path(statement(func, "x = acquire()"), [statement(func, "x.close()")])


def test_close_after_the_work_is_skipped_by_an_exception_only() -> None:
    assert exits("""
    def f():
        x = acquire()
        data = x.read()
        x.close()
        return data
    """) == {"exception"}


def test_an_early_return_is_a_normal_exit_without_the_close() -> None:
    assert exits("""
    def f(flag):
        x = acquire()
        if flag:
            return None
        x.close()
    """) == {"normal", "exception"}


def test_explicit_raise_is_an_exception_exit() -> None:
    assert exits("""
    def f(flag):
        x = acquire()
        if flag:
            raise ValueError(flag)
        x.close()
    """) == {"exception"}


def test_handler_that_closes_and_reraises_covers_the_error_path() -> None:
    source = """
    def f():
        x = acquire()
        try:
            data = x.read()
        except Exception:
            x.close()
            raise
        x.close()
        return data
    """
    func, flow = function(source)
    closes = [
        s for s in ast.walk(func) if isinstance(s, ast.Expr) and ast.unparse(s) == "x.close()"
    ]
    assert flow.exits_avoiding(statement(func, "x = acquire()"), closes) == set()
    # A narrower handler lets other errors past it.
    narrow = source.replace("except Exception:", "except OSError:")
    func, flow = function(narrow)
    closes = [
        s for s in ast.walk(func) if isinstance(s, ast.Expr) and ast.unparse(s) == "x.close()"
    ]
    assert flow.exits_avoiding(statement(func, "x = acquire()"), closes) == {"exception"}


def test_break_and_continue_go_through_finally() -> None:
    assert (
        exits("""
    def f(items):
        for item in items:
            x = acquire()
            try:
                if item:
                    continue
                if not item:
                    break
                x.use(item)
            finally:
                x.close()
    """)
        == set()
    )


def test_continue_skipping_the_close_leaks() -> None:
    assert exits(
        """
    def f(items):
        for item in items:
            x = acquire()
            if item:
                continue
            x.close()
    """,
        closes=("x.close()",),
    ) == {"normal", "exception"}


def test_infinite_loop_has_no_normal_exit_but_its_break() -> None:
    assert exits("""
    def f():
        x = acquire()
        while True:
            if x.poll():
                break
        x.close()
    """) == {"exception"}
    assert exits("""
    def f():
        x = acquire()
        while True:
            x.serve()
        x.close()
    """) == {"exception"}


def test_with_that_may_suppress_continues_after_its_block() -> None:
    # An exception in a ``with`` body may be swallowed by the manager; the close after
    # the block then still runs. The path where it is not swallowed leaves the function.
    assert exits("""
    def f():
        x = acquire()
        with suppress(OSError):
            x.read()
        x.close()
    """) == {"exception"}


def test_cleanup_that_raises_in_finally_can_be_ignored() -> None:
    source = """
    def f():
        x = acquire()
        try:
            x.read()
        finally:
            unlock()
            x.close()
    """
    func, flow = function(source)
    start, close = statement(func, "x = acquire()"), statement(func, "x.close()")
    assert flow.exits_avoiding(start, [close]) == {"exception"}
    assert flow.exits_avoiding(start, [close], cleanup_raises=False) == set()


def test_raises_filter_follows_only_chosen_exception_edges() -> None:
    source = """
    def f():
        x = acquire()
        name = compute()
        x.close()
    """
    func, flow = function(source)
    start, close = statement(func, "x = acquire()"), statement(func, "x.close()")
    assert flow.exits_avoiding(start, [close]) == {"exception"}
    assert flow.exits_avoiding(start, [close], raises=lambda s: "x" in ast.unparse(s)) == set()


def test_match_cases_are_branches() -> None:
    assert exits("""
    def f(command):
        x = acquire()
        match command:
            case "quit":
                x.close()
            case _:
                pass
    """) == {"normal", "exception"}


def test_reaching_uses_stop_at_a_rebinding() -> None:
    func, flow = function("""
    def f(a, b):
        x = acquire(a)
        first = x.read()
        x = acquire(b)
        x.close()
        return first
    """)
    start = statement(func, "x = acquire(a)")
    reached = flow.uses_reached_from(start, "x")
    assert [(use.kind, use.attr) for use in reached] == [("method", "read")]
    assert flow.rebinding_reached_from(start, "x") == [statement(func, "x = acquire(b)")]


def reaching(source: str, at: str, name: str = "q") -> tuple[list[str], bool]:
    func, flow = function(source)
    found = flow.definitions_reaching(statement(func, at), name)
    return [ast.unparse(s).splitlines()[0] for s in found.definitions], found.from_start


def test_definitions_reaching_a_read() -> None:
    straight = """
    def f(x):
        q = "a"
        q = "b"
        use(q)
    """
    assert reaching(straight, "use(q)") == (["q = 'b'"], False)
    branches = """
    def f(x):
        q = "a"
        if x:
            q = "b"
        else:
            q = "c"
        use(q)
    """
    # Both branches set it: the first value never reaches the read.
    assert reaching(branches, "use(q)") == (["q = 'b'", "q = 'c'"], False)
    one_branch = """
    def f(x):
        if x:
            q = "b"
        use(q)
    """
    # With x false nothing sets it: the read sees what q was on entry (a global here).
    assert reaching(one_branch, "use(q)") == (["q = 'b'"], True)


def test_definitions_reaching_through_loops_and_augmented_assignments() -> None:
    loop = """
    def f(rows):
        q = "SELECT"
        for row in rows:
            q += row
        use(q)
    """
    assert reaching(loop, "use(q)") == (["q = 'SELECT'", "q += row"], False)
    # ``q += row`` reads the q the previous iteration built, or the first one.
    assert reaching(loop, "q += row") == (["q = 'SELECT'", "q += row"], False)
    back_edge = """
    def f(rows):
        for row in rows:
            use(q)
            q = row
    """
    assert reaching(back_edge, "use(q)") == (["q = row"], True)


def test_a_binding_that_raised_did_not_happen() -> None:
    source = """
    def f():
        q = "default"
        try:
            q = compute()
        except ValueError:
            use(q)
    """
    # Only a compute() that raised gets to the handler: q is still the default there.
    assert reaching(source, "use(q)") == (["q = 'default'"], False)
    later = source.replace("q = compute()", "q = compute()\n            check(q)")
    assert reaching(later, "use(q)") == (["q = 'default'", "q = compute()"], False)
    loop_target = """
    def f(rows):
        q = "x"
        for q in rows:
            pass
        use(q)
    """
    # The loop header binds it (or the loop never ran and the first value is left).
    assert reaching(loop_target, "use(q)") == (["q = 'x'", "for q in rows:"], False)


def test_built_from_follows_augmented_assignments_back_to_their_start() -> None:
    func, flow = function("""
    def f(db, names, order):
        q = "SELECT * FROM t WHERE 1"
        for name in names:
            q += " OR name = " + name
        if order:
            q += " ORDER BY id"
        db.execute(q)
    """)
    built = flow.built_from(statement(func, "db.execute(q)"), "q")
    assert [ast.unparse(value) for _, value in built.contributions] == [
        "'SELECT * FROM t WHERE 1'",
        "' OR name = ' + name",
        "' ORDER BY id'",
    ]
    assert built.defined and not built.opaque


def test_built_from_without_a_start_or_through_an_unpacking() -> None:
    func, flow = function("""
    def f(db, q, pair):
        q += " WHERE 1"
        db.execute(q)
    """)
    # The parameter is the start: not an ``=`` this function wrote.
    built = flow.built_from(statement(func, "db.execute(q)"), "q")
    assert [ast.unparse(v) for _, v in built.contributions] == ["' WHERE 1'"]
    assert not built.defined and not built.opaque
    func, flow = function("""
    def f(db, pair):
        q, other = pair
        db.execute(q)
    """)
    built = flow.built_from(statement(func, "db.execute(q)"), "q")
    assert built.contributions == () and built.opaque and not built.defined


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("return x", "returned"),
        ("yield x", "yielded"),
        ("self.conn = x", "stored"),
        ("cache[key] = x", "stored"),
        ("y = x", "aliased"),
        ("pool.append(x)", "argument"),
        ("json.load(fp=x)", "argument"),
        ("items = [x, y]", "contained"),
        ("x.send(data)", "method"),
        ("print(x.closed)", "attribute"),
        ("if x is None: pass", "test"),
        ("for line in x: pass", "iterated"),
        ("with x: pass", "with_item"),
        ("del x", "deleted"),
        ("callback = lambda: x.close()", "captured"),
    ],
)
def test_each_reference_says_where_the_value_goes(line: str, kind: str) -> None:
    func, flow = function(f"def f(x, y, key, data, cache, pool, self, json):\n    {line}\n")
    assert [use.kind for use in flow.uses("x")] == [kind]


def test_nested_function_bodies_are_captures_but_decorators_run_here() -> None:
    func, flow = function("""
    def f(x):
        @register(x)
        def inner():
            return x.read()
        return inner
    """)
    assert sorted(use.kind for use in flow.uses("x")) == ["argument", "captured"]
    # The nested function's statements are not part of this function's graph.
    assert statement(func, "return x.read()") not in [s for s in flow.nodes if s is not None]


def test_value_role_of_a_call_result() -> None:
    tree = ast.parse("data = open(p).read()")
    assign = tree.body[0]
    assert isinstance(assign, ast.Assign) and isinstance(assign.value, ast.Call)
    attribute = assign.value.func
    assert isinstance(attribute, ast.Attribute)
    kind, call, attr = value_role(attribute.value, attribute, assign.value)
    assert (kind, call, attr) == ("method", assign.value, "read")


def test_blocks_locate_statements_for_fixes() -> None:
    func, flow = function("""
    def f(items):
        x = acquire()
        for item in items:
            if item:
                x.write(item)
        done()
    """)
    start = statement(func, "x = acquire()")
    block = flow.block_of(start)
    assert block is not None and block.owner is func and block.field == "body" and block.index == 0
    write = statement(func, "x.write(item)")
    assert flow.index_in(write, block) == 1
    loop = statement(func, "for item in items:")
    assert flow.contains(loop, write) and not flow.contains(start, write)
    assert flow.index_in(statement(func, "done()"), flow.block_of(write)) is None  # type: ignore[arg-type]


def test_flow_is_built_once_per_function_and_only_on_request() -> None:
    source = "def f():\n    x = acquire()\n    x.close()\n"
    tree = ast.parse(source)
    ctx = Context("m.py", source, tree, {})
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    first = flow_of(ctx, func)
    assert flow_of(ctx, func) is first
    module = flow_of(ctx, tree)
    assert module is not first and module.owner is tree


def test_loops_back_tells_once_per_iteration_from_at_most_once() -> None:
    func, flow = function("""
    def f(rows):
        for row in rows:
            a(row)
            if row.x:
                b(row)
                break
            c(row)
            if row.y:
                d(row)
                continue
            e(row)
            return
    """)
    loop = statement(func, "for row in rows:")
    assert isinstance(loop, ast.For)
    again = {text: flow.loops_back(statement(func, text), loop) for text in ROW_CALLS}
    assert again == {
        "a(row)": True,  # on to d(row) and the continue
        "b(row)": False,  # the break follows on every way on
        "c(row)": True,
        "d(row)": True,
        "e(row)": False,  # the return follows
    }


ROW_CALLS = ("a(row)", "b(row)", "c(row)", "d(row)", "e(row)")


def test_loops_back_when_every_branch_leaves_and_through_an_inner_loop() -> None:
    func, flow = function("""
    def f(rows):
        for row in rows:
            q(row)
            if row.x:
                break
            else:
                return
        for group in rows:
            for item in group:
                r(item)
                break
    """)
    first = statement(func, "for row in rows:")
    outer = statement(func, "for group in rows:")
    inner = statement(func, "for item in group:")
    assert isinstance(first, ast.For) and isinstance(outer, ast.For)
    assert isinstance(inner, ast.For)
    assert not flow.loops_back(statement(func, "q(row)"), first)
    # r(item) runs once per group: once per run of the inner loop, each time the outer turns.
    assert not flow.loops_back(statement(func, "r(item)"), inner)
    assert flow.loops_back(statement(func, "r(item)"), outer)


def test_a_for_reads_its_iterable_on_the_way_in() -> None:
    source = """
    def f():
        q = first()
        for row in q:
            q = row.children
        use(q)
    """
    # What the body rebinds is read by the next loop, not by this one's header.
    assert reaching(source, "for row in q:") == (["q = first()"], False)
    assert reaching(source, "use(q)") == (["q = first()", "q = row.children"], False)
    assert reaching(source.replace("for row in q", "while q"), "while q:") == (
        ["q = first()", "q = row.children"],
        False,
    )


def test_an_assignment_expression_binds_in_the_function() -> None:
    source = """
    def f():
        q = "a"
        if (q := compute()):
            pass
        use(q)
    """
    assert reaching(source, "use(q)") == (["if (q := compute()):"], False)


def test_value_reaching_a_reference() -> None:
    func, flow = function("""
    def f(flag, given):
        rows = make()
        if flag:
            seen = rows
        use(rows)
        rows = again(seen)
        use(rows, given)
        if flag:
            rows = third()
        use(rows)
    """)
    reads = [use.name for use in flow.uses("rows") if use.kind == "argument"]
    calls = [s for s in func.body if isinstance(s, ast.Expr)]
    assert [flow.statement_of(name) for name in reads] == calls
    values = [flow.value_reaching(name) for name in reads]
    assert [None if value is None else ast.unparse(value) for value in values] == [
        "make()",
        "again(seen)",
        None,  # again() or third(): two values reach it
    ]
    given = next(use.name for use in flow.uses("given"))
    assert flow.value_reaching(given) is None  # a parameter


def test_flow_at_the_visited_node() -> None:
    source = "def f(rows):\n    for row in rows:\n        use(row.author)\n    g = lambda: rows\n"
    tree = ast.parse(source)
    ctx = Context("m.py", source, tree, {})
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    loop = func.body[0]
    assert isinstance(loop, ast.For)
    call = loop.body[0]
    ctx.ancestors = [tree, func, loop, call]
    found = flow_at(ctx)
    assert found is not None and found[0] is flow_of(ctx, func) and found[1] is call
    assigned = func.body[1]
    assert isinstance(assigned, ast.Assign)
    ctx.ancestors = [tree, func, assigned, assigned.value]
    assert flow_at(ctx) is None  # inside the lambda: no statement of its own
