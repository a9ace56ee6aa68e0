"""Rule declarations and the registry that finds them.

A rule is one class in one module under ``prodlint.rules``: its code, name, message, docs
and examples sit next to the detector and the fix, so adding a rule means adding one module
(and one fixture file). The registry discovers rules by walking that package, so there is no
central table to edit; an index of which module declares which code, generated from them,
lets a run import only the rules it selects.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from prodlint.model import Finding, FixPayload, FixSafety, Severity

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.analysis.context import Context
    from prodlint.fixes.base import FixContext

CODE_PATTERN = re.compile(r"^PRD[0-9]{3}$")

# Codes that were renamed keep working in configs and noqa comments; codes are never reused.
REDIRECTS: Mapping[str, str] = {}


@dataclass(frozen=True)
class Option:
    """A per-rule setting, configured under ``[tool.prodlint.rules.<CODE>]``."""

    name: str
    kind: type
    default: object
    doc: str
    # The only accepted values (exact, case included), when the option is one of a set.
    choices: tuple[str, ...] = ()

    def validate(self, value: object) -> object:
        checked = self._validate_type(value)
        if self.choices and checked not in self.choices:
            raise ValueError(f"expected one of {', '.join(map(repr, self.choices))}, got {value!r}")
        return checked

    def _validate_type(self, value: object) -> object:
        if self.kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"expected a list of strings, got {value!r}")
            return tuple(value)
        if self.kind is bool and not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        if not isinstance(value, self.kind):
            raise ValueError(f"expected {self.kind.__name__}, got {value!r}")
        return value


# Node classes of newer Pythons: a hook for one is inert on an interpreter without it.
NEWER_NODE_CLASSES = frozenset(
    {"TypeAlias", "TypeVar", "ParamSpec", "TypeVarTuple", "TemplateStr", "Interpolation"}
)
# The walk never visits these (operator and context fields are left out of it).
_UNVISITED = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
HOOK_PREFIX = "check_"


def hook_node_class(method_name: str) -> type[ast.AST] | None:
    """The ``ast`` class a ``check_<Class>`` hook subscribes to; None for a class this
    Python does not have. Raises TypeError for a name that is no concrete, visited node
    class, so a typo or an abstract ``check_expr`` fails at import instead of never firing."""
    name = method_name[len(HOOK_PREFIX) :]
    node_class = getattr(ast, name, None)
    if node_class is None and name in NEWER_NODE_CLASSES:
        return None
    # A concrete class's docstring is its grammar line, ``Call(expr func, ...)``; abstract
    # and deprecated classes (``expr``, ``Num``) have other docstrings.
    doc = (getattr(node_class, "__doc__", None) or "").split("\n", 1)[0]
    if (
        not isinstance(node_class, type)
        or not issubclass(node_class, ast.AST)
        or issubclass(node_class, _UNVISITED)
        or not (doc == name or doc.startswith(name + "("))
    ):
        raise TypeError(
            f"{method_name}: hooks are named check_<concrete ast node class>, e.g. check_Call"
        )
    return node_class


class Rule:
    """Base class of every rule; subclasses declare the class variables below.

    The detector is one method per node class it wants, ``check_Call(self, node: ast.Call,
    ctx: Context)``: the engine derives the subscriptions from those names.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # what the rule flags, in a few words (the README table)
    message: ClassVar[str]  # one line; ``str.format`` fields filled by the detector
    what_it_does: ClassVar[str]
    why_bad: ClassVar[str]
    example: ClassVar[str]  # code the rule flags
    use_instead: ClassVar[str]  # code it does not flag
    fixed_example: ClassVar[str | None] = None  # what the fix makes of ``example``
    fix_safety_note: ClassVar[str] = "This rule has no fix."
    severity: ClassVar[Severity] = Severity.WARNING
    # The best safety any finding of this rule can have; a finding may be less safe or unfixable.
    fix_safety: ClassVar[FixSafety] = FixSafety.NONE
    default_enabled: ClassVar[bool] = True
    # The rule stands for one of bandit's checks: a ``# nosec`` on the finding's lines says
    # a reviewer judged bandit's finding there and kept the code, so it suppresses this too.
    honours_nosec: ClassVar[bool] = False
    options: ClassVar[Sequence[Option]] = ()
    # node class -> name of the ``check_<Class>`` method, derived from the method names.
    hooks: ClassVar[Mapping[type[ast.AST], str]] = {}
    # Names of the libcst node classes ``fix`` is handed (kept as strings: detection never
    # imports libcst).
    fix_node_types: ClassVar[tuple[str, ...]] = ()
    # Pre-filter: the rule can only report in a file whose text holds one of these strings
    # (identifiers or literal text its detector requires); the engine skips the rule for
    # other files without calling it. Empty: every file. A wrong entry loses findings, so
    # tests/test_prefilters.py checks that findings are the same with the filters off.
    requires_text: ClassVar[tuple[str, ...]] = ()
    # Pre-filter of ``check_Call``: it is only called for calls of a name or attribute
    # spelled like one of these (``f(...)``, ``x.f(...)``); None: every call.
    call_names: ClassVar[frozenset[str] | None] = None

    def applies_to(self, ctx: Context) -> bool:
        """Pre-filter beyond the text (the file's role, settings): False when no node of
        this file can be reported. Asked once per file, before the walk."""
        return True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for old in ("node_types", "check"):
            if old in vars(cls):
                # Silently never called otherwise: the engine only dispatches to hooks.
                raise TypeError(
                    f"{cls.__name__}.{old}: the rule API has one check_<NodeClass> method per "
                    "node class, e.g. def check_Call(self, node: ast.Call, ctx: Context)"
                )
        hooks: dict[type[ast.AST], str] = {}
        for attribute in dir(cls):
            if attribute.startswith(HOOK_PREFIX) and callable(getattr(cls, attribute)):
                node_class = hook_node_class(attribute)
                if node_class is not None:
                    hooks[node_class] = attribute
        cls.hooks = hooks

    def subscriptions(self) -> list[tuple[type[ast.AST], Callable[[ast.AST, Context], None]]]:
        """(node class, bound handler) for every node class this rule inspects."""
        return [(node_class, getattr(self, method)) for node_class, method in self.hooks.items()]

    def __init__(self, settings: Mapping[str, object] | None = None) -> None:
        resolved: dict[str, object] = {opt.name: opt.default for opt in self.options}
        resolved.update(settings or {})
        self.settings: Mapping[str, object] = resolved

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        """Return the replacement for the libcst node the finding points at, or None."""
        return None

    def report(
        self,
        ctx: Context,
        node: ast.AST,
        *,
        fix: FixSafety = FixSafety.NONE,
        payload: FixPayload | None = None,
        anchor: tuple[ast.AST, str] | None = None,
        **message_fields: object,
    ) -> None:
        """``payload`` is what the detector learnt that ``fix`` needs, as the rule's own
        frozen dataclass (read back with ``finding.payload_as``). ``anchor`` is (node, libcst
        class name) when the fix must be handed another node than the one shown to the user,
        e.g. the statement whose body a ``with`` fix wraps."""
        if "hint" in message_fields:
            # The old API: ``str.format`` would drop it and the fix would get nothing.
            raise TypeError(f"{self.code}: report(hint=...) is gone; pass payload=")
        ctx.add_finding(
            self.code,
            self.message.format(**message_fields),
            self.severity,
            node,
            fix,
            anchor,
            payload,
        )

    @classmethod
    def docs(cls) -> str:
        """The rule's documentation, in the shape of ruff's rule pages."""
        parts = [
            f"# {cls.code} {cls.name}",
            "",
            cls.summary + ".",
            "",
            f"Message: {cls.message}",
            f"Severity: {cls.severity.value}   Fix: {cls.fix_safety.value}"
            + ("" if cls.default_enabled else "   (opt-in: enable with select)"),
            "",
            "## What it does",
            cls.what_it_does.strip(),
            "",
            "## Why is this bad?",
            cls.why_bad.strip(),
            "",
            "## Example",
            "```python",
            cls.example.strip("\n"),
            "```",
            "",
            "Use instead:",
            "```python",
            cls.use_instead.strip("\n"),
            "```",
        ]
        if cls.fixed_example is not None:
            parts += [
                "",
                "What `prodlint fix` makes of the example:",
                "```python",
                cls.fixed_example.strip("\n"),
                "```",
            ]
        parts += ["", "## Fix safety", cls.fix_safety_note.strip()]
        if cls.options:
            parts += ["", "## Options"]
            parts += [f"- `{o.name}` (default `{o.default!r}`): {o.doc}" for o in cls.options]
        return "\n".join(parts) + "\n"


