"""PRD5xx findings on real, mature code, downloaded fresh (nothing third-party is committed).

For each package: the number of findings per rule and fix tier, and (with ``--list``) every
finding with its source line, for a reviewer to judge. Recall on pylint's labelled
functional tests is measured by tests/test_logging_pylint.py.

    python bench/logging_precision.py [--cache DIR] [--list PRD501] [--only mkdocs]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from sdists import fetch

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding
from prodlint.registry import all_rules

# (pip requirement, package folder inside the sdist)
PACKAGES = (
    ("django==5.2.8", "django"),
    ("mkdocs==1.6.0", "mkdocs"),
    ("celery==5.3.6", "celery"),
    ("kombu==5.3.4", "kombu"),
)


def check_tree(root: Path, folder: str) -> tuple[list[Finding], float]:
    checker = Checker(
        Config(), rules=[rule for code, rule in all_rules().items() if code.startswith("PRD5")]
    )
    findings: list[Finding] = []
    start = time.perf_counter()
    for path in sorted((root / folder).rglob("*.py")):
        findings.extend(checker.check_bytes(path.read_bytes(), path.relative_to(root).as_posix()))
    return findings, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", type=Path, help="where sdists go (default: the shared sdist cache)"
    )
    parser.add_argument(
        "--list", action="append", default=[], metavar="CODE", help="print these findings"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="only these packages"
    )
    args = parser.parse_args(argv)
    for requirement, folder in PACKAGES:
        if args.only and requirement.partition("==")[0] not in args.only:
            continue
        root = fetch(requirement, args.cache)
        findings, seconds = check_tree(root, folder)
        counts = collections.Counter((f.code, f.fix.value) for f in findings)
        summary = ", ".join(f"{code} {fix}: {n}" for (code, fix), n in sorted(counts.items()))
        sys.stdout.write(
            f"{requirement} {folder}/: {len(findings)} findings ({summary}) in {seconds:.2f} s\n"
        )
        for finding in findings:
            if any(finding.code.startswith(code) for code in args.list):
                line = (
                    (root / finding.path).read_text(encoding="utf-8").splitlines()[finding.line - 1]
                )
                sys.stdout.write(
                    f"  {finding.path}:{finding.line}: {finding.code} [{finding.fix.value}] "
                    f"{line.strip()[:110]}\n"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
