"""PRD5xx: logging done badly (print as logging, eager formatting, swallowed exceptions)."""
