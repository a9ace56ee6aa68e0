"""What the resource rules share: which calls acquire something that must be closed, where
the acquired value goes, whether a close runs on every path, and how a ``with`` fix would
wrap the statements that use it.

Policy, in one place:

- Only acquisitions inside functions are judged. A module-level client, connection or file
  is taken to live as long as the process (a shared ``requests.Session``, a module's
  database handle); closing it is the job of process shutdown, not of a block.
- Ownership handed on ends the rule's interest: the value returned, yielded (a
  ``@contextmanager``), stored on an attribute or in a container, aliased, captured by a
  nested function, entered in a ``with``/``ExitStack``, or passed to a call that may keep
  it. Calls that only read or write through it (``json.load(f)``, ``print(..., file=f)``,
  ``csv.reader(f)``) do not take ownership: the resource is still leaked.
- ``open()`` and temporary files in test files are left alone (fixtures and throwaway
  reads); sockets and connections in tests are still judged, but only on normal paths: an
  exception in a test fails it, and what it leaks then does not matter.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Literal

from prodlint.analysis.context import Context
from prodlint.analysis.flow import FunctionFlow, Use, flow_of, value_role
from prodlint.analysis.imports import dotted_name, last_name
from prodlint.model import FixPayload, FixSafety
from prodlint.registry import Option, Rule

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

Wrap = Literal["with", "closing", "none"]


@dataclass(frozen=True)
class Resource:
    """How one kind of resource is released.

    ``wrap`` is how the fix manages it: ``with`` when its ``__exit__`` amounts to
    ``exit_closer`` (a file, a socket), ``closing`` when its ``with`` does something else or
    nothing (a sqlite connection commits, an ``HTTPConnection`` has no ``with``), ``none``
    when no block form keeps behaviour (``Popen.__exit__`` waits for the process)."""

    closers: frozenset[str]
    wrap: Wrap = "with"
    exit_closer: str = "close"
    is_async: bool = False
    file_like: bool = False
    # A process is only a leak with pipes to close: without them, not waiting for it is
    # how a background process (a browser, a daemon) is started.
    needs_pipes: bool = False
    # Methods whose result carries the resource on (a socket's ``makefile()``, an archive
    # member's ``open()``): called on a temporary, the result is what must be closed.
    handovers: frozenset[str] = frozenset()
    # The name a fix gives the resource when the code never named it (``open(p).read()``).
    alias: str = "resource"
    # What a ``try``/``finally`` fix calls where no block form fits (``wrap`` is ``none``)
    # and the code has no close of its own to move there; empty: no such fix.
    release: str = ""


def _r(
    *closers: str,
    wrap: Wrap = "with",
    exit_closer: str = "close",
    is_async: bool = False,
    file_like: bool = False,
    needs_pipes: bool = False,
    handovers: tuple[str, ...] = (),
    alias: str = "resource",
    release: str = "",
) -> Resource:
    return Resource(
        frozenset(closers),
        wrap,
        exit_closer,
        is_async,
        file_like,
        needs_pipes,
        frozenset(handovers),
        alias,
        release,
    )


FILE = _r("close", file_like=True, alias="f")
URL = _r("close", *("read", "readall"), alias="response")
# Closers that only release the resource when called with no argument (read to the end).
READS_TO_END = frozenset({"read", "readall"})
SOCKET = _r("close", "detach", "shutdown", handovers=("makefile",), alias="sock")
ZIP = _r("close", file_like=True, handovers=("open",), alias="archive")
DB = _r("close", wrap="closing", alias="conn")
FTP = _r("close", "quit", exit_closer="quit", alias="ftp")
# ``SMTP.__exit__`` raises when the server answers QUIT with anything but 221, which
# ``quit()`` does not: no explicit close is quite what the ``with`` does.
SMTP = _r("close", "quit", exit_closer="", alias="smtp", release="close")

RESOURCES: Mapping[str, Resource] = {
    "open": FILE,
    "io.open": FILE,
    "builtins.open": FILE,
    "codecs.open": FILE,
    "os.fdopen": FILE,
    "gzip.open": FILE,
    "gzip.GzipFile": FILE,
    "bz2.open": FILE,
    "bz2.BZ2File": FILE,
    "lzma.open": FILE,
    "lzma.LZMAFile": FILE,
    "tempfile.TemporaryFile": FILE,
    "tempfile.NamedTemporaryFile": FILE,
    "tempfile.SpooledTemporaryFile": FILE,
    "tempfile.TemporaryDirectory": _r("cleanup", exit_closer="cleanup", file_like=True),
    "zipfile.ZipFile": ZIP,
    "zipfile.PyZipFile": ZIP,
    "tarfile.open": FILE,
    "tarfile.TarFile": FILE,
    "tarfile.TarFile.open": FILE,
    "tarfile.TarFile.taropen": FILE,
    "io.open_code": FILE,
    "tokenize.open": FILE,
    "wave.open": FILE,
    "shelve.open": FILE,
    "dbm.open": FILE,
    "dbm.gnu.open": FILE,
    "dbm.ndbm.open": FILE,
    "dbm.dumb.open": FILE,
    "dbm.sqlite3.open": FILE,
    "fileinput.input": FILE,
    "fileinput.FileInput": FILE,
    "socket.socket": SOCKET,
    "socket.create_connection": SOCKET,
    "socket.fromfd": SOCKET,
    "ssl.wrap_socket": SOCKET,
    "ssl.SSLContext.wrap_socket": SOCKET,
    "sqlite3.connect": DB,
    "sqlite3.dbapi2.connect": DB,
    "psycopg2.connect": DB,
    "psycopg.connect": DB,
    "pymysql.connect": DB,
    "MySQLdb.connect": DB,
    "redis.Redis": _r("close"),
    "redis.StrictRedis": _r("close"),
    "redis.from_url": _r("close"),
    "redis.Redis.from_url": _r("close"),
    "redis.ConnectionPool": _r("disconnect", wrap="none", release="disconnect"),
    "redis.BlockingConnectionPool": _r("disconnect", wrap="none", release="disconnect"),
    "redis.asyncio.Redis": _r("aclose", "close", exit_closer="aclose", is_async=True),
    "redis.asyncio.from_url": _r("aclose", "close", exit_closer="aclose", is_async=True),
    # An HTTP response releases its connection once the body is read to the end.
    "urllib.request.urlopen": URL,
    "urllib2.urlopen": URL,
    "http.client.HTTPConnection": _r("close", wrap="closing"),
    "http.client.HTTPSConnection": _r("close", wrap="closing"),
    "ftplib.FTP": FTP,
    "ftplib.FTP_TLS": FTP,
    "smtplib.SMTP": SMTP,
    "smtplib.SMTP_SSL": SMTP,
    "smtplib.LMTP": SMTP,
    "poplib.POP3": _r("quit", "close", wrap="none", release="close"),
    "poplib.POP3_SSL": _r("quit", "close", wrap="none", release="close"),
    "imaplib.IMAP4": _r("logout", "shutdown", exit_closer="logout"),
    "imaplib.IMAP4_SSL": _r("logout", "shutdown", exit_closer="logout"),
    "requests.Session": _r("close"),
    "requests.session": _r("close"),
    "requests.sessions.Session": _r("close"),
    "httpx.Client": _r("close"),
    "httpx.AsyncClient": _r("aclose", exit_closer="aclose", is_async=True),
    "aiohttp.ClientSession": _r("close", is_async=True),
    "websocket.create_connection": _r("close", "shutdown", wrap="closing"),
    "websockets.connect": _r("close", is_async=True),
    "websockets.client.connect": _r("close", is_async=True),
    "subprocess.Popen": _r("wait", "communicate", wrap="none", needs_pipes=True),
}
# Clients that open their connection in the constructor only when given a host; made
# without one (``ftplib.FTP(timeout=5)``), nothing is open until ``connect()``.
CONNECT_ON_HOST = frozenset(
    {"ftplib.FTP", "ftplib.FTP_TLS", "smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP"}
)
# Clients whose ``connect()`` closes what it opened when it fails (SMTP's reading of the
# greeting closes the socket on any error), so a failed connect leaks nothing.
CLOSES_ON_FAILED_CONNECT = frozenset({"smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP"})
# Clients that connect on their first request, not when made: until one of these methods
# is called there is nothing to close (a test reading ``conn.host`` back).
_HTTP_OPENING = frozenset({"request", "connect", "putrequest", "endheaders", "send"})
CONNECTS_ON_USE: Mapping[str, frozenset[str]] = {
    "http.client.HTTPConnection": _HTTP_OPENING,
    "http.client.HTTPSConnection": _HTTP_OPENING,
}
# Any ``<ssl context>.wrap_socket(sock)``: the context is rarely resolvable by name.
METHOD_RESOURCES: Mapping[str, Resource] = {"wrap_socket": SOCKET}
# ``Path(p).open()``: a path made on the spot and opened (a path held in a variable could be
# anything with an ``open`` method).
PATH_NAMES = frozenset({"Path", "PurePath", "PosixPath", "WindowsPath"})
PATH_CLASSES = frozenset(f"pathlib.{name}" for name in PATH_NAMES)

# Calls that read or write through a resource without keeping it (so it still needs
# closing), and whose result does not need it open.
BORROWING_CALLS = frozenset(
    {
        "print",
        "len",
        "str",
        "repr",
        "bool",
        "isinstance",
        "id",
        "hash",
        "list",
        "tuple",
        "next",
        "sorted",
        "hasattr",
        "getattr",
        "type",
        "vars",
        "dir",
        "json.load",
        "json.dump",
        "pickle.load",
        "pickle.dump",
        "marshal.load",
        "marshal.dump",
        "shutil.copyfileobj",
        "yaml.load",
        "yaml.safe_load",
        "yaml.dump",
        "yaml.safe_dump",
        "tomllib.load",
        "tomli.load",
        "plistlib.load",
        "plistlib.dump",
        "select.select",
        "os.fstat",
        "os.fsync",
        "fcntl.flock",
        "fcntl.fcntl",
        "fcntl.ioctl",
        "fcntl.lockf",
    }
)
# Calls that return a view over the resource: still a use (the resource stays to close),
# but their result needs it open.
# (``io.TextIOWrapper(f)`` is not one: closing the wrapper closes ``f``, so it takes it.)
WRAPPING_CALLS = frozenset(
    {"iter", "enumerate", "zip", "csv.reader", "csv.writer", "csv.DictReader", "csv.DictWriter"}
)
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
# Uses that hand the value (or its closer) to something else, which then owns it.
HANDED_ON = frozenset(
    {"returned", "yielded", "stored", "aliased", "contained", "captured", "deleted"}
)
# Methods whose call takes over the object's lifetime by hand.
MANUAL_LIFETIME = frozenset({"__enter__", "__aenter__", "__exit__", "__aexit__"})
# Methods where creating a resource is the point: the object owns it.
OWNING_METHODS = frozenset(
    {"__init__", "__enter__", "__aenter__", "__new__", "setUp", "setUpClass", "asyncSetUp"}
)
CLASS_CLOSERS = frozenset(
    {"close", "__exit__", "__aexit__", "__del__", "aclose", "shutdown", "cleanup"}
)

RESOURCE_OPTION = Option(
    "extra-resources",
    tuple,
    (),
    "More calls that return something to close, by qualified name (`mylib.connect`); "
    "`name:method` names the closing method when it is not `close`. The fix closes them "
    "with `contextlib.closing` (`contextlib.aclosing` under `async with` for `aclose`).",
)
_HANDOVER_NAMES = frozenset(name for kind in RESOURCES.values() for name in kind.handovers)
_LAST_NAMES = (
    frozenset(name.rpartition(".")[2] for name in RESOURCES)
    | frozenset(METHOD_RESOURCES)
    | _HANDOVER_NAMES
)
_MODULE_HEADS = frozenset(name.partition(".")[0] for name in RESOURCES if "." in name)


def resource_of(
    call: ast.Call, ctx: Context, extra: tuple[str, ...]
) -> tuple[str, Resource] | None:
    """(qualified name, kind) when ``call`` acquires a resource."""
    if not _candidate(call.func, ctx, extra):
        return None
    qualified = ctx.qualified_name(call.func)
    if qualified == "open" and "open" in ctx.module_scope.bindings:
        return None  # a module's own ``open``
    if qualified is not None and not _bound_locally(qualified.partition(".")[0], ctx):
        for entry in extra:
            name, _, closer = entry.partition(":")
            if qualified == name:
                return qualified, extra_resource(closer or "close")
        found = RESOURCES.get(qualified)
        if found is not None:
            return qualified, found
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "open":
        path = _made_path(func.value, ctx)
        if path is not None and ctx.qualified_name(path.func) in PATH_CLASSES:
            return "pathlib.Path.open", FILE
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _HANDOVER_NAMES
        and isinstance(func.value, ast.Call)
    ):
        # A member an archive made on the spot hands on (``ZipFile(p).open(name)``) is a
        # file to close, and closing it lets the archive go. (A socket's ``makefile()``
        # is not: the socket itself still needs its own close.)
        inner = resource_of(func.value, ctx, extra)
        if inner is not None and inner[1].file_like and func.attr in inner[1].handovers:
            return f"{inner[0]}(...).{func.attr}", FILE
    if isinstance(func, ast.Attribute) and func.attr in METHOD_RESOURCES:
        receiver = ast.unparse(func.value)
        shown = f"{receiver}.{func.attr}" if len(receiver) < 30 else func.attr
        return shown, METHOD_RESOURCES[func.attr]
    return None


def extra_resource(closer: str) -> Resource:
    """A factory named in the option: nothing says it is a context manager, so the fix
    calls the named closer through ``contextlib.closing`` (``aclosing`` and ``async with``
    for ``aclose``); any other closer has no block form."""
    if closer == "aclose":
        return _r("aclose", wrap="closing", exit_closer="aclose", is_async=True)
    return _r(closer, wrap="closing" if closer == "close" else "none", release=closer)


def _made_path(receiver: ast.expr, ctx: Context) -> ast.Call | None:
    """The call that made the object ``.open()`` is called on: the receiver itself, or the
    one value a name was given; None for anything else."""
    if isinstance(receiver, ast.Name):
        if receiver.id in ctx.module_scope.imports:
            return None
        value = ctx.value_of(receiver.id)
        return value if isinstance(value, ast.Call) else None
    return receiver if isinstance(receiver, ast.Call) else None


def _bound_locally(head: str, ctx: Context) -> bool:
    """Whether ``head`` names a parameter or local variable here rather than the module or
    builtin it spells (``def f(socket): socket.create_connection(...)``)."""
    for func in ctx.enclosing_functions():
        scope = ctx.scope_of(func)
        if head in scope.imports:
            return False
        if head in scope.bindings:
            return True
    return False


def _candidate(func: ast.expr, ctx: Context, extra: tuple[str, ...]) -> bool:
    """Whether the callee can name a resource factory, from its spelling and the module's
    imports alone (resolving names costs a scope index per function): ``x.connect`` is
    only a candidate when ``x`` is a resource module or imported, ``connect`` only when
    imported (``open`` is the builtin)."""
    if isinstance(func, ast.Attribute):
        last = func.attr
        if last not in _LAST_NAMES:
            return _named_elsewhere(func, last, ctx, extra)
        if last in METHOD_RESOURCES:
            return True
        if last == "open" and isinstance(func.value, (ast.Call, ast.Name)):
            # ``Path(p).open()``, ``pathlib.Path(p).open()``, an alias (``P(p).open()``), or
            # a name given such a path once (``path = Path(p)``).
            path = _made_path(func.value, ctx)
            maker = path.func if path is not None else None
            if maker is not None and (
                last_name(maker) in PATH_NAMES
                or (
                    isinstance(maker, ast.Name)
                    and (maker.id in ctx.module_scope.imports or maker.id in _local_imports(ctx))
                )
            ):
                return True
        if last in _HANDOVER_NAMES and isinstance(func.value, ast.Call):
            return _candidate(func.value.func, ctx, extra)  # ``ZipFile(p).open(name)``
        head = func.value
        while isinstance(head, ast.Attribute):
            head = head.value
        return isinstance(head, ast.Name) and (
            head.id in _MODULE_HEADS
            or head.id in ctx.module_scope.imports
            or bool(extra)
            or head.id in _local_imports(ctx)
        )
    if isinstance(func, ast.Name):
        last = func.id
        if last == "open":
            return True
        if last in _LAST_NAMES:
            return last in ctx.module_scope.imports or bool(extra) or last in _local_imports(ctx)
        return _named_elsewhere(func, last, ctx, extra)
    return False


_INDENTED_IMPORT = re.compile(r"[ \t]+(?:from[ \t]+([\w.]+)[ \t]+)?import[ \t]+([\w., \t]+)")


def _local_imports(ctx: Context) -> Mapping[str, str]:
    """Names bound by imports inside functions (``import socket as s`` in a function that
    opens one), local name -> qualified name. Read from the indented import lines of the
    text with a regular expression, once per file and only when a call could need it:
    indexing every function's scope to find them would cost a walk per function. (An
    import in parentheses over several lines is missed; relative imports do not matter
    here. The callee is then resolved through the function's own scope.)"""

    def collect() -> Mapping[str, str]:
        found: dict[str, str] = {}
        text = ctx.text
        # str.find over the few "import " in a file is far cheaper than a regular
        # expression tried at every line start.
        at = text.find("import ")
        while at != -1:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end == -1 else end
            match = _INDENTED_IMPORT.match(text, start, end)
            at = text.find("import ", end)
            if match is None:
                continue
            module, names = match.groups()
            for part in names.split(","):
                name, _, alias = part.strip().partition(" as ")
                name, alias = name.strip(), alias.strip()
                if not name:
                    continue
                if module is not None:
                    found[alias or name] = f"{module}.{name}"
                elif alias:
                    found[alias] = name
                else:
                    found[name.partition(".")[0]] = name.partition(".")[0]
        return found

    return ctx.memo("resources:local-imports", collect)


