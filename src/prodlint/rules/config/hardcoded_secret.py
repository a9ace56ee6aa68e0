"""PRD402: a password, token or key written into the code."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from prodlint.analysis.calls import argument
from prodlint.analysis.constants import string_value
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
    CREDENTIAL_KINDS,
    CREDENTIAL_SHAPES,
    NOT_A_SECRET_NAME,
    NOT_SECRET_COLLECTION,
    SECRET_NAME,
    SHAPE_TOKENS,
    address_variable,
    env_name,
    in_enum_class,
    is_placeholder_secret,
    not_deployed,
    parse_address,
)

if TYPE_CHECKING:
    import libcst as cst

    from prodlint.fixes.base import FixContext
    from prodlint.model import Finding

HEADER_NAMES = frozenset({"authorization", "x-api-key", "api-key"})
# Where most string literals sit (call arguments, comparisons, docstrings, subscripts): never
# a bound secret.
NEVER_HOLDERS = frozenset(
    {
        ast.Call,
        ast.Compare,
        ast.Expr,
        ast.Subscript,
        ast.List,
        ast.BinOp,
        ast.JoinedStr,
        ast.Return,
        ast.FormattedValue,
        ast.Set,
        ast.IfExp,
        ast.BoolOp,
    }
)
# Calls whose key parameter is a secret whatever its value: (position, keyword).
KEY_PARAMETERS: dict[str, tuple[int, str]] = {
    "jwt.encode": (1, "key"),
    "jwt.decode": (1, "key"),
    "jwt.api_jwt.encode": (1, "key"),
    "jwt.api_jwt.decode": (1, "key"),
    "jose.jwt.encode": (1, "key"),
    "jose.jwt.decode": (1, "key"),
    "hmac.new": (0, "key"),
    "requests.auth.HTTPBasicAuth": (1, "password"),
    "requests.auth.HTTPDigestAuth": (1, "password"),
    "httpx.BasicAuth": (1, "password"),
    "aiohttp.BasicAuth": (1, "password"),
}
KEY_CALL_NAMES = {
    "encode": "jwt",
    "decode": "jwt",
    "new": "hmac",
    "HTTPBasicAuth": "",
    "HTTPDigestAuth": "",
    "BasicAuth": "",
}
AUTH_SCHEMES = ("bearer ", "basic ", "token ")
# Keys of a dict that describes a form or schema rather than holding settings.
SCHEMA_KEYS = frozenset({"type", "properties", "required", "title", "widget"})
# Where a fix can put ``os.environ[...]`` instead of the literal (not a parameter default:
# a signature must not fail at import).
FIXABLE_KINDS: tuple[str, ...] = ("name", "attribute", "subscript", "key", "keyword")


def _may_hold_secret(node: ast.Constant, ctx: Context) -> bool:
    """The cheap test before ``destination``: the literal sits directly under a secret
    name (keyword, assignment, dict entry, parameter default), in ``auth=(user, pass)``,
    or in an ``Authorization`` header."""
    parent = ctx.ancestors[-1]
    kind = type(parent)
    if kind in NEVER_HOLDERS:
        return False
    name: str | None = None
    if isinstance(parent, ast.keyword):
        name = parent.arg
    elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.NamedExpr:
        return True  # one target to read; ``destination`` does it
    elif isinstance(parent, ast.Dict):
        for key, value in zip(parent.keys, parent.values, strict=True):
            if value is node and isinstance(key, ast.Constant) and isinstance(key.value, str):
                name = key.value
        if name is not None and name.lower() in HEADER_NAMES:
            return True
    elif kind is ast.arguments:
        return True
    elif kind is ast.Tuple:
        grandparent = ctx.ancestors[-2] if len(ctx.ancestors) > 1 else None
        return isinstance(grandparent, ast.keyword) and grandparent.arg == "auth"
    return (
        name is not None
        and SECRET_NAME.search(name) is not None
        and not NOT_A_SECRET_NAME.search(name)
    )


def _secret_name(where: Destination, ctx: Context) -> str | None:
    if where.kind == "argument" or not where.name or where.element is not None or not where.whole:
        return None
    name = where.name
    if name.startswith("__") or not SECRET_NAME.search(name) or NOT_A_SECRET_NAME.search(name):
        return None
    if where.kind == "key":
        if "." in name:
            return None  # a dotted path names code (``"...rsa.generate_private_key": "RSA"``)
        holder = where.holder
        if isinstance(holder, ast.Dict) and SCHEMA_KEYS.intersection(
            key.value for key in holder.keys if isinstance(key, ast.Constant)
        ):
            return None  # a JSON-schema-like form definition: ``"secret": "url"`` names a field
        # The dict's own name, or the function that builds it (``def RATE_LIMITS(self): ret
        # = {...}``), says what its values are.
        function = ctx.enclosing_function()
        holders = [*where.outer, getattr(function, "name", "")]
        if any(NOT_SECRET_COLLECTION.search(holder) for holder in holders):
            return None
    return name


def _authorization_value(value: str, where: Destination) -> bool:
    """``{"Authorization": "Bearer 3f9a..."}``: a token written into a header."""
    if where.kind != "key" or (where.name or "").lower() not in (
        "authorization",
        "x-api-key",
        "api-key",
    ):
        return False
    token = value
    lower = value.lower()
    for scheme in AUTH_SCHEMES:
        if lower.startswith(scheme):
            token = value[len(scheme) :]
    return len(token) >= 8 and not is_placeholder_secret(token, None)


class HardcodedSecret(Rule):
    code = "PRD402"
    name = "HardcodedSecret"
    summary = "A password, token or key hardcoded in the source"
    message = "Hardcoded {what}; read it from the environment or a secret store"
    what_it_does = """
