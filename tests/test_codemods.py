"""The libcst codemod commands, with libcst's own ``CodemodTest`` and its real CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import Fixture, all_fixtures
from libcst.codemod import CodemodContext, CodemodTest

from prodlint.codemods.rules import COMMANDS, RuleFixCommand
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import FixSafety
from prodlint.registry import all_rules

CHECKER = Checker(Config(), rules=list(all_rules().values()))


def fixable_codes(fixture: Fixture) -> set[str]:
    text = fixture.path.read_text(encoding="utf-8")
    return {
        f.code for f in CHECKER.check_text(text, fixture.relative) if f.fix is not FixSafety.NONE
    }


# Fixtures whose every fix comes from one rule: the command for that rule alone must turn
# them into their ``.fixed.py``.
SINGLE_RULE = [
    (fixture, next(iter(codes)))
    for fixture in all_fixtures()
    if fixture.fixed_path.exists() and len(codes := fixable_codes(fixture)) == 1
]


def command_for(code: str) -> type[RuleFixCommand]:
    return COMMANDS[all_rules()[code].name]


def run_codemod(
    command: type[RuleFixCommand],
    before: str,
    after: str,
    filename: str,
    pyproject: Path,
    unsafe: bool,
) -> None:
    case = type("Case", (CodemodTest,), {"TRANSFORM": command, "runTest": lambda self: None})()
    case.assertCodemod(
        before,
        after,
        unsafe_fixes=unsafe,
        config=str(pyproject),
        context_override=CodemodContext(filename=filename),
    )


@pytest.fixture
def pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Each fixture is its own project: from the checkout, the codemod would (rightly) see
    # the models every other fixture declares.
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.prodlint]\n", encoding="utf-8")
    return path


def test_every_fixable_rule_has_a_command() -> None:
    fixable = {rule.name for rule in all_rules().values() if rule.fix_safety is not FixSafety.NONE}
    assert set(COMMANDS) == fixable and fixable
    assert "PRD501" in command_for("PRD501").DESCRIPTION


def test_the_corpus_has_single_rule_cases() -> None:
    assert {code for _, code in SINGLE_RULE} >= {"PRD501", "PRD503"}


@pytest.mark.parametrize(
    "fixture, code", SINGLE_RULE, ids=lambda value: getattr(value, "relative", value)
)
def test_command_makes_the_fixed_file(fixture: Fixture, code: str, pyproject: Path) -> None:
    before = fixture.path.read_text(encoding="utf-8")
    after = fixture.fixed_path.read_text(encoding="utf-8")
    run_codemod(command_for(code), before, after, fixture.relative, pyproject, unsafe=True)


@pytest.mark.parametrize(
    "fixture, code", SINGLE_RULE, ids=lambda value: getattr(value, "relative", value)
)
def test_other_rules_commands_leave_the_file_alone(
    fixture: Fixture, code: str, pyproject: Path
) -> None:
    before = fixture.path.read_text(encoding="utf-8")
    for other in COMMANDS.values():
        if other.rule().code != code:
            run_codemod(other, before, before, fixture.relative, pyproject, unsafe=True)


def test_unsafe_fixes_need_the_flag(pyproject: Path) -> None:
    unsafe = [
        (fixture, code)
        for fixture, code in SINGLE_RULE
        if all_rules()[code].fix_safety is FixSafety.UNSAFE
    ]
    assert unsafe, "the corpus must hold an unsafe-only fix"
    fixture, code = unsafe[0]
    before = fixture.path.read_text(encoding="utf-8")
    run_codemod(command_for(code), before, before, fixture.relative, pyproject, unsafe=False)


DOCS = Path(__file__).resolve().parents[1] / "docs" / "frontends.md"
SAMPLE = """import logging

logger = logging.getLogger(__name__)


def charge(order):
    try:
        order.pay()
    except Exception:
        pass
    logger.info("charged %s" % order.id)
    print("done", order.id)
"""


@pytest.mark.slow
def test_documented_codemod_setup_works_as_written(tmp_path: Path) -> None:
    """docs/frontends.md's .libcst.codemod.yaml and commands, run as written (``python`` is
    this interpreter) in a project with no formatter installed: each succeeds and the
    result is what ``prodlint fix`` makes of the same rules, in the same order."""
    text = DOCS.read_text(encoding="utf-8")
    [config] = re.findall(r"```yaml\n(generated_code_marker:.*?)```", text, re.S)
    commands = re.findall(r"^python -m libcst\.tool codemod .*$", text, re.M)
    assert len(commands) == 3 and all("--no-format" in command for command in commands)
    project, expected = tmp_path / "project", tmp_path / "expected"
    for root in (project, expected):
        (root / "src").mkdir(parents=True)
        (root / "src" / "billing.py").write_text(SAMPLE, encoding="utf-8")
        (root / "pyproject.toml").write_text('[project]\nname = "billing"\n', encoding="utf-8")
    (project / ".libcst.codemod.yaml").write_text(config, encoding="utf-8")
    for command in commands:
        words = command.split()
        done = subprocess.run(
            [sys.executable, *words[1:]], cwd=project, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0 and "Failed to codemod 0 files" in done.stderr, (
            command + done.stderr
        )
        name = next(
            word for word in words if word.startswith(("rules.", "prodlint.codemods.rules."))
        ).rsplit(".", 1)[1]
        code = COMMANDS[name].rule().code
        fixed = subprocess.run(
            [
                str(Path(sys.executable).parent / "prodlint"),
                "fix",
                "--no-cache",
                "--select",
                code,
                *(["--unsafe-fixes"] if "--unsafe-fixes" in words else []),
                "src/",
            ],
            cwd=expected,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert fixed.returncode in (0, 1), fixed.stderr
        assert (project / "src" / "billing.py").read_text() == (
            expected / "src" / "billing.py"
        ).read_text(), command
    assert (project / "src" / "billing.py").read_text() != SAMPLE
