"""Route patterns as Django and Python's ``re`` see them (pure functions on pattern text).

* :func:`compile_error`: what ``re.compile`` says about a ``re_path`` regex (Django compiles it
  lazily, on the first match: docs/semantics.md §1.2);
* :func:`regex_syntax_in_route`: regex syntax written in a ``path()`` route, where it is
  matched literally (§1.2, §7 ``2_0.W001``);
* :func:`route_regex`: the regex Django builds for a ``path()`` route (``_route_to_regex``,
  django/urls/resolvers.py @ 5.2.19, built-in converters only);
* :func:`matches`: whether a route matches a path, the way ``URLRouter`` asks (§1.2);
* :func:`regex_as_route`: a ``re_path`` regex written as the ``path()`` route that matches
  exactly the same paths with the same kwargs, when there is one;
* :func:`named_groups`: the named groups of a regex and the text of each group's body;
* :func:`find_redos`: a repeated group whose repetitions can split the same text in many
  ways, followed by something that can fail (exponential backtracking).

Nothing here knows about ``ast``; the routes analyzer (:mod:`.routes`) feeds it evaluated
pattern strings.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass

if sys.version_info >= (3, 11):
    from re import _constants as sre
    from re import _parser as sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants as sre
    import sre_parse

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
#: Syntax only Python 3.11+ compiles; on older Pythons a failure with it proves nothing.
_NEWER_SYNTAX = re.compile(r"\(\?>|[*+?}]\+")


@dataclass(frozen=True)
class RegexError:
    """``re.error`` of a pattern: its message and position."""

    message: str
    position: int | None


def compile_error(regex: str) -> RegexError | None:
    """Why ``re.compile(regex)`` fails, or ``None`` when it compiles (warnings ignored)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(regex)
    except re.error as error:
        if sys.version_info < (3, 11) and _NEWER_SYNTAX.search(regex):  # pragma: no cover
            return None
        return RegexError(error.msg, error.pos)
    except (RecursionError, OverflowError, ValueError, MemoryError):
        return None  # not a syntax error the user can read; leave it
    return None


def pcre_named_groups(regex: str) -> list[int]:
    """Positions of PCRE/.NET named groups ``(?<name>`` (Python spells them ``(?P<name>``);
    lookbehinds ``(?<=``/``(?<!`` and escaped parentheses are not counted."""
    found = []
    for match in re.finditer(r"\(\?<(?=[^\W\d]\w*>)", regex):
        backslashes = len(match.string[: match.start()]) - len(match.string[: match.start()].rstrip("\\"))
        if backslashes % 2 == 0 and not _in_class(regex, match.start()):
            found.append(match.start())
    return found


def with_python_named_groups(regex: str) -> str | None:
    """``regex`` with every ``(?<name>`` written ``(?P<name>``, when that is what keeps it
    from compiling: the result compiles, the original does not."""
    positions = pcre_named_groups(regex)
    if not positions or compile_error(regex) is None:
        return None
    fixed = regex
    for position in reversed(positions):
        fixed = fixed[: position + 2] + "P" + fixed[position + 2 :]
    return fixed if compile_error(fixed) is None else None


def _in_class(regex: str, position: int) -> bool:
    """Whether ``position`` is inside a ``[...]`` class (a scan that honours escapes)."""
    inside = False
    index = 0
    while index < position:
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if not inside and char == "[":
            inside = True
            index += 1
            if index < len(regex) and regex[index] == "^":
                index += 1
            if index < len(regex) and regex[index] == "]":
                index += 1  # a leading ] is a literal
            continue
        if inside and char == "]":
            inside = False
        index += 1
    return inside


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


def _compiled(regex: str) -> re.Pattern | None:
    if compile_error(regex) is not None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(regex)
    except (re.error, RecursionError, OverflowError, ValueError, MemoryError):  # pragma: no cover - it compiled
        return None


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