def _named_elsewhere(func: ast.expr, last: str, ctx: Context, extra: tuple[str, ...]) -> bool:
    """A factory the rule knows under another local name: one from the option, or a
    module-level import alias (``from tarfile import TarFile as TF``)."""
    if extra and any(entry.partition(":")[0].rpartition(".")[2] == last for entry in extra):
        return True
    if not isinstance(func, ast.Name):
        return False
    imported = ctx.module_scope.imports.get(last) or _local_imports(ctx).get(last)
    return imported is not None and imported.rpartition(".")[2] in _LAST_NAMES


class ResourcePayload(FixPayload):
    """What a PRD301/302 fix is handed: one of the two plans below."""

    __slots__ = ()


@dataclass(frozen=True)
class WithPayload(ResourcePayload):
    """The run of statements a ``with`` fix wraps: indexes into the anchor block's body."""

    start: int
    end: int
    name: str
    # "with"; "closing" for a resource that is no context manager; "finally" for
    # ``try: ... finally: x.close()`` after the acquisition
    mode: str
    asynchronous: bool
    drop_last: bool  # the run ends with the ``x.close()`` the ``with`` replaces
    field: str = "body"  # which of the anchor's blocks: ``body``, ``orelse``, ``finalbody``
    release: str = ""  # for "finally" without a close to move: the method to call


