"""CHN406: a route that can never match."""

from __future__ import annotations

import re
from collections.abc import Iterator

from channels_lint.analysis import regexes
from channels_lint.analysis.routes import Route, RouteKind, TargetKind
from channels_lint.diagnostics import Applicability, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import MARKERS, literal_for, literal_source, proven, regex_body, rewrite_body, shown

#: A leading slash as a regex writes it, after ``^``/``\\A`` or at the very start.
_REGEX_SLASH = re.compile(r"^(\^|\\A)?(\\?/)(?![?*{])")


class UnreachableRoute(Rule):
    """
    ## What it does
    Checks routes that can never match a client's path:

    * a route that starts with `/` (`path("/ws/chat/")`, `re_path(r"^/ws/$")`);
    * a route that an earlier route of the same list already matches for every path it could
      match (the same pattern twice, or a literal path an earlier converter or regex takes);
    * a nested `URLRouter` that no path can reach: wrapped in middleware under `path()`, or
      under a `re_path()` regex ending in `$`.

    ## Why is this bad?
    `URLRouter` strips every leading `/` from the path before matching, in every nested
    router, so a route starting with `/` never matches (docs/semantics.md §1.1). Routes are
    tried in order and the first endpoint that matches wins, so a shadowed route is dead code
    that looks alive. A router wrapped in middleware is not recognised as a router (it has no
    `_path_routing`), so a `path()` above it stays an endpoint and only the exact prefix
    reaches it; a regex ending in `$` leaves nothing for the nested routes (§1.4). Each
    fails only when a client connects: `ValueError: No route found for path 'ws/chat/'`.

    ## Example
    ```python
    from django.urls import path

    from . import consumers

    websocket_urlpatterns = [
        path("/ws/chat/<str:room>/", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    Use instead:
    ```python
    from django.urls import path

    from . import consumers

    websocket_urlpatterns = [
        path("ws/chat/<str:room>/", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    ## Fix safety
    The fix removes the leading `/` (what `URLRouter` strips from the path); under a
    middleware-wrapped router it turns `path("ws/")` into `re_path(r"^ws/")`, the prefix
    route Channels documents for that case; a regex ending in `$` above a nested router loses
    the `$`. The route then matches the paths it was written for: the fix is safe. Shadowed
    routes are reported without a fix (which route is meant is the author's choice).

    ## Known problems
    Shadowing is only proven for identical patterns and for a later literal path that an
    earlier endpoint matches; routes whose target is unknown (maybe a router, which passes on
    paths it cannot route) never shadow.
    """

    code = "CHN406"
    markers = MARKERS
    name = "unreachable-route"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path, re_path

from . import consumers, routing

