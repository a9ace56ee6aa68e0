"""The flake8 plugin: ``flake8 --select PRD`` reports what ``prodlint check`` reports.

flake8 never reads pyproject.toml, so the plugin finds ``[tool.prodlint]`` itself (the same
walk up from each file as ``prodlint check``) and layers the ``--prodlint-*`` flake8
options on top. The file is not parsed again: the ``ast`` tree flake8 already built goes
straight to ``Checker.check_text``. flake8 applies its own ``# noqa`` and ``--select`` /
``--ignore`` after the plugin, on top of prodlint's own select/ignore from the config.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from prodlint import __version__
from prodlint.config import Config, ConfigError, Configs, find_project_root, parse_table
from prodlint.discovery import display_path
from prodlint.engine import Checker
from prodlint.facts import ProjectFacts
from prodlint.model import UNCHECKABLE_CODE, Finding
from prodlint.runner import project_facts

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

Flake8Result = tuple[int, int, str, type]


def _rule_option_table(text: str) -> dict[str, object]:
    """``--prodlint-rule-options``: TOML dotted keys, one per line in setup.cfg, e.g.
    ``PRD501.level = "warning"``, the same values as ``[tool.prodlint.rules]``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"flake8 option prodlint-rule-options: not TOML key = value lines: {error}"
        ) from None


def with_flake8_options(
    config: Config,
    rule_options: str = "",
    test_paths: tuple[str, ...] = (),
    migration_paths: tuple[str, ...] = (),
) -> Config:
    """``config`` with the flake8 options applied over it (flake8 options win, option by
    option)."""
    if rule_options.strip():
        # Validated exactly like [tool.prodlint.rules], so a typo fails the same way.
        extra = parse_table(
            {"rules": _rule_option_table(rule_options)}, config.source or Path("setup.cfg")
        )
        merged = {code: dict(settings) for code, settings in config.rule_options.items()}
        for code, settings in extra.rule_options.items():
            merged[code] = {**merged.get(code, {}), **settings}
        config = replace(config, rule_options=merged)
    if test_paths:
        config = replace(config, test_paths=test_paths)
    if migration_paths:
        config = replace(config, migration_paths=migration_paths)
    return config


class Flake8Checker:
    """flake8 instantiates this once per file with the parsed tree and the file's lines."""

    name = "prodlint"
    version = __version__

    # Set from flake8's options once per run (``parse_options``), read by every instance.
    explicit_config: Path | None = None
    rule_options: str = ""
    test_paths: tuple[str, ...] = ()
    migration_paths: tuple[str, ...] = ()

    # Per process: each file's configuration (found as ``prodlint check`` finds it), one
    # Checker per configuration and project, and each project's facts, which must not be
    # gathered again for every file.
    _configs: Configs | None = None
    _checkers: dict[tuple[int, Path | None], Checker] = {}
    _projects: dict[Path | None, ProjectFacts] = {}
    # Configuration problems already reported in this process.
    _reported: set[str] = set()

    def __init__(self, tree: ast.Module, lines: list[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, parser: object) -> None:
        add = parser.add_option  # type: ignore[attr-defined]
        add(
            "--prodlint-config",
            default=None,
            parse_from_config=True,
            normalize_paths=True,
            help="pyproject.toml to read [tool.prodlint] from (default: the nearest one "
            "above each file that has the table)",
        )
        add(
            "--prodlint-rule-options",
            default="",
            parse_from_config=True,
            help='Rule options as TOML lines, e.g. PRD501.level = "warning"; they override '
            "[tool.prodlint.rules]",
        )
        add(
            "--prodlint-test-paths",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Globs of test files (overrides [tool.prodlint] test-paths)",
        )
        add(
            "--prodlint-migration-paths",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Globs of migration files (overrides [tool.prodlint] migration-paths)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        explicit = getattr(options, "prodlint_config", None)
        cls.explicit_config = Path(explicit).resolve() if explicit else None
        cls.rule_options = getattr(options, "prodlint_rule_options", "") or ""
        paths = getattr(options, "prodlint_test_paths", None) or []
        cls.test_paths = tuple(p for p in paths if p)
        migrations = getattr(options, "prodlint_migration_paths", None) or []
        cls.migration_paths = tuple(p for p in migrations if p)
        cls._configs = None
        cls._checkers = {}
        cls._projects = {}
        cls._reported = set()

    @classmethod
    def checker_for(cls, path: Path) -> Checker:
        if cls._configs is None:
            options = (cls.rule_options, cls.test_paths, cls.migration_paths)
            cls._configs = Configs(
                cls.explicit_config, lambda config: with_flake8_options(config, *options)
            )
        config = cls._configs.for_path(path)
        root = find_project_root(path)
        checker = cls._checkers.get((id(config), root))
        if checker is None:
            project = cls._projects.get(root)
            if project is None:
                project = cls._projects[root] = project_facts(path, cls._configs)
            checker = cls._checkers[(id(config), root)] = Checker(config, project=project)
        return checker

    def run(self) -> Iterator[Flake8Result]:
        path = Path(self.filename).resolve()
        try:
            checker = self.checker_for(path)
        except ConfigError as error:
            # Raising would end all of flake8 (and the editor's linting with it), losing
            # every other plugin's results: say it once, as a finding, and check nothing.
            problem = str(error)
            if problem not in Flake8Checker._reported:
                Flake8Checker._reported.add(problem)
                yield (
                    1,
                    0,
                    f"{UNCHECKABLE_CODE} prodlint configuration error: {problem}",
                    type(self),
                )
            return
        for finding in self.findings(checker, path):
            # flake8 adds 1 to the column a plugin reports; prodlint columns are 1-based.
            yield finding.line, finding.col - 1, f"{finding.code} {finding.message}", type(self)

    def findings(self, checker: Checker, path: Path) -> list[Finding]:
        # The path as the CLI shows it (relative to the working directory when below it);
        # path globs (test-paths, per-file-ignores) match it relative to the project root,
        # so flake8's ``./x.py`` picks the same files as ``prodlint check``.
        return checker.check_text("".join(self.lines), display_path(path), tree=self.tree)