@dataclass(frozen=True)
class TemporaryPayload(ResourcePayload):
    """A resource used without a name (``json.load(open(p))``): the statement at ``index``
    of the anchor block's body goes in ``with <call> as <name>:``, the call replaced by the
    name. ``call`` is the call's place among the statement's calls in source order (outer
    before inner), ``callee`` its spelling, to check it is the same call."""

    index: int
    call: int
    callee: str
    name: str
    mode: str
    field: str = "body"


@dataclass(frozen=True)
class Verdict:
    """What the rules learn about one acquisition. ``state`` is ``never`` (no close at all),
    ``some`` (a normal path misses the close), ``exception`` (only an exception path misses
    it); ``fix`` is the plan when a ``with`` can be written."""

    code: str
    state: Literal["never", "some", "exception"]
    resource: str
    fix: FixSafety = FixSafety.NONE
    payload: ResourcePayload | None = None
    anchor: tuple[ast.AST, str] | None = None
    remedy: str = "open it in a `with` block"


# For the kinds no ``with`` can manage (a POP3 session, a redis pool); a process keeps the
# ``with`` advice (its ``with`` waits for it, which is what the code should do by hand).
FINALLY_REMEDY = "close it in a `finally` block"
NOT_CLOSED = "PRD301"
CLOSED_ON_SUCCESS_ONLY = "PRD302"


