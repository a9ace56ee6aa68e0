"""``[tool.prodlint]`` in pyproject.toml: found by walking up, validated strictly."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from prodlint import runmemo
from prodlint.paths import DEFAULT_MIGRATION_PATHS, DEFAULT_TEST_PATHS, path_matches
from prodlint.registry import canonical_code, is_valid_selector, rules_for

if TYPE_CHECKING:
    from prodlint.discovery import Listings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".prodlint_cache",
)


class ConfigError(Exception):
    """A configuration problem; the message names the key and the file."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS
    migration_paths: tuple[str, ...] = DEFAULT_MIGRATION_PATHS
    rule_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    cache_dir: str = ".prodlint_cache"
    respect_gitignore: bool = True
    # Apply exclude to files named on the command line too (what pre-commit passes).
    force_exclude: bool = False
    source: Path | None = None  # the pyproject.toml this came from
    # The project root (see ``find_project_root``) when no pyproject.toml has the table.
    project: Path | None = None

    @property
    def root(self) -> Path:
        if self.source is not None:
            return self.source.parent
        return self.project if self.project is not None else Path.cwd()

    def settings(self) -> Mapping[str, object]:
        """File-level settings the semantic layer reads (shared by all rules)."""
        return {
            "test-paths": self.test_paths,
            "migration-paths": self.migration_paths,
            # What the path globs are relative to (``prodlint.paths``).
            "project-root": str(self.root),
        }

    def ignored_for(self, path: str) -> tuple[str, ...]:
        codes: list[str] = []
        root = str(self.root)
        for pattern, ignored in self.per_file_ignores:
            if path_matches(path, (pattern,), root):
                codes.extend(ignored)
        return tuple(codes)

    def fingerprint(self) -> str:
        """Identifies everything that changes findings, for the cache key."""
        payload = json.dumps(
            [
                self.select,
                self.ignore,
                self.extend_select,
                self.per_file_ignores,
                self.test_paths,
                self.migration_paths,
                # The globs above are relative to it.
                str(self.root),
                {k: dict(v) for k, v in sorted(self.rule_options.items())},
            ],
            sort_keys=True,
            default=list,
        )
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()

    def override(self, **changes: object) -> Config:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


# Any of these marks the folder a project lives in, whatever it configures.
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")


