"""CHN409: a consumer reads a URL kwarg that no route to it defines."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule


class UrlKwargNotRouted(Rule):
    """
    ## What it does
    Checks `self.scope["url_route"]["kwargs"]["room"]` in a consumer when no route to that
    consumer defines `room`: not a `<converter:room>` of a `path()`, not a `(?P<room>...)` of
    a `re_path()`, not a key of the route's extra-kwargs dict, and not a kwarg of a prefix
    route a nested router sits under. Routes are read from every module of the project
    (`routing.py`, `asgi.py`, ...), also through lists routed in other modules.

    ## Why is this bad?
    `url_route["kwargs"]` holds exactly what the matching route and its prefixes captured
    (docs/semantics.md §1.3). A kwarg renamed in the route (`room_name` vs `room`) raises
    `KeyError` in `connect()` on every connection: the handshake fails and the client sees
    the socket close; nothing reports it before a client connects.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer
    from django.urls import re_path


    class ChatConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            self.room = self.scope["url_route"]["kwargs"]["room"]
            await self.accept()


    websocket_urlpatterns = [re_path(r"^ws/chat/(?P<room_name>\\w+)/$", ChatConsumer.as_asgi())]
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer
    from django.urls import re_path


    class ChatConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            self.room = self.scope["url_route"]["kwargs"]["room_name"]
            await self.accept()


    websocket_urlpatterns = [re_path(r"^ws/chat/(?P<room_name>\\w+)/$", ChatConsumer.as_asgi())]
    ```

    ## Fix safety
    No fix: whether the route or the consumer has the right name is the author's choice.

    ## Known problems
    Nothing is reported when a route to the consumer cannot be evaluated, when the consumer
    is used outside routes (`as_asgi()` elsewhere, tests aside) or subclassed, or when any
    prefix route of the project (one that routes to something other than a consumer)
    defines the kwarg or cannot be evaluated. `.get("room")` is not reported.
    """

    code = "CHN409"
    markers = ("url_route",)
    name = "url-kwarg-not-routed"

    valid = (
        """
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path, re_path


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.room = kwargs["room"]
        self.team = kwargs["team"]
        self.mode = self.scope["url_route"]["kwargs"].get("mode")
        await self.accept()


class Unrouted(AsyncWebsocketConsumer):
    async def connect(self):
        self.x = self.scope["url_route"]["kwargs"]["x"]


room_routes = URLRouter([path("<slug:room>/", RoomConsumer.as_asgi())])
websocket_urlpatterns = [re_path(r"^ws/(?P<team>[a-z]+)/", room_routes)]
""",
        # a route whose pattern cannot be evaluated may define anything
        """
from channels.generic.websocket import WebsocketConsumer
from django.conf import settings
from django.urls import path


class FeedConsumer(WebsocketConsumer):
    def connect(self):
        self.feed = self.scope["url_route"]["kwargs"]["feed"]


websocket_urlpatterns = [
    path("ws/feed/", FeedConsumer.as_asgi(), {"feed": "main"}),
    path(settings.FEED_ROUTE, FeedConsumer.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import path, re_path


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]  # error
        self.user_id = self.scope["url_route"]["kwargs"]["user_id"]
        await self.accept()


websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room_name>\\w+)/(?P<user_id>\\d+)/$", ChatConsumer.as_asgi()),
    path("ws/chat/<str:room_name>/<int:user_id>/", ChatConsumer.as_asgi()),
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        project_routes = a.project.routes
        live = a.routes.live_summary
        other, other_open = project_routes.other_kwargs(live)
        if other_open:
            return
        for read in a.routes.url_kwarg_reads:
            name = read.consumer.name
            if read.key in other:
                continue
            kwargs = a.routes.route_kwargs(name)
            if kwargs is None or read.key in kwargs or project_routes.subclassed(name, live):
                continue
            defined = ", ".join(f"`{k}`" for k in kwargs) or "none"
            close = difflib.get_close_matches(read.key, list(kwargs), n=1)
            way = f"read `{close[0]}`, or name the route's kwarg `{read.key}`" if close else f"define `{read.key}` in the route"
            yield self.violation(
                read.node,
                f"`{read.key}` is read from the URL kwargs, but no route to `{name}` defines it (they define "
                f"{defined}), so every connection fails with KeyError; {way}",
            )
