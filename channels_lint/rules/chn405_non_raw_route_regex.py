"""CHN405: a route regex written as a normal (non-raw) string with backslash escapes."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis.facts.routing import REGEX_ROUTE_MARKERS
from channels_lint.diagnostics import Applicability, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.routing import literal_for, literal_source, split_literal

#: Characters after a backslash that make a string escape (Python language reference,
#: "String and Bytes literals"); any other ``\\x`` is kept as written, with a warning.
_STRING_ESCAPES = frozenset("\n\\'\"abfnrtv01234567xNuU")
#: Escapes whose string meaning is not their regex meaning: ``\\b`` is a backspace, not a
#: word boundary; ``\\1`` is the character U+0001, not a back-reference.
_CHANGED_MEANING = frozenset("b1234567")


def _escapes(body: str) -> list[str]:
    """The character after each backslash of a literal's body."""
    found, index = [], 0
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body):
            found.append(body[index + 1])
            index += 2
        else:
            index += 1
    return found


class NonRawRouteRegex(Rule):
    """
    ## What it does
    Checks `re_path()`/`url()` regexes written as normal string literals whose backslash
    escapes are not string escapes (`"\\d+"`, `"\\w"`, `"\\."`), or are string escapes that
    mean something else in a regex (`"\\b"` is a backspace, not a word boundary).

    ## Why is this bad?
    An unknown escape such as `\\d` is kept as written today, but it is a `SyntaxWarning`
    since Python 3.12 (a `DeprecationWarning` before) and will become an error; a doubled
    backslash makes the regex hard to read. `\\b` silently becomes the backspace character,
    so the route never matches. A raw string passes the regex to `re` exactly as written.

    ## Example
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path("^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
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
    The fix writes the raw string whose value is exactly the original's (it is proven by
    evaluating both), so the route matches what it matched before; it is safe. A literal
    whose escapes change meaning (`\\b`, `\\1`) is reported without a fix: the raw string
    would be a different regex, the one that was meant.
    """

    code = "CHN405"
    markers = REGEX_ROUTE_MARKERS
    name = "non-raw-route-regex"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from django.urls import path, re_path
from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
    re_path("^ws/plain/$", consumers.PlainConsumer.as_asgi()),
    re_path("^ws/doubled/(?P<id>\\\\d+)/$", consumers.DoubledConsumer.as_asgi()),
    path("ws/<int:id>/", consumers.IdConsumer.as_asgi()),
]
""",
    )
    invalid = (
        Invalid(
            """
from django.urls import re_path
from . import consumers

websocket_urlpatterns = [
    re_path("^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),  # error
    re_path('^ws/file/(?P<name>[\\w.]+)\\\\.json$', consumers.FileConsumer.as_asgi()),  # error
    re_path("^ws/\\bword/$", consumers.WordConsumer.as_asgi()),  # error
]
""",
            fixed="""
from django.urls import re_path
from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),  # error
    re_path(r'^ws/file/(?P<name>[\\w.]+)\\.json$', consumers.FileConsumer.as_asgi()),  # error
    re_path("^ws/\\bword/$", consumers.WordConsumer.as_asgi()),  # error
]
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if not route.kind.is_regex or route.literal is None:
                continue
            text = literal_source(a, route.literal)
            if text is None:
                continue
            prefix, _, body = split_literal(text)
            if "r" in prefix.lower() or "\\" not in body:
                continue
            escapes = _escapes(body)
            changed = sorted({e for e in escapes if e in _CHANGED_MEANING})
            unknown = sorted({e for e in escapes if e not in _STRING_ESCAPES})
            if changed:
                yield self.violation(
                    route.literal,
                    f"the regex {text} is not a raw string, so `\\{changed[0]}` is a control character, not the "
                    "regex escape; write the regex as a raw string",
                )
            elif unknown:
                new = literal_for(route.literal.value, text, raw=True)
                yield self.violation(
                    route.literal,
                    f"the regex {text} is not a raw string: `\\{unknown[0]}` is an invalid string escape (a "
                    "SyntaxWarning since Python 3.12); write it as a raw string",
                    (ReplaceWith(a.syntax.span(route.literal), new),) if new is not None else (),
                    "Write a raw string",
                )