def judge(call: ast.Call, ctx: Context, extra: tuple[str, ...]) -> Verdict | None:
    """The verdict on the resource ``call`` acquires (memoised: PRD301 and PRD302 ask the
    same question of the same call). The callee's name is checked first: most calls are
    no resource, and that must cost no more than a set lookup."""
    if not _candidate(call.func, ctx, extra):
        return None
    return ctx.memo(f"resources:{id(call)}", lambda: _judge(call, ctx, extra))


def _judge(call: ast.Call, ctx: Context, extra: tuple[str, ...]) -> Verdict | None:
    found = resource_of(call, ctx, extra)
    if found is None:
        return None
    verdict = _judge_resource(call, found, ctx)
    if verdict is not None and found[1].wrap == "none" and found[1].release:
        return replace(verdict, remedy=FINALLY_REMEDY)
    return verdict


def _judge_resource(call: ast.Call, found: tuple[str, Resource], ctx: Context) -> Verdict | None:
    qualified, kind = found
    if kind.file_like and (ctx.is_test_file or _borrowed_descriptor(call)):
        return None
    if kind.needs_pipes and not _has_pipes(call):
        return None
    func = ctx.enclosing_function()
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None  # module level: lives for the process (see the module docstring)
    if _owned_by_class(func, ctx):
        return None
    ancestors = ctx.ancestors
    depth = 1
    parent = ancestors[-1] if ancestors else None
    if isinstance(parent, ast.Await):
        depth = 2
        parent = ancestors[-2] if len(ancestors) >= 2 else None
    grand = ancestors[-depth - 1] if len(ancestors) > depth else None
    value = ancestors[-1] if depth == 2 else call
    shown = f"{qualified}()"
    kind_of_use, used_by, attr = value_role(value, parent, grand)  # type: ignore[arg-type]
    if ctx.is_test_file and kind_of_use != "aliased":
        # ``socket.socket(fileno=bad)`` under ``assertRaises``: a test calling a factory to see
        # it fail, or a throwaway; only bound resources are judged in tests.
        return None
    if kind_of_use == "method":
        if is_close(kind, attr, used_by) or attr in MANUAL_LIFETIME or attr in kind.handovers:
            return None
        # ``open(path).read()``: nothing is left to close it but the garbage collector.
        return _temporary(call, kind, shown, depth == 2, ctx)
    if kind_of_use == "attribute":
        if qualified in CONNECTS_ON_USE:
            return None  # ``HTTPConnection(host).port``: not connected yet
        return _temporary(call, kind, shown, depth == 2, ctx)  # ``urlopen(url).status``
    if kind_of_use == "argument":
        if used_by is not None and _borrows(used_by, ctx):
            return _temporary(call, kind, shown, depth == 2, ctx)  # ``json.load(open(p))``
        return None
    if isinstance(parent, ast.Expr) and not kind.needs_pipes:
        # ``open(path)`` as a statement: opened and dropped (a process started and not
        # waited for is how a background process starts, hence not for Popen).
        return Verdict(NOT_CLOSED, "never", shown)
    if kind_of_use != "aliased" or not isinstance(parent, ast.Assign):
        return None
    if len(parent.targets) != 1 or not isinstance(parent.targets[0], ast.Name):
        return None
    name = parent.targets[0].id
    opening = CONNECTS_ON_USE.get(qualified)
    if qualified in CONNECT_ON_HOST and not (
        call.args or any(keyword.arg in ("host", None) for keyword in call.keywords)
    ):
        opening = frozenset({"connect"})
    if opening is not None:
        flow = flow_of(ctx, func)
        if not any(use.kind == "method" and use.attr in opening for use in flow.uses(name)):
            return None  # never connected: nothing to close
    return _judge_binding(parent, name, func, kind, shown, depth == 2, ctx)


