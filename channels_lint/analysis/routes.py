"""Routes: the URL routes, routers and ASGI applications of one module.

* :attr:`Routes.routes`: every ``path()``/``re_path()``/``url()`` call, its pattern (evaluated
  when it is a constant: literals, constant f-strings, ``.format()`` and ``+`` of constants and
  of names bound to them), its target and the URL kwargs it defines;
* :meth:`Routes.target`: what an application position holds (a consumer's ``as_asgi()``, the
  class itself, an instance, a nested ``URLRouter``, ``include()``, Django's ASGI app), through
  middleware (``AuthMiddlewareStack(...)``) and names bound in this module;
* :attr:`Routes.routers`: every ``URLRouter(...)`` and the routes it holds, through lists bound
  to any name, ``+=``, ``.extend()``/``.append()``, ``+`` and functions returning lists;
  lists of other modules are named by their qualified name;
* :attr:`Routes.protocol_routers`: ``ProtocolTypeRouter({...})`` and its keys;
* :meth:`Routes.enclosing`: the prefix routes a route is nested under (nested routers);
* :attr:`Routes.setup_statement` / :attr:`Routes.imports_before_setup`: the ASGI module's
  ``get_asgi_application()``/``django.setup()`` and the imports that run before it;
* :attr:`Routes.url_kwarg_reads`: ``self.scope["url_route"]["kwargs"]["room"]`` in consumers.

Cross-module facts (routes to a consumer defined in other modules, lists routed elsewhere,
the import graph) come from :class:`channels_lint.project.routes.ProjectRoutes`, which builds
one :class:`Routes` per module file.  What Django and Channels do is data in :mod:`.facts`.
"""

from __future__ import annotations

import ast
import enum
import functools
import string
from dataclasses import dataclass

from channels_lint.analysis import regexes
from channels_lint.analysis.consumers import Consumers
from channels_lint.analysis.facts import (
    CHANNEL_NAME_ROUTER,
    CHANNELS_ASGI_HANDLER,
    CHANNELS_MIDDLEWARE,
    DJANGO_ASGI_APPLICATIONS,
    DJANGO_SETUP_CALLS,
    INCLUDE_FUNCTIONS,
    MIDDLEWARE_NAME_ENDINGS,
    PROTOCOL_TYPE_ROUTER,
    ROUTE_FUNCTIONS,
    URL_ROUTER,
)
from channels_lint.analysis.flow import ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax, dotted, is_capitalized, walk_scope

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


