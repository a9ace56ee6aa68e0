"""What fixes share: the per-file fix context and the module-level edits fixes ask for.

Everything here imports libcst, and only ``prodlint fix`` imports it, only for files that
have something to fix.
"""
