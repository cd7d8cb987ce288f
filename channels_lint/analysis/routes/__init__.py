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

The analyzer is one class built in layers, one module each: :mod:`.calls` (route calls,
patterns, targets), :mod:`.routers` (lists, routers, nesting), :mod:`.wiring` (protocol
routers, application positions, the ASGI module's import order) and :mod:`.kwargs` (the
module's summary for the project, URL kwargs given and read); :mod:`.model` holds the types.
Every public name is importable from ``channels_lint.analysis.routes``.
"""

from __future__ import annotations

from channels_lint.analysis.routes.calls import RouteCalls
from channels_lint.analysis.routes.kwargs import (
    ConsumerRoute,
    Kwargs,
    ListReference,
    ModuleRouting,
    UrlKwargs,
    merge_kwargs,
)
from channels_lint.analysis.routes.kwargs import _is_test_path as _is_test_path  # for project.routes, CHN411
from channels_lint.analysis.routes.model import (
    CONSUMER_TARGETS,
    MAX_DEPTH,
    MAX_PATTERN,
    Entries,
    ImportBeforeSetup,
    KwargDefinition,
    KwargFact,
    KwargRead,
    ProtocolRouter,
    Route,
    RouteKind,
    Router,
    Target,
    TargetKind,
)
from channels_lint.analysis.routes.routers import RouterLists
from channels_lint.analysis.routes.wiring import AsgiWiring


class Routes(UrlKwargs, AsgiWiring):
    """Routes, routers and ASGI wiring of one module (see the module docstring)."""


__all__ = [
    "CONSUMER_TARGETS",
    "MAX_DEPTH",
    "MAX_PATTERN",
    "AsgiWiring",
    "ConsumerRoute",
    "Entries",
    "ImportBeforeSetup",
    "KwargDefinition",
    "KwargFact",
    "KwargRead",
    "Kwargs",
    "ListReference",
    "ModuleRouting",
    "ProtocolRouter",
    "Route",
    "RouteCalls",
    "RouteKind",
    "Router",
    "RouterLists",
    "Routes",
    "Target",
    "TargetKind",
    "UrlKwargs",
    "merge_kwargs",
]
