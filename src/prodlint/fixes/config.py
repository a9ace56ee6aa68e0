"""libcst helpers of the configuration fixes: a literal becomes an environment lookup."""

from __future__ import annotations

import libcst as cst

from prodlint.fixes.base import FixContext


def env_lookup(
    literal: cst.BaseExpression, name: str, fixes: FixContext, *, required: bool
) -> cst.BaseExpression:
    """``os.environ.get("NAME", <literal>)``, keeping the literal's text as the fallback,
    or ``os.environ["NAME"]`` when the value must come from the environment."""
    fixes.add_import("os")
    if required:
        replacement = cst.parse_expression(f'os.environ["{name}"]')
    else:
        fallback = fixes.module.code_for_node(literal.with_changes(lpar=[], rpar=[]))
        replacement = cst.parse_expression(f'os.environ.get("{name}", {fallback})')
    # Parentheses around the literal stay around the expression that replaces it.
    return replacement.with_changes(lpar=literal.lpar, rpar=literal.rpar)


def env_flag(name: str, fixes: FixContext) -> cst.BaseExpression:
    """``os.environ.get("NAME") == "1"``: a switch that is off unless the deployment turns it on."""
    fixes.add_import("os")
    return cst.parse_expression(f'os.environ.get("{name}") == "1"')


def set_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``name=value``: the existing keyword's value replaced, or the keyword
    appended after the last argument (a trailing comma stays trailing)."""
    args = list(call.args)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[index] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    no_space = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    new = cst.Arg(value, keyword=cst.Name(name), equal=no_space)
    if args:
        last = args[-1]
        between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if isinstance(last.comma, cst.Comma):
            # A trailing comma stays last; in a call with one argument per line the new one
            # gets the line break and indent the others have.
            new = new.with_changes(comma=last.comma)
            if isinstance(last.comma.whitespace_after, cst.ParenthesizedWhitespace):
                before = args[-2].comma if len(args) > 1 else None
                if isinstance(before, cst.Comma):
                    between = before
                elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
                    between = cst.Comma(whitespace_after=call.whitespace_before_args)
        # What followed the last argument (the line break before ``)``) now follows the new one.
        new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(comma=between, whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*args, new])
