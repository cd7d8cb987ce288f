"""``path()`` routes: Django's built-in converters, regex syntax written in a route, the
regex Django builds for a route (``_route_to_regex``, django/urls/resolvers.py @ 5.2.19),
whether a route matches a path as ``URLRouter`` asks, and a ``re_path`` regex written as the
``path()`` route that matches the same paths with the same kwargs (docs/semantics.md §1.2,
§1.3, §7).
"""

from __future__ import annotations

import re

from channels_lint.analysis.regexes.text import _compiled, _group_end, compile_error

#: Django's built-in path converters and their regexes (django/urls/converters.py @ 5.2.19;
#: docs/semantics.md §1.3).
CONVERTER_REGEX = {
    "int": "[0-9]+",
    "str": "[^/]+",
    "slug": "[-a-zA-Z0-9_]+",
    "uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "path": ".+",
}
#: Converters whose ``to_python`` returns the matched text unchanged (``str`` subclasses of
#: ``StringConverter``): a regex group with the same regex gives the same kwarg.
STRING_CONVERTERS = ("str", "slug", "path")
#: ``<converter:name>`` / ``<name>`` in a ``path()`` route (resolvers.py @ 5.2.19 L242).
PATH_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


# ---------------------------------------------------------------------------- path() routes
#: Regex syntax that never belongs in a ``path()`` route, with the words a message uses.
_PATH_REGEX_SIGNS = (
    (re.compile(r"\(\?P<"), "a named group `(?P<`"),
    (re.compile(r"\(\?:"), "a group `(?:`"),
    (re.compile(r"\\[dwsDWSbB]"), "a regex escape"),
    (re.compile(r"\[[^\]/]+\][+*{?]"), "a character class"),
    (re.compile(r"\.[*+]"), "`.*`/`.+`"),
)


def regex_syntax_in_route(route: str) -> list[str]:
    """What regex syntax a ``path()`` route holds (a leading ``^``, a trailing ``$``, named
    groups, escapes, classes), in words; empty when it holds none."""
    signs = []
    if route.startswith("^"):
        signs.append("a leading `^`")
    if route.endswith("$"):
        signs.append("a trailing `$`")
    without_parameters = PATH_PARAMETER.sub("", route) if "(?P<" not in route else route
    for pattern, words in _PATH_REGEX_SIGNS:
        if pattern.search(without_parameters):
            signs.append(words)
    return signs


def route_parameters(route: str) -> list[tuple[str, str]] | None:
    """``(converter, name)`` of each ``<converter:name>`` of a ``path()`` route; ``None`` when
    one would make Django raise (whitespace, a name that is not an identifier)."""
    found = []
    for match in PATH_PARAMETER.finditer(route):
        converter, name = match.group("converter") or "str", match.group("parameter")
        if any(c.isspace() for c in match.group()) or not name.isidentifier():
            return None
        found.append((converter, name))
    return found


def route_regex(route: str, endpoint: bool) -> str | None:
    """The regex Django builds for ``path(route)`` (``_route_to_regex``); ``None`` when the
    route uses a converter that is not built in (the project may register its own)."""
    parts = ["^"]
    previous = 0
    for match in PATH_PARAMETER.finditer(route):
        converter, name = match.group("converter") or "str", match.group("parameter")
        if converter not in CONVERTER_REGEX or not name.isidentifier() or any(c.isspace() for c in match.group()):
            return None
        parts.append(re.escape(route[previous : match.start()]))
        parts.append(f"(?P<{name}>{CONVERTER_REGEX[converter]})")
        previous = match.end()
    parts.append(re.escape(route[previous:]))
    if endpoint:
        parts.append(r"\Z")
    return "".join(parts)


def matches(kind: str, pattern: str, endpoint: bool, path: str) -> bool | None:
    """Whether a route matches ``path`` (leading slashes already stripped, as URLRouter does):
    ``kind`` is ``"path"`` or ``"regex"``; ``None`` when it cannot be told (a custom
    converter, a regex that does not compile)."""
    if kind == "path":
        regex = route_regex(pattern, endpoint)
        if regex is None:
            return None
        compiled = _compiled(regex)
        return None if compiled is None else compiled.search(path) is not None
    compiled = _compiled(pattern)
    if compiled is None:
        return None
    if endpoint and pattern.endswith("$"):
        return compiled.fullmatch(path) is not None
    return compiled.search(path) is not None


# ---------------------------------------------------------------------------- regex -> path()
#: A named group body that a converter matches with the same regex and the same value type.
_EXACT_CONVERTER_BODIES = {
    "[^/]+": "str",
    "[-a-zA-Z0-9_]+": "slug",
    "[a-zA-Z0-9_-]+": "slug",
    ".+": "path",
}
_META = set(".^$*+?{}[]\\|()")


def regex_as_route(regex: str, endpoint: bool) -> str | None:
    """The ``path()`` route that matches exactly the paths ``regex`` (anchored at both ends,
    as ``path()`` anchors) matches, with the same kwargs; ``None`` when there is none.

    Literal text, escaped punctuation and named groups whose body is a string converter's
    regex translate (``(?P<room>[^/]+)`` -> ``<str:room>``); anything else (``\\d``, which
    also matches non-ASCII digits, alternations, classes) does not."""
    body = regex.removeprefix("^")
    if endpoint and body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    elif not endpoint and body.endswith("$"):
        return None
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            if index + 1 >= len(body):
                return None
            escaped = body[index + 1]
            if escaped.isalnum() or escaped == "_" or escaped in "<>":
                return None  # \d, \w, \1, \A...: not literal text
            out.append(escaped)
            index += 2
            continue
        if body.startswith("(?P<", index):
            close = body.find(">", index)
            end = _group_end(body, index)
            if close < 0 or end is None:
                return None
            name = body[index + 4 : close]
            converter = _EXACT_CONVERTER_BODIES.get(body[close + 1 : end])
            if converter is None or not name.isidentifier():
                return None
            out.append(f"<{converter}:{name}>")
            index = end + 1
            continue
        if char in _META or char in "<>":
            return None
        out.append(char)
        index += 1
    route = "".join(out)
    if route.startswith("/"):
        return None
    expected = route_regex(route, endpoint)
    if expected is None or compile_error(regex) is not None:
        return None
    return route
