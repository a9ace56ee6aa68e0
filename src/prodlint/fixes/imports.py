"""Adding an import, or a module-level definition, where isort (ruff's ``I`` rules) puts it.

A reviewer should be able to merge a fix without reordering its imports: ``import logging``
goes into the standard-library section in sorted order, ``from typing import Any`` joins an
existing ``from typing import ...`` line, nothing lands inside ``try:`` or
``if TYPE_CHECKING:``, and the blank lines around the import block stay as ruff leaves them
(one before code, two before a ``def``/``class``).

Only the top-level statements are looked at (and, for a logger, the few compound statements
that sit among the imports): no matcher walks the whole module, which costs seconds on a
large file for one line.

The order is ruff's default isort profile: sections ``__future__``, standard library,
third-party, first-party, local (relative); in a section ``import x`` lines come before
``from x import y`` lines (force-sort-within-sections off), modules sorted case-insensitively
in natural order; names in a ``from`` import ordered by type (CONSTANTS, Classes, others).
Whether a non-stdlib module is third- or first-party depends on the project layout, which a
fix does not know: a new one joins the section of an import from the same package, else the
first non-stdlib section.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement
FUTURE, STDLIB, OTHER, LOCAL = range(4)
# ruff's defaults: the formatter's line length, and the indent of a wrapped import.
LINE_LENGTH = 88
INDENT = "    "
# Module-level statements after which ruff (E402) still accepts an import: they do not end
# the import block.
_ALLOWED_CALLS = re.compile(
    r"sys\.path\.\w+|os\.environ\.\w+|os\.(putenv|unsetenv)|site\.addsitedir|pytest\.importorskip|matplotlib\.use"
)


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _natural(text: str) -> tuple[str | int, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text.lower()))


def member_key(name: str) -> tuple[int, tuple[str | int, ...], str]:
    """ruff's order-by-type: CONSTANT_CASE, then CamelCase, then everything else."""
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, _natural(name), name


def section_of(module: str, level: int = 0) -> int:
    if level:
        return LOCAL
    top = module.partition(".")[0]
    if top == "__future__":
        return FUTURE
    return STDLIB if top in sys.stdlib_module_names else OTHER


ImportKey = tuple[int, int, tuple[str | int, ...], str, tuple[int, tuple[str | int, ...], str]]


def import_key(module: str, member: str | None, level: int = 0) -> ImportKey:
    """Where a line goes among its section: ``import`` lines first, then by module."""
    first = member_key(member) if member is not None else (0, (), "")
    return (0 if member is None else 1), -level, _natural(module), module, first


@dataclass
class ImportLine:
    index: int  # in module.body
    section: int
    key: ImportKey
    top: str  # the top-level package, to keep one package's imports together


def _module_name(node: cst.ImportFrom) -> str:
    return "" if node.module is None else (_dotted(node.module) or "")


def _describe(statement: cst.BaseStatement, index: int) -> ImportLine | None:
    """The sort facts of a line made only of imports (by its first import)."""
    if not isinstance(statement, cst.SimpleStatementLine) or not statement.body:
        return None
    if not all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body):
        return None
    first = statement.body[0]
    if isinstance(first, cst.Import):
        module = _dotted(first.names[0].name) or ""
        return ImportLine(
            index, section_of(module), import_key(module, None), module.partition(".")[0]
        )
    assert isinstance(first, cst.ImportFrom)
    module = _module_name(first)
    level = len(first.relative)
    names = first.names
    member = "*" if isinstance(names, cst.ImportStar) else (_dotted(names[0].name) or "")
    return ImportLine(
        index,
        section_of(module, level),
        import_key(module, member, level),
        module.partition(".")[0],
    )


def is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_main_guard(statement: cst.If) -> bool:
    test = statement.test
    return (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and test.left.value == "__name__"
    )


def _keeps_import_block(statement: cst.BaseStatement) -> bool:
    """Whether ruff still accepts an import after this statement (E402's exemptions)."""
    if isinstance(statement, cst.If):
        return not _is_main_guard(statement)
    if isinstance(statement, (cst.Try, cst.TryStar, cst.With, cst.Match)):
        return True
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets = (
                [target.target for target in small.targets]
                if isinstance(small, cst.Assign)
                else [small.target]
            )
            for target in targets:
                if (
                    isinstance(target, cst.Name)
                    and target.value.startswith("__")
                    and target.value.endswith("__")
                ):
                    continue
                where = target.value if isinstance(target, cst.Subscript) else target
                if not isinstance(where, cst.BaseExpression) or _dotted(where) not in (
                    "os.environ",
                    "sys.path",
                ):
                    return False
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            name = _dotted(small.value.func)
            if name is None or not _ALLOWED_CALLS.fullmatch(name):
                return False
        else:
            return False
    return True