RULES_PACKAGE = "prodlint.rules"
# Which module declares which code, written beside the rule modules' bytecode by the first
# run after an install or an edit (a run where they cannot be written imports every rule).
INDEX_FILE = "prodlint-rule-index.json"


def _rule_modules() -> list[str]:
    """Every module under ``prodlint.rules``, as ``pkgutil`` walks them."""
    import pkgutil

    import prodlint.rules as package

    return [info.name for info in pkgutil.walk_packages(package.__path__, RULES_PACKAGE + ".")]


@functools.cache
def _rules_of_module(name: str) -> Mapping[str, type[Rule]]:
    module = importlib.import_module(name)
    found: dict[str, type[Rule]] = {}
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Rule)
            and value.__module__ == module.__name__
            and "code" in vars(value)
        ):
            if not CODE_PATTERN.match(value.code):
                raise RuntimeError(f"{value.__name__}: rule code {value.code!r} is not PRDnnn")
            if value.code in found:
                raise RuntimeError(f"rule code {value.code} declared twice")
            found[value.code] = value
    return found


@functools.lru_cache(maxsize=1)
def all_rules() -> Mapping[str, type[Rule]]:
    """Every rule class under ``prodlint.rules``, by code (importing every rule module)."""
    found: dict[str, type[Rule]] = {}
    for module in _rule_modules():
        for code, rule in _rules_of_module(module).items():
            if code in found:
                raise RuntimeError(f"rule code {code} declared twice")
            found[code] = rule
    return dict(sorted(found.items()))


