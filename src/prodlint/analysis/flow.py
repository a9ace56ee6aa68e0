"""Control flow and def-use inside one function (or a module's top level), built on demand.

``flow_of(ctx, func)`` builds, once per function and only when a rule asks, a statement-level
control-flow graph with exception edges (``try``/``except``/``finally``, ``with``,
``return``, ``raise``, ``break``, ``continue``, loops, ``match``) and an index of every
name reference with the role its value plays there (called on, passed to a call, returned,
stored, captured...). The queries rules ask:

- ``uses_reached_from(stmt, name)``: the references a binding made by ``stmt`` can reach
  (reaching definitions: a rebinding of the name stops the search);
- ``exits_avoiding(stmt, through)``: whether a path from just after ``stmt`` leaves the
  function without running any statement in ``through``, and whether such a path leaves
  normally or by an exception ("is there a ``close()`` on every exit path from here?");
- ``block_of(stmt)``: the statement list holding ``stmt`` and its owner, for fixes that wrap
  a run of statements;
- ``definitions_reaching(stmt, name)``: the other direction, the bindings of ``name`` whose
  value ``stmt`` can read, and whether a path from the function's start reaches it with no
  binding on the way (a parameter, a global, or unbound); ``built_from(stmt, name)``
  follows those back through every ``+=`` to the ``=`` each started from (how a string
  built over several statements was put together);
- ``loops_back(stmt, loop)``: whether, once ``stmt`` has run, the loop around it can start
  another iteration (``q(); break`` runs ``q`` once per run of the loop, not per row);
- ``statement_of(name)``: the statement a reference sits in, and ``flow_at(ctx)`` the flow
  and statement of the node a rule is visiting.

The graph is path-insensitive in one place: a ``finally`` block is shared by every way into
it (normal, exception, return, break), so its end has an edge to each place those continue.
That only adds paths, so "runs on every path" answers can be too cautious, never too bold.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from prodlint.analysis.context import Context
from prodlint.analysis.scopes import SCOPE_NODES, TRY_NODES
from prodlint.analysis.walk import CHILD_FIELDS

FlowOwner = ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
ExitKind = Literal["normal", "exception"]

# How a reference's value is used, from the parent node around the ``Name``:
#   method      ``x.m(...)``: ``attr`` is ``m``, ``call`` the call
#   attribute   ``x.a`` read or written, not called
#   argument    passed to a call (``call``), positionally, by keyword or unpacked
#   returned / yielded / awaited
#   stored      the value of an assignment to an attribute or subscript (``self.x = x``)
#   aliased     the value of an assignment to a name (``y = x``), or a walrus
#   contained   an element of a tuple/list/set/dict display or a starred value
#   with_item   the context manager of a ``with`` / ``async with``
#   iterated    the iterable of a ``for`` or a comprehension
#   captured    read inside a nested function, lambda or class
#   bound / deleted  an assignment target, loop target, ``del``
#   test        an operand of a comparison, boolean operator, ``not`` or an ``if`` test
#   other       anything else (subscripted, formatted, an operand of arithmetic...)
UseKind = Literal[
    "method",
    "attribute",
    "argument",
    "returned",
    "yielded",
    "awaited",
    "stored",
    "aliased",
    "contained",
    "with_item",
    "iterated",
    "captured",
    "bound",
    "deleted",
    "test",
    "other",
]

# Statements that cannot raise whatever their operands (their exception edge would only add
# paths that do not exist).
_NEVER_RAISE = (ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)
_SIMPLE_VALUES = (ast.Name, ast.Constant)


@dataclass(frozen=True)
class Use:
    """One reference to a name inside the analysed function."""

    name: ast.Name
    kind: UseKind
    statement: ast.stmt  # the innermost statement of this function holding the reference
    call: ast.Call | None = None
    attr: str | None = None
    parent: ast.AST | None = None  # the node around the reference


@dataclass(frozen=True)
class Reaching:
    """The bindings of a name a statement can read, and whether it can also read the value
    the name had when the function started (no binding on some path)."""

    definitions: tuple[ast.stmt, ...]
    from_start: bool


class Built(NamedTuple):
    """The ``=`` and ``+=`` statements a name's value at one statement was built by, with
    their values, in source order; ``defined``: an ``=`` sets it on every path (nothing from
    before the function starts it); ``opaque``: another binding (unpacking, a loop or ``with``
    target, an import, ``*=``) may set it instead."""

    contributions: tuple[tuple[ast.stmt, ast.expr], ...]
    defined: bool
    opaque: bool


@dataclass(frozen=True)
class Block:
    """Where a statement sits: ``owner.<field>[index]`` (``owner`` is the function, the
    compound statement or the ``except`` handler whose list it is)."""

    owner: ast.AST
    field: str
    statements: list[ast.stmt]
    index: int


_RETURN = 0  # node ids of the two ways out of the function
_RAISE = 1


@dataclass
class _Targets:
    """Where control goes from inside the statement being built."""

    raise_to: tuple[int, ...]
    return_to: int
    break_to: int | None = None
    continue_to: int | None = None


@dataclass
class FunctionFlow:
    owner: FlowOwner
    # CFG: node 0 is "returned", 1 is "raised"; others are statements or join points (None).
    nodes: list[ast.stmt | None] = field(default_factory=lambda: [None, None])
    normal: list[list[int]] = field(default_factory=lambda: [[], []])
    exceptional: list[list[int]] = field(default_factory=lambda: [[], []])
    node_of: dict[int, int] = field(default_factory=dict)  # id(stmt) -> node
    entry: int = _RETURN
    blocks: dict[int, Block] = field(default_factory=dict)  # id(stmt) -> Block
    references: dict[str, list[Use]] = field(default_factory=dict)
    bindings: dict[str, list[ast.stmt]] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)  # global / nonlocal names
    parents: dict[int, ast.stmt | None] = field(default_factory=dict)  # id(stmt) -> enclosing stmt
    in_finally: set[int] = field(default_factory=set)  # nodes of statements in a finally block
    # id(loop statement) -> the nodes of its body: [first, end)
    loop_bodies: dict[int, tuple[int, int]] = field(default_factory=dict)
    # (predecessor, through its exception edge) per node; built by the first backward query
    _predecessors: list[list[tuple[int, bool]]] | None = None
    _statements: dict[int, ast.stmt] | None = None  # id(Name) -> statement, on first ask

    # --- queries ------------------------------------------------------------------------

    def uses(self, name: str) -> list[Use]:
        """Every reference to ``name`` in the function, nested functions included."""
        return self.references.get(name, [])

    def block_of(self, stmt: ast.stmt) -> Block | None:
        return self.blocks.get(id(stmt))

    def statement_of(self, name: ast.Name) -> ast.stmt | None:
        """The innermost statement of the function holding the reference ``name`` (the
        ``def`` or ``class`` statement for one inside a nested body)."""
        if self._statements is None:
            self._statements = {
                id(use.name): use.statement for uses in self.references.values() for use in uses
            }
        return self._statements.get(id(name))

    def loops_back(self, stmt: ast.stmt, loop: ast.For | ast.AsyncFor | ast.While) -> bool:
        """True when, once ``stmt`` (inside ``loop``'s body) has completed, control can
        reach ``loop``'s head again without leaving the loop: ``stmt`` runs on each
        iteration, not at most once per run of the loop (``q(); break``, ``if a: q();
        return``). Normal edges only: a statement that raises ends the iteration it is
        in, whatever a handler does next."""
        head = self.node_of.get(id(loop))
        start = self.node_of.get(id(stmt))
        span = self.loop_bodies.get(id(loop))
        if head is None or start is None or span is None:
            return True
        first, end = span
        seen: set[int] = set()
        stack = list(self.normal[start])
        while stack:
            node = stack.pop()
            if node == head:
                return True
            if node in seen or not first <= node < end:
                continue
            seen.add(node)
            stack.extend(self.normal[node])
        return False

    def contains(self, outer: ast.stmt, stmt: ast.stmt) -> bool:
        """True when ``stmt`` is ``outer`` or runs inside it (its body, handlers...)."""
        current: ast.stmt | None = stmt
        while current is not None:
            if current is outer:
                return True
            current = self.parents.get(id(current))
        return False

    def index_in(self, stmt: ast.stmt, block: Block) -> int | None:
        """The index in ``block`` of the statement that is or contains ``stmt``, or None
        when ``stmt`` lies outside that block."""
        current: ast.stmt | None = stmt
        while current is not None:
            where = self.blocks.get(id(current))
            if where is not None and where.statements is block.statements:
                return where.index
            current = self.parents.get(id(current))
        return None

    def reachable_from(
        self, stmt: ast.stmt, *, stop: Callable[[ast.stmt], bool] | None = None
    ) -> set[int]:
        """Statements (by id) that can run after ``stmt`` completes normally; ``stop``
        statements are included but not passed."""
        seen: set[int] = set()
        start = self.node_of.get(id(stmt))
        if start is None:
            return seen
        visited: set[int] = set()
        stack = list(self.normal[start])
        while stack:
            node = stack.pop()
            if node in visited:
                continue
            visited.add(node)
            statement = self.nodes[node]
            if statement is not None:
                seen.add(id(statement))
                if stop is not None and stop(statement):
                    continue
            stack.extend(self.normal[node])
            stack.extend(self.exceptional[node])
        return seen

    def uses_reached_from(self, stmt: ast.stmt, name: str) -> list[Use]:
        """The references to ``name`` that the value ``stmt`` binds to it can reach: a
        statement rebinding the name ends the search there (its own right-hand side still
        sees the old value)."""
        rebinds = {id(s) for s in self.bindings.get(name, []) if s is not stmt}
        reached = self.reachable_from(stmt, stop=lambda s: id(s) in rebinds)
        return [
            use
            for use in self.uses(name)
            if id(use.statement) in reached
            and not (use.kind == "bound" and id(use.statement) in rebinds)
        ]

    def definitions_reaching(self, stmt: ast.stmt, name: str) -> Reaching:
        """The statements binding ``name`` (in ``bindings``) whose value can reach the start
        of ``stmt``, in source order. A binding left through its exception edge did not
        happen (``q = f()`` raising leaves ``q`` as it was), so the search goes on past it."""
        node = self.node_of.get(id(stmt))
        if node is None:
            return Reaching((), True)
        binders = {id(s) for s in self.bindings.get(name, [])}
        predecessors = self._backward()
        found: dict[int, ast.stmt] = {}
        from_start = node == self.entry
        seen: set[int] = set()
        # A ``for`` reads its iterable once, on the way in: not what its body rebinds.
        first, end = (
            self.loop_bodies.get(id(stmt), (0, 0))
            if isinstance(stmt, (ast.For, ast.AsyncFor))
            else (0, 0)
        )
        stack = [node]
        while stack:
            current = stack.pop()
            for before, raised in predecessors[current]:
                if current == node and first <= before < end:
                    continue
                statement = self.nodes[before]
                if (
                    statement is not None
                    and not raised
                    and id(statement) in binders
                    and self._binds_on_edge(statement, current)
                ):
                    found[id(statement)] = statement
                    continue
                if before in seen:
                    continue
                seen.add(before)
                from_start = from_start or before == self.entry
                stack.append(before)
        ordered = sorted(found.values(), key=lambda s: (s.lineno, s.col_offset))
        return Reaching(tuple(ordered), from_start)

    def value_reaching(self, name: ast.Name) -> ast.expr | None:
        """The value of the one ``name = value`` every path to the reference ``name``
        comes through; None when another binding, or none (a parameter, a global), may
        be what it reads."""
        at = self.statement_of(name)
        if at is None:
            return None
        reaching = self.definitions_reaching(at, name.id)
        if reaching.from_start or len(reaching.definitions) != 1:
            return None
        kind, value = assignment_to(reaching.definitions[0], name.id)
        return value if kind == "assign" else None

    def built_from(self, stmt: ast.stmt, name: str) -> Built:
        """How the value of ``name`` that ``stmt`` reads was built (see ``Built``)."""
        found: dict[int, tuple[ast.stmt, ast.expr]] = {}
        defined, opaque = True, False
        pending, done = [stmt], set()
        while pending:
            statement = pending.pop()
            if id(statement) in done:
                continue
            done.add(id(statement))
            reaching = self.definitions_reaching(statement, name)
            defined = defined and not reaching.from_start
            for binding in reaching.definitions:
                kind, value = assignment_to(binding, name)
                if value is None:
                    opaque = True
                    continue
                found[id(binding)] = (binding, value)
                if kind == "aug":
                    pending.append(binding)
        ordered = sorted(found.values(), key=lambda c: (c[0].lineno, c[0].col_offset))
        return Built(tuple(ordered), defined and not opaque, opaque)

    def _binds_on_edge(self, statement: ast.stmt, after: int) -> bool:
        """A loop header binds its target going into the body, not leaving the loop."""
        if isinstance(statement, (ast.For, ast.AsyncFor)):
            return after == self.node_of.get(id(statement.body[0]))
        return True

    def _backward(self) -> list[list[tuple[int, bool]]]:
        if self._predecessors is None:
            predecessors: list[list[tuple[int, bool]]] = [[] for _ in self.nodes]
            for node in range(len(self.nodes)):
                for after in self.normal[node]:
                    predecessors[after].append((node, False))
                for after in self.exceptional[node]:
                    predecessors[after].append((node, True))
            self._predecessors = predecessors
        return self._predecessors

    def rebinding_reached_from(self, stmt: ast.stmt, name: str) -> list[ast.stmt]:
        rebinds = {id(s): s for s in self.bindings.get(name, []) if s is not stmt}
        reached = self.reachable_from(stmt, stop=lambda s: id(s) in rebinds)
        return [s for key, s in rebinds.items() if key in reached]

    def exits_avoiding(
        self,
        stmt: ast.stmt,
        through: Collection[ast.stmt],
        *,
        ends: Collection[ast.stmt] = (),
        cleanup_raises: bool = True,
        raises: Callable[[ast.stmt], bool] | None = None,
    ) -> set[ExitKind]:
        """How control can leave the function from just after ``stmt`` completes without
        running any statement in ``through``: ``normal`` (a return, falling off the end, or
        reaching one of ``ends``, e.g. a rebinding) along normal edges only, ``exception``
        when the path took an exception edge (including an explicit ``raise``). Empty means
        some ``through`` statement runs on every path. With ``cleanup_raises=False`` the
        statements of a ``finally`` block are taken not to raise (an error while cleaning up
        after an error is not a path worth reporting); ``raises`` picks the statements whose
        exception edges are followed (default: all that can raise)."""
        start = self.node_of.get(id(stmt))
        if start is None:
            return set()
        blocked = {id(s) for s in through}
        finish = {id(s) for s in ends}
        found: set[ExitKind] = set()
        visited: set[tuple[int, bool]] = set()
        stack: list[tuple[int, bool]] = [(succ, False) for succ in self.normal[start]]
        while stack:
            node, raised = stack.pop()
            if (node, raised) in visited:
                continue
            visited.add((node, raised))
            if node == _RETURN:
                found.add("exception" if raised else "normal")
                continue
            if node == _RAISE:
                found.add("exception")
                continue
            statement = self.nodes[node]
            if statement is not None:
                if id(statement) in blocked:
                    continue
                if id(statement) in finish:
                    found.add("exception" if raised else "normal")
                    continue
            stack.extend((succ, raised) for succ in self.normal[node])
            if not cleanup_raises and node in self.in_finally:
                continue
            if statement is not None and raises is not None and not raises(statement):
                continue
            stack.extend((succ, True) for succ in self.exceptional[node])
        return found

    def runs_on_every_path(self, stmt: ast.stmt, through: Collection[ast.stmt]) -> bool:
        """True when every way out of the function from just after ``stmt`` runs one of
        ``through`` first, exception exits included."""
        return not self.exits_avoiding(stmt, through)

    # --- building -----------------------------------------------------------------------

    def _new(self, statement: ast.stmt | None) -> int:
        self.nodes.append(statement)
        self.normal.append([])
        self.exceptional.append([])
        node = len(self.nodes) - 1
        if statement is not None:
            self.node_of[id(statement)] = node
        return node

    def _block(
        self, owner: ast.AST, name: str, statements: list[ast.stmt], after: int, targets: _Targets
    ) -> int:
        entry = after
        for index in range(len(statements) - 1, -1, -1):
            statement = statements[index]
            self.blocks[id(statement)] = Block(owner, name, statements, index)
            entry = self._statement(statement, entry, targets)
        return entry

    def _statement(self, stmt: ast.stmt, after: int, targets: _Targets) -> int:
        node = self._new(stmt)
        normal, exceptional = self.normal[node], self.exceptional[node]
        if _can_raise(stmt):
            exceptional.extend(targets.raise_to)
        if isinstance(stmt, ast.Return):
            normal.append(targets.return_to)
        elif isinstance(stmt, ast.Raise):
            exceptional[:] = list(targets.raise_to)
        elif isinstance(stmt, ast.Break):
            normal.append(after if targets.break_to is None else targets.break_to)
        elif isinstance(stmt, ast.Continue):
            normal.append(after if targets.continue_to is None else targets.continue_to)
        elif isinstance(stmt, ast.If):
            normal.append(self._block(stmt, "body", stmt.body, after, targets))
            normal.append(self._block(stmt, "orelse", stmt.orelse, after, targets))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            loop = _Targets(targets.raise_to, targets.return_to, after, node)
            first = len(self.nodes)
            normal.append(self._block(stmt, "body", stmt.body, node, loop))
            self.loop_bodies[id(stmt)] = (first, len(self.nodes))
            infinite = (
                isinstance(stmt, ast.While)
                and isinstance(stmt.test, ast.Constant)
                and bool(stmt.test.value)
            )
            if not infinite:
                normal.append(self._block(stmt, "orelse", stmt.orelse, after, targets))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            # The manager may swallow what the body raises (``suppress``): a raise inside
            # can also continue after the block.
            inner = _Targets(
                (*targets.raise_to, after), targets.return_to, targets.break_to, targets.continue_to
            )
            normal.append(self._block(stmt, "body", stmt.body, after, inner))
        elif isinstance(stmt, TRY_NODES):
            normal.append(self._try(stmt, after, targets))
        elif isinstance(stmt, ast.Match):
            for case in stmt.cases:
                normal.append(self._block(case, "body", case.body, after, targets))
            normal.append(after)
        else:
            normal.append(after)
        return node

    def _try(self, stmt: ast.Try, after: int, targets: _Targets) -> int:
        if stmt.finalbody:
            # One shared finally: its end continues wherever a way into it would go next.
            leave = self._new(None)
            kinds = _jumps_in(stmt)
            self.normal[leave].append(after)
            self.exceptional[leave].extend(targets.raise_to)
            if ast.Return in kinds:
                self.normal[leave].append(targets.return_to)
            if ast.Break in kinds and targets.break_to is not None:
                self.normal[leave].append(targets.break_to)
            if ast.Continue in kinds and targets.continue_to is not None:
                self.normal[leave].append(targets.continue_to)
            first = len(self.nodes)
            final = self._block(stmt, "finalbody", stmt.finalbody, leave, targets)
            self.in_finally.update(range(first, len(self.nodes)))
            outer = _Targets(
                (final,),
                final,
                final if targets.break_to is not None else None,
                final if targets.continue_to is not None else None,
            )
            done = final
        else:
            outer = targets
            done = after
        handler_entries: list[int] = []
        for handler in stmt.handlers:
            head = self._new(None)
            self.normal[head].append(self._block(handler, "body", handler.body, done, outer))
            handler_entries.append(head)
        catches_all = any(_catches_everything(handler) for handler in stmt.handlers)
        raise_to = tuple(handler_entries) + (() if catches_all else outer.raise_to)
        orelse = self._block(stmt, "orelse", stmt.orelse, done, outer)
        inner = _Targets(raise_to, outer.return_to, outer.break_to, outer.continue_to)
        return self._block(stmt, "body", stmt.body, orelse, inner)


def assignment_to(stmt: ast.stmt, name: str) -> tuple[str, ast.expr | None]:
    """How a statement that binds ``name`` sets it: ``assign`` (``name = value``), ``aug``
    (``name += value``) or ``other`` (unpacking, a loop or ``with`` target, an import...)."""
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and stmt.targets[0].id == name
    ):
        return "assign", stmt.value
    if (
        isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id == name
        and stmt.value is not None
    ):
        return "assign", stmt.value
    if (
        isinstance(stmt, ast.AugAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id == name
        and isinstance(stmt.op, ast.Add)
    ):
        return "aug", stmt.value
    return "other", None


def _can_raise(stmt: ast.stmt) -> bool:
    if isinstance(stmt, _NEVER_RAISE):
        return False
    if isinstance(stmt, ast.Return):
        return stmt.value is not None and not isinstance(stmt.value, _SIMPLE_VALUES)
    if isinstance(stmt, ast.Assign):
        return not (
            isinstance(stmt.value, _SIMPLE_VALUES)
            and all(isinstance(t, ast.Name) for t in stmt.targets)
        )
    return not isinstance(stmt, TRY_NODES)


def _catches_everything(handler: ast.ExceptHandler) -> bool:
    """``except:``, ``except BaseException`` and ``except Exception``: what escapes the
    last (KeyboardInterrupt, SystemExit) ends the program, so no path worth following
    leaves the ``try`` around such a handler."""
    return handler.type is None or (
        isinstance(handler.type, ast.Name) and handler.type.id in ("BaseException", "Exception")
    )


def _jumps_in(stmt: ast.stmt) -> set[type[ast.stmt]]:
    """The kinds of jump statement inside ``stmt`` that leave it (not those of nested
    functions; ``break``/``continue`` of nested loops stay inside)."""
    found: set[type[ast.stmt]] = set()
    stack: list[tuple[ast.AST, bool]] = [(stmt, False)]
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, ast.Return):
            found.add(ast.Return)
        elif isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            found.add(type(node))
        if isinstance(node, SCOPE_NODES):
            continue
        nested = in_loop or isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(
                    (
                        child,
                        nested
                        and not (
                            isinstance(node, (ast.For, ast.AsyncFor, ast.While))
                            and child in node.orelse
                        ),
                    )
                )
    return found


def build_flow(owner: FlowOwner) -> FunctionFlow:
    flow = FunctionFlow(owner)
    flow.entry = flow._block(owner, "body", owner.body, _RETURN, _Targets((_RAISE,), _RETURN))
    _index_references(flow)
    return flow


def flow_of(ctx: Context, owner: FlowOwner) -> FunctionFlow:
    """The flow of one function (or the module's top level), built the first time a rule
    asks for it in this file."""
    return ctx.memo(f"flow:{id(owner)}", lambda: build_flow(owner))


def flow_at(ctx: Context) -> tuple[FunctionFlow, ast.stmt] | None:
    """The flow of the function (or module top level) holding the node being visited, and
    the innermost of its statements around that node; None inside a lambda (its body has
    no statements) or outside any of its statements (the header of the ``def`` itself)."""
    statements: list[ast.stmt] = []
    owner: FlowOwner = ctx.tree
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, ast.Lambda):
            return None
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
            owner = ancestor
            break
        if isinstance(ancestor, ast.stmt):
            statements.append(ancestor)
    flow = flow_of(ctx, owner)
    # A statement of a class body is not one of the function's: the class statement is.
    at = next((s for s in statements if id(s) in flow.node_of), None)
    return None if at is None else (flow, at)


# --- def-use ---------------------------------------------------------------------------


def _index_references(flow: FunctionFlow) -> None:
    owner = flow.owner
    # (node, parent, grandparent, innermost statement, inside a nested scope)
    stack: list[tuple[ast.AST, ast.AST | None, ast.AST | None, ast.stmt | None, bool]] = [
        (statement, owner, None, None, False) for statement in reversed(owner.body)
    ]
    while stack:
        node, parent, grand, statement, nested = stack.pop()
        if isinstance(node, ast.stmt) and not nested:
            flow.parents[id(node)] = statement
            statement = node
            _record_binding(flow, node)
        if isinstance(node, ast.Name):
            assert statement is not None
            flow.references.setdefault(node.id, []).append(
                _classify(node, parent, grand, statement, nested)
            )
            if type(parent) is ast.NamedExpr and parent.target is node and not nested:
                # ``(x := f())`` binds ``x`` in the function, once its statement has run.
                flow.bindings.setdefault(node.id, []).append(statement)
            continue
        scope = isinstance(node, SCOPE_NODES)
        for name in reversed(CHILD_FIELDS[type(node)]):
            value = getattr(node, name, None)
            if value is None:
                continue
            # A nested function's or class's body runs later (a closure); its decorators,
            # defaults and bases run here.
            child_nested = nested or (scope and name == "body")
            children = value if type(value) is list else [value]
            for child in reversed(children):
                if child is None:
                    continue
                stack.append((child, node, parent, statement, child_nested))


def _record_binding(flow: FunctionFlow, stmt: ast.stmt) -> None:
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
        targets = [stmt.target]
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    elif isinstance(stmt, ast.Delete):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.Global, ast.Nonlocal)):
        flow.declared.update(stmt.names)
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        flow.bindings.setdefault(stmt.name, []).append(stmt)
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            local = alias.asname or alias.name.partition(".")[0]
            flow.bindings.setdefault(local, []).append(stmt)
    for target in targets:
        for name in _names_in_target(target):
            flow.bindings.setdefault(name, []).append(stmt)


def _names_in_target(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _names_in_target(element)
    elif isinstance(target, ast.Starred):
        yield from _names_in_target(target.value)


def _classify(
    name: ast.Name, parent: ast.AST | None, grand: ast.AST | None, statement: ast.stmt, nested: bool
) -> Use:
    if nested:
        return Use(name, "captured", statement)
    if isinstance(name.ctx, ast.Store):
        return Use(name, "bound", statement)
    if isinstance(name.ctx, ast.Del):
        return Use(name, "deleted", statement)
    kind, call, attr = value_role(name, parent, grand)
    return Use(name, kind, statement, call, attr, parent)


def value_role(
    expr: ast.expr, parent: ast.AST | None, grand: ast.AST | None
) -> tuple[UseKind, ast.Call | None, str | None]:
    """What happens to the value of ``expr``, read from its parent (and grandparent):
    (kind, the call involved, the attribute named). Shared by references and by rules that
    ask where a call's result goes."""
    if isinstance(parent, ast.Attribute):
        if isinstance(grand, ast.Call) and grand.func is parent:
            return "method", grand, parent.attr
        return "attribute", None, parent.attr
    if isinstance(parent, ast.Call):
        if parent.func is expr:
            return "other", parent, None
        return "argument", parent, None
    if isinstance(parent, ast.keyword):
        return "argument", grand if isinstance(grand, ast.Call) else None, None
    if isinstance(parent, ast.Starred):
        if isinstance(grand, ast.Call):
            return "argument", grand, None
        return "contained", None, None
    if isinstance(parent, ast.Return):
        return "returned", None, None
    if isinstance(parent, (ast.Yield, ast.YieldFrom)):
        return "yielded", None, None
    if isinstance(parent, ast.Await):
        return "awaited", None, None
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and parent.value is expr:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if all(isinstance(t, ast.Name) for t in targets):
            return "aliased", None, None
        return "stored", None, None
    if isinstance(parent, ast.NamedExpr):
        return "aliased", None, None
    if isinstance(parent, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
        return "contained", None, None
    if isinstance(parent, ast.withitem):
        return "with_item", None, None
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is expr:
        return "iterated", None, None
    if isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
        return "test", None, None
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is expr:
        return "test", None, None
    return "other", None, None