def _folder_of(start: Path) -> Path:
    here = start.resolve()
    return here.parent if here.is_file() or not here.exists() else here


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a pyproject.toml, setup.cfg or
    .git, with or without a ``[tool.prodlint]`` table; None outside any project (then
    only the named files are read: a stray script in /tmp must not make a run read all
    of /tmp). Every front end asks this one question, so one file checked alone (an
    editor, a pre-commit run with one file staged, stdin) sees the same project as
    ``check .`` at the root."""
    here = _folder_of(start)
    for folder in (here, *here.parents):
        if any(_probe(str(folder / marker)) for marker in PROJECT_MARKERS):
            return folder
    return None


def _probe(path: str) -> bool:
    """Whether ``path`` exists, noted as an input of the run (``prodlint.runmemo``)."""
    found = os.path.exists(path)
    if runmemo.active is not None:
        runmemo.active.probe(path, found)
    return found


def _has_prodlint_table(candidate: Path) -> bool:
    if runmemo.active is not None:
        runmemo.active.files.add(str(candidate))
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{candidate}: cannot read TOML: {error}") from None
    return "prodlint" in data.get("tool", {})


def _strings(value: object, key: str, where: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f"{where}: [tool.prodlint] {key}: expected a list of strings, got {value!r}"
        )
    return tuple(value)


def _selectors(value: object, key: str, where: Path) -> tuple[str, ...]:
    codes = _strings(value, key, where)
    for code in codes:
        if not is_valid_selector(code):
            raise ConfigError(
                f"{where}: [tool.prodlint] {key}: unknown rule code or prefix {code!r}"
            )
    return tuple(canonical_code(code) for code in codes)


def parse_table(table: Mapping[str, object], where: Path) -> Config:
    """Build a Config from a ``[tool.prodlint]`` table, rejecting anything unknown."""
    config = Config(source=where)
    changes: dict[str, object] = {}
    for key, value in table.items():
        if key in ("select", "ignore", "extend-select"):
            changes[key.replace("-", "_")] = _selectors(value, key, where)
        elif key in ("exclude", "extend-exclude", "test-paths", "migration-paths"):
            changes[key.replace("-", "_")] = _strings(value, key, where)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{where}: [tool.prodlint] per-file-ignores: expected a table of glob = [codes]"
                )
            changes["per_file_ignores"] = tuple(
                (glob, _selectors(codes, f"per-file-ignores.{glob!r}", where))
                for glob, codes in value.items()
            )
        elif key == "cache-dir":
            if not isinstance(value, str):
                raise ConfigError(
                    f"{where}: [tool.prodlint] cache-dir: expected a string, got {value!r}"
                )
            changes["cache_dir"] = value
        elif key in ("respect-gitignore", "force-exclude"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: [tool.prodlint] {key}: expected true or false")
            changes[key.replace("-", "_")] = value
        elif key == "rules":
            changes["rule_options"] = _rule_options(value, where)
        else:
            raise ConfigError(f"{where}: [tool.prodlint] unknown key {key!r}")
    return replace(config, **changes)  # type: ignore[arg-type]


def _rule_options(value: object, where: Path) -> Mapping[str, Mapping[str, object]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [tool.prodlint.rules] expected a table of rule codes")
    rules = rules_for(canonical_code(code) for code in value)
    options: dict[str, dict[str, object]] = {}
    for code, settings in value.items():
        rule = rules.get(canonical_code(code))
        if rule is None:
            raise ConfigError(f"{where}: [tool.prodlint.rules] unknown rule code {code!r}")
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: [tool.prodlint.rules.{code}] expected a table")
        declared = {opt.name: opt for opt in rule.options}
        resolved: dict[str, object] = {}
        for name, setting in settings.items():
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ConfigError(
                    f"{where}: [tool.prodlint.rules.{code}] unknown option {name!r} "
                    f"(known: {known})"
                )
            try:
                resolved[name] = declared[name].validate(setting)
            except ValueError as error:
                raise ConfigError(
                    f"{where}: [tool.prodlint.rules.{code}] {name}: {error}"
                ) from None
        options[rule.code] = resolved
    return options


def read_config(pyproject: Path) -> Config:
    if runmemo.active is not None:
        runmemo.active.files.add(str(pyproject.resolve()))
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{pyproject}: cannot read TOML: {error}") from None
    table = data.get("tool", {}).get("prodlint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.prodlint] must be a table")
    return parse_table(table, pyproject)


class Configs:
    """The configuration of each checked file, as ruff resolves it: ``[tool.prodlint]`` of
    the nearest pyproject.toml above the file that has the table (or the ``explicit`` one
    for every file), with the command line's settings on top (``adjust``). So ``check a b``
    and ``check b a`` agree, and a sub-project's settings hold for its files in any run.

    Lookups are memoised per folder (and the walk up shares its answers with the folders
    above), so a run over a large tree reads each pyproject.toml once."""

    def __init__(
        self,
        explicit: Path | None = None,
        adjust: Callable[[Config], Config] | None = None,
        *,
        cache_listings: bool = False,
    ) -> None:
        """``cache_listings``: discovery keeps folder listings in the cache folder (the
        CLI with its cache on; front ends that must not write into a project leave it)."""
        self.explicit = explicit
        self.adjust = adjust
        self.cache_listings = cache_listings
        self.listings: Listings | None = None
        self._by_folder: dict[str, Config] = {}
        self._by_key: dict[Path, Config] = {}
        self._tables: dict[str, Path | None] = {}
        self._roots: dict[str, Path | None] = {}
        # Project markers present in folders discovery has listed (the others are probed).
        self._markers: dict[str, frozenset[str]] = {}

    def saw_folder(self, folder: str, markers: frozenset[str]) -> None:
        self._markers[folder] = markers

    def _has(self, folder: str, marker: str) -> bool:
        listed = self._markers.get(folder)
        return marker in listed if listed is not None else _probe(os.path.join(folder, marker))

    def for_path(self, path: Path) -> Config:
        return self.for_folder(str(_folder_of(path)))

    def for_folder(self, folder: str) -> Config:
        """The config for files in ``folder`` (absolute and resolved)."""
        found = self._by_folder.get(folder)
        if found is None:
            pyproject = self.explicit or self._nearest_table(folder)
            # Keyed by the pyproject.toml, or by the project root for the defaults (its
            # cache and excludes live there): files sharing one share one Config object.
            key = (
                pyproject if pyproject is not None else (self._nearest_root(folder) or Path(folder))
            )
            found = self._by_key.get(key)
            if found is None:
                config = read_config(pyproject) if pyproject is not None else Config(project=key)
                found = self._by_key[key] = self.adjust(config) if self.adjust else config
            self._by_folder[folder] = found
        return found

    def _nearest_table(self, folder: str) -> Path | None:
        if folder not in self._tables:
            candidate = os.path.join(folder, "pyproject.toml")
            if (
                self._has(folder, "pyproject.toml")
                and os.path.isfile(candidate)
                and _has_prodlint_table(Path(candidate))
            ):
                self._tables[folder] = Path(candidate)
            else:
                parent = os.path.dirname(folder)
                self._tables[folder] = self._nearest_table(parent) if parent != folder else None
        return self._tables[folder]

    def _nearest_root(self, folder: str) -> Path | None:
        if folder not in self._roots:
            if any(self._has(folder, marker) for marker in PROJECT_MARKERS):
                self._roots[folder] = Path(folder)
            else:
                parent = os.path.dirname(folder)
                self._roots[folder] = self._nearest_root(parent) if parent != folder else None
        return self._roots[folder]
