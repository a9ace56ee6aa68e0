"""PRD404: TLS certificate or host name verification turned off."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from prodlint.analysis.constants import constant_value
from prodlint.analysis.context import Context
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.config.common import guarded_by, not_deployed

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

# Libraries whose calls take ``verify=`` (requests, httpx) or ``ssl=``/``verify_ssl=`` (aiohttp).
HTTP_LIBRARIES = ("requests.", "httpx.", "aiohttp.")
# Methods that take ``verify=`` on a session or client object of those libraries.
CLIENT_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "request",
        "send",
        "stream",
        "merge_environment_settings",
        "ws_connect",
    }
)
VERIFY_KEYWORDS = frozenset({"verify", "ssl", "verify_ssl"})
# ``ssl._create_stdlib_context`` is the same function, but only the stdlib calls it, as the
# documented default of its own protocol clients: the explicit opt-out is what users write.
UNVERIFIED_FACTORIES = frozenset({"ssl._create_unverified_context"})
# Code that branches on these, or is named for them, implements the user's own opt-out.
OPT_OUT_WORDS = ("verify", "cert", "hostname", "insecure")
UNVERIFIED_NAMES = frozenset(name.rpartition(".")[2] for name in UNVERIFIED_FACTORIES)


class TlsVerificationDisabled(Rule):
    code = "PRD404"
    name = "TlsVerificationDisabled"
    summary = "TLS certificate or host name verification turned off"
    message = "{what} turns TLS verification off: the connection accepts any certificate"
    what_it_does = """
Flags `verify=False` on `requests`, `httpx` and `aiohttp` calls, sessions and clients
(and `ssl=False` / `verify_ssl=False` for aiohttp), also when the `False` comes from a
constant; `session.verify = False`; `ssl._create_unverified_context()`; `ssl.CERT_NONE`
assigned or passed (`ctx.verify_mode = ssl.CERT_NONE`, `cert_reqs=ssl.CERT_NONE`); and
`ctx.check_hostname = False`.

Not flagged: comparisons with `CERT_NONE`, code that is named for or branches on
verification (`def load_ssl_context_no_verify()`, `if not server_hostname:`, `if
cert_reqs == ...`: a library implementing its users' own opt-out), a context class
setting `self.check_hostname`, lines marked `# nosec`, and test files.
"""
    why_bad = """
Without verification anyone on the network path (a café Wi-Fi, a compromised proxy, a
misrouted DNS name) can present any certificate and read or change the traffic,
credentials included. A self-signed internal CA belongs in `verify="/path/to/ca.pem"`.
"""
    example = """
import requests


def push(payload):
    return requests.post("https://hooks.internal/ingest", json=payload, timeout=5, verify=False)
"""
    use_instead = """
import requests


def push(payload):
    return requests.post("https://hooks.internal/ingest", json=payload, timeout=5, verify=True)
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: `verify=False` becomes `verify=True`, so a server with a self-signed
or otherwise untrusted certificate now fails the handshake; point `verify` at the CA
bundle that signs it. Only a literal `verify=False` is fixed; `ssl` contexts are left
to the author.
"""
    severity = Severity.ERROR
    fix_safety = FixSafety.UNSAFE
    honours_nosec = True
    fix_node_types = ("Arg",)
    call_names = UNVERIFIED_NAMES  # ``ssl._create_unverified_context()``; keywords apart
    # Every form it flags spells one: ``verify=``/``verify_ssl=``/``.verify``, ``ssl=``,
    # ``ssl.CERT_NONE`` and ``ssl._create_unverified_context`` (resolved through an import of
    # ``ssl``), ``.check_hostname``.
    requires_text = ("verify", "ssl", "check_hostname")

    # ``ssl.CERT_NONE`` is looked for where it is passed or assigned, not on every attribute.
    def check_keyword(self, node: ast.keyword, ctx: Context) -> None:
        if isinstance(node.value, ast.Attribute):
            self._check_cert_none(node.value, ctx)
        else:
            self._check_keyword(node, ctx)

    def check_Assign(self, node: ast.Assign, ctx: Context) -> None:
        if isinstance(node.value, ast.Attribute):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
                self._check_cert_none(node.value, ctx)
        else:
            self._check_assign(node, ctx)

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in UNVERIFIED_NAMES
            and (ctx.qualified_name(func) in UNVERIFIED_FACTORIES)
            and not not_deployed(ctx)
        ):
            self.report(ctx, node, what=f"`ssl.{func.attr}()`")

    def _check_keyword(self, node: ast.keyword, ctx: Context) -> None:
        if node.arg not in VERIFY_KEYWORDS or constant_value(node.value, ctx) is not False:
            return
        call = ctx.parent
        if not isinstance(call, ast.Call) or not_deployed(ctx):
            return
        qualified = ctx.qualified_name(call.func) or ""
        func = call.func
        is_client = qualified.startswith(HTTP_LIBRARIES) or (
            isinstance(func, ast.Attribute) and func.attr in CLIENT_METHODS and node.arg == "verify"
        )
        if not is_client or (
            node.arg != "verify"
            and not qualified.startswith("aiohttp.")
            and not (isinstance(func, ast.Attribute) and func.attr == "ws_connect")
        ):
            return
        literal = isinstance(node.value, ast.Constant) and node.arg == "verify"
        if literal:
            self.report(ctx, node, fix=FixSafety.UNSAFE, what=f"`{node.arg}=False`")
        else:
            self.report(ctx, node, what=f"`{node.arg}=False`")

    def _check_assign(self, node: ast.Assign, ctx: Context) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Attribute):
            return
        attr = node.targets[0].attr
        if attr not in ("verify", "check_hostname") or constant_value(node.value, ctx) is not False:
            return
        target = node.targets[0]
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            return  # a context or session class initialising its own attribute
        if not not_deployed(ctx) and not guarded_by(ctx, *OPT_OUT_WORDS):
            self.report(ctx, node, what=f"`.{attr} = False`")

    def _check_cert_none(self, node: ast.Attribute, ctx: Context) -> None:
        """``cert_reqs=ssl.CERT_NONE`` or ``ctx.verify_mode = ssl.CERT_NONE``; a comparison
        with it is code handling the setting."""
        if (
            node.attr != "CERT_NONE"
            or ctx.qualified_name(node) != "ssl.CERT_NONE"
            or not_deployed(ctx)
        ):
            return
        if not guarded_by(ctx, *OPT_OUT_WORDS):
            self.report(ctx, node, what="`ssl.CERT_NONE`")

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        assert isinstance(node, cst.Arg)
        return node.with_changes(value=cst.Name("True"))
