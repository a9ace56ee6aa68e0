"""``prodlint``: check, fix, and explain rules.

Exit 0 clean, 1 findings, 2 usage or config error.

This entry point stays light: a ``check`` whose inputs are unchanged since the same command
last ran is answered from that run's record (``prodlint.runmemo``) before anything else is
imported; every other run goes on to ``prodlint.commands``.
"""

from __future__ import annotations

import sys

from prodlint import runmemo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    replayed = runmemo.replay(arguments)
    if replayed is not None:
        return replayed
    from prodlint.commands import main as run

    return run(arguments)
