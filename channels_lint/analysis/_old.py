"""Shared name, scope and evidence analysis over one module's :mod:`ast` tree.

Every rule asks this module; no rule resolves imports, consumer classes, execution context
or ORM evidence by itself.  The analysis is built once per file by the engine, in one walk
of the tree, and everything else is computed lazily and cached.

Facts used here, with their sources (see ``shared/reference/channels-semantics.md``):

* consumer classes and which of them are async: ``channels/consumer.py`` and
  ``channels/generic/{websocket,http}.py`` @ 4.3.2 (§2.1);
* every channel-layer method is a coroutine, ``get_channel_layer()`` is sync:
  ``channels/layers.py`` @ 4.3.2 (§2.2);
* ``database_sync_to_async`` is ``channels.db.DatabaseSyncToAsync``, a ``SyncToAsync``
  subclass; both run the wrapped function in a worker thread (§3.1);
* which QuerySet/Manager methods run SQL and which only build a queryset:
  Django ``docs/topics/db/queries.txt`` "Asynchronous queries" and the introspection in §4.
"""

from __future__ import annotations

import ast
import copy
import enum
import functools
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from channels_lint.project import ModelInfo, ModelsIndex, Settings, dotted, find_root, models_in_module, models_index

# --------------------------------------------------------------------------- facts

#: Channels consumer base classes by qualified name, and whether their handlers are async.
CONSUMER_BASES: dict[str, bool] = {
    "channels.consumer.AsyncConsumer": True,
    "channels.consumer.SyncConsumer": False,
    "channels.generic.websocket.WebsocketConsumer": False,
    "channels.generic.websocket.JsonWebsocketConsumer": False,
    "channels.generic.websocket.AsyncWebsocketConsumer": True,
    "channels.generic.websocket.AsyncJsonWebsocketConsumer": True,
    "channels.generic.http.AsyncHttpConsumer": True,
    "channels.security.websocket.WebsocketDenier": True,
}

#: Bridges that run a sync callable in a worker thread (asgiref/sync.py, channels/db.py).
SYNC_TO_ASYNC = frozenset(
    {
        "asgiref.sync.sync_to_async",
        "asgiref.sync.SyncToAsync",
        "channels.db.database_sync_to_async",
        "channels.db.DatabaseSyncToAsync",
    }
)
ASYNC_TO_SYNC = frozenset({"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"})
#: Library functions that are coroutine functions (channels/auth.py, channels/db.py).
KNOWN_COROUTINE_FUNCTIONS = frozenset(
    {
        "channels.auth.login",
        "channels.auth.logout",
        "channels.auth.get_user",
        "channels.db.aclose_old_connections",
        "asyncio.sleep",
    }
)
GET_CHANNEL_LAYER = "channels.layers.get_channel_layer"

#: Channel-layer methods; all are coroutines (channels/layers.py, channels_redis/core.py).
LAYER_METHODS = frozenset(
    {
        "send",
        "receive",
        "new_channel",
        "group_add",
        "group_discard",
        "group_send",
        "flush",
        "close",
        "close_pools",
        "receive_single",
        "wait_received",
    }
)

_WEBSOCKET = frozenset(
    {
        "connect",
        "disconnect",
        "receive",
        "websocket_connect",
        "websocket_receive",
        "websocket_disconnect",
        "accept",
        "close",
        "send",
    }
)
_JSON = frozenset({"receive_json", "send_json", "encode_json", "decode_json"})
_HTTP = frozenset(
    {"handle", "http_request", "http_disconnect", "send_headers", "send_body", "send_response", "disconnect", "send"}
)
_RAW = frozenset({"websocket_connect", "websocket_receive", "websocket_disconnect", "http_request", "http_disconnect", "send"})

#: The methods Channels defines on each consumer base, by the base's qualified name: on the
#: async bases they are coroutines that Channels awaits, on the sync ones plain methods it
#: calls in a worker thread (channels/consumer.py, channels/generic/*.py @ 4.3.2, §2.2).
CONSUMER_METHODS: dict[str, frozenset[str]] = {
    "channels.consumer.AsyncConsumer": _RAW,
    "channels.consumer.SyncConsumer": _RAW,
    "channels.generic.websocket.WebsocketConsumer": _WEBSOCKET,
    "channels.generic.websocket.JsonWebsocketConsumer": _WEBSOCKET | _JSON,
    "channels.generic.websocket.AsyncWebsocketConsumer": _WEBSOCKET,
    "channels.generic.websocket.AsyncJsonWebsocketConsumer": _WEBSOCKET | _JSON,
    "channels.generic.http.AsyncHttpConsumer": _HTTP,
    "channels.security.websocket.WebsocketDenier": _WEBSOCKET,
}

MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})

#: QuerySet methods that return a new, unevaluated QuerySet (no SQL).
QUERYSET_BUILDERS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "select_related",
        "prefetch_related",
        "values",
        "values_list",
        "only",
        "defer",
        "distinct",
        "none",
        "using",
        "union",
        "intersection",
        "difference",
        "select_for_update",
        "annotate",
        "alias",
        "reverse",
        "complex_filter",
        "extra",
        "dates",
        "datetimes",
        "raw",
        "fetch_mode",
    }
)

#: Sync QuerySet/Manager methods that run SQL, and the ones among them returning one instance.
QUERYSET_INSTANCE_METHODS = frozenset({"get", "first", "last", "earliest", "latest", "create"})
QUERYSET_SQL_METHODS = QUERYSET_INSTANCE_METHODS | frozenset(
    {
        "count",
        "exists",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "aggregate",
        "in_bulk",
        "contains",
        "explain",
    }
)
#: Calls whose keyword arguments end up cached on the instance they return.
CACHING_METHODS = frozenset({"create", "acreate", "__init__"})
#: Async twins (Django 4.1+) that return one instance once awaited.
ASYNC_INSTANCE_METHODS = frozenset({"a" + name for name in QUERYSET_INSTANCE_METHODS})

#: Model instance methods that run SQL (django/db/models/base.py); full_clean runs
#: validate_unique, which queries.
INSTANCE_DB_METHODS = frozenset({"save", "delete", "refresh_from_db", "full_clean", "validate_unique"})
#: Related-manager methods that write (django/db/models/fields/related_descriptors.py).
RELATED_WRITE_METHODS = frozenset({"add", "remove", "clear", "set", "create", "get_or_create", "update_or_create"})
#: User methods that query permissions (django/contrib/auth/models.py); §4.2 of the reference.
USER_DB_METHODS = frozenset(
    {"has_perm", "has_perms", "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions"}
)
TRANSACTION_ATOMIC = frozenset({"django.db.transaction.atomic"})
#: Other sync-only Django calls and what they do (channels-semantics.md §3.3, §4.2).
SYNC_ONLY_CALLS = {
    "django.contrib.auth.authenticate": "queries the user table",
    "django.contrib.auth.login": "writes the session and the user's last_login",
    "django.contrib.auth.logout": "flushes the session in the database",
    "django.contrib.auth.get_user": "queries the session and the user",
    "django.contrib.auth.update_session_auth_hash": "writes the session",
    "django.db.connection.cursor": "opens a database cursor",
}

