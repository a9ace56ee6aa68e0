"""The rule API: typed per-node hooks and typed fix payloads that survive pickling."""

from __future__ import annotations

import ast
import dataclasses
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import pytest
from corpus import all_fixtures

from prodlint.analysis.context import Context
from prodlint.cache import Cache, CacheEntry
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.fixes.base import FixContext
from prodlint.model import Finding, FixPayload, FixSafety, Severity
from prodlint.registry import Rule, all_rules
from prodlint.rules.resources.common import WithPayload


class _CallsAndNames(Rule):
    code = "PRD998"
    message = "{kind}"

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        self.report(ctx, node, kind="call")

    def check_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> None:
        self.report(ctx, node, kind=type(node).__name__)

    check_AsyncFunctionDef = check_FunctionDef


def test_hooks_are_derived_from_the_method_names() -> None:
    assert dict(_CallsAndNames.hooks) == {
        ast.Call: "check_Call",
        ast.FunctionDef: "check_FunctionDef",
        ast.AsyncFunctionDef: "check_AsyncFunctionDef",
    }
    text = "def f():\n    g()\nasync def h():\n    pass\n"
    found = Checker(Config(), rules=[_CallsAndNames]).check_text(text, "x.py")
    assert [(f.line, f.message) for f in found] == [
        (1, "FunctionDef"),
        (2, "call"),
        (3, "AsyncFunctionDef"),
    ]


@pytest.mark.parametrize(
    "name", ["check_expr", "check_Num", "check_Add", "check_Load", "check_Cal"]
)
def test_a_hook_that_could_never_fire_fails_at_class_creation(name: str) -> None:
    def hook(self: Rule, node: ast.AST, ctx: Context) -> None:
        raise AssertionError

    with pytest.raises(TypeError, match=name):
        type("Broken", (Rule,), {name: hook})


def test_every_rule_subscribes_through_hooks() -> None:
    for rule in all_rules().values():
        assert rule.hooks, f"{rule.code} has no check_<NodeClass> method"


@pytest.mark.parametrize("old", ["node_types", "check"])
def test_the_old_api_fails_loudly_instead_of_never_firing(old: str) -> None:
    def check(self: Rule, node: ast.AST, ctx: Context) -> None:
        raise AssertionError

    with pytest.raises(TypeError, match="check_<NodeClass>"):
        type("Old", (Rule,), {old: (ast.Call,) if old == "node_types" else check})


def test_a_hook_for_a_newer_python_node_is_inert_on_an_older_one() -> None:
    def hook(self: Rule, node: ast.AST, ctx: Context) -> None:
        raise AssertionError

    rule = type("Newer", (Rule,), {"check_TypeAlias": hook})
    assert bool(rule.hooks) == hasattr(ast, "TypeAlias")


@dataclass(frozen=True)
class _Renaming(FixPayload):
    new_name: str


class _Rename(Rule):
    """Renames ``old`` to what the payload says: the fix reads the detector's payload."""

    code = "PRD997"
    message = "rename"
    fix_node_types = ("Name",)

    def check_Name(self, node: ast.Name, ctx: Context) -> None:
        if node.id == "old":
            self.report(ctx, node, fix=FixSafety.SAFE, payload=_Renaming("new"))

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        assert isinstance(node, cst.Name)
        return node.with_changes(value=finding.payload_as(_Renaming).new_name)


def _finding(payload: FixPayload | None) -> Finding:
    return Finding(
        "x.py", 1, 1, 1, 4, "PRD997", "m", Severity.WARNING, FixSafety.SAFE, payload=payload
    )


def test_the_fix_reads_the_payload_typed() -> None:
    result = fix_text("old = 1\nprint(old)\n", "x.py", Checker(Config(), rules=[_Rename]))
    assert result.text == "new = 1\nprint(new)\n"


def test_the_old_hint_keyword_is_refused() -> None:
    class Hinting(Rule):
        code = "PRD996"
        message = "m"

        def check_Name(self, node: ast.Name, ctx: Context) -> None:
            self.report(ctx, node, hint={"x": 1})

    with pytest.raises(TypeError, match="payload="):
        Checker(Config(), rules=[Hinting]).check_text("x\n", "x.py")


def test_payload_as_refuses_another_rules_payload() -> None:
    finding = _finding(_Renaming("new"))
    with pytest.raises(TypeError, match="_Renaming"):
        finding.payload_as(WithPayload)
    with pytest.raises(TypeError):
        _finding(None).payload_as(_Renaming)


def test_a_payload_survives_pickling_and_is_unpacked_on_demand() -> None:
    finding = _finding(WithPayload(2, 5, "conn", "with", False, True))
    loaded = pickle.loads(pickle.dumps(finding))
    assert loaded == finding
    assert loaded.payload_as(WithPayload) == WithPayload(2, 5, "conn", "with", False, True)
    # Pickled again after unpacking, it is the same.
    again = pickle.loads(pickle.dumps(loaded))
    assert again.payload_as(WithPayload).name == "conn"
    # The runner re-labels cached findings with the path as shown; still packed, it keeps.
    packed = pickle.loads(pickle.dumps(finding))
    assert dataclasses.replace(packed, path="y.py").payload_as(WithPayload).end == 5


def test_loading_cached_findings_imports_no_rule_module(tmp_path: Path) -> None:
    """The warm path loads the cache without importing rules; a payload class lives in a
    rule module, so the cache must hold it packed until a fix asks."""
    finding = _finding(WithPayload(0, 1, "conn", "closing", True, False))
    cache = Cache(tmp_path, "k")
    cache.store("a.py", CacheEntry(1, 2, b"d", None, (finding,)))
    cache.save()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from prodlint.cache import Cache\n"
        f"cache = Cache(Path({str(tmp_path)!r}), 'k')\n"
        "(finding,) = cache.entries['a.py'].findings\n"
        "assert finding.code == 'PRD997', finding\n"
        "assert not [m for m in sys.modules if m.startswith('prodlint.rules')], 'rules imported'\n"
        "from prodlint.rules.resources.common import WithPayload\n"
        "payload = finding.payload_as(WithPayload)\n"
        "assert payload.mode == 'closing' and payload.asynchronous, payload\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def _holds_a_node(value: object) -> bool:
    if isinstance(value, ast.AST):
        return True
    if isinstance(value, (tuple, list, frozenset, set)):
        return any(_holds_a_node(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds_a_node(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def test_every_payload_in_the_corpus_is_a_small_frozen_picklable_record() -> None:
    """Findings cross processes and sit in the cache: a payload must pickle to an equal
    value, be a frozen dataclass, and hold no ``ast`` node (the tree is gone by then)."""
    checker = Checker(Config(), rules=list(all_rules().values()))
    kinds: set[str] = set()
    for fixture in all_fixtures():
        text = fixture.path.read_text(encoding="utf-8")
        for finding in checker.check_text(text, fixture.relative):
            payload = finding.payload
            if payload is None:
                continue
            kind = type(payload)
            kinds.add(kind.__name__)
            assert dataclasses.is_dataclass(payload), kind
            assert kind.__dataclass_params__.frozen, kind  # type: ignore[attr-defined]
            assert not _holds_a_node(payload), kind
            assert pickle.loads(pickle.dumps(payload)) == payload, kind
    assert len(kinds) >= 8, kinds  # the fixable families all reached
