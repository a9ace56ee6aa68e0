"""libcst helpers for the resource fixes: wrap a run of statements in a ``with`` block."""

from __future__ import annotations

import libcst as cst

from prodlint.fixes.base import FixContext
from prodlint.model import Finding
from prodlint.rules.resources.common import TemporaryPayload, WithPayload

_BLOCK_OWNERS = (cst.FunctionDef, cst.For, cst.While, cst.If, cst.With, cst.Try, cst.ExceptHandler)


def closing_call(
    value: cst.BaseExpression, fixes: FixContext, asynchronous: bool = False
) -> cst.Call:
    """``contextlib.closing(value)`` (``contextlib.aclosing`` for a resource closed by
    ``await x.aclose()``), importing contextlib."""
    fixes.add_import("contextlib")
    closing = "aclosing" if asynchronous else "closing"
    return cst.Call(
        func=cst.Attribute(value=cst.Name("contextlib"), attr=cst.Name(closing)),
        args=[cst.Arg(value=value)],
    )


def without_leading_blanks(statement: cst.BaseStatement) -> cst.BaseStatement:
    """``statement`` opening a new block: the blank lines it had above it go (ruff format
    and black remove blank lines at the start of a block), its comments stay."""
    if not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return statement
    lines = list(statement.leading_lines)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return statement.with_changes(leading_lines=lines)


def block_of(owner: cst.CSTNode, field: str) -> cst.IndentedBlock | None:
    """The statements of ``owner``'s ``field`` (the ast field name: ``body``, ``orelse``
    for an ``else:``, ``finalbody``), when they are an indented block."""
    if not isinstance(owner, _BLOCK_OWNERS):
        return None
    part: cst.CSTNode | None = owner
    if field == "orelse":
        part = getattr(owner, "orelse", None)
        if not isinstance(part, cst.Else):
            return None  # an ``elif`` is a block of its own
    elif field == "finalbody":
        part = getattr(owner, "finalbody", None)
    elif field != "body":
        return None
    block = getattr(part, "body", None)
    return block if isinstance(block, cst.IndentedBlock) else None


def with_block(
    owner: cst.CSTNode, field: str, block: cst.IndentedBlock, statements: list[cst.BaseStatement]
) -> cst.CSTNode:
    """``owner`` with the block ``block_of`` gave replaced by one of ``statements``."""
    new = block.with_changes(body=statements)
    if field == "body":
        return owner.with_changes(body=new)
    part = getattr(owner, field)
    return owner.with_changes(**{field: part.with_changes(body=new)})


def claim(fixes: FixContext, finding: Finding) -> bool:
    """One block rewrite per anchor per pass: a second fix on the same block would use
    statement indexes the first one changed (the fixer runs another pass for it)."""
    anchor = finding.fix_anchor
    key = f"resources:{anchor}"
    return fixes.memo(key, lambda: finding) is finding


