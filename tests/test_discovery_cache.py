"""Folder listings kept between runs (``prodlint.discovery.Listings``): a folder is listed
again whenever its mtime moved, and a folder changed within the last seconds is not kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prodlint.config import Configs
from prodlint.discovery import LISTINGS_FILE, discover


def listed(root: Path) -> list[str]:
    configs = Configs(
        None, lambda c: c.override(cache_dir=str(root / "cache")), cache_listings=True
    )
    return [Path(f.key).relative_to(root).as_posix() for f in discover([root / "src"], configs)]


def age(*paths: Path, seconds: int = 100) -> None:
    when = time.time() - seconds
    for path in paths:
        os.utime(path, (when, when))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "views.py").write_text("")
    age(tmp_path / "src", tmp_path / "src" / "app")
    return tmp_path


def test_a_changed_folder_is_listed_again(tree: Path) -> None:
    assert listed(tree) == ["src/app/views.py"]
    assert (tree / "cache" / LISTINGS_FILE).exists()
    # The kept listing answers while the folder's mtime is the same (here forced back).
    stamp = (tree / "src" / "app").stat().st_mtime_ns
    (tree / "src" / "app" / "forms.py").write_text("")
    os.utime(tree / "src" / "app", ns=(stamp, stamp))
    assert listed(tree) == ["src/app/views.py"]
    (tree / "src" / "app" / "forms.py").unlink()
    age(tree / "src" / "app", seconds=50)
    assert listed(tree) == ["src/app/views.py"]
    (tree / "src" / "app" / "models.py").write_text("")
    (tree / "src" / "app" / "views.py").rename(tree / "src" / "app" / "pages.py")
    assert listed(tree) == ["src/app/models.py", "src/app/pages.py"]
    (tree / "src" / "app" / "pages.py").unlink()
    assert listed(tree) == ["src/app/models.py"]


def test_a_folder_changed_just_now_is_not_kept(tree: Path) -> None:
    """Its mtime may not move again for a change made in the same tick."""
    (tree / "src" / "app" / "models.py").write_text("")  # the folder's mtime is now
    assert listed(tree) == ["src/app/models.py", "src/app/views.py"]
    listing = (tree / "cache" / LISTINGS_FILE).read_bytes()
    assert str(tree / "src" / "app").encode() not in listing
    assert str(tree / "src").encode() in listing
    # A new file in the same tick: the folder's mtime may be the same, it is listed anyway.
    stamp = (tree / "src" / "app").stat().st_mtime_ns
    (tree / "src" / "app" / "forms.py").write_text("")
    os.utime(tree / "src" / "app", ns=(stamp, stamp))
    assert listed(tree) == ["src/app/forms.py", "src/app/models.py", "src/app/views.py"]
