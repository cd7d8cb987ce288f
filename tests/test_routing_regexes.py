"""The pattern helpers the routing rules stand on (``channels_lint.analysis.regexes``),
checked against Django's own ``RoutePattern``/``RegexPattern``: the ``path()`` regex Django
builds, whether a route matches a path, and the exact regex -> ``path()`` translation CHN402's
fix writes (Hypothesis-generated routes and paths).  CHN408's structural ReDoS verdicts are
pinned on a table; timing belongs to the benchmark and the runtime property."""

from __future__ import annotations

import pytest
from django.urls.resolvers import RegexPattern, RoutePattern, _route_to_regex
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.analysis import regexes

LITERAL = st.text(alphabet="abz09-_.~", min_size=1, max_size=6)
GROUP_BODIES = {"[^/]+": "str", "[-a-zA-Z0-9_]+": "slug", ".+": "path"}
PATH_TEXT = st.text(alphabet="ab09-_./~é Z", max_size=12)


@st.composite
def translatable_regexes(draw) -> str:
    """``^lit/(?P<name>body)/lit$``-like regexes whose groups are string converters' regexes."""
    parts, names = [], iter(("a", "b", "c", "d"))
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            parts.append(draw(LITERAL).replace(".", "\\.") + "/")
        else:
            parts.append(f"(?P<{next(names)}>{draw(st.sampled_from(sorted(GROUP_BODIES)))})/")
    return draw(st.sampled_from(["^", ""])) + "".join(parts) + "$"


@st.composite
def paths_for(draw, regex: str) -> str:
    """A path built from the regex's literal pieces and arbitrary text in its groups."""
    pieces = []
    for piece in regex.lstrip("^").rstrip("$").split("/"):
        pieces.append(draw(PATH_TEXT) if piece.startswith("(?P<") else piece.replace("\\.", "."))
    return "/".join(pieces) + draw(st.sampled_from(["", "x", "/", "/y/"]))


def django_match(pattern, path):
    found = pattern.match(path)
    return None if found is None else (found[0], found[2])


@given(st.data())
def test_regex_as_route_matches_exactly_what_the_regex_matched(data) -> None:
    regex = data.draw(translatable_regexes())
    route = regexes.regex_as_route(regex, endpoint=True)
    assert route is not None, regex
    path = data.draw(st.one_of(paths_for(regex), PATH_TEXT))
    assert django_match(RegexPattern(regex, is_endpoint=True), path) == django_match(RoutePattern(route, is_endpoint=True), path)


@pytest.mark.parametrize(
    "regex",
    [
        r"^ws/(?P<id>\d+)/$",  # \d also matches non-ASCII digits, and int would change the type
        r"^ws/(?P<id>[0-9]+)/$",  # int converter gives an int, the regex a str
        r"^ws/(?P<fmt>json|text)/$",
        r"^ws/[ab]/$",
        r"^ws/(x)/$",
        r"^ws/a.b/$",
        r"^/ws/$",
    ],
)
def test_regex_without_an_exact_route_is_not_translated(regex: str) -> None:
    assert regexes.regex_as_route(regex, endpoint=True) is None


@given(st.data())
def test_route_regex_is_djangos(data) -> None:
    route = data.draw(st.sampled_from(["", "ws/", "ws/<int:n>/", "<slug:s>/x/<uuid:u>", "a.b/<path:p>", "<str:x>", "<name>/"]))
    endpoint = data.draw(st.booleans())
    assert regexes.route_regex(route, endpoint) == _route_to_regex(route, endpoint)[0]


@given(st.data())
def test_matches_agrees_with_django(data) -> None:
    kind, pattern = data.draw(
        st.sampled_from(
            [
                ("path", "ws/<int:n>/"),
                ("path", "ws/<str:room>/"),
                ("path", ""),
                ("regex", r"^ws/(?P<room>\w+)/$"),
                ("regex", r"ws/chat/"),
                ("regex", r"^ws/"),
                ("regex", r""),
                ("regex", r"(?P<x>[0-9])"),
            ]
        )
    )
    endpoint = data.draw(st.booleans())
    path = data.draw(st.one_of(PATH_TEXT, st.sampled_from(["ws/5/", "ws/lobby/", "x/ws/chat/y", "ws/ü٣/", ""])))
    django = (RoutePattern if kind == "path" else RegexPattern)(pattern, is_endpoint=endpoint)
    assert regexes.matches(kind, pattern, endpoint, path) == (django.match(path) is not None)


def test_regex_syntax_in_route() -> None:
    assert regexes.regex_syntax_in_route("^ws/status/$") == ["a leading `^`", "a trailing `$`"]
    assert "a named group `(?P<`" in regexes.regex_syntax_in_route("ws/(?P<id>[0-9]+)/")
    assert "a regex escape" in regexes.regex_syntax_in_route("ws/\\d+/")
    for route in ("ws/chat/<str:room>/", "ws/c++/", "ws/a.b/", "ws/<int:id>/", "", "ws/[draft]/"):
        assert regexes.regex_syntax_in_route(route) == [], route


def test_compile_errors_and_python_named_groups() -> None:
    assert regexes.compile_error(r"^ws/(?P<room>\w+)/$") is None
    error = regexes.compile_error(r"^ws/(?<room>\w+)/$")
    assert error is not None and "unknown extension" in error.message and error.position == 5
    assert regexes.with_python_named_groups(r"^ws/(?<room>\w+)/(?<=x)$") == r"^ws/(?P<room>\w+)/(?<=x)$"
    assert regexes.with_python_named_groups(r"^ws/[(?<x>]/$") is None  # compiles: in a class
    assert regexes.with_python_named_groups(r"^ws/(?<room>\w+/$") is None  # still broken after


@pytest.mark.parametrize(
    ("regex", "fullmatch", "char"),
    [
        (r"^ws/chat/(?P<room>(?:\w+-?)+)/$", True, "a"),
        (r"^ws/([\w-]+/?)+$", True, "a"),
        (r"^(\w|\d+)+$", True, "1"),
        (r"^(a*)*$", True, "a"),
        (r"^(\w+x)+$", True, "x"),
        (r"(?:\w+\s?)+!", False, "a"),
        (r"^(\d+\.?)+$", True, "1"),
    ],
)
def test_redos_shapes_found(regex: str, fullmatch: bool, char: str) -> None:
    found = regexes.find_redos(regex, fullmatch)
    assert found is not None and found.char == char


@pytest.mark.parametrize(
    ("regex", "fullmatch"),
    [
        (r"^ws/chat/(?P<room>[\w-]+)/$", True),
        (r"^(?:/[\w-]+)*$", True),  # each repetition starts with a / the class lacks
        (r"^([a-z]+\d+)+$", True),  # disjoint classes
        (r"^(\w|\d)+$", True),  # Python's parser turns the alternation into one class
        (r"^(\w+)+", False),  # nothing after it can fail
        (r"^ws/(?>\w+-?)+/$", True),  # atomic group
        (r"^ws/(\w++-?)+/$", True),  # possessive
        (r"^ws/(?P<a>\w+)/(?P<b>\w+)/$", True),
        (r"^ws/(?<broken", True),
    ],
)
def test_redos_shapes_not_found(regex: str, fullmatch: bool) -> None:
    assert regexes.find_redos(regex, fullmatch) is None
