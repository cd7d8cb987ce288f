"""Client data: which expressions hold data the client controls, and what checked it.

Sources (docs/semantics.md §1.3, §1.3b, §2.4, §11): the ``text_data``/``bytes_data`` of a
consumer's ``receive``, ``event["text"]`` of ``websocket_receive``, ``decode_json``'s text,
``receive_json``'s ``content``, what a JSON decoder returns for any of them, ``request.body``
of a view and the body an ``AsyncHttpConsumer.handle`` gets; the scope's ``query_string``,
``path``, ``headers``, ``cookies``, URL kwargs and the user's text fields; ``self.channel_name``.
Client data flows: through names (reaching bindings), ``self.<attr>``, ``x or y``, string
methods, subscripts and ``.get()`` (which extend the value's key path) and iteration.

Checks (:class:`Check`) are the tests and validators a value went through before a use:
membership tests, ``.get()``, ``isinstance``, allowlist comparisons, text tests
(``re.match``, ``str.isalnum``...), serializers/forms/pydantic/jsonschema, the runtime's
validators and the project's own ``validate*``/``check*`` functions.  A rule asks
:meth:`ClientData.checks_before` and decides which kinds make a use safe.

``None`` means "not provably client data": rules stay silent on it.
"""

from __future__ import annotations

import ast
import enum
import functools
import re
from dataclasses import dataclass, replace

from channels_lint.analysis.bindings import BindingKind
from channels_lint.analysis.consumers import Consumer, Consumers
from channels_lint.analysis.facts import (
    DICT_METHODS,
    HEXDIGEST_LENGTHS,
    INT_TEXT_LENGTH,
    JSON_DECODERS,
    NAME_SANITISERS,
    QUERY_PARSERS,
    RUNTIME_VALIDATORS,
    SCOPE_CLIENT_KEYS,
    TRANSPARENT_DECORATORS,
    URL_CONVERTERS,
    USER_TEXT_FIELDS,
)
from channels_lint.analysis.flow import MAX_DEPTH, ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax, dotted

#: A key path element for a key that is not a constant (``data[k]``) or an iterated element.
ANY = "<any>"

