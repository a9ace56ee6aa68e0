"""One ``CodemodCommand`` per fixable rule, named after the rule (``PrintUsedAsLogging``).

The classes are made from the registry when this module is imported, so a new fixable
rule gets its codemod with no code here. Each one runs the rule's detector and fix through
``prodlint.fixer.fix_text`` restricted to that rule, with the ``[tool.prodlint]`` options
found from the file being transformed.
"""

from __future__ import annotations

import argparse
import functools
from abc import abstractmethod
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from prodlint.config import Configs, find_project_root
from prodlint.discovery import display_path
from prodlint.engine import Checker
from prodlint.facts import ProjectFacts
from prodlint.fixer import FixFailed, fix_text
from prodlint.model import FixSafety
from prodlint.registry import Rule, all_rules
from prodlint.runner import project_facts


@functools.lru_cache(maxsize=8)
def _configs(pyproject: Path | None) -> Configs:
    return Configs(pyproject)


@functools.lru_cache(maxsize=8)
def _project(pyproject: Path | None, root: Path | None) -> ProjectFacts:
    # Per project root: every file of one project shares its facts.
    return project_facts(root, _configs(pyproject)) if root is not None else {}


@functools.lru_cache(maxsize=64)
def _checker(code: str, pyproject: Path | None, folder: Path) -> Checker:
    """The rule as ``prodlint check`` would run it on files in ``folder``: the folder's
    configuration and its project's facts (the models an N+1 fix needs)."""
    config = _configs(pyproject).for_path(folder)
    project = _project(pyproject, find_project_root(folder))
    return Checker(config, rules=[all_rules()[code]], project=project)


class RuleFixCommand(CodemodCommand):
    """Applies the fixes of one prodlint rule to a module."""

    def __init__(
        self, context: CodemodContext, unsafe_fixes: bool = False, config: str | None = None
    ) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes
        self.config = Path(config).resolve() if config else None

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            action="store_true",
            dest="unsafe_fixes",
            help="also apply fixes that may change behaviour",
        )
        arg_parser.add_argument(
            "--config",
            dest="config",
            default=None,
            help="pyproject.toml to read [tool.prodlint] from",
        )

    @classmethod
    @abstractmethod
    def rule(cls) -> type[Rule]:
        """The rule whose fixes this command applies."""

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        filename = self.context.filename or "<codemod>"
        folder = Path(filename).resolve().parent if self.context.filename else Path.cwd()
        checker = _checker(self.rule().code, self.config, folder)
        # The path the CLI would hand the engine (libcst passes it absolute): path globs
        # (test-paths, per-file-ignores) must pick the same files as ``prodlint fix``.
        shown = display_path(Path(filename)) if self.context.filename else filename
        try:
            result = fix_text(tree.code, shown, checker, self.unsafe_fixes)
        except FixFailed as error:
            raise SkipFile(str(error)) from None
        if not result.changed:
            return tree
        return cst.parse_module(result.text)


def _make_command(rule: type[Rule]) -> type[RuleFixCommand]:
    safety = "safe" if rule.fix_safety is FixSafety.SAFE else "unsafe: needs --unsafe-fixes"
    return type(
        rule.name,
        (RuleFixCommand,),
        {
            "DESCRIPTION": f"{rule.code} {rule.name}: apply prodlint's fix ({safety}).",
            "__module__": __name__,
            "__qualname__": rule.name,
            "__doc__": f"prodlint {rule.code}: {rule.message}",
            "rule": classmethod(lambda cls, _rule=rule: _rule),
        },
    )


COMMANDS: dict[str, type[RuleFixCommand]] = {
    rule.name: _make_command(rule)
    for rule in all_rules().values()
    if rule.fix_safety is not FixSafety.NONE
}
globals().update(COMMANDS)
__all__ = ["COMMANDS", "RuleFixCommand", *COMMANDS]
