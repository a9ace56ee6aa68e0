"""Measure the PRD2xx (N+1) rules on real code.

1. django-zeal 2.3.0's ``tests/test_nplusones.py``: every loop inside
   ``with pytest.raises(NPlusOneError)`` is a labelled N+1 (recall: the share with a PRD2xx
   finding inside the loop); every other loop whose query uses ``select_related`` /
   ``prefetch_related`` is a labelled clean case (false alarms: those with a finding).
   zeal's test models (``djangoproject.social``) are not in the sdist, so the default rules
   see no model facts there; the opt-in heuristic PRD203 is reported separately.
2. Django 5.2.8's ``django/contrib``, checked with the model index of the whole ``django``
   package: every PRD2xx finding, listed for review.

The sdists are downloaded to a temporary folder with pip (nothing is committed):

    python bench/nplusone_precision.py            # download
    python bench/nplusone_precision.py --src DIR  # reuse unpacked sdists in DIR
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prodlint.analysis.models import build_model_index
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding
from prodlint.registry import all_rules

PACKAGES = {"django-zeal": "2.3.0", "django": "5.2.8"}


def fetch(target: Path) -> dict[str, Path]:
    """Download and unpack the sdists; return the unpacked folder of each."""
    specs = [f"{name}=={version}" for name, version in PACKAGES.items()]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "-d", str(target), *specs], check=True,
                   stdout=subprocess.DEVNULL)
    for archive in target.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    return locate(target)


def locate(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name, version in PACKAGES.items():
        for folder in (f"{name}-{version}", f"{name.replace('-', '_')}-{version}"):
            if (root / folder).is_dir():
                found[name] = root / folder
    missing = set(PACKAGES) - set(found)
    if missing:
        raise SystemExit(f"not found under {root}: {', '.join(sorted(missing))}")
    return found


@dataclass
class Case:
    test: str
    line: int
    end_line: int
    n_plus_one: bool

    def hit(self, findings: list[Finding]) -> list[Finding]:
        return [f for f in findings if self.line <= f.line <= self.end_line]


def _raises_nplusone(node: ast.With) -> bool:
    for item in node.items:
        call = item.context_expr
        if (isinstance(call, ast.Call) and ast.unparse(call.func) == "pytest.raises" and call.args
                and ast.unparse(call.args[0]) == "NPlusOneError"):
            return True
    return False


def zeal_cases(tree: ast.Module, text: str) -> Iterator[Case]:
    for test in ast.walk(tree):
        if not isinstance(test, ast.FunctionDef) or not test.name.startswith("test"):
            continue
        inside: set[int] = set()
        for node in ast.walk(test):
            if isinstance(node, ast.With) and _raises_nplusone(node):
                for loop in ast.walk(node):
                    if isinstance(loop, (ast.For, ast.AsyncFor)):
                        inside.add(id(loop))
                        yield Case(test.name, loop.lineno, loop.end_lineno or loop.lineno, True)
        for node in ast.walk(test):
            if isinstance(node, (ast.For, ast.AsyncFor)) and id(node) not in inside:
                header = ast.get_source_segment(text, node.iter) or ""
                if "select_related" in header or "prefetch_related" in header:
                    yield Case(test.name, node.lineno, node.end_lineno or node.lineno, False)


def measure_zeal(root: Path) -> None:
    path = root / "tests" / "test_nplusones.py"
    text = path.read_text(encoding="utf-8")
    cases = list(zeal_cases(ast.parse(text), text))
    rules = all_rules()
    for label, codes in (("default rules (PRD201, PRD202)", ("PRD201", "PRD202")),
                         ("with opt-in PRD203", ("PRD201", "PRD202", "PRD203"))):
        # zeal's cases live in its test module but stand for application code: nothing
        # counts as a test file here.
        checker = Checker(Config(test_paths=()), rules=[rules[c] for c in codes])
        findings = checker.check_text(text, "tests/test_nplusones.py")
        positives = [c for c in cases if c.n_plus_one]
        negatives = [c for c in cases if not c.n_plus_one]
        found = [c for c in positives if c.hit(findings)]
        alarms = [c for c in negatives if c.hit(findings)]
        print(f"zeal {label}: recall {len(found)}/{len(positives)} N+1 loops; "
              f"false alarms {len(alarms)}/{len(negatives)} prefetch/select loops")
        for case in positives:
            if case not in found:
                print(f"    missed  {case.test} (line {case.line})")
        for case in alarms:
            for finding in case.hit(findings):
                print(f"    alarm   {case.test} line {finding.line}: {finding.code} {finding.message}")


def measure_contrib(root: Path) -> None:
    package = root / "django"
    index = build_model_index(sorted(package.rglob("*.py")))
    rules = all_rules()
    for label, codes in (("default rules", ("PRD201", "PRD202")), ("PRD203 (opt-in)", ("PRD203",))):
        checker = Checker(Config(), rules=[rules[c] for c in codes], project=index)
        findings: list[Finding] = []
        for path in sorted((package / "contrib").rglob("*.py")):
            display = path.relative_to(root).as_posix()
            findings += checker.check_bytes(path.read_bytes(), display)
        print(f"django/contrib {label}: {len(findings)} findings "
              f"({len(index.models)} models indexed)")
        for finding in findings:
            print(f"    {finding.path}:{finding.line}:{finding.col} {finding.code} {finding.message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="a folder holding the unpacked sdists (skips download)")
    args = parser.parse_args()
    if args.src:
        roots = locate(args.src)
        measure_zeal(roots["django-zeal"])
        measure_contrib(roots["django"])
        return
    with tempfile.TemporaryDirectory(prefix="prodlint-nplusone-") as temp:
        roots = fetch(Path(temp))
        measure_zeal(roots["django-zeal"])
        measure_contrib(roots["django"])


if __name__ == "__main__":
    main()
