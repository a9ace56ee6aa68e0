"""Detection never pays for libcst: only ``prodlint fix`` on a file with fixes loads it."""

from __future__ import annotations

import subprocess
import sys

from corpus import ROOT

PROBE = """
import sys
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import all_rules
checker = Checker(Config(), rules=list(all_rules().values()))
for path in sys.argv[1:]:
    checker.check_text(open(path, encoding="utf-8").read(), path)
print("libcst" in sys.modules)
"""


def test_checking_the_whole_corpus_does_not_import_libcst() -> None:
    fixtures = [str(p) for p in sorted((ROOT / "fixtures").rglob("*.py"))]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *fixtures], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