# Expressions a temporary can sit in and still be taken out of its statement: each
# evaluates its parts once, unconditionally (no ``and``/``or``, no ``x if c else y``, no
# comprehension running it per element, no lambda running it later).
_UNCONDITIONAL = (
    ast.Call,
    ast.keyword,
    ast.Attribute,
    ast.Subscript,
    ast.BinOp,
    ast.UnaryOp,
    ast.Tuple,
    ast.List,
    ast.JoinedStr,
    ast.FormattedValue,
)
# Statements whose temporary can be opened by a ``with`` just before them.
_TEMPORARY_STATEMENTS = (ast.Return, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)


def _temporary(call: ast.Call, kind: Resource, shown: str, awaited: bool, ctx: Context) -> Verdict:
    """A resource used once and dropped: flagged, with a ``with`` fix when the statement can
    be moved into ``with <call> as <name>:`` unchanged but for the call."""
    verdict = Verdict(NOT_CLOSED, "never", shown)
    if kind.wrap == "none" or kind.is_async or awaited:
        return verdict
    ancestors = ctx.ancestors
    position = len(ancestors) - 1
    while position >= 0 and isinstance(ancestors[position], _UNCONDITIONAL):
        position -= 1
    if position < 1:
        return verdict
    stmt, owner = ancestors[position], ancestors[position - 1]
    if not isinstance(stmt, _TEMPORARY_STATEMENTS) or not _simple_targets(stmt):
        return verdict
    anchor_type = ANCHOR_TYPES.get(type(owner))
    field, body, index = _place_in(owner, stmt)
    if anchor_type is None or index is None or not _alone_on_its_lines(stmt, body, index, ctx):
        return verdict
    calls = sorted(
        (node for node in ast.walk(stmt) if isinstance(node, ast.Call)),
        key=lambda node: (
            node.lineno,
            node.col_offset,
            -(node.end_lineno or 0),
            -(node.end_col_offset or 0),
        ),
    )
    place = next(i for i, node in enumerate(calls) if node is call)
    # Nothing with effects may run before the acquisition in the statement, or the with
    # would run it after the resource is acquired instead of before.
    before = {id(a) for a in ancestors[position:]}
    inside = {id(n) for n in ast.walk(call)}
    if any(id(node) not in before and id(node) not in inside for node in calls[:place]) or any(
        isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr))
        for node in ast.walk(stmt)
    ):
        return verdict
    func = ctx.enclosing_function()
    taken = _names_in_use(func, ctx) if func is not None else set()
    name = kind.alias
    number = 2
    while name in taken:
        name, number = f"{kind.alias}{number}", number + 1
    payload = TemporaryPayload(index, place, ast.unparse(call.func), name, kind.wrap, field)
    return Verdict(NOT_CLOSED, "never", shown, FixSafety.UNSAFE, payload, (owner, anchor_type))


# Closers that end the object's hold but not the resource (``sock.detach()`` hands the
# descriptor on): run in a ``finally`` on an error path, they would leak it for good.
KEEPS_OPEN = frozenset({"detach"})
# Closers that send a last command: run in a ``finally`` after a broken connection, they
# raise again and that error replaces the one being handled (a ``with`` of these clients
# knows to swallow it; a bare ``finally`` does not), so such a fix is unsafe.
TALKS_TO_PEER = frozenset({"quit", "logout"})
# The blocks a fix can rewrite in place (``orelse`` of an ``if`` only when it is an
# ``else:``, not an ``elif``, which is a block of its own).
FIXABLE_FIELDS = ("body", "orelse", "finalbody")


def _place_in(owner: ast.AST, stmt: ast.stmt) -> tuple[str, list[ast.stmt], int | None]:
    """Which of ``owner``'s blocks holds ``stmt``, and where."""
    for field in FIXABLE_FIELDS:
        body: list[ast.stmt] = getattr(owner, field, None) or []
        for index, statement in enumerate(body):
            if statement is stmt:
                return field, body, index
    return "body", [], None


def _simple_targets(stmt: ast.stmt) -> bool:
    """Assignment targets that evaluate nothing (a subscript target would run after the
    value, and so after the acquisition either way, but ``self.x`` may be a property)."""
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Name) for t in stmt.targets)
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return isinstance(stmt.target, ast.Name) and stmt.value is not None
    return True


def _alone_on_its_lines(stmt: ast.stmt, body: list[ast.stmt], index: int, ctx: Context) -> bool:
    """No ``a; b`` before or after it: the fix moves whole lines."""
    following = body[index + 1] if index + 1 < len(body) else None
    return _starts_line(stmt, ctx) and (following is None or following.lineno != stmt.end_lineno)


