"""PRD402-405 against bandit's own labelled examples: bandit's sdist is fetched at test
time, the real ``bandit`` labels each example, and prodlint must find the same lines, with
every difference named and explained here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pinned_sdists import sdist, sdists

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import all_rules

# Only now is bench/ on the path (pinned_sdists puts it there): one table of which bandit
# check stands for which prodlint rule, shared with bench/config_precision.py.
assert Path(sdists.__file__).parent.name == "bench"
from config_precision import BANDIT, BANDIT_TO_PRODLINT  # noqa: E402
from config_precision import BANDIT_EXAMPLES as EXAMPLES  # noqa: E402

pytestmark = pytest.mark.slow

CHECKER = Checker(
    Config(), rules=[rule for code, rule in all_rules().items() if code.startswith("PRD4")]
)
# Lines bandit labels that prodlint leaves alone on purpose, and why.
EXPLAINED_MISSES = {
    ("hardcoded-passwords.py", 4): "'class_password' reads as the name of a field, not a password",
    (
        "hardcoded-passwords.py",
        14,
    ): "a comparison (`password == 'root'`) checks a value, it configures nothing",
    ("hardcoded-passwords.py", 20): "a comparison with '' (bandit's own example calls it noMatch)",
    ("hardcoded-passwords.py", 26): "a comparison checks a value, it configures nothing",
    ("hardcoded-passwords.py", 33): "a comparison, and a value with spaces (a sentence)",
    ("hardcoded-passwords.py", 62): "'emails_secret' reads as the name of a field, not a secret",
}


@pytest.fixture(scope="module")
def examples() -> Path:
    return sdist(BANDIT) / "examples"


def bandit_labels(path: Path) -> set[tuple[int, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-f", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    results = json.loads(done.stdout)["results"]
    return {
        (r["line_number"], BANDIT_TO_PRODLINT[r["test_id"]])
        for r in results
        if r["test_id"] in BANDIT_TO_PRODLINT
    }


def prodlint_lines(path: Path, codes: set[str]) -> set[tuple[int, str]]:
    found = CHECKER.check_text(path.read_text(encoding="utf-8"), path.name)
    return {(f.line, f.code) for f in found if f.code in codes}


@pytest.mark.parametrize("name", EXAMPLES)
def test_bandit_examples(examples: Path, name: str) -> None:
    path = examples / name
    labels = bandit_labels(path)
    assert labels, f"bandit labels nothing in {name}: the example or the mapping changed"
    found = prodlint_lines(path, {code for _, code in labels})
    false_alarms = found - labels
    missed = {line for line, _ in labels - found}
    explained = {line for (file, line) in EXPLAINED_MISSES if file == name}
    assert not false_alarms, f"prodlint flags lines bandit does not: {sorted(false_alarms)}"
    assert missed == explained, (
        f"unexplained misses {sorted(missed - explained)}, now found {sorted(explained - missed)}"
    )
    recall = len(labels & found) / len(labels)
    print(
        f"\n{name}: bandit {len(labels)} labels, prodlint {len(found)} found, "
        f"recall {recall:.0%}, 0 false alarms"
    )