def _group_end(regex: str, start: int) -> int | None:
    """Index of the ``)`` closing the group that opens at ``start`` (escapes and classes
    honoured), or ``None``."""
    depth = 0
    index = start
    in_class = False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            if regex.startswith("[]", index) or regex.startswith("[^]", index):
                index += 2 if regex[index + 1] == "]" else 3
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def named_groups(regex: str) -> dict[str, str] | None:
    """Named groups of ``regex``: name -> the text of the group's body; ``None`` when the
    regex does not compile."""
    if compile_error(regex) is not None:
        return None
    groups: dict[str, str] = {}
    for match in re.finditer(r"\(\?P<([^\W\d]\w*)>", regex):
        backslashes = len(regex[: match.start()]) - len(regex[: match.start()].rstrip("\\"))
        if backslashes % 2 or _in_class(regex, match.start()):
            continue
        end = _group_end(regex, match.start())
        if end is not None:
            groups[match.group(1)] = regex[match.end() : end]
    return groups


def positional_groups(regex: str) -> int | None:
    """How many capturing groups ``regex`` has (``None``: it does not compile)."""
    compiled = _compiled(regex)
    return None if compiled is None else compiled.groups


# ---------------------------------------------------------------------------- ReDoS
#: Characters the set tests below are run on: ASCII, Latin-1 and a few other scripts (``\\w``
#: and ``\\d`` are Unicode classes in a ``str`` regex).
_UNIVERSE = "".join(chr(i) for i in range(256)) + "ĀΩЖ中٣२\u2028\u3000"


@dataclass(frozen=True)
class ReDoS:
    """A repeated group of a regex that can backtrack exponentially.

    ``char`` is a character the repetitions can split in many ways: a long run of it
    followed by a character the rest of the regex refuses makes the match attempt take time
    exponential in the run's length.
    """

    char: str
    how: str  # "nested" (a repeat inside a repeat) or "alternation" (overlapping branches)


def find_redos(regex: str, fullmatch: bool) -> ReDoS | None:
    """Conservative structural check: a ``*``/``+``/``{n,}`` repeat whose body can match the
    same run of one character in more than one way (a repeat of a set ``S`` with every other
    part of the body optional or a single character of ``S``; or two alternatives that both
    match that character), with something after it that can fail (``fullmatch``, a ``$`` or
    more text).  Atomic groups and possessive repeats never backtrack and are skipped.
    ``None`` when nothing is found or the regex does not parse."""
    if compile_error(regex) is not None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = sre_parse.parse(regex)
    except (re.error, RecursionError, OverflowError, ValueError, MemoryError):  # pragma: no cover - it compiled
        return None
    try:
        return _scan(list(parsed), fullmatch)
    except RecursionError:  # pragma: no cover - absurdly nested regex
        return None


def _scan(items: list, tail_can_fail: bool) -> ReDoS | None:
    for index, (op, av) in enumerate(items):
        after = tail_can_fail or any(_can_fail(item) for item in items[index + 1 :])
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _, high, body = av
            if high == sre.MAXREPEAT and after:
                found = _ambiguous(list(body))
                if found is not None:
                    return found
            found = _scan(list(body), after)
            if found is not None:
                return found
        elif op is sre.SUBPATTERN:
            found = _scan(list(av[-1]), after)
            if found is not None:
                return found
        elif op is sre.BRANCH:
            for branch in av[1]:
                found = _scan(list(branch), after)
                if found is not None:
                    return found
        # atomic groups, possessive repeats and lookarounds do not backtrack into the body
    return None


def _can_fail(item) -> bool:
    """Whether an element after a repeat can refuse a character (a non-optional element or
    an anchor)."""
    op, av = item
    if op is sre.AT:
        return av is not sre.AT_BEGINNING
    return _min_width(item) > 0


def _min_width(item) -> int:
    try:
        return sre_parse.SubPattern(sre_parse.State(), [item]).getwidth()[0]
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):  # pragma: no cover - defensive
        return 1


def _unwrap(items: list) -> list:
    """A body that is one plain group is the group's body."""
    while len(items) == 1 and items[0][0] is sre.SUBPATTERN and not items[0][1][1] and not items[0][1][2]:
        items = list(items[0][1][-1])
    return items


