"""The vocabulary of the configuration rules: what a service address, a config-looking
name and a network client look like."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from prodlint.analysis.calls import passed
from prodlint.analysis.context import Context
from prodlint.analysis.destinations import Destination
from prodlint.analysis.imports import last_name
from prodlint.analysis.scopes import FUNCTION_NODES

SCHEMES = (
    r"https?|wss?|s?ftp|smtps?|ldaps?|rediss?|amqps?|mongodb(?:\+srv)?|nats|kafka|memcached?"
    r"|(?:postgres(?:ql)?|mysql|mariadb|mssql|oracle|cockroachdb|clickhouse)(?:\+\w+)?"
)
URL = re.compile(
    rf"^(?P<scheme>{SCHEMES})://"
    r"(?:(?P<user>[^:@/\s]*)(?::(?P<password>[^@/\s]*))?@)?"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)
IPV4 = re.compile(
    r"^(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$"
)
HOSTNAME = re.compile(
    r"^(?=.{4,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$"
)
# Hosts that name a namespace, a schema or documentation rather than a service to call
# (XML namespaces, JSON schema ids, RFC 2606 example domains).
NAMESPACE_HOSTS = frozenset(
    {
        "www.w3.org",
        "w3.org",
        "purl.org",
        "json-schema.org",
        "xmlns.com",
        "ns.adobe.com",
        "schemas.xmlsoap.org",
        "schemas.microsoft.com",
        "schemas.openxmlformats.org",
        "schemas.android.com",
        "www.opengis.net",
        "docs.oasis-open.org",
        "relaxng.org",
        "www.iana.org",
        "xml.org",
        "www.xml.org",
        "ogp.me",
        "schema.org",
        "json.schemastore.org",
    }
)
RESERVED_SUFFIXES = (
    ".example",
    ".invalid",
    ".test",
    ".example.com",
    ".example.org",
    ".example.net",
)
RESERVED_HOSTS = frozenset({"example.com", "example.org", "example.net"})
# Sites a URL links to for people to read (docs, code hosting): a link, not a service.
LINK_HOSTS = frozenset(
    {
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "docs.python.org",
        "www.python.org",
        "python.org",
        "pypi.org",
        "en.wikipedia.org",
        "stackoverflow.com",
        "bugs.python.org",
        "peps.python.org",
        "docs.djangoproject.com",
        "www.djangoproject.com",
        "code.djangoproject.com",
        "tools.ietf.org",
        "datatracker.ietf.org",
        "www.rfc-editor.org",
        "developer.mozilla.org",
        "readthedocs.org",
    }
)
LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0", "::1", "[::1]"})
# Suffixes of names that resolve only inside a network: a deployment's own services.
PRIVATE_SUFFIXES = (
    ".internal",
    ".local",
    ".localdomain",
    ".lan",
    ".corp",
    ".intranet",
    ".intra",
    ".private",
    ".home.arpa",
    ".svc",
    ".cluster.local",
    ".consul",
    ".localhost",
)
PRIVATE_IPV4 = re.compile(r"^(?:10\.|127\.|192\.168\.|172\.(?:1[6-9]|2[0-9]|3[01])\.|0\.0\.0\.0$)")
# Names whose URL carries a per-deployment key even on a public host (Sentry DSNs,
# Slack/Discord webhooks).
PER_DEPLOYMENT_NAME = re.compile(r"(?:^|_)(?:dsn|webhook|webhook_url|hook_url)$", re.IGNORECASE)
# Keys of a mapping that already holds one value per environment.
ENVIRONMENT_KEYS = frozenset(
    {"production", "prod", "live", "sandbox", "staging", "stage", "test", "testing", "dev"}
)


def is_private_host(host: str) -> bool:
    """A host only a deployment's own network resolves: loopback, private addresses,
    single-label names (``db``, ``redis``) and internal suffixes (``.internal``, ``.svc``)."""
    bare = host.strip("[]")
    return (
        bare in LOCAL_HOSTS
        or bool(PRIVATE_IPV4.match(bare))
        or ":" in bare
        or "." not in bare
        or bare.endswith(PRIVATE_SUFFIXES)
    )


# Names a deployment sets: ``API_URL``, ``REDIS_HOST``, ``SENTRY_DSN``, ``base_url``.
CONFIG_NAME = re.compile(
    r"(?:^|_)(?:urls?|uri|host|hostname|endpoint|dsn|broker|server|location|origin|webhook)$"
    r"|^api_|^(?:base|root)_?url",
    re.IGNORECASE,
)
DEFAULT_NAME = re.compile(r"^_?default_|_default$|^fallback_|_fallback$", re.IGNORECASE)
LINK_NAME = re.compile(
    r"(?:^|_)(?:docs?|documentation|help|wiki|issues?|bugs?|repo|repository|homepage|home_page|license|changelog"
    r"|source|github|gitlab|website|project|download|donate|support|faq|tutorial)(?:_|$)",
    re.IGNORECASE,
)
HOST_NAME = re.compile(r"(?:^|_)(?:host|hostname|server)$", re.IGNORECASE)
# Keywords that carry a service address into any call.
ADDRESS_KEYWORDS = frozenset(
    {
        "base_url",
        "endpoint_url",
        "api_url",
        "broker_url",
        "server_url",
        "api_base",
        "webhook_url",
        "dsn",
        "broker",
        "backend_url",
        "redis_url",
        "database_url",
    }
)

HTTP_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
)
# Client constructors and calls, and the position/keyword of the address they take.
CLIENT_ADDRESS: dict[str, tuple[int | None, str | None]] = {
    **{f"requests.{verb}": (0, "url") for verb in HTTP_VERBS - {"request", "stream"}},
    "requests.request": (1, "url"),
    **{f"httpx.{verb}": (0, "url") for verb in HTTP_VERBS - {"request", "stream"}},
    "httpx.request": (1, "url"),
    "httpx.stream": (1, "url"),
    "aiohttp.request": (1, "url"),
    "urllib.request.urlopen": (0, "url"),
    "urllib.request.Request": (0, "url"),
    "urllib2.urlopen": (0, "url"),
    "http.client.HTTPConnection": (0, "host"),
    "http.client.HTTPSConnection": (0, "host"),
    "redis.Redis": (0, "host"),
    "redis.StrictRedis": (0, "host"),
    "redis.from_url": (0, "url"),
    "redis.Redis.from_url": (0, "url"),
    "redis.asyncio.Redis": (0, "host"),
    "redis.asyncio.from_url": (0, "url"),
    "sqlalchemy.create_engine": (0, "url"),
    "sqlalchemy.ext.asyncio.create_async_engine": (0, "url"),
    "psycopg2.connect": (0, "dsn"),
    "psycopg.connect": (0, "conninfo"),
    "asyncpg.connect": (0, "dsn"),
    "asyncpg.create_pool": (0, "dsn"),
    "pymysql.connect": (None, "host"),
    "MySQLdb.connect": (None, "host"),
    "pymongo.MongoClient": (0, "host"),
    "motor.motor_asyncio.AsyncIOMotorClient": (0, "host"),
    "smtplib.SMTP": (0, "host"),
    "smtplib.SMTP_SSL": (0, "host"),
    "ftplib.FTP": (0, "host"),
    "ftplib.FTP_TLS": (0, "host"),
    "imaplib.IMAP4": (0, "host"),
    "imaplib.IMAP4_SSL": (0, "host"),
    "poplib.POP3": (0, "host"),
    "poplib.POP3_SSL": (0, "host"),
    "telnetlib.Telnet": (0, "host"),
    "websocket.create_connection": (0, "url"),
    "websocket.WebSocketApp": (0, "url"),
    "websockets.connect": (0, "uri"),
    "websockets.client.connect": (0, "uri"),
    "celery.Celery": (None, "broker"),
    "pika.URLParameters": (0, "url"),
    "pika.ConnectionParameters": (0, "host"),
    "kombu.Connection": (0, "hostname"),
    "elasticsearch.Elasticsearch": (0, "hosts"),
    "pymemcache.client.base.Client": (0, "server"),
    "socket.create_connection": (0, "address"),
}
# Receivers whose ``.get(url)`` is an HTTP request: a requests/httpx/aiohttp session or client.
CLIENT_RECEIVER = re.compile(r"(?:session|client|http)$", re.IGNORECASE)

SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|passphrase|pwd|pass|secret|token|credentials?)$"
    r"|(?:^|_)(?:secret|api|private|access|signing|encryption|auth|client|master|app)_?key$"
    r"|^(?:api|auth|access|bearer|refresh|session)_?token"
    r"|(?:^|_)(?:password|passwd|secret)(?:_|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Address:
    """A service address found in a literal: ``scheme`` is None for a bare host."""

    host: str
    scheme: str | None
    user: str | None = None
    password: str | None = None


def parse_address(text: str) -> Address | None:
    """The service a literal names: a full URL with a real host, or a bare host."""
    if "://" in text:
        match = URL.match(text)
        if match is None:
            return None
        host = match.group("host").lower()
        scheme = match.group("scheme").lower()
        if not (
            "." in host
            or host in LOCAL_HOSTS
            or IPV4.match(host)
            or match.group("port")
            or not scheme.startswith("http")
        ):
            return None  # ``http://foo``: a placeholder, not a deployment's address
        return Address(host, scheme, match.group("user"), match.group("password"))
    host = text.lower()
    if host in LOCAL_HOSTS or IPV4.match(host) or HOSTNAME.match(host):
        return Address(host, None)
    return None


def is_reference_host(host: str) -> bool:
    """Namespaces, documentation links and RFC 2606 example domains."""
    return (
        host in NAMESPACE_HOSTS
        or host in RESERVED_HOSTS
        or host in LINK_HOSTS
        or host.endswith(RESERVED_SUFFIXES)
        or host.startswith("docs.")
    )


def client_address_slot(call: ast.Call, ctx: Context) -> tuple[int | None, str | None] | None:
    """(position, keyword) of the address a known network client call takes, else None."""
    qualified = ctx.qualified_name(call.func)
    if qualified is None:
        return None
    slot = CLIENT_ADDRESS.get(qualified)
    if slot is not None:
        return slot
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in HTTP_VERBS:
        receiver = (
            last_name(func.value)
            if not isinstance(func.value, ast.Call)
            else last_name(func.value.func)
        )
        if receiver and CLIENT_RECEIVER.search(receiver):
            return (1, "url") if func.attr in ("request", "stream") else (0, "url")
    return None


def receives_address(where: Destination, ctx: Context) -> bool:
    """Whether a literal at ``where`` is passed as the address of a network client."""
    call = where.call
    if call is None:
        return False
    if where.kind == "keyword" and where.name in ADDRESS_KEYWORDS:
        return True
    slot = client_address_slot(call, ctx)
    if slot is None:
        return False
    position, keyword = slot
    if where.kind == "keyword":
        return where.name == keyword
    return where.position == position


def names_in_client_addresses(ctx: Context) -> frozenset[str]:
    """The module-level names this file reads into a network client's address
    (``requests.get(f"{BASE_URL}/users")``, ``httpx.Client(base_url=API_URL)``): a constant
    the program's own calls are pointed at. Walked once per file, only when a rule asks."""

    def collect() -> frozenset[str]:
        found: set[str] = set()
        for call in ast.walk(ctx.tree):
            if not isinstance(call, ast.Call):
                continue
            addresses = [k.value for k in call.keywords if k.arg in ADDRESS_KEYWORDS]
            slot = client_address_slot(call, ctx)
            if slot is not None:
                address = passed(call, *slot)
                if address is not None:
                    addresses.append(address)
            found.update(
                name.id
                for address in addresses
                for name in ast.walk(address)
                if isinstance(name, ast.Name)
            )
        return frozenset(found)

    return ctx.memo("config.client-address-names", collect)


