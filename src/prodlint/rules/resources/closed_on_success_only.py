"""PRD302: a resource closed only when nothing raises in between."""

from __future__ import annotations

from prodlint.model import FixSafety, Severity
from prodlint.rules.resources.common import CLOSED_ON_SUCCESS_ONLY, JudgedResourceRule


class ClosedOnlyOnSuccess(JudgedResourceRule):
    code = CLOSED_ON_SUCCESS_ONLY
    name = "ClosedOnlyOnSuccess"
    summary = "A resource closed on the happy path only: it leaks when an exception is raised"
    message = "`{resource}` is closed only if nothing raises first; it leaks on errors, {remedy}"
    what_it_does = """
Flags a socket, connection, session or file that is closed on every normal path out of
the function, but not when a statement between the acquisition and the `close()` raises:
the close is not in a `finally` (or a `with`) that covers those statements. Resources are
recognised and followed as in PRD301, with the same `extra-resources` option. Only
errors raised by statements that work with the resource count, cleanup code in a
`finally` is taken not to fail, and test files are left alone (an exception there fails
the test anyway).
"""
    why_bad = """
The error path is the one that runs when things already go wrong: a timeout, a refused
query, a bad payload. Each failure then also leaks a descriptor or a pooled connection,
so an incident that starts as a burst of errors ends as "too many open files" or an
exhausted connection pool.
"""
    example = """
def read_config(path):
    handle = open(path)
    text = handle.read()
    handle.close()
    return text
"""
    use_instead = """
def read_config(path):
    with open(path) as handle:
        text = handle.read()
    return text
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix wraps the acquisition and the statements up to the explicit close in `with R(...)
as x:` (`contextlib.closing(...)` where the resource's own `with` does something else, as
for sqlite3 and psycopg2 connections; `async with` for asynchronous clients) and removes
the close. Where the `with` would close it another way (`quit()` for the code's
`close()`) or there is no `with` (a POP3 session), the statements go in `try:` and the
code's own close in `finally:`. It is safe when that close was the last statement using
the resource and the only close: on the normal path the resource is closed at the same
point, the same way, as before. Otherwise it is unsafe: another close on a branch, or a
`quit()`/`logout()` moved to a `finally`, which talks to a peer that may be gone and can
raise over the error being handled. There is no fix when the resource is used after the
close.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
