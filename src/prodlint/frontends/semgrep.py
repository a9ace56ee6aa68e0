"""The semgrep rule pack, as shipped inside the package.

The YAML lives once, in the repository's ``rules/``; ``prodlint/semgrep_rules`` is a
symlink to it, so the wheel (and an editable install) carries exactly those files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE_DIR = "semgrep_rules"


def pack() -> dict[str, str]:
    """File name to YAML text, one file per rule family."""
    folder = resources.files("prodlint").joinpath(PACKAGE_DIR)
    if not folder.is_dir():
        raise FileNotFoundError(f"this prodlint install has no {PACKAGE_DIR}/ (a broken build?)")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(".yaml")
    }


def write_pack(output: Path) -> list[Path]:
    """Write the pack into ``output`` (created if needed); returns the files written."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pack().items():
        target = output / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
