"""The routing model: route calls, application positions, routers and URL kwargs as the routes
analyzer (:mod:`channels_lint.analysis.routes`) finds them; rules read them.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass

from channels_lint.analysis import regexes

#: How deep names, list operands and middleware are followed.
MAX_DEPTH = 8
#: Longest pattern text built from pieces (an f-string or ``.format()``).
MAX_PATTERN = 2000


class RouteKind(enum.Enum):
    """The route function: ``path()`` (converters), ``re_path()`` or ``url()`` (a regex)."""

    PATH = "path"
    RE_PATH = "re_path"
    URL = "url"

    @property
    def is_regex(self) -> bool:
        return self is not RouteKind.PATH


class TargetKind(enum.Enum):
    """What an application position holds (docs/semantics.md §1.4, §1.6)."""

    AS_ASGI = enum.auto()  # Consumer.as_asgi(...)
    UNCALLED_AS_ASGI = enum.auto()  # Consumer.as_asgi
    CONSUMER_CLASS = enum.auto()  # Consumer
    CONSUMER_INSTANCE = enum.auto()  # Consumer(...)
    ROUTER = enum.auto()  # URLRouter([...])
    INCLUDE = enum.auto()  # include(...)
    DJANGO_APP = enum.auto()  # get_asgi_application(), ASGIHandler()
    ASGI_HANDLER = enum.auto()  # channels.http.AsgiHandler (removed in Channels 4)
    UNKNOWN = enum.auto()


CONSUMER_TARGETS = frozenset(
    {TargetKind.AS_ASGI, TargetKind.UNCALLED_AS_ASGI, TargetKind.CONSUMER_CLASS, TargetKind.CONSUMER_INSTANCE}
)


@dataclass(frozen=True)
class Target:
    """An application position.

    ``node`` is the expression as written; ``inner`` what it holds once middleware calls are
    unwrapped and names bound in this module are followed (``wrappers`` lists the middleware,
    outermost first); ``consumer`` is the consumer class's name for the consumer kinds and
    ``class_node`` the expression naming the class; ``router`` the ``URLRouter(...)`` call.
    ``in_place`` is true when ``inner`` is part of ``node`` itself (not reached through a name),
    so a fix may rewrite it there.
    """

    node: ast.expr
    kind: TargetKind
    inner: ast.expr
    wrappers: tuple[str, ...] = ()
    consumer: str | None = None
    class_node: ast.expr | None = None
    router: ast.Call | None = None
    in_place: bool = True

    @property
    def is_consumer(self) -> bool:
        return self.kind in CONSUMER_TARGETS


@dataclass(frozen=True)
class KwargDefinition:
    """How one route defines one URL kwarg: ``converter`` is ``"int"``, ``"str"``, ``"slug"``,
    ``"uuid"``, ``"path"``, a project converter's name, ``"regex"`` (a ``re_path`` group; then
    ``regex`` is the group's pattern) or ``"default"`` (the route's extra-kwargs dict, which
    wins over the captured value: §1.3); ``regex`` is the converter's regex for the built-in
    converters, ``None`` for a project converter or a default."""

    converter: str
    regex: str | None
    path: str | None = None
    line: int = 0


@dataclass(frozen=True)
class KwargFact:
    """The URL kwarg ``name`` as the routes to one consumer define it: one
    :class:`KwargDefinition` per route (and prefix) that defines it; ``always`` when every
    known route to the consumer defines it."""

    name: str
    definitions: tuple[KwargDefinition, ...]
    always: bool

    @property
    def converter(self) -> str | None:
        """The converter every definition uses (``"regex"`` for ``re_path`` groups), or
        ``None`` when the routes disagree."""
        kinds = {(d.converter, d.regex) for d in self.definitions}
        return next(iter(kinds))[0] if len(kinds) == 1 else None

    @property
    def regex(self) -> str | None:
        """The one regex every definition matches the value with, if they agree."""
        kinds = {(d.converter, d.regex) for d in self.definitions}
        return next(iter(kinds))[1] if len(kinds) == 1 else None


@dataclass(frozen=True)
class Route:
    """One ``path()``/``re_path()``/``url()`` call.

    ``pattern`` is the evaluated pattern text (``None``: not a constant); ``literal`` the
    pattern argument when it is one plain string literal (a fix may rewrite it); ``defaults``
    the keys of the extra-kwargs dict (``None``: not a literal dict); ``container`` the list
    or tuple literal that holds the call and ``index`` its position there.
    """

    call: ast.Call
    kind: RouteKind
    pattern: str | None
    pattern_node: ast.expr | None
    literal: ast.Constant | None
    target: Target | None
    defaults: frozenset[str] | None
    container: ast.List | ast.Tuple | None
    index: int

    @property
    def endpoint(self) -> bool:
        """Whether Django builds the pattern as an endpoint: URLRouter rebuilds a route to a
        bare ``URLRouter`` as a prefix (§1.4); a middleware-wrapped one stays an endpoint."""
        return not (self.target is not None and self.target.kind is TargetKind.ROUTER and not self.target.wrappers)

    def own_kwargs(self) -> dict[str, KwargDefinition] | None:
        """The URL kwargs this route itself defines; ``None`` when they cannot be known."""
        if self.pattern is None or self.defaults is None:
            return None
        found: dict[str, KwargDefinition] = {}
        if self.kind is RouteKind.PATH:
            parameters = regexes.route_parameters(self.pattern)
            if parameters is None:
                return None
            for converter, name in parameters:
                found[name] = KwargDefinition(converter, regexes.CONVERTER_REGEX.get(converter), None, self.call.lineno)
        else:
            groups = regexes.named_groups(self.pattern)
            if groups is None:
                return None
            for name, body in groups.items():
                found[name] = KwargDefinition("regex", body, None, self.call.lineno)
        for key in self.defaults:
            found[key] = KwargDefinition("default", None, None, self.call.lineno)
        return found

    @property
    def pattern_kind(self) -> str:
        """``"path"`` or ``"regex"`` (what :func:`regexes.matches` takes)."""
        return "path" if self.kind is RouteKind.PATH else "regex"


@dataclass(frozen=True)
class Entries:
    """What a route-list expression holds: the expressions of its elements (route calls,
    usually), the qualified names of lists it takes from other modules, and whether anything
    else (an unknown call, a comprehension) may add elements."""

    items: tuple[ast.expr, ...]
    references: tuple[str, ...]
    complete: bool


@dataclass(frozen=True)
class Router:
    """A ``URLRouter(...)`` call and what it routes."""

    call: ast.Call
    entries: Entries

    @property
    def route_calls(self) -> tuple[ast.Call, ...]:
        return tuple(e for e in self.entries.items if isinstance(e, ast.Call))


@dataclass(frozen=True)
class ProtocolRouter:
    """A ``ProtocolTypeRouter(...)``/``ChannelNameRouter(...)`` call: its constant keys and
    the applications they map to; ``open`` when the mapping may hold other keys."""

    call: ast.Call
    entries: tuple[tuple[str, ast.expr], ...]
    open: bool
    channel_names: bool = False

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.entries)


@dataclass(frozen=True)
class KwargRead:
    """``<scope>["url_route"]["kwargs"][key]`` read in a method of ``consumer``."""

    node: ast.Subscript
    key: str
    consumer: ast.ClassDef


@dataclass(frozen=True)
class ImportBeforeSetup:
    """A module-level import that runs before the module's ``get_asgi_application()`` /
    ``django.setup()``: the modules it may import (absolute or with leading dots) and the
    names it binds."""

    statement: ast.Import | ast.ImportFrom
    modules: tuple[str, ...]
    names: tuple[str, ...]
