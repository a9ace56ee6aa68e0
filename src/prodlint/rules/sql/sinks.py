"""Recognising SQL sinks: the database calls of each driver, and the paramstyle a fix
uses for them."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from prodlint.analysis.calls import passed
from prodlint.analysis.context import Context
from prodlint.analysis.imports import dotted_name, last_name

SINK_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "exec_driver_sql",
        "raw",
        "extra",
        "fetch",
        "fetchrow",
        "fetchval",
        "fetch_all",
        "fetch_one",
        "fetch_val",
        "iterate",
        "read_sql",
        "read_sql_query",
        "text",
        "RawSQL",
        "run",  # pg8000's native ``conn.run(sql, **params)``
        "cursor",  # asyncpg's ``conn.cursor(sql, *args)``
        "sql",  # PySpark / Databricks ``spark.sql(sql)``
        *("filter", "order_by", "group_by", "having", "distinct"),  # SQLAlchemy Query, textual
    }
)
# ``Query.filter("a = 1")``: SQLAlchemy before 1.4 ran a string here as SQL (1.4 rejects it).
QUERY_METHODS = frozenset({"filter", "order_by", "group_by", "having", "distinct"})
SINK_FUNCTIONS = frozenset({"text", "RawSQL", "read_sql", "read_sql_query"})

# Receivers that are database handles by the names code gives them.
DB_RECEIVER = re.compile(
    r"(?:^|_)(?:c|cr|cur|curs|cursor|cursors|con|conn|cnx|cnxn|connection|db|database|dbconn|"
    r"session|sess|engine|pool|tx|txn|transaction)(?:$|_|\d)",
    re.IGNORECASE,
)
DRIVER_STYLES = {
    "sqlite3": "qmark",
    "aiosqlite": "qmark",
    "duckdb": "qmark",
    "psycopg2": "format",
    "psycopg": "format",
    "pymysql": "format",
    "MySQLdb": "format",
    "mysql": "format",
    "django": "format",
    "aiomysql": "format",
    "aiopg": "format",
    "pymssql": "format",
    "pg8000": "format",
    "oracledb": "named",
    "cx_Oracle": "named",
    "clickhouse_driver": "pyformat",
    "snowflake": "pyformat",
}
DB_MODULES = frozenset({*DRIVER_STYLES, "asyncpg", "sqlalchemy", "databases"})
# Drivers that send a bound str typed as text (server-side binding): a quoted literal the
# database typed from context ('5' against an integer column) may not compare the same.
TYPED_DRIVERS = frozenset({"asyncpg", "pg8000", "oracledb", "cx_Oracle", "duckdb"})
# MySQL, ClickHouse and Snowflake read a backslash in a string literal as an escape; a bound
# parameter is taken literally ('C:\temp' matched a tab before). Django may run on MySQL.
BACKSLASH_DRIVERS = frozenset(
    {"pymysql", "MySQLdb", "mysql", "aiomysql", "clickhouse_driver", "snowflake", "django"}
)
# What a handle is made by: ``mydb = mysql.connector.connect(...)``, ``cs = conn.cursor()``.
HANDLE_FACTORIES = frozenset(
    {"connect", "cursor", "Client", "Connection", "create_engine", "Session", "begin"}
)

# --- sinks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sink:
    call: ast.Call
    label: str  # how the message names it, e.g. ``cursor.execute``
    sql: tuple[ast.expr, ...]  # the SQL argument(s)
    # The fix's paramstyle: qmark, format, pyformat, named (DB-API mapping, or SQLAlchemy
    # text()), values (databases), keywords (pg8000 run), dollar (asyncpg), clause (a
    # SQLAlchemy Query string clause, wrapped in text()), spark-args (``args={...}``),
    # qmark-params (duckdb ``.sql(..., params=[...])``); None: no fix.
    style: str | None
    needs_sql_words: bool = True
    # A bound str may not match what the quoted literal it replaces did: the driver types
    # it as text where the database typed the literal from context ('5' against an integer
    # column), or the database read backslashes in the literal as escapes (MySQL).
    binds_may_differ: bool = False
    textual_clause: bool = False  # a string handed to SQLAlchemy's Query.filter & co.


def _receiver_name(expr: ast.expr) -> str | None:
    if isinstance(expr, (ast.Name, ast.Attribute)):
        return last_name(expr)
    if isinstance(expr, ast.Call):
        # ``connection.cursor().execute(...)``, ``engine.connect().execute(...)``
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in (
            "cursor",
            "connect",
            "begin",
        ):
            return "cursor"
        if isinstance(expr.func, ast.Name) and expr.func.id in ("connect", "get_connection"):
            return "conn"
    if isinstance(expr, ast.Subscript):
        return _receiver_name(expr.value)
    return None


def _is_db_receiver(expr: ast.expr, ctx: Context) -> bool:
    name = _receiver_name(expr)
    if name is None:
        return False
    # ``mydbCursor`` reads as ``mydb_cursor``.
    if DB_RECEIVER.search(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)):
        return True
    if isinstance(expr, ast.Name):
        value = ctx.value_of(expr.id)
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call) and last_name(value.func) in HANDLE_FACTORIES:
            return True
        return _annotated_handle(expr.id, ctx)
    return False


def _annotated_handle(name: str, ctx: Context) -> bool:
    """A parameter annotated with a driver's type: ``client: clickhouse_driver.Client``."""
    function = ctx.enclosing_function()
    if function is None:
        return False
    args = function.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if arg.arg == name and arg.annotation is not None:
            annotation = arg.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                return annotation.value.partition(".")[0] in DB_MODULES
            qualified = (
                ctx.qualified_name(annotation)
                if isinstance(annotation, (ast.Name, ast.Attribute))
                else None
            )
            return qualified is not None and qualified.partition(".")[0] in DB_MODULES
    return False