def _ambiguous(body: list) -> ReDoS | None:
    body = _unwrap(body)
    if any(_unsupported(item) for item in body):
        return None
    # nested: a repeat of a set S; every other element optional or one character of S
    for index, (op, av) in enumerate(body):
        repeated = _repeated_set(op, av, unbounded=True)
        if repeated is None:
            continue
        candidates = set(repeated)
        for other_index, item in enumerate(body):
            if other_index == index or _min_width(item) == 0:
                continue
            chars = _single_set(item)
            if chars is None:
                candidates = set()
                break
            candidates &= chars
        if candidates:
            return ReDoS(_pick(candidates), "nested")
    # alternation: two branches that each match a run of one same character
    if len(body) == 1 and body[0][0] is sre.BRANCH:
        branches = [_unwrap(list(branch)) for branch in body[0][1][1]]
        sets = [_branch_set(branch) for branch in branches]
        for i, first in enumerate(sets):
            for second in sets[i + 1 :]:
                if first is not None and second is not None and first & second:
                    return ReDoS(_pick(first & second), "alternation")
    return None


def _unsupported(item) -> bool:
    """Anchors, lookarounds and back-references inside the body: not judged."""
    op, av = item
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT, sre.GROUPREF, sre.GROUPREF_EXISTS):
        return True
    if op is sre.SUBPATTERN:
        return any(_unsupported(i) for i in av[-1])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return any(_unsupported(i) for i in av[2])
    if op is sre.BRANCH:
        return any(_unsupported(i) for branch in av[1] for i in branch)
    return False


def _repeated_set(op, av, unbounded: bool) -> frozenset[str] | None:
    """The set of a repeat of one character class (``\\w+``, ``[a-z]*``, ``(?:x)+``)."""
    if op not in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return None
    _, high, body = av
    if unbounded and high != sre.MAXREPEAT:
        return None
    inner = _unwrap(list(body))
    return _single_set(inner[0]) if len(inner) == 1 else None


def _branch_set(branch: list) -> frozenset[str] | None:
    """The set of a branch that is one character class or a repeat of one (at least once)."""
    if len(branch) != 1:
        return None
    op, av = branch[0]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return _repeated_set(op, av, unbounded=False) if av[0] >= 1 else None
    return _single_set(branch[0])


def _single_set(item) -> frozenset[str] | None:
    """The characters a one-character element matches (over :data:`_UNIVERSE`), else ``None``."""
    op, av = item
    if op is sre.SUBPATTERN:
        inner = _unwrap(list(av[-1]))
        return _single_set(inner[0]) if len(inner) == 1 else None
    if op is sre.LITERAL:
        return frozenset({chr(av)})
    if op is sre.NOT_LITERAL:
        return frozenset(c for c in _UNIVERSE if c != chr(av))
    if op is sre.ANY:
        return frozenset(c for c in _UNIVERSE if c != "\n")
    if op is sre.IN:
        return _class_set(av)
    return None


def _class_set(items) -> frozenset[str] | None:
    negate = False
    chars: set[str] = set()
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            chars.add(chr(av))
        elif op is sre.RANGE:
            chars.update(c for c in _UNIVERSE if av[0] <= ord(c) <= av[1])
        elif op is sre.CATEGORY:
            test = _CATEGORIES.get(av)
            if test is None:
                return None
            chars.update(c for c in _UNIVERSE if test(c))
        else:
            return None
    return frozenset(c for c in _UNIVERSE if c not in chars) if negate else frozenset(chars)


_CATEGORIES = {
    sre.CATEGORY_DIGIT: lambda c: c.isdecimal(),
    sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    sre.CATEGORY_SPACE: lambda c: c.isspace(),
    sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


def _pick(chars: frozenset[str] | set[str]) -> str:
    """A readable character of ``chars``: a letter, a digit, else the smallest printable."""
    for preferred in "a1x-_.":
        if preferred in chars:
            return preferred
    printable = sorted(c for c in chars if c.isprintable() and not c.isspace())
    return printable[0] if printable else min(chars)
