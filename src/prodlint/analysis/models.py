"""The project's ORM models: which attributes of which model classes are relations.

Facts come from class bodies alone (no imports are followed): Django ``models.Model``
subclasses with ``ForeignKey`` / ``OneToOneField`` / ``ManyToManyField`` /
``GenericForeignKey`` / ``GenericRelation`` fields, and SQLAlchemy classes with
``relationship()`` attributes (plain, ``Mapped[...]``-annotated or Flask-SQLAlchemy's
``db.relationship``). Reverse accessors are derived: ``related_name`` when given, else
Django's defaults (``<model>_set``, or ``<model>`` for a one-to-one); SQLAlchemy ``backref``.

Two levels: ``extract_models`` reads one parsed file (used for the checked file itself, so
models and views in one file need no pre-pass), and ``ModelFactsProvider`` is the project
fact built from the files of a project that can contain models, skipping the rest with a
byte-level pre-filter.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from prodlint.analysis.imports import last_name
from prodlint.facts import FactProvider

# The settings key under which the engine hands the project-wide index to the rules.
PROJECT_MODELS = "project-models"
# A file without one of these cannot declare a relation (the pre-filter of the index).
MODEL_MARKERS = (
    b"ForeignKey",
    b"OneToOneField",
    b"ManyToManyField",
    b"relationship(",
    b"GenericRelation",
    b"GenericForeignKey",
    b"models.Model",
)

DJANGO_FORWARD = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "ParentalKey": "fk",  # wagtail / modelcluster
    "ParentalManyToManyField": "m2m",
    "TreeForeignKey": "fk",  # django-mptt
    "GenericForeignKey": "generic_fk",
    "GenericRelation": "generic_rel",
}
# Relations whose accessor yields a manager (many rows), not one instance.
MANY_KINDS = frozenset({"m2m", "reverse_fk", "reverse_m2m", "generic_rel", "sa_many"})
# Relations select_related can follow (the rest need prefetch_related).
SELECTABLE_KINDS = frozenset({"fk", "o2o", "reverse_o2o"})
DJANGO_FIELD_SUFFIXES = ("Field", "Key")
# SQLAlchemy loader strategies that load the relation with its parent, so access is free.
EAGER_LAZY = frozenset(
    {"selectin", "joined", "subquery", "immediate", "noload", "raise", "raise_on_sql", "False", "0"}
)
# Loader strategies whose attribute is a query object, not loaded rows: a loader option such
# as selectinload() on them raises InvalidRequestError.
QUERY_LAZY = frozenset({"dynamic", "write_only"})
MAPPED_WRAPPERS = ("Mapped", "WriteOnlyMapped", "DynamicMapped")


@dataclass(frozen=True)
class Relation:
    name: str
    # fk, o2o, m2m, reverse_fk, reverse_o2o, reverse_m2m, generic_fk, generic_rel, sa_one, sa_many
    kind: str
    target: str | None  # the related model's class name, when known
    eager: bool = (
        False  # SQLAlchemy relationship(lazy="selectin"|"joined"|...): loaded with the parent
    )
    # SQLAlchemy relationship(lazy="dynamic"|"write_only"): a query per access that no
    # loader option can replace.
    query_only: bool = False
    # For a reverse relation, the forward field on the other model (``Book.author`` for
    # ``Author.books``): rows read through the reverse manager have it filled in.
    remote: str | None = None

    @property
    def many(self) -> bool:
        return self.kind in MANY_KINDS

    @property
    def selectable(self) -> bool:
        return self.kind in SELECTABLE_KINDS


@dataclass
class ModelInfo:
    name: str
    framework: str  # "django" or "sqlalchemy"
    relations: dict[str, Relation] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)  # attributes known not to be relations
    managers: set[str] = field(default_factory=set)
    bases: tuple[str, ...] = ()
    # False for a model only known as the target of another model's relation (declared in
    # code outside the index): its own fields are unknown.
    declared: bool = True
    # The classes behind each declared manager (``objects = BookQuerySet.as_manager()`` ->
    # ``{"objects": ("BookQuerySet",)}``): where the project's own queryset methods live.
    manager_classes: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class ModelIndex:
    """Models by class name. Two classes with one name (two apps) are merged: a relation
    of either is a relation, which errs towards reporting only where a relation exists."""

    models: dict[str, ModelInfo] = field(default_factory=dict)

    def add(self, info: ModelInfo) -> None:
        known = self.models.get(info.name)
        if known is None:
            self.models[info.name] = ModelInfo(
                info.name,
                info.framework,
                dict(info.relations),
                set(info.fields),
                set(info.managers),
                info.bases,
                info.declared,
                dict(info.manager_classes),
            )
            return
        known.declared = known.declared or info.declared
        for name, relation in info.relations.items():
            known.relations.setdefault(name, relation)
        known.fields |= info.fields
        known.managers |= info.managers
        for attr, classes in info.manager_classes.items():
            merged = (*known.manager_classes.get(attr, ()), *classes)
            known.manager_classes[attr] = tuple(dict.fromkeys(merged))
        known.bases = tuple(dict.fromkeys((*known.bases, *info.bases)))

    def merged(self, other: ModelIndex | None) -> ModelIndex:
        if other is None or not other.models:
            return self
        result = ModelIndex()
        for source in (self, other):
            for info in source.models.values():
                result.add(info)
        return result

    def get(self, name: str) -> ModelInfo | None:
        return self.models.get(name)

    def _lineage(self, name: str) -> Iterable[ModelInfo]:
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            info = self.models.get(current)
            if info is not None:
                yield info
                pending.extend(info.bases)

    def relation(self, model: str, attr: str) -> Relation | None:
        """The relation ``attr`` of ``model`` or of a model it inherits from."""
        for info in self._lineage(model):
            found = info.relations.get(attr)
            if found is not None:
                return found
        return None

    def is_declared(self, model: str) -> bool:
        return any(info.declared for info in self._lineage(model))

    def is_known_field(self, model: str, attr: str) -> bool:
        return any(attr in info.fields or attr in info.managers for info in self._lineage(model))

    def managers_of(self, model: str) -> set[str]:
        names: set[str] = set()
        for info in self._lineage(model):
            names |= info.managers
        return names

    def manager_classes_of(self, model: str, manager: str | None = None) -> list[str]:
        """The project's classes behind ``model``'s managers (``manager`` alone when given),
        inherited ones included, nearest first."""
        found: list[str] = []
        for info in self._lineage(model):
            for attr, classes in info.manager_classes.items():
                if manager is None or attr == manager:
                    found.extend(name for name in classes if name not in found)
        return found

    def fingerprint(self) -> str:
        """Changes whenever any fact changes: part of a per-file cache key, since one file's
        findings depend on the models other files declare."""
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(self.models):
            info = self.models[name]
            digest.update(
                repr(
                    (
                        name,
                        info.framework,
                        sorted(info.relations.items()),
                        sorted(info.fields),
                        sorted(info.managers),
                        info.bases,
                        info.declared,
                        sorted(info.manager_classes.items()),
                    )
                ).encode()
            )
        return digest.hexdigest()


def _callee(expr: ast.expr) -> str | None:
    return last_name(expr.func if isinstance(expr, ast.Call) else expr)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _model_name(expr: ast.expr | None, owner: str) -> str | None:
    """``"app.Model"`` / ``Model`` / ``"self"`` / ``app.models.Model`` -> ``Model``."""
    if expr is None:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        text = expr.value.rpartition(".")[2]
        return owner if text == "self" else text or None
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        if expr.attr == "AUTH_USER_MODEL":
            return "User"
        return expr.attr
    if isinstance(expr, ast.Lambda):
        return _model_name(expr.body, owner)
    return None


def _base_name(expr: ast.expr) -> str | None:
    return last_name(expr.value if isinstance(expr, ast.Subscript) else expr)


def _assignments(cls: ast.ClassDef) -> Iterable[tuple[str, ast.expr | None, ast.expr | None]]:
    """(attribute, value, annotation) for each simple assignment in a class body."""
    for statement in cls.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                yield target.id, statement.value, None
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            yield statement.target.id, statement.value, statement.annotation


def _mapped_target(annotation: ast.expr | None) -> tuple[str | None, bool]:
    """``Mapped[list["Post"]]`` -> ("Post", True); ``Mapped["User"]`` -> ("User", False)."""
    if (
        not isinstance(annotation, ast.Subscript)
        or _base_name(annotation.value) not in MAPPED_WRAPPERS
    ):
        return None, False
    inner = annotation.slice
    many = False
    if isinstance(inner, ast.Subscript) and _base_name(inner.value) in (
        "list",
        "List",
        "set",
        "Set",
    ):
        inner = inner.slice
        many = True
    if isinstance(inner, ast.BinOp):  # Optional spelled ``"User" | None``
        inner = inner.left
    if isinstance(inner, ast.Subscript) and _base_name(inner.value) == "Optional":
        inner = inner.slice
    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
        return inner.value.rpartition(".")[2].strip("'\" ") or None, many
    if isinstance(inner, ast.Name):
        return inner.id, many
    return None, many


def _sa_relationship(
    attr: str,
    call: ast.Call,
    annotation: ast.expr | None,
    owner: str,
    reverse: list[tuple[str, Relation]],
) -> Relation:
    target = _model_name(call.args[0], owner) if call.args else None
    annotated, annotated_many = _mapped_target(annotation)
    target = target or annotated
    uselist = _keyword(call, "uselist")
    many = annotated_many or (isinstance(uselist, ast.Constant) and uselist.value is True)
    if annotation is None and uselist is None:
        # Without an annotation, a relationship is a collection unless it is the "many"
        # side of a foreign key; the common tell is a plural attribute name.
        many = attr.endswith("s")
    lazy = _keyword(call, "lazy")
    eager = isinstance(lazy, ast.Constant) and str(lazy.value) in EAGER_LAZY
    query_only = isinstance(lazy, ast.Constant) and str(lazy.value) in QUERY_LAZY
    if (
        isinstance(annotation, ast.Subscript)
        and _base_name(annotation.value) in MAPPED_WRAPPERS[1:]
    ):
        query_only = True
    backref = _keyword(call, "backref")
    if backref is not None and target:
        name = backref.args[0] if isinstance(backref, ast.Call) and backref.args else backref
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            # A backref of a collection is the scalar side and vice versa.
            reverse.append((target, Relation(name.value, "sa_one" if many else "sa_many", owner)))
    return Relation(attr, "sa_many" if many else "sa_one", target, eager, query_only)


def _manager_classes(value: ast.expr | None) -> tuple[str, ...] | None:
    """The classes of a manager assignment: ``BookManager()`` -> ``("BookManager",)``,
    ``BookQuerySet.as_manager()`` -> ``("BookQuerySet",)``,
    ``BookManager.from_queryset(BookQuerySet)()`` -> both; None when it is not a manager."""
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    if isinstance(func, ast.Call):  # Manager.from_queryset(QuerySet)()
        if last_name(func.func) != "from_queryset" or not isinstance(func.func, ast.Attribute):
            return None
        names = [last_name(func.func.value), *(last_name(arg) for arg in func.args)]
        return tuple(name for name in names if name)
    name = last_name(func)
    if name in ("as_manager", "from_queryset") and isinstance(func, ast.Attribute):
        owner = last_name(func.value)
        return (owner,) if owner else ()
    if name is not None and name.endswith("Manager"):
        return () if name in ("Manager", "BaseManager") else (name,)
    return None


def _reverse_name(owner: str, kind: str, related_name: ast.expr | None) -> str | None:
    if isinstance(related_name, ast.Constant) and isinstance(related_name.value, str):
        text = related_name.value
        if text.endswith("+"):
            return None
        return text.replace("%(class)s", owner.lower()).replace("%(app_label)s", "")
    if related_name is not None:
        return None
    return owner.lower() if kind == "o2o" else f"{owner.lower()}_set"


def module_classes(tree: ast.Module) -> Iterator[ast.ClassDef]:
    """The classes a module declares at its top level, also under ``if`` / ``try``
    (``if TYPE_CHECKING:``, a fallback import), in source order."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        statement = pending.pop(0)
        if isinstance(statement, (ast.If, ast.Try)):
            pending[:0] = [*statement.body, *statement.orelse]
        elif isinstance(statement, ast.ClassDef):
            yield statement


