"""The shared decomposition of built strings (analysis/strings.py): the parts it finds must
render, with Python's own formatting, exactly the text the original expression makes."""

from __future__ import annotations

import ast

import pytest

from prodlint.analysis.context import Context
from prodlint.analysis.strings import (
    Field,
    Literal,
    PercentField,
    concat_operands,
    displayed_elements,
    format_parts,
    formats_plainly,
    formatting,
    fstring_parts,
    joined_items,
    percent_parts,
)

VALUES = {"name": "O'Brien", "n": 7, "x": 2.5, "items": ["a", "b"]}


def expression(text: str) -> ast.expr:
    node = ast.parse(text, mode="eval").body
    return node


def evaluate(node: ast.expr) -> object:
    return eval(compile(ast.Expression(node), "<test>", "eval"), {}, dict(VALUES))  # noqa: S307


def render(parts: list[Literal | Field]) -> str:
    """The text the parts stand for, formatted the way the f-string or .format would."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Literal):
            out.append(part.text)
            continue
        assert part.value is not None and part.spec is not None
        value = evaluate(part.value)
        converted = {"s": str, "r": repr, "a": ascii}.get(part.conversion, lambda v: v)(value)
        out.append(format(converted, part.spec))
    return "".join(out)


@pytest.mark.parametrize(
    "source",
    [
        "f\"SELECT * FROM t WHERE name = '{name}'\"",
        'f"{n:>5} items, {x:.2f} each, {name!r}"',
        'f"{name=} {{literal braces}}"',
        'f"{n:}"',
    ],
)
def test_fstring_parts_render_the_same_text(source: str) -> None:
    node = expression(source)
    assert isinstance(node, ast.JoinedStr)
    assert render(fstring_parts(node)) == evaluate(node)


def test_a_computed_spec_is_resolved_through_constants_only_when_asked() -> None:
    source = "WIDTH = '6'\nmessage = f'{n:>{WIDTH}}'\n"
    tree = ast.parse(source)
    ctx = Context("pkg/mod.py", source, tree, {})
    node = tree.body[1].value  # type: ignore[attr-defined]
    assert isinstance(node, ast.JoinedStr)
    (field,) = fstring_parts(node)
    assert isinstance(field, Field) and field.spec is None and field.format_text is None
    (field,) = fstring_parts(node, ctx)
    assert isinstance(field, Field) and field.spec == ">6" and field.format_text == ":>6"


@pytest.mark.parametrize(
    "source",
    [
        '"SELECT {} FROM t WHERE id = {}".format(name, n)',
        '"{0!r} and {0} then {1:>4}".format(name, n)',
        '"{who} has {count:03d}".format(who=name, count=n)',
    ],
)
def test_format_parts_render_the_same_text(source: str) -> None:
    node = expression(source)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    assert isinstance(node.func.value, ast.Constant) and formats_plainly(node)
    found = format_parts(node.func.value.value, node)
    assert found is not None
    assert render(found[0]) == evaluate(node)


def test_format_fields_no_argument_fills() -> None:
    node = expression('"{} {} {user.name} {missing}".format(a)')
    assert isinstance(node, ast.Call)
    found = format_parts("{} {} {user.name} {missing}", node)
    assert found is not None
    parts, auto = found
    fields = [p for p in parts if isinstance(p, Field)]
    assert [ast.unparse(f.value) if f.value else None for f in fields] == ["a", None, None, None]
    assert auto == 2
    # Implicitly concatenated literals share the automatic numbering.
    second = format_parts("{}", expression('"{}{}".format(a, b)'), auto=1)  # type: ignore[arg-type]
    assert second is not None and second[1] == 2
    assert format_parts("{", node) is None  # not a template
    assert not formats_plainly(expression('"{}".format(*args)'))  # type: ignore[arg-type]
    assert not formats_plainly(expression('"{x}".format(**kw)'))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "source",
    [
        "\"name = '%s' and n = %d\" % (name, n)",
        '"100%% of %s" % name',
        '"%(who)s is %(n)05.1f" % {"who": name, "n": x}',
        '"%-8s|%r" % (name, n)',
    ],
)
def test_percent_parts_render_the_same_text(source: str) -> None:
    node = expression(source)
    assert isinstance(node, ast.BinOp) and isinstance(node.left, ast.Constant)
    parts = percent_parts(node.left.value, node.right)
    out: list[str] = []
    for part in parts:
        if isinstance(part, Literal):
            out.append(part.text)
        else:
            assert isinstance(part, PercentField) and part.value is not None
            precision = "" if part.precision is None else "." + part.precision
            out.append(f"%{part.flags}{precision}{part.kind}" % (evaluate(part.value),))
    assert "".join(out) == evaluate(node)
    assert all(not isinstance(p, Literal) or p.text for p in parts)


def test_percent_operand_that_does_not_say_which_value() -> None:
    node = expression('"%s and %s" % pair')
    assert isinstance(node, ast.BinOp)
    fields = [p for p in percent_parts("%s and %s", node.right) if isinstance(p, PercentField)]
    assert [f.value for f in fields] == [None, None]
    # One conversion takes the operand whole.
    (field,) = [p for p in percent_parts("%s", node.right) if isinstance(p, PercentField)]
    assert field.value is node.right


def test_concatenation_join_and_displays() -> None:
    node = expression('"a" + name + f"{n}" + "b"')
    assert [ast.unparse(o) for o in concat_operands(node)] == ["'a'", "name", "f'{n}'", "'b'"]
    call = expression('", ".join([name, "x"])')
    assert isinstance(call, ast.Call)
    found = joined_items(call)
    assert found is not None
    separator, items = found
    assert ast.unparse(separator) == "', '"
    elements = displayed_elements(items)
    assert elements is not None and [ast.unparse(e) for e in elements] == ["name", "'x'"]
    assert displayed_elements(expression("[*rest, name]")) is None
    assert joined_items(expression("os.path.join(a, b)")) is None  # type: ignore[arg-type]


def test_formatting_with_a_template_known_only_as_an_expression() -> None:
    found = formatting(expression("queries.BY_NAME.format(name, order=n)"))
    assert found is not None
    template, values = found
    assert ast.unparse(template) == "queries.BY_NAME" and [ast.unparse(v) for v in values] == [
        "name",
        "n",
    ]
    found = formatting(expression("TEMPLATE % (name, n)"))
    assert found is not None and [ast.unparse(v) for v in found[1]] == ["name", "n"]
    found = formatting(expression("TEMPLATE % name"))
    assert found is not None and [ast.unparse(v) for v in found[1]] == ["name"]
    assert formatting(expression("TEMPLATE.upper()")) is None
    assert formatting(expression("a + b")) is None
