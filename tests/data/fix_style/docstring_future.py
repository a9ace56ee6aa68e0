"""A module with a docstring, a future import and all three sections."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests

from . import settings


def load(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except Exception:
        pass
    return requests.get(settings.URL, timeout=sys.maxsize).json()