_STR_METHODS = frozenset(
    {"decode", "encode", "strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "capitalize", "removeprefix", "removesuffix"}
)
_SPLIT_METHODS = frozenset({"split", "rsplit", "partition", "rpartition", "splitlines"})
_TEXT_TESTS = frozenset(
    {"isalnum", "isalpha", "isascii", "isdigit", "isdecimal", "isnumeric", "isidentifier", "startswith", "endswith"}
)
_REGEX_TESTS = frozenset({"re.match", "re.fullmatch", "re.search"})
_VALIDATOR_WORDS = re.compile(r"(?i)valid|verify|check|clean|sanitiz|sanitis|schema|allowed|permitted")
_SCHEMA_NAMES = re.compile(r"(?:Serializer|Form|Schema|Model|Validator|Payload|Message|Request|Command|Event)$")
_SCHEMA_METHODS = frozenset(
    {"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate", "validate_python", "load", "loads", "from_dict", "is_valid"}
)
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


class ClientSource(enum.Enum):
    """What kind of client data a value is (docs/semantics.md §1.3b, §2.4)."""

    FRAME = "frame"  # text_data/bytes_data, event["text"], decode_json's text
    REQUEST_BODY = "request-body"  # request.body in a view, AsyncHttpConsumer.handle's body
    JSON = "json"  # decoded client JSON, or a value read from it
    QUERY_STRING = "query-string"  # scope["query_string"] and text cut from it by hand
    QUERY_PARAM = "query-param"  # a value a query-string parser returned
    URL_KWARG = "url-kwarg"  # scope["url_route"]["kwargs"][k] (or ["args"][i])
    PATH = "path"
    HEADERS = "headers"
    COOKIES = "cookies"
    USER_FIELD = "user-field"  # a text field of the connected user
    CHANNEL_NAME = "channel-name"
    # containers: their items are client data
    SCOPE = "scope"
    URL_ROUTE = "url-route"
    URL_KWARGS = "url-kwargs"
    QUERY_PARAMS = "query-params"
    USER = "user"
    RECEIVE_EVENT = "receive-event"
    REQUEST = "request"

    @property
    def is_container(self) -> bool:
        return self in _CONTAINERS


_CONTAINERS = frozenset(
    {
        ClientSource.SCOPE,
        ClientSource.URL_ROUTE,
        ClientSource.URL_KWARGS,
        ClientSource.QUERY_PARAMS,
        ClientSource.USER,
        ClientSource.RECEIVE_EVENT,
        ClientSource.REQUEST,
    }
)


@dataclass(frozen=True, kw_only=True)
class ClientValue:
    """Client data an expression holds.

    ``origin`` is where it enters (the parameter, the decoder call, the scope read...);
    ``path`` the keys read from there (``ANY`` for a non-constant key or an iterated element);
    ``key`` the URL kwarg, scope key or user field it is; ``derived`` is true for text made
    from it (``str(x)``, ``x.strip()``), which is no longer the raw decoded value.
    """

    source: ClientSource
    origin: ast.AST
    path: tuple[object, ...] = ()
    key: str | None = None
    derived: bool = False

    def covers(self, other: ClientValue) -> bool:
        """Whether ``other`` is this value or read from it."""
        return self.origin is other.origin and other.path[: len(self.path)] == self.path


class CheckKind(enum.Enum):
    """How a client value was checked before a use."""

    MEMBERSHIP = "membership"  # "k" in data
    GET = "get"  # data.get("k")
    TYPE = "type"  # isinstance(data, dict), type(data) is dict, a match pattern
    ALLOWLIST = "allowlist"  # value in ALLOWED, value == "x"
    CONTENT = "content"  # re.match(p, value), value.isalnum(), len(value)
    SCHEMA = "schema"  # a DRF serializer, form, pydantic model, jsonschema, marshmallow
    RUNTIME = "runtime"  # channels_lint.runtime's validators
    PROJECT = "project"  # the project's own validate*/check*/clean* function


@dataclass(frozen=True, kw_only=True)
class Check:
    """One check of ``value`` at ``node``; ``key`` is the key a MEMBERSHIP/GET check tested
    (``ANY``: not a constant); ``required`` the keys a RUNTIME check proved present."""

    kind: CheckKind
    node: ast.AST
    value: ClientValue
    key: object = None
    required: tuple[str, ...] = ()


class HandlerKind(enum.Enum):
    """A function that receives client data."""

    RECEIVE = "receive"  # Websocket consumers' receive(text_data, bytes_data)
    RECEIVE_JSON = "receive_json"
    DECODE_JSON = "decode_json"
    WEBSOCKET_RECEIVE = "websocket_receive"
    HTTP_HANDLE = "handle"  # AsyncHttpConsumer.handle(body)
    VIEW = "view"  # a function with a ``request`` parameter


@dataclass(frozen=True, kw_only=True)
class Handler:
    """A function receiving client data: ``consumer`` is its consumer (``None`` for a view);
    ``is_async`` whether it is a coroutine; ``json_consumer`` whether the consumer sends
    with ``send_json``; ``errors_caught`` whether something around it (a decorator, a
    ``dispatch``/``receive`` override, a catching base) may catch what it raises."""

    kind: HandlerKind
    function: ast.FunctionDef | ast.AsyncFunctionDef
    consumer: Consumer | None
    is_async: bool
    json_consumer: bool
    errors_caught: bool


@dataclass(frozen=True, kw_only=True)
class NamePart:
    """One piece of a group name.

    ``text`` is the literal text of a literal piece; ``client`` the client data a piece holds;
    ``charset_safe``/``max_length`` what is known of its characters and length (``None``:
    unknown or unbounded, see ``bounded``); ``known`` is false when the analysis cannot say
    anything about it (rules stay silent on such a piece).
    """

    node: ast.expr
    text: str | None = None
    client: ClientValue | None = None
    charset_safe: bool = False
    max_length: int | None = None
    known: bool = True


@dataclass(frozen=True, kw_only=True)
class GroupName:
    """What a group-name expression is built from.

    ``builder`` is the expression that builds it (the argument itself, or the one value a name
    holds); ``template`` is true for a plain string literal that looks like an unformatted
    template (``"chat_{room}"``, ``"chat_%s"``); ``checked`` when the name itself went through
    a test (``re.match(..., name)``)."""

    parts: tuple[NamePart, ...]
    builder: ast.expr
    template: bool = False
    checked: bool = False


@dataclass(frozen=True, kw_only=True)
class RouteKwarg:
    """What the routes of a consumer say about one URL kwarg: whether every character it may
    hold is valid in a group name, its longest length (``None``: unbounded), its converter;
    ``known`` is false when the routes leave it to project code (a custom converter, a
    route default)."""

    charset_safe: bool
    max_length: int | None
    converter: str | None = None
    pattern: str | None = None
    known: bool = True


class ClientData:
    """Client data of one module (see the module docstring).

    Args:
        route_kwargs: ``route_kwargs(consumer_name)`` gives the URL kwargs the project's routes
            to a consumer define (``{name: KwargFact}``, each with its converter or regex), or
            ``None`` when the consumer has no known route (``ModuleAnalysis.routes``).
    """

    def __init__(self, syntax: Syntax, names: Names, flow: ValueFlow, consumers: Consumers, route_kwargs=None) -> None:
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

    # ------------------------------------------------------------------ checks
    @functools.cached_property
    def checks(self) -> list[Check]:
        """Every check of client data in the module, in source order."""
        found: list[Check] = []
        for compare in self.syntax.nodes(ast.Compare):
            operands = [compare.left, *compare.comparators]
            for index, op in enumerate(compare.ops):
                left, right = operands[index], operands[index + 1]
                if isinstance(op, (ast.In, ast.NotIn)):
                    container = right.func.value if _is_call_of(right, "keys") else right
                    value = self.value(container)
                    if value is not None:
                        found.append(Check(kind=CheckKind.MEMBERSHIP, node=compare, value=value, key=_constant_key(left)))
                    value = self.value(left)
                    if value is not None:
                        found.append(Check(kind=CheckKind.ALLOWLIST, node=compare, value=value))
                elif isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                    for side, other in ((left, right), (right, left)):
                        if isinstance(side, ast.Call) and self.names.is_builtin(side.func, "type") and side.args:
                            value = self.value(side.args[0])
                            if value is not None:
                                found.append(Check(kind=CheckKind.TYPE, node=compare, value=value))
                        elif isinstance(other, ast.Constant) and other.value is not None:
                            value = self.value(side)
                            if value is not None:
                                found.append(Check(kind=CheckKind.ALLOWLIST, node=compare, value=value))
                else:  # <, >, ...: a length or range test; data.keys() >= {...}: a key test
                    for side in (left, right):
                        if _is_call_of(side, "keys"):
                            value = self.value(side.func.value)
                            if value is not None:
                                found.append(Check(kind=CheckKind.MEMBERSHIP, node=compare, value=value, key=ANY))
                            continue
                        inner = side.args[0] if isinstance(side, ast.Call) and self.names.is_builtin(side.func, "len") and side.args else side
                        value = self.value(inner)
                        if value is not None:
                            found.append(Check(kind=CheckKind.CONTENT, node=compare, value=value))
        for call in self.syntax.nodes(ast.Call):
            found.extend(self._call_checks(call))
        for match in self.syntax.nodes(ast.Match):
            value = self.value(match.subject)
            if value is not None:
                found.append(Check(kind=CheckKind.TYPE, node=match, value=value))
        found.sort(key=lambda c: (c.node.lineno, c.node.col_offset))
        return found

    def _call_checks(self, call: ast.Call) -> list[Check]:
        func = call.func
        name = self.names.call_name(call) or ""
        first = call.args[0] if call.args else None
        if self.names.is_builtin(func, "isinstance") and first is not None:
            value = self.value(first)
            return [Check(kind=CheckKind.TYPE, node=call, value=value)] if value is not None else []
        if isinstance(func, ast.Attribute) and func.attr == "get" and first is not None:
            value = self.value(func.value)
            if value is not None:
                return [Check(kind=CheckKind.GET, node=call, value=value, key=_constant_key(first))]
            return []
        if isinstance(func, ast.Attribute) and func.attr in _TEXT_TESTS:
            value = self.value(func.value)
            return [Check(kind=CheckKind.CONTENT, node=call, value=value)] if value is not None else []
        if name in _REGEX_TESTS and len(call.args) > 1:
            value = self.value(call.args[1])
            return [Check(kind=CheckKind.CONTENT, node=call, value=value)] if value is not None else []
        if isinstance(func, ast.Attribute) and func.attr in ("match", "fullmatch", "search") and first is not None:
            value = self.value(first)  # a compiled pattern's match(value)
            return [Check(kind=CheckKind.CONTENT, node=call, value=value)] if value is not None else []
        arguments = [*call.args, *(k.value for k in call.keywords)]
        arguments = [a.value if isinstance(a, ast.Starred) else a for a in arguments]
        values = [v for v in map(self.value, arguments) if v is not None]
        if not values:
            return []
        if name in RUNTIME_VALIDATORS or (isinstance(func, ast.Attribute) and func.attr in ("check_message_data", "extract_message_data", "validate_connection_data")):
            keywords = {k.arg: k.value for k in call.keywords}
            kind = CheckKind.SCHEMA if "schema" in keywords else CheckKind.RUNTIME
            required = _required_keys(keywords.get("required"))
            found = [Check(kind=kind, node=call, value=values[0], required=required)]
            result = self.value(call)  # extract_message_data's dict: an object holding `required`
            if result is not None:
                found.append(Check(kind=kind, node=call, value=result, required=required))
            return found
        last = name.rsplit(".", 1)[-1] if name else (func.attr if isinstance(func, ast.Attribute) else "")
        if name in JSON_DECODERS or name.startswith(("json.", "orjson.", "ujson.", "simplejson.", "rapidjson.")):
            return []
        is_schema = (
            _SCHEMA_NAMES.search(last) is not None and last[:1].isupper()
            or last in _SCHEMA_METHODS
            or name.startswith(("jsonschema.", "pydantic.", "marshmallow.", "rest_framework.", "dacite.", "cattrs.", "msgspec."))
            or any(k.arg is None for k in call.keywords)  # Model(**data)
        )
        if is_schema:
            return [Check(kind=CheckKind.SCHEMA, node=call, value=v) for v in values]
        if _VALIDATOR_WORDS.search(last):
            return [Check(kind=CheckKind.PROJECT, node=call, value=v) for v in values]
        return []

    def checks_before(self, value: ClientValue, node: ast.AST) -> list[Check]:
        """Checks of ``value`` (or of a value it was read from) in the scope of ``node``,
        before it in the source."""
        scope = self.syntax.enclosing_scope(node)
        return [
            check
            for check in self.checks
            if check.value.covers(value) and self.syntax.enclosing_scope(check.node) is scope and self._before(check.node, node)
        ]

    def _before(self, check: ast.AST, node: ast.AST) -> bool:
        """Whether ``check`` runs before ``node``: earlier in the source, or in the test of an
        ``a if test else b`` whose ``a`` holds ``node``."""
        if (check.lineno, check.col_offset) < (node.lineno, node.col_offset):
            return True
        child = node
        for parent in self.syntax.ancestors(node):
            if isinstance(parent, ast.IfExp) and child is parent.body:
                if any(a is parent.test for a in (check, *self.syntax.ancestors(check))):
                    return True
            if isinstance(parent, ast.stmt):
                return False
            child = parent
        return False

    def caught(self, node: ast.AST, catchers: frozenset[str]) -> bool:
        """Whether a ``try`` around ``node`` (in its scope) catches one of ``catchers``
        (qualified names; a bare ``except`` catches everything), or a
        ``contextlib.suppress`` of one of them."""
        for guard, expression in self.syntax.guards(node):
            if guard == "except" and self._catches(expression, catchers):
                return True
            if (
                guard == "with"
                and isinstance(expression, ast.Call)
                and self.names.resolves_to(expression.func, "contextlib.suppress")
                and any(self._catches(kind, catchers) for kind in expression.args)
            ):
                return True
        return False

    def _catches(self, kind: ast.expr | None, catchers: frozenset[str]) -> bool:
        if kind is None:
            return True
        kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
        return any(self.names.qualname(k) in catchers for k in kinds)

    # ------------------------------------------------------------------ group names
    def group_name(self, node: ast.expr) -> list[GroupName]:
        """What a group-name expression may be built from: one :class:`GroupName` per value
        it may hold (an empty list when a value is unknown)."""
        checked = self._name_checked(node)
        client = self.value(node)
        if client is not None and not client.source.is_container:
            return [GroupName(parts=(self._client_part(node, client),), builder=node, checked=checked)]
        values = self.flow.values(node) if isinstance(node, (ast.Name, ast.Attribute)) else (node,)
        if not values:
            return []
        found = []
        for value in values:
            parts = self._parts(value, 0)
            template = isinstance(value, ast.Constant) and isinstance(value.value, str) and _looks_like_template(value.value)
            found.append(GroupName(parts=tuple(parts), builder=value, template=template, checked=checked))
        return found

    def _name_checked(self, node: ast.expr) -> bool:
        """Whether the name (``room_group``, ``self.group_name``) was tested before: passed to
        a call in a test, matched, compared."""
        spelled = dotted(node)
        if spelled is None or not isinstance(node, (ast.Name, ast.Attribute)):
            return False
        cls = self.syntax.enclosing_class(node)
        for test in self.syntax.truth_tests():
            if isinstance(node, ast.Attribute) and (cls is None or self.syntax.enclosing_class(test) is not cls):
                continue
            if isinstance(node, ast.Name) and self.syntax.enclosing_scope(test) is not self.syntax.enclosing_scope(node):
                continue
            for inner in ast.walk(test):
                if isinstance(inner, ast.Call) and not any(self.names.is_builtin(inner.func, b) for b in ("hasattr", "getattr", "bool", "isinstance")):
                    operands = [*inner.args, *(k.value for k in inner.keywords)]
                elif isinstance(inner, ast.Compare) and not all(
                    isinstance(op, (ast.Is, ast.IsNot)) for op in inner.ops
                ):
                    operands = [inner.left, *inner.comparators]
                    operands += [o.args[0] for o in operands if isinstance(o, ast.Call) and self.names.is_builtin(o.func, "len") and o.args]
                else:
                    continue
                if any(dotted(o) == spelled for o in operands):
                    return True
        return False

    def _parts(self, node: ast.expr, depth: int) -> list[NamePart]:
        unknown = [NamePart(node=node, known=False)]
        if depth > MAX_DEPTH:
            return unknown
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return [NamePart(node=node, text=node.value, charset_safe=True, max_length=len(node.value))]
            if isinstance(node.value, int) and not isinstance(node.value, bool):
                return [NamePart(node=node, text=str(node.value), charset_safe=True, max_length=len(str(node.value)))]
            return unknown
        if isinstance(node, ast.JoinedStr):
            parts: list[NamePart] = []
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    parts.extend(self._parts(piece, depth + 1))
                elif isinstance(piece, ast.FormattedValue):
                    if piece.format_spec is not None or piece.conversion not in (-1, ord("s")):
                        parts.append(NamePart(node=piece.value, known=False))
                    else:
                        parts.extend(self._parts(piece.value, depth + 1))
            return parts
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mult)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and isinstance(node.right, ast.Constant)
            and type(node.right.value) is int
            and 0 <= node.right.value <= 10_000
        ):
            text = node.left.value * node.right.value
            return [NamePart(node=node, text=text, charset_safe=True, max_length=len(text))]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._parts(node.left, depth + 1) + self._parts(node.right, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            template = node.left.value
            if not isinstance(template, str) or not re.fullmatch(r"(?:[^%]|%[sd])*", template):
                return unknown
            arguments = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            pieces = re.split(r"%[sd]", template)
            if len(pieces) != len(arguments) + 1:
                return unknown
            return self._interleave(node.left, pieces, arguments, depth)
        if isinstance(node, ast.Call):
            return self._call_parts(node, depth)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            bound = node.slice.upper
            if (
                node.slice.lower is None
                and node.slice.step is None
                and isinstance(bound, ast.Constant)
                and type(bound.value) is int
                and bound.value >= 0
            ):
                inner = self._parts(node.value, depth + 1)
                if len(inner) == 1 and inner[0].known:
                    part = inner[0]
                    length = bound.value if part.max_length is None else min(part.max_length, bound.value)
                    return [replace(part, node=node, max_length=length)]
            return unknown
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Await)):
            client = self.value(node)
            if client is not None and not client.source.is_container:
                return [self._client_part(node, client)]
            if isinstance(node, (ast.Name, ast.Attribute)):
                value = self.flow.definite(node)
                if value is not None and value is not node:
                    return self._parts(value, depth + 1)
            return unknown
        return unknown

    def _interleave(self, literal: ast.expr, pieces: list[str], arguments: list[ast.expr], depth: int) -> list[NamePart]:
        parts: list[NamePart] = []
        for index, text in enumerate(pieces):
            if text:
                parts.append(NamePart(node=literal, text=text, charset_safe=True, max_length=len(text)))
            if index < len(arguments):
                parts.extend(self._parts(arguments[index], depth + 1))
        return parts

    def _call_parts(self, call: ast.Call, depth: int) -> list[NamePart]:
        name = self.names.call_name(call) or ""
        func = call.func
        first = call.args[0] if call.args else None
        if self.names.is_builtin(func, "str") and first is not None and len(call.args) == 1:
            return self._parts(first, depth + 1)
        if name in NAME_SANITISERS and (name != "int" or self.names.is_builtin(func, "int")):
            safe, length = NAME_SANITISERS[name]
            if name.endswith("slugify") and any(k.arg == "allow_unicode" for k in call.keywords):
                return [NamePart(node=call, known=False)]
            if length is None and first is not None and name.endswith("slugify"):
                inner = self._parts(first, depth + 1)
                if all(p.known for p in inner) and all(p.max_length is not None for p in inner):
                    length = sum(p.max_length for p in inner)
                elif any(p.client is not None and p.max_length is None for p in inner):
                    client = next(p.client for p in inner if p.client is not None and p.max_length is None)
                    return [NamePart(node=call, client=client, charset_safe=True, max_length=None)]
                else:
                    return [NamePart(node=call, charset_safe=True, known=False)]
            return [NamePart(node=call, charset_safe=safe, max_length=length, known=length is not None)]
        if isinstance(func, ast.Attribute) and func.attr == "hexdigest" and isinstance(func.value, ast.Call):
            length = HEXDIGEST_LENGTHS.get(self.names.call_name(func.value) or "")
            if length is not None:
                return [NamePart(node=call, charset_safe=True, max_length=length)]
        if isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Constant):
            template = func.value.value
            if isinstance(template, str) and not call.keywords and re.fullmatch(r"(?:[^{}]|\{\})*", template):
                pieces = template.split("{}")
                if len(pieces) == len(call.args) + 1:
                    return self._interleave(func.value, pieces, call.args, depth)
            return [NamePart(node=call, known=False)]
        if isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant) and first is not None:
            separator = func.value.value
            if isinstance(separator, str) and isinstance(first, (ast.List, ast.Tuple)) and first.elts:
                parts: list[NamePart] = []
                for index, element in enumerate(first.elts):
                    if index and separator:
                        parts.append(NamePart(node=func.value, text=separator, charset_safe=True, max_length=len(separator)))
                    parts.extend(self._parts(element, depth + 1))
                return parts
            return [NamePart(node=call, known=False)]
        client = self.value(call)
        if client is not None and not client.source.is_container:
            return [self._client_part(call, client)]
        return [NamePart(node=call, known=False)]

    def _client_part(self, node: ast.expr, client: ClientValue) -> NamePart:
        """A name piece holding client data: unsafe unless a check or a route says otherwise."""
        if any(
            check.kind in (CheckKind.ALLOWLIST, CheckKind.CONTENT, CheckKind.SCHEMA, CheckKind.RUNTIME, CheckKind.PROJECT)
            or check.kind is CheckKind.TYPE and check.value.path == client.path
            for check in self.checks_before(client, node)
        ) or self._checked_anywhere(client):
            return NamePart(node=node, client=client, known=False)
        if client.source is ClientSource.URL_KWARG:
            route = self.route_kwarg(node, client.key)
            if route is not None:
                return NamePart(
                    node=node, client=client, charset_safe=route.charset_safe, max_length=route.max_length, known=route.known
                )
        return NamePart(node=node, client=client, charset_safe=False, max_length=None)

    def _checked_anywhere(self, client: ClientValue) -> bool:
        """A text test of the same value anywhere in its class: a URL kwarg read into
        ``self.room`` in ``connect`` and checked there, used in another method."""
        for check in self.checks:
            if check.kind in (CheckKind.ALLOWLIST, CheckKind.CONTENT, CheckKind.SCHEMA, CheckKind.PROJECT) and check.value.covers(client):
                return True
        return False

    # ------------------------------------------------------------------ routes
    def route_kwarg(self, node: ast.AST, key: str | None) -> RouteKwarg | None:
        """What the routes to the consumer holding ``node`` say about its URL kwarg ``key``;
        ``None`` when no route of the consumer is known (the value is then unsanitised text)."""
        consumer = self.consumers.of(node)
        if consumer is None or key is None or not callable(self._route_kwargs):
            return None
        cache = self.__dict__.setdefault("_routes", {})
        name = consumer.node.name
        if name not in cache:
            try:
                cache[name] = self._route_kwargs(name)
            except Exception:  # noqa: BLE001 - an index that cannot answer knows nothing
                cache[name] = None
        return route_kwarg_fact(cache[name], key)


