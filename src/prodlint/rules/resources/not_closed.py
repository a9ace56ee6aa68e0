"""PRD301: a socket, connection, session, process or file that some path never closes."""

from __future__ import annotations

from collections.abc import Mapping

from prodlint.model import FixSafety, Severity
from prodlint.rules.resources.common import NOT_CLOSED, JudgedResourceRule, Verdict

STATES = {"never": "never closed", "some": "not closed on every path"}


class ResourceNotClosed(JudgedResourceRule):
    code = NOT_CLOSED
    name = "ResourceNotClosed"
    summary = "A socket, connection, session or file that some path never closes"
    message = "`{resource}` is {state}; {remedy} so every path closes it"
    what_it_does = """
Flags a socket, database connection, HTTP client or session, FTP/SMTP connection,
subprocess, temporary file or file acquired in a function and not closed on some path
that leaves the function normally: never closed at all, closed on one branch but not
after an early `return`, or reopened before the previous one was closed. It follows the
value: handing it on (returning or yielding it, storing it on `self` or in a container,
entering it in a `with` or an `ExitStack`, passing it to a call that may keep it) is not a
leak, while passing it to a call that only reads through it (`json.load(f)`,
`print(..., file=f)`) still is, and returning something that needs it open (a cursor,
`csv.reader(f)`) hands it on. A resource used without ever being named
(`open(path).read()`, `json.load(open(path))`, `urlopen(url).status`) and `open(path)` as
a statement are flagged too: CPython closes such a file when the statement is done with
it, but reports `ResourceWarning: unclosed file`, and PyPy closes it whenever its
collector runs. A subprocess counts only when started with pipes (without them, not waiting
is how a background process is started), and an HTTP response read to the end has
released its connection.

Module-level clients and connections are meant to live as long as the process and are
not flagged; neither are resources created in `__init__`/`__enter__` of a class that
closes them, nor `open()` in test files. More resource factories can be named in the
`extra-resources` option.
"""
    why_bad = """
Each leaked socket or connection holds a file descriptor, a server-side connection slot
and buffers until the garbage collector happens to run: under load a service runs out of
descriptors or database connections, and a reopened file may not have its data written
yet. CPython reports these as `ResourceWarning: unclosed ...`.
"""
    example = """
import socket


def fetch_banner(host, port):
    sock = socket.create_connection((host, port))
    sock.sendall(b"HELLO\\n")
    return sock.recv(1024)
"""
    use_instead = """
import socket


def fetch_banner(host, port):
    with socket.create_connection((host, port)) as sock:
        sock.sendall(b"HELLO\\n")
        return sock.recv(1024)
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix wraps the acquisition and the statements after it, up to the last one that uses
the resource, in `with R(...) as x:` (`contextlib.closing(...)` for connections whose
`with` does not close them, `async with` for asynchronous clients), and removes a
trailing `x.close()`; a statement using an unnamed resource goes in
`with open(path) as f:` with the call replaced by the new name (not when the call runs
conditionally, per element of a comprehension, or after other calls of the statement).
Where no `with` does what the code's own close does (a POP3 session, a redis pool, an
`ftp.close()` where the `with` would `quit()`), the statements go in `try:` after the
acquisition and the close in `finally:`. It is unsafe: the resource is now closed when
the block ends (and on the paths that used to leak) instead of whenever it was garbage
collected, which the other end can notice. There is no fix when the resource is used
outside that block, for `subprocess.Popen` (its `with` waits for the process), or for a
statement sharing a line.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.UNSAFE

    def message_fields(self, verdict: Verdict) -> Mapping[str, str]:
        return {**super().message_fields(verdict), "state": STATES[verdict.state]}