def _names_in_use(func: ast.AST, ctx: Context) -> set[str]:
    """Every name the function or the module mentions: a name the fix introduces must not
    shadow or be shadowed by any of them."""

    def collect() -> set[str]:
        found = set(ctx.module_scope.bindings) | set(ctx.module_scope.imports)
        for node in ast.walk(func):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.arg):
                found.add(node.arg)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                found.update(node.names)  # never mentioned as a Name if only declared
        return found

    return ctx.memo(f"resources:names:{id(func)}", collect)


def is_close(kind: Resource, attr: str | None, call: ast.Call | None) -> bool:
    if attr not in kind.closers:
        return False
    return attr not in READS_TO_END or (call is not None and not call.args and not call.keywords)


def _borrowed_descriptor(call: ast.Call) -> bool:
    """A file object over a descriptor this code does not own: ``os.fdopen(sys.stdin.
    fileno())``, ``open(sock.fileno(), closefd=False)``, ``open(1, "w")``. Closing it would
    close stdin (or the socket) for everyone else; with ``closefd=False`` it closes nothing
    and nothing leaks."""
    for keyword in call.keywords:
        if (
            keyword.arg == "closefd"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is False
        ):
            return True
    first = call.args[0] if call.args else None
    if first is None:
        first = next((k.value for k in call.keywords if k.arg in ("file", "fd")), None)
    if isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute):
        return first.func.attr == "fileno"  # another object's descriptor
    return (
        isinstance(first, ast.Constant)
        and type(first.value) is int
        and first.value in (0, 1, 2)  # the standard streams
    )


def _has_pipes(call: ast.Call) -> bool:
    return any(
        keyword.arg in ("stdin", "stdout", "stderr")
        and isinstance(keyword.value, (ast.Attribute, ast.Name))
        and last_name(keyword.value) == "PIPE"
        for keyword in call.keywords
    )


def _owned_by_class(func: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context) -> bool:
    if func.name not in OWNING_METHODS:
        return False
    owner = ctx.enclosing_class()
    if owner is None:
        return False
    return any(
        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in CLASS_CLOSERS
        for item in owner.body
    )


def _borrows(call: ast.Call, ctx: Context) -> bool:
    if isinstance(call.func, ast.Attribute):
        if call.func.attr in LOG_METHODS:
            return True
        if isinstance(call.func.value, ast.Constant):
            return True  # ``"...".format(f)``
    qualified = ctx.qualified_name(call.func)
    return qualified in BORROWING_CALLS or qualified in WRAPPING_CALLS


def _judge_binding(
    stmt: ast.Assign,
    name: str,
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    kind: Resource,
    shown: str,
    awaited: bool,
    ctx: Context,
) -> Verdict | None:
    flow = flow_of(ctx, func)
    if name in flow.declared:
        return None
    if any(use.kind == "captured" for use in flow.uses(name)):
        return None
    if any(_given_a_socket(use, name) for use in flow.uses(name)):
        return None  # ``conn.sock = FakeSocket()``: it opens nothing of its own
    reached = flow.uses_reached_from(stmt, name)
    closes: list[ast.stmt] = []
    for use in reached:
        if use.kind in HANDED_ON or use.kind == "with_item":
            return None
        if use.kind == "argument" and not (use.call is not None and _borrows(use.call, ctx)):
            return None
        if use.kind in ("attribute", "method") and use.attr in MANUAL_LIFETIME:
            return None
        if use.kind == "attribute" and use.attr in kind.closers:
            return None  # ``atexit.register(f.close)``: the closer is handed on
        if use.kind == "method" and is_close(kind, use.attr, use.call):
            closes.append(use.statement)
    # Returning something that needs it open (a cursor, ``csv.reader(f)``) hands it on too.
    dependent = _dependent_names(func.body, name) | {name}
    rebinds = {id(s) for s in flow.rebinding_reached_from(stmt, name)}
    later = flow.reachable_from(stmt, stop=lambda s: id(s) in rebinds)
    if any(
        id(s) in later
        and id(s) not in rebinds
        and not isinstance(s, COMPOUND)
        and _returns_dependent(s, dependent)
        for s in flow.nodes
        if s is not None
    ):
        return None
    through = _with_guards(closes, name, flow) + _impossible_branches(reached, name)
    touching = {
        id(use.statement)
        for use in flow.uses(name)
        # Testing it (``if not proc:``) cannot fail.
        if use.kind != "test"
        and not (
            shown.removesuffix("()") in CLOSES_ON_FAILED_CONNECT
            and use.kind == "method"
            and use.attr == "connect"
        )
    }
    ends = flow.rebinding_reached_from(stmt, name)
    if not _guarded_against_reopening(stmt, name, flow):
        ends.append(stmt)
    # Only errors raised by statements that work with the resource count: a leak when an
    # unrelated ``os.path.join`` fails is true but not worth a finding. Cleanup in a
    # ``finally`` is taken not to fail, unless it is the resource's own use there.
    in_cleanup = flow.node_of.get(id(stmt)) in flow.in_finally
    exits = flow.exits_avoiding(
        stmt, through, ends=ends, cleanup_raises=in_cleanup, raises=lambda s: id(s) in touching
    )
    if not exits:
        return None
    if "normal" in exits:
        code, state = NOT_CLOSED, ("some" if closes else "never")
    elif ctx.is_test_file:
        return None  # an exception in a test fails the test; the leak does not matter then
    else:
        code, state = CLOSED_ON_SUCCESS_ONLY, "exception"
    plan = _plan_fix(stmt, name, func, kind, awaited, code, closes, flow, ctx)
    if plan is None:
        return Verdict(code, state, shown)  # type: ignore[arg-type]
    safety, payload, anchor = plan
    return Verdict(code, state, shown, safety, payload, anchor)  # type: ignore[arg-type]


def _given_a_socket(use: Use, name: str) -> bool:
    """``name.sock = ...``: a client (``HTTPConnection``, ``FTP``, ``SMTP``) handed the
    socket it is to use connects nothing itself; whoever made that socket closes it."""
    statement = use.statement
    return (
        use.kind == "attribute"
        and use.attr == "sock"
        and isinstance(statement, ast.Assign)
        and any(
            isinstance(target, ast.Attribute)
            and target.attr == "sock"
            and _is_name(target.value, name)
            for target in statement.targets
        )
    )


