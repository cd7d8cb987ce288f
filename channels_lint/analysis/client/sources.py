"""Client-data sources: the handlers that receive client data and the values that hold it.

A handler (:class:`~.model.Handler`) is a consumer's ``receive``/``receive_json``/
``decode_json``/``websocket_receive``, an ``AsyncHttpConsumer.handle`` or a view; its client
parameters, ``self.scope``, ``self.channel_name``, ``request.body`` and what JSON decoders and
query-string parsers return are sources.  :meth:`ClientSources.value` follows client data
through names, ``self.<attr>``, ``x or y``, string methods, subscripts and ``.get()`` (which
extend the key path) and iteration (docs/semantics.md §1.3, §1.3b, §2.4, §11).
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import replace

from channels_lint.analysis.bindings import BindingKind
from channels_lint.analysis.client.model import ANY, ClientSource, ClientValue, Handler, HandlerKind, _constant_key
from channels_lint.analysis.consumers import Consumer, Consumers
from channels_lint.analysis.facts import (
    JSON_DECODERS,
    QUERY_PARSERS,
    RUNTIME_VALIDATORS,
    SCOPE_CLIENT_KEYS,
    TRANSPARENT_DECORATORS,
    USER_TEXT_FIELDS,
)
from channels_lint.analysis.flow import MAX_DEPTH, ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax

_STR_METHODS = frozenset(
    {"decode", "encode", "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "capitalize", "removeprefix", "removesuffix"}
)
_SPLIT_METHODS = frozenset({"split", "rsplit", "partition", "rpartition", "splitlines"})
_WEBSOCKET_BASES = frozenset(
    {
        "channels.generic.websocket.WebsocketConsumer",
        "channels.generic.websocket.AsyncWebsocketConsumer",
        "channels.generic.websocket.JsonWebsocketConsumer",
        "channels.generic.websocket.AsyncJsonWebsocketConsumer",
    }
)
_JSON_BASES = frozenset(
    {"channels.generic.websocket.JsonWebsocketConsumer", "channels.generic.websocket.AsyncJsonWebsocketConsumer"}
)
#: Methods of a consumer (or its bases) that may wrap every handler in a ``try``.
_WRAPPERS = frozenset({"dispatch", "__call__", "websocket_receive"})
_CATCHING_BASE = re.compile(r"Safe|Resilient|Error|Exception|Catch|Guard")


class ClientSources:
    """Handlers and the client data values hold (the base of
    :class:`~channels_lint.analysis.client.ClientData`, which documents the arguments)."""

    def __init__(
        self, syntax: Syntax, names: Names, flow: ValueFlow, consumers: Consumers, route_kwargs=None, routed=None
    ) -> None:
        self._routed = routed
        self.syntax = syntax
        self.names = names
        self.flow = flow
        self.consumers = consumers
        self._route_kwargs = route_kwargs
        self._values: dict[ast.AST, ClientValue | None] = {}

    # ------------------------------------------------------------------ handlers
    def handler(self, function: ast.AST) -> Handler | None:
        """The handler ``function`` is, if it receives client data."""
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        cache = self.__dict__.setdefault("_handlers", {})
        if function not in cache:
            cache[function] = self._handler(function)
        return cache[function]

    def _handler(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> Handler | None:
        cls = self.syntax.parents.get(function)
        consumer = self.consumers.by_class.get(cls) if isinstance(cls, ast.ClassDef) else None
        kind = None
        if consumer is not None:
            if function.name == "receive" and consumer.base in _WEBSOCKET_BASES:
                kind = HandlerKind.RECEIVE
            elif function.name == "receive_json" and consumer.base in _JSON_BASES:
                kind = HandlerKind.RECEIVE_JSON
            elif function.name == "decode_json" and consumer.base in _JSON_BASES:
                kind = HandlerKind.DECODE_JSON
            elif function.name == "websocket_receive":
                kind = HandlerKind.WEBSOCKET_RECEIVE
            elif function.name == "handle" and consumer.base == "channels.generic.http.AsyncHttpConsumer":
                kind = HandlerKind.HTTP_HANDLE
        elif any(a.arg == "request" for a in function.args.posonlyargs + function.args.args):
            kind = HandlerKind.VIEW
        if kind is None:
            return None
        return Handler(
            kind=kind,
            function=function,
            consumer=consumer,
            is_async=isinstance(function, ast.AsyncFunctionDef),
            json_consumer=consumer is not None and consumer.base in _JSON_BASES,
            errors_caught=self._errors_caught(function, kind, consumer),
        )

    def _errors_caught(self, function, kind: HandlerKind, consumer: Consumer | None) -> bool:
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.names.qualname(target) not in TRANSPARENT_DECORATORS:
                return True
        if consumer is None:
            return False
        wrappers = set(_WRAPPERS)
        if kind in (HandlerKind.RECEIVE_JSON, HandlerKind.DECODE_JSON):
            wrappers |= {"receive"}
        if kind is HandlerKind.RECEIVE_JSON:
            wrappers |= {"decode_json"}  # a decode_json override may return only dicts
        if kind is HandlerKind.WEBSOCKET_RECEIVE:
            wrappers.discard("websocket_receive")
        methods = self.names.class_methods(consumer.node)
        if any(name in methods and methods[name] is not function for name in wrappers):
            return True
        if wrappers & consumer.inherited:
            return True
        for klass in self.names.local_mro(consumer.node):
            for base in klass.bases:
                qualified = self.names.qualname(base) or ""
                if qualified.startswith("channels_lint.runtime"):
                    return True
                last = qualified.rsplit(".", 1)[-1]
                if not qualified.startswith("channels.") and _CATCHING_BASE.search(last):
                    return True
        return False

    # ------------------------------------------------------------------ values
    def value(self, node: ast.AST | None) -> ClientValue | None:
        """The client data ``node`` may hold, or ``None`` when it provably holds none the
        analysis knows of."""
        if node is None:
            return None
        if node in self._values:
            return self._values[node]
        self._values[node] = None  # a cycle through self.<attr> or a loop ends here
        found = self._value(node, 0)
        self._values[node] = found
        return found

    def _value(self, node: ast.AST, depth: int) -> ClientValue | None:
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Await):
            return self.value(node.value)
        if isinstance(node, ast.NamedExpr):
            return self.value(node.value)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BoolOp):
            return next(filter(None, (self.value(v) for v in node.values)), None)
        if isinstance(node, ast.IfExp):
            return self.value(node.body) or self.value(node.orelse)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            return self._attribute(node)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if isinstance(node.slice, ast.Slice):
                base = self.value(node.value)
                return base if base is not None and not base.source.is_container else None
            return self._item(self.value(node.value), _constant_key(node.slice), node)
        if isinstance(node, ast.Call):
            return self._call(node)
        return None

    def _name(self, node: ast.Name) -> ClientValue | None:
        bindings = self.flow.reaching(node)
        if not bindings:
            return None
        for binding in sorted(bindings, key=lambda b: (getattr(b.node, "lineno", 0), getattr(b.node, "col_offset", 0))):
            found = None
            if binding.kind is BindingKind.PARAMETER:
                found = self._parameter(binding.node)
            elif binding.kind in (BindingKind.ASSIGN, BindingKind.ANNOTATED, BindingKind.WALRUS) and binding.value is not None:
                found = self.value(binding.value)
            elif binding.kind in (BindingKind.FOR, BindingKind.COMPREHENSION, BindingKind.UNPACK) and binding.source is not None:
                source = self.value(binding.source)
                if source is not None and not source.source.is_container:
                    found = replace(source, path=source.path + (ANY,))
            if found is not None:
                return found
        return None

    def _parameter(self, argument: ast.AST) -> ClientValue | None:
        if not isinstance(argument, ast.arg):
            return None
        function = self.syntax.parents.get(self.syntax.parents.get(argument))
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        positional = function.args.posonlyargs + function.args.args
        index = next((i for i, a in enumerate(positional) if a is argument), None)
        if argument.arg == "scope" and ({"receive", "send"} <= {a.arg for a in positional} or function.name == "__call__"):
            return ClientValue(source=ClientSource.SCOPE, origin=argument)  # an ASGI application or middleware
        handler = self.handler(function)
        if handler is None:
            return None
        kind = handler.kind
        if kind is HandlerKind.RECEIVE and argument.arg in ("text_data", "bytes_data"):
            return ClientValue(source=ClientSource.FRAME, origin=argument)
        if index == 1 and kind is HandlerKind.RECEIVE_JSON:
            return ClientValue(source=ClientSource.JSON, origin=argument)
        if index == 1 and kind is HandlerKind.DECODE_JSON:
            return ClientValue(source=ClientSource.FRAME, origin=argument)
        if index == 1 and kind is HandlerKind.WEBSOCKET_RECEIVE:
            return ClientValue(source=ClientSource.RECEIVE_EVENT, origin=argument)
        if index == 1 and kind is HandlerKind.HTTP_HANDLE:
            return ClientValue(source=ClientSource.REQUEST_BODY, origin=argument)
        if kind is HandlerKind.VIEW and argument.arg == "request":
            return ClientValue(source=ClientSource.REQUEST, origin=argument)
        return None

    def _attribute(self, node: ast.Attribute) -> ClientValue | None:
        if isinstance(node.value, ast.Name) and node.value.id == "self" and self.syntax.enclosing_class(node) is not None:
            if node.attr == "scope":
                return ClientValue(source=ClientSource.SCOPE, origin=node)
            if node.attr == "channel_name" and self.consumers.of(node) is not None:
                return ClientValue(source=ClientSource.CHANNEL_NAME, origin=node)
            if node.attr == "request" and self.consumers.of(node) is None:
                return ClientValue(source=ClientSource.REQUEST, origin=node)
            assigned = self.flow.self_attribute(node)
            if not assigned:
                return None
            return next(filter(None, (self.value(v) for v in assigned)), None)
        base = self.value(node.value)
        if base is None:
            return None
        if base.source is ClientSource.REQUEST and node.attr == "body":
            return ClientValue(source=ClientSource.REQUEST_BODY, origin=node)
        if base.source is ClientSource.USER and node.attr in USER_TEXT_FIELDS:
            return ClientValue(source=ClientSource.USER_FIELD, origin=node, key=node.attr)
        return None

    def _item(self, base: ClientValue | None, key: object, node: ast.AST) -> ClientValue | None:
        """What ``base[key]`` (or ``base.get(key)``) holds."""
        if base is None:
            return None
        source = base.source
        if source is ClientSource.SCOPE:
            kind = SCOPE_CLIENT_KEYS.get(key) if isinstance(key, str) else None
            return ClientValue(source=ClientSource(kind), origin=node, key=key) if kind else None
        if source is ClientSource.URL_ROUTE:
            if key in ("kwargs", "args"):
                return ClientValue(source=ClientSource.URL_KWARGS, origin=node, key=key)
            return None
        if source is ClientSource.URL_KWARGS:
            name = key if isinstance(key, str) and key != ANY and base.key == "kwargs" else None
            return ClientValue(source=ClientSource.URL_KWARG, origin=node, key=name)
        if source is ClientSource.RECEIVE_EVENT:
            if key in ("text", "bytes"):
                return ClientValue(source=ClientSource.FRAME, origin=node)
            return None
        if source is ClientSource.QUERY_PARAMS:
            return ClientValue(source=ClientSource.QUERY_PARAM, origin=base.origin, path=base.path + (key,), derived=True)
        if source in (ClientSource.USER, ClientSource.REQUEST):
            return None
        return replace(base, path=base.path + (key,))

    def _call(self, call: ast.Call) -> ClientValue | None:
        func = call.func
        name = self.names.call_name(call)
        first = call.args[0] if call.args else None
        if name in JSON_DECODERS or self._is_decode_json(call):
            argument = first if first is not None else next((k.value for k in call.keywords if k.arg == "s"), None)
            source = self.value(argument)
            if source is not None and not source.source.is_container:
                return ClientValue(source=ClientSource.JSON, origin=call)
            return None
        if name in RUNTIME_VALIDATORS and name.endswith("extract_message_data") or (
            isinstance(func, ast.Attribute) and func.attr == "extract_message_data"
        ):
            source = self.value(first)
            if source is not None and not source.source.is_container:
                return ClientValue(source=ClientSource.JSON, origin=call)  # a checked dict (see checks)
            return None
        if name in QUERY_PARSERS:
            if name.endswith("safe_query_params"):
                scope = self.value(first)
                return ClientValue(source=ClientSource.QUERY_PARAMS, origin=call) if scope is not None else None
            source = self.value(first)
            if source is not None and source.source in (ClientSource.QUERY_STRING, ClientSource.PATH, ClientSource.FRAME):
                return ClientValue(source=ClientSource.QUERY_PARAMS, origin=call)
            return None
        if isinstance(func, ast.Attribute):
            base = self.value(func.value)
            if base is None:
                return None
            if func.attr == "get" and call.args:
                return self._item(base, _constant_key(call.args[0]), call)
            if base.source.is_container:
                if func.attr in ("items", "values") and base.source in (ClientSource.URL_KWARGS, ClientSource.QUERY_PARAMS):
                    return ClientValue(
                        source=ClientSource.URL_KWARG if base.source is ClientSource.URL_KWARGS else ClientSource.QUERY_PARAM,
                        origin=call,
                    )
                return None
            if func.attr in _STR_METHODS or func.attr in _SPLIT_METHODS or func.attr == "replace":
                return replace(base, derived=True)
            return None
        if self.names.is_builtin(func, "str") and first is not None:
            base = self.value(first)
            return replace(base, derived=True) if base is not None and not base.source.is_container else None
        if self.names.is_builtin(func, "dict") and first is not None:
            base = self.value(first)
            if base is not None and base.source in (ClientSource.HEADERS, ClientSource.JSON, ClientSource.COOKIES):
                return base
            return None
        if name in ("urllib.parse.unquote", "urllib.parse.unquote_plus") and first is not None:
            base = self.value(first)
            return replace(base, derived=True) if base is not None and not base.source.is_container else None
        return None

    def decoded_from(self, origin: ast.AST) -> ClientValue | None:
        """The client text a decoder call (the origin of a JSON value) decoded."""
        if not isinstance(origin, ast.Call):
            return None
        argument = origin.args[0] if origin.args else next((k.value for k in origin.keywords if k.arg == "s"), None)
        found = self.value(argument)
        return found if found is not None and found.source is not ClientSource.JSON else None

    def _is_decode_json(self, call: ast.Call) -> bool:
        """``self.decode_json(x)`` / ``cls.decode_json(x)`` of a JSON consumer that does not
        override it: Channels' own ``json.loads`` (docs/semantics.md §2.4)."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "decode_json" and isinstance(func.value, ast.Name)):
            return False
        if func.value.id not in ("self", "cls"):
            return False
        consumer = self.consumers.of(call)
        return (
            consumer is not None
            and consumer.base in _JSON_BASES
            and not self.consumers.defines(consumer, "decode_json")
        )

    # ------------------------------------------------------------------ decoders
    @functools.cached_property
    def decodes(self) -> list[tuple[ast.Call, ast.expr, ClientValue]]:
        """Every call that decodes client text as JSON: ``(call, argument, what it decodes)``."""
        found = []
        for call in self.syntax.nodes(ast.Call):
            if not (self.names.call_name(call) in JSON_DECODERS or self._is_decode_json(call)):
                continue
            argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "s"), None)
            source = self.value(argument)
            if source is not None and source.source in (ClientSource.FRAME, ClientSource.REQUEST_BODY):
                found.append((call, argument, source))
        return found
