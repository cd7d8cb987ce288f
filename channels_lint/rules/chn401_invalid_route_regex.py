"""CHN401: a ``re_path()``/``url()`` regex that Python's ``re`` cannot compile."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import regexes
from channels_lint.diagnostics import Applicability, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import MARKERS, literal_source, proven, rewrite_body, shown


class InvalidRouteRegex(Rule):
    """
    ## What it does
    Checks `re_path()` and `url()` routes whose regex (a literal, or a constant f-string,
    `.format()` or concatenation) does not compile under Python's `re`, such as the PCRE /
    JavaScript named group `(?<name>...)`, which Python spells `(?P<name>...)`.

    ## Why is this bad?
    Django compiles a `re_path()` regex lazily, the first time a path is matched against it
    (docs/semantics.md §1.2): importing the routes, building the `URLRouter` and starting the
    server all succeed, and the first client whose path reaches that route gets
    `ImproperlyConfigured: "..." is not a valid regular expression`, as does every later one.
    Channels routes are never compiled by `manage.py check` (§7).

    ## Example
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"^ws/chat/(?<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
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
    When the regex fails only because of `(?<name>...)` groups, the fix writes them
    `(?P<name>...)` (the same group, the same kwarg name) and checks that the result
    compiles; it is safe. Other syntax errors are reported without a fix.

    ## Known problems
    The regex is compiled by the Python running channels-lint; syntax that only newer
    Pythons accept (atomic groups, possessive quantifiers: 3.11) is not reported on older
    ones.
    """

    code = "CHN401"
    markers = MARKERS
    name = "invalid-route-regex"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from django.urls import path, re_path
from . import consumers

VERSION = r"v(?P<version>\\d+)"
websocket_urlpatterns = [
    re_path(r"^ws/(?<=x)chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
    re_path(rf"^ws/{VERSION}/feed/$", consumers.FeedConsumer.as_asgi()),
    re_path(r"^ws/{}/$".format(consumers.PREFIX), consumers.Other.as_asgi()),
    path("ws/(?<room>/", consumers.Literal.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from django.urls import re_path
from . import consumers

ROOM = "(?P<room>[^/]+"
websocket_urlpatterns = [
    re_path(r"^ws/chat/(?<room>\\w+)/(?<user>\\d+)/$", consumers.ChatConsumer.as_asgi()),  # error
    re_path("^ws/team/(?<team>[a-z]+)/$", consumers.TeamConsumer.as_asgi()),  # error
    re_path(r"^ws/bad/[a-/$", consumers.BadConsumer.as_asgi()),  # error
    re_path(f"^ws/{ROOM}/$", consumers.RoomConsumer.as_asgi()),  # error
]
""",
            fixed="""
from django.urls import re_path
from . import consumers

ROOM = "(?P<room>[^/]+"
websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>\\w+)/(?P<user>\\d+)/$", consumers.ChatConsumer.as_asgi()),  # error
    re_path("^ws/team/(?P<team>[a-z]+)/$", consumers.TeamConsumer.as_asgi()),  # error
    re_path(r"^ws/bad/[a-/$", consumers.BadConsumer.as_asgi()),  # error
    re_path(f"^ws/{ROOM}/$", consumers.RoomConsumer.as_asgi()),  # error
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if not route.kind.is_regex or route.pattern is None:
                continue
            error = regexes.compile_error(route.pattern)
            if error is None:
                continue
            where = f" at position {error.position}" if error.position is not None else ""
            fixed = regexes.with_python_named_groups(route.pattern)
            if fixed is not None:
                advice = "Python writes named groups `(?P<name>...)`"
            else:
                advice = "it fails on the first connection that reaches it; correct the regex"
            edits = ()
            text = literal_source(a, route.literal)
            if fixed is not None and text is not None:
                new = proven(rewrite_body(text, _python_groups), fixed)
                if new is not None:
                    edits = (ReplaceWith(a.syntax.span(route.literal), new),)
            yield self.violation(
                route.pattern_node,
                f"the regex {shown(a, route)} does not compile ({error.message}{where}); {advice}",
                edits,
                "Write named groups `(?P<name>...)`",
            )


def _python_groups(body: str) -> str:
    """``(?<name>`` -> ``(?P<name>`` in a literal's body (lookbehinds untouched)."""
    positions = regexes.pcre_named_groups(body)
    for position in reversed(positions):
        body = body[: position + 2] + "P" + body[position + 2 :]
    return body
