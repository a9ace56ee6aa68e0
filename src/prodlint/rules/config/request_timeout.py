"""PRD403: a network call that can wait for ever."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.calls import UNKNOWN, argument
from prodlint.analysis.constants import constant_value
from prodlint.analysis.context import Context
from prodlint.analysis.entrypoints import module_qualified_name
from prodlint.model import FixPayload, FixSafety, Severity
from prodlint.registry import Option, Rule
from prodlint.rules.config.common import guarded_by, not_deployed

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

REQUESTS_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
SESSION_FACTORIES = frozenset({"requests.Session", "requests.session", "requests.sessions.Session"})
HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
CLIENT_FACTORIES = SESSION_FACTORIES | HTTPX_CLIENTS
# Calls that block on the network with no timeout unless given one: (position, keyword).
# ``None`` as position: keyword-only, or positions that moved between Python versions.
BLOCKING_CALLS: dict[str, tuple[int | None, str]] = {
    **{f"requests.{verb}": (None, "timeout") for verb in REQUESTS_VERBS},
    **{f"requests.api.{verb}": (None, "timeout") for verb in REQUESTS_VERBS},
    "urllib.request.urlopen": (2, "timeout"),
    "http.client.HTTPConnection": (2, "timeout"),
    "http.client.HTTPSConnection": (None, "timeout"),
    "socket.create_connection": (1, "timeout"),
    "smtplib.SMTP": (3, "timeout"),
    "smtplib.SMTP_SSL": (None, "timeout"),
    "smtplib.LMTP": (None, "timeout"),
    "ftplib.FTP": (4, "timeout"),
    "ftplib.FTP_TLS": (None, "timeout"),
    "imaplib.IMAP4": (2, "timeout"),
    "imaplib.IMAP4_SSL": (None, "timeout"),
    "poplib.POP3": (2, "timeout"),
    "poplib.POP3_SSL": (None, "timeout"),
    "telnetlib.Telnet": (2, "timeout"),
    "aiohttp.ClientSession": (None, "timeout"),
    "aiohttp.request": (None, "timeout"),
}
# httpx times out after 5 s by default: only an explicit ``timeout=None`` waits for ever.
NONE_ONLY = frozenset(
    {
        *(f"httpx.{verb}" for verb in (*REQUESTS_VERBS, "stream")),
        *(f"{client}.{verb}" for client in HTTPX_CLIENTS for verb in (*REQUESTS_VERBS, "stream")),
        *HTTPX_CLIENTS,
    }
)
# Constructors that connect only when given a host.
CONNECT_LATER = frozenset(
    {"smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP", "ftplib.FTP", "ftplib.FTP_TLS"}
)
LAST_NAMES = frozenset(name.rpartition(".")[2] for name in (*BLOCKING_CALLS, *NONE_ONLY))


HTTP_METHOD_NAMES = frozenset({*REQUESTS_VERBS, "stream"})


def _mentions_http_client(ctx: Context) -> bool:
    return "requests" in ctx.text or "httpx" in ctx.text


def _self_clients(cls: ast.ClassDef, ctx: Context) -> dict[str, str]:
    """``self.<attribute>`` -> client factory, for attributes a method of ``cls`` sets to a
    requests session or an httpx client (``self.session = requests.Session()``) and to
    nothing else (``None`` aside: a client opened later)."""
    factories: dict[str, set[str]] = {}
    for method in cls.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(method):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    continue
                value = node.value
                if isinstance(value, ast.Constant) and value.value is None:
                    continue
                factory = (
                    module_qualified_name(value.func, ctx) if isinstance(value, ast.Call) else None
                )
                factories.setdefault(target.attr, set()).add(factory or "")
    return {
        attr: next(iter(found))
        for attr, found in factories.items()
        if len(found) == 1 and next(iter(found)) in CLIENT_FACTORIES
    }


def _client_factory(expr: ast.expr, ctx: Context) -> str | None:
    """The factory of the requests session or httpx client ``expr`` is: a call to it, a name
    bound to one, ``with requests.Session() as s``, or ``self.session`` set to one in a
    method of the enclosing class."""
    if isinstance(expr, ast.Call):
        qualified = ctx.qualified_name(expr.func)
        return qualified if qualified in CLIENT_FACTORIES else None
    if isinstance(expr, ast.Attribute):
        cls = ctx.enclosing_class()
        if cls is None or not (isinstance(expr.value, ast.Name) and expr.value.id == "self"):
            return None
        # The text first: an attribute the file never assigns (``self.client = ...``) holds
        # no client, and the walk of every method of the class is spared.
        assigned = re.compile(rf"self\.{re.escape(expr.attr)}[ \t\\]*(?::|=(?!=))")
        if not ctx.memo(
            f"config.self_assigned.{expr.attr}", lambda: bool(assigned.search(ctx.text))
        ):
            return None
        clients = ctx.memo(f"config.self_clients.{id(cls)}", lambda: _self_clients(cls, ctx))
        return clients.get(expr.attr)
    if not isinstance(expr, ast.Name):
        return None
    bound = ctx.value_of(expr.id)
    if bound is not None:
        return _client_factory(bound, ctx)
    for node in reversed(ctx.ancestors):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                target = item.optional_vars
                if isinstance(target, ast.Name) and target.id == expr.id:
                    return _client_factory(item.context_expr, ctx)
    return None


def blocking_call(call: ast.Call, ctx: Context) -> tuple[str, tuple[int | None, str]] | None:
    """The qualified name and timeout slot of a network call that takes a timeout."""
    func = call.func
    attr = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else None
    )
    if attr not in LAST_NAMES:
        return None
    if attr in HTTP_METHOD_NAMES and not ctx.memo(
        "config.mentions_http_client", lambda: _mentions_http_client(ctx)
    ):
        # ``.get()`` is mostly ``dict.get``: resolve it only where requests or httpx is used.
        return None
    qualified = ctx.qualified_name(func) or ""
    if qualified in BLOCKING_CALLS or qualified in NONE_ONLY:
        return qualified, BLOCKING_CALLS.get(qualified, (None, "timeout"))
    if isinstance(func, ast.Attribute) and attr in HTTP_METHOD_NAMES:
        factory = _client_factory(func.value, ctx)
        if factory in SESSION_FACTORIES and attr in REQUESTS_VERBS:
            return f"requests.Session.{attr}", (None, "timeout")
        if factory in HTTPX_CLIENTS:
            return f"{factory}.{attr}", (None, "timeout")
    return None


@dataclass(frozen=True)
class TimeoutPayload(FixPayload):
    aiohttp: bool  # aiohttp takes ``aiohttp.ClientTimeout(total=...)``, not seconds


class RequestWithoutTimeout(Rule):
    code = "PRD403"
    name = "RequestWithoutTimeout"
    summary = "An HTTP or socket call without a timeout"
    message = "`{call}` {problem}; pass `timeout=` so a stalled peer cannot hang the worker"
    what_it_does = """
