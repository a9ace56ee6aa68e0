"""prodlint: finds what Python backend teams fix right before production, and fixes it."""

from __future__ import annotations

# Imported on first use (PEP 562): a warm run answered from its record (``prodlint.runmemo``)
# must not pay for ``dataclasses`` and ``enum``. The name is what mypy reads as such.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from prodlint.model import Finding, FixSafety, Severity

__version__ = "0.1.0"

__all__ = ["Finding", "FixSafety", "Severity", "__version__"]


def __getattr__(name: str) -> object:
    if name in ("Finding", "FixSafety", "Severity"):
        from prodlint import model

        return getattr(model, name)
    raise AttributeError(f"module 'prodlint' has no attribute {name!r}")