def rule_index() -> Mapping[str, str]:
    """Every rule code -> the module that declares it, without importing any rule when the
    index written by an earlier run is still valid (it is keyed by the stat of every
    prodlint source file), so a run imports only the rules it selects (``--select PRD5``:
    the PRD5 modules). It is generated from ``all_rules``: adding a rule stays adding a
    module, with no table to edit."""
    return _index()[0]


def provider_modules() -> Sequence[str]:
    """The modules under ``prodlint.analysis`` and ``prodlint.rules`` that declare project
    fact providers (``prodlint.facts``), from the same index: the providers are loaded
    without importing every rule module."""
    return _index()[1]


@functools.lru_cache(maxsize=1)
def _index() -> tuple[Mapping[str, str], Sequence[str]]:
    from prodlint.cache import code_fingerprint

    fingerprint = code_fingerprint()
    path = os.path.join(os.path.dirname(__file__), "rules", "__pycache__", INDEX_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
        rules, providers = stored["rules"], stored["providers"]
        if stored["fingerprint"] == fingerprint and isinstance(rules, dict):
            return dict(rules), tuple(providers)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    index = {code: rule.__module__ for code, rule in all_rules().items()}
    providers = _declaring_providers()
    _write_index(path, {"fingerprint": fingerprint, "rules": index, "providers": providers})
    return index, tuple(providers)


def _declaring_providers() -> list[str]:
    """Every module of ``prodlint.analysis`` and ``prodlint.rules`` (importing them all)
    that declares a provider class."""
    import pkgutil

    import prodlint.analysis
    import prodlint.rules
    from prodlint.facts import providers_in

    return [
        info.name
        for package in (prodlint.analysis, prodlint.rules)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if providers_in(importlib.import_module(info.name))
    ]


def _write_index(path: str, content: dict[str, object]) -> None:
    """Atomically (a concurrent run reads the old index or the new, never half of one); a
    folder that cannot be written only costs the next run the imports."""
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(content, handle, sort_keys=True)
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(temp)


def rules_for(codes: Iterable[str]) -> Mapping[str, type[Rule]]:
    """The rule classes of ``codes`` (unknown ones left out), importing only the modules
    that declare them."""
    index = rule_index()
    wanted = {code for code in codes if code in index}
    found: dict[str, type[Rule]] = {}
    for module in sorted({index[code] for code in wanted}):
        found.update(
            (code, rule) for code, rule in _rules_of_module(module).items() if code in wanted
        )
    missing = wanted - found.keys()
    if missing:
        raise RuntimeError(f"rule index names {sorted(missing)}, whose modules declare none")
    return dict(sorted(found.items()))


def canonical_code(code: str) -> str:
    return REDIRECTS.get(code, code)


def matches(code: str, selectors: Iterable[str]) -> bool:
    """True if ``code`` is selected by any code or prefix (``PRD5``, ``PRD``, ``ALL``)."""
    return any(sel == "ALL" or code.startswith(canonical_code(sel)) for sel in selectors)


def is_valid_selector(selector: str) -> bool:
    if selector == "ALL":
        return True
    selector = canonical_code(selector)
    return bool(re.fullmatch(r"PRD[0-9]{0,3}", selector)) and any(
        code.startswith(selector) for code in [*rule_index(), "PRD000"]
    )


def selected_rules(
    select: Sequence[str] | None, ignore: Sequence[str], extend_select: Sequence[str]
) -> list[type[Rule]]:
    """Resolve select/ignore the way ruff does: the most specific selector wins. Only the
    modules of rules the selectors can turn on are imported."""
    named = {canonical_code(s) for s in [*(select or ()), *extend_select]}
    ignored = {canonical_code(s) for s in ignore}
    # Per code: whether it is on as a default rule, and as an opt-in one (only turned on
    # by name, never by a prefix); which applies is the rule class's to say.
    decided: dict[str, tuple[bool, bool]] = {}
    for code in rule_index():
        if select is None:
            on = True
            on_len = 0
        else:
            hits = [s for s in select if matches(code, [s])]
            on = bool(hits)
            on_len = max((len(s) for s in hits), default=0)
        ext = [s for s in extend_select if matches(code, [s])]
        if ext:
            on = True
            on_len = max(on_len, *(len(s) for s in ext))
        off = [s for s in ignore if matches(code, [s])]
        if off and max(len(s) for s in off) >= on_len:
            on = False
        opted_in = code in named and code not in ignored
        if on or opted_in:
            decided[code] = (on, opted_in)
    return [
        rule
        for code, rule in rules_for(decided).items()
        if decided[code][0 if rule.default_enabled else 1]
    ]
