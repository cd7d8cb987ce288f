"""CHN402: regex syntax in a ``path()`` route, which matches it literally."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import regexes
from channels_lint.analysis.routes import Route, TargetKind
from channels_lint.diagnostics import Applicability, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import MARKERS, literal_for, literal_source, shown


class RegexInPath(Rule):
    """
    ## What it does
    Checks `path()` routes that hold regex syntax: a leading `^`, a trailing `$`, named
    groups `(?P<...>)`, escapes such as `\\d`/`\\w`, character classes, `.*`.

    ## Why is this bad?
    `path()` escapes everything outside `<converter:name>` and matches it literally
    (docs/semantics.md §1.2): `path("^ws/status/$")` only matches the path `^ws/status/$`, so
    every client gets `ValueError: No route found for path 'ws/status/'` and the connection is
    closed. Django's `2_0.W001` warns about this only for `ROOT_URLCONF`, never for Channels
    routes (§7).

    ## Example
    ```python
    from django.urls import path

    from . import consumers

    websocket_urlpatterns = [
        path("^ws/status/$", consumers.StatusConsumer.as_asgi()),
        path("ws/feed/(?P<fmt>json|text)/$", consumers.FeedConsumer.as_asgi()),
    ]
    ```

    Use instead:
    ```python
    from django.urls import path, re_path

    from . import consumers

    websocket_urlpatterns = [
        path("ws/status/", consumers.StatusConsumer.as_asgi()),
        re_path(r"^ws/feed/(?P<fmt>json|text)/$", consumers.FeedConsumer.as_asgi()),
    ]
    ```

    ## Fix safety
    When the regex has an exact `path()` equivalent (literal text, and named groups whose body
    is the regex of the `str`, `slug` or `path` converter, which pass the text through
    unchanged), the fix writes that route; otherwise it turns the route into `re_path()` with
    a raw-string regex anchored as `path()` anchors (`^`, and `$` for an endpoint), adding the
    import. Either way the route then matches the paths the regex describes, with the same
    kwargs as strings: the fix is safe. It is not offered when the route's target may be a
    nested router reached through another module (whether `$` belongs is then unknown).
    """

    code = "CHN402"
    markers = MARKERS
    name = "regex-in-path"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from django.urls import path, re_path
from . import consumers

PREFIX = "ws"
websocket_urlpatterns = [
    path("ws/alerts/<int:team_id>/", consumers.AlertConsumer.as_asgi()),
    path(f"{PREFIX}/chat/<slug:room>/", consumers.ChatConsumer.as_asgi()),
    path("ws/{}/".format(PREFIX), consumers.Other.as_asgi()),
    path(consumers.ROUTE, consumers.Unknown.as_asgi()),
    path("ws/c++/", consumers.CppConsumer.as_asgi()),
    re_path(r"^ws/feed/(?P<fmt>json|text)/$", consumers.FeedConsumer.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/feed/(?P<fmt>json|text)/$", consumers.FeedConsumer.as_asgi()),  # error
    path("^ws/status/$", consumers.StatusConsumer.as_asgi()),  # error
    path("^ws/room/(?P<room>[^/]+)/$", consumers.RoomConsumer.as_asgi()),  # error
    path("ws/user/(?P<id>\\\\d+)/", consumers.UserConsumer.as_asgi()),  # error
    path("ws/alerts/<int:team_id>/", consumers.AlertConsumer.as_asgi()),
]
""",
            fixed="""
from django.urls import re_path, path

from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/feed/(?P<fmt>json|text)/$", consumers.FeedConsumer.as_asgi()),  # error
    path("ws/status/", consumers.StatusConsumer.as_asgi()),  # error
    path("ws/room/<str:room>/", consumers.RoomConsumer.as_asgi()),  # error
    re_path(r"^ws/user/(?P<id>\\d+)/$", consumers.UserConsumer.as_asgi()),  # error
    path("ws/alerts/<int:team_id>/", consumers.AlertConsumer.as_asgi()),
]
""",
        ),
        # a prefix for a nested router: no `$`
        Invalid(
            """
from channels.routing import URLRouter
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("^ws/(?P<team>[a-z]+)/", URLRouter([path("chat/", consumers.ChatConsumer.as_asgi())])),  # error
]
""",
            fixed="""
from channels.routing import URLRouter
from django.urls import re_path, path

from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/(?P<team>[a-z]+)/", URLRouter([path("chat/", consumers.ChatConsumer.as_asgi())])),  # error
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if route.kind.is_regex or route.pattern is None:
                continue
            signs = regexes.regex_syntax_in_route(route.pattern)
            if not signs:
                continue
            edits, imports, unused, way = self._fix(route)
            yield self.violation(
                route.pattern_node,
                f"`path()` matches {shown(a, route)} literally, but it holds {_and(signs)}, so no client path matches it; {way}",
                edits,
                "Write the route for `re_path()` or with converters",
                imports,
                unused,
            )

    def _fix(self, route: Route):
        a = self.analysis
        converted = regexes.regex_as_route(route.pattern, route.endpoint)
        text = literal_source(a, route.literal)
        if converted is not None:
            way = f'write it as `path("{converted}")`'
            new = literal_for(converted, text) if text is not None else None
            if new is None:
                return (), (), (), way
            return (ReplaceWith(a.syntax.span(route.literal), new),), (), (), way
        way = "use `re_path()` for a regex"
        regex = route.pattern if route.pattern.startswith("^") else "^" + route.pattern
        if route.endpoint and not regex.endswith("$"):
            if route.target is None or route.target.kind is TargetKind.UNKNOWN:
                return (), (), (), way  # maybe a router from elsewhere: `$` would cut it off
            regex += "$"
        if text is None or regexes.compile_error(regex) is not None:
            return (), (), (), way
        new = literal_for(regex, text, raw=True)
        if new is None:
            return (), (), (), way
        edits = (
            ReplaceWith(a.syntax.span(route.call.func), "re_path"),
            ReplaceWith(a.syntax.span(route.literal), new),
        )
        return edits, (("django.urls", "re_path"),), (("django.urls", "path"),), way


def _and(words: list[str]) -> str:
    """``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
