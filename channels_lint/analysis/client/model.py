"""The client-data model: what kind of client data a value is, the checks it went through, the
handlers receiving it and the pieces of a group name (all built by :mod:`.sources`,
:mod:`.checks` and :mod:`.groups`; rules read them).
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass

from channels_lint.analysis.consumers import Consumer

#: A key path element for a key that is not a constant (``data[k]``) or an iterated element.
ANY = "<any>"


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


def _constant_key(node: ast.AST | None) -> object:
    """The constant key ``node`` spells (``data["k"]``, ``data.get(0)``), else :data:`ANY`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, bytes)) and not isinstance(node.value, bool):
        return node.value
    return ANY