#: ``x.<relation>.<builder>()`` on an unknown ``x`` is taken as a related manager (weakly).
WEAK_RELATION_BUILDERS = frozenset({"all", "filter", "exclude", "order_by", "select_related", "prefetch_related"})

#: Builtins that evaluate (iterate) their first argument.
EVALUATING_BUILTINS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "len",
        "bool",
        "sorted",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "dict",
        "next",
        "print",
        "str",
        "repr",
    }
)


class Context(enum.Enum):
    """Where a piece of code runs."""

    MODULE = "module"  # module or class body: import time, sync
    SYNC = "sync"  # a plain ``def``: sync, not on the event loop unless called from it
    THREAD = "thread"  # a ``def`` run through sync_to_async/database_sync_to_async
    ASYNC = "async"  # an ``async def``: on the event loop, may ``await``
    LOOP_SYNC = "loop-sync"  # a sync ``def`` that Channels calls on the event loop
    UNKNOWN = "unknown"  # a lambda: where it runs is not decided statically

    @property
    def on_event_loop(self) -> bool:
        return self in (Context.ASYNC, Context.LOOP_SYNC)

    @property
    def is_sync(self) -> bool:
        return self in (Context.MODULE, Context.SYNC, Context.THREAD)


class Orm(enum.Enum):
    """What ORM evidence says an expression is."""

    MODEL = "model class"
    MANAGER = "manager"
    QUERYSET = "queryset"
    INSTANCE = "model instance"
    ROWS = "evaluated rows"  # a list of instances, e.g. await database_sync_to_async(list)(qs)


@dataclass(frozen=True)
class Evidence:
    """What the analysis proved about an ORM expression.

    ``model`` is the model class name when known and ``info`` its models-index entry;
    ``loaded`` the relation paths loaded by ``select_related``/``prefetch_related`` (for an
    instance: loaded on it); ``relation`` is set when a manager or queryset was reached
    through ``instance.<relation>`` (a related manager), and ``prefetched`` when that
    relation was prefetched and the queryset is still its plain ``.all()``.
    """

    kind: Orm
    model: str | None = None
    loaded: frozenset[str] = frozenset()
    relation: str | None = None
    prefetched: bool = False
    info: ModelInfo | None = field(default=None, compare=False, hash=False, repr=False)
    #: The models index's kind of ``relation`` (``"m2m"``, ``"reverse-fk"``...).
    relation_kind: str | None = None
    #: Only the shape says so (``x.members.all()`` on an unknown ``x``): good enough to say a
    #: helper touches the database (CHN104), not to report the expression itself.
    weak: bool = False

    def loads(self, relation: str) -> bool:
        """Whether ``relation`` was loaded by ``select_related``/``prefetch_related``."""
        return "*" in self.loaded or any(path.split("__", 1)[0] == relation for path in self.loaded)

    def instance(self, method: str | None = None, call: ast.Call | None = None) -> Evidence:
        """The evidence of one row of this queryset or manager.  When ``method`` creates the
        row (``create``, ``acreate``, the model class itself), the keyword arguments of
        ``call`` are cached on the instance: reading them back runs no query."""
        loaded = self.loaded
        if call is not None and method in CACHING_METHODS:
            loaded |= {keyword.arg for keyword in call.keywords if keyword.arg}
        return Evidence(Orm.INSTANCE, self.model, loaded, info=self.info, weak=self.weak)


@dataclass(frozen=True)
class DbOperation:
    """An expression that runs SQL (see :attr:`ModuleAnalysis.db_operations`).

    ``shape`` says how a fix may run it elsewhere: ``"call"`` (``node`` is a call that can go
    through ``database_sync_to_async``), ``"iterate"`` (``node`` is an iterable that can be
    evaluated with ``database_sync_to_async(list)``) or ``"none"``.  ``method`` is the ORM
    method called, ``func_name`` the qualified name of a called function; ``scope`` is set
    when the operation runs in another scope than ``node`` (a decorator).
    """

    node: ast.expr
    family: str
    what: str
    shape: str
    method: str | None = None
    evidence: Evidence | None = field(default=None, compare=False)
    func_name: str | None = None
    scope: ast.AST | None = field(default=None, compare=False)


_BINDERS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.With, ast.AsyncWith)

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
Scope = FunctionNode | ast.Module


@dataclass(frozen=True)
class Consumer:
    """A class the analysis proved to be a Channels consumer."""

    node: ast.ClassDef
    is_async: bool
    base: str  # qualified name of the Channels base it derives from


@dataclass(frozen=True)
class LayerCall:
    """A channel-layer method call, e.g. ``self.channel_layer.group_send(g, event)``.

    ``call`` is the call that passes the arguments.  In the bridged form
    ``async_to_sync(layer.group_send)(g, event)`` ``bridge`` is the inner
    ``async_to_sync(...)`` call; otherwise it is ``None``.
    """

    call: ast.Call
    method: str
    receiver: ast.expr
    bridge: ast.Call | None

    @property
    def args(self) -> list[ast.expr]:
        return self.call.args

    def argument(self, position: int, keyword: str) -> ast.expr | None:
        """The argument at ``position`` or passed as ``keyword``, else ``None``."""
        if len(self.call.args) > position and not any(isinstance(arg, ast.Starred) for arg in self.call.args[: position + 1]):
            return self.call.args[position]
        for kw in self.call.keywords:
            if kw.arg == keyword:
                return kw.value
        return None


def is_capitalized(name: str) -> bool:
    return name[:1].isupper()


# --------------------------------------------------------------------------- analysis


def _per_instance_cache(method):
    """Memoise a one-argument method on the instance (freed with it, unlike lru_cache)."""
    key = method.__name__

    @functools.wraps(method)
    def wrapper(self, arg):
        cache = self.__dict__.setdefault("_cache_" + key, {})
        if arg not in cache:
            cache[arg] = method(self, arg)
        return cache[arg]

    return wrapper


