"""Which fields of each ``ast`` node class can hold nodes: the table every walk uses."""

from __future__ import annotations

import ast
import re

# ASDL types of fields that never hold a node (names, strings, constants, line numbers).
_LEAF_TYPES = frozenset({"identifier", "string", "constant", "int"})
_SIGNATURE = re.compile(r"^\w+\((?P<fields>.*)\)$")


def child_fields_table() -> dict[type[ast.AST], tuple[str, ...]]:
    """For each node class, the fields that can hold nodes worth visiting. ``ctx`` (Load /
    Store) and operator fields (``op``, ``Compare.ops``) are left out: no rule looks at
    them on their own, and they are a quarter of all nodes. Fields typed as names or
    constants in the grammar (read from each class's ``Name(identifier id, ...)``
    docstring) are left out too, so the walk does not test every string for being a node."""
    skip = {"ctx", "op", "ops"}
    table: dict[type[ast.AST], tuple[str, ...]] = {}
    for value in vars(ast).values():
        if isinstance(value, type) and issubclass(value, ast.AST):
            fields = [f for f in value._fields if f not in skip]
            match = _SIGNATURE.match((value.__doc__ or "").split("\n", 1)[0].strip())
            if match:
                declared: dict[str, str] = {}
                for part in match["fields"].split(","):
                    kind, _, name = part.strip().partition(" ")
                    if name:
                        declared[name] = kind
                if set(fields) <= set(declared):
                    fields = [f for f in fields if declared[f].rstrip("*?") not in _LEAF_TYPES]
            table[value] = tuple(fields)
    return table


CHILD_FIELDS = child_fields_table()
