"""The README promises what CI does and lists the rules the registry has."""

from __future__ import annotations

import importlib.util
import pickle
import re
import sys
from pathlib import Path

from corpus import ROOT

from prodlint.commands import rules_table
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.model import FixSafety
from prodlint.registry import Rule


def test_rule_table_is_in_sync_with_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- rules:start[^\n]*\n(.*?)<!-- rules:end -->", readme, re.S)
    assert block, "README lost its rules markers"
    assert block.group(1) == rules_table(), "run `prodlint rules --format markdown` into the README"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert commands
    lines = [line for line in commands.group(1).splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci.splitlines()
    assert "prodlint check fixtures/" in lines[0]


def test_the_adding_a_rule_sample_is_a_working_rule(tmp_path: Path) -> None:
    """The README's sample module, run as it stands: its hooks, payload, anchored fix and
    docs do what the section says."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.partition("## Adding a rule\n")[2].partition("\n## ")[0]
    source = re.search(r"```python\n(.*?)```", section, re.S)
    assert source, "the Adding a rule section lost its sample module"
    module_file = tmp_path / "readme_sample_rule.py"
    module_file.write_text(source.group(1), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_sample_rule", module_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickle look the module up by name
    try:
        spec.loader.exec_module(module)
        rules = [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule
        ]
        assert len(rules) == 1
        (rule,) = rules
        assert rule.hooks
        checker = Checker(Config(), rules=[rule])
        example = rule.example.lstrip("\n")
        (finding,) = checker.check_text(example, "sample.py")
        assert finding.code == rule.code and finding.fix is FixSafety.UNSAFE
        kind = type(finding.payload)
        assert pickle.loads(pickle.dumps(finding)).payload_as(kind) == finding.payload
        fixed = fix_text(example, "sample.py", checker, unsafe=True)
        assert rule.fixed_example is not None
        assert fixed.text == rule.fixed_example.lstrip("\n")
        assert not checker.check_text(rule.use_instead.lstrip("\n"), "sample.py")
        released_in_finally = (
            "def bump(lock, counter):\n    lock.acquire()\n    try:\n        counter.value += 1\n"
            "    finally:\n        lock.release()\n"
        )
        assert not checker.check_text(released_in_finally, "sample.py")
        assert "## Fix safety" in rule.docs()
    finally:
        del sys.modules[spec.name]