def route_kwarg_fact(routes, key: str) -> RouteKwarg | None:
    """The weakest fact the routes give for ``key``.  ``routes`` maps kwarg names to a
    ``KwargFact`` (``definitions``, each with ``converter`` and ``regex``), a converter name or a
    regex; ``None`` (no known route) gives ``None``.  A kwarg the routes never define, a
    project converter or a route default gives an unknown fact (``known=False``)."""
    if routes is None:
        return None
    spec = routes.get(key) if isinstance(routes, dict) else None
    if spec is None:
        return RouteKwarg(charset_safe=False, max_length=None, known=False)
    definitions = getattr(spec, "definitions", None)
    if definitions is None:
        definitions = (spec,)
    facts = []
    for definition in definitions:
        converter = getattr(definition, "converter", None)
        regex = getattr(definition, "regex", None)
        if isinstance(definition, str):
            converter, regex = (definition, None) if definition in URL_CONVERTERS else ("regex", definition)
        if converter in URL_CONVERTERS:
            safe, length = URL_CONVERTERS[converter]
            facts.append(RouteKwarg(charset_safe=safe, max_length=length, converter=converter))
        elif converter == "regex" and isinstance(regex, str):
            safe, length = pattern_fact(regex)
            if length is None and _digits_only(regex):
                length = INT_TEXT_LENGTH  # like the int converter (facts.INT_TEXT_LENGTH)
            facts.append(RouteKwarg(charset_safe=safe, max_length=length, converter="regex", pattern=regex))
        else:  # a project converter, a route default: whatever the project made it
            return RouteKwarg(charset_safe=False, max_length=None, known=False)
    if not facts:
        return RouteKwarg(charset_safe=False, max_length=None, known=False)
    lengths = [f.max_length for f in facts]
    worst = next((f for f in facts if not f.charset_safe), None) or next((f for f in facts if f.max_length is None), facts[0])
    return RouteKwarg(
        charset_safe=all(f.charset_safe for f in facts),
        max_length=None if None in lengths else max(lengths),
        converter=worst.converter,
        pattern=worst.pattern,
    )