class Routes:
    """Routes, routers and ASGI wiring of one module (see the module docstring)."""

    def __init__(
        self, syntax: Syntax, names: Names, flow: ValueFlow, consumers: Consumers, project=None, path: str | None = None
    ) -> None:
        self.syntax = syntax
        self.names = names
        self.flow = flow
        self.consumers = consumers
        self.project = project
        #: The module's file path (``None`` for text without a file).
        self.path = path

    # ------------------------------------------------------------------ routes
    @functools.cached_property
    def routes(self) -> list[Route]:
        found = []
        for call in self.syntax.nodes(ast.Call):
            kind = self.route_kind(call)
            if kind is None or not call.args and not call.keywords:
                continue
            pattern_node = call.args[0] if call.args else _keyword(call, "route")
            target_node = call.args[1] if len(call.args) > 1 else _keyword(call, "view")
            defaults_node = call.args[2] if len(call.args) > 2 else _keyword(call, "kwargs")
            pattern = self.constant_string(pattern_node)
            literal = pattern_node if isinstance(pattern_node, ast.Constant) and isinstance(pattern_node.value, str) else None
            parent = self.syntax.parents.get(call)
            container = parent if isinstance(parent, (ast.List, ast.Tuple)) else None
            found.append(
                Route(
                    call=call,
                    kind=kind,
                    pattern=pattern,
                    pattern_node=pattern_node,
                    literal=literal,
                    target=self.target(target_node) if target_node is not None else None,
                    defaults=self._dict_keys(defaults_node),
                    container=container,
                    index=container.elts.index(call) if container is not None else 0,
                )
            )
        found.sort(key=lambda r: (r.call.lineno, r.call.col_offset))
        return found

    def route_kind(self, node: ast.AST) -> RouteKind | None:
        if not isinstance(node, ast.Call):
            return None
        kind = ROUTE_FUNCTIONS.get(self.names.qualname(node.func) or "")
        return RouteKind(kind) if kind else None

    @functools.cached_property
    def by_call(self) -> dict[ast.Call, Route]:
        return {route.call: route for route in self.routes}

    def _dict_keys(self, node: ast.expr | None) -> frozenset[str] | None:
        if node is None or isinstance(node, ast.Constant) and node.value is None:
            return frozenset()
        shape = self.flow.dict_shape(node)
        if shape is None or shape.open:
            return None
        keys = set()
        for entry in shape.entries:
            if not isinstance(entry.key, ast.Constant) or not isinstance(entry.key.value, str):
                return None
            keys.add(entry.key.value)
        return frozenset(keys)

    # ------------------------------------------------------------------ constant strings
    def constant_string(self, node: ast.expr | None, _depth: int = 0) -> str | None:
        """The text ``node`` always evaluates to, when it is built from constants only:
        string literals, f-strings without conversions or format specs, ``"...".format()``,
        ``+``, and names bound to one such value here.  ``None`` otherwise."""
        if node is None or _depth > MAX_DEPTH:
            return None
        value = self._constant(node, _depth)
        if isinstance(value, str) and len(value) <= MAX_PATTERN:
            return value
        return None

    def _constant(self, node: ast.expr, depth: int) -> str | int | None:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, int)) and not isinstance(node.value, bool) else None
        if isinstance(node, ast.Name):
            value = self.flow.definite(node)
            if value is None or value is node:
                return None
            return self._constant(value, depth + 1) if depth < MAX_DEPTH else None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    parts.append(str(part.value))
                elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                    inner = self._constant(part.value, depth + 1)
                    if inner is None:
                        return None
                    parts.append(str(inner))
                else:
                    return None
            return _bounded("".join(parts))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._constant(node.left, depth + 1), self._constant(node.right, depth + 1)
            if isinstance(left, str) and isinstance(right, str):
                return _bounded(left + right)
            return None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and not any(isinstance(a, ast.Starred) for a in node.args)
            and all(k.arg is not None for k in node.keywords)
        ):
            template = self._constant(node.func.value, depth + 1)
            if not isinstance(template, str):
                return None
            args = [self._constant(a, depth + 1) for a in node.args]
            kwargs = {k.arg: self._constant(k.value, depth + 1) for k in node.keywords}
            if any(v is None for v in args) or any(v is None for v in kwargs.values()):
                return None
            return _format(template, args, kwargs)
        return None

    # ------------------------------------------------------------------ targets
    def target(self, node: ast.expr) -> Target:
        """What the application position ``node`` holds (see :class:`Target`)."""
        wrappers: list[str] = []
        current = node
        in_place = True
        for _ in range(MAX_DEPTH):
            if isinstance(current, ast.Call) and current.args and self.is_middleware(current):
                wrappers.append(dotted(current.func) or "")
                current = current.args[0]
                continue
            if isinstance(current, ast.Name) and not self._is_consumer_class(current):
                value = self.flow.definite(current)
                if value is not None and value is not current and not isinstance(value, ast.Name):
                    current = value
                    in_place = False
                    continue
            break
        return self._classify(node, current, tuple(wrappers), in_place)

    def _classify(self, node, inner, wrappers, in_place) -> Target:
        def make(kind, **more):
            return Target(node=node, kind=kind, inner=inner, wrappers=wrappers, in_place=in_place, **more)

        qualified = self.names.qualname(inner.func if isinstance(inner, ast.Call) else inner) or ""
        if isinstance(inner, ast.Call):
            if qualified == URL_ROUTER:
                return make(TargetKind.ROUTER, router=inner)
            if qualified in INCLUDE_FUNCTIONS:
                return make(TargetKind.INCLUDE)
            if qualified in DJANGO_ASGI_APPLICATIONS:
                return make(TargetKind.DJANGO_APP)
            if qualified == CHANNELS_ASGI_HANDLER:
                return make(TargetKind.ASGI_HANDLER)
            if isinstance(inner.func, ast.Attribute) and inner.func.attr == "as_asgi":
                receiver = inner.func.value
                return make(TargetKind.AS_ASGI, consumer=_last(receiver), class_node=receiver)
            if self._is_consumer_class(inner.func):
                return make(TargetKind.CONSUMER_INSTANCE, consumer=_last(inner.func), class_node=inner.func)
            return make(TargetKind.UNKNOWN)
        if qualified == CHANNELS_ASGI_HANDLER:
            return make(TargetKind.ASGI_HANDLER)
        if isinstance(inner, ast.Attribute) and inner.attr == "as_asgi":
            return make(TargetKind.UNCALLED_AS_ASGI, consumer=_last(inner.value), class_node=inner.value)
        if self._is_consumer_class(inner):
            return make(TargetKind.CONSUMER_CLASS, consumer=_last(inner), class_node=inner)
        return make(TargetKind.UNKNOWN)

    def is_middleware(self, call: ast.Call) -> bool:
        """``Middleware(inner, ...)``: Channels' middleware, or a class whose name ends like one."""
        qualified = self.names.qualname(call.func)
        if qualified is None:
            return False
        if qualified in CHANNELS_MIDDLEWARE:
            return True
        last = qualified.rsplit(".", 1)[-1]
        return last.endswith(MIDDLEWARE_NAME_ENDINGS) and is_capitalized(last)

    def _is_consumer_class(self, node: ast.expr) -> bool:
        """A consumer class: defined here as one, known to the project index as one, named
        ``*Consumer``, or a CapWords name taken from a module named ``consumers``
        (``consumers.Chat``, ``from .consumers import Chat``)."""
        name = dotted(node)
        if name is None:
            return False
        qualified = self.names.qualname(node) or name
        if qualified == CHANNELS_ASGI_HANDLER or qualified in DJANGO_ASGI_APPLICATIONS:
            return False
        last = name.rsplit(".", 1)[-1]
        if isinstance(node, ast.Name):
            if any(c.node.name == last for c in self.consumers.by_class.values()):
                return True
            if last in self.names.classes:
                return False  # a class of this module that is not a consumer
            if last in self.names.local_names(self.syntax.tree):
                return False  # ChatRouter = URLRouter([...]): an application, not a class
        if self.project is not None and self.project.root is not None and self.project.consumer(last) is not None:
            return True
        if last.endswith("Consumer"):
            return True
        class_like = is_capitalized(last) and not last.isupper()  # CapWords, not a CONSTANT
        modules = qualified.split(".")[:-1]
        return class_like and any(part.endswith("consumers") for part in modules)

    # ------------------------------------------------------------------ application positions
    @functools.cached_property
    def protocol_routers(self) -> list[ProtocolRouter]:
        found = []
        for call in self.syntax.nodes(ast.Call):
            qualified = self.names.qualname(call.func)
            if qualified not in (PROTOCOL_TYPE_ROUTER, CHANNEL_NAME_ROUTER) or len(call.args) != 1:
                continue
            shape = self.flow.dict_shape(call.args[0])
            if shape is None:
                found.append(ProtocolRouter(call, (), True, qualified == CHANNEL_NAME_ROUTER))
                continue
            entries, open_ = [], shape.open
            for entry in shape.entries:
                if isinstance(entry.key, ast.Constant) and isinstance(entry.key.value, str):
                    entries.append((entry.key.value, entry.value))
                elif entry.key is not None:
                    open_ = True
            found.append(ProtocolRouter(call, tuple(entries), open_, qualified == CHANNEL_NAME_ROUTER))
        found.sort(key=lambda p: (p.call.lineno, p.call.col_offset))
        return found

    @functools.cached_property
    def applications(self) -> list[Target]:
        """Every application position: route targets and the values of protocol and
        channel-name routers (middleware is unwrapped by :meth:`target`)."""
        found = [route.target for route in self.routes if route.target is not None]
        for router in self.protocol_routers:
            for _, value in router.entries:
                found.append(self.target(value))
        return found

    @functools.cached_property
    def misplaced_as_asgi(self) -> list[ast.Call]:
        """``path(...).as_asgi()``: ``as_asgi()`` called on the route instead of its target."""
        return [
            call
            for call in self.syntax.nodes(ast.Call)
            if isinstance(call.func, ast.Attribute) and call.func.attr == "as_asgi" and self.route_kind(call.func.value)
        ]

    # ------------------------------------------------------------------ lists and routers
    def entries(self, node: ast.expr | None, _depth: int = 0) -> Entries:
        """What the route-list expression ``node`` holds (see :class:`Entries`)."""
        if node is None or _depth > MAX_DEPTH:
            return Entries((), (), False)
        if isinstance(node, (ast.List, ast.Tuple)):
            items: list[ast.expr] = []
            references: list[str] = []
            complete = True
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    inner = self.entries(element.value, _depth + 1)
                    items.extend(inner.items)
                    references.extend(inner.references)
                    complete &= inner.complete
                else:
                    items.append(element)
            return Entries(tuple(items), tuple(references), complete)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _join(self.entries(node.left, _depth + 1), self.entries(node.right, _depth + 1))
        if isinstance(node, ast.Name):
            return self._name_entries(node, _depth)
        if isinstance(node, ast.Attribute):
            qualified = self.names.qualname(node)
            name = dotted(node)
            if qualified and name and name.split(".")[0] in self.names.imports:
                return Entries((), (qualified,), True)
            return Entries((), (), False)
        if isinstance(node, ast.Call):
            if (self.names.is_builtin(node.func, "list") or self.names.is_builtin(node.func, "tuple")) and len(node.args) == 1:
                return self.entries(node.args[0], _depth + 1)
            function = self.names.local_function(node)
            if function is not None and not isinstance(self.syntax.parents.get(function), ast.ClassDef):
                returned = self.flow.returns(function)
                if returned is None:
                    return Entries((), (), False)
                result = Entries((), (), True)
                for value in returned:
                    result = _join(result, self.entries(value, _depth + 1))
                return result
        return Entries((), (), False)

    def _name_entries(self, name: ast.Name, depth: int) -> Entries:
        """Everything any binding or in-place extension of ``name`` in its scope puts in the list."""
        if name.id in self.names.imports:
            return Entries((), (self.names.qualname(name) or name.id,), True)
        scope = self.syntax.enclosing_scope(name)
        if name.id not in self.names.local_names(scope) and scope is not self.syntax.tree:
            scope = self.syntax.tree  # a module-level list read in a function
        result = Entries((), (), True)
        bound = False
        for binder in self.names.binders.get(scope, ()):
            if isinstance(binder, ast.Assign):
                if any(isinstance(t, ast.Name) and t.id == name.id for t in binder.targets):
                    bound = True
                    result = _join(result, self.entries(binder.value, depth + 1))
                elif any(name.id in {n.id for n in ast.walk(t) if isinstance(n, ast.Name)} for t in binder.targets):
                    result = Entries(result.items, result.references, False)  # unpacked: unknown
            elif isinstance(binder, (ast.AnnAssign, ast.AugAssign)) and isinstance(binder.target, ast.Name):
                if binder.target.id == name.id and binder.value is not None:
                    bound = True
                    result = _join(result, self.entries(binder.value, depth + 1))
            elif isinstance(binder, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.NamedExpr)):
                targets = [getattr(binder, "target", None)] + [
                    getattr(i, "optional_vars", None) for i in getattr(binder, "items", [])
                ]
                if any(t is not None and name.id in {n.id for n in ast.walk(t) if isinstance(n, ast.Name)} for t in targets):
                    result = Entries(result.items, result.references, False)
        for load in self.names.loads_by_name[0].get(name.id, ()):
            if self.syntax.enclosing_scope(load) is not scope and scope is not self.syntax.tree:
                continue
            parent = self.syntax.parents.get(load)
            if not isinstance(parent, ast.Attribute):
                continue
            call = self.syntax.parents.get(parent)
            if not isinstance(call, ast.Call) or call.func is not parent:
                continue
            if parent.attr == "extend" and len(call.args) == 1:
                result = _join(result, self.entries(call.args[0], depth + 1))
            elif parent.attr == "append" and len(call.args) == 1:
                result = _join(result, Entries((call.args[0],), (), True))
            elif parent.attr == "insert" and len(call.args) == 2:
                result = _join(result, Entries((call.args[1],), (), True))
        if not bound:
            return Entries(result.items, result.references, False)
        return result

    @functools.cached_property
    def routers(self) -> list[Router]:
        found = []
        for call in self.syntax.nodes(ast.Call):
            if self.names.resolves_to(call.func, URL_ROUTER) and len(call.args) == 1:
                found.append(Router(call, self.entries(call.args[0])))
        found.sort(key=lambda r: (r.call.lineno, r.call.col_offset))
        return found

    @functools.cached_property
    def _routers_of(self) -> dict[ast.Call, list[Router]]:
        """Route call -> the routers that route it."""
        found: dict[ast.Call, list[Router]] = {}
        for router in self.routers:
            for item in router.entries.items:
                if item in self.by_call:
                    found.setdefault(item, []).append(router)
        return found

    @functools.cached_property
    def _routes_to(self) -> dict[ast.Call, list[Route]]:
        """``URLRouter(...)`` call -> the routes whose target it is (through middleware and names)."""
        found: dict[ast.Call, list[Route]] = {}
        for route in self.routes:
            if route.target is not None and route.target.router is not None:
                found.setdefault(route.target.router, []).append(route)
        return found

    def enclosing(self, route: Route) -> list[list[Route]]:
        """The chains of prefix routes (outermost first) ``route`` is nested under in this
        module; ``[[]]`` when it is routed at the top (or its list is used elsewhere)."""
        chains: list[list[Route]] = []

        def walk(call: ast.Call, chain: list[Route], depth: int) -> None:
            outer = [p for router in self._routers_of.get(call, []) for p in self._routes_to.get(router.call, [])]
            if not outer or depth > MAX_DEPTH:
                chains.append(chain)
                return
            for prefix in outer:
                if prefix in chain:
                    continue
                walk(prefix.call, [prefix, *chain], depth + 1)

        walk(route.call, [], 0)
        return chains or [[]]

    def routed_lists(self) -> dict[str, Entries]:
        """Module-level names bound to lists that hold routes (any name, not only
        ``websocket_urlpatterns``)."""
        found = {}
        for statement in self.syntax.tree.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in found:
                    entries = self.entries(target)
                    if any(item in self.by_call for item in entries.items):
                        found[target.id] = entries
        return found

    def in_router(self, route: Route) -> bool:
        """Whether ``route`` is provably routed by a ``URLRouter``: a router of this module
        holds it, or its list is named for websocket routes, or the project index knows its
        list is routed by a router of another module."""
        if route.call in self._routers_of:
            return True
        for name, entries in self.routed_lists().items():
            if route.call in entries.items and ("websocket" in name.lower() or self._routed_elsewhere(name)):
                return True
        return False

    def _routed_elsewhere(self, name: str) -> bool:
        if self.project is None or self.project.root is None:
            return False
        return self.project.routes.routed_list(self.path, name)

    # ------------------------------------------------------------------ ASGI module
    @functools.cached_property
    def setup_statement(self) -> ast.stmt | None:
        """The first module-level statement that calls ``get_asgi_application()`` or
        ``django.setup()`` (outside functions), if any."""
        for statement in self.syntax.tree.body:
            for node in walk_scope([statement]):
                if isinstance(node, ast.Call) and self.names.qualname(node.func) in DJANGO_SETUP_CALLS:
                    return statement
        return None

    @functools.cached_property
    def imports_before_setup(self) -> list[ImportBeforeSetup]:
        """Module-level imports above :attr:`setup_statement` (none without one)."""
        setup = self.setup_statement
        if setup is None:
            return []
        found = []
        for statement in self.syntax.tree.body:
            if statement is setup:
                break
            if isinstance(statement, ast.Import):
                modules = tuple(alias.name for alias in statement.names)
                names = tuple(alias.asname or alias.name.split(".")[0] for alias in statement.names)
                found.append(ImportBeforeSetup(statement, modules, names))
            elif isinstance(statement, ast.ImportFrom):
                base = "." * statement.level + (statement.module or "")
                joined = base if base.endswith(".") else base + "."
                modules = (base, *(joined + alias.name for alias in statement.names if alias.name != "*"))
                names = tuple(alias.asname or alias.name for alias in statement.names)
                found.append(ImportBeforeSetup(statement, modules, names))
        return found

    # ------------------------------------------------------------------ summary for the project
    def summary(self, module: str | None, test_module: bool = False) -> ModuleRouting:
        """This module's part of the project's routes (see :class:`ModuleRouting`)."""

        def with_path(kwargs):
            if kwargs is None:
                return None
            return tuple(sorted((k, KwargDefinition(d.converter, d.regex, self.path, d.line)) for k, d in kwargs.items()))

        lists = self.routed_lists()
        consumer_routes = []
        prefix_kwargs: set[str] = set()
        prefix_open = False
        for route in self.routes:
            target = route.target
            if target is None or not target.is_consumer or not target.consumer:
                own = route.own_kwargs()
                if own is None:
                    prefix_open = True
                else:
                    prefix_kwargs.update(own)
                continue
            for chain in self.enclosing(route):
                kwargs = merge_kwargs([r.own_kwargs() for r in chain] + [route.own_kwargs()])
                outermost = (chain[0] if chain else route).call
                holding = tuple(name for name, entries in lists.items() if outermost in entries.items)
                consumer_routes.append(ConsumerRoute(target.consumer, with_path(kwargs), route.call.lineno, holding))
        references = []
        for router in self.routers:
            if not router.entries.references:
                continue
            prefixes = self._router_prefixes(router)
            for reference in router.entries.references:
                for prefix in prefixes:
                    references.append(ListReference(reference, with_path(prefix)))
        routed_inners = {id(route.target.inner) for route in self.routes if route.target is not None}
        unrouted = set()
        if not test_module:
            for node in self.syntax.nodes(ast.Attribute):
                if node.attr != "as_asgi":
                    continue
                parent = self.syntax.parents.get(node)
                use = parent if isinstance(parent, ast.Call) and parent.func is node else node
                name = _last(node.value)
                if name and id(use) not in routed_inners:
                    unrouted.add(name)
        subclassed = {base for cls in self.syntax.nodes(ast.ClassDef) for base in filter(None, (_last(b) for b in cls.bases))}
        return ModuleRouting(
            path=self.path,
            module=module,
            consumer_routes=tuple(consumer_routes),
            references=tuple(references),
            prefix_kwargs=frozenset(prefix_kwargs),
            prefix_open=prefix_open,
            unrouted=frozenset(unrouted),
            subclassed=frozenset(subclassed),
        )

    def _router_prefixes(self, router: Router) -> list[dict[str, KwargDefinition] | None]:
        """Kwargs of the prefix chains a router of this module sits under (``[{}]`` at the top)."""
        outer = self._routes_to.get(router.call, [])
        if not outer:
            return [{}]
        found = []
        for prefix in outer:
            for chain in self.enclosing(prefix):
                found.append(merge_kwargs([r.own_kwargs() for r in [*chain, prefix]]))
        return found

    def route_kwargs(self, consumer: str) -> dict[str, KwargFact] | None:
        """The URL kwargs routes define for ``consumer`` (by class name), across the project
        and this module as it is now; ``None`` when the consumer has no known route, or one
        of its routes (or a use of its ``as_asgi()`` outside routes) leaves them unknown."""
        if self.project is None:
            return None
        return self.project.routes.route_kwargs(consumer, live=self.live_summary)

    @functools.cached_property
    def live_summary(self) -> ModuleRouting:
        module = self.project.routes.module_name(self.path) if self.project is not None and self.path else None
        return self.summary(module, test_module=_is_test_path(self.path))

    # ------------------------------------------------------------------ URL kwargs read by consumers
    @functools.cached_property
    def url_kwarg_reads(self) -> list[KwargRead]:
        """``self.scope["url_route"]["kwargs"]["key"]`` (directly or through names) loaded in a
        method of a consumer class of this module; ``.get(...)`` is not a read that raises."""
        found = []
        for node in self.syntax.nodes(ast.Subscript):
            if not isinstance(node.ctx, ast.Load):
                continue
            key = _constant_key(node)
            if key is None:
                continue
            consumer = self.consumers.of(node)
            if consumer is None or not self._is_url_kwargs(node.value):
                continue
            found.append(KwargRead(node, key, consumer.node))
        found.sort(key=lambda r: (r.node.lineno, r.node.col_offset))
        return found

    def _is_url_kwargs(self, node: ast.expr) -> bool:
        value = self.flow.definite(node) if isinstance(node, ast.Name) else node
        if not isinstance(value, ast.Subscript) or _constant_key(value) != "kwargs":
            return False
        route = self.flow.definite(value.value) if isinstance(value.value, ast.Name) else value.value
        if not isinstance(route, ast.Subscript) or _constant_key(route) != "url_route":
            return False
        scope = route.value
        return dotted(scope) == "self.scope"