websocket_urlpatterns = [
    path("ws/chat/<str:room>/", consumers.ChatConsumer.as_asgi()),
    path("ws/chat/lobby/stats/", consumers.StatsConsumer.as_asgi()),
    re_path(r"^ws/api/", AuthMiddlewareStack(URLRouter(routing.api_routes))),
    re_path(r"ws/nested/", AuthMiddlewareStack(URLRouter([path("x/", consumers.X.as_asgi())]))),
    path("ws/", URLRouter([path("a/", consumers.A.as_asgi())])),
    path("ws/", consumers.Root.as_asgi()),
    path("ws/wrapped/", AuthMiddlewareStack(URLRouter([path("", consumers.Here.as_asgi())]))),
    re_path(r"^/?ws/legacy/$", consumers.Legacy.as_asgi()),
    path("ws/<str:room>/", routing.maybe_a_router),
    path("ws/lobby/", consumers.Lobby.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path, re_path

from . import consumers

room_routes = URLRouter([path("<slug:room>/", consumers.RoomConsumer.as_asgi())])
websocket_urlpatterns = [
    path("/ws/chat/<str:room>/", consumers.ChatConsumer.as_asgi()),  # error
    re_path(r"^/ws/feed/$", consumers.FeedConsumer.as_asgi()),  # error
    re_path(r"^\\/ws/news/$", consumers.NewsConsumer.as_asgi()),  # error
    path("ws/rooms/", AuthMiddlewareStack(room_routes)),  # error
    re_path(r"^ws/teams/$", URLRouter([path("<int:id>/", consumers.TeamConsumer.as_asgi())])),  # error
    path("ws/<str:name>/", consumers.NameConsumer.as_asgi()),
    path("ws/lobby/", consumers.LobbyConsumer.as_asgi()),  # error
    path("ws/<str:name>/", consumers.OtherConsumer.as_asgi()),  # error
]
""",
            fixed="""
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path, re_path

from . import consumers

room_routes = URLRouter([path("<slug:room>/", consumers.RoomConsumer.as_asgi())])
websocket_urlpatterns = [
    path("ws/chat/<str:room>/", consumers.ChatConsumer.as_asgi()),  # error
    re_path(r"^ws/feed/$", consumers.FeedConsumer.as_asgi()),  # error
    re_path(r"^ws/news/$", consumers.NewsConsumer.as_asgi()),  # error
    re_path(r"^ws/rooms/", AuthMiddlewareStack(room_routes)),  # error
    re_path(r"^ws/teams/", URLRouter([path("<int:id>/", consumers.TeamConsumer.as_asgi())])),  # error
    path("ws/<str:name>/", consumers.NameConsumer.as_asgi()),
    path("ws/lobby/", consumers.LobbyConsumer.as_asgi()),  # error
    path("ws/<str:name>/", consumers.OtherConsumer.as_asgi()),  # error
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if route.pattern is None:
                continue
            found = self._leading_slash(route) or self._unreachable_router(route) or self._shadowed(route)
            if found is not None:
                yield found

    # ------------------------------------------------------------------ leading slash
    def _leading_slash(self, route: Route) -> Violation | None:
        a = self.analysis
        pattern = route.pattern
        if route.kind.is_regex:
            body = regex_body(pattern)
            match = _REGEX_SLASH.match(body)
            anchored = match is not None and (match.group(1) or route.endpoint and pattern.endswith("$"))
            if not anchored:
                return None
            fixed = pattern[: len(pattern) - len(body)] + body[: match.start(2)] + body[match.end(2) :]
        else:
            if not pattern.startswith("/"):
                return None
            fixed = pattern[1:]
        edits = ()
        text = literal_source(a, route.literal)
        if text is not None:
            new = proven(rewrite_body(text, lambda b: _drop_slash(b, route.kind.is_regex)), fixed)
            if new is not None:
                edits = (ReplaceWith(a.syntax.span(route.literal), new),)
        return self.violation(
            route.pattern_node,
            f"the route {shown(a, route)} starts with `/`, but the leading `/` is stripped from the path before routes are matched, "
            "so it never matches; drop the leading `/`",
            edits,
            "Drop the leading `/`",
        )

    # ------------------------------------------------------------------ nested routers no path reaches
    def _unreachable_router(self, route: Route) -> Violation | None:
        a = self.analysis
        target = route.target
        if target is None or target.kind is not TargetKind.ROUTER:
            return None
        router = next((r for r in a.routes.routers if r.call is target.router), None)
        if router is None or not router.entries.complete or router.entries.references:
            return None
        inner = [a.routes.by_call.get(item) for item in router.entries.items]
        if not inner or any(r is None or r.pattern is None for r in inner):
            return None
        if any(regexes.matches(r.pattern_kind, r.pattern, r.endpoint, "") is not False for r in inner):
            return None  # a nested route takes the empty rest: the router is reached
        text = literal_source(a, route.literal)
        edits, imports = (), ()
        if route.kind.is_regex and route.pattern.endswith("$") and not route.pattern.endswith("\\$"):
            why = "its regex ends with `$`, so no path is left for the nested routes"
            way = "drop the `$`"
            if text is not None:
                new = proven(rewrite_body(text, lambda b: b.removesuffix("$")), route.pattern[:-1])
                if new is not None:
                    edits = (ReplaceWith(a.syntax.span(route.literal), new),)
        elif route.kind is RouteKind.PATH and target.wrappers:
            why = f"`{target.wrappers[0]}(...)` hides the nested router from `path()`, which then only matches the exact prefix"
            way = "use `re_path()` with a prefix regex"
            if text is not None and not regexes.route_parameters(route.pattern):
                new = literal_for("^" + re.escape(route.pattern), text, raw=True)
                if new is not None:
                    edits = (
                        ReplaceWith(a.syntax.span(route.call.func), "re_path"),
                        ReplaceWith(a.syntax.span(route.literal), new),
                    )
                    imports = (("django.urls", "re_path"),)
        else:
            return None
        return self.violation(
            route.pattern_node,
            f"the routes nested under {shown(a, route)} can never match: {why}; {way}",
            edits,
            "Make the route a prefix",
            imports,
        )

    # ------------------------------------------------------------------ shadowed
    def _shadowed(self, route: Route) -> Violation | None:
        a = self.analysis
        if route.container is None or not route.endpoint:
            return None
        literal = self._literal_path(route)
        for earlier in a.routes.routes:
            if earlier.container is not route.container or earlier.index >= route.index or earlier.pattern is None:
                continue
            if earlier.target is None or not (earlier.target.is_consumer or earlier.target.kind is TargetKind.DJANGO_APP):
                continue  # an unknown target may be a router, which passes on paths it cannot route
            if not earlier.endpoint:
                continue
            same = earlier.kind.is_regex == route.kind.is_regex and earlier.pattern == route.pattern
            covered = literal is not None and regexes.matches(earlier.pattern_kind, earlier.pattern, True, literal) is True
            if same or covered:
                return self.violation(
                    route.pattern_node,
                    f"the route {shown(a, route)} can never match: the route on line {earlier.call.lineno} "
                    f"({shown(a, earlier)}) comes first and matches every path it does; remove one or reorder them",
                )
        return None

    def _literal_path(self, route: Route) -> str | None:
        """The one path a route matches, when it matches exactly one."""
        if route.kind.is_regex:
            converted = regexes.regex_as_route(route.pattern, True)
            if converted is None or not route.pattern.endswith("$"):
                return None
            pattern = converted
        else:
            pattern = route.pattern
        if regexes.route_parameters(pattern) != []:
            return None
        return pattern


def _drop_slash(body: str, regex: bool) -> str:
    """The literal's body without its leading slash (after ``^``/``\\A`` for a regex)."""
    if not regex:
        return body.removeprefix("/")
    flags = re.match(r"^\(\?[aiLmsux]+\)", body)
    head = flags.group() if flags else ""
    rest = body[len(head) :]
    for anchor in ("^", "\\A", ""):
        if rest.startswith(anchor):
            after = rest[len(anchor) :]
            for slash in ("\\/", "/"):
                if after.startswith(slash):
                    return head + anchor + after[len(slash) :]
    return body
