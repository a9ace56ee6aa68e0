"""The README promises what CI does and lists the rules the registry has."""

from __future__ import annotations

import re

from corpus import ROOT
from prodlint.cli import rules_table


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
