"""A run imports only the rules it selects: the registry's index says which module declares
which code without importing them (issue 13: a check imported every rule to read it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


CHECK = """
import json, sys
from prodlint.cli import main
from prodlint.registry import rule_index
main(["check", "--no-cache", "--select", "PRD5", *sys.argv[1:], "."])
rule_modules = set(rule_index().values())
print(json.dumps(sorted(m for m in sys.modules if m in rule_modules)))
"""


@pytest.mark.parametrize("files", [1, 40])
def test_a_check_of_one_family_imports_no_other_rule(tmp_path: Path, files: int) -> None:
    """The project facts' providers are loaded from the index too: a provider module in
    another family may be imported, a module declaring another family's rule is not. With
    enough files for worker processes, what is imported before they fork is the same."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    for number in range(files):
        (tmp_path / f"app{number}.py").write_text(
            "from django.db import models\n\n\ndef f(x):\n    print(x)\n"
        )
    for _ in range(2):  # the first run after an edit of the sources writes the index
        done = subprocess.run(
            [sys.executable, "-c", CHECK, "--jobs", "2"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
    assert "PRD501" in done.stdout, done.stderr
    imported = json.loads(done.stdout.splitlines()[-1])
    # With workers, the checker (and its unused-noqa rule) is made in them, after the fork.
    families = {module.split(".")[2] for module in imported}
    assert "logging" in families and families <= {"logging", "noqa"}, imported
