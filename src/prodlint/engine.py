"""Parse once with stdlib ``ast``, walk once, let every enabled rule see the nodes it wants.

Dispatch is derived from each rule's ``check_<NodeClass>`` methods, so there is no hand-kept
table. The walk (``Walker``, generated per dispatch table) is recursive under a raised
recursion limit, so deeply nested expressions are checked too, and keeps
``Context.ancestors`` current for the semantic layer.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import CodeType
from typing import cast

from prodlint.analysis.context import Context
from prodlint.analysis.walk import FIELD_SHAPES, LEAVES, Shape
from prodlint.config import Config
from prodlint.model import UNCHECKABLE_CODE, Finding, Severity
from prodlint.noqa import apply_noqa
from prodlint.pyversion import syntax_error_message
from prodlint.registry import Rule, matches, selected_rules
from prodlint.source import UncheckableSource, decode_source

Handler = Callable[[ast.AST, Context], None]
Dispatch = dict[type[ast.AST], list[Handler]]
# ``check_Call`` handlers of rules that declare ``call_names``, by the callee's last name.
CallDispatch = dict[str, list[Handler]]


class Checker:
    """The enabled rules for one configuration, ready to check any number of files."""

    def __init__(
        self,
        config: Config,
        rules: Sequence[type[Rule]] | None = None,
        project: Mapping[str, object] | None = None,
        *,
        prefilters: bool = True,
    ) -> None:
        """``project`` holds the project facts (``prodlint.facts``) gathered before checking,
        by provider key; rules read them from ``ctx.settings[key]``. ``prefilters=False``
        runs every rule on every file (the reference the pre-filters are tested against)."""
        self.config = config
        chosen = (
            rules
            if rules is not None
            else selected_rules(config.select, config.ignore, config.extend_select)
        )
        self.rules: list[Rule] = [rule(config.rule_options.get(rule.code)) for rule in chosen]
        self.prefilters = prefilters
        self._subscriptions = [rule.subscriptions() for rule in self.rules]
        # Walks by which rules a file's pre-filters let through: files mostly share a
        # handful of combinations, so each is built once per run.
        self._walkers: dict[tuple[bool, ...], Walker] = {}
        self._every: Walker | None = None
        self.dispatch: Dispatch = {}
        for subscriptions in self._subscriptions:
            for node_type, handler in subscriptions:
                self.dispatch.setdefault(node_type, []).append(handler)
        self.settings = config.settings()
        self.codes = [rule.code for rule in self.rules]
        from prodlint.rules.noqa.unused_noqa import UnusedNoqa

        # Unlike the other rules it needs every finding of the file, so it runs after the walk.
        self.nosec_codes = frozenset(rule.code for rule in self.rules if rule.honours_nosec)
        self.unused_noqa = next((rule for rule in self.rules if isinstance(rule, UnusedNoqa)), None)
        if project:
            self.settings = {**self.settings, **project}

    def rule(self, code: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.code == code), None)

    def check_bytes(self, data: bytes, path: str, tree: ast.Module | None = None) -> list[Finding]:
        """Findings for one file's bytes; ``tree``, when given, was parsed from them."""
        try:
            source = decode_source(data)
        except UncheckableSource as error:
            return [uncheckable(path, str(error))]
        return self.check_text(source.text, path, tree)

    def check_text(self, text: str, path: str, tree: ast.Module | None = None) -> list[Finding]:
        """Findings for one file's text; ``tree`` lets a front end that already parsed
        (flake8) skip the parse."""
        if tree is None:
            try:
                with warnings.catch_warnings(), _deep_recursion():
                    # Invalid escape sequences in the checked code are not our findings.
                    warnings.simplefilter("ignore")
                    tree = ast.parse(text, filename=path)
            except SyntaxError as error:
                return [
                    uncheckable(
                        path,
                        syntax_error_message(error, text),
                        error.lineno or 1,
                        error.offset or 1,
                    )
                ]
            except (ValueError, RecursionError, MemoryError) as error:
                return [uncheckable(path, f"cannot parse: {type(error).__name__}: {error}")]
        ctx = Context(path, text, tree, self.settings)
        walker = self._walker(self._active(ctx)) if self.prefilters else self._full_walker()
        try:
            if walker.by_name or walker.dispatch.keys() - {ast.Module}:
                with _deep_recursion():
                    walker.walk(tree, ctx)
            else:
                # No rule wants a node below the module: no walk at all.
                for handle in walker.dispatch.get(ast.Module, ()):
                    handle(tree, ctx)
        except RecursionError:
            return [
                uncheckable(
                    path, f"cannot check: code nested deeper than {DEEP_RECURSION_LIMIT} levels"
                )
            ]
        found = ctx.findings
        if self.unused_noqa is not None:
            # Judged on every finding before suppression: those are what a noqa silences.
            found = [*found, *self.unused_noqa.unused(ctx, found, self.codes)]
        if not found:
            return []
        findings = apply_noqa(found, ctx.lines, text, self.nosec_codes)
        ignored = self.config.ignored_for(path)
        if ignored:
            findings = [f for f in findings if not matches(f.code, ignored)]
        return sorted(findings, key=Finding.sort_key)

    def _active(self, ctx: Context) -> tuple[bool, ...]:
        """Which rules the file's pre-filters let through (``Rule.requires_text``,
        ``Rule.applies_to``), in the order of ``self.rules``."""
        text = ctx.text
        if not text.isascii():
            # An identifier may be spelled in characters that NFKC folds to ASCII
            # (``ｅxecute`` is ``execute`` to Python): look for the tokens in the folded text.
            text = unicodedata.normalize("NFKC", text)
        present: dict[str, bool] = {}
        active: list[bool] = []
        for rule in self.rules:
            needs = rule.requires_text
            if needs:
                hit = False
                for token in needs:
                    known = present.get(token)
                    if known is None:
                        known = present[token] = token in text
                    if known:
                        hit = True
                        break
                if not hit:
                    active.append(False)
                    continue
            active.append(rule.applies_to(ctx))
        return tuple(active)

    def _walker(self, active: tuple[bool, ...]) -> Walker:
        walker = self._walkers.get(active)
        if walker is None:
            dispatch: Dispatch = {}
            by_name: CallDispatch = {}
            for on, rule, subscriptions in zip(
                active, self.rules, self._subscriptions, strict=True
            ):
                if not on:
                    continue
                for node_type, handler in subscriptions:
                    if node_type is ast.Call and rule.call_names is not None:
                        for name in rule.call_names:
                            by_name.setdefault(name, []).append(handler)
                    else:
                        dispatch.setdefault(node_type, []).append(handler)
            walker = self._walkers[active] = Walker(dispatch, by_name)
        return walker

    def _full_walker(self) -> Walker:
        """The walk of ``self.dispatch`` (every handler of every rule, by class only),
        made again when the table was replaced."""
        if self._every is None or self._every.dispatch is not self.dispatch:
            self._every = Walker(self.dispatch, {})
        return self._every

    def walk(self, tree: ast.AST, ctx: Context) -> None:
        """Visit every node once, calling the handlers ``self.dispatch`` (every enabled
        rule's) has for its class."""
        with _deep_recursion():
            self._full_walker().walk(tree, ctx)