def wrap_in_with(
    owner: cst.CSTNode, hint: WithPayload, finding: Finding, fixes: FixContext
) -> cst.CSTNode | None:
    """Turn ``x = R(...)`` plus the statements after it up to ``end`` (the hint's
    indexes into the owner's body) into ``with R(...) as x:`` around them; drop a trailing
    ``x.close()`` the block now does. Comments stay with their statements; the acquiring
    line's own comments go to the ``with`` line."""
    block = block_of(owner, hint.field)
    if block is None:
        return None
    start, end, name = hint.start, hint.end, hint.name
    body = list(block.body)
    if end >= len(body):
        return None
    acquire = body[start]
    if not isinstance(acquire, cst.SimpleStatementLine) or len(acquire.body) != 1:
        return None
    assign = acquire.body[0]
    if (
        not isinstance(assign, cst.Assign)
        or len(assign.targets) != 1
        or not isinstance(assign.targets[0].target, cst.Name)
        or assign.targets[0].target.value != name
    ):
        return None
    if not claim(fixes, finding):
        return None
    value = assign.value
    if hint.mode == "closing":
        # ``aclosing(await connect())``: what is closed is the awaited value.
        value = closing_call(value, fixes, hint.asynchronous)
    elif isinstance(value, cst.Await):
        value = value.expression  # ``async with connect()`` awaits it itself
    inner = body[start + 1 : end + 1]
    footer: list[cst.EmptyLine] = []
    closed: cst.BaseStatement | None = None
    if hint.drop_last:
        closed = inner.pop()
        if not isinstance(closed, cst.SimpleStatementLine):
            return None
        # The close goes, what was said about it stays (as comment lines ending the block).
        if hint.mode != "finally":
            footer = [line for line in closed.leading_lines if line.comment is not None]
            if closed.trailing_whitespace.comment is not None:
                footer.append(cst.EmptyLine(comment=closed.trailing_whitespace.comment))
    if not inner:
        return None
    inner[0] = without_leading_blanks(inner[0])
    if hint.mode == "finally":
        cleanup = _release(hint, closed if hint.drop_last else None)
        guarded = cst.Try(
            body=cst.IndentedBlock(body=inner),
            finalbody=cst.Finally(body=cst.IndentedBlock(body=[cleanup], footer=footer)),
        )
        return with_block(owner, hint.field, block, [*body[: start + 1], guarded, *body[end + 1 :]])
    wrapped = cst.With(
        items=[cst.WithItem(item=value, asname=cst.AsName(name=cst.Name(name)))],
        body=cst.IndentedBlock(body=inner, header=acquire.trailing_whitespace, footer=footer),
        asynchronous=cst.Asynchronous() if hint.asynchronous else None,
        leading_lines=acquire.leading_lines,
    )
    return with_block(owner, hint.field, block, [*body[:start], wrapped, *body[end + 1 :]])


def _release(hint: WithPayload, closed: cst.BaseStatement | None) -> cst.BaseStatement:
    """What the ``finally`` runs: the code's own close, moved there with its comments, or
    ``x.<release>()`` (awaited for an asynchronous resource)."""
    if closed is not None:
        return without_leading_blanks(closed)
    call: cst.BaseExpression = cst.Call(
        func=cst.Attribute(value=cst.Name(hint.name), attr=cst.Name(hint.release))
    )
    if hint.asynchronous:
        call = cst.Await(expression=call)
    return cst.SimpleStatementLine(body=[cst.Expr(value=call)])


class _Calls(cst.CSTVisitor):
    """The calls of a statement in source order, outer before inner (as the detector
    numbered them)."""

    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)


def wrap_temporary(
    owner: cst.CSTNode, plan: TemporaryPayload, finding: Finding, fixes: FixContext
) -> cst.CSTNode | None:
    """``return json.load(open(p))`` -> ``with open(p) as f: return json.load(f)``: the
    statement moves into a ``with`` that acquires the resource it used unnamed."""
    block = block_of(owner, plan.field)
    if block is None:
        return None
    body = list(block.body)
    if plan.index >= len(body):
        return None
    statement = body[plan.index]
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    calls = _Calls()
    statement.visit(calls)
    if plan.call >= len(calls.found):
        return None
    call = calls.found[plan.call]
    spelled = fixes.module.code_for_node(call.func)
    if "".join(spelled.split()) != "".join(plan.callee.split()) or not claim(fixes, finding):
        return None
    value: cst.BaseExpression = call
    if plan.mode == "closing":
        value = closing_call(call, fixes)
    moved = cst.ensure_type(
        statement.deep_replace(call, cst.Name(plan.name)), cst.SimpleStatementLine
    )
    body[plan.index] = cst.With(
        items=[cst.WithItem(item=value, asname=cst.AsName(name=cst.Name(plan.name)))],
        body=cst.IndentedBlock(body=[moved.with_changes(leading_lines=())]),
        leading_lines=statement.leading_lines,
    )
    return with_block(owner, plan.field, block, body)
