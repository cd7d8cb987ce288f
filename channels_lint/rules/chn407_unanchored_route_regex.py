"""CHN407: an endpoint ``re_path()`` regex anchored at neither end."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import regexes
from channels_lint.analysis.facts.routing import REGEX_ROUTE_MARKERS
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import anchored_end, anchored_start, regex_body, shown


class UnanchoredRouteRegex(Rule):
    """
    ## What it does
    Checks `re_path()`/`url()` routes to a consumer whose regex starts with neither `^` nor
    `\\A` and ends with neither `$` nor `\\Z`. A prefix route with a nested router is not
    reported: there, no `$` is right.

    ## Why is this bad?
    Django matches such a regex with `re.search` (docs/semantics.md §1.2), so the route takes
    any path that merely contains it: `re_path(r"ws/chat/(?P<room>\\w+)/")` also accepts
    `/api/v1/ws/chat/lobby/anything`, with `room="lobby"`. Paths the application never meant
    to serve reach the consumer, and a later, more specific route can be shadowed.

    ## Example
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"ws/chat/(?P<room>\\w+)/", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    Use instead:
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    ## Fix safety
    No fix: anchoring changes which paths connect, and whether clients rely on the looser
    match is for the author to check.

    ## Known problems
    Only routes whose target is known to be a consumer are checked (an unknown application
    may be a router, for which a prefix regex is right); an empty regex, or one that matches
    every path, is taken as a deliberate catch-all.
    """

    code = "CHN407"
    markers = REGEX_ROUTE_MARKERS
    name = "unanchored-route-regex"

    valid = (
        """
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import re_path
from . import consumers, routing

websocket_urlpatterns = [
    re_path(r"ws/group-status/(?P<group_id>[\\w-]+)/$", consumers.GroupStatusConsumer.as_asgi()),
    re_path(r"^ws/chat/", consumers.ChatConsumer.as_asgi()),
    re_path(r"ws/nested/", URLRouter([re_path(r"^x/$", consumers.X.as_asgi())])),
    re_path(r"ws/wrapped/", AuthMiddlewareStack(URLRouter(routing.more))),
    re_path(r"ws/unknown/", routing.some_app),
    re_path(r"", consumers.CatchAllConsumer.as_asgi()),
    re_path(r".*", consumers.AnythingConsumer.as_asgi()),
    re_path(r"(?i)^ws/case/$", consumers.CaseConsumer.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from channels.auth import AuthMiddlewareStack
from django.conf.urls import url
from django.urls import re_path
from . import consumers

websocket_urlpatterns = [
    re_path(r"ws/chat/(?P<room>\\w+)/", consumers.ChatConsumer.as_asgi()),  # error
    re_path(r"ws/notify", AuthMiddlewareStack(consumers.NotifyConsumer.as_asgi())),  # error
    url(r"ws/legacy/", consumers.LegacyConsumer.as_asgi()),  # error
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if not route.kind.is_regex or route.pattern is None or not route.endpoint:
                continue
            if route.target is None or not route.target.is_consumer:
                continue
            pattern = route.pattern
            if anchored_start(pattern) or anchored_end(pattern) or regexes.compile_error(pattern) is not None:
                continue
            body = regex_body(pattern)
            if not body or _top_level_alternation(body) or regexes.matches("regex", pattern, True, "") is True:
                continue  # a catch-all, or alternatives each anchored on their own
            yield self.violation(
                route.pattern_node,
                f"the regex {shown(a, route)} is anchored at neither end, so the route also matches any path "
                "that merely contains it; anchor it with `^` and `$`",
            )


def _top_level_alternation(regex: str) -> bool:
    """Whether ``regex`` has a ``|`` outside groups and classes."""
    depth, in_class, index = 0, False, 0
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False