class Walker:
    """The walk for one dispatch table. Its code is written out once as Python source
    (``_walk_code``): one function per node class that calls the class's handlers and
    then visits each child field by name, knowing from the grammar which fields hold a
    list (``analysis.walk.FIELD_SHAPES``); a table only fills in the handlers.

    Against one generic visitor looping over the field names with ``getattr``, this takes
    a fifth off the walk's own cost. Children no handler wants and below which there is
    nothing (Name; Constant when no enabled rule reads constants) are not visited at all,
    and a node with a single child field enters ``ctx.ancestors`` only around that
    child's visit: what handlers see (which nodes, in which order, with which ancestors)
    is what a visit of every node gives.
    """

    def __init__(self, dispatch: Dispatch, by_name: CallDispatch | None) -> None:
        self.dispatch = dispatch
        self.by_name = by_name
        named = by_name or {}
        # None stands in a list for a missing dict key or keyword-only default, and in an
        # optional field: skipped like a leaf, so no field needs its own test for it.
        skip = frozenset(
            {
                type(None),
                *(
                    node_class
                    for node_class in LEAVES
                    if not dispatch.get(node_class) and not (node_class is ast.Call and named)
                ),
            }
        )
        self.skipped = skip
        namespace: dict[str, object] = {
            "SKIP": skip,
            "NAMED": named,
            "AST": ast.AST,
            "Attribute": ast.Attribute,
            "Name": ast.Name,
        }
        for position, node_class in enumerate(FIELD_SHAPES):
            namespace[f"C{position}"] = node_class
            namespace[f"H{position}"] = tuple(dispatch.get(node_class, ()))
        exec(_walk_code(), namespace)
        self._namespace = namespace
        self._visitors = cast(dict[type[ast.AST], Callable[[ast.AST], None]], namespace["VISIT"])

    def walk(self, tree: ast.AST, ctx: Context) -> None:
        visit = self._visitors.get(type(tree))
        if visit is None:
            return
        # The visitors read the file's context from their globals: one walk at a time.
        namespace = self._namespace
        ancestors = ctx.ancestors
        namespace["ctx"], namespace["push"], namespace["pop"] = ctx, ancestors.append, ancestors.pop
        try:
            visit(tree)
        finally:
            namespace["ctx"] = namespace["push"] = namespace["pop"] = None