def config_name(where: Destination) -> str | None:
    """The config-looking name a literal is bound to (``API_URL = ...``, ``{"HOST": ...}``)."""
    if where.kind in ("name", "attribute", "subscript", "key", "default") and where.name:
        name = where.name
        if name.startswith("__") and name.endswith("__"):
            return None  # ``__url__`` and other package metadata
        if DEFAULT_NAME.search(name):
            return None  # DEFAULT_API_URL: the fallback an environment lookup is given
        if LINK_NAME.search(name):
            return None  # DOCS_URL, ISSUES_URL: a page for people to read, not a service
        if CONFIG_NAME.search(name):
            return name
    return None


def env_name(*words: str) -> str:
    """An environment variable name from identifier-ish words: ``("api", "url")`` ->
    ``API_URL``. A single word gets an ``APP_`` prefix: shells and containers export
    ``HOST``, ``HOSTNAME``, ``PASSWORD``-like names of their own, and a fix must not pick
    up a value nobody meant for the program."""
    parts = [p for word in words for p in re.split(r"[^A-Za-z0-9]+", word) if p]
    # camelCase words split at the humps; a lone capital stays with the hump after it
    # (``OAuth2Adapter`` -> OAUTH2_ADAPTER).
    humps: list[str] = []
    for part in parts:
        pieces = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[A-Z]", part) or [part]
        for index, piece in enumerate(pieces):
            if index and len(pieces[index - 1]) == 1 and pieces[index - 1].isupper():
                humps[-1] += piece
            else:
                humps.append(piece)
    name = "_".join(part.upper() for part in humps) or "SERVICE"
    if name[0].isdigit():
        name = "_" + name
    if "_" not in name.strip("_"):
        name = "APP_" + name
    return name


