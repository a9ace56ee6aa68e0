"""PRD401: a service URL or host written into the code instead of read from the environment."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from prodlint.analysis.context import Context
from prodlint.analysis.destinations import Destination, destination
from prodlint.analysis.environment import (
    EnvVariablePayload,
    claim_variable,
    in_settings_class,
    os_module_usable,
    under_env_lookup,
)
from prodlint.model import FixSafety, Severity
from prodlint.registry import Rule
from prodlint.rules.config.common import (
    ENVIRONMENT_KEYS,
    HOST_NAME,
    LOCAL_HOSTS,
    PER_DEPLOYMENT_NAME,
    Address,
    address_variable,
    config_name,
    documented_defaults,
    in_class_body,
    in_enum_class,
    is_private_host,
    is_reference_host,
    names_in_client_addresses,
    not_deployed,
    parse_address,
    receives_address,
)

# Second levels under a country code: ``co.uk``, ``com.au``.
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding


def _integration_constant(name: str, where: Destination, address: Address, ctx: Context) -> bool:
    """An address that belongs to the code, not the deployment. A lower-case class
    attribute (``access_token_url`` on an OAuth adapter, a spider's ``start_urls``) fills
    in a framework's hook for one integration; a lower-case local or attribute holding a
    public host (``url = "https://api.twitter.com/oauth/authorize"``) is a vendor's
    endpoint; an entry of a mapping keyed by environment (``{"production": {...},
    "sandbox": {...}}``) is already chosen per deployment."""
    if where.kind == "key" and ENVIRONMENT_KEYS.intersection(w.lower() for w in where.outer):
        return True
    if _public_web_address(address):
        # A public web host bound to a name is a vendor's API, a link or an identifier
        # (``API_BASE = "https://api.500px.com/v1"``, ``SCHEMA_URI``), the same in every
        # deployment; only a DSN or webhook (a per-deployment key in a URL) is config, and
        # a constant the file's own client calls are pointed at (``BASE_URL`` read into
        # ``requests.get(f"{BASE_URL}/users")``): the service the program talks to.
        return not PER_DEPLOYMENT_NAME.search(name) and not _points_a_client(name, where, ctx)
    if name.isupper() or where.kind not in ("name", "attribute"):
        return False
    return in_class_body(ctx)


def _vendor_module(address: Address, value: str, ctx: Context) -> bool:
    """A public web host whose domain names the module it is in: the integration module for
    that vendor (``plugins/dispatch_opsgenie/service.py`` posting to ``api.opsgenie.com``,
    ``dispatch_zoom/client.py``'s ``api.zoom.us``) or the project's own service (CTFd's
    update check at ``versioning.ctfd.io``), the same address in every deployment. A
    webhook carries a per-deployment key in its path and stays flagged."""
    if "hook" in value.lower():
        return False
    labels = address.host.lower().split(".")
    # ``api.vendor.co.uk``: the name before a two-letter country code's second level.
    registered = 3 if len(labels) > 2 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL else 2
    if len(labels) < registered:
        return False
    vendor = labels[-registered]
    if len(vendor) < 4:
        return False  # "api", "app", "my": words a path has for other reasons
    words = ctx.memo(
        "config.path_words", lambda: frozenset(re.split(r"[^a-z0-9]+", ctx.project_path.lower()))
    )
    return vendor in words


def _public_web_address(address: Address) -> bool:
    return not is_private_host(address.host) and (address.scheme or "").startswith(("http", "ws"))


def _points_a_client(name: str, where: Destination, ctx: Context) -> bool:
    return (
        where.kind == "name"
        and name.isupper()
        and ctx.enclosing_function() is None
        and name in names_in_client_addresses(ctx)
    )


def _host_setting(name: str, where: Destination, address: Address) -> bool:
    """A bare host counts where a setting holds it (``REDIS_HOST = ...``, ``{"HOST": ...}``);
    a lower-case local or attribute holding one is most often a bind address or a
    fallback computed at run time (``host = "127.0.0.1"``)."""
    if not name.isupper() or "LOCAL" in name or "LOOPBACK" in name:
        return False  # LOCALHOST = "127.0.0.1" names the loopback itself
    if "_" not in name and address.host in LOCAL_HOSTS | {"127.0.0.1"}:
        return False  # HOST = "127.0.0.1": where the program's own server listens
    return bool(HOST_NAME.search(name)) or (where.kind == "key" and name == "LOCATION")


class HardcodedServiceUrl(Rule):
    code = "PRD401"
    name = "HardcodedServiceUrl"
    summary = "A service URL or host hardcoded where the deployment should set it"
    message = (
        "Hardcoded {what} `{value}`; read it from the environment (`{variable}`) "
        "with this as the fallback"
    )
    what_it_does = """
Flags full service addresses (`https://api.internal`, `postgresql://db/app`,
`redis://cache:6379`, `ws://...`, IP literals, `localhost`) that reach a network client
(`requests`, `httpx`, `aiohttp`, `urllib.request`, `http.client`, `redis`,
`create_engine`, `psycopg2`/`asyncpg`/`pymongo` connects, `smtplib`, `socket.create_connection`,
websocket clients, `endpoint_url=`/`base_url=`/`broker=` keywords) or are bound to a
config-looking name (`*_URL`, `*_HOST`, `*_ENDPOINT`, `*_DSN`, `API_*`, the `HOST` and
`LOCATION` entries of Django's `DATABASES`/`CACHES`). A bare host needs a host-like
name or parameter.

Not flagged: the fallback of an environment lookup (`os.environ.get("API_URL",
"http://localhost:3000")`, `os.getenv`, django-environ / environs / decouple readers),
defaults of pydantic-settings classes, strings in docstrings, comments, messages and
comparisons (`url.startswith("http://")`), URL templates (`"http://%s:%d"`),
`__url__`-style metadata, `DEFAULT_*` constants (the fallback an environment lookup is
given), settings in a module of documented defaults that deployments override (Django's
`conf/global_settings.py`, a `default_settings.py`, `defaults.py`), enum members,
`LOCALHOST`-style names for the loopback, XML/schema namespaces (`http://www.w3.org/...`),
documentation links and RFC 2606 example domains outside a
client call, lower-case class attributes (`access_token_url = "https://..."` on an OAuth
adapter: a framework hook filled in for one integration, the same in every deployment),
names bound to a public web host (`API_BASE = "https://api.500px.com/v1"`, `url =
"https://api.twitter.com/oauth/authorize"`, `SCHEMA_URI`: a vendor's API, a link or an
identifier, the same in every deployment; `*_DSN` and webhook URLs, loopback, private
addresses, single-label and `.internal`-style hosts stay flagged, and so do any
address passed straight to a client and an upper-case module constant the file's own
client calls are pointed at, `requests.get(f"{BASE_URL}/users")`), a public web host whose
domain names the module's path (`plugins/opsgenie/service.py` calling `api.opsgenie.com`: the
integration for that vendor, or the project's own service; webhooks stay flagged), entries
of a mapping keyed by environment (`{"production": {...}, "sandbox": {...}}`), and test files.

A literal is fixed only when no other value in the file reads (or is fixed to read) the
same variable: one variable per distinct value, so setting it never changes two.
"""
    why_bad = """
An address written into the code is the same in every environment: staging talks to the
production API, the container talks to `localhost` where nothing listens, and changing a
host means a release. Reading it from the environment with the current value as the
fallback keeps local runs working and lets each deployment point the service elsewhere.
"""
    example = """
import requests

USERS_API_URL = "https://users.internal/v1"


def fetch_user(user_id):
    return requests.get(f"{USERS_API_URL}/users/{user_id}", timeout=5)
"""
    use_instead = """
import os

import requests

USERS_API_URL = os.environ.get("USERS_API_URL", "https://users.internal/v1")


def fetch_user(user_id):
    return requests.get(f"{USERS_API_URL}/users/{user_id}", timeout=5)
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is safe: the literal becomes `os.environ.get("NAME", "<literal>")`, the same
value while `NAME` is unset, evaluated where the literal was (a module constant stays a
module constant). `NAME` is the constant's name, the joined keys of a settings dict, or
made from the host (`USERS_API_URL`); a one-word name gets an `APP_` prefix so a
variable the shell or container exports (`HOST`, `HOSTNAME`) is never picked up.
`import os` is added. No fix for a piece of an f-string, a bytes literal, or where `os`
means something else. The fix is unsafe for a public web host bound to a name
(`BASE_URL = "https://api.mycompany.com"`): such generic names are often already set
in a deployment for another purpose, and reading one would move the program's calls.
"""
    severity = Severity.WARNING
    fix_safety = FixSafety.SAFE
    fix_node_types = ("SimpleString", "ConcatenatedString")

    def check_Constant(self, node: ast.Constant, ctx: Context) -> None:
        value = node.value
        # The cheap test every string constant of a file goes through, inline.
        if type(value) is not str or " " in value:
            return
        if "://" not in value and (len(value) > 253 or not ("." in value or value == "localhost")):
            return
        where = destination(node, ctx)
        if where is None:
            return
        address = parse_address(value)
        if address is None or not_deployed(ctx):
            return
        if _public_web_address(address) and _vendor_module(address, value, ctx):
            return
        client = receives_address(where, ctx)
        bound = None if client else config_name(where)
        if not client and bound is None:
            return
        if bound is not None and _integration_constant(bound, where, address, ctx):
            return
        if address.scheme is None and not client and not _host_setting(bound or "", where, address):
            return
        if (
            not client
            and is_reference_host(address.host)
            and not (bound is not None and _points_a_client(bound, where, ctx))
        ):
            return
        if (
            under_env_lookup(ctx)
            or in_settings_class(ctx)
            or in_enum_class(ctx)
            or (bound is not None and documented_defaults(ctx))
        ):
            return
        what = "host" if address.scheme is None else "service URL"
        variable = address_variable(where, address, ctx)
        shown = value if len(value) <= 60 else value[:57] + "..."
        # A password in the URL is PRD402's: hiding it behind an environment fallback would
        # keep the secret in the code and silence that finding.
        # A public host's generic name (BASE_URL, API_URL) may already be set in a
        # deployment for something else: reading it could change the address.
        tier = (
            FixSafety.UNSAFE
            if bound is not None
            and _public_web_address(address)
            and not PER_DEPLOYMENT_NAME.search(bound)
            else FixSafety.SAFE
        )
        fixable = (
            not isinstance(ctx.parent, ast.JoinedStr)
            and not address.password
            and os_module_usable(ctx)
            and claim_variable(ctx, variable, value)
        )
        if fixable:
            self.report(
                ctx,
                node,
                fix=tier,
                payload=EnvVariablePayload(variable),
                what=what,
                value=shown,
                variable=variable,
            )
        else:
            self.report(ctx, node, what=what, value=shown, variable=variable)

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.config import env_lookup

        assert isinstance(node, (cst.SimpleString, cst.ConcatenatedString))
        return env_lookup(
            node, finding.payload_as(EnvVariablePayload).variable, fixes, required=False
        )