# ---------------------------------------------------------------------------- module summary
Kwargs = tuple[tuple[str, KwargDefinition], ...]


@dataclass(frozen=True)
class ConsumerRoute:
    """A route (with the prefixes it is nested under in its module) that reaches a consumer.

    ``kwargs`` are the URL kwargs the consumer then gets (``None``: not all known); ``lists``
    the module-level names of the lists holding the outermost route, through which other
    modules may nest it under more prefixes."""

    consumer: str
    kwargs: Kwargs | None
    line: int
    lists: tuple[str, ...]


@dataclass(frozen=True)
class ListReference:
    """A ``URLRouter`` of this module routing a list of another module (``reference`` as this
    module spells it, leading dots kept), under prefixes defining ``prefix`` (``None``: not
    all known)."""

    reference: str
    prefix: Kwargs | None


@dataclass(frozen=True)
class ModuleRouting:
    """What one module contributes to the project's routes (built by :meth:`Routes.summary`).

    ``prefix_kwargs`` are the kwargs routes to anything other than a consumer define (nested
    routers, unknown applications): they may reach any consumer; ``prefix_open`` is true
    when one such route's kwargs are unknown.  ``unrouted`` names consumers whose
    ``as_asgi()`` is used outside a route (then their kwargs are not known)."""

    path: str | None
    module: str | None
    consumer_routes: tuple[ConsumerRoute, ...]
    references: tuple[ListReference, ...]
    prefix_kwargs: frozenset[str]
    prefix_open: bool
    unrouted: frozenset[str]
    subclassed: frozenset[str]


