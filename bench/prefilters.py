"""Do the rules' pre-filters (``Rule.requires_text``, ``Rule.applies_to``) keep every finding?
Checks each file twice with every rule enabled (``--select ALL``), once with the filters and
once without, in this process, and lists any finding that differs; also prints the CPU time
of both passes.

    python bench/prefilters.py                      # Django 5.2.8, requests, Flask (sdists)
    python bench/prefilters.py DIR [DIR ...]        # any folders, e.g. the stdlib's Lib/

The project facts (ORM models...) are those ``prodlint check DIR`` would use. Exit status 1
when any finding differs. tests/test_prefilters.py runs the same comparison on the fixture
corpus and on pinned sdists.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDISTS = ("django==5.2.8", "requests==2.32.3", "flask==3.0.3")


@dataclass
class Comparison:
    files: int = 0
    findings: int = 0
    # (path, what): findings only one of the two passes made
    differences: list[tuple[str, str]] = field(default_factory=list)
    seconds_filtered: float = 0.0
    seconds_unfiltered: float = 0.0


def compare(folder: Path) -> Comparison:
    """Every ``.py`` file under ``folder``, with and without the pre-filters."""
    from prodlint.config import Configs
    from prodlint.discovery import discover
    from prodlint.engine import Checker
    from prodlint.runner import project_facts

    # Not only what git shows: the stdlib of a pyenv install sits in an ignored folder.
    configs = Configs(
        None, lambda config: config.override(select=("ALL",), respect_gitignore=False)
    )
    project = project_facts(folder, configs, use_cache=False)
    files = discover([folder], configs)
    result = Comparison(files=len(files))
    checkers: dict[int, tuple[Checker, Checker]] = {}
    for file in files:
        config = configs.for_path(Path(file.path))
        pair = checkers.get(id(config))
        if pair is None:
            pair = checkers[id(config)] = (
                Checker(config, project=project),
                Checker(config, project=project, prefilters=False),
            )
        filtered, unfiltered = pair
        data = Path(file.path).read_bytes()
        start = time.process_time()
        with_filters = filtered.check_bytes(data, file.shown)
        result.seconds_filtered += time.process_time() - start
        start = time.process_time()
        without = unfiltered.check_bytes(data, file.shown)
        result.seconds_unfiltered += time.process_time() - start
        result.findings += len(without)
        if with_filters != without:
            for finding in without:
                if finding not in with_filters:
                    result.differences.append((file.shown, f"lost {finding}"))
            for finding in with_filters:
                if finding not in without:
                    result.differences.append((file.shown, f"extra {finding}"))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="*", type=Path)
    args = parser.parse_args(argv)
    folders: list[Path] = list(args.folders)
    if not folders:
        from sdists import fetch

        for requirement in SDISTS:
            top = fetch(requirement)
            name = requirement.split("==")[0]
            package = top / name if (top / name).is_dir() else top / "src" / name
            folders.append(package)
    failed = False
    for folder in folders:
        result = compare(folder)
        print(
            f"{folder}: {result.files} files, {result.findings} findings; differences: "
            f"{len(result.differences)}; CPU {result.seconds_filtered:.2f} s with the "
            f"pre-filters, {result.seconds_unfiltered:.2f} s without"
        )
        for path, what in result.differences[:50]:
            print(f"  {path}: {what}")
        failed = failed or bool(result.differences)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
