"""JSON sinks and consumer sends: where consumer code hands a value to a JSON encoder
(``send_json`` of a consumer that encodes plainly, ``json.dumps`` without ``cls=``/``default=``,
``JsonResponse`` without ``encoder=``), what a consumer's classes define above Channels, and
which ``self.send`` takes a text frame (docs/semantics.md §2.4, §6).
"""

from __future__ import annotations

import ast
import enum
import functools
from dataclasses import dataclass

from channels_lint.analysis.facts import CONSUMER_BASES, JSON_CONSUMER_BASES, JSON_ENCODER_KEYWORDS, WEBSOCKET_SEND_BASES
from channels_lint.analysis.payload.values import PayloadValues


class SinkKind(enum.Enum):
    """How a value reaches a JSON encoder."""

    SEND_JSON = "send_json"  # self.send_json(value) on a JSON consumer, plain encode_json
    JSON_DUMPS = "json.dumps"  # json.dumps(value) without cls=/default=
    JSON_RESPONSE = "JsonResponse"  # JsonResponse(value) without encoder= (DjangoJSONEncoder)


@dataclass(frozen=True, kw_only=True)
class JsonSink:
    """A call in consumer code that encodes ``value`` as JSON.

    ``to_client``: the encoded text goes straight to the client (``send_json``, or
    ``json.dumps`` passed as ``text_data``); ``call`` the encoding call.
    """

    call: ast.Call
    value: ast.expr
    kind: SinkKind
    to_client: bool


