"""Parse once with stdlib ``ast``, walk once, let every enabled rule see the nodes it wants.

Dispatch is derived from each rule's ``check_<NodeClass>`` methods, so there is no hand-kept
table. The walk is iterative (deeply nested expressions cannot overflow the stack) and keeps
``Context.ancestors`` current for the semantic layer.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence

from prodlint.analysis.context import Context
from prodlint.analysis.walk import CHILD_FIELDS
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
        # Dispatch tables by which rules a file's pre-filters let through: files mostly
        # share a handful of combinations, so each table is built once per run.
        self._dispatches: dict[tuple[bool, ...], tuple[Dispatch, CallDispatch]] = {}
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
        if self.prefilters:
            dispatch, by_name = self._dispatch(self._active(ctx))
        else:
            dispatch, by_name = self.dispatch, {}
        try:
            if by_name or dispatch.keys() - {ast.Module}:
                self.walk(tree, ctx, dispatch, by_name)
            else:
                # No rule wants a node below the module: no walk at all.
                for handle in dispatch.get(ast.Module, ()):
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

    def _dispatch(self, active: tuple[bool, ...]) -> tuple[Dispatch, CallDispatch]:
        tables = self._dispatches.get(active)
        if tables is None:
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
            tables = self._dispatches[active] = (dispatch, by_name)
        return tables

    def walk(
        self,
        tree: ast.AST,
        ctx: Context,
        dispatch: Dispatch | None = None,
        by_name: CallDispatch | None = None,
    ) -> None:
        """Visit every node once, calling the handlers ``dispatch`` (default: every
        enabled rule's) has for its class, and for a call those ``by_name`` has for the
        callee's name."""
        if dispatch is None:
            dispatch = self.dispatch
        push = ctx.ancestors.append
        pop = ctx.ancestors.pop
        child_fields = CHILD_FIELDS
        call, attribute, name_class = ast.Call, ast.Attribute, ast.Name
        named_calls = by_name or {}

        def visit(node: ast.AST) -> None:
            node_class = type(node)
            handlers = dispatch.get(node_class)
            if handlers:
                for handle in handlers:
                    handle(node, ctx)
            if node_class is call and named_calls:
                func = node.func  # type: ignore[attr-defined]
                kind = type(func)
                named = named_calls.get(
                    func.attr if kind is attribute else func.id if kind is name_class else ""
                )
                if named:
                    for handle in named:
                        handle(node, ctx)
            fields = child_fields[node_class]
            if not fields:
                return  # a leaf (Name, Constant...): nothing below sees it as an ancestor
            push(node)
            for name in fields:
                value = getattr(node, name, None)
                if value is None:
                    continue
                if type(value) is list:
                    for item in value:
                        # Node lists hold nodes, or None for a missing dict key / default.
                        if item is not None:
                            visit(item)
                else:
                    visit(value)
            pop()

        with _deep_recursion():
            visit(tree)


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
