"""PRD304: a connect handler adds each connection to a long-lived registry that nothing
ever removes it from."""

from __future__ import annotations

import ast

from prodlint.analysis.context import Context
from prodlint.analysis.imports import dotted_name, last_name
from prodlint.model import Severity
from prodlint.registry import Rule

ADDERS = frozenset({"add", "append", "appendleft", "insert", "setdefault", "update", "extend"})
REMOVERS = frozenset(
    {
        "remove",
        "discard",
        "pop",
        "popitem",
        "clear",
        "difference_update",
        "intersection_update",
        "popleft",
    }
)
# Containers that forget their members by themselves.
WEAK = frozenset({"weakref.WeakSet", "weakref.WeakValueDictionary", "weakref.WeakKeyDictionary"})
CONTAINER_CALLS = frozenset(
    {
        "set",
        "list",
        "dict",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "defaultdict",
        "OrderedDict",
        "deque",
    }
)
CONNECTION_NAMES = frozenset(
    {
        "websocket",
        "ws",
        "socket",
        "sock",
        "conn",
        "connection",
        "client",
        "peer",
        "transport",
        "protocol",
        "channel",
        "stream",
        "writer",
    }
)
CONNECTION_TYPES = frozenset(
    {
        "WebSocket",
        "WebSocketServerProtocol",
        "ServerConnection",
        "ServerProtocol",
        "WebSocketResponse",
        "StreamWriter",
        "socket",
        "Transport",
    }
)
CONSUMER_BASES = (
    "Consumer",
)  # Django Channels: WebsocketConsumer, AsyncWebsocketConsumer, JsonWebsocketConsumer...
CONNECT_METHODS = frozenset({"connect", "websocket_connect", "on_connect", "open"})
SOCKETIO_CONNECT = frozenset({"connect"})