Flags network calls that wait for ever unless given a timeout: `requests.get/post/...`
and `requests.request`, methods of a `requests.Session` (bound to a name, opened in
`with`, or set as `self.session = requests.Session()` in a method of the same class),
`urllib.request.urlopen`, `http.client.HTTPConnection`/`HTTPSConnection`,
`socket.create_connection`, `smtplib`, `ftplib`, `imaplib`, `poplib` and `telnetlib`
clients, and `aiohttp.ClientSession`/`aiohttp.request` without `timeout=` (aiohttp's
default is five minutes). `httpx` calls, clients and client methods (also through
`self.client = httpx.Client()`) are flagged only for an explicit `timeout=None` (httpx
defaults to 5 s); so is `timeout=None` anywhere else.

Not flagged: calls that pass `timeout` positionally or may pass it through `*args` /
`**kwargs`, `SMTP()` / `FTP()` without a host (they connect later, and `connect()` takes
the timeout), functions that branch on a timeout (`if timeout is not None: ...`: the
caller chose), lines marked `# nosec`, and test files.
"""
    why_bad = """
Without a timeout a peer that accepts the connection and never answers blocks the
calling thread or worker for ever; under load every worker ends up waiting on the same
stalled service and the whole application stops answering.
"""
    example = """
import requests


def fetch_rates():
    return requests.get("https://rates.internal/api/latest").json()
"""
    use_instead = """
import requests


def fetch_rates():
    return requests.get("https://rates.internal/api/latest", timeout=10).json()
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: it adds `timeout=<seconds>` (the `timeout` option, 10 by default;
`aiohttp.ClientTimeout(total=<seconds>)` for aiohttp) or replaces `timeout=None`, so a
call that used to wait now raises a timeout error after that long, which the code may
not handle. Choose the value per call where 10 s is wrong (uploads, long polls).
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.UNSAFE
    honours_nosec = True
    options = (Option("timeout", int, 10, "Seconds the fix passes as `timeout=`."),)
    fix_node_types = ("Call",)
    call_names = LAST_NAMES  # the callee test ``blocking_call`` starts with
    # Every call it knows is qualified by one of these modules, which the file then names
    # (in an import or in the call itself).
    requires_text = tuple(
        sorted(
            {name.partition(".")[0] for name in (*BLOCKING_CALLS, *NONE_ONLY, *CLIENT_FACTORIES)}
        )
    )

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        found = blocking_call(node, ctx)
        if found is None or not_deployed(ctx):
            return
        qualified, (position, keyword) = found
        passed = argument(node, position, keyword)
        if passed is UNKNOWN:
            return
        if qualified in CONNECT_LATER and not node.args and argument(node, None, "host") is None:
            return  # ``SMTP()`` / ``FTP()`` connect later, and ``connect()`` takes the timeout
        if passed is None:
            if qualified in NONE_ONLY or guarded_by(ctx, "timeout"):
                return  # ``if timeout is not None: ... else: create_connection(address)``
            problem = "has no timeout"
        elif constant_value(passed, ctx) is None:
            problem = "waits for ever with `timeout=None`"
        else:
            return
        aiohttp = qualified.startswith("aiohttp.")
        positional_none = passed is not None and not any(k.value is passed for k in node.keywords)
        if positional_none:
            self.report(ctx, node, call=qualified, problem=problem)
            return
        self.report(
            ctx,
            node,
            fix=FixSafety.UNSAFE,
            payload=TimeoutPayload(aiohttp),
            call=qualified,
            problem=problem,
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.config import set_keyword

        assert isinstance(node, cst.Call)
        seconds = int(self.settings["timeout"])  # type: ignore[call-overload]
        if finding.payload_as(TimeoutPayload).aiohttp:
            fixes.add_import("aiohttp")
            value = cst.parse_expression(f"aiohttp.ClientTimeout(total={seconds})")
        else:
            value = cst.Integer(str(seconds))
        return set_keyword(node, "timeout", value)