class JsonSinks(PayloadValues):
    """JSON sinks and the consumer methods behind them (see the module docstring)."""

    # ------------------------------------------------------------------ consumers
    def consumer_methods(self, consumer) -> frozenset[str] | None:
        """Every method the consumer's classes define above Channels: its own and its local
        bases', its project bases' (from the project index, when the index can read every
        consumer base) and ``channels_lint.runtime`` mixins' (read from that package);
        ``None`` when a base is unknown (a library's mixin may define anything)."""
        from channels_lint.project.index import runtime_methods  # the project package imports analysis

        cache = self.__dict__.setdefault("_consumer_methods", {})
        if consumer.node in cache:
            return cache[consumer.node]
        methods: set[str] | None = set(self.names.class_methods(consumer.node))
        project = self.consumers.project if self.consumers is not None else None
        for klass in self.names.local_mro(consumer.node):
            for base in klass.bases:
                qualified = self.names.qualname(base) or "?"
                last = qualified.rsplit(".", 1)[-1]
                if (
                    qualified in CONSUMER_BASES
                    or qualified == "object"
                    or (isinstance(base, ast.Name) and base.id in self.names.classes)
                ):
                    continue
                if qualified.startswith("channels_lint.runtime."):
                    inherited = runtime_methods(last)
                elif project is not None and project.root is not None and not qualified.startswith(("channels.", "django.")):
                    fact = project.consumer(last)
                    readable = project.consumer_handlers.readable if fact is not None else False
                    inherited = fact.methods if fact is not None and readable else None
                else:
                    inherited = None
                if inherited is None:
                    methods = None
                    break
                methods |= inherited
            if methods is None:
                break
        cache[consumer.node] = frozenset(methods) if methods is not None else None
        return cache[consumer.node]

    def json_base(self, consumer) -> str | None:
        """The Channels JSON consumer class in the consumer's bases (``consumer.base`` names
        the first Channels base found, which for ``class C(Base, AsyncJsonWebsocketConsumer)``
        with ``Base`` a websocket consumer is not the JSON one), else ``None``."""
        if consumer.base in JSON_CONSUMER_BASES:
            return consumer.base
        for klass in self.names.local_mro(consumer.node):
            for base in klass.bases:
                if self.names.qualname(base) in JSON_CONSUMER_BASES:
                    return self.names.qualname(base)
        return None

    # ------------------------------------------------------------------ JSON encoders
    def encodes_plainly(self, consumer) -> bool:
        """Whether ``send_json`` of this consumer encodes with Channels' plain
        ``json.dumps``: a JSON consumer whose classes, all known, define neither
        ``encode_json`` nor ``send_json`` (docs/semantics.md §2.4)."""
        if self.json_base(consumer) is None:
            return False
        methods = self.consumer_methods(consumer)
        return methods is not None and not methods & {"encode_json", "send_json"}

    @functools.cached_property
    def json_sinks(self) -> list[JsonSink]:
        """Calls in consumer code that encode a value as JSON: ``self.send_json(value)`` on a
        JSON consumer encoding plainly, ``json.dumps(value)`` without ``cls=``/``default=`` and
        ``JsonResponse(value)`` without ``encoder=``, in a consumer class or in a module
        function of a module that defines consumers."""
        found: list[JsonSink] = []
        if self.consumers is None or not self.consumers.by_class:
            return found
        for call in self.syntax.nodes(ast.Call):
            if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            value = call.args[0] if call.args else None
            name = self.names.call_name(call)
            if name == "json.dumps":
                value = value or _keyword(call, "obj")
                if value is None or any(k.arg in JSON_ENCODER_KEYWORDS for k in call.keywords) or not self._consumer_code(call):
                    continue
                found.append(JsonSink(call=call, value=value, kind=SinkKind.JSON_DUMPS, to_client=self.is_text_frame(call)))
            elif name in ("django.http.JsonResponse", "django.http.response.JsonResponse"):
                value = value or _keyword(call, "data")
                if value is None or _keyword(call, "encoder") is not None or not self._consumer_code(call):
                    continue
                found.append(JsonSink(call=call, value=value, kind=SinkKind.JSON_RESPONSE, to_client=True))
            elif self._is_send_json(call):
                value = value or _keyword(call, "content")
                if value is not None:
                    found.append(JsonSink(call=call, value=value, kind=SinkKind.SEND_JSON, to_client=True))
        return found

    def _consumer_code(self, node: ast.AST) -> bool:
        if self.consumers.of(node) is not None:
            return True
        return self.syntax.enclosing_class(node) is None and not isinstance(self.syntax.enclosing_scope(node), ast.Module)

    def _is_send_json(self, call: ast.Call) -> bool:
        """``self.send_json(...)``/``super().send_json(...)`` in a JSON consumer whose
        ``send_json`` encodes with plain ``json.dumps``."""
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != "send_json":
            return False
        receiver = func.value
        is_self = isinstance(receiver, ast.Name) and receiver.id == "self"
        is_super = isinstance(receiver, ast.Call) and self.names.is_builtin(receiver.func, "super")
        if not (is_self or is_super):
            return False
        consumer = self.consumers.of(call)
        return consumer is not None and self.encodes_plainly(consumer)

    def websocket_send(self, call: ast.Call) -> bool:
        """``self.send(...)`` of a websocket consumer (``send(text_data=None, bytes_data=None,
        close=False)``, websocket.py)."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "send" and isinstance(func.value, ast.Name)):
            return False
        if func.value.id != "self" or self.consumers is None:
            return False
        consumer = self.consumers.of(call)
        if consumer is None or consumer.base not in WEBSOCKET_SEND_BASES:
            return False
        methods = self.consumer_methods(consumer)
        return methods is not None and "send" not in methods

    def is_text_frame(self, node: ast.expr) -> bool:
        """Whether ``node`` is passed as ``text_data`` (by keyword or first position) to a
        websocket consumer's ``self.send``."""
        parent = self.syntax.parents.get(node)
        if isinstance(parent, ast.keyword) and parent.arg == "text_data":
            call = self.syntax.parents.get(parent)
            return isinstance(call, ast.Call) and self.websocket_send(call)
        return isinstance(parent, ast.Call) and parent.args[:1] == [node] and self.websocket_send(parent)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