def _contains_import(statement: cst.BaseStatement) -> bool:
    """A ``try:``/``if`` among the imports that itself imports (``if TYPE_CHECKING:``,
    ``try: import x except ImportError: ...``), looking one block deep."""
    blocks: list[cst.BaseSuite] = []
    if isinstance(statement, (cst.If, cst.Try, cst.TryStar, cst.With)):
        blocks.append(statement.body)
        if isinstance(statement, (cst.Try, cst.TryStar)):
            blocks.extend(handler.body for handler in statement.handlers)
        orelse = getattr(statement, "orelse", None)
        while orelse is not None:
            blocks.append(orelse.body)
            orelse = getattr(orelse, "orelse", None) if isinstance(orelse, cst.If) else None
    for block in blocks:
        if isinstance(block, cst.IndentedBlock):
            if any(_describe(inner, 0) is not None for inner in block.body):
                return True
    return False


@dataclass
class ImportBlock:
    """The statements that open a module: docstring, imports and what ruff lets sit among them."""

    start: int  # where a first import goes in a module without any
    end: int  # one past the last statement of the block
    lines: list[ImportLine]
    groups: list[list[ImportLine]]  # runs of import lines not parted by a blank line or code


def import_block(module: cst.Module) -> ImportBlock:
    body = module.body
    start = 1 if body and is_docstring(body[0]) else 0
    lines: list[ImportLine] = []
    groups: list[list[ImportLine]] = []
    end = start
    previous_was_import = False
    for index in range(start, len(body)):
        statement = body[index]
        line = _describe(statement, index)
        if line is not None:
            blank_before = any(empty.comment is None for empty in statement.leading_lines)
            if previous_was_import and not blank_before and groups:
                groups[-1].append(line)
            else:
                groups.append([line])
            lines.append(line)
            previous_was_import = True
        elif _keeps_import_block(statement):
            previous_was_import = False
        else:
            break
        end = index + 1
    return ImportBlock(start, end, lines, groups)


def _empty_lines(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def _split_blank_prefix(
    leading: Sequence[cst.EmptyLine],
) -> tuple[list[cst.EmptyLine], list[cst.EmptyLine]]:
    """The blank lines before the first comment, and the rest (comments stay with the
    statement they describe)."""
    for position, empty in enumerate(leading):
        if empty.comment is not None:
            return list(leading[:position]), list(leading[position:])
    return list(leading), []


def _blank_lines_after_imports(statement: cst.BaseStatement) -> int:
    """ruff's isort (``lines-after-imports = -1``) and formatter: two blank lines before a
    ``def``/``class``, one before other code."""
    return 2 if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) else 1


def _space_after(statement: Statement, blanks: int) -> Statement:
    _, rest = _split_blank_prefix(statement.leading_lines)
    return statement.with_changes(leading_lines=[*_empty_lines(blanks), *rest])


