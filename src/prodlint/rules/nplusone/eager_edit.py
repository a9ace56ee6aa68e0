"""The libcst side of the eager-loading fix: add ``select_related`` / ``prefetch_related`` /
``.options(selectinload(...))`` to a queryset expression found by position.

Imported only by ``fix`` methods, so detection never loads libcst (the module itself imports
it lazily because the registry imports every module under ``prodlint.rules``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

CstLink = tuple[str, "cst.BaseExpression", "cst.Call | None"]


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
    """Queue the edit of the queryset named in the finding's hint; every finding about one
    queryset shares one edit, so ``b.author`` and ``b.publisher`` become one
    ``select_related("author", "publisher")``."""
    hint = finding.fix_hint
    where = hint.get("qs")
    source = hint.get("qs_source")
    if not isinstance(where, tuple) or not isinstance(source, str):
        return False
    key = f"nplusone-eager:{where}"
    wanted = fixes.memo(key, list)
    assert isinstance(wanted, list)
    entry = (str(hint["method"]), str(hint["arg"]))
    if entry not in wanted:
        wanted.append(entry)
    if hint.get("import"):
        module, _, name = str(hint["import"]).rpartition(".")
        fixes.add_import(module, name)
    anchor = int(str(hint.get("anchor", 0)))

    def edit(module: cst.Module) -> cst.Module:
        return _edit_module(module, where, source, anchor, wanted)

    fixes.add_module_edit(key, edit)
    return True


def _edit_module(
    module: cst.Module,
    where: tuple[int, int, int, int],
    source: str,
    anchor: int,
    wanted: list[tuple[str, str]],
) -> cst.Module:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    exact: list[cst.CSTNode] = []
    same_text: list[cst.CSTNode] = []
    for node, position in positions.items():
        if not isinstance(node, (cst.Call, cst.Attribute, cst.Subscript)):
            continue
        key = (position.start.line, position.start.column, position.end.line, position.end.column)
        if key == where and wrapper.module.code_for_node(node) == source:
            exact.append(node)
        elif wrapper.module.code_for_node(node) == source:
            same_text.append(node)
    # Other fixes of this pass may have moved the expression; its text still finds it.
    target = exact[0] if exact else (same_text[0] if len(same_text) == 1 else None)
    if target is None:
        return module
    assert isinstance(target, cst.BaseExpression)
    new = target
    grouped: dict[str, list[str]] = {}
    for method, arg in wanted:
        grouped.setdefault(method, []).append(arg)
    for method, args in grouped.items():
        if method == "options":
            cst_args = [cst.Arg(cst.parse_expression(arg)) for arg in args]
        else:
            cst_args = [_string_arg(arg) for arg in args]
        new = add_eager(new, method, anchor, cst_args)
    return wrapper.module.deep_replace(target, new)  # type: ignore[arg-type]