IMPORT_LINE = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import\b|import[ \t]+([^#\n;]+))", re.MULTILINE
)


def driver_modules(ctx: Context) -> frozenset[str]:
    """Top-level names of the modules the file imports (anywhere in it). Read from the
    text, not the tree: a walk of a large module cost more than all the SQL checks."""

    def compute() -> frozenset[str]:
        found: set[str] = set()
        for match in IMPORT_LINE.finditer(ctx.text):
            if match.group(1):
                found.add(match.group(1))
            else:
                found.update(
                    part.split()[0].partition(".")[0]
                    for part in match.group(2).split(",")
                    if part.split()
                )
        return frozenset(found)

    return ctx.memo("sql.modules", compute)


def dbapi_style(ctx: Context) -> str | None:
    """The paramstyle of the one DB-API driver family the file uses, if exactly one."""
    styles = {DRIVER_STYLES[m] for m in driver_modules(ctx) if m in DRIVER_STYLES}
    return styles.pop() if len(styles) == 1 else None


def find_sink(call: ast.Call, ctx: Context) -> Sink | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        method = func.attr
        receiver = func.value
    elif isinstance(func, ast.Name) and func.id in SINK_FUNCTIONS:
        method = func.id
        receiver = None
    else:
        return None
    if method not in SINK_METHODS:
        return None
    # Resolving the callee through the scopes costs more than the rest: only ``text`` and
    # ``read_sql`` need it (for a method the qualified name ends in the method's own name).
    qualified = (
        ctx.qualified_name(func) or method
        if method in SINK_FUNCTIONS or receiver is None
        else method
    )
    receiver_text = (dotted_name(receiver) or _receiver_name(receiver) or "...") if receiver else ""
    label = f"{receiver_text}.{method}" if receiver is not None else method

    if method == "text" or qualified.endswith(".text"):
        if not qualified.startswith("sqlalchemy") and "sqlalchemy" not in driver_modules(ctx):
            return None
        sql = passed(call, 0, "text")
        return (
            Sink(call, label, (sql,), "named", needs_sql_words=False, binds_may_differ=True)
            if sql is not None
            else None
        )
    if method == "RawSQL":
        sql = passed(call, 0, "sql")
        return (
            Sink(call, label, (sql,), "format", needs_sql_words=False, binds_may_differ=True)
            if sql is not None
            else None
        )
    if method in ("read_sql", "read_sql_query"):
        if not (qualified.startswith("pandas.") or receiver_text in ("pd", "pandas")):
            return None
        sql = passed(call, 0, "sql")
        return Sink(call, label, (sql,), dbapi_style(ctx)) if sql is not None else None
    if receiver is None:
        return None
    if method == "raw":
        chain = dotted_name(receiver) or ""
        if not (
            chain.endswith("objects")
            or isinstance(receiver, ast.Call)
            and "objects" in ast.unparse(receiver)
        ):
            return None
        sql = passed(call, 0, "raw_query")
        return (
            Sink(call, label, (sql,), "format", needs_sql_words=False, binds_may_differ=True)
            if sql is not None
            else None
        )
    if method == "extra":
        parts: list[ast.expr] = []
        for keyword in call.keywords:
            if keyword.arg in ("where", "tables") and isinstance(
                keyword.value, (ast.List, ast.Tuple)
            ):
                parts.extend(keyword.value.elts)
            elif keyword.arg == "select" and isinstance(keyword.value, ast.Dict):
                parts.extend(v for v in keyword.value.values if v is not None)
        if call.args and isinstance(call.args[0], ast.Dict):
            parts.extend(v for v in call.args[0].values if v is not None)
        return Sink(call, label, tuple(parts), None, needs_sql_words=False) if parts else None
    if method in QUERY_METHODS:
        # Django's ``queryset.order_by("-" + field)`` checks names; SQLAlchemy's Query ran SQL.
        chain = (dotted_name(receiver) or ast.unparse(receiver)).lower()
        if not call.args or "query" not in chain or "django" in driver_modules(ctx):
            return None
        # The fix wraps it in ``text()`` with binds; the dialect decides their types.
        return Sink(
            call,
            label,
            (call.args[0],),
            "clause",
            needs_sql_words=False,
            binds_may_differ=True,
            textual_clause=True,
        )
    if method == "sql":
        # PySpark / Databricks ``spark.sql(...)``; duckdb's ``conn.sql(...)`` (relational API).
        name = (_receiver_name(receiver) or "").lower()
        modules = driver_modules(ctx)
        if not (
            "spark" in name
            or "pyspark" in modules
            or "duckdb" in modules
            and _is_db_receiver(receiver, ctx)
        ):
            return None
        sql = passed(call, 0, ("sqlQuery", "query"))
        if sql is None:
            return None
        if "duckdb" in modules and "spark" not in name:
            return Sink(call, label, (sql,), "qmark-params", binds_may_differ=True)
        # Spark 3.4+ binds ``:name`` from ``args=``; older Spark raises on ``args``, and
        # Spark reads backslash escapes in literals.
        return Sink(call, label, (sql,), "spark-args", binds_may_differ=True)
    if not _is_db_receiver(receiver, ctx):
        return None
    sql = passed(call, 0, ("sql", "query", "operation", "statement", "sql_script"))
    if sql is None:
        return None
    modules = driver_modules(ctx)
    if method == "run":
        if "pg8000" not in modules:
            return None
        # pg8000.native: ``conn.run("... :name", name=value)``.
        return Sink(call, label, (sql,), "keywords", binds_may_differ=True)
    if method == "cursor":
        return (
            Sink(call, label, (sql,), "dollar", binds_may_differ=True)
            if "asyncpg" in modules
            else None
        )
    if method in ("fetch", "fetchrow", "fetchval") or "asyncpg" in modules and method == "execute":
        if "asyncpg" not in modules and method.startswith("fetch"):
            return None
        return Sink(
            call, label, (sql,), "dollar" if "asyncpg" in modules else None, binds_may_differ=True
        )
    if method in ("fetch_all", "fetch_one", "fetch_val", "iterate"):
        return Sink(
            call, label, (sql,), "values" if "databases" in modules else None, binds_may_differ=True
        )
    if method == "executescript":
        return Sink(call, label, (sql,), None)
    if method == "executemany":
        return Sink(call, label, (sql,), None)
    typed = bool((TYPED_DRIVERS | BACKSLASH_DRIVERS) & modules)
    if method == "exec_driver_sql":
        return Sink(call, label, (sql,), dbapi_style(ctx), binds_may_differ=typed)
    name = (_receiver_name(receiver) or "").lower()
    if "session" in name or "sess" in name or "engine" in name:
        return Sink(call, label, (sql,), None)
    if "databases" in modules and "execute" == method:
        return Sink(call, label, (sql,), "values", binds_may_differ=True)
    return Sink(call, label, (sql,), dbapi_style(ctx), binds_may_differ=typed)