def extract_models(tree: ast.Module) -> list[tuple[ModelInfo, list[tuple[str, Relation]]]]:
    """The model classes one file declares, each with the reverse relations it adds to
    other models (``(target model, relation)``)."""
    found: list[tuple[ModelInfo, list[tuple[str, Relation]]]] = []
    for statement in module_classes(tree):
        bases = tuple(name for name in map(_base_name, statement.bases) if name)
        info = ModelInfo(statement.name, "django", bases=bases)
        reverse: list[tuple[str, Relation]] = []
        ormish = any(
            b
            in (
                "Model",
                "Base",
                "DeclarativeBase",
                "AbstractUser",
                "AbstractBaseUser",
                "PermissionsMixin",
            )
            for b in bases
        )
        for attr, value, annotation in _assignments(statement):
            kind_name = _callee(value) if isinstance(value, ast.Call) else None
            if kind_name in DJANGO_FORWARD and isinstance(value, ast.Call):
                kind = DJANGO_FORWARD[kind_name]
                target = _model_name(
                    value.args[0] if value.args else _keyword(value, "to"), statement.name
                )
                if kind == "generic_fk":
                    target = None
                info.relations[attr] = Relation(attr, kind, target)
                if target and kind in ("fk", "o2o", "m2m"):
                    name = _reverse_name(statement.name, kind, _keyword(value, "related_name"))
                    rkind = {"fk": "reverse_fk", "o2o": "reverse_o2o", "m2m": "reverse_m2m"}[kind]
                    if name:
                        reverse.append((target, Relation(name, rkind, statement.name, remote=attr)))
                ormish = True
            elif kind_name == "relationship" and isinstance(value, ast.Call):
                info.framework = "sqlalchemy"
                info.relations[attr] = _sa_relationship(
                    attr, value, annotation, statement.name, reverse
                )
                ormish = True
            elif (classes := _manager_classes(value)) is not None:
                info.managers.add(attr)
                if classes:
                    info.manager_classes[attr] = classes
            elif kind_name and (
                kind_name.endswith(DJANGO_FIELD_SUFFIXES)
                or kind_name in ("Column", "mapped_column", "column_property", "hybrid_property")
            ):
                info.fields.add(attr)
                if kind_name in ("Column", "mapped_column"):
                    info.framework = "sqlalchemy"
            elif annotation is not None and _base_name(annotation) == "Mapped":
                target, _ = _mapped_target(annotation)
                if (
                    value is None
                    and target
                    and target[:1].isupper()
                    and target not in ("Optional", "Any", "Decimal", "UUID")
                ):
                    continue
                info.fields.add(attr)
                info.framework = "sqlalchemy"
        if ormish or info.fields and any(b.endswith("Model") for b in bases):
            found.append((info, reverse))
    return found


