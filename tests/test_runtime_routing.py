"""Tests for channels_lint.runtime.routing (issue 10): the validator, ReDoS detection, behaviour."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import OriginValidator
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path, re_path
from hypothesis import event, given
from hypothesis import strategies as st

from channels_lint.runtime import RoutingValidator
from channels_lint.runtime.routing import PROBLEM_IDS, RouteProblem, find_redos
from tests.routing_projects import broken, fixed
from tests.routing_projects.consumers import EchoConsumer

V = RoutingValidator()


def ids(pattern, **kwargs) -> list[str]:
    return [problem.id for problem in V.check_pattern(pattern, **kwargs)]


def app(scope, receive, send):  # a plain ASGI callable as route target
    raise AssertionError("not called")


# -- single patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "kind", "expected"),
    [
        (r"^ws/chat/(?P<room>\w+)/$", None, []),
        ("ws/alerts/<int:team_id>/", None, []),
        (r"ws/group-status/(?P<group_id>[\w-]+)/$", None, []),  # ends with '$': fullmatch, anchored
        ("", None, []),  # the catch-all a Django fallback uses
        (r"^ws/(?<room>\w+)/$", None, ["channels_lint.E002"]),
        (r"^ws/(unclosed/$", None, ["channels_lint.E002"]),
        ("^ws/x/$", "route", ["channels_lint.E003"]),
        ("ws/feed/(?P<fmt>json|text)/$", "route", ["channels_lint.E003"]),
        (r"ws/\d+/", "route", ["channels_lint.E003"]),
        ("ws/[abc]/", "route", ["channels_lint.E003"]),
        ("ws/.*", "route", ["channels_lint.E003"]),
        ("/ws/chat/", "route", ["channels_lint.E004"]),
        ("/ws/<int:x>/", None, ["channels_lint.E004"]),
        (r"^/ws/chat/$", None, ["channels_lint.E004"]),
        (r"\A/ws/chat/", None, ["channels_lint.E004"]),
        (r"/ws/chat/$", None, ["channels_lint.E004"]),  # fullmatch: anchored at the start too
        (r"^/?ws/chat/$", None, []),  # optional slash: fine
        (r"/ws/chat/", "regex", ["channels_lint.W001"]),  # searched: can match, but anywhere
        ("ws/<int:x/", "route", ["channels_lint.E009"]),
        ("ws/x>/", "route", ["channels_lint.E009"]),
        ("ws/<foo:x>/", None, ["channels_lint.E009"]),
        ("ws/<int:not valid>/", None, ["channels_lint.E009"]),
        (r"ws/chat/", "regex", ["channels_lint.W001"]),
        (r"^ws/chat", None, []),  # anchored at the start: a prefix match, not reported
        (r"^ws/(a+)+/$", None, ["channels_lint.W003"]),
        (r"^ws/(\w|\d)+/$", None, []),  # CPython merges the alternatives into one class: no backtracking
    ],
)
def test_pattern_problems(pattern, kind, expected):
    assert ids(pattern, kind=kind) == expected
    errors = [i for i in expected if PROBLEM_IDS[i][0] == "error"]
    assert V.validate_pattern(pattern, kind=kind) is (not errors)
    assert len(V.get_pattern_errors(pattern, kind=kind)) == len(errors)
    assert len(V.get_pattern_warnings(pattern, kind=kind)) == len(expected) - len(errors)


def test_sentences_say_what_is_wrong_and_the_fix():
    (pcre,) = V.get_pattern_errors(r"^ws/(?<room>\w+)/$")
    assert pcre.startswith(r"The regex of re_path(r'^ws/(?<room>\w+)/$') does not compile: unknown extension ?<r")
    assert pcre.endswith("Python names groups with (?P<name>...), not the PCRE/JavaScript (?<name>...).")
    (slash,) = V.get_pattern_errors("/ws/chat/", kind="route")
    assert "URLRouter strips leading slashes" in slash and slash.endswith("Remove the leading '/'.")
    (regex_in_path,) = V.get_pattern_errors(path("^ws/status/$", app))
    assert "(a leading '^', a trailing '$')" in regex_in_path and "Use re_path(r'...')" in regex_in_path


def test_django_route_objects():
    assert ids(path("ws/chat/<str:room>/", EchoConsumer.as_asgi())) == []
    assert ids(path("/ws/chat/", EchoConsumer.as_asgi())) == ["channels_lint.E004"]
    assert ids(path("^ws/x/$", EchoConsumer.as_asgi())) == ["channels_lint.E003"]
    assert ids(re_path(r"^ws/(?<x>\w+)/$", EchoConsumer.as_asgi())) == ["channels_lint.E002"]
    assert ids(path("ws/x/", EchoConsumer)) == ["channels_lint.E005"]
    assert ids(path("ws/x/", EchoConsumer.as_asgi)) == ["channels_lint.E005"]
    assert ids(path("ws/x/", AuthMiddlewareStack(EchoConsumer))) == ["channels_lint.E005"]
    assert ids(path("ws/x/", EchoConsumer())) == ["channels_lint.W006"]
    assert ids(path("ws/", include([path("x/", EchoConsumer.as_asgi())]))) == ["channels_lint.E006"]
    inner = URLRouter([path("room/", EchoConsumer.as_asgi())])
    assert ids(path("ws/", AuthMiddlewareStack(inner))) == ["channels_lint.E007"]
    assert ids(re_path(r"^ws/$", inner)) == ["channels_lint.E007"]
    assert ids(re_path(r"^ws/", AuthMiddlewareStack(inner))) == []
    assert ids(re_path(r"ws/", inner)) == []  # a prefix for a nested router need not be anchored
    assert ids(re.compile(r"^/ws/$")) == ["channels_lint.E004"]
    assert ids(42) == ["channels_lint.E008"]
    assert V.check_pattern(path("ws/", EchoConsumer))[0] == RouteProblem(
        "channels_lint.E005",
        "error",
        "path('ws/') points at the consumer class EchoConsumer itself; Channels calls it as an ASGI app and the "
        "connection fails with TypeError.",
        "Route EchoConsumer.as_asgi() instead (Channels >= 3).",
    )


# -- ReDoS: the structural detector against bounded timing --------------------------------------

BUDGET = 0.05  # seconds for one match; a linear-time match of these inputs takes microseconds
MAX_RUN = 40


def first_slow_run(regex: str, pump: str, prefix: str, suffix: str, fullmatch: bool) -> int | None:
    """Time the match on prefix + pump * n + suffix for n = 4, 5, ...; the first n over BUDGET.

    Stops at the first slow n, so an exponential pattern costs at most a few budgets (each extra
    character multiplies the time by about 1.6-3 for the patterns below).
    """
    compiled = re.compile(regex)
    match = compiled.fullmatch if fullmatch else compiled.search
    for n in range(4, MAX_RUN + 1):
        start = time.perf_counter()
        match(prefix + pump * n + suffix)
        if time.perf_counter() - start > BUDGET:
            return n
    return None


REPORTED = [  # (regex, prefix, suffix, fullmatch)
    (r"^(a+)+$", "", "!", True),
    (r"^(a|a)+$", "", "!", True),
    (r"^(a*)*$", "", "!", True),
    (r"^(?:a|aa)+$", "", "!", True),
    (r"^([a-z]+)*$", "", "!", True),
    (r"^(\d+)*\.$", "", "!", True),
    (r"^(\w+\s?)+$", "", "!", True),
    (r"^(.*a){20}$", "", "!", True),
    (r"^ws/redos/(\w+\d?)+/$", "ws/redos/", "!", True),
    (r"(x+x+)+y", "", "", False),
    (r"^(a+)+b", "", "", False),
]
NOT_REPORTED = [  # (regex, pump, prefix, suffix, fullmatch)
    (r"^(\w|\d)+$", "1", "", "!", True),
    (r"^(a|b)+$", "a", "", "!", True),
    (r"^(ab+)+$", "b", "a", "!", True),
    (r"^ws/chat/(?P<room>\w+)/$", "a", "ws/chat/", "!", True),
    (r"^(a+)+", "a", "", "!", False),  # searched, nothing after the loop can fail
    (r"^(?>a+)+$", "a", "", "!", True),  # atomic group
    (r"^(a++)+$", "a", "", "!", True),  # possessive repeat
    (r"^(\w+\.)+$", "a", "", "!", True),
    (r"^(a{1,3}){1,10}$", "a", "", "!", True),  # bounded repeat
    (r"^\d+\d+$", "1", "", "!", True),  # polynomial, not reported by design
]


@pytest.mark.parametrize(("regex", "prefix", "suffix", "fullmatch"), REPORTED)
def test_reported_regexes_really_backtrack(regex, prefix, suffix, fullmatch):
    risk = find_redos(regex, fullmatch=fullmatch)
    assert risk is not None
    assert first_slow_run(regex, risk.char, prefix, suffix, fullmatch) is not None


@pytest.mark.parametrize(("regex", "pump", "prefix", "suffix", "fullmatch"), NOT_REPORTED)
def test_unreported_regexes_stay_fast(regex, pump, prefix, suffix, fullmatch):
    assert find_redos(regex, fullmatch=fullmatch) is None
    assert first_slow_run(regex, pump, prefix, suffix, fullmatch) is None


def test_find_redos_never_raises():
    assert find_redos("(") is None
    assert find_redos(r"(a)(?(1)b|c)+\1") is None


# -- whole applications ---------------------------------------------------------------------------

BROKEN_EXPECTED = [
    ("channels_lint.W005", "['http'].routes[1]"),
    ("channels_lint.E004", "['websocket'].routes[0]"),
    ("channels_lint.E003", "['websocket'].routes[1]"),
    ("channels_lint.E005", "['websocket'].routes[2]"),
    ("channels_lint.E005", "['websocket'].routes[3]"),
    ("channels_lint.E007", "['websocket'].routes[4]"),
    ("channels_lint.E009", "['websocket'].routes[5]"),
    ("channels_lint.W001", "['websocket'].routes[6]"),
    ("channels_lint.W002", "['websocket'].routes[8]"),
    ("channels_lint.W003", "['websocket'].routes[9]"),
    ("channels_lint.W006", "['websocket'].routes[10]"),
    ("channels_lint.E002", "['websocket'].routes[11]"),
]


def test_validate_all_patterns_on_the_broken_project():
    result = V.validate_all_patterns(broken.application, name="app")
    assert [(p.id, p.location) for p in result["problems"]] == [(i, "app" + loc) for i, loc in BROKEN_EXPECTED]
    assert result["valid"] is False
    assert result["routes"] == 15  # 2 http + 12 websocket + 1 nested
    assert len(result["errors"]) == 7 and len(result["warnings"]) == 5
    assert result["errors"][0].startswith("app['websocket'].routes[0]: path('/ws/leading/') starts with '/'")


def test_validate_all_patterns_on_the_fixed_project():
    assert V.validate_all_patterns(fixed.application) == {
        "valid": True,
        "routes": 18,
        "errors": [],
        "warnings": [],
        "problems": [],
    }


def test_walk_shapes():
    echo = EchoConsumer.as_asgi()
    routes = [path("/a/", echo), path("b/", echo)]
    assert [(p.id, p.location) for p in V.check_application(routes, name="websocket_urlpatterns")] == [
        ("channels_lint.E004", "websocket_urlpatterns[0]")
    ]
    assert [p.id for p in V.check_application([("ws/", echo), "ws/", path("ws/", include([]))])] == [
        "channels_lint.E008",
        "channels_lint.E008",
        "channels_lint.E006",
    ]
    wrapped = OriginValidator(BaseMiddleware(URLRouter([path("/x/", echo)])), ["*"])
    assert [(p.id, p.location) for p in V.check_application(ProtocolTypeRouter({"websocket": wrapped}), name="a")] == [
        ("channels_lint.W004", "a"),
        ("channels_lint.E004", "a['websocket'].routes[0]"),
    ]
    assert [
        (p.id, p.location) for p in V.check_application(ProtocolTypeRouter({"http": echo, "websocket": EchoConsumer}), name="a")
    ] == [("channels_lint.E005", "a['websocket']")]
    shadow = [re_path(r"", echo), path("later/", echo)]
    assert [(p.id, p.location) for p in V.check_application(URLRouter(shadow), name="r")] == [
        ("channels_lint.W002", "r.routes[1]")
    ]
    # a nested router that does not match lets the next route try: no shadowing
    nested_first = URLRouter([re_path(r"^ws/", URLRouter([path("a/", echo)])), re_path(r"^ws/", echo)])
    assert V.check_application(nested_first) == []
    # cycles terminate
    loop = URLRouter([])
    loop.routes.append(re_path(r"^x/", loop))
    assert V.check_application(loop) == []
    assert V.check_application(object()) == []


# -- behaviour through URLRouter ------------------------------------------------------------------


def only(router_module, index: int) -> URLRouter:
    """A router holding one route of a project (URLRouter tries the routes in order)."""
    return URLRouter([router_module.websocket_routes[index]])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("index", "ws_path", "error", "text"),
    [
        (0, "/ws/leading/", ValueError, "No route found for path 'ws/leading/'"),
        (1, "/ws/regex-in-path/", ValueError, "No route found for path 'ws/regex-in-path/'"),
        (2, "/ws/no-as-asgi/", TypeError, "can't be used in 'await' expression"),
        (3, "/ws/uncalled/", TypeError, "takes 1 positional argument but 4 were given"),
        (4, "/ws/nested/room/lobby/", ValueError, "No route found for path 'ws/nested/room/lobby/'"),
        (11, "/ws/pcre/lobby/", ImproperlyConfigured, "is not a valid regular expression"),
    ],
)
async def test_broken_route_fails_and_fixed_route_connects(index, ws_path, error, text):
    communicator = WebsocketCommunicator(only(broken, index), ws_path)
    await communicator.send_input({"type": "websocket.connect"})
    with pytest.raises(error, match=re.escape(text)):
        await communicator.wait()  # the application fails at once (no timeout is waited for)
    communicator = WebsocketCommunicator(only(fixed, index), ws_path)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data="ping")
    assert await communicator.receive_from() == "ping"
    await communicator.disconnect()


# -- Property 7 -----------------------------------------------------------------------------------

REGEX_ALPHABET = st.sampled_from(list("ab/()[]{}?*+|^$\\.<>P=!:-0123456789w") + ["(?P<", "(?<", "\\d", "\\w", "{2,}"])


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")  # '[[' in random regexes
@given(pattern=st.lists(REGEX_ALPHABET, max_size=12).map("".join))
def test_property_compile_verdict_agrees_with_re_compile(pattern):
    """Feature: messaging-system-fixes, Property 7: Routing Pattern Validation"""
    try:
        re.compile(pattern)
        compiles = True
    except re.error:
        compiles = False
    event("compiles" if compiles else "does not compile")
    problems = V.check_pattern(pattern, kind="regex")
    assert ("channels_lint.E002" in [p.id for p in problems]) is (not compiles)
    errors = V.get_pattern_errors(pattern, kind="regex")
    assert V.validate_pattern(pattern, kind="regex") is (not errors)
    if not compiles:
        assert errors and all(sentence.endswith(".") for sentence in errors)


LITERAL = st.from_regex(r"[a-z0-9_-]{1,6}", fullmatch=True)
CONVERTERS = {
    "int": (st.integers(0, 10**6).map(str), r"[0-9]+", int),
    "slug": (st.from_regex(r"[-a-zA-Z0-9_]{1,6}", fullmatch=True), r"[-a-zA-Z0-9_]+", str),
    "str": (
        st.text(st.characters(exclude_characters="/", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=6),
        r"[^/]+",
        str,
    ),
}


@st.composite
def routes(draw):
    """(kind, route text, a path that the route is meant to match, expected kwargs, injected fault)."""
    segments = []
    concrete = []
    kwargs = {}
    for index in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            literal = draw(LITERAL)
            segments.append(("literal", literal))
            concrete.append(literal)
        else:
            converter = draw(st.sampled_from(sorted(CONVERTERS)))
            value = draw(CONVERTERS[converter][0])
            segments.append((converter, f"p{index}"))
            concrete.append(value)
            kwargs[f"p{index}"] = CONVERTERS[converter][2](value)
    kind = draw(st.sampled_from(["route", "regex"]))
    faults = ["none", "none", "leading slash", "regex syntax" if kind == "route" else "unanchored"]
    fault = draw(st.sampled_from(faults))
    if kind == "route":
        text = "".join((name if conv == "literal" else f"<{conv}:{name}>") + "/" for conv, name in segments)
        if fault == "leading slash":
            text = "/" + text
        elif fault == "regex syntax":
            text = "^" + text + "$"
    else:
        body = "".join(
            (re.escape(name) if conv == "literal" else f"(?P<{name}>{CONVERTERS[conv][1]})") + "/" for conv, name in segments
        )
        kwargs = {key: str(value) for key, value in kwargs.items()}  # re_path groups are str
        if fault == "leading slash":
            text = "^/" + body + "$"
        elif fault == "unanchored":
            text = body  # searched, still matches the full path
        else:
            text = "^" + body + "$"
    return kind, text, "/" + "/".join(concrete) + "/", kwargs, fault


async def route_through(router: URLRouter, ws_path: str):
    """Run one real ASGI call through URLRouter; the url_route it routed with, or None."""
    seen = []

    async def target(scope, receive, send):
        seen.append(scope["url_route"])

    router.routes[0].callback = target
    try:
        await router({"type": "websocket", "path": ws_path, "headers": []}, None, None)
    except ValueError as error:
        assert "No route found" in str(error)
        return None
    return seen[0]


@given(case=routes())
def test_property_valid_routes_match_through_url_router(case):
    """Feature: messaging-system-fixes, Property 7: Routing Pattern Validation"""
    kind, text, ws_path, kwargs, fault = case
    route = (path if kind == "route" else re_path)(text, EchoConsumer.as_asgi())
    valid = V.validate_pattern(route)
    assert V.validate_pattern(text, kind=kind) is valid
    event(f"{kind}, {fault}, {'valid' if valid else 'invalid'}")
    url_route = asyncio.run(route_through(URLRouter([route]), ws_path))
    assert (url_route is not None) is valid
    if valid:
        assert url_route == {"args": (), "kwargs": kwargs}
    else:
        assert V.get_pattern_errors(route)
