"""Settings read once at import."""

DEFAULT = 3
try:
    VALUE = int("3")
except Exception:
    pass