class ConnectionRegistryLeak(Rule):
    code = "PRD304"
    name = "ConnectionRegistryLeak"
    summary = "Connections added to a module- or class-level registry that nothing ever removes"
    message = (
        "`{registry}` keeps every connection this handler adds: nothing removes it on "
        "disconnect, close or error"
    )
    what_it_does = """
Flags a connection handler that adds the connection (a websocket, a socket, a
Flask-SocketIO session id, a Django Channels consumer) to a registry that outlives it, a
module-level or class-level `set`/`list`/`dict` (or one created in `__init__` of a
long-lived manager), when nothing in the module ever removes anything from that registry:
no `remove`/`discard`/`pop`/`del`/`clear`, in a `finally`, a disconnect handler or
anywhere else. Handlers are recognised by shape: an `async def` taking a websocket, a
Channels consumer's `connect`, a Socket.IO `connect` event, a function that adds the
result of `accept()`. Registries of weak references are not flagged.
"""
    why_bad = """
Every client that ever connected stays referenced: its socket, buffers and per-connection
state are never freed, the process grows with each reconnect, and broadcasts keep trying
to write to connections that are long gone (each failure another exception in the logs).
This is the classic "memory grows until the pod is restarted" leak of chat and
notification services.
"""
    example = """
CONNECTIONS = set()


async def handler(websocket):
    CONNECTIONS.add(websocket)
    async for message in websocket:
        await websocket.send(message)
"""
    use_instead = """
CONNECTIONS = set()


async def handler(websocket):
    CONNECTIONS.add(websocket)
    try:
        async for message in websocket:
            await websocket.send(message)
    finally:
        CONNECTIONS.discard(websocket)
"""
    fix_safety_note = """
This rule has no fix: where the connection should be dropped (a `finally`, a disconnect
event, a consumer's `disconnect`) depends on the framework and on what else the handler
does.
"""
    severity = Severity.WARNING
    call_names = ADDERS  # ``registry.add(conn)`` and the like; assignments are hooked apart

    def check_Call(self, node: ast.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in ADDERS or not node.args:
            return
        added = node.args[-1] if func.attr != "setdefault" else node.args[0]
        self._judge(node, func.value, added, ctx)

    def check_Assign(self, node: ast.Assign, ctx: Context) -> None:
        target = node.targets[0]
        if len(node.targets) != 1 or not isinstance(target, ast.Subscript):
            return
        added = target.slice if _is_connection_key(target.slice) else node.value
        self._judge(node, target.value, added, ctx)

    def _judge(self, node: ast.AST, registry: ast.expr, added: ast.expr, ctx: Context) -> None:
        """``added`` is put into ``registry`` by ``node``: a leak when it is a connection
        and no code of the module ever takes it out again."""
        key = _registry_key(registry)
        if key is None:
            return
        handler = ctx.enclosing_function()
        if not isinstance(handler, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        if not _is_connection(added, handler, ctx):
            return
        if not _long_lived(key, registry, ctx):
            return
        if key in ctx.memo("resources:removed", lambda: _removed_registries(ctx.tree)):
            return
        self.report(ctx, node, registry=dotted_name(registry) or key)


def _registry_key(expr: ast.expr) -> str | None:
    """``NAME`` for a module-level name, ``.attr`` for ``self.attr`` / ``cls.attr`` /
    ``Class.attr``: what a removal elsewhere in the module is matched against."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return "." + expr.attr
    return None


def _is_connection_key(expr: ast.expr) -> bool:
    """``request.sid`` (Flask-SocketIO) or ``sid`` used as the key."""
    return (isinstance(expr, ast.Attribute) and expr.attr == "sid") or (
        isinstance(expr, ast.Name) and expr.id == "sid"
    )


def _is_connection(
    expr: ast.expr, handler: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context
) -> bool:
    if _is_connection_key(expr):
        return _is_socketio_connect(handler)
    if isinstance(expr, ast.Name) and expr.id == "self":
        owner = ctx.enclosing_class()
        return (
            owner is not None
            and handler.name in CONNECT_METHODS
            and any((last_name(base) or "").endswith(CONSUMER_BASES) for base in owner.bases)
        )
    if not isinstance(expr, ast.Name):
        return False
    for arg in [*handler.args.posonlyargs, *handler.args.args, *handler.args.kwonlyargs]:
        if arg.arg != expr.id:
            continue
        annotated = (
            arg.annotation is not None
            and last_name(
                arg.annotation.value
                if isinstance(arg.annotation, ast.Subscript)
                else arg.annotation
            )
            in CONNECTION_TYPES
        )
        named = arg.arg in CONNECTION_NAMES and isinstance(handler, ast.AsyncFunctionDef)
        return annotated or named
    # ``conn, addr = server.accept()`` in this handler (the text test spares the walk).
    if ".accept(" not in ctx.text:
        return False
    for statement in ast.walk(handler):
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Attribute)
            and statement.value.func.attr == "accept"
        ):
            names = [
                t
                for target in statement.targets
                for t in ast.walk(target)
                if isinstance(t, ast.Name)
            ]
            if any(name.id == expr.id for name in names[:1]):
                return True
    return False


def _is_socketio_connect(handler: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in handler.decorator_list:
        if isinstance(decorator, ast.Call) and last_name(decorator.func) in ("on", "on_event"):
            first = decorator.args[0] if decorator.args else None
            if isinstance(first, ast.Constant) and first.value in SOCKETIO_CONNECT:
                return True
        if last_name(decorator) == "event" and handler.name in SOCKETIO_CONNECT:
            return True
    return False


def _long_lived(key: str, registry: ast.expr, ctx: Context) -> bool:
    """A module-level container, a class attribute, or one made in ``__init__``; not a weak
    one."""
    if key.startswith("."):
        owner = ctx.enclosing_class()
        if owner is None:
            return False
        attr = key[1:]
        for item in owner.body:
            value = _assigned(item, attr)
            if value is not None:
                return _is_container(value, ctx)
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                for statement in ast.walk(item):
                    value = _assigned_to_self(statement, attr)
                    if value is not None:
                        return _is_container(value, ctx)
        return False
    assert isinstance(registry, ast.Name)
    for func in ctx.enclosing_functions():
        if (
            registry.id in ctx.scope_of(func).bindings
            and registry.id not in ctx.scope_of(func).declared_global
        ):
            return False  # a local registry dies with the handler
    value = ctx.module_scope.only_assignment(registry.id)
    return value is not None and _is_container(value, ctx)


def _assigned(statement: ast.stmt, name: str) -> ast.expr | None:
    if isinstance(statement, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in statement.targets
    ):
        return statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == name
    ):
        return statement.value
    return None


def _assigned_to_self(node: ast.AST, attr: str) -> ast.expr | None:
    targets: list[ast.expr] = []
    value: ast.expr | None = None
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign):
        targets, value = [node.target], node.value
    for target in targets:
        if (
            isinstance(target, ast.Attribute)
            and target.attr == attr
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            return value
    return None


def _is_container(value: ast.expr, ctx: Context) -> bool:
    if isinstance(value, (ast.Set, ast.List, ast.Dict)):
        return True
    if isinstance(value, ast.Call):
        qualified = ctx.qualified_name(value.func)
        return qualified not in WEAK and qualified in CONTAINER_CALLS
    return False


def _removed_registries(tree: ast.Module) -> frozenset[str]:
    """Every registry key anything in the module removes from, clears or rebinds."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in REMOVERS
        ):
            key = _registry_key(node.func.value)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    key = _registry_key(target.value)
                    if key is not None:
                        found.update({key, "." + key.lstrip(".")})
            continue
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub):
            key = _registry_key(node.target)
        elif isinstance(node, ast.Assign) and isinstance(
            node.value, (ast.ListComp, ast.SetComp, ast.DictComp)
        ):
            # ``clients = [c for c in clients if c.open]``: pruned by rebinding.
            key = next((_registry_key(t) for t in node.targets), None)
        else:
            continue
        if key is not None:
            # A removal through ``self.x`` counts for ``Class.x`` and the other way round.
            found.update({key, "." + key.lstrip(".")})
    return frozenset(found)