# ---------------------------------------------------------------------- regexes
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def pattern_fact(regex: str) -> tuple[bool, int | None]:
    """``(every character it matches is valid in a group name, longest match or None)``
    of a URL regex group (Python ``re`` syntax: ``\\w`` and ``.`` match Unicode; ``\\d``
    matches Unicode digits, which Channels' own ``\\d`` accepts too, docs/semantics.md §5.1)."""
    try:
        from re import _parser as parser  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse as parser  # type: ignore[no-redef]
    try:
        parsed = parser.parse(regex)
    except Exception:  # noqa: BLE001 - a regex Django would reject too
        return False, None
    ascii_flag = bool(parsed.state.flags & re.ASCII)
    safe = _tokens_safe(parsed, parser, ascii_flag)
    high = parsed.getwidth()[1]
    return safe, (None if high >= parser.MAXREPEAT or high > 10_000 else high)


def _digits_only(regex: str) -> bool:
    """Whether the regex matches only digits (``\\d+``, ``[0-9]+``)."""
    try:
        from re import _parser as parser
    except ImportError:  # pragma: no cover
        import sre_parse as parser  # type: ignore[no-redef]
    try:
        parsed = parser.parse(regex)
    except Exception:  # noqa: BLE001
        return False
    return _tokens_safe(parsed, parser, False, frozenset("0123456789"), words=False)


