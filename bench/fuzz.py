"""The long fuzz run (issue 13): tests/test_fuzz.py's properties with many more examples.

    python bench/fuzz.py                 # 20x the CI run: 800 mutated corpus files,
                                         # 400 + 160 generated programs
    python bench/fuzz.py --scale 100     # longer

The properties are those of the CI run: ``check`` never raises (a file that does not parse
is one PRD000 finding), ``fix --unsafe-fixes`` never fails, what it changes compiles, and a
second fix changes nothing. Hypothesis prints the failing program, shrunk, when one breaks
them. The run prints its example counts and time so the numbers can be quoted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Examples per property in the CI run (tests/test_fuzz.py), multiplied by --scale.
CI_EXAMPLES = {
    "mutated corpus files": 40,
    "grammar-generated programs": 20,
    "libcst-generated programs": 8,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=int, default=20, help="examples per property, as a multiple of CI's"
    )
    args = parser.parse_args(argv)
    env = {**os.environ, "PRODLINT_FUZZ_EXAMPLES": str(args.scale)}
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
            str(ROOT / "tests" / "test_fuzz.py"),
        ],
        cwd=ROOT,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    total = sum(CI_EXAMPLES.values()) * args.scale
    print(
        f"\nfuzz run: scale {args.scale}, up to {total} examples "
        f"({', '.join(f'{n * args.scale} {what}' for what, n in CI_EXAMPLES.items())}), "
        f"{seconds:.0f} s, {'all properties held' if done.returncode == 0 else 'FAILED'}"
    )
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
