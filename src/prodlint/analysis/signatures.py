"""Project facts for the annotations family: which methods of which classes declare ``Any``
in their signature, so an override in another file of the project is left to its base, and
which of those methods a subclass elsewhere in the project redefines, so the base's
signature is not narrowed under the override (mypy then reports the override as
incompatible, and fixing that one by one is a cascade).

Classes are known by their simple name (a project rarely has two base classes of one name
with the same method; when it does, either one's ``Any`` is reason enough to leave the
override alone).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from prodlint.analysis.imports import dotted_name, last_name
from prodlint.analysis.scopes import index_module
from prodlint.facts import FactProvider

ANY_SIGNATURES = "any-signatures"
_ANY = frozenset({"typing.Any", "typing_extensions.Any"})


@dataclass
class ClassSignatures:
    """What the project's classes of one name declare: their bases' names, the methods
    whose signature mentions ``Any``, and which of those a subclass redefines (method ->
    the subclass)."""

    bases: set[str] = field(default_factory=set)
    methods_with_any: set[str] = field(default_factory=set)
    overridden_by: dict[str, str] = field(default_factory=dict)


ProjectSignatures = dict[str, ClassSignatures]
# Per file: (class name, base names, methods with Any, every method it defines: recorded
# for a class with bases, the possible override).
FileSignatures = list[tuple[str, list[str], list[str], list[str]]]


def _mentions_any(annotation: ast.expr, imports: dict[str, str]) -> bool:
    for node in ast.walk(annotation):
        if isinstance(node, (ast.Name, ast.Attribute)):
            text = dotted_name(node)
            if text is None:
                continue
            head, dot, rest = text.partition(".")
            if imports.get(head, head) + dot + rest in _ANY:
                return True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "Any" in node.value:
            return True  # quoted; counting it only ever leaves an override alone
    return False


def signature_mentions_any(
    func: ast.FunctionDef | ast.AsyncFunctionDef, imports: dict[str, str]
) -> bool:
    args = func.args
    annotations = [
        a.annotation
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        if a is not None and a.annotation is not None
    ]
    if func.returns is not None:
        annotations.append(func.returns)
    return any(_mentions_any(annotation, imports) for annotation in annotations)


def base_name(base: ast.expr) -> str | None:
    """The class a base names, by its last name: ``Base``, ``mod.Base``, ``Base[T]``."""
    return last_name(base.value if isinstance(base, ast.Subscript) else base)


def extract_signatures(tree: ast.Module) -> FileSignatures:
    imports = index_module(tree).imports
    found: FileSignatures = []
    for statement in tree.body:
        if not isinstance(statement, ast.ClassDef):
            continue
        defined = [
            s for s in statement.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        with_any = [s.name for s in defined if signature_mentions_any(s, imports)]
        bases = [name for base in statement.bases if (name := base_name(base)) is not None]
        if with_any or bases:
            found.append(
                (statement.name, bases, with_any, [s.name for s in defined] if bases else [])
            )
    return found


def overridden_with_any(bases: list[str], method: str, project: ProjectSignatures) -> bool:
    """Whether a class of the project named in ``bases`` (or one of their bases) declares
    ``method`` with ``Any`` in its signature."""
    seen: set[str] = set()
    pending = list(bases)
    while pending:
        name = pending.pop()
        if name in seen or name not in project:
            continue
        seen.add(name)
        known = project[name]
        if method in known.methods_with_any:
            return True
        pending.extend(known.bases)
    return False


def overriding_subclass(cls: str, method: str, project: ProjectSignatures) -> str:
    """A subclass in the project that redefines ``method`` of ``cls`` ("" when none does)."""
    known = project.get(cls)
    return known.overridden_by.get(method, "") if known is not None else ""


def build_signatures(facts: Sequence[FileSignatures]) -> ProjectSignatures:
    """The project's classes that declare ``Any`` in a method and their subclasses (the
    only ones either question is about), with the overrides of those methods."""
    declared: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for found in facts:
        for name, bases, with_any, methods in found:
            sets = declared.setdefault(name, (set(), set(), set()))
            sets[0].update(bases)
            sets[1].update(with_any)
            sets[2].update(methods)
    # Kept: classes with an ``Any`` method, then whatever derives from a kept class.
    kept = {name for name, (_, with_any, _) in declared.items() if with_any}
    grown = True
    while grown:
        added = {n for n, (bases, _, _) in declared.items() if n not in kept and bases & kept}
        kept |= added
        grown = bool(added)
    project = {
        name: ClassSignatures(set(declared[name][0]), set(declared[name][1])) for name in kept
    }
    for name in sorted(kept):
        defined = declared[name][2]
        seen = {name}
        pending = sorted(declared[name][0] & kept)
        while pending:
            ancestor = pending.pop()
            if ancestor in seen:
                continue
            seen.add(ancestor)
            entry = project[ancestor]
            for method in sorted(defined & entry.methods_with_any):
                entry.overridden_by.setdefault(method, name)
            pending.extend(sorted(entry.bases & kept))
    return project


class AnySignaturesProvider(FactProvider[FileSignatures, ProjectSignatures]):
    """Classes and their methods typed with ``Any``, and the subclasses that may override
    them (which need not mention ``Any``), read from every file of the project."""

    key = ANY_SIGNATURES

    def may_contain(self, data: bytes) -> bool:
        return b"class " in data

    def extract(self, tree: ast.Module) -> FileSignatures | None:
        return extract_signatures(tree) or None

    def build(self, facts: Sequence[FileSignatures]) -> ProjectSignatures:
        return build_signatures(facts)

    def fingerprint(self, built: ProjectSignatures) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(built):
            entry = built[name]
            overrides = sorted(entry.overridden_by.items())
            digest.update(
                f"{name}:{sorted(entry.bases)}:{sorted(entry.methods_with_any)}:{overrides};".encode()
            )
        return digest.hexdigest()


def overriding_in_module(classes: dict[str, ast.ClassDef], cls: str, method: str) -> str:
    """A class of the module deriving from ``cls`` (through the module's classes) that
    redefines ``method`` ("" when none does)."""
    for name, definition in classes.items():
        seen: set[str] = set()
        pending = [n for b in definition.bases if (n := base_name(b)) is not None]
        while pending:
            base = pending.pop()
            if base in seen or base not in classes:
                continue
            seen.add(base)
            if base == cls:
                if any(
                    isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == method
                    for s in definition.body
                ):
                    return name
                break
            pending.extend(n for b in classes[base].bases if (n := base_name(b)) is not None)
    return ""