def merge_kwargs(chain: list[dict[str, KwargDefinition] | None]) -> dict[str, KwargDefinition] | None:
    """Kwargs of nested routes, outermost first: inner values win (routing.py L119-123, §1.3)."""
    merged: dict[str, KwargDefinition] = {}
    for kwargs in chain:
        if kwargs is None:
            return None
        merged.update(kwargs)
    return merged


# ---------------------------------------------------------------------------- helpers
def _is_test_path(path: str | None) -> bool:
    if not path:
        return False
    parts = path.replace("\\", "/").split("/")
    return (
        any(p in ("tests", "test") for p in parts[:-1])
        or parts[-1].startswith("test")
        or parts[-1] in ("conftest.py", "tests.py")
    )


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _last(node: ast.expr) -> str | None:
    name = dotted(node)
    return name.rsplit(".", 1)[-1] if name else None


def _constant_key(node: ast.Subscript) -> str | None:
    key = node.slice
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _join(first: Entries, second: Entries) -> Entries:
    return Entries(first.items + second.items, first.references + second.references, first.complete and second.complete)


def _bounded(text: str) -> str | None:
    return text if len(text) <= MAX_PATTERN else None


def _format(template: str, args: list, kwargs: dict) -> str | None:
    """``template.format(*args, **kwargs)`` for plain fields only (no conversion, no format
    spec, no attribute or index access): anything else is left unevaluated."""
    out = []
    automatic = 0
    try:
        for literal, field, spec, conversion in string.Formatter().parse(template):
            out.append(literal)
            if field is None:
                continue
            if spec or conversion:
                return None
            if field == "":
                if automatic >= len(args):
                    return None
                out.append(str(args[automatic]))
                automatic += 1
            elif field.isdigit():
                if int(field) >= len(args):
                    return None
                out.append(str(args[int(field)]))
            elif field.isidentifier() and field in kwargs:
                out.append(str(kwargs[field]))
            else:
                return None
    except ValueError:
        return None
    return _bounded("".join(out))
