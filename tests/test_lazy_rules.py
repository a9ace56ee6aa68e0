"""A run imports only the rules it selects: the registry's index says which module declares
which code without importing them (issue 13: a check imported every rule to read it)."""

from __future__ import annotations

import json
import subprocess
import sys

SELECT = """
import json, sys
from prodlint.config import Config
from prodlint.engine import Checker
checker = Checker(Config(select=tuple(sys.argv[1:])))
print(json.dumps({
    "codes": checker.codes,
    "modules": sorted(m for m in sys.modules if m.startswith("prodlint.rules.")),
}))
"""


def selecting(*selectors: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SELECT, *selectors], capture_output=True, text=True, check=True
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_selecting_a_family_imports_only_its_modules() -> None:
    selecting("PRD5")  # the first run after an edit of the sources writes the index
    loaded = selecting("PRD5")
    assert loaded["codes"] == ["PRD501", "PRD502", "PRD503"]
    # The unused-noqa rule is asked for every file's noqa comments, so it is always loaded.
    families = {module.split(".")[2] for module in loaded["modules"]}
    assert families == {"logging", "noqa"}, loaded["modules"]
    one = selecting("PRD301")
    assert one["codes"] == ["PRD301"]
    assert {module.split(".")[2] for module in one["modules"]} == {"resources", "noqa"}


def test_index_names_the_module_of_every_rule() -> None:
    probe = (
        "import json; from prodlint.registry import all_rules, rule_index; "
        "print(json.dumps([dict(rule_index()), "
        "{code: rule.__module__ for code, rule in all_rules().items()}]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    index, imported = json.loads(done.stdout)
    assert index == imported