SCHEME_VARIABLES = {
    "postgres": "DATABASE_URL",
    "postgresql": "DATABASE_URL",
    "mysql": "DATABASE_URL",
    "mariadb": "DATABASE_URL",
    "mssql": "DATABASE_URL",
    "oracle": "DATABASE_URL",
    "cockroachdb": "DATABASE_URL",
    "redis": "REDIS_URL",
    "rediss": "REDIS_URL",
    "amqp": "BROKER_URL",
    "amqps": "BROKER_URL",
    "mongodb": "MONGODB_URL",
    "mongodb+srv": "MONGODB_URL",
}

GENERIC_LABELS = frozenset(
    {"api", "app", "service", "services", "gateway", "internal", "rest", "ws"}
)


def variable_from_host(address: Address) -> str:
    scheme = (address.scheme or "").partition("+")[0]
    if scheme in SCHEME_VARIABLES:
        return SCHEME_VARIABLES[scheme]
    suffix = "HOST" if address.scheme is None else "URL"
    host = address.host.strip("[]")
    if host in LOCAL_HOSTS or IPV4.match(host) or ":" in host:
        return f"SERVICE_{suffix}"
    labels = [label for label in host.split(".")[:-1] if label != "www"] or [host]
    if labels[0] in GENERIC_LABELS and len(labels) > 1:
        return env_name(labels[1], labels[0], suffix)  # api.stripe.com -> STRIPE_API_URL
    return env_name(labels[0], suffix)


