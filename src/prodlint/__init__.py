"""prodlint: finds what Python backend teams fix right before production, and fixes it."""

from prodlint.model import Finding, FixSafety, Severity

__version__ = "0.1.0"

__all__ = ["Finding", "FixSafety", "Severity", "__version__"]
