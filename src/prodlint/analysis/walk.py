"""Which fields of each ``ast`` node class can hold nodes: the table every walk uses."""

from __future__ import annotations

import ast
import re
from typing import Literal

# ASDL types of fields that never hold a node (names, strings, constants, line numbers).
_LEAF_TYPES = frozenset({"identifier", "string", "constant", "int"})
_SIGNATURE = re.compile(r"^\w+\((?P<fields>.*)\)$")
# How many nodes a field holds, by its ASDL type: ``expr`` one, ``expr?`` one or None,
# ``expr*`` a list (whose items may still be None: a ``**`` entry's key, a missing
# keyword-only default); "unknown" for the few classes without a grammar line.
Shape = Literal["one", "optional", "list", "unknown"]


def field_shapes_table() -> dict[type[ast.AST], tuple[tuple[str, Shape], ...]]:
    """For each node class, the fields that can hold nodes worth visiting, with their
    shapes. ``ctx`` (Load / Store) and operator fields (``op``, ``Compare.ops``) are left
    out: no rule looks at them on their own, and they are a quarter of all nodes. Fields
    typed as names or constants in the grammar (read from each class's
    ``Name(identifier id, ...)`` docstring) are left out too, so a walk does not test every
    string for being a node."""
    skip = {"ctx", "op", "ops"}
    table: dict[type[ast.AST], tuple[tuple[str, Shape], ...]] = {}
    for value in vars(ast).values():
        if isinstance(value, type) and issubclass(value, ast.AST):
            fields = [f for f in value._fields if f not in skip]
            match = _SIGNATURE.match((value.__doc__ or "").split("\n", 1)[0].strip())
            declared: dict[str, str] = {}
            if match:
                for part in match["fields"].split(","):
                    kind, _, name = part.strip().partition(" ")
                    if name:
                        declared[name] = kind
            if fields and set(fields) <= set(declared):
                table[value] = tuple(
                    (f, _shape(declared[f]))
                    for f in fields
                    if declared[f].rstrip("*?") not in _LEAF_TYPES
                )
            else:
                table[value] = tuple((f, "unknown") for f in fields)
    return table


def _shape(kind: str) -> Shape:
    if kind.endswith("*"):
        return "list"
    return "optional" if kind.endswith("?") else "one"


FIELD_SHAPES = field_shapes_table()
CHILD_FIELDS = {
    node_class: tuple(name for name, _ in shapes) for node_class, shapes in FIELD_SHAPES.items()
}
# Classes no node is ever found below (Name, Constant, alias, Pass...).
LEAVES = frozenset(node_class for node_class, fields in CHILD_FIELDS.items() if not fields)