def has_import(module: cst.Module, name: str, member: str | None = None) -> bool:
    """Whether a top-level statement binds ``name`` (or ``member`` from ``name``) under its
    own name; one inside ``try:`` or ``if TYPE_CHECKING:`` may not run, so it does not count."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if member is None and isinstance(small, cst.Import):
                if any(
                    alias.asname is None and _dotted(alias.name) == name for alias in small.names
                ):
                    return True
            elif member is not None and isinstance(small, cst.ImportFrom) and not small.relative:
                if _module_name(small) != name or isinstance(small.names, cst.ImportStar):
                    continue
                if any(
                    alias.asname is None and _dotted(alias.name) == member for alias in small.names
                ):
                    return True
    return False


def _alias_text(alias: cst.ImportAlias) -> str:
    text = _dotted(alias.name) or ""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        text += f" as {alias.asname.name.value}"
    return text


def _has_comment(node: cst.CSTNode) -> bool:
    return "#" in cst.Module(body=[]).code_for_node(node)


def _merged_from(statement: cst.SimpleStatementLine, member: str) -> cst.SimpleStatementLine | None:
    """``from m import a, c`` with ``b`` in its sorted place, wrapped the way ruff wraps it;
    None where the line has comments inside (rewriting it would lose them)."""
    node = statement.body[0]
    if (
        len(statement.body) != 1
        or not isinstance(node, cst.ImportFrom)
        or isinstance(node.names, cst.ImportStar)
    ):
        return None
    if _has_comment(node):
        return None
    names = [_alias_text(alias) for alias in node.names]
    keys = [member_key(name.split(" as ")[0]) for name in names]
    position = next(
        (index for index, key in enumerate(keys) if key > member_key(member)), len(names)
    )
    names.insert(position, member)
    module = _module_name(node)
    # A trailing comma after the last name keeps the import wrapped (ruff's
    # split-on-trailing-comma).
    magic_comma = isinstance(node.names[-1].comma, cst.Comma)
    single = f"from {module} import {', '.join(names)}"
    trailing = cst.Module(body=[]).code_for_node(statement.trailing_whitespace).rstrip("\r\n")
    if magic_comma or len(single) + len(trailing) > LINE_LENGTH:
        text = f"from {module} import (\n" + "".join(f"{INDENT}{name},\n" for name in names) + ")"
    else:
        text = single
    replacement = cst.parse_statement(text + "\n")
    assert isinstance(replacement, cst.SimpleStatementLine)
    return statement.with_changes(body=replacement.body)


def add_import(module: cst.Module, name: str, member: str | None = None) -> cst.Module:
    """Make sure ``import name`` (or ``from name import member``) is at the top of the module,
    in its isort place; a no-op when the module already has it."""
    if has_import(module, name, member):
        return module
    body = list(module.body)
    block = import_block(module)
    if member is not None:
        for line in block.lines:
            statement = body[line.index]
            assert isinstance(statement, cst.SimpleStatementLine)
            first = statement.body[0]
            if (
                isinstance(first, cst.ImportFrom)
                and not first.relative
                and _module_name(first) == name
            ):
                merged = _merged_from(statement, member)
                if merged is not None:
                    body[line.index] = merged
                    return module.with_changes(body=body)
    text = f"import {name}\n" if member is None else f"from {name} import {member}\n"
    new = cst.parse_statement(text, config=module.config_for_parsing)
    section = section_of(name)
    key = (section, import_key(name, member))
    top = name.partition(".")[0]

    group = _target_group(block, section, top)
    if group is not None:
        # Into an existing section, before the first line that sorts after it.
        later = [line for line in group if (line.section, line.key) > key]
        if later:
            return _insert_before(
                module, body, later[0].index, new, same_group=later[0] is group[0]
            )
        index = group[-1].index + 1
        body.insert(index, new)
        return module.with_changes(body=body)

    # A section of its own, between the sections that sort before and after it.
    following = [found for found in block.groups if found[0].section > section]
    if following:
        opening = following[0][0].index
        blanks, rest = _split_blank_prefix(body[opening].leading_lines)
        body[opening] = body[opening].with_changes(leading_lines=[cst.EmptyLine(), *rest])
        body.insert(opening, new.with_changes(leading_lines=blanks))
        return module.with_changes(body=body)
    if block.groups:
        index = block.groups[-1][-1].index + 1
        body.insert(index, new.with_changes(leading_lines=[cst.EmptyLine()]))
        return module.with_changes(body=body)

    # The module's first import: after the docstring, set apart from the code that follows.
    index = block.start
    if index < len(body):
        blanks, _ = _split_blank_prefix(body[index].leading_lines)
        if index > 0:
            blanks = [cst.EmptyLine()]
        body[index] = _space_after(body[index], _blank_lines_after_imports(body[index]))
        new = new.with_changes(leading_lines=blanks)
    elif index > 0:
        new = new.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(index, new)
    # An empty file has no final newline for the import to end with.
    return module.with_changes(body=body, has_trailing_newline=True)


def _target_group(block: ImportBlock, section: int, top: str) -> list[ImportLine] | None:
    """The run of imports a new line of ``section`` joins: the one importing the same
    package, else the first holding that section."""
    if section == OTHER:
        for group in block.groups:
            if any(line.top == top and line.section == OTHER for line in group):
                return group
    for group in block.groups:
        if any(line.section == section for line in group):
            return group
    return None


def _insert_before(
    module: cst.Module, body: list[Statement], index: int, new: Statement, same_group: bool
) -> cst.Module:
    if same_group:
        # Opening the run: what stands above it (blank lines, a section comment) stays
        # above the run, as ruff keeps it.
        new = new.with_changes(leading_lines=body[index].leading_lines)
        body[index] = body[index].with_changes(leading_lines=[])
    body.insert(index, new)
    return module.with_changes(body=body)


class _NameUse(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Name(self, node: cst.Name) -> bool:
        if node.value == self.name:
            self.found = True
        return False


def _uses(statement: cst.BaseStatement, name: str) -> bool:
    visitor = _NameUse(name)
    statement.visit(visitor)
    return visitor.found


def add_definition(module: cst.Module, source: str, name: str, needs: str) -> cst.Module:
    """Put the module-level statement ``source`` (binding ``name``, using the module
    ``needs``) right after the import block, where ruff accepts it without E402 for the
    imports before it, and before any statement of the block that uses ``name`` (a ``try:``
    whose ``except`` now logs)."""
    body = list(module.body)
    block = import_block(module)
    position = block.start
    needed_from = block.start
    for index in range(block.start, block.end):
        line = _describe(body[index], index)
        if line is not None or _contains_import(body[index]):
            position = index + 1
        if line is not None and has_import(cst.Module(body=[body[index]]), needs):
            needed_from = index + 1
    # Only what runs before the definition can trip over it missing.
    position = next(
        (index for index in range(block.start, position) if _uses(body[index], name)), position
    )
    if position < needed_from:
        raise ValueError(f"{name} is used at the top of the module before {needs} is imported")
    definition = cst.parse_statement(source, config=module.config_for_parsing)
    if position > 0:
        definition = definition.with_changes(leading_lines=[cst.EmptyLine()])
    if position < len(body):
        following = body[position]
        blanks, _ = _split_blank_prefix(following.leading_lines)
        wanted = _blank_lines_after_imports(following)
        if len(blanks) != wanted:
            body[position] = _space_after(following, max(wanted, min(len(blanks), 2)))
    body.insert(position, definition)
    return module.with_changes(body=body)
