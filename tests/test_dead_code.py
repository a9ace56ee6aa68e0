"""No dead code in prodlint: every function, method and class defined under src/prodlint is
used by the package itself (tests alone do not keep a helper alive).

A small checker of our own, in the manner of vulture: a definition is used when its name
occurs anywhere in the package other than at its own definition (a name read, an attribute,
an import, a string such as an entry point or ``__all__``). Name-based, so it never calls
used code dead; it misses a dead method that shares its name with a live one. Entry points
that nothing in the package names are the protocols listed below.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "prodlint"

# Called by a framework or the language, never by name in our code.
PROTOCOL = re.compile(
    r"^(__\w+__"  # the data model
    r"|check_\w+"  # rule hooks: the engine derives subscriptions from the names
    r"|(visit|leave)_[A-Z]\w*"  # libcst visitors and transformers
    r"|on_(visit|leave)"
    r")$"
)
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Methods a framework calls on our subclasses: the Rule API, flake8's plugin protocol,
# libcst's codemod commands.
OVERRIDES = frozenset(
    {"fix", "run", "add_options", "parse_options", "add_args", "transform_module_impl"}
)
# Classes found by walking the package for subclasses (rules, project-fact providers).
DISCOVERED_BASES = frozenset({"Rule", "FactProvider"})
# Shared-layer API that no rule calls yet, each kept on purpose.
KEPT = {
    # flow's "does this statement run on every exit path from here" query (issue 9);
    # tests/test_flow.py exercises it.
    "runs_on_every_path",
}


@dataclass(frozen=True)
class Definition:
    name: str
    path: str
    line: int
    # At module level: used only from its own module, through an import of it from there,
    # or as an attribute (``module.name``); a method may be called on anything.
    top_level: bool = False


def definitions(tree: ast.Module, path: str) -> Iterator[Definition]:
    top = {id(statement) for statement in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            _base_name(base) in DISCOVERED_BASES for base in node.bases
        ):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield Definition(node.name, path, node.lineno, id(node) in top)
    # Module-level constants (``LOOP_NODES = (...)``) die the same way.
    for statement in tree.body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
            if isinstance(statement, ast.AnnAssign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Name) and CONSTANT.match(target.id):
                yield Definition(target.id, path, statement.lineno, True)


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Subscript):  # FactProvider[PerFile, Built]
        base = base.value
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else ""


def used_names(tree: ast.Module) -> Iterator[str]:
    for _, name in uses(tree):
        yield name


def uses(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(how, name): ``name`` read, ``attr``, ``import`` (an alias) or ``string``."""
    # A docstring that names a helper does not keep it alive.
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Store):  # binding a name is no use of it
                yield "name", node.id
        elif isinstance(node, ast.Attribute):
            yield "attr", node.attr
        elif isinstance(node, ast.alias):
            yield "import", node.name.rpartition(".")[2]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A string that is a dotted name names code (getattr, patch targets, __all__);
            # prose that happens to hold the word does not.
            if re.fullmatch(r"[A-Za-z_][\w.:]*", node.value):
                for name in re.findall(r"[A-Za-z_]\w*", node.value):
                    yield "string", name


def imported_from(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(module, name) of every ``from module import name``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name


def entry_point_names() -> set[str]:
    """Names pyproject.toml points at (scripts, flake8 and other plugin entry points)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data.get("project", {})
    targets = [*project.get("scripts", {}).values()]
    for group in project.get("entry-points", {}).values():
        targets += group.values()
    return {name for target in targets for name in re.findall(r"[A-Za-z_]\w*", str(target))}


def dead_code() -> list[Definition]:
    defined: list[Definition] = []
    used: set[str] = entry_point_names()  # anywhere, any way
    # What reaches a top-level definition from outside its module: an import of it from
    # there, an attribute (``module.name``), a string, an entry point.
    reachable: set[tuple[str, str]] = set()
    anywhere: set[str] = set(used)
    own: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(ROOT).as_posix()
        defined += definitions(tree, relative)
        found = list(uses(tree))
        used.update(name for _, name in found)
        anywhere.update(name for how, name in found if how in ("attr", "string"))
        own[relative] = {name for how, name in found if how != "import"}
        reachable.update(imported_from(tree))
    return [
        d
        for d in defined
        if not PROTOCOL.match(d.name)
        and d.name not in OVERRIDES
        and d.name not in KEPT
        and (
            d.name not in used
            or (
                d.top_level
                and d.name not in own[d.path]
                and d.name not in anywhere
                and (module_of(d.path), d.name) not in reachable
            )
        )
    ]


def module_of(path: str) -> str:
    """``src/prodlint/analysis/flow.py`` -> ``prodlint.analysis.flow``."""
    dotted = path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__")


def test_no_dead_code_in_the_package() -> None:
    dead = dead_code()
    assert not dead, "defined but never used in src/prodlint:\n" + "\n".join(
        f"  {d.path}:{d.line} {d.name}" for d in dead
    )


def test_the_checker_finds_an_unused_helper() -> None:
    source = """
def used():
    pass

def unused():
    'Calls used(), unlike Helper.'
    used()

class Helper:
    pass

class Found(Rule):
    def check_Call(self, node, ctx):
        pass

    def _unused_method(self):
        getattr(self, "named_in_a_string")

    def named_in_a_string(self):
        pass

LIMIT = 3
UNUSED_LIMIT = 4
print(LIMIT)
"""
    tree = ast.parse(source)
    defined = {d.name for d in definitions(tree, "m.py")}
    live = set(used_names(tree))
    assert {name for name in defined if name not in live and not PROTOCOL.match(name)} == {
        "unused",
        "Helper",
        "_unused_method",
        "UNUSED_LIMIT",
    }
