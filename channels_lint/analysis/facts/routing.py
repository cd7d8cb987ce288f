"""How Django and Channels route, as data.

Route functions, routers, ``include()``, Channels' ASGI middleware, Django's ASGI
application and the calls that set up the app registry, routing API removed by a release,
the versions that changed ``as_asgi()`` and ``ProtocolTypeRouter``, and the routing rules'
pre-filter markers (docs/semantics.md §1, §10).
"""

from __future__ import annotations

#: Route functions and the kind of pattern each builds (django/urls/conf.py @ 5.2.19; ``url``
#: was ``re_path`` under another name until Django 4.0 removed it: docs/semantics.md §1.2, §10.1).
ROUTE_FUNCTIONS: dict[str, str] = {
    "django.urls.path": "path",
    "django.urls.re_path": "re_path",
    "django.conf.urls.url": "url",
}
URL_ROUTER = "channels.routing.URLRouter"
PROTOCOL_TYPE_ROUTER = "channels.routing.ProtocolTypeRouter"
CHANNEL_NAME_ROUTER = "channels.routing.ChannelNameRouter"
#: ``include()`` builds a ``URLResolver``, which ``URLRouter`` rejects (§1.4).
INCLUDE_FUNCTIONS = frozenset({"django.urls.include", "django.conf.urls.include"})
#: Channels' ASGI middleware: ``Middleware(inner, ...)`` wraps the application ``inner``
#: (channels/auth.py, sessions.py, security/websocket.py, middleware.py @ 4.3.2; §1.4).
CHANNELS_MIDDLEWARE = frozenset(
    {
        "channels.auth.AuthMiddlewareStack",
        "channels.auth.AuthMiddleware",
        "channels.sessions.SessionMiddlewareStack",
        "channels.sessions.SessionMiddleware",
        "channels.sessions.CookieMiddleware",
        "channels.security.websocket.AllowedHostsOriginValidator",
        "channels.security.websocket.OriginValidator",
        "channels.middleware.BaseMiddleware",
    }
)
#: Name endings of project and third-party ASGI middleware (``TokenAuthMiddlewareStack(app)``).
MIDDLEWARE_NAME_ENDINGS = ("Middleware", "MiddlewareStack", "OriginValidator")
#: Calls that return Django's own ASGI application (django/core/asgi.py @ 5.2.19: it runs
#: ``django.setup(set_prefix=False)`` and returns ``ASGIHandler()``; §10.3).
DJANGO_ASGI_APPLICATIONS = frozenset({"django.core.asgi.get_asgi_application", "django.core.handlers.asgi.ASGIHandler"})
#: Calls that populate the app registry: after them, models may be imported (§10.3).
DJANGO_SETUP_CALLS = frozenset({"django.setup", "django.core.asgi.get_asgi_application"})
#: Channels' own HTTP handler, removed in Channels 4.0 (§8.1, §10.1).
CHANNELS_ASGI_HANDLER = "channels.http.AsgiHandler"
#: Routing API removed by a release: qualified name -> (package, version that removed it,
#: (module, name) of the replacement) (§10.1).
REMOVED_ROUTING_API: dict[str, tuple[str, tuple[int, int], tuple[str, str]]] = {
    "django.conf.urls.url": ("django", (4, 0), ("django.urls", "re_path")),
    "channels.http.AsgiHandler": ("channels", (4, 0), ("django.core.asgi", "get_asgi_application")),
}
#: ``as_asgi()`` exists, and a route needs it, from Channels 3.0 (§1.6).
AS_ASGI_SINCE = (3, 0)
#: From Channels 4.0 a ``ProtocolTypeRouter`` without ``"http"`` fails every HTTP request
#: (Channels 3 added ``AsgiHandler`` for it; §1.5).
HTTP_REQUIRED_SINCE = (4, 0)
#: Text a module that routes must contain (pre-filter of the routing rules).
#: Channels routing: a router, ``as_asgi``, or a route call beside a consumer or a websocket
#: list (a Django URLconf alone is not Channels routing; "onsumer" matches Consumer/consumers).
ROUTING_MARKERS = (
    "URLRouter",
    "as_asgi",
    "ProtocolTypeRouter",
    "ChannelNameRouter",
    ("path(", "onsumer"),
    ("path(", "websocket"),
    ("url(", "onsumer"),
    ("url(", "websocket"),
)
#: The same, for rules about regex routes only.
REGEX_ROUTE_MARKERS = tuple(
    (call, where) for call in ("re_path", "url(") for where in ("onsumer", "websocket", "URLRouter", "as_asgi")
)
