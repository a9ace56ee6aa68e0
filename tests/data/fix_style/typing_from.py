from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from pathlib import Path


def size(path: Path) -> int:
    try:
        return cast(int, os.path.getsize(path))
    except Exception:
        pass
    return 0
