#!/usr/bin/env python
"""A script that fixes its own import path first."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import requests  # noqa: E402 (needs the path above)

__all__ = ["main"]


def main() -> None:
    try:
        requests.get(sys.argv[1], timeout=5)
    except Exception:
        pass


if __name__ == "__main__":
    main()