Flags non-empty string literals bound to secret-looking names (`*_PASSWORD`, `*_SECRET`,
`SECRET_KEY`, `API_KEY`, `*_TOKEN`, `passphrase`...) as a variable, attribute, dict
entry, keyword argument or parameter default; keys passed to `jwt.encode`/`jwt.decode`
and `hmac.new` (also through a constant); the password of `HTTPBasicAuth("user",
"pass")` and `auth=("user", "pass")`; `Authorization: Bearer ...` header values;
passwords inside URLs (`postgresql://app:s3cret@db/app`); and well-known credential
formats anywhere (`AKIA...` AWS key ids, `sk_live_...`, `ghp_...`, Slack tokens, Google
API keys, `-----BEGIN PRIVATE KEY-----` blocks).

Not flagged: empty and placeholder values (`"changeme"`, `"xxx"`, `"<your-key>"`,
`"${TOKEN}"`, `"test"`, `"dummy"`), templates, file names, sentences, values that repeat
the name (`PASSWORD_FIELD = "password"`), names about a secret rather than holding one
(`password_field_name`, `SECRET_KEY_PREFIX`), enum members, fallbacks of environment
lookups, defaults of pydantic-settings classes, comparisons, HTTP verbs and rate limits
(`access_token_method = "POST"`, `"5/m/user"`), entries of dicts named for a non-secret
kind of value (`RATE_LIMITS = {"change_password": ...}`, also when built in a function of
that name), lines marked `# nosec` (a reviewer kept bandit's finding), and test files.

A literal is fixed only when no other value in the file reads (or is fixed to read) the
same variable: one variable per distinct value.
"""
    why_bad = """
A secret in the source is in every clone, fork, CI log and container image, for ever:
it cannot be rotated without a release and anyone with read access to the repository
can use it. Secrets belong in the environment or a secret manager, injected per
deployment.
"""
    example = """
import jwt

JWT_SECRET = "k9$Vd2!xQ7pLm4#Rt8"


def token_for(user_id):
    return jwt.encode({"sub": user_id}, JWT_SECRET, algorithm="HS256")
"""
    use_instead = """
import os

import jwt

JWT_SECRET = os.environ["JWT_SECRET"]


def token_for(user_id):
    return jwt.encode({"sub": user_id}, JWT_SECRET, algorithm="HS256")
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: the literal becomes `os.environ["NAME"]` (`NAME` from the bound name,
`APP_` prefixed when it is one word; a URL with a password is read whole, as the
deployment's `DATABASE_URL`-style variable: the name it is bound to, or one made from its
scheme or host, so `create_engine("postgresql://app:s3cret@db/app")` becomes
`create_engine(os.environ["DATABASE_URL"])`), so the program fails at start-up until the
deployment sets the variable, and the old value must still be rotated: it stays in the
repository's history. Offered for a literal bound to a name, attribute, dict entry or
keyword argument (a URL also where it is passed positionally); not for parameter
defaults, pieces of built strings, other values passed positionally, or where `os` means
something else.
"""
    severity = Severity.ERROR
    fix_safety = FixSafety.UNSAFE
    honours_nosec = True
    fix_node_types = ("SimpleString", "ConcatenatedString")

    # ``jwt.encode(payload, key)``, ``hmac.new(key)``, ``HTTPBasicAuth(user, password)``: the
    # only calls this rule reads; constants are hooked apart.
    call_names = frozenset(KEY_CALL_NAMES)

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        self._check_key_parameter(node, ctx)

    def check_Constant(self, node: ast.Constant, ctx: Context) -> None:
        raw = node.value
        if isinstance(raw, str):
            value = raw
        elif isinstance(raw, bytes):
            value = raw.decode("latin-1")
        else:
            return
        if len(value) < 3:
            return
        # Tokens have no spaces; a text with spaces can only hold a key block.
        if (
            len(value) >= 16
            and (" " not in value or "-----BEGIN" in value)
            and any(token in value for token in SHAPE_TOKENS)
        ):
            shape = CREDENTIAL_SHAPES.search(value)
            if shape is not None and "EXAMPLE" not in value and not not_deployed(ctx):
                self._report(
                    node, ctx, CREDENTIAL_KINDS[str(shape.lastgroup)], destination(node, ctx)
                )
                return
        if "@" in value and "://" in value:
            address = parse_address(value)
            if (
                address is not None
                and address.password
                and not is_placeholder_secret(address.password, None)
            ):
                if not not_deployed(ctx) and not under_env_lookup(ctx):
                    # The deployment sets the whole URL (``DATABASE_URL``): host and user go
                    # with the password, and a password spliced into a URL would need quoting.
                    where = destination(node, ctx)
                    variable = None if where is None else address_variable(where, address, ctx)
                    self._report(node, ctx, "password in a URL", where, variable)
                return
        if len(value) > 200 or not _may_hold_secret(node, ctx):
            return
        where = destination(node, ctx)
        if where is None:
            return
        name = _secret_name(where, ctx)
        if name is not None:
            if is_placeholder_secret(value, name):
                return
            what = f"secret in `{name}`"
        elif where.element == 1 and where.kind == "keyword" and where.name == "auth":
            if is_placeholder_secret(value, None):
                return
            what = "password in `auth=`"
        elif _authorization_value(value, where):
            what = f"credential in the `{where.name}` header"
        else:
            return
        if (
            not_deployed(ctx)
            or under_env_lookup(ctx)
            or in_settings_class(ctx)
            or in_enum_class(ctx)
        ):
            return
        self._report(node, ctx, what, where)

    def _check_key_parameter(self, call: ast.Call, ctx: Context) -> None:
        func = call.func
        name = (
            func.attr
            if type(func) is ast.Attribute
            else func.id
            if type(func) is ast.Name
            else None
        )
        if name not in KEY_CALL_NAMES:
            return
        # ``.encode()`` is mostly ``str.encode``: resolve it only in files that use jwt/hmac.
        library = KEY_CALL_NAMES[name]
        if library and not ctx.memo(f"config.mentions.{library}", lambda: library in ctx.text):
            return
        slot = KEY_PARAMETERS.get(ctx.qualified_name(func) or "")
        if slot is None:
            return
        passed = argument(call, *slot)
        if not isinstance(passed, ast.expr) or not_deployed(ctx):
            return
        value = string_value(passed, ctx)
        if value is None or not value.strip():
            return
        if (
            isinstance(passed, ast.Constant)
            and slot[1] == "password"
            and is_placeholder_secret(value, None)
        ):
            return
        # A literal key bound to a secret name is reported where it is bound, once.
        bound = not isinstance(passed, ast.Constant) and SECRET_NAME.search(
            getattr(passed, "id", "")
        )
        if bound and not is_placeholder_secret(value, getattr(passed, "id", None)):
            return
        what = (
            "password" if slot[1] == "password" else f"key passed to `{ctx.qualified_name(func)}`"
        )
        self.report(ctx, passed, what=what)

    def _report(
        self,
        node: ast.Constant,
        ctx: Context,
        what: str,
        where: Destination | None,
        variable: str | None = None,
    ) -> None:
        """``variable`` names the environment variable when the destination's own name is
        not it (a URL passed to a client); otherwise it comes from the bound name."""
        kinds = FIXABLE_KINDS if variable is None else (*FIXABLE_KINDS, "argument")
        fixable = (
            where is not None
            and where.whole
            and where.element is None
            and (where.name or variable)
            and where.kind in kinds
            and isinstance(node.value, str)
            and os_module_usable(ctx)
        )
        if not fixable:
            self.report(ctx, node, what=what)
            return
        assert where is not None
        if variable is None:
            assert where.name is not None
            words = (
                [w for w in reversed(where.outer) if w.lower() != "default"]
                if where.kind == "key"
                else []
            )
            variable = env_name(*words, where.name)
        if not claim_variable(ctx, variable, str(node.value)):
            self.report(ctx, node, what=what)  # another value already reads that variable
            return
        self.report(
            ctx, node, fix=FixSafety.UNSAFE, payload=EnvVariablePayload(variable), what=what
        )

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        import libcst as cst

        from prodlint.fixes.config import env_lookup

        assert isinstance(node, (cst.SimpleString, cst.ConcatenatedString))
        return env_lookup(
            node, finding.payload_as(EnvVariablePayload).variable, fixes, required=True
        )
