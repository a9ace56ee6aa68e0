"""Thin front ends over the engine and the fixer: flake8, semgrep export, pre-commit, codemods.

None of them holds rule logic; each one adapts how a host tool hands over files and
settings, and calls ``Checker`` / ``fix_text``.
"""