def _with_guards(closes: list[ast.stmt], name: str, flow: FunctionFlow) -> list[ast.stmt]:
    """``if f: f.close()``, ``if f is not None: f.close()`` and ``if should_close:
    f.close()`` close on every path where there is something to close: the ``if`` counts as
    the close when its test is about the resource or is a plain flag, or its body only
    closes."""
    found = list(closes)
    for close in closes:
        current: ast.stmt = close
        while True:
            block = flow.block_of(current)
            if block is None or not isinstance(block.owner, ast.If) or block.field != "body":
                break
            test = block.owner.test
            if not (_mentions(test, name) or _is_flag(test)):
                break
            found.append(block.owner)
            current = block.owner
    return found


def _impossible_branches(reached: list[Use], name: str) -> list[ast.stmt]:
    """A resource just acquired is never None and always true: ``if not x: return`` does
    not run its body. Returns the first statement of each branch that cannot run."""
    found: list[ast.stmt] = []
    for use in reached:
        statement = use.statement
        if use.kind != "test" or not isinstance(statement, ast.If):
            continue
        test = statement.test
        negative = (
            isinstance(test, ast.UnaryOp)
            and isinstance(test.op, ast.Not)
            and _is_name(test.operand, name)
        ) or (
            isinstance(test, ast.Compare)
            and _is_name(test.left, name)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Is, ast.Eq))
            and _is_none(test.comparators[0])
        )
        positive = _is_name(test, name) or (
            isinstance(test, ast.Compare)
            and _is_name(test.left, name)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.IsNot, ast.NotEq))
            and _is_none(test.comparators[0])
        )
        if negative and statement.body:
            found.append(statement.body[0])
        elif positive and statement.orelse:
            found.append(statement.orelse[0])
    return found


def _is_name(expr: ast.expr, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _mentions(expr: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(expr))


def _is_flag(expr: ast.expr) -> bool:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        expr = expr.operand
    return isinstance(expr, (ast.Name, ast.Attribute))


def _guarded_against_reopening(stmt: ast.stmt, name: str, flow: FunctionFlow) -> bool:
    """``if x is None: x = open(...)`` in a loop: coming round again does not reopen."""
    block = flow.block_of(stmt)
    return (
        block is not None and isinstance(block.owner, ast.If) and _mentions(block.owner.test, name)
    )


COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)
ANCHOR_TYPES: Mapping[type[ast.AST], str] = {
    ast.FunctionDef: "FunctionDef",
    ast.AsyncFunctionDef: "FunctionDef",
    ast.For: "For",
    ast.AsyncFor: "For",
    ast.While: "While",
    ast.If: "If",
    ast.With: "With",
    ast.AsyncWith: "With",
    ast.Try: "Try",
    ast.ExceptHandler: "ExceptHandler",
}


def _plan_fix(
    stmt: ast.Assign,
    name: str,
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    kind: Resource,
    awaited: bool,
    code: str,
    closes: list[ast.stmt],
    flow: FunctionFlow,
    ctx: Context,
) -> tuple[FixSafety, WithPayload, tuple[ast.AST, str]] | None:
    """How a ``with`` block could replace the acquisition: it wraps the acquisition and
    every statement after it in the same block up to the last one that uses the name, so
    nothing that uses the resource runs after it is closed. Where no ``with`` does what the
    code's own close does (``ftp.close()`` where the ``with`` would ``quit()``, a redis
    pool's ``disconnect()``), the same statements go in ``try:`` with the close in
    ``finally:``."""
    if kind.wrap == "none" and not kind.release:
        return None
    is_async = kind.is_async or awaited
    if is_async and not isinstance(func, ast.AsyncFunctionDef):
        return None
    if is_async and kind.wrap == "closing" and kind.exit_closer != "aclose":
        return None  # awaited, but closed by a plain close(): no async form of closing
    block = flow.block_of(stmt)
    if block is None or block.field not in FIXABLE_FIELDS:
        return None
    anchor_type = ANCHOR_TYPES.get(type(block.owner))
    if anchor_type is None:
        return None
    if any(other is not stmt for other in flow.bindings.get(name, [])):
        return (
            None  # the name holds something else at some point: the with would close the wrong one
        )
    start = block.index
    last = start
    for use in flow.uses(name):
        index = flow.index_in(use.statement, block)
        if index is None or index < start:
            return None  # used outside the block, or before the acquisition
        last = max(last, index)
    statements = block.statements
    if last == start or not all(_starts_line(s, ctx) for s in statements[start : last + 2]):
        return None
    tail = statements[last]
    closer = _closer_called(tail, name)
    drop_last = closer is not None and closer in kind.closers and closer not in READS_TO_END
    if drop_last and last == start + 1:
        return None  # nothing left to put in the block
    # Values that still need the resource open (a cursor, a response, a socket's file)
    # must not outlive the block: it is stretched over their uses, and none is returned.
    dependent = _dependent_names(statements[start : last + 1], name)
    names = dependent | {name}
    if not drop_last:
        for other in sorted(dependent):
            for use in flow.uses(other):
                index = flow.index_in(use.statement, block)
                if index is None or index < start:
                    return None
                last = max(last, index)
    if any(_returns_dependent(s, names) for s in statements[start : last + 1]):
        return None
    expected = kind.exit_closer if kind.wrap == "with" or is_async else "close"
    mode: str = kind.wrap
    # (An empty ``exit_closer``: the ``with`` does what no close does, as SMTP's raises when
    # the server refuses QUIT.)
    if kind.wrap == "none" or not kind.exit_closer or (drop_last and closer != expected):
        if closer in KEEPS_OPEN:
            return None
        mode = "finally"  # the code's own close, moved to a finally, is the one that runs
        if not drop_last and not kind.release:
            return None
    other_closes = [c for c in closes if c is not tail]
    safe = (
        code == CLOSED_ON_SUCCESS_ONLY
        and drop_last
        and (closer == expected or (mode == "finally" and closer not in TALKS_TO_PEER))
        and not other_closes
    )
    payload = WithPayload(start, last, name, mode, is_async, drop_last, block.field, kind.release)
    return (FixSafety.SAFE if safe else FixSafety.UNSAFE), payload, (block.owner, anchor_type)


