"""Project facts for the annotations family: which methods of which classes declare ``Any``
in their signature, so an override in another file of the project is left to its base.

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
    """What the project's classes of one name declare: their bases' names and the methods
    whose signature mentions ``Any``."""

    bases: set[str] = field(default_factory=set)
    methods_with_any: set[str] = field(default_factory=set)


ProjectSignatures = dict[str, ClassSignatures]
# Per file: (class name, base names, methods with Any).
FileSignatures = list[tuple[str, list[str], list[str]]]


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


def extract_signatures(tree: ast.Module) -> FileSignatures:
    imports = index_module(tree).imports
    found: FileSignatures = []
    for statement in tree.body:
        if not isinstance(statement, ast.ClassDef):
            continue
        methods = [
            s.name
            for s in statement.body
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
            and signature_mentions_any(s, imports)
        ]
        bases = [name for base in statement.bases if (name := last_name(base)) is not None]
        if methods or bases:
            found.append((statement.name, bases, methods))
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


class AnySignaturesProvider(FactProvider[FileSignatures, ProjectSignatures]):
    """Classes and their methods typed with ``Any``, read from every file of the project."""

    key = ANY_SIGNATURES

    def may_contain(self, data: bytes) -> bool:
        return b"Any" in data and b"class " in data

    def extract(self, tree: ast.Module) -> FileSignatures | None:
        return extract_signatures(tree) or None

    def build(self, facts: Sequence[FileSignatures]) -> ProjectSignatures:
        project: ProjectSignatures = {}
        for declared in facts:
            for name, bases, methods in declared:
                entry = project.setdefault(name, ClassSignatures())
                entry.bases.update(bases)
                entry.methods_with_any.update(methods)
        return project

    def fingerprint(self, built: ProjectSignatures) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(built):
            entry = built[name]
            digest.update(
                f"{name}:{sorted(entry.bases)}:{sorted(entry.methods_with_any)};".encode()
            )
        return digest.hexdigest()
