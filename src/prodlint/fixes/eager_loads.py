"""The libcst side of the eager-loading fix: add ``select_related`` / ``prefetch_related`` /
``.options(selectinload(...))`` to a queryset expression found by position.

Imported only by ``fix`` methods, so detection never loads libcst; libcst is imported inside
each function so that importing this module stays cheap too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

CstLink = tuple[str, "cst.BaseExpression", "cst.Call | None"]
Node = TypeVar("Node", bound="cst.CSTNode")


def cst_chain(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, list[CstLink]]:
    """Mirror of ``orm.chain`` on libcst nodes: base and (name, node, call) links."""
    import libcst as cst

    links: list[CstLink] = []
    while True:
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            links.append((expr.func.attr.value, expr, expr))
            expr = expr.func.value
        elif isinstance(expr, cst.Attribute):
            links.append((expr.attr.value, expr, None))
            expr = expr.value
        elif isinstance(expr, cst.Subscript):
            expr = expr.value
        else:
            break
    links.reverse()
    return expr, links


def _string_arg(text: str) -> cst.Arg:
    import libcst as cst

    return cst.Arg(cst.SimpleString(f'"{text}"'))


def add_eager(
    expr: cst.BaseExpression, method: str, anchor: int, args: Sequence[cst.Arg]
) -> cst.BaseExpression:
    """Make the chain in ``expr`` call ``method(*args)``: extend an existing call of it,
    turn a bare ``.all()`` right after the anchor into it, or insert it right after the
    anchor link (the manager, ``select(...)``, ``session.query(...)``). ``anchor`` is -1
    for the base itself."""
    import libcst as cst

    base, links = cst_chain(expr)
    for name, _node, call in links:
        if name == method and call is not None:
            return expr.deep_replace(call, call.with_changes(args=[*call.args, *args]))
    anchor_node = base if anchor < 0 else links[anchor][1]
    after = links[anchor + 1] if anchor + 1 < len(links) else None
    if (
        after is not None
        and after[0] == "all"
        and after[2] is not None
        and not after[2].args
        and method != "options"
    ):
        call = after[2]
        assert isinstance(call.func, cst.Attribute)
        replaced = call.with_changes(
            func=call.func.with_changes(attr=cst.Name(method)), args=list(args)
        )
        return expr.deep_replace(call, replaced)
    wrapped = cst.Call(
        func=cst.Attribute(value=anchor_node, attr=cst.Name(method)), args=list(args)
    )
    if anchor_node is expr:
        return wrapped
    return expr.deep_replace(anchor_node, wrapped)


def request_eager_load(finding: Finding, fixes: FixContext) -> bool:
    """Queue the edit of the queryset named in the finding's payload; every finding about
    one queryset shares one edit, so ``b.author`` and ``b.publisher`` become one
    ``select_related("author", "publisher")``."""
    from prodlint.rules.nplusone.lazy_relation import EagerLoadPayload

    payload = finding.payload_as(EagerLoadPayload)
    queued = fixes.memo("nplusone-eager", dict)
    assert isinstance(queued, dict)
    query = queued.setdefault(
        payload.query, _Query(payload.query, payload.query_source, payload.anchor, [])
    )
    entry = (payload.method, payload.arg)
    if entry not in query.wanted:
        query.wanted.append(entry)
    if payload.imported:
        module, _, name = payload.imported.rpartition(".")
        fixes.add_import(module, name)

    def edit(module: cst.Module) -> cst.Module:
        return _edit_module(module, list(queued.values()))

    # One edit for every queryset of the file: each is found by the position the check
    # saw, before any of them is rewritten (a wrapped comprehension moves the lines below).
    fixes.add_module_edit("nplusone-eager", edit)
    return True


@dataclass
class _Query:
    where: tuple[int, int, int, int]
    source: str
    anchor: int
    wanted: list[tuple[str, str]]


def _edit_module(module: cst.Module, queries: list[_Query]) -> cst.Module:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    by_text: dict[str, list[cst.CSTNode]] = {}
    at: dict[tuple[tuple[int, int, int, int], str], cst.CSTNode] = {}
    texts = {query.source for query in queries}
    for node, position in positions.items():
        if not isinstance(node, (cst.Call, cst.Attribute, cst.Subscript)):
            continue
        text = wrapper.module.code_for_node(node)
        if text not in texts:
            continue
        key = (position.start.line, position.start.column, position.end.line, position.end.column)
        at.setdefault((key, text), node)
        by_text.setdefault(text, []).append(node)
    replacements: dict[cst.CSTNode, cst.CSTNode] = {}
    for query in queries:
        # Other fixes of this pass may have moved the expression; its text still finds it.
        target = at.get((query.where, query.source))
        if target is None and len(by_text.get(query.source, ())) == 1:
            target = by_text[query.source][0]
        if not isinstance(target, cst.BaseExpression):
            continue
        new = _with_eager(target, query)
        wrapped = _wrapped_comprehension(wrapper.module, target, new, parents)
        old, replacement = wrapped if wrapped is not None else (target, new)
        if any(
            _inside(old, other, parents) or _inside(other, old, parents) for other in replacements
        ):
            continue  # one query inside another's: the next pass edits it
        replacements[old] = replacement
    if not replacements:
        return module
    return _replace_all(wrapper.module, replacements)


def _with_eager(target: cst.BaseExpression, query: _Query) -> cst.BaseExpression:
    import libcst as cst

    new = target
    grouped: dict[str, list[str]] = {}
    for method, arg in query.wanted:
        grouped.setdefault(method, []).append(arg)
    for method, args in grouped.items():
        if method == "options":
            cst_args = [cst.Arg(cst.parse_expression(arg)) for arg in args]
        else:
            cst_args = [_string_arg(arg) for arg in args]
        new = add_eager(new, method, query.anchor, cst_args)
    return new


def _inside(
    node: cst.CSTNode, outer: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]
) -> bool:
    current: cst.CSTNode | None = node
    while current is not None:
        if current is outer:
            return True
        current = parents.get(current)
    return False


def _replace_all(module: cst.Module, replacements: dict[cst.CSTNode, cst.CSTNode]) -> cst.Module:
    """``module`` with each key node (by identity) replaced by its value, in one visit."""
    import libcst as cst

    class Replacer(cst.CSTTransformer):
        def on_leave(self, original_node: Node, updated_node: Node) -> Node:
            return cast(Node, replacements.get(original_node, updated_node))

    return module.visit(Replacer())


def _wrapped_comprehension(
    module: cst.Module,
    target: cst.BaseExpression,
    new: cst.BaseExpression,
    parents: Mapping[cst.CSTNode, cst.CSTNode],
) -> tuple[cst.CSTNode, cst.CSTNode] | None:
    """When the edited queryset is what a one-line comprehension iterates and the edit
    makes the line too long: the node to replace and its replacement, the comprehension
    split the way ruff format splits it (brackets open and close their own lines, the
    element, each ``for`` and each ``if`` on a line of its own). None otherwise, and the
    fixer's general wrapping (fixes/wrap.py, which splits calls) applies."""
    import libcst as cst

    from prodlint.fixes.wrap import line_limit

    # The queryset is the comprehension's iterable, or inside it (``session.scalars(q)``).
    iterable: cst.CSTNode = target
    comp_for = parents.get(target)
    while isinstance(comp_for, (cst.Call, cst.Arg, cst.Attribute, cst.Await)):
        iterable, comp_for = comp_for, parents.get(comp_for)
    if not isinstance(comp_for, cst.CompFor) or comp_for.iter is not iterable:
        return None
    comp = parents.get(comp_for)
    while isinstance(comp, cst.CompFor):  # an inner ``for`` of the comprehension
        comp = parents.get(comp)
    if not isinstance(comp, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
        return None
    # The bracket pair that opens the comprehension's lines: its own, or the call's whose
    # only argument a generator is (``sum(x for x in qs)``).
    holder: cst.CSTNode = comp
    argument = parents.get(comp) if isinstance(comp, cst.GeneratorExp) else None
    call = parents.get(argument) if argument is not None else None
    if isinstance(comp, cst.GeneratorExp) and not comp.lpar:
        if not (isinstance(call, cst.Call) and len(call.args) == 1 and call.args[0].value is comp):
            return None
        holder = call
    line = holder
    while not isinstance(line, cst.SimpleStatementLine):
        parent = parents.get(line)
        if parent is None:
            return None
        line = parent
    statement = module.code_for_node(line.with_changes(leading_lines=()))
    if "\n" in statement.rstrip("\r\n") or "#" in statement:
        return None
    indent = _indent_of(line, parents, module)
    edited = module.code_for_node(line.with_changes(leading_lines=()).deep_replace(target, new))
    limit = line_limit(module.code)
    if len(indent) + len(edited.rstrip("\r\n")) <= limit:
        return None
    step = module.default_indent

    def newline(extra: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(extra))

    replaced = comp.deep_replace(target, new)
    assert isinstance(replaced, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp))
    # ruff first tries the whole comprehension on one line between the brackets; only
    # when that is too long does each clause get a line.
    inner = replaced.with_changes(lpar=[], rpar=[])
    if isinstance(inner, cst.ListComp):
        inner = inner.with_changes(
            lbracket=cst.LeftSquareBracket(), rbracket=cst.RightSquareBracket()
        )
    elif isinstance(inner, (cst.SetComp, cst.DictComp)):
        inner = inner.with_changes(lbrace=cst.LeftCurlyBrace(), rbrace=cst.RightCurlyBrace())
    content = module.code_for_node(inner)
    if not isinstance(inner, cst.GeneratorExp):
        content = content[1:-1]
    if len(indent) + len(step) + len(content) > limit:
        replaced = replaced.with_changes(for_in=_split_clauses(replaced.for_in, newline(step)))
    if isinstance(replaced, cst.ListComp):
        replaced = replaced.with_changes(
            lbracket=cst.LeftSquareBracket(whitespace_after=newline(step)),
            rbracket=cst.RightSquareBracket(whitespace_before=newline("")),
        )
    elif isinstance(replaced, (cst.SetComp, cst.DictComp)):
        replaced = replaced.with_changes(
            lbrace=cst.LeftCurlyBrace(whitespace_after=newline(step)),
            rbrace=cst.RightCurlyBrace(whitespace_before=newline("")),
        )
    elif replaced.lpar:
        replaced = replaced.with_changes(
            lpar=[cst.LeftParen(whitespace_after=newline(step))],
            rpar=[cst.RightParen(whitespace_before=newline(""))],
        )
    else:
        assert isinstance(call, cst.Call)
        return call, call.with_changes(
            whitespace_before_args=newline(step),
            args=[
                call.args[0].with_changes(
                    value=replaced,
                    comma=cst.MaybeSentinel.DEFAULT,
                    whitespace_after_arg=newline(""),
                )
            ],
        )
    return comp, replaced


def _split_clauses(comp_for: cst.CompFor, newline: cst.ParenthesizedWhitespace) -> cst.CompFor:
    """Each ``for`` and ``if`` of a comprehension on its own line."""
    ifs = [clause.with_changes(whitespace_before=newline) for clause in comp_for.ifs]
    inner = comp_for.inner_for_in
    return comp_for.with_changes(
        whitespace_before=newline,
        ifs=ifs,
        inner_for_in=_split_clauses(inner, newline) if inner is not None else None,
    )


def _indent_of(
    line: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode], module: cst.Module
) -> str:
    """The indentation of a statement line: its enclosing blocks' indents."""
    import libcst as cst

    indent = ""
    node = parents.get(line)
    while node is not None:
        if isinstance(node, cst.IndentedBlock):
            indent += node.indent if node.indent is not None else module.default_indent
        node = parents.get(node)
    return indent
