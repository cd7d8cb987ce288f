"""CHN408: a route regex prone to catastrophic backtracking on an attacker's path."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import regexes
from channels_lint.analysis.facts.routing import REGEX_ROUTE_MARKERS
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import shown


class RedosRouteRegex(Rule):
    """
    ## What it does
    Checks `re_path()`/`url()` regexes with a repeated group (`*`, `+`, `{n,}`) whose
    repetitions can match the same run of characters in many ways: a repeat inside a repeat
    over the same characters (`(\\w+-?)+`, `([\\w-]+/?)*`), or alternatives that both match a
    character (`(\\w|\\d+)+`), followed by something that can fail (`$`, more text).

    ## Why is this bad?
    The path comes from the client. When the rest of the regex fails, Python's backtracking
    engine tries every way of splitting the run between the repetitions: twice as many for
    each extra character. Measured on CPython 3.11.7 with
    `re_path(r"^ws/chat/(?P<room>(?:\\w+-?)+)/$", ...)` and the path `ws/chat/` + `a` * N +
    `!`: N = 16: 0.003 s, 20: 0.05 s, 22: 0.21 s, 24: 1.3 s, and about 80 s at N = 30. The
    match runs in the server's event loop (URLRouter matches in `__call__`), so one such
    connection attempt stalls every connection of that worker. `[\\w-]+` matches the same
    paths in 4 microseconds.

    ## Example
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"^ws/chat/(?P<room>(?:\\w+-?)+)/$", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    Use instead:
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"^ws/chat/(?P<room>[\\w-]+)/$", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    ## Fix safety
    No fix: an unambiguous regex that matches exactly the same paths has to be written by
    hand (often a single character class, as above).

    ## Known problems
    The check is structural and conservative: it looks for a repeat whose body is a repeat of
    one character class plus optional parts or single characters of that class, and for
    alternatives of single classes that overlap. Other exponential shapes (overlap through
    longer sequences) and polynomial ones (`\\w+\\w+\\w+$`) are not reported. Atomic groups
    and possessive repeats (Python 3.11+) never backtrack and are not reported.
    """

    code = "CHN408"
    markers = REGEX_ROUTE_MARKERS
    name = "redos-route-regex"

    valid = (
        """
from django.urls import re_path
from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>[\\w-]+)/$", consumers.ChatConsumer.as_asgi()),
    re_path(r"^ws/tree/(?P<path>(?:/[\\w-]+)*)$", consumers.TreeConsumer.as_asgi()),
    re_path(r"^ws/pairs/(?P<p>(?:[a-z]+[0-9]+)+)/$", consumers.PairConsumer.as_asgi()),
    re_path(r"^ws/any/(\\w|\\d)+/$", consumers.SetConsumer.as_asgi()),
    re_path(r"^ws/prefix/(\\w+)+", consumers.PrefixConsumer.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from django.urls import re_path
from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>(?:\\w+-?)+)/$", consumers.ChatConsumer.as_asgi()),  # error
    re_path(r"^ws/files/([\\w.-]+/?)*$", consumers.FileConsumer.as_asgi()),  # error
    re_path(r"^ws/ids/(\\w|\\d+)+/$", consumers.IdConsumer.as_asgi()),  # error
    re_path(r"^ws/words/((\\w+\\s?)+)!", consumers.WordConsumer.as_asgi()),  # error
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if not route.kind.is_regex or route.pattern is None:
                continue
            fullmatch = route.endpoint and route.pattern.endswith("$")
            found = regexes.find_redos(route.pattern, fullmatch)
            if found is None:
                continue
            yield self.violation(
                route.pattern_node,
                f"the regex {shown(a, route)} can backtrack exponentially: its repeated group can match a run of "
                f"`{found.char}` in many ways, so a client path with a long run of `{found.char}` that then fails to "
                "match stalls the worker; make each character match one way only",
            )