class ModuleAnalysis:
    """Everything rules need to know about one module.

    Args:
        tree: the module's :class:`ast.Module` (flake8 hands this over; the engine parses it
            otherwise).
        lines: the module's source lines (``str``, with line endings), used for column
            conversion and ``# noqa``.
        path: the file's path, used to find the project's models; ``None`` for text
            without a file (then only the module's own models are known).
        settings: target versions and fix style (:class:`channels_lint.project.Settings`).

    Building it walks the tree once, recording parents and nodes by type.  It never imports
    the analysed code and never raises on a well-formed :class:`ast.Module`.
    """

    def __init__(self, tree: ast.Module, lines: list[str], path: str | None = None, settings: Settings | None = None) -> None:
        self.tree = tree
        self.lines = lines
        self.path = str(Path(path).resolve()) if path else None
        self.settings = settings or Settings()
        self.parents: dict[ast.AST, ast.AST] = {}
        #: The innermost function or lambda whose body holds each node (the module for none).
        self._scopes: dict[ast.AST, Scope] = {tree: tree}
        self._by_type: dict[type, list[ast.AST]] = defaultdict(list)
        #: Statements and expressions that bind names, by scope (read in source order).
        self._binders: dict[Scope, list[ast.AST]] = defaultdict(list)
        queue = deque([tree])
        while queue:
            node = queue.popleft()
            self._by_type[type(node)].append(node)
            scope = self._scopes[node]
            if isinstance(node, _BINDERS):
                self._binders[scope].append(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = set(map(id, node.body))
            elif isinstance(node, ast.Lambda):
                inner = {id(node.body)}
            else:
                inner = ()
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
                self._scopes[child] = node if id(child) in inner else scope
                queue.append(child)
        self.imports = self._collect_imports()
        self.classes: dict[str, ast.ClassDef] = {
            node.name: node for node in self.nodes(ast.ClassDef) if isinstance(self.parents.get(node), ast.Module)
        }

    # ---------------------------------------------------------------- traversal
    def nodes(self, kind: type) -> list:
        """All nodes of exactly this ``ast`` type, in breadth-first order."""
        return self._by_type.get(kind, [])

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        parent = self.parents.get(node)
        while parent is not None:
            yield parent
            parent = self.parents.get(parent)

    def enclosing_scope(self, node: ast.AST) -> Scope:
        """The innermost function, async function or lambda whose *body* holds ``node``, else
        the module.  Decorators, defaults and annotations belong to the outer scope: they run
        when the ``def`` statement runs."""
        return self._scopes.get(node, self.tree)

    def _scope_chain(self, node: ast.AST) -> list[FunctionNode]:
        """Functions and lambdas whose body holds ``node``, innermost first."""
        chain: list[FunctionNode] = []
        scope = self.enclosing_scope(node)
        while scope is not self.tree:
            chain.append(scope)
            scope = self.enclosing_scope(scope)
        return chain

    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        """The class whose method holds ``node``, also through nested functions that do not
        rebind ``self``."""
        for function in self._scope_chain(node):
            parent = self.parents.get(function)
            if isinstance(parent, ast.ClassDef) and not isinstance(function, ast.Lambda):
                return parent
            arguments = function.args
            if any(a.arg == "self" for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)):
                return None
        return None

    def inside(self, node: ast.AST, kinds: tuple[type, ...]) -> bool:
        """Whether an ancestor of ``node`` within its scope is one of ``kinds``."""
        scope = self.enclosing_scope(node)
        for parent in self.ancestors(node):
            if parent is scope:
                return False
            if isinstance(parent, kinds):
                return True
        return False

    def comprehension_binding(self, name: ast.Name) -> ast.comprehension | None:
        """The comprehension ``for`` clause that binds ``name`` where it is used, if any."""
        scope = self.enclosing_scope(name)
        child: ast.AST = name
        for parent in self.ancestors(name):
            if parent is scope:
                return None
            if isinstance(parent, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                for generator in parent.generators:
                    if child is parent.generators[0].iter:
                        break  # the first iterable is evaluated outside the comprehension
                    if any(isinstance(t, ast.Name) and t.id == name.id for t in ast.walk(generator.target)):
                        return generator
            child = parent
        return None

    def is_async_generator(self, function: ast.AST) -> bool:
        """An ``async def`` with ``yield`` in its own body: calling it gives an async generator,
        which is iterated with ``async for``, never awaited."""
        return isinstance(function, ast.AsyncFunctionDef) and any(
            isinstance(node, (ast.Yield, ast.YieldFrom)) for node in _walk_scope(function.body)
        )

    # ---------------------------------------------------------------- names
    def _collect_imports(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for node in self.nodes(ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        for node in self.nodes(ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    continue
                prefix = module if module.endswith(".") else module + "."
                names[alias.asname or alias.name] = prefix + alias.name
        return names

    def qualname(self, node: ast.expr) -> str | None:
        """Resolve a Name/Attribute chain through the module's imports.

        ``from channels.db import database_sync_to_async as d; d`` gives
        ``"channels.db.database_sync_to_async"``; relative imports keep their dots
        (``".models.Note"``).  Names not imported resolve to themselves.
        """
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        resolved = self.imports.get(head, head)
        return f"{resolved}.{rest}" if rest else resolved

    def resolves_to(self, node: ast.expr, names: frozenset[str] | set[str] | str) -> bool:
        qualified = self.qualname(node)
        if isinstance(names, str):
            return qualified == names
        return qualified in names

    def call_name(self, call: ast.AST) -> str | None:
        """Qualified name of a call's callee, or ``None`` (also for non-calls)."""
        return self.qualname(call.func) if isinstance(call, ast.Call) else None

    # ---------------------------------------------------------------- consumers
    @functools.cached_property
    def consumers(self) -> dict[ast.ClassDef, Consumer]:
        """Module-level and nested classes that derive from a Channels consumer.

        The kind is decided by the resolved Channels base (through local base classes, in
        MRO order), never by the class name.
        """
        found: dict[ast.ClassDef, Consumer] = {}
        local = defaultdict(list)
        for node in self.nodes(ast.ClassDef):
            local[node.name].append(node)

        def resolve(cls: ast.ClassDef, seen: frozenset[str]) -> Consumer | None:
            for base in cls.bases:
                qualified = self.qualname(base)
                if qualified in CONSUMER_BASES:
                    return Consumer(cls, CONSUMER_BASES[qualified], qualified)
                if isinstance(base, ast.Name) and base.id in local and base.id not in seen:
                    for candidate in local[base.id]:
                        inherited = resolve(candidate, seen | {base.id})
                        if inherited is not None:
                            return Consumer(cls, inherited.is_async, inherited.base)
            return None

        for node in self.nodes(ast.ClassDef):
            consumer = resolve(node, frozenset({node.name}))
            if consumer is not None:
                found[node] = consumer
        return found

    def consumer_of(self, node: ast.AST) -> Consumer | None:
        """The consumer whose method contains ``node`` (directly), else ``None``."""
        cls = self.enclosing_class(node)
        return self.consumers.get(cls) if cls is not None else None

    def class_methods(self, cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        """Methods of ``cls`` and its local bases (nearest definition wins)."""
        methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for klass in self._local_mro(cls):
            for stmt in klass.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    methods.setdefault(stmt.name, stmt)
        return methods

    def _local_mro(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        order, queue = [], [cls]
        while queue:
            klass = queue.pop(0)
            if klass in order:
                continue
            order.append(klass)
            queue.extend(self.classes[base.id] for base in klass.bases if isinstance(base, ast.Name) and base.id in self.classes)
        return order

    # ---------------------------------------------------------------- context
    def is_bridge(self, node: ast.expr) -> bool:
        """``sync_to_async`` / ``database_sync_to_async``, bare or called, or a function of
        this module that returns one applied to its argument (a project's own wrapper, one
        level deep)."""
        if isinstance(node, ast.Call):
            node = node.func
        if self.resolves_to(node, SYNC_TO_ASYNC):
            return True
        return isinstance(node, ast.Name) and node.id in self._bridge_wrappers

    @functools.cached_property
    def _bridge_wrappers(self) -> frozenset[str]:
        wrappers = set()
        for function in self.tree.body:
            if isinstance(function, ast.FunctionDef):
                for node in _walk_scope(function.body):
                    if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                        call = node.value
                        bridge = call.func.func if isinstance(call.func, ast.Call) else call.func
                        if self.resolves_to(bridge, SYNC_TO_ASYNC):
                            wrappers.add(function.name)
        return frozenset(wrappers)

    @functools.cached_property
    def _thread_functions(self) -> tuple[frozenset[str], frozenset[str]]:
        """Names of functions (first) and methods (second, as ``self.m``/``cls.m``) passed to
        a thread runner anywhere: ``sync_to_async(f)``, ``database_sync_to_async(f)``,
        ``asyncio.to_thread(f, ...)``, ``loop.run_in_executor(executor, f, ...)``."""
        names: set[str] = set()
        methods: set[str] = set()
        for call in self.nodes(ast.Call):
            target = None
            if (self.is_bridge(call.func) or self.resolves_to(call.func, "asyncio.to_thread")) and call.args:
                target = call.args[0]
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "run_in_executor" and len(call.args) > 1:
                target = call.args[1]
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in ("self", "cls"):
                methods.add(target.attr)
        return frozenset(names), frozenset(methods)

    def context(self, node: ast.AST) -> Context:
        """Where the code of ``node`` runs (see :class:`Context`)."""
        scope = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else self.enclosing_scope(node)
        return self._scope_context(scope)

    @_per_instance_cache
    def _scope_context(self, scope: Scope) -> Context:
        if isinstance(scope, ast.Module):
            return Context.MODULE
        if isinstance(scope, ast.Lambda):
            parent = self.parents.get(scope)
            if isinstance(parent, ast.Call) and self.is_bridge(parent.func) and parent.args and parent.args[0] is scope:
                return Context.THREAD
            return Context.UNKNOWN
        if isinstance(scope, ast.AsyncFunctionDef):
            return Context.ASYNC
        if any(self.is_bridge(decorator) for decorator in scope.decorator_list):
            return Context.THREAD
        cls = self.parents.get(scope)
        if scope.name in self._thread_functions[isinstance(cls, ast.ClassDef)]:
            return Context.THREAD
        if isinstance(cls, ast.ClassDef):
            consumer = self.consumers.get(cls)
            if (
                consumer is not None
                and consumer.is_async
                and (scope.name in CONSUMER_METHODS[consumer.base] or scope.name in self.event_handler_names)
            ):
                return Context.LOOP_SYNC
        return Context.SYNC

    def is_awaited(self, node: ast.expr) -> bool:
        return isinstance(self.parents.get(node), ast.Await)

    def can_await_here(self, node: ast.AST) -> bool:
        """Whether an ``await`` can be inserted at ``node`` without changing semantics.

        True only directly in an ``async def`` body: not in a lambda, a sync def, an
        f-string (the fix would have to rewrite the string), or a generator expression
        (``await`` would turn it into an async generator).
        """
        if self.context(node) is not Context.ASYNC:
            return False
        return not self.inside(node, (ast.JoinedStr, ast.GeneratorExp, ast.Lambda, ast.ClassDef))

    # ---------------------------------------------------------------- ORM evidence
    @functools.cached_property
    def models(self) -> ModelsIndex:
        """The project's models index (models.py files under the project root, read once per
        run) plus this module's own models; without a filename only the module's own."""
        own = models_in_module(self.tree, self.path or "<module>")
        if self.path is None:
            return ModelsIndex(own)
        project = models_index(find_root(Path(self.path)))
        if not own:
            return project
        others = [copy.deepcopy(m) for ms in project.by_name.values() for m in ms if m.path != self.path]
        return ModelsIndex(others + own, project.classes)

    def model_info(self, name: str | None, reference: ast.expr | None = None) -> ModelInfo | None:
        """Index entry of model ``name``, preferring the module its import points to."""
        if name is None:
            return None
        return self.models.lookup(name, self._module_path(reference))

    def _module_path(self, reference: ast.expr | None) -> str | None:
        """The file a (relatively) imported name comes from: ``from .models import X`` in
        ``app/consumers.py`` gives ``app/models.py``; this file for local names."""
        qualified = self.qualname(reference) if reference is not None else None
        if not (qualified and self.path):
            return self.path
        if not qualified.startswith("."):
            return self.path if "." not in qualified else None
        dots = len(qualified) - len(qualified.lstrip("."))
        package = Path(self.path).resolve().parent
        for _ in range(dots - 1):
            package = package.parent
        module = qualified.lstrip(".").rsplit(".", 1)[0]
        return str(package.joinpath(*module.split(".")).with_suffix(".py"))

    def is_model_class(self, node: ast.expr) -> bool:
        """A name imported from a ``models`` module, or a local ``models.Model`` subclass."""
        qualified = self.qualname(node)
        if qualified is None:
            return False
        if qualified.startswith("django."):
            return qualified in ("django.contrib.auth.models.User", "django.contrib.auth.models.Group")
        parts = qualified.lstrip(".").split(".")
        if len(parts) >= 2 and "models" in parts[:-1] and is_capitalized(parts[-1]):
            module_path = self._module_path(node) if self.path else None
            known = self.models.is_model(parts[-1], module_path) if module_path else None
            return known is not False  # a TextChoices or helper class in models.py is not a model
        if isinstance(node, ast.Name) and node.id in self.classes:
            return any((self.qualname(base) or "").endswith("models.Model") for base in self.classes[node.id].bases)
        return False

    def orm(self, node: ast.expr | None) -> Orm | None:
        """The kind of ORM evidence for an expression, or ``None`` when nothing is proven."""
        evidence = self.evidence(node)
        return evidence.kind if evidence is not None and not evidence.weak else None

    def evidence(self, node: ast.expr | None) -> Evidence | None:
        """ORM evidence for an expression (see :class:`Evidence`), or ``None``."""
        if node is None:
            return None
        cache = self.__dict__.setdefault("_evidence_cache", {})
        if node not in cache:
            # Read the scope's bindings first (in source order), so that no expression's
            # evidence is cached while a binding it depends on is still being read.
            self._bindings(self.enclosing_scope(node))
            if node not in cache:
                cache[node] = None  # guards against cycles
                cache[node] = self._evidence(node)
        return cache[node]

    def _evidence(self, node: ast.expr) -> Evidence | None:
        if isinstance(node, ast.Name):
            generator = self.comprehension_binding(node)
            if generator is not None:
                iterable = self.evidence(generator.iter)
                if isinstance(generator.target, ast.Name) and iterable is not None and iterable.kind is Orm.QUERYSET:
                    return iterable.instance()
                return None
            if self.is_model_class(node):
                return Evidence(Orm.MODEL, node.id, info=self.model_info(node.id, node))
            return self._bindings(self.enclosing_scope(node)).get(node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute_evidence(node)
        if isinstance(node, ast.Call):
            return self._call_evidence(node)
        if isinstance(node, ast.Await):
            return self._awaited_evidence(node.value)
        if isinstance(node, ast.Subscript):
            value = self.evidence(node.value)
            if value is not None and value.kind is Orm.ROWS and not isinstance(node.slice, ast.Slice):
                return value.instance()
            if value is not None and value.kind is Orm.QUERYSET:
                if isinstance(node.slice, ast.Slice):
                    return value if node.slice.step is None else None
                return value.instance()
            if self._is_scope_user(node):
                return Evidence(Orm.INSTANCE, "User", info=self.models.user_model())
        return None

    def _awaited_evidence(self, call: ast.expr) -> Evidence | None:
        """``await Model.objects.aget(...)``, and what the fixes write:
        ``await database_sync_to_async(Model.objects.get)(...)`` (an instance) and
        ``await database_sync_to_async(list)(qs)`` (evaluated rows)."""
        if not isinstance(call, ast.Call):
            return None
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ASYNC_INSTANCE_METHODS:
            receiver = self.evidence(func.value)
            if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                return receiver.instance(func.attr, call)
        if isinstance(func, ast.Call) and self.is_bridge(func.func) and func.args:
            target = func.args[0]
            if isinstance(target, ast.Attribute) and target.attr in QUERYSET_INSTANCE_METHODS:
                receiver = self.evidence(target.value)
                if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                    return receiver.instance(target.attr, call)
            if isinstance(target, ast.Name) and target.id == "list" and call.args:
                rows = self.evidence(call.args[0])
                if rows is not None and rows.kind is Orm.QUERYSET:
                    return Evidence(Orm.ROWS, rows.model, rows.loaded, info=rows.info, weak=rows.weak)
        return None

    def _is_scope_user(self, node: ast.Subscript) -> bool:
        """``self.scope["user"]`` / ``scope["user"]``: AuthMiddleware's user (channels/auth.py)."""
        key = node.slice
        return isinstance(key, ast.Constant) and key.value == "user" and dotted(node.value) in ("self.scope", "scope")

    def _attribute_evidence(self, node: ast.Attribute) -> Evidence | None:
        base = self.evidence(node.value)
        if base is not None and base.kind is Orm.MODEL:
            if node.attr in MANAGER_ATTRIBUTES or (base.info is not None and node.attr in base.info.managers):
                return Evidence(Orm.MANAGER, base.model, info=base.info)
            return None
        if base is not None and base.kind is Orm.INSTANCE and base.info is None and not node.attr.endswith("_id"):
            # an unknown model's attribute: only its add()/create() calls are telling
            return Evidence(Orm.MANAGER, relation=node.attr, weak=True)
        if base is not None and base.kind is Orm.INSTANCE and base.info is not None:
            kind, target = base.info.relations.get(node.attr, (None, None))
            if kind is None:
                return None
            info = self.models.lookup(target, base.info.path)
            nested = frozenset(path.split("__", 1)[1] for path in base.loaded if path.startswith(node.attr + "__"))
            nested |= base.loaded & {"*"}
            if base.info.is_object_relation(node.attr):
                return Evidence(Orm.INSTANCE, target, nested, info=info)
            return Evidence(
                Orm.MANAGER,
                target,
                nested,
                relation=node.attr,
                prefetched=base.loads(node.attr),
                info=info,
                relation_kind=kind,
            )
        if base is None and node.attr in MANAGER_ATTRIBUTES:
            name = dotted(node.value)
            if name is not None and is_capitalized(name.rsplit(".", 1)[-1]):
                model = name.rsplit(".", 1)[-1]
                return Evidence(Orm.MANAGER, model, info=self.model_info(model, node.value))
        if self.is_model_class(node):
            return Evidence(Orm.MODEL, node.attr, info=self.model_info(node.attr, node))
        return None

    def _call_evidence(self, node: ast.Call) -> Evidence | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = self.evidence(func.value)
            if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                if func.attr in QUERYSET_BUILDERS or func.attr == "iterator":  # iterator(): lazy until iterated
                    loaded = receiver.loaded
                    if func.attr in ("select_related", "prefetch_related"):
                        loaded |= self._loaded_paths(node)
                    # only .all() keeps a related manager's prefetched cache
                    prefetched = receiver.prefetched and func.attr == "all"
                    return Evidence(
                        Orm.QUERYSET,
                        receiver.model,
                        loaded,
                        receiver.relation,
                        prefetched,
                        receiver.info,
                        receiver.relation_kind,
                        receiver.weak,
                    )
                if func.attr in QUERYSET_INSTANCE_METHODS:
                    return receiver.instance(func.attr, node)
            elif receiver is None and func.attr in WEAK_RELATION_BUILDERS and isinstance(func.value, ast.Attribute):
                owner = dotted(func.value.value)
                if owner is not None and owner.split(".")[0] not in self.imports:
                    return Evidence(Orm.QUERYSET, relation=func.value.attr, weak=True)
        model = self.evidence(func)
        if model is not None and model.kind is Orm.MODEL:
            return Evidence(Orm.INSTANCE, model.model, info=model.info).instance("__init__", node)
        return None

    def _loaded_paths(self, call: ast.Call) -> frozenset[str]:
        """Relation paths a ``select_related``/``prefetch_related`` call loads: string
        lookups, ``Prefetch("lookup", ...)`` objects, and ``"*"`` for a bare
        ``select_related()`` (which follows every non-null foreign key)."""
        if not call.args and not call.keywords and isinstance(call.func, ast.Attribute) and call.func.attr == "select_related":
            return frozenset({"*"})
        paths = set()
        for argument in call.args:
            if isinstance(argument, ast.Call) and (dotted(argument.func) or "").endswith("Prefetch"):
                lookup = (
                    argument.args[0] if argument.args else next((k.value for k in argument.keywords if k.arg == "lookup"), None)
                )
                argument = lookup
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                paths.add(argument.value)
        return frozenset(paths)

    def _bindings(self, scope: Scope) -> dict[str, Evidence]:
        """Names bound in ``scope`` to ORM values, flow-insensitively.

        A name keeps its evidence only if every binding in the scope agrees; a later
        non-ORM assignment removes it.  Bindings are read in source order, so
        ``qs = Note.objects.all(); note = qs.get()`` proves both.  While a scope is being
        read, lookups in it see the bindings read so far (no recursion).
        """
        cache = self.__dict__.setdefault("_bindings_cache", {})
        if scope not in cache:
            cache[scope] = {}
            self._read_bindings(scope, cache[scope])
        return cache[scope]

    def _read_bindings(self, scope: Scope, bindings: dict[str, Evidence]) -> None:
        conflicted: set[str] = set()

        def bind(name: str, evidence: Evidence | None) -> None:
            if name in conflicted:
                return
            previous = bindings.get(name)
            if evidence is None or (previous is not None and previous.kind is not evidence.kind):
                bindings.pop(name, None)
                conflicted.add(name)
            elif previous is None or previous == evidence:
                bindings[name] = evidence
            else:  # same kind, different details: keep what both agree on
                bindings[name] = Evidence(
                    evidence.kind, None if previous.model != evidence.model else evidence.model, previous.loaded & evidence.loaded
                )

        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = scope.args
            for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                conflicted.add(argument.arg)  # parameters are not proven ORM values
        in_source_order = sorted(self._binders.get(scope, ()), key=lambda n: (n.lineno, n.col_offset))
        for node in in_source_order:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind_target(target, node.value, bind)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
                bind(node.target.id, self.evidence(node.value) if isinstance(node, ast.AnnAssign) else None)
            elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
                iterable = self.evidence(node.iter)
                rows = iterable is not None and iterable.kind in (Orm.QUERYSET, Orm.ROWS)
                bind(node.target.id, iterable.instance() if rows else None)
            elif isinstance(node, ast.NamedExpr):
                bind(node.target.id, self.evidence(node.value))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        bind(item.optional_vars.id, None)

    def _bind_target(self, target: ast.expr, value: ast.expr, bind) -> None:
        if isinstance(target, ast.Name):
            bind(target.id, self.evidence(value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            # obj, created = Model.objects.get_or_create(...)
            first = None
            call = value.value if isinstance(value, ast.Await) else value
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in ("get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create")
            ):
                receiver = self.evidence(call.func.value)
                if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                    first = receiver.instance()
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    bind(element.id, first if index == 0 else None)

    # ---------------------------------------------------------------- database operations
    @functools.cached_property
    def db_operations(self) -> list[DbOperation]:
        """Every expression that runs SQL (or may), wherever it is; rules filter by context.

        Families: ``"query"`` (a manager or queryset runs SQL or is evaluated), ``"instance"``
        (a model instance's ``save``/``delete``/..., a related manager's ``add``/``create``/...),
        ``"relation"`` (a lazy relation is loaded), ``"api"`` (other sync-only Django APIs).
        """
        operations: list[DbOperation] = []
        for call in self.nodes(ast.Call):
            operation = self._call_operation(call)
            if operation is not None:
                operations.append(operation)
        operations.extend(self._evaluations())
        operations.extend(self._lazy_relation_loads())
        operations.extend(self._sync_only_contexts())
        return operations

    def _call_operation(self, call: ast.Call) -> DbOperation | None:
        func = call.func
        name = self.call_name(call)
        if name in SYNC_ONLY_CALLS:
            # a cursor is bound to the thread that opened it: no fix can move just the call
            shape = "none" if name == "django.db.connection.cursor" else "call"
            return DbOperation(call, "api", f"`{self.source(func)}()` {SYNC_ONLY_CALLS[name]}", shape, func_name=name)
        if isinstance(func, ast.Name) and func.id in EVALUATING_BUILTINS and func.id not in self.imports and call.args:
            evaluated = self.evidence(call.args[0])
            if evaluated is not None and evaluated.kind is Orm.QUERYSET:
                return self._evaluation(
                    call, evaluated, f"`{func.id}()` evaluates the queryset `{self.source(call.args[0])}`", "call"
                )
            return None
        if not isinstance(func, ast.Attribute):
            return None
        receiver = self.evidence(func.value)
        if receiver is None:
            if func.attr in ("save", "flush", "cycle_key", "delete") and self._is_session(func.value):
                return DbOperation(call, "api", f"`{self.source(func)}()` writes the session to the database", "call", func.attr)
            if (
                func.attr == "cursor"
                and isinstance(func.value, ast.Subscript)
                and self.resolves_to(func.value.value, "django.db.connections")
            ):
                return DbOperation(call, "api", f"`{self.source(func)}()` opens a database cursor", "none")
            return None
        described = f"`{self.source(func)}()`"
        if receiver.kind is Orm.MANAGER and receiver.weak and receiver.model is None:
            if func.attr in ("add", "create"):
                return DbOperation(call, "instance", f"{described} writes through a related manager", "call", func.attr, receiver)
            return None
        if receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
            if receiver.relation is not None and func.attr in RELATED_WRITE_METHODS:
                return DbOperation(call, "instance", f"{described} writes through a related manager", "call", func.attr, receiver)
            if func.attr in QUERYSET_SQL_METHODS:
                if receiver.prefetched and func.attr in ("count", "exists"):
                    return None  # answered from the prefetch cache (related_descriptors.py)
                family = "query" if receiver.relation is None else "relation"
                return DbOperation(call, family, f"{described} runs a database query", "call", func.attr, receiver)
        elif receiver.kind is Orm.INSTANCE and func.attr in INSTANCE_DB_METHODS:
            return DbOperation(call, "instance", f"{described} runs a database query", "call", func.attr, receiver)
        elif receiver.kind is Orm.INSTANCE and func.attr in USER_DB_METHODS and receiver.model == "User":
            return DbOperation(call, "api", f"{described} reads permissions from the database", "call", func.attr, receiver)
        return None

    def _evaluation(self, node: ast.expr, evidence: Evidence, what: str, shape: str) -> DbOperation | None:
        """An evaluation of a queryset: a query, or a relation load unless it was prefetched."""
        if evidence.relation is None:
            return DbOperation(node, "query", what, shape, evidence=evidence)
        if evidence.prefetched:
            return None
        return DbOperation(node, "relation", what, shape, evidence=evidence)

    def _evaluations(self) -> Iterator[DbOperation]:
        def queryset(node: ast.expr) -> Evidence | None:
            evidence = self.evidence(node)
            return evidence if evidence is not None and evidence.kind is Orm.QUERYSET else None

        iterables = [loop.iter for loop in self.nodes(ast.For)]
        for kind in (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp):
            iterables.extend(g.iter for comp in self.nodes(kind) for g in comp.generators if not g.is_async)
        for iterable in iterables:
            if (evidence := queryset(iterable)) is not None:
                operation = self._evaluation(
                    iterable, evidence, f"iterating the queryset `{self.source(iterable)}` runs a query", "iterate"
                )
                if operation is not None:
                    yield operation
        for compare in self.nodes(ast.Compare):
            for op, right in zip(compare.ops, compare.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)) and (evidence := queryset(right)) is not None:
                    operation = self._evaluation(compare, evidence, f"`in` evaluates the queryset `{self.source(right)}`", "none")
                    if operation is not None:
                        yield operation
        for subscript in self.nodes(ast.Subscript):
            evidence = queryset(subscript.value)
            if evidence is not None and (not isinstance(subscript.slice, ast.Slice) or subscript.slice.step is not None):
                operation = self._evaluation(
                    subscript, evidence, f"indexing the queryset `{self.source(subscript.value)}` runs a query", "none"
                )
                if operation is not None:
                    yield operation
        unpacked = [node.value for node in self.nodes(ast.Starred) if isinstance(node.ctx, ast.Load)]
        unpacked += [
            node.value for node in self.nodes(ast.Assign) if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets)
        ]
        for node in unpacked:
            if (evidence := queryset(node)) is not None:
                operation = self._evaluation(node, evidence, f"unpacking the queryset `{self.source(node)}` runs a query", "none")
                if operation is not None:
                    yield operation
        formatted = [value.value for value in self.nodes(ast.FormattedValue)]
        for operation in self.nodes(ast.BinOp):
            if (
                isinstance(operation.op, ast.Mod)
                and isinstance(operation.left, ast.Constant)
                and isinstance(operation.left.value, str)
            ):
                formatted.extend(operation.right.elts if isinstance(operation.right, ast.Tuple) else [operation.right])
        for node in formatted:
            if (evidence := queryset(node)) is not None:
                operation = self._evaluation(
                    node, evidence, f"formatting the queryset `{self.source(node)}` runs a query", "none"
                )
                if operation is not None:
                    yield operation
        for test in self._truth_tests():
            if (evidence := queryset(test)) is not None:
                operation = self._evaluation(
                    test, evidence, f"testing the truth of the queryset `{self.source(test)}` runs a query", "none"
                )
                if operation is not None:
                    yield operation

    def _truth_tests(self) -> Iterator[ast.expr]:
        for kind in (ast.If, ast.While, ast.IfExp, ast.Assert):
            for node in self.nodes(kind):
                yield node.test
        for node in self.nodes(ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                yield node.operand
        for node in self.nodes(ast.BoolOp):
            yield from node.values[:-1]  # the last operand is returned, not tested

    def truth_tested(self, node: ast.expr) -> bool:
        """Whether the value of ``node`` is only tested for truth (``if x:``, ``not x``...)."""
        parent = self.parents.get(node)
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            return parent.test is node
        if isinstance(parent, ast.UnaryOp):
            return isinstance(parent.op, ast.Not)
        if isinstance(parent, ast.BoolOp):
            return node is not parent.values[-1]
        return False

    def _lazy_relation_loads(self) -> Iterator[DbOperation]:
        lazy: set[ast.Attribute] = set()
        for attribute in self.nodes(ast.Attribute):
            if not isinstance(attribute.ctx, ast.Load):
                continue
            base = self.evidence(attribute.value)
            if (
                base is not None
                and base.kind is Orm.INSTANCE
                and base.info is not None
                and base.info.is_object_relation(attribute.attr)
                and not base.loads(attribute.attr)
            ):
                lazy.add(attribute)
        for attribute in lazy:
            if attribute.value in lazy:
                continue  # report the first lazy hop of a chain only
            owner = self.evidence(attribute.value)
            _, target = owner.info.relations[attribute.attr]
            yield DbOperation(
                attribute,
                "relation",
                f"`{self.source(attribute)}` loads the related {target} with a query",
                "none",
                evidence=owner,
            )

    def _sync_only_contexts(self) -> Iterator[DbOperation]:
        """``with transaction.atomic():`` and ``@transaction.atomic`` (Django: transactions are
        not supported in async code, docs/topics/db/queries.txt)."""
        for kind in (ast.With,):
            for statement in self.nodes(kind):
                for item in statement.items:
                    manager = item.context_expr.func if isinstance(item.context_expr, ast.Call) else item.context_expr
                    if self.resolves_to(manager, TRANSACTION_ATOMIC):
                        yield DbOperation(
                            item.context_expr, "api", f"`{self.source(item.context_expr)}` opens a database transaction", "none"
                        )
        for function in self.nodes(ast.AsyncFunctionDef):
            for decorator in function.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if self.resolves_to(target, TRANSACTION_ATOMIC):
                    yield DbOperation(
                        decorator,
                        "api",
                        f"`@{self.source(decorator)}` on a coroutine function opens a database transaction",
                        "none",
                        scope=function,
                    )

    def _is_session(self, node: ast.expr) -> bool:
        """``self.scope["session"]``, or a local name bound only to it."""
        if self._is_scope_key(node, "session"):
            return True
        if not isinstance(node, ast.Name):
            return False
        values = [
            binder.value
            for binder in self._binders.get(self.enclosing_scope(node), ())
            if isinstance(binder, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in binder.targets)
        ]
        return len(values) == 1 and self._is_scope_key(values[0], "session")

    def _is_scope_key(self, node: ast.expr, key: str) -> bool:
        return (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == key
            and dotted(node.value) in ("self.scope", "scope")
        )

    def operation_context(self, operation: DbOperation) -> Context:
        return self.context(operation.scope) if operation.scope is not None else self.context(operation.node)

    @functools.cached_property
    def event_handler_names(self) -> frozenset[str]:
        """Handler names of the event types sent through the channel layer in this module:
        ``group_send(g, {"type": "chat.message"})`` is handled by ``chat_message``
        (consumer.py ``get_handler_name``: ``.`` -> ``_``).  Dicts sent to the client are not
        events."""
        names = set()
        for layer_call in self.layer_calls:
            event = self.event_display(layer_call)
            if isinstance(event, ast.Dict):
                for key, value in zip(event.keys, event.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "type"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        names.add(value.value.replace(".", "_"))
        return frozenset(names)

    def event_display(self, layer_call: LayerCall) -> ast.expr | None:
        """The dict display (``{...}`` or ``dict(...)``) a ``send``/``group_send`` passes as
        its event, directly or through a local name bound once; else ``None``."""
        if layer_call.method not in ("send", "group_send"):
            return None
        event = layer_call.argument(1, "message")
        if isinstance(event, ast.Name):
            values = [
                binder.value
                for binder in self._binders.get(self.enclosing_scope(event), ())
                if isinstance(binder, (ast.Assign, ast.AnnAssign, ast.AugAssign))
                and any(
                    isinstance(target, ast.Name) and target.id == event.id
                    for target in (binder.targets if isinstance(binder, ast.Assign) else [binder.target])
                )
            ]
            event = values[0] if len(values) == 1 else None
        return event if isinstance(event, ast.Dict) or self.is_dict_call(event) else None

    def is_dict_call(self, node: ast.expr | None) -> bool:
        """``dict(...)`` with the builtin ``dict``."""
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "dict"
            and "dict" not in self.imports
        )

    # ---------------------------------------------------------------- database helpers
    @functools.cached_property
    def database_functions(self) -> dict[ast.FunctionDef, str]:
        """Sync functions and methods (not run through a bridge, and with no decorator other
        than ``staticmethod``/``classmethod``, whose effect is unknown) that touch the
        database, in their own body or by calling another such function of this module; the
        value is the first database operation found, quoted for messages."""

        def plain(function: ast.AST) -> bool:
            return (
                isinstance(function, ast.FunctionDef)
                and self.context(function) is Context.SYNC
                and all(dotted(d) in ("staticmethod", "classmethod") for d in function.decorator_list)
            )

        found: dict[ast.FunctionDef, str] = {}
        for operation in self.db_operations:
            scope = operation.scope or self.enclosing_scope(operation.node)
            if plain(scope):
                found.setdefault(scope, f"`{self.source(operation.node)}`")
        callers: dict[ast.AST, list[tuple[ast.FunctionDef, ast.Call]]] = defaultdict(list)
        for call in self.nodes(ast.Call):
            callee, caller = self.local_function(call), self.enclosing_scope(call)
            if callee is not None and plain(caller):
                callers[callee].append((caller, call))
        queue = deque(found)
        while queue:  # helpers of helpers: each function is reached once
            for caller, call in callers.get(queue.popleft(), ()):
                if caller not in found:
                    found[caller] = f"`{self.source(call.func)}()`"
                    queue.append(caller)
        return found

    def local_function(self, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The module function (``f(...)``) or method of the caller's class (``self.m(...)``)
        that ``call`` calls, if it is defined in this module."""
        func = call.func
        if isinstance(func, ast.Name) and func.id not in self.imports:
            for scope in (*self._scope_chain(call), self.tree):  # nested defs first, then the module
                function = self._functions_by_scope.get((scope, func.id))
                if function is not None:
                    return function
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            cls = self.enclosing_class(call)
            if cls is not None:
                return self.class_methods(cls).get(func.attr)
        return None

    @functools.cached_property
    def _functions_by_scope(self) -> dict[tuple[ast.AST, str], ast.FunctionDef | ast.AsyncFunctionDef]:
        """Functions by the scope whose body defines them (module or enclosing function)."""
        found = {}
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            for function in self.nodes(kind):
                if not isinstance(self.parents.get(function), ast.ClassDef):
                    found[(self.enclosing_scope(function), function.name)] = function
        return found

    def references(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
        """Every load that may reach the function: ``name`` for a function, ``anything.name``
        for a method (reached through subclasses or other objects, so every attribute of that
        name counts)."""
        names, attributes = self._loads_by_name
        is_method = isinstance(self.parents.get(function), ast.ClassDef)
        return (attributes if is_method else names).get(function.name, [])

    @functools.cached_property
    def _loads_by_name(self) -> tuple[dict[str, list[ast.expr]], dict[str, list[ast.expr]]]:
        names: dict[str, list[ast.expr]] = defaultdict(list)
        attributes: dict[str, list[ast.expr]] = defaultdict(list)
        for node in self.nodes(ast.Name):
            if isinstance(node.ctx, ast.Load):
                names[node.id].append(node)
        for node in self.nodes(ast.Attribute):
            if isinstance(node.ctx, ast.Load):
                attributes[node.attr].append(node)
        return names, attributes

    # ---------------------------------------------------------------- coroutines
    def coroutine_call(self, call: ast.Call) -> str | None:
        """Why calling ``call`` returns a coroutine (a phrase for messages), or ``None``.

        Channel-layer methods; a consumer's own ``async def`` methods and its
        ``sync_to_async``/``database_sync_to_async``-decorated ones; the async consumer
        methods Channels defines (``send``, ``accept``...); module-level coroutine functions
        and decorated helpers; ``channels.auth.login/logout/get_user``; and
        ``database_sync_to_async(f)(...)`` itself.
        """
        func = call.func
        if any(layer.call is call and layer.bridge is None for layer in self.layer_calls):
            return f"channel-layer method `{self.source(func)}`"
        if isinstance(func, ast.Call) and self.is_bridge(func.func):
            return f"`{self.source(func)}`"
        qualified = self.qualname(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if qualified in KNOWN_COROUTINE_FUNCTIONS:
            return f"coroutine function `{self.source(func)}`"
        if isinstance(func, ast.Name) and func.id not in self.imports:
            function = self._module_functions.get(func.id)
            if function is not None and self._returns_coroutine(function):
                return f"coroutine function `{func.id}`"
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            cls = self.enclosing_class(call)
            if cls is None:
                return None
            method = self.class_methods(cls).get(func.attr)
            if method is not None:
                return f"coroutine method `{self.source(func)}`" if self._returns_coroutine(method) else None
            consumer = self.consumers.get(cls)
            if consumer is not None and consumer.is_async and func.attr in CONSUMER_METHODS[consumer.base]:
                return f"coroutine method `{self.source(func)}`"
        return None

    @functools.cached_property
    def _module_functions(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        return {node.name: node for node in self.tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def _returns_coroutine(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        if isinstance(function, ast.AsyncFunctionDef):
            return not self.is_async_generator(function)
        return any(self.is_bridge(decorator) for decorator in function.decorator_list)

    # ---------------------------------------------------------------- channel layer
    def is_channel_layer(self, node: ast.expr) -> bool:
        """``self.channel_layer``, ``get_channel_layer()``, or a name bound to either."""
        if isinstance(node, ast.Attribute) and node.attr == "channel_layer":
            return isinstance(node.value, ast.Name) and node.value.id == "self"
        if isinstance(node, ast.Call):
            return self.resolves_to(node.func, GET_CHANNEL_LAYER)
        if isinstance(node, ast.Name):
            scope = self.enclosing_scope(node)
            if node.id in self._layer_names(scope):
                return True
            return node.id in self._layer_names(self.tree) and node.id not in self.local_names(scope)
        return False

    @_per_instance_cache
    def local_names(self, scope: Scope) -> frozenset[str]:
        """Names a function binds itself: parameters and assignment targets."""
        names: set[str] = set()
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = scope.args
            names.update(a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs))
            names.update(a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None)
        for binder in self._binders.get(scope, ()):
            targets = binder.targets if isinstance(binder, ast.Assign) else [getattr(binder, "target", None)]
            for target in filter(None, targets):
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        return frozenset(names)

    @functools.cached_property
    def bound_names(self) -> frozenset[str]:
        """Every name the module binds other than by import: assignment and ``for``/``with``
        targets, parameters, ``def`` and ``class`` names."""
        names = {node.id for node in self.nodes(ast.Name) if not isinstance(node.ctx, ast.Load)}
        names.update(node.arg for node in self.nodes(ast.arg))
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            names.update(node.name for node in self.nodes(kind))
        return frozenset(names)

    def binds_elsewhere(self, name: str, qualified: str) -> bool:
        """Whether ``name`` means something other than an import of ``qualified`` anywhere in
        the module; a fix must then not add that import and use the name."""
        if name in self.imports:
            return self.imports[name] != qualified
        return name in self.bound_names

    @_per_instance_cache
    def _layer_names(self, scope: Scope) -> frozenset[str]:
        """Names bound in ``scope`` to ``get_channel_layer()`` or ``self.channel_layer``."""
        names = set()
        for node in self._binders.get(scope, ()):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = node.value
                if isinstance(value, ast.Call) and self.resolves_to(value.func, GET_CHANNEL_LAYER):
                    names.add(node.targets[0].id)
                elif isinstance(value, ast.Attribute) and value.attr == "channel_layer" and dotted(value) == "self.channel_layer":
                    names.add(node.targets[0].id)
        return frozenset(names)

    @functools.cached_property
    def layer_calls(self) -> list[LayerCall]:
        """Every call of a channel-layer method, direct or through ``async_to_sync``."""
        calls = []
        for call in self.nodes(ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in LAYER_METHODS and self.is_channel_layer(func.value):
                calls.append(LayerCall(call, func.attr, func.value, None))
            elif (
                isinstance(func, ast.Call)
                and self.resolves_to(func.func, ASYNC_TO_SYNC)
                and func.args
                and isinstance(func.args[0], ast.Attribute)
                and func.args[0].attr in LAYER_METHODS
                and self.is_channel_layer(func.args[0].value)
            ):
                calls.append(LayerCall(call, func.args[0].attr, func.args[0].value, func))
        return calls

    # ---------------------------------------------------------------- positions
    def char_col(self, lineno: int, byte_col: int) -> int:
        """Convert an ``ast`` column (UTF-8 bytes) to a character column."""
        if lineno - 1 >= len(self.lines):
            return byte_col
        line = self.lines[lineno - 1]
        if line.isascii():
            return byte_col
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """``(line, col, end_line, end_col)`` of ``node``; lines 1-based, columns in characters."""
        return (
            node.lineno,
            self.char_col(node.lineno, node.col_offset),
            node.end_lineno,
            self.char_col(node.end_lineno, node.end_col_offset),
        )

    def source(self, node: ast.AST) -> str:
        """The node's source text, on one line (whitespace runs folded) for messages."""
        line, col, end_line, end_col = self.span(node)
        if line == end_line:
            text = self.lines[line - 1][col:end_col]
        else:
            text = self.lines[line - 1][col:] + "".join(self.lines[line : end_line - 1]) + self.lines[end_line - 1][:end_col]
        return " ".join(text.split())


def _walk_scope(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes of a scope's body in source order, not entering nested functions or classes."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