def in_class_body(ctx: Context) -> bool:
    """Directly in a class body, not in one of its methods."""
    return isinstance(ctx.enclosing(ast.ClassDef, *FUNCTION_NODES), ast.ClassDef)


def address_variable(where: Destination, address: Address, ctx: Context) -> str:
    """The variable a literal address is read from: ``API_URL = ...`` keeps its name (a
    class attribute is prefixed with the class); a dict entry joins its keys; a literal
    passed to a client, or bound to a local variable, is named after its host
    (``USERS_API_URL``)."""
    name = where.name
    cls = (
        ctx.enclosing_class()
        if isinstance(ctx.parent, (ast.Assign, ast.AnnAssign)) and in_class_body(ctx)
        else None
    )
    if where.kind == "key" and name:
        outer = [word for word in reversed(where.outer) if word.lower() != "default"]
        return env_name(*outer, name)
    if name and where.kind in ("name", "attribute", "subscript", "default") and name.isupper():
        if where.kind == "name" and cls is not None:
            return env_name(cls.name, name)  # BillingClient.BASE_URL -> BILLING_CLIENT_BASE_URL
        return env_name(name)
    return variable_from_host(address)


# Credential formats that are secrets whatever they are bound to.
CREDENTIAL_SHAPES = re.compile(
    r"(?P<aws>\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"
    r"|(?P<stripe>\b[sr]k_live_[0-9A-Za-z]{20,})"
    r"|(?P<github>\b(?:gh[pousr]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{40,}))"
    r"|(?P<slack>\bxox[abposr]-[0-9A-Za-z-]{10,})"
    r"|(?P<google>\bAIza[0-9A-Za-z_-]{35}\b)"
    # A key block, not the bare header a parser or a document mentions: key material follows.
    r"|(?P<private_key>-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?"
    r"PRIVATE KEY(?: BLOCK)?-----"
    r"(?:\s|\\n)*[A-Za-z0-9+/]{32})"
)
# A substring every match of CREDENTIAL_SHAPES holds: a few ``in`` tests spare most of the
# file's strings the regular expression.
SHAPE_TOKENS = ("AKIA", "ASIA", "k_live_", "gh", "github_pat_", "xox", "AIza", "-----BEGIN")
CREDENTIAL_KINDS = {
    "aws": "AWS access key id",
    "stripe": "Stripe live key",
    "github": "GitHub token",
    "slack": "Slack token",
    "google": "Google API key",
    "private_key": "private key",
}
PLACEHOLDER_WORDS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "todo",
        "tbd",
        "fixme",
        "none",
        "null",
        "nil",
        "test",
        "testing",
        "dummy",
        "fake",
        "example",
        "sample",
        "placeholder",
        "redacted",
        "default",
        "unset",
        "notset",
        "not-set",
        "empty",
        "mask",
        "masked",
        "hidden",
        "secret-here",
        # RabbitMQ's built-in account, accepted only from localhost.
        "guest",
    }
)
# What follows a token's prefix in a value written to look like one (``xoxb-valid``).
SHAPE_WORDS = frozenset({"valid", "invalid", "token", "key", "secret", "xxx", "abc", "foo"})
PASSWORD_NAME = re.compile(r"pass|pwd", re.IGNORECASE)
PLACEHOLDER_PREFIXES = (
    "your",
    "my-",
    "insert",
    "replace",
    "enter",
    "put-",
    "change",
    "<",
    "${",
    "{{",
    "$(",
    "%(",
)
FILE_VALUE = re.compile(
    r"^[\w./~-]+\.(?:pem|key|crt|cer|p12|pfx|json|txt|ya?ml|env|ini|cfg|gpg|asc)$", re.IGNORECASE
)
SECRET_WORDS = frozenset(
    {"password", "passwd", "secret", "token", "apikey", "api_key", "credential", "credentials"}
)
LABEL_VALUE = re.compile(
    r"^[a-z0-9_.:-]*(?:password|passwd|secret|token|api_?key|credentials?)[a-z0-9_.:-]*$"
)
# Names that hold something about a secret, not the secret: ``password_field_name``,
# ``SECRET_KEY_INSECURE_PREFIX``, ``TOKEN_HEADER``.
NOT_A_SECRET_NAME = re.compile(
    r"(?:^|_)(?:names?|prefix|suffix|field|fields|header|param|env|var|path|file|url|length|len|size|type|format"
    r"|pattern|regex|re|template|label|help|message|msg|hint|attr|column|cookie|policy|validators?|hasher"
    # ``access_token_method = "POST"``, ``refresh_token_ttl``: a property of the secret.
    r"|method|methods|mode|scope|scopes|ttl|lifetime|expiry|expires|timeout|algorithm|alg"
    # ``ctx["email_password_status"] = "success"``: a page's state about the secret.
    r"|status|state|result|level|css|icon|style)$",
    re.IGNORECASE,
)
# Dicts whose values are all of one non-secret kind, whatever their keys say: in
# ``RATE_LIMITS = {"change_password": "5/m/user"}`` the key names an action and the value
# is a rate.
NOT_SECRET_COLLECTION = re.compile(
    r"(?:^|_)(?:limits?|rates?|throttles?|timeouts?|messages?|labels?|urls?|routes?|paths?"
    r"|templates?|choices|permissions?|scopes?|forms?|views?|events?|names|titles?|help_texts?"
    r"|errors?|descriptions?|icons?|actions?|signals?|fields)$",
    re.IGNORECASE,
)
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Key and signature algorithm names: what a key is, never the key.
ALGORITHM_NAMES = frozenset(
    {"RSA", "DSA", "EC", "ECDSA", "ED25519", "ED448", "X25519", "HS256", "HS384", "HS512"}
    | {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EDDSA", "AES", "HMAC"}
)
# Rate-limit specs (``"5/m"``, ``"20/m/ip,5/m/key"``, ``"100/hour"``).
RATE_SPEC = re.compile(r"^\d+/\d*[a-z]+(?:/\w+)?(?:,\s*\d+/\d*[a-z]+(?:/\w+)?)*$")


def is_placeholder_secret(value: str, name: str | None) -> bool:
    """Values that are not a credential: empty, placeholders (``changeme``, ``xxx``,
    ``<your-key>``, ``${TOKEN}``), templates, file names, sentences, and labels that repeat
    the name they are bound to (``PASSWORD_FIELD = "password"``, ``token = "csrftoken"``)."""
    text = value.strip()
    lower = text.lower()
    if (
        len(text) < 3
        or len(set(lower)) <= 2
        or text in HTTP_METHODS
        or text.upper() in ALGORITHM_NAMES
        or RATE_SPEC.match(text)
    ):
        return True  # "", "xx", "****", "...", an HTTP verb, a rate limit
    if lower in PLACEHOLDER_WORDS or lower.startswith(PLACEHOLDER_PREFIXES):
        return True
    prefix, separator, rest = lower.partition("-") if "-" in lower else lower.partition("_")
    if separator and prefix.isalpha() and rest in PLACEHOLDER_WORDS | SHAPE_WORDS:
        return True  # "xoxb-valid", "sk_test", "ghp_dummy": a token's prefix, then a word
    if text.isdigit() and text in "0123456789" and not (name and PASSWORD_NAME.search(name)):
        return True  # "123" for a bot token: a counting placeholder; a "123456" password is one
    if " " in text or "{" in text or "%s" in text or "%(" in text or FILE_VALUE.match(text):
        return True
    if text[-1] in "-_:":
        return True  # "django-insecure-": a prefix the real value starts with
    if lower.startswith(("/", "./", "~/")) or "://" in lower:
        return True  # a path, or a URL (credentials in URLs are judged on their own)
    name_words = set(re.findall(r"[a-z]+", name.lower())) if name else set()
    if LABEL_VALUE.match(lower) and (lower not in SECRET_WORDS or lower in name_words):
        # "access_token", "csrftoken", PASSWORD_FIELD = "password": the name of a field. A
        # bare "secret" bound to EMAIL_PASSWORD is a (weak) password.
        return True
    return name is not None and lower.replace("-", "_") == name.lower()


def guarded_by(ctx: Context, *words: str) -> bool:
    """Whether the function around the node being visited is named for, or branches on, a
    name containing one of ``words``: ``if timeout is not None: ... else: connect(addr)``,
    ``if not server_hostname: ctx.check_hostname = False`` and ``def
    load_ssl_context_no_verify()`` are the author's decision for that case (often the
    implementation of the user's own option), not an oversight."""
    function = ctx.enclosing_function()
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        w in function.name.lower() for w in words
    ):
        return True
    # The whole function counts: ``if timeout is not None: return connect(a, timeout)``
    # followed by ``return connect(a)`` has the test before the call, not around it.
    tests = (
        [node.test for node in ast.walk(function) if isinstance(node, ast.If)]
        if function is not None
        else [node.test for node in ctx.ancestors if isinstance(node, ast.If)]
    )
    for test in tests:
        for inner in ast.walk(test):
            name = last_name(inner) or ""
            if any(word in name.lower() for word in words):
                return True
    return False


