from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from pathlib import Path


def record(sizes: dict[str, int], path: Path) -> None:
    try:
        sizes[str(path)] = cast(int, os.path.getsize(path))
    except Exception:
        pass
