"""Reading the process environment: the lookups that let a deployment override a value."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prodlint.analysis.imports import dotted_name
from prodlint.analysis.scopes import FUNCTION_NODES
from prodlint.model import FixPayload

if TYPE_CHECKING:
    from prodlint.analysis.context import Context


@dataclass(frozen=True)
class EnvVariablePayload(FixPayload):
    """The fix of a hardcoded value: read it from this environment variable instead."""

    variable: str


ENV_FUNCTIONS = frozenset(
    {
        "os.getenv",
        "os.getenvb",
        "os.environ.get",
        "os.environ.setdefault",
        "os.environ.pop",
        "os.environb.get",
        "decouple.config",
        "decouple.AutoConfig",
        # dj-database-url and its siblings read DATABASE_URL (or ``env=``) themselves:
        # ``default=`` is the fallback for a machine that sets none (saleor's settings).
        "dj_database_url.config",
        "dj_email_url.config",
        "django_cache_url.config",
    }
)

# django-environ, environs and python-decouple objects are conventionally named so:
# ``env("API_URL", default=...)``, ``env.str(...)``, ``config("API_URL", default=...)``.
ENV_OBJECT_NAMES = frozenset({"env", "environ", "environs", "config", "getenv"})
ENV_LIBRARIES = ("environ.", "environs.", "decouple.", "dynaconf.", "everett.")
# Settings classes read every field from the environment; a class default is a fallback.
SETTINGS_BASES = frozenset({"BaseSettings", "Settings", "EnvSettings", "AppSettings"})


def is_env_lookup(call: ast.Call, ctx: Context) -> bool:
    """``os.environ.get("X", ...)``, ``os.getenv``, django-environ/environs/decouple readers."""
    qualified = ctx.qualified_name(call.func) or ""
    if qualified in ENV_FUNCTIONS or qualified.startswith(ENV_LIBRARIES):
        return True
    text = dotted_name(call.func) or ""
    if text.endswith(("environ.get", "environ.setdefault", ".getenv")):
        return True
    root = text.partition(".")[0]
    return root in ENV_OBJECT_NAMES


def under_env_lookup(ctx: Context) -> bool:
    """True when the node being visited is an argument of an environment lookup, i.e. the
    fallback a deployment overrides."""
    for node in reversed(ctx.ancestors):
        if isinstance(node, ast.Call) and is_env_lookup(node, ctx):
            return True
        if isinstance(node, ast.stmt):
            return False
    return False


def in_settings_class(ctx: Context) -> bool:
    """Directly in the body of a pydantic-settings style class (``class S(BaseSettings)``)."""
    for node in reversed(ctx.ancestors):
        if isinstance(node, FUNCTION_NODES):
            return False
        if isinstance(node, ast.ClassDef):
            return any(
                (dotted_name(base) or "").rpartition(".")[2] in SETTINGS_BASES
                for base in node.bases
            )
    return False


def os_module_usable(ctx: Context) -> bool:
    """Whether a fix may write ``os.environ`` here: ``os`` is unbound or the ``os`` module,
    in the module and in every enclosing function."""
    for func in ctx.enclosing_functions():
        if "os" in ctx.scope_of(func).bindings:
            return False
    bindings = ctx.module_scope.bindings.get("os", [])
    return (
        all(b.kind == "import" for b in bindings)
        and ctx.module_scope.imports.get("os", "os") == "os"
    )


@dataclass(frozen=True)
class EnvRead:
    """One read of one environment variable: ``os.environ["X"]`` (``required``: a missing
    variable raises ``KeyError``) or ``os.getenv("X")`` / ``os.environ.get("X")`` without a
    default (``required`` False: a missing variable is ``None``)."""

    variable: str | None
    required: bool


# The stdlib readers; a default makes a read safe whatever the deployment sets.
OPTIONAL_READERS = frozenset({"os.getenv", "os.environ.get"})


def env_read(node: ast.Subscript | ast.Call, ctx: Context) -> EnvRead | None:
    """``node`` as a read of the environment that has no fallback, else None."""
    if isinstance(node, ast.Subscript):
        if not isinstance(node.ctx, ast.Load) or ctx.qualified_name(node.value) != "os.environ":
            return None
        key = node.slice
        return EnvRead(
            key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None,
            required=True,
        )
    if (
        len(node.args) != 1
        or node.keywords
        or not isinstance(node.func, ast.Attribute)
        or node.func.attr not in ("get", "getenv")
        or ctx.qualified_name(node.func) not in OPTIONAL_READERS
    ):
        return None
    key = node.args[0]
    return EnvRead(
        key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None,
        required=False,
    )


# What a required read (``os.environ["X"]``) reads, as a value distinct from every literal.
REQUIRED = "\0required"


def _lookups(tree: ast.Module) -> dict[str, set[str]]:
    """Variable -> the fallbacks the file's ``os.environ`` / ``os.getenv`` lookups give it
    (``REQUIRED`` for a read without one; the source of a computed fallback)."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
            if (dotted_name(node.value) or "").endswith("environ") and isinstance(
                key, ast.Constant
            ):
                found.setdefault(str(key.value), set()).add(REQUIRED)
        elif isinstance(node, ast.Call) and node.args:
            func = dotted_name(node.func) or ""
            key = node.args[0]
            if not func.endswith(("environ.get", "getenv")) or not isinstance(key, ast.Constant):
                continue
            fallbacks = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "default")]
            fallback = fallbacks[0] if fallbacks else None
            text = (
                fallback.value
                if isinstance(fallback, ast.Constant) and isinstance(fallback.value, str)
                else REQUIRED
                if fallback is None
                else ast.unparse(fallback)
            )
            found.setdefault(str(key.value), set()).add(text)
    return found


def claim_variable(ctx: Context, variable: str, value: str) -> bool:
    """Whether a fix may read ``variable`` in place of the literal ``value``: one variable
    per distinct value in a file. False when another literal of this run claimed it for a
    different value, or a lookup already in the file reads it with another fallback (or
    none: ``REQUIRED``), so that setting it never changes two different values at once,
    in this pass or a later one over the fixed text."""
    existing = ctx.memo("environment.lookups", lambda: _lookups(ctx.tree))
    claims: dict[str, str] = ctx.memo("environment.claims", dict)
    if existing.get(variable, set()) - {value}:
        return False
    if claims.setdefault(variable, value) != value:
        return False
    return True
