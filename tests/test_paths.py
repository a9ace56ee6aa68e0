"""Path globs match the path relative to the project root (``prodlint.paths``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodlint.config import Config
from prodlint.paths import path_matches, project_path


def test_relative_globs_match_the_path_below_the_root_at_any_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "tests" / "shop"
    (root / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(root / "src")
    assert project_path("app/views.py", str(root)) == "src/app/views.py"
    assert project_path(str(root / "src/app/views.py"), str(root)) == "src/app/views.py"
    assert path_matches("app/views.py", ("src/app/*",), str(root))
    assert path_matches("app/tests/x.py", ("tests/*",), str(root))
    # The folder the project sits in is no part of the path: not every file is a test.
    assert not path_matches("app/views.py", ("tests/*",), str(root))
    assert not path_matches(str(root / "src/app/views.py"), ("tests/*",), str(root))
    # Absolute globs match the absolute path.
    assert path_matches("app/views.py", (f"{root}/src/*",), str(root))
    assert not path_matches("app/views.py", (f"{root}/lib/*",), str(root))


def test_a_file_outside_the_root_keeps_its_absolute_path(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    elsewhere = tmp_path / "other" / "x.py"
    assert project_path(str(elsewhere), str(root)) == elsewhere.as_posix()
    assert path_matches(str(elsewhere), ("other/*",), str(root))


def test_a_file_outside_the_root_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--config`` kept beside the project: the folders above the working directory
    (``test_fix_sql0/``, pytest's own) must not make every file a test."""
    config_root = tmp_path / "config0"
    project = tmp_path / "test_fix_sql0" / "project"
    (project / "lib").mkdir(parents=True)
    config_root.mkdir()
    monkeypatch.chdir(project)
    assert project_path("lib/x.py", str(config_root)) == "lib/x.py"
    assert not path_matches("lib/x.py", ("test_*.py",), str(config_root))
    assert not path_matches(str(project / "lib/x.py"), ("test_*.py",), str(config_root))
    assert path_matches("lib/test_x.py", ("test_*.py",), str(config_root))
    assert path_matches("lib/x.py", (f"{project}/lib/*",), str(config_root))


def test_dot_folders_keep_their_names() -> None:
    """Only a leading ``./`` is dropped: ``.github/x.py`` is not ``github/x.py``."""
    assert project_path("./.github/scripts/x.py", None) == ".github/scripts/x.py"
    assert not path_matches(".github/x.py", ("github/*",))
    assert path_matches("./test_x.py", ("test_*.py",))


def test_per_file_ignores_follow_the_config_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").mkdir()
    config = Config(
        per_file_ignores=(("src/legacy.py", ("PRD501",)),), source=tmp_path / "pyproject.toml"
    )
    monkeypatch.chdir(tmp_path / "src")
    assert config.ignored_for("legacy.py") == ("PRD501",)
    assert config.ignored_for(str(tmp_path / "src" / "legacy.py")) == ("PRD501",)
    assert config.ignored_for("views.py") == ()
    # The same settings under another root make other findings: the cache must tell them.
    moved = Config(per_file_ignores=config.per_file_ignores, source=tmp_path / "src" / "x.toml")
    assert moved.fingerprint() != config.fingerprint()