# Methods whose result no longer needs the resource (data, a count, None): the rest (a
# cursor, a response to read, a file over the socket, a file descriptor) do.
DATA_METHODS = frozenset(
    {
        "read",
        "read1",
        "readline",
        "readlines",
        "recv",
        "recvfrom",
        "recv_into",
        "send",
        "sendall",
        "sendto",
        "write",
        "writelines",
        "flush",
        "seek",
        "tell",
        "fetchone",
        "fetchall",
        "fetchmany",
        "getvalue",
        "getcode",
        "geturl",
        "getheader",
        "getheaders",
        "namelist",
        "getnames",
        "infolist",
        "getinfo",
        "communicate",
        "poll",
        "wait",
        "json",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "request",
        "options",
        "login",
        "sendmail",
        "send_message",
        "quit",
        "retrlines",
        "retrbinary",
        "storbinary",
        "nlst",
        "pwd",
        "size",
        "commit",
        "rollback",
        "getpeername",
        "getsockname",
    }
)
DATA_ATTRIBUTES = frozenset(
    {
        "name",
        "closed",
        "mode",
        "encoding",
        "status",
        "status_code",
        "text",
        "content",
        "returncode",
        "pid",
        "headers",
        "url",
        "reason",
    }
)


def _depends(expr: ast.AST, names: set[str]) -> bool:
    """Whether the value of ``expr`` can still need one of ``names`` open."""
    if isinstance(expr, ast.Name):
        return expr.id in names
    if isinstance(expr, ast.Call):
        func = expr.func
        arguments = [*expr.args, *(k.value for k in expr.keywords)]
        if isinstance(func, ast.Attribute) and func.attr in DATA_METHODS:
            # ``conn.execute(sql).fetchall()``: rows, whatever produced them.
            return any(_depends(a, names) for a in arguments)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in names
        ):
            return True
        if dotted_name(func) in BORROWING_CALLS:
            return any(
                _depends(a, names)
                for a in arguments
                if not (isinstance(a, ast.Name) and a.id in names)
            )
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id in names
        and expr.attr in DATA_ATTRIBUTES
    ):
        return False
    if isinstance(expr, (ast.ListComp, ast.SetComp, ast.DictComp)):
        # Built eagerly: the elements are what is kept, not what was iterated.
        kept: list[ast.expr] = (
            [expr.key, expr.value] if isinstance(expr, ast.DictComp) else [expr.elt]
        )
        return any(_depends(e, names) for e in kept)
    return any(_depends(child, names) for child in ast.iter_child_nodes(expr))


def _dependent_names(statements: list[ast.stmt], name: str) -> set[str]:
    """Names bound, in these statements, to something that needs ``name`` open."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for statement in statements:
            for node in ast.walk(statement):
                targets: list[ast.expr] = []
                value: ast.AST | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif (
                    isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr))
                    and node.value is not None
                ):
                    targets, value = [node.target], node.value
                elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                    targets, value = [node.optional_vars], node.context_expr
                if value is None or not _depends(value, found | {name}):
                    continue
                for target in targets:
                    for bound in ast.walk(target):
                        if (
                            isinstance(bound, ast.Name)
                            and bound.id != name
                            and bound.id not in found
                        ):
                            found.add(bound.id)
                            changed = True
    return found


def _returns_dependent(statement: ast.stmt, names: set[str]) -> bool:
    return any(
        isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom))
        and node.value is not None
        and _depends(node.value, names)
        for node in ast.walk(statement)
    )


def _starts_line(stmt: ast.stmt, ctx: Context) -> bool:
    """Nothing but indentation before the statement on its line: no ``a; b`` and no
    ``if x: stmt`` (a one-line block the fix could not indent)."""
    line = ctx.lines[stmt.lineno - 1].encode("utf-8")[: stmt.col_offset]
    return not line.strip()


def _closer_called(stmt: ast.stmt, name: str) -> str | None:
    """``name.m()`` or ``await name.m()`` as a whole statement: ``m``."""
    if not isinstance(stmt, ast.Expr):
        return None
    value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
    if (
        isinstance(value, ast.Call)
        and not value.args
        and not value.keywords
        and isinstance(value.func, ast.Attribute)
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id == name
    ):
        return value.func.attr
    return None


class JudgedResourceRule(Rule):
    """PRD301 and PRD302: one verdict per acquiring call (``judge``) says which of the two
    codes it is; each rule reports its own and fixes by wrapping the uses in ``with``."""

    options: ClassVar[tuple[Option, ...]] = (RESOURCE_OPTION,)
    fix_node_types = ("FunctionDef", "For", "While", "If", "With", "Try", "ExceptHandler")

    def message_fields(self, verdict: Verdict) -> Mapping[str, str]:
        return {"resource": verdict.resource, "remedy": verdict.remedy}

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        verdict = judge(node, ctx, self.settings[RESOURCE_OPTION.name])  # type: ignore[arg-type]
        if verdict is None or verdict.code != self.code:
            return
        self.report(
            ctx,
            node,
            fix=verdict.fix,
            payload=verdict.payload,
            anchor=verdict.anchor,
            **self.message_fields(verdict),
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        from prodlint.fixes.resources import wrap_in_with, wrap_temporary

        payload = finding.payload_as(ResourcePayload)
        if isinstance(payload, TemporaryPayload):
            return wrap_temporary(node, payload, finding, fixes)
        if isinstance(payload, WithPayload):
            return wrap_in_with(node, payload, finding, fixes)
        return None