def _tokens_safe(tokens, parser, ascii_flag: bool, allowed: frozenset[str] | None = None, words: bool = True) -> bool:
    """Whether every character the parsed regex matches is in ``allowed`` (default: the
    group-name characters; ``\\d`` always counts, ``\\w`` only with ``words`` and ASCII)."""
    constants = parser
    allowed = _SAFE_CHARS if allowed is None else allowed
    for op, argument in tokens:
        name = str(op)
        if name == "LITERAL":
            if chr(argument) not in allowed:
                return False
        elif name in ("NOT_LITERAL", "ANY"):
            return False
        elif name == "IN":
            for item_op, item in argument:
                item_name = str(item_op)
                if item_name == "NEGATE":
                    return False
                if item_name == "LITERAL" and chr(item) not in allowed:
                    return False
                if item_name == "RANGE" and not all(chr(c) in allowed for c in range(item[0], item[1] + 1)):
                    return False
                if item_name == "CATEGORY" and not _category_safe(str(item), ascii_flag and words):
                    return False
        elif name == "CATEGORY":
            if not _category_safe(str(argument), ascii_flag and words):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            if not _tokens_safe(argument[2], constants, ascii_flag, allowed, words):
                return False
        elif name == "SUBPATTERN":
            if not _tokens_safe(argument[-1], constants, ascii_flag, allowed, words):
                return False
        elif name == "BRANCH":
            if not all(_tokens_safe(branch, constants, ascii_flag, allowed, words) for branch in argument[1]):
                return False
        elif name == "ATOMIC_GROUP":
            if not _tokens_safe(argument, constants, ascii_flag, allowed, words):
                return False
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
            continue
        else:
            return False
    return True