ENUM_BASES = ("Enum", "Choices", "Flag")


def in_enum_class(ctx: Context) -> bool:
    """Directly in an enum or Django choices class: its members are labels, not settings."""
    cls = ctx.enclosing_class()
    return (
        cls is not None
        and ctx.enclosing_function() is None
        and any((last_name(base) or "").endswith(ENUM_BASES) for base in cls.bases)
    )


# Demonstration code, never deployed: examples and documentation sources.
DEMO_PATHS = ("examples/*", "example/*", "docs/*", "doc/*", "docs_src/*", "samples/*")
# Test trees under other names than the configured test paths: celery's and kombu's
# ``t/unit``, ``t/integration``, and ``unit_tests/`` / ``integration_tests/`` folders.
EXTRA_TEST_PATHS = ("t/unit/*", "t/integration/*", "unit_tests/*", "integration_tests/*")
# A folder whose name starts with a dot holds the project's tooling, never deployed: CI
# scripts (``.github/``), an assistant's skills (saleor's ``.claude/skills/``), a linter's
# rule tests (``.semgrep/``).
TOOLING_PATHS = (".*/*",)


# Modules that hold a framework's or library's documented defaults, which a deployment's
# own settings override: Django's ``conf/global_settings.py``, Scrapy's
# ``default_settings.py``, Celery's ``app/defaults.py``.
DEFAULTS_FILE = re.compile(
    r"(?:^|/)(?:global_settings|default_?settings|defaults?|default_?config|[^/]*_defaults)\.py$"
)
DEFAULTS_DOCSTRING = re.compile(
    r"^\s*(?:the\s+)?(?:\w+\s+)?default\s+(?:settings|configuration|config|values)\b"
    r"|\bdefaults?\b.*\boverrid",
    re.IGNORECASE | re.DOTALL,
)


def documented_defaults(ctx: Context) -> bool:
    """A module of documented defaults that every deployment overrides (a file named for
    defaults, or whose docstring says it holds default settings): its values are the
    fallbacks, not a deployment's configuration."""

    def compute() -> bool:
        if DEFAULTS_FILE.search(ctx.project_path):
            return True
        docstring = ast.get_docstring(ctx.tree, clean=False)
        return docstring is not None and bool(DEFAULTS_DOCSTRING.search(docstring[:300]))

    return ctx.memo("config.documented_defaults", compute)


def not_deployed(ctx: Context) -> bool:
    """Test files, demonstration code and tooling: nothing there reaches a deployment."""
    return ctx.memo(
        "config.not_deployed",
        lambda: (
            ctx.is_test_file or ctx.path_matches((*DEMO_PATHS, *EXTRA_TEST_PATHS, *TOOLING_PATHS))
        ),
    )