def index_tree(tree: ast.Module, into: ModelIndex | None = None) -> ModelIndex:
    index = into if into is not None else ModelIndex()
    pending_reverse: list[tuple[str, Relation]] = []
    for info, reverse in extract_models(tree):
        index.add(info)
        pending_reverse.extend(reverse)
    add_reverse(index, pending_reverse)
    return index


def add_reverse(index: ModelIndex, reverse: Iterable[tuple[str, Relation]]) -> None:
    for target, relation in reverse:
        # A target declared in a file outside the index (a third-party model) still gets
        # its reverse accessors: the index stays a superset of what is reachable.
        info = index.models.get(target)
        if info is None:
            info = index.models[target] = ModelInfo(target, "django", declared=False)
        info.relations.setdefault(relation.name, relation)


def may_declare_models(data: bytes) -> bool:
    return any(marker in data for marker in MODEL_MARKERS)


# What one file declares: each model with the reverse relations it adds to others.
ModelFacts = list[tuple[ModelInfo, list[tuple[str, Relation]]]]


class ModelFactsProvider(FactProvider[ModelFacts, ModelIndex]):
    """The ORM model index as project facts: the N+1 rules read it from
    ``ctx.settings[PROJECT_MODELS]`` and add the checked file's own models."""

    key = PROJECT_MODELS

    def may_contain(self, data: bytes) -> bool:
        return may_declare_models(data)

    def extract(self, tree: ast.Module) -> ModelFacts | None:
        return extract_models(tree) or None

    def build(self, facts: Sequence[ModelFacts]) -> ModelIndex:
        index = ModelIndex()
        reverse: list[tuple[str, Relation]] = []
        for declared in facts:
            for info, added in declared:
                index.add(info)
                reverse.extend(added)
        add_reverse(index, reverse)
        return index

    def fingerprint(self, built: ModelIndex) -> str:
        return built.fingerprint()