def _category_safe(category: str, ascii_flag: bool) -> bool:
    if category == "CATEGORY_DIGIT":
        return True
    if category == "CATEGORY_WORD":
        return ascii_flag
    return False


# ---------------------------------------------------------------------- helpers
def _constant_key(node: ast.AST | None) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, bytes)) and not isinstance(node.value, bool):
        return node.value
    return ANY


def _is_call_of(node: ast.AST, method: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method and not node.args


def _required_keys(node: ast.AST | None) -> tuple[str, ...]:
    """The key names of a literal ``required=`` argument (``"k"`` or ``("k", type)`` items)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if not isinstance(node, (ast.Tuple, ast.List)):
        return ()
    keys = []
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            keys.append(element.value)
        elif isinstance(element, (ast.Tuple, ast.List)) and element.elts and isinstance(element.elts[0], ast.Constant):
            keys.append(element.elts[0].value)
    return tuple(keys)


_TEMPLATE = re.compile(r"\{[A-Za-z_][\w.\[\]]*\}|\{\d*\}|%\(?[A-Za-z_]*\)?[sd]")


def _looks_like_template(text: str) -> bool:
    return _TEMPLATE.search(text) is not None


__all__ = [
    "ANY",
    "Check",
    "CheckKind",
    "ClientData",
    "ClientSource",
    "ClientValue",
    "GroupName",
    "Handler",
    "HandlerKind",
    "NamePart",
    "RouteKwarg",
    "pattern_fact",
    "route_kwarg_fact",
]