@functools.cache
def _walk_code() -> CodeType:
    """The visitor of each node class, by class, in ``VISIT``. Each class's handlers are
    the tuple ``H<n>``, the class itself ``C<n>``, ``n`` its position in ``FIELD_SHAPES``;
    ``ctx``, ``push`` and ``pop`` are the file's, set for each walk."""
    source: list[str] = []
    visitors: list[str] = []
    for position, (node_class, shapes) in enumerate(FIELD_SHAPES.items()):
        visitors.append(f"C{position}: visit{position}")
        body = [f"if H{position}:", f"    for handle in H{position}:", "        handle(node, ctx)"]
        if node_class is ast.Call:
            body += _NAMED_CALLS
        body += _children(shapes)
        source.append(f"def visit{position}(node):")
        source += [f"    {line}" for line in body]
    source.append(f"VISIT = {{{', '.join(visitors)}}}")
    return compile("\n".join(source), "<prodlint walk>", "exec")


# The callee's last name picks the ``call_names`` handlers (``Rule.call_names``).
_NAMED_CALLS = [
    "if NAMED:",
    "    func = node.func",
    "    kind = type(func)",
    "    named = NAMED.get(func.attr if kind is Attribute else func.id if kind is Name else '')",
    "    if named:",
    "        for handle in named:",
    "            handle(node, ctx)",
]


def _children(shapes: tuple[tuple[str, Shape], ...]) -> list[str]:
    """Source visiting the child fields of ``node`` in grammar order, ``node`` on the
    ancestors meanwhile."""
    if len(shapes) == 1 and shapes[0][1] in ("one", "optional"):
        # The only child: push the node only when the child is visited.
        return [
            f"child = node.{shapes[0][0]}",
            "kind = type(child)",
            "if kind not in SKIP:",
            "    push(node)",
            "    VISIT[kind](child)",
            "    pop()",
        ]
    lines = ["push(node)"] if shapes else []
    for field, shape in shapes:
        if shape == "list":
            lines += [
                f"for child in node.{field}:",
                "    kind = type(child)",
                "    if kind not in SKIP:",
                "        VISIT[kind](child)",
            ]
        elif shape == "unknown":
            # Classes without a grammar line (the deprecated Num, Str...): fields of any
            # value, node or not.
            lines += [
                f"child = getattr(node, {field!r}, None)",
                "for child in child if type(child) is list else [child]:",
                "    if isinstance(child, AST) and type(child) not in SKIP:",
                "        VISIT[type(child)](child)",
            ]
        else:
            lines += [
                f"child = node.{field}",
                "kind = type(child)",
                "if kind not in SKIP:",
                "    VISIT[kind](child)",
            ]
    return lines + (["pop()"] if shapes else [])


# Each nesting level of a tree costs one frame when it is built and when it is walked;
# generated code nests thousands deep (long ``a + b + ...`` chains, which CPython itself
# compiles) and must not be reported as unparsable for it.
DEEP_RECURSION_LIMIT = 20000


@contextlib.contextmanager
def _deep_recursion() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEP_RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def uncheckable(path: str, why: str, line: int = 1, col: int = 1) -> Finding:
    return Finding(path, line, col, line, col, UNCHECKABLE_CODE, why, Severity.ERROR)
