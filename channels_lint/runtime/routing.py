"""Find Channels routes that can never match, crash on connect, or backtrack exponentially.

Django's URL checks never look at Channels routes (``check_url_config`` only checks
``ROOT_URLCONF``, django/core/checks/urls.py), and Channels registers no system check (its
``apps.py`` is a bare ``AppConfig``); a broken route fails only on the first connection
(docs/semantics.md §7). :class:`RoutingValidator` walks an ASGI application the way Channels
dispatches it and reports each problem with a stable id; ``channels_lint.runtime.checks`` turns
them into Django system-check messages. Facts used (channels 4.3.2, Django 5.2):

* ``URLRouter.__call__`` strips *all* leading slashes before matching, in every nested router
  (``path = path.lstrip("/")``, channels/routing.py @ 4.3.2 L105-106): a route starting with
  ``/`` never matches.
* ``RegexPattern.match`` uses ``fullmatch`` only for an endpoint whose regex ends with ``$``, and
  ``search`` otherwise (django/urls/resolvers.py @ 5.2 L202-207): an endpoint regex with neither
  ``^`` nor ``$`` matches any path that merely contains it. ``path()`` routes are anchored with
  ``^`` and, for endpoints, ``\\Z`` (``_route_to_regex``, L250-290); regex syntax in them is
  escaped (``re.escape``) and matched literally.
* Django compiles a ``re_path`` regex lazily, on first use (``LocaleRegexDescriptor``, L130-155),
  so a bad regex raises ``ImproperlyConfigured`` on the first connection, not at import.
* ``URLRouter.__init__`` rebuilds a route whose callback has ``_path_routing`` (a ``URLRouter``)
  as a non-endpoint, and rejects ``include()`` with ``ImproperlyConfigured`` (routing.py L69-89).
  A ``URLRouter`` wrapped in middleware lacks ``_path_routing``, so its ``path()`` stays an
  endpoint and nested routes never match (§1.4; Channels issue #1428).
* ``ProtocolTypeRouter.__init__`` stores the mapping as given (routing.py L42-52); Channels 3 added
  an ``"http"`` entry (``AsgiHandler``) when missing, Channels 4.0 removed that, so an HTTP request
  now raises ``ValueError("No application configured for scope type 'http'")``.
* ``AsyncConsumer.as_asgi()`` (channels/consumer.py @ 4.3.2 L84-102, added in 3.0) returns the ASGI
  app; routing the class itself fails at connect with ``TypeError`` (§1.6).

Problem ids (the same ids as the system check; ``E`` = error, ``W`` = warning):

=====================  ==========================================================================
``channels_lint.E001`` ``ASGI_APPLICATION`` cannot be imported (system check only).
``channels_lint.E002`` a ``re_path`` regex does not compile (PCRE ``(?<name>...)`` included).
``channels_lint.E003`` regex syntax (``^``, ``$``, ``(?P<``, ``\\d``, ``[...]``, ``.*``) in ``path()``.
``channels_lint.E004`` a route starts with ``/``.
``channels_lint.E005`` a consumer class routed without ``.as_asgi()`` (or ``.as_asgi`` not called).
``channels_lint.E006`` ``include()`` inside a ``URLRouter``.
``channels_lint.E007`` a nested ``URLRouter`` that cannot be reached (middleware-wrapped under
                       ``path()``, or under a regex ending in ``$``).
``channels_lint.E008`` a routes entry that is not a ``path()``/``re_path()`` route.
``channels_lint.E009`` a malformed ``path()`` converter (unmatched ``<``/``>``, unknown converter).
``channels_lint.W001`` an endpoint ``re_path`` anchored at neither end.
``channels_lint.W002`` a route shadowed by an earlier identical route, or by an earlier catch-all.
``channels_lint.W003`` a regex that can backtrack exponentially (ReDoS).
``channels_lint.W004`` a ``ProtocolTypeRouter`` without ``"http"``.
``channels_lint.W005`` Django's ASGI app inside an HTTP ``URLRouter`` under a route that is not a
                       catch-all.
``channels_lint.W006`` a consumer *instance* routed (every connection shares it).
=====================  ==========================================================================
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls.resolvers import RegexPattern, RoutePattern, URLPattern, URLResolver

from channels_lint.runtime.validation import safe_get_attribute

try:  # Python 3.11+
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

try:
    from channels.consumer import AsyncConsumer
    from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter
except ImportError:  # pragma: no cover - Channels is optional for the rest of the runtime
    AsyncConsumer = ChannelNameRouter = ProtocolTypeRouter = URLRouter = None  # type: ignore[assignment,misc]

try:
    from django.core.handlers.asgi import ASGIHandler
except ImportError:  # pragma: no cover
    ASGIHandler = None  # type: ignore[assignment,misc]

__all__ = ["PROBLEM_IDS", "ReDoSRisk", "RouteProblem", "RoutingValidator", "find_redos"]

#: id -> (level, short title). Levels are ``"error"`` or ``"warning"``.
PROBLEM_IDS: dict[str, tuple[str, str]] = {
    "channels_lint.E001": ("error", "ASGI_APPLICATION cannot be imported"),
    "channels_lint.E002": ("error", "regex does not compile"),
    "channels_lint.E003": ("error", "regex syntax in path()"),
    "channels_lint.E004": ("error", "route starts with '/'"),
    "channels_lint.E005": ("error", "consumer class without .as_asgi()"),
    "channels_lint.E006": ("error", "include() in URLRouter"),
    "channels_lint.E007": ("error", "nested URLRouter cannot be reached"),
    "channels_lint.E008": ("error", "routes entry is not a route"),
    "channels_lint.E009": ("error", "malformed path() converter"),
    "channels_lint.W001": ("warning", "endpoint regex anchored at neither end"),
    "channels_lint.W002": ("warning", "route shadowed by an earlier route"),
    "channels_lint.W003": ("warning", "regex can backtrack exponentially"),
    "channels_lint.W004": ("warning", "ProtocolTypeRouter without 'http'"),
    "channels_lint.W005": ("warning", "Django ASGI app under a route that is not a catch-all"),
    "channels_lint.W006": ("warning", "consumer instance routed"),
}

_MAX_NESTING = 64
#: paths a catch-all route must match (Django's own ``pattern.match`` is used)
_PROBE_PATHS = ("", "a", "ws/chat/lobby/", "x/y/z", "é/ü", "1")


@dataclass(frozen=True)
class RouteProblem:
    """One problem found in a routing configuration.

    Attributes:
        id: ``"channels_lint.E004"`` etc. (table in the module docstring).
        level: ``"error"`` or ``"warning"``.
        message: what is wrong, naming the route as written (``re_path(r'^/ws/$')``).
        hint: how to fix it.
        location: where it is: the application's name followed by ``['websocket']`` for a
            ``ProtocolTypeRouter`` key and ``.routes[2]`` for a ``URLRouter`` entry (``[2]`` for a
            plain list); middleware is transparent.
        obj: the route, router or application object (not compared).
    """

    id: str
    level: str
    message: str
    hint: str
    location: str = ""
    obj: object = field(default=None, compare=False, repr=False)

    @property
    def sentence(self) -> str:
        """``message`` followed by ``hint``: what is wrong, then the fix."""
        return f"{self.message} {self.hint}"


@dataclass(frozen=True)
class ReDoSRisk:
    """A repeat in a regex that can match a run of one character in exponentially many ways.

    Attributes:
        char: the character whose runs are ambiguous (a crafted path repeats it, then fails).
        reason: ``"nested quantifier"`` (the repeated part matches runs of several lengths) or
            ``"overlapping alternatives"`` (it matches the same run in two ways).
    """

    char: str
    reason: str


# -- patterns ----------------------------------------------------------------------------------


@dataclass
class _Pattern:
    kind: str  # "regex" | "route"
    text: str
    is_endpoint: bool
    django: Any  # RegexPattern | RoutePattern | None (None: the route string is malformed)
    error: str = ""  # why ``django`` is None / why the regex does not compile


def _route_display(kind: str, text: str) -> str:
    if kind == "route":
        return f"path({text!r})"
    if "'" not in text and not text.endswith("\\"):
        return f"re_path(r'{text}')"
    return f"re_path({text!r})"


def _guess_kind(text: str) -> str:
    looks_like_regex = "(?" in text or "\\" in text or text.startswith("^") or text.endswith("$")
    return "route" if "<" in text and not looks_like_regex else "regex"


def _normalize(pattern: object, kind: str | None) -> _Pattern | None:
    """A string, ``re.Pattern``, Django pattern, ``URLPattern`` or ``URLResolver`` -> _Pattern."""
    if isinstance(pattern, (URLPattern, URLResolver)):
        pattern = pattern.pattern
    if isinstance(pattern, re.Pattern):
        pattern = pattern.pattern if isinstance(pattern.pattern, str) else None
    if isinstance(pattern, RegexPattern):
        return _regex_pattern(str(pattern), bool(getattr(pattern, "_is_endpoint", True)), pattern)
    if isinstance(pattern, RoutePattern):
        return _Pattern("route", str(pattern), bool(getattr(pattern, "_is_endpoint", True)), pattern)
    if not isinstance(pattern, str):
        return None
    kind = kind or _guess_kind(pattern)
    if kind == "route":
        try:
            return _Pattern("route", pattern, True, RoutePattern(pattern, is_endpoint=True))
        except ImproperlyConfigured as exc:
            return _Pattern("route", pattern, True, None, str(exc))
    return _regex_pattern(pattern, True, RegexPattern(pattern, is_endpoint=True))


def _regex_pattern(text: str, is_endpoint: bool, django: RegexPattern) -> _Pattern:
    try:
        django.regex  # noqa: B018  (Django's own lazy compilation, forced here)
    except ImproperlyConfigured as exc:
        cause = exc.__cause__
        return _Pattern("regex", text, is_endpoint, django, str(cause) if cause else str(exc))
    return _Pattern("regex", text, is_endpoint, django)


def _parse(text: str) -> Any:
    try:
        return _sre_parse.parse(text)
    except Exception:  # noqa: BLE001
        return None


def _is_begin(item: tuple[Any, Any]) -> bool:
    return item[0] is _sre.AT and item[1] in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING)


def _is_end(item: tuple[Any, Any]) -> bool:
    return item[0] is _sre.AT and item[1] in (_sre.AT_END, _sre.AT_END_STRING)


def _ends_with_dollar(p: _Pattern) -> bool:
    """True when Django matches the regex with ``fullmatch`` or it is anchored at the end."""
    parsed = _parse(p.text)
    return bool(parsed is not None and len(parsed) and _is_end(parsed[-1]))


def _matches_everything(p: _Pattern) -> bool:
    if p.django is None or p.error:
        return False
    try:
        return all(p.django.match(probe) is not None for probe in _PROBE_PATHS)
    except Exception:  # noqa: BLE001
        return False


_PCRE_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


def _pattern_problems(p: _Pattern, *, endpoint_target: bool) -> list[tuple[str, str, str]]:
    """(id, message, hint) for problems visible in the pattern alone."""
    shown = _route_display(p.kind, p.text)
    found: list[tuple[str, str, str]] = []
    if p.kind == "regex":
        if p.error:
            hint = "Fix the regex so that re.compile() accepts it; Django compiles it only on the first connection."
            if _PCRE_NAMED_GROUP.search(p.text):
                hint = "Python names groups with (?P<name>...), not the PCRE/JavaScript (?<name>...)."
            found.append(("channels_lint.E002", f"The regex of {shown} does not compile: {p.error}.", hint))
            return found
        parsed = _parse(p.text)
        items = list(parsed) if parsed is not None else []
        fullmatch = p.is_endpoint and p.text.endswith("$")
        anchored_start = bool(items) and _is_begin(items[0])
        rest = items[1:] if anchored_start else items
        if (anchored_start or fullmatch) and rest and rest[0][0] is _sre.LITERAL and rest[0][1] == ord("/"):
            found.append(_leading_slash(shown))
        if endpoint_target and not anchored_start and not (items and _is_end(items[-1])) and not _matches_everything(p):
            found.append(
                (
                    "channels_lint.W001",
                    (
                        f"{shown} is anchored at neither end, so it matches any path that merely contains it "
                        "(Django's RegexPattern.match uses search() unless the regex ends with '$')."
                    ),
                    f"Anchor it: re_path(r'^{p.text}$').",
                )
            )
        risk = find_redos(p.text, fullmatch=fullmatch)
        if risk is not None:
            found.append(
                (
                    "channels_lint.W003",
                    (
                        f"The regex of {shown} can backtrack exponentially ({risk.reason} on runs of {risk.char!r}); "
                        "a crafted path of a few dozen characters blocks the event loop."
                    ),
                    "Remove the nested or overlapping quantifier: write (a+) or [ab]+ instead of (a+)+ or (a|ab?)+.",
                )
            )
        return found
    # path() route
    if p.text.startswith("/"):
        found.append(_leading_slash(shown))
    syntax = _regex_syntax_in_route(p.text)
    if syntax:
        found.append(
            (
                "channels_lint.E003",
                (
                    f"{shown} contains regex syntax ({syntax}); path() escapes it and matches it literally, so the route "
                    "never matches a real URL."
                ),
                "Use re_path(r'...') for a regex, or path() with converters such as <int:id> and <slug:name>.",
            )
        )
    converter_error = p.error or _unmatched_bracket(p.text)
    if converter_error:
        found.append(
            (
                "channels_lint.E009",
                f"{shown} has a malformed converter: {converter_error}",
                "Write converters as <name> or <type:name> with a registered type (str, int, slug, uuid, path).",
            )
        )
    return found


def _leading_slash(shown: str) -> tuple[str, str, str]:
    return (
        "channels_lint.E004",
        (
            f"{shown} starts with '/', but URLRouter strips leading slashes from the path before matching "
            "(channels/routing.py L105-106), so it can never match."
        ),
        "Remove the leading '/'.",
    )


def _regex_syntax_in_route(route: str) -> str:
    signs = []
    if route.startswith("^"):
        signs.append("a leading '^'")
    if route.endswith("$"):
        signs.append("a trailing '$'")
    if "(?" in route:
        signs.append("'(?'")
    if "\\" in route:
        signs.append("a backslash escape")
    if re.search(r"\[[^\]]*\]", route):
        signs.append("a [...] character class")
    if ".*" in route or ".+" in route:
        signs.append("'.*' or '.+'")
    return ", ".join(signs)


def _unmatched_bracket(route: str) -> str:
    depth = 0
    for char in re.findall(r"[<>]", route):
        depth += 1 if char == "<" else -1
        if depth < 0:
            return "an unmatched '>'."
    return "an unmatched '<'." if depth > 0 else ""


# -- ReDoS -------------------------------------------------------------------------------------

_K = 8  # longest run length tracked; ambiguities needing longer runs are not reported
_CAP = 2  # ways are counted 0, 1, "2 or more"
_Ways = tuple[int, ...]
_ZERO: _Ways = (0,) * (_K + 1)
_UNIT: _Ways = (1,) + (0,) * _K
_CATEGORIES = {
    getattr(_sre, name): re.compile(regex)
    for name, regex in (
        ("CATEGORY_DIGIT", r"\d"),
        ("CATEGORY_NOT_DIGIT", r"\D"),
        ("CATEGORY_SPACE", r"\s"),
        ("CATEGORY_NOT_SPACE", r"\S"),
        ("CATEGORY_WORD", r"\w"),
        ("CATEGORY_NOT_WORD", r"\W"),
    )
}
_SAMPLE_CHARS = "aZ0_ -./é٣\n"
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT)
_POSSESSIVE = getattr(_sre, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_sre, "ATOMIC_GROUP", None)


def _add(a: _Ways, b: _Ways) -> _Ways:
    return tuple(min(x + y, _CAP) for x, y in zip(a, b))


def _conv(a: _Ways, b: _Ways) -> _Ways:
    out = [0] * (_K + 1)
    for i, x in enumerate(a):
        if x:
            for j in range(_K + 1 - i):
                if b[j]:
                    out[i + j] = min(out[i + j] + x * b[j], _CAP)
    return tuple(out)


def _single(ways: _Ways) -> _Ways:
    """At most one way, at the longest length (an atomic group or possessive repeat)."""
    for length in range(_K, -1, -1):
        if ways[length]:
            return tuple(1 if i == length else 0 for i in range(_K + 1))
    return _ZERO


def _char_matches(char: str, op: Any, av: Any, flags: int) -> bool:
    ignore_case = bool(flags & re.IGNORECASE)

    def same(code: int) -> bool:
        other = chr(code)
        return char == other or (ignore_case and char.lower() == other.lower())

    if op is _sre.LITERAL:
        return same(av)
    if op is _sre.NOT_LITERAL:
        return not same(av)
    if op is _sre.ANY:
        return char != "\n" or bool(flags & re.DOTALL)
    if op is _sre.IN:
        negate = False
        hit = False
        for item_op, item_av in av:
            if item_op is _sre.NEGATE:
                negate = True
            elif item_op is _sre.LITERAL:
                hit = hit or same(item_av)
            elif item_op is _sre.RANGE:
                low, high = item_av
                hit = (
                    hit
                    or low <= ord(char) <= high
                    or (ignore_case and any(low <= ord(c) <= high for c in (char.lower(), char.upper())))
                )
            elif item_op is _sre.CATEGORY:
                regex = _CATEGORIES.get(item_av)
                hit = hit or bool(regex is not None and regex.fullmatch(char))
        return hit != negate
    return False


class _ReDoSScan:
    def __init__(self, char: str, flags: int) -> None:
        self.char = char
        self.flags = flags
        self.found: str | None = None

    def sequence(self, items: Iterable[tuple[Any, Any]], tail_can_fail: bool, flags: int) -> _Ways:
        items = list(items)
        can_fail_after = [False] * len(items)
        later = tail_can_fail
        for index in range(len(items) - 1, -1, -1):
            can_fail_after[index] = later
            later = later or _can_fail(items[index])
        ways = _UNIT
        for index, (op, av) in enumerate(items):
            ways = _conv(ways, self.node(op, av, can_fail_after[index], flags))
        return ways

    def node(self, op: Any, av: Any, tail_can_fail: bool, flags: int) -> _Ways:
        if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
            return (0, 1) + (0,) * (_K - 1) if _char_matches(self.char, op, av, flags) else _ZERO
        if op is _sre.AT or op in (_sre.ASSERT, _sre.ASSERT_NOT):
            return _UNIT
        if op is _sre.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            return self.sequence(body, tail_can_fail, (flags | add_flags) & ~del_flags)
        if op is _sre.BRANCH:
            ways = _ZERO
            for branch in av[1]:
                ways = _add(ways, self.sequence(branch, tail_can_fail, flags))
            return ways
        if _ATOMIC is not None and op is _ATOMIC:
            return _single(self.sequence(av, tail_can_fail, flags))
        if op in _REPEATS or (_POSSESSIVE is not None and op is _POSSESSIVE):
            low, high, body = av
            inner = self.sequence(body, tail_can_fail, flags)
            nonempty = (0,) + inner[1:]
            lengths = sum(1 for count in nonempty if count)
            ambiguous = lengths >= 2 or any(count >= 2 for count in nonempty)
            if ambiguous and op is not _POSSESSIVE and high >= 16 and tail_can_fail and self.found is None:
                self.found = "nested quantifier" if lengths >= 2 else "overlapping alternatives"
            ways = _UNIT if (low == 0 or inner[0]) else _ZERO
            power = _UNIT
            for count in range(1, min(high, _K) + 1):
                power = _conv(power, nonempty)
                if count >= low or inner[0]:
                    ways = _add(ways, power)
            return _single(ways) if op is _POSSESSIVE else ways
        if op is _sre.GROUPREF_EXISTS:
            _group, yes, no = av
            ways = self.sequence(yes, tail_can_fail, flags)
            return _add(ways, self.sequence(no, tail_can_fail, flags) if no is not None else _UNIT)
        return _ZERO  # group references and anything unknown: assume no match (never a false alarm)


def _can_fail(item: tuple[Any, Any]) -> bool:
    op, av = item
    if op is _sre.AT:
        return av not in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING)
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return True
    try:
        low, _high = _sre_parse.SubPattern(_sre_parse.State(), [item]).getwidth()
    except Exception:  # noqa: BLE001
        return True
    return low > 0


def find_redos(regex: str, *, fullmatch: bool = True) -> ReDoSRisk | None:
    """Find a repeat that can match a run of one character in exponentially many ways.

    A conservative structural check over CPython's own regex parse tree (``re._parser``, formerly
    ``sre_parse``): a repeat with an upper bound of 16 or more (``+``, ``*``, ``{16,}``) is
    reported when, for some character ``c``, its body matches runs of ``c`` of two different
    lengths up to 8 (``(a+)+``, ``(a*)*``, ``(\\w+\\d?)+``) or the same run in two ways
    (``(a|a)+``), and something after it can still fail (``$``, a required character, or
    ``fullmatch``). Possessive repeats and atomic groups are exempt. Because the tree is CPython's,
    ``(\\w|\\d)+`` is *not* reported: the parser turns single-character alternatives into one
    character class, which does not backtrack (measured: 0.0 s on 28 digits and ``"!"``, where
    ``(a+)+$`` takes 0.5 s on 24 ``a``). Multi-character ambiguities (``(ab|a)(b|ab)...``) and
    polynomial ones (``\\d+\\d+$``) are not reported.

    Args:
        regex: the pattern text.
        fullmatch: whether the regex must match to the end (Django's endpoint ``re_path`` ending
            in ``$``); then a failure after the repeat forces backtracking.

    Returns:
        A :class:`ReDoSRisk` naming the pumping character, or ``None``.

    Raises:
        Nothing (an invalid regex gives ``None``).
    """
    parsed = _parse(regex)
    if parsed is None:
        return None
    try:
        flags = getattr(getattr(parsed, "state", None), "flags", 0) or 0
        chars = set(_SAMPLE_CHARS)
        for op, av in _iter_ops(parsed):
            if op is _sre.LITERAL:
                chars.add(chr(av))
            elif op is _sre.RANGE:
                chars.update((chr(av[0]), chr(av[1])))
        for char in sorted(chars):
            scan = _ReDoSScan(char, flags)
            scan.sequence(parsed, fullmatch, flags)
            if scan.found is not None:
                return ReDoSRisk(char, scan.found)
    except Exception:  # noqa: BLE001  (an unexpected parse tree: report nothing rather than fail)
        return None
    return None


def _iter_ops(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        if op is _sre.IN:
            yield from av
        elif op is _sre.SUBPATTERN:
            yield from _iter_ops(av[3])
        elif op is _sre.BRANCH:
            for branch in av[1]:
                yield from _iter_ops(branch)
        elif op in _REPEATS or (_POSSESSIVE is not None and op is _POSSESSIVE):
            yield from _iter_ops(av[2])
        elif (_ATOMIC is not None and op is _ATOMIC) or op in (_sre.ASSERT, _sre.ASSERT_NOT):
            yield from _iter_ops(av if op is _ATOMIC else av[1])
        elif op is _sre.GROUPREF_EXISTS:
            yield from _iter_ops(av[1])
            if av[2] is not None:
                yield from _iter_ops(av[2])


# -- applications ------------------------------------------------------------------------------


def _is_router(app: object) -> bool:
    if isinstance(app, type):
        return False
    return getattr(app, "_path_routing", False) is True and hasattr(app, "routes")


def _inner(app: object) -> object | None:
    """The application a middleware wraps (``.inner``; ``OriginValidator.application``)."""
    if isinstance(app, type) or inspect.isroutine(app):
        return None
    for attribute in ("inner", "application", "app"):
        value = safe_get_attribute(app, attribute)
        if value is not None and value is not app and callable(value):
            return value
    return None


def _unwrap(app: object) -> tuple[object, list[str]]:
    wrappers: list[str] = []
    while len(wrappers) < _MAX_NESTING:
        inner = _inner(app)
        if inner is None:
            break
        wrappers.append(type(app).__name__)
        app = inner
    return app, wrappers


def _consumer_class(app: object) -> type | None:
    if AsyncConsumer is not None and isinstance(app, type) and issubclass(app, AsyncConsumer):
        return app
    return None


def _target_problems(target: object, shown: str) -> list[tuple[str, str, str]]:
    """Problems of what a route (or a protocol) points at, after unwrapping middleware."""
    if AsyncConsumer is None:
        return []
    cls = _consumer_class(target)
    if cls is not None and hasattr(AsyncConsumer, "as_asgi"):
        return [
            (
                "channels_lint.E005",
                (
                    f"{shown} points at the consumer class {cls.__name__} itself; Channels calls it as an ASGI app "
                    "and the connection fails with TypeError."
                ),
                f"Route {cls.__name__}.as_asgi() instead (Channels >= 3).",
            )
        ]
    owner = getattr(target, "__self__", None)
    if inspect.ismethod(target) and target.__name__ == "as_asgi" and _consumer_class(owner) is not None:
        name = owner.__name__  # type: ignore[union-attr]
        return [
            (
                "channels_lint.E005",
                f"{shown} points at {name}.as_asgi without calling it; the connection fails with TypeError.",
                f"Call it: {name}.as_asgi().",
            )
        ]
    if isinstance(target, AsyncConsumer):
        name = type(target).__name__
        return [
            (
                "channels_lint.W006",
                f"{shown} points at an instance of {name}; every connection would share that one instance.",
                f"Route {name}.as_asgi(), which makes one instance per connection.",
            )
        ]
    return []


class RoutingValidator:
    """Checks Channels routes and routing trees. Holds no state; one instance can be shared.

    Every method accepts any input and raises nothing: what it cannot read is reported (E008) or
    skipped.
    """

    # -- single patterns -----------------------------------------------------------------------

    def check_pattern(self, pattern: object, *, kind: str | None = None) -> list[RouteProblem]:
        """All problems of one pattern, errors and warnings.

        Args:
            pattern: a regex string, a ``path()``-style route string, a compiled ``re.Pattern``,
                a Django ``RegexPattern``/``RoutePattern``, or a ``URLPattern``/``URLResolver``
                (what ``django.urls.path``/``re_path`` return; its callback is checked too).
            kind: ``"regex"`` or ``"route"`` for a string; by default a string is a ``path()``
                route when it contains ``<`` (a converter) and no regex sign (``(?``, a backslash,
                a leading ``^`` or a trailing ``$``), else a regex.

        Returns:
            :class:`RouteProblem` list (``location`` is ``""``), in a stable order.
        """
        try:
            return self._check_one(pattern, kind)
        except Exception as exc:  # noqa: BLE001
            return [
                _problem(
                    "channels_lint.E008",
                    f"The pattern could not be read ({type(exc).__name__}: {exc}).",
                    "Pass a regex string, a path() route string, or what path()/re_path() return.",
                    "",
                    pattern,
                )
            ]

    def get_pattern_errors(self, pattern: object, *, kind: str | None = None) -> list[str]:
        """One sentence (what is wrong, then the fix) per error-level problem of ``pattern``.

        Same arguments as :meth:`check_pattern`. Warnings are in :meth:`get_pattern_warnings`.
        """
        return [p.sentence for p in self.check_pattern(pattern, kind=kind) if p.level == "error"]

    def get_pattern_warnings(self, pattern: object, *, kind: str | None = None) -> list[str]:
        """One sentence per warning-level problem (W001, W003, W006) of ``pattern``."""
        return [p.sentence for p in self.check_pattern(pattern, kind=kind) if p.level == "warning"]

    def validate_pattern(self, pattern: object, *, kind: str | None = None) -> bool:
        """``True`` when :meth:`get_pattern_errors` is empty (warnings do not count)."""
        return not self.get_pattern_errors(pattern, kind=kind)

    def _check_one(self, pattern: object, kind: str | None) -> list[RouteProblem]:
        if isinstance(pattern, URLResolver):
            return [_problem(*_include_problem(pattern), "", pattern)]
        normalized = _normalize(pattern, kind)
        if normalized is None:
            return [_problem(*_not_a_route(pattern), "", pattern)]
        callback = getattr(pattern, "callback", None)
        target, wrappers = _unwrap(callback)
        endpoint_target = not _is_router(target)
        found = _pattern_problems(normalized, endpoint_target=endpoint_target)
        shown = _route_display(normalized.kind, normalized.text)
        if callback is not None:
            found += _target_problems(target, shown)
            if not endpoint_target:
                found += _nested_problems(normalized, target, wrappers, shown)
        return [_problem(*entry, "", pattern) for entry in found]

    # -- whole applications ----------------------------------------------------------------------

    def check_application(self, application: object, *, name: str = "application") -> list[RouteProblem]:
        """Walk an ASGI application as Channels dispatches it and return every problem.

        Args:
            application: a ``ProtocolTypeRouter`` (``.application_mapping``), ``ChannelNameRouter``,
                ``URLRouter`` (``.routes``), middleware (objects with ``.inner``, e.g.
                ``AuthMiddlewareStack(...)``, ``SessionMiddleware``; ``OriginValidator`` /
                ``AllowedHostsOriginValidator`` via ``.application``), a consumer app, or a plain
                list of routes (``websocket_urlpatterns``).
            name: the label locations start with (the system check passes ``ASGI_APPLICATION``).

        Returns:
            :class:`RouteProblem` list in walk order (depth first, routes in list order).
        """
        out: list[RouteProblem] = []
        try:
            self._walk_app(application, name, None, out, frozenset(), 0)
        except Exception as exc:  # noqa: BLE001  (a check must not crash `manage.py check`)
            out.append(
                _problem(
                    "channels_lint.E008",
                    f"The routing could not be read ({type(exc).__name__}: {exc}).",
                    "Build it from ProtocolTypeRouter, URLRouter, middleware and path()/re_path() routes.",
                    name,
                    application,
                )
            )
        return out

    def validate_all_patterns(self, routing_config: object, *, name: str = "application") -> dict[str, Any]:
        """Check a whole routing configuration.

        Args:
            routing_config: anything :meth:`check_application` accepts.
            name: the label locations start with.

        Returns:
            ``{"valid": bool, "routes": int, "errors": [str], "warnings": [str], "problems":
            [RouteProblem]}``: ``valid`` is ``True`` when no error-level problem was found;
            ``routes`` is the number of route entries visited; ``errors``/``warnings`` are
            ``"<location>: <sentence>"`` strings.
        """
        problems = self.check_application(routing_config, name=name)
        return {
            "valid": not any(p.level == "error" for p in problems),
            "routes": self._count_routes(routing_config),
            "errors": [f"{p.location}: {p.sentence}" for p in problems if p.level == "error"],
            "warnings": [f"{p.location}: {p.sentence}" for p in problems if p.level == "warning"],
            "problems": problems,
        }

    def _count_routes(self, app: object, seen: frozenset[int] = frozenset(), depth: int = 0) -> int:
        if id(app) in seen or depth > _MAX_NESTING:
            return 0
        seen = seen | {id(app)}
        if isinstance(app, list) and depth == 0:
            routes: list[object] = app
        elif _is_router(app):
            routes = list(getattr(app, "routes", []) or [])
        elif isinstance(getattr(app, "application_mapping", None), Mapping):
            return sum(self._count_routes(v, seen, depth + 1) for v in app.application_mapping.values())  # type: ignore[attr-defined]
        else:
            inner = _inner(app)
            return self._count_routes(inner, seen, depth + 1) if inner is not None else 0
        return len(routes) + sum(self._count_routes(_unwrap(getattr(r, "callback", None))[0], seen, depth + 1) for r in routes)

    def _walk_app(
        self, app: object, loc: str, protocol: str | None, out: list[RouteProblem], seen: frozenset[int], depth: int
    ) -> None:
        if id(app) in seen or depth > _MAX_NESTING:
            return
        seen = seen | {id(app)}
        mapping = getattr(app, "application_mapping", None) if not isinstance(app, type) else None
        if isinstance(mapping, Mapping):
            is_protocol_router = ProtocolTypeRouter is not None and isinstance(app, ProtocolTypeRouter)
            if is_protocol_router and "http" not in mapping:
                out.append(
                    _problem(
                        "channels_lint.W004",
                        "The ProtocolTypeRouter has no 'http' entry; Channels 4 no longer adds Django's handler, "
                        "so every HTTP request fails with \"No application configured for scope type 'http'\".",
                        'Add "http": get_asgi_application() (django.core.asgi), unless another server handles HTTP.',
                        loc,
                        app,
                    )
                )
            for key, value in mapping.items():
                self._walk_app(value, f"{loc}[{key!r}]", str(key) if is_protocol_router else protocol, out, seen, depth + 1)
            return
        if isinstance(app, list) and depth == 0:
            self._walk_routes(app, loc, protocol, out, seen, depth)
            return
        if _is_router(app):
            self._walk_routes(list(getattr(app, "routes", []) or []), f"{loc}.routes", protocol, out, seen, depth)
            return
        target, _wrappers = _unwrap(app)
        if target is not app:
            self._walk_app(target, loc, protocol, out, seen, depth + 1)
            return
        for entry in _target_problems(app, f"The {protocol or 'ASGI'} application"):
            out.append(_problem(*entry, loc, app))

    def _walk_routes(
        self, routes: list[object], loc: str, protocol: str | None, out: list[RouteProblem], seen: frozenset[int], depth: int
    ) -> None:
        earlier: dict[tuple[str, str, bool], int] = {}
        catch_all: tuple[int, str] | None = None
        for index, route in enumerate(routes):
            here = f"{loc}[{index}]"
            if isinstance(route, URLResolver) and not getattr(route, "callback", None):
                out.append(_problem(*_include_problem(route), here, route))
                continue
            pattern = getattr(route, "pattern", None)
            normalized = _normalize(pattern, None) if isinstance(pattern, (RegexPattern, RoutePattern)) else None
            if normalized is None or not hasattr(route, "callback"):
                out.append(_problem(*_not_a_route(route), here, route))
                continue
            callback = route.callback
            target, wrappers = _unwrap(callback)
            nested = _is_router(target)
            shown = _route_display(normalized.kind, normalized.text)
            found = _pattern_problems(normalized, endpoint_target=not nested)
            found += _target_problems(target, shown)
            if nested:
                found += _nested_problems(normalized, target, wrappers, shown)
            everything = _matches_everything(normalized)
            if protocol == "http" and ASGIHandler is not None and isinstance(target, ASGIHandler) and not everything:
                found.append(
                    (
                        "channels_lint.W005",
                        (
                            f"Django's ASGI application is routed under {shown}, which is not a catch-all, so every other "
                            "HTTP path gets no route and fails."
                        ),
                        "Route it last as re_path(r'', django_asgi_app), or give it to ProtocolTypeRouter as \"http\".",
                    )
                )
            key = (type(pattern).__name__, normalized.text, normalized.is_endpoint)
            if catch_all is not None:
                found.append(
                    (
                        "channels_lint.W002",
                        f"{shown} can never match: routes[{catch_all[0]}] ({catch_all[1]}) before it matches every path.",
                        "Move the catch-all route last; URLRouter uses the first route that matches.",
                    )
                )
            elif key in earlier:
                found.append(
                    (
                        "channels_lint.W002",
                        f"{shown} can never match: routes[{earlier[key]}] before it has the identical pattern.",
                        "Remove the duplicate, or change one of the patterns; URLRouter uses the first route that matches.",
                    )
                )
            for entry in found:
                out.append(_problem(*entry, here, route))
            if not nested:  # a nested router that does not match lets the next route try (Resolver404)
                earlier.setdefault(key, index)
                if everything and catch_all is None:
                    catch_all = (index, shown)
            if nested or isinstance(getattr(target, "application_mapping", None), Mapping):
                self._walk_app(target, here, protocol, out, seen, depth + 1)


def _problem(problem_id: str, message: str, hint: str, location: str, obj: object) -> RouteProblem:
    return RouteProblem(problem_id, PROBLEM_IDS[problem_id][0], message, hint, location, obj)


def _include_problem(route: object) -> tuple[str, str, str]:
    shown = _route_display(
        "route" if isinstance(getattr(route, "pattern", None), RoutePattern) else "regex", str(getattr(route, "pattern", ""))
    )
    return (
        "channels_lint.E006",
        f"{shown} uses include(), which URLRouter rejects with ImproperlyConfigured (channels/routing.py L85-89).",
        "Nest a URLRouter([...]) of the included routes instead of include().",
    )


def _not_a_route(entry: object) -> tuple[str, str, str]:
    return (
        "channels_lint.E008",
        f"A {type(entry).__name__} is not a path()/re_path() route; URLRouter fails on it with AttributeError.",
        "Write each entry as path('...', Consumer.as_asgi()) or re_path(r'...', Consumer.as_asgi()).",
    )


def _nested_problems(p: _Pattern, router: object, wrappers: list[str], shown: str) -> list[tuple[str, str, str]]:
    try:
        inner_matches_empty = any(
            getattr(getattr(r, "pattern", None), "match", lambda _p: None)("") is not None for r in getattr(router, "routes", [])
        )
    except Exception:  # noqa: BLE001
        inner_matches_empty = False
    if inner_matches_empty:
        return []
    if p.kind == "regex" and not p.error and _ends_with_dollar(p):
        return [
            (
                "channels_lint.E007",
                f"{shown} leads to a nested URLRouter but ends with '$', so nothing is left for the nested routes to match.",
                "Remove the '$' from the outer route.",
            )
        ]
    if p.kind == "route" and wrappers and p.is_endpoint:
        return [
            (
                "channels_lint.E007",
                (
                    f"{shown} leads to a URLRouter wrapped in {wrappers[0]}; the wrapper hides the router from URLRouter, so "
                    "the path() stays an endpoint and the nested routes never match (Channels issue #1428)."
                ),
                "Use re_path(r'^prefix/', ...) without '$' for the outer route, or put the middleware outside the outer URLRouter.",
            )
        ]
    return []
