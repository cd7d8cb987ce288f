"""What the routes to a consumer say about a URL kwarg: the characters it may hold and its
longest length, from its converter or its regex group (django/urls/converters.py,
docs/semantics.md §1.3, §5.1, §11.3).  Pure functions on route facts and regex text.
"""

from __future__ import annotations

import re

from channels_lint.analysis.client.model import RouteKwarg
from channels_lint.analysis.facts import INT_TEXT_LENGTH, URL_CONVERTERS


def route_kwarg_fact(routes, key: str) -> RouteKwarg | None:
    """The weakest fact the routes give for ``key``.  ``routes`` maps kwarg names to a
    ``KwargFact`` (``definitions``, each with ``converter`` and ``regex``), a converter name or a
    regex; ``None`` (no known route) gives ``None``.  A kwarg the routes never define, a
    project converter or a route default gives an unknown fact (``known=False``)."""
    if routes is None:
        return None
    spec = routes.get(key) if isinstance(routes, dict) else None
    if spec is None:
        return RouteKwarg(charset_safe=False, max_length=None, known=False)
    definitions = getattr(spec, "definitions", None)
    if definitions is None:
        definitions = (spec,)
    facts = []
    for definition in definitions:
        converter = getattr(definition, "converter", None)
        regex = getattr(definition, "regex", None)
        if isinstance(definition, str):
            converter, regex = (definition, None) if definition in URL_CONVERTERS else ("regex", definition)
        if converter in URL_CONVERTERS:
            safe, length = URL_CONVERTERS[converter]
            facts.append(RouteKwarg(charset_safe=safe, max_length=length, converter=converter))
        elif converter == "regex" and isinstance(regex, str):
            safe, length = pattern_fact(regex)
            if length is None and _digits_only(regex):
                length = INT_TEXT_LENGTH  # like the int converter (facts.INT_TEXT_LENGTH)
            facts.append(RouteKwarg(charset_safe=safe, max_length=length, converter="regex", pattern=regex))
        else:  # a project converter, a route default: whatever the project made it
            return RouteKwarg(charset_safe=False, max_length=None, known=False)
    if not facts:
        return RouteKwarg(charset_safe=False, max_length=None, known=False)
    lengths = [f.max_length for f in facts]
    worst = next((f for f in facts if not f.charset_safe), None) or next((f for f in facts if f.max_length is None), facts[0])
    return RouteKwarg(
        charset_safe=all(f.charset_safe for f in facts),
        max_length=None if None in lengths else max(lengths),
        converter=worst.converter,
        pattern=worst.pattern,
    )


# ---------------------------------------------------------------------- regexes
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def pattern_fact(regex: str) -> tuple[bool, int | None]:
    """``(every character it matches is valid in a group name, longest match or None)``
    of a URL regex group (Python ``re`` syntax: ``\\w`` and ``.`` match Unicode; ``\\d``
    matches Unicode digits, which Channels' own ``\\d`` accepts too, docs/semantics.md §5.1)."""
    try:
        from re import _parser as parser  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse as parser  # type: ignore[no-redef]
    try:
        parsed = parser.parse(regex)
    except Exception:  # noqa: BLE001 - a regex Django would reject too
        return False, None
    ascii_flag = bool(parsed.state.flags & re.ASCII)
    safe = _tokens_safe(parsed, parser, ascii_flag)
    high = parsed.getwidth()[1]
    return safe, (None if high >= parser.MAXREPEAT or high > 10_000 else high)


def _digits_only(regex: str) -> bool:
    """Whether the regex matches only digits (``\\d+``, ``[0-9]+``)."""
    try:
        from re import _parser as parser
    except ImportError:  # pragma: no cover
        import sre_parse as parser  # type: ignore[no-redef]
    try:
        parsed = parser.parse(regex)
    except Exception:  # noqa: BLE001
        return False
    return _tokens_safe(parsed, parser, False, frozenset("0123456789"), words=False)


def _tokens_safe(tokens, parser, ascii_flag: bool, allowed: frozenset[str] | None = None, words: bool = True) -> bool:
    """Whether every character the parsed regex matches is in ``allowed`` (default: the
    group-name characters; ``\\d`` always counts, ``\\w`` only with ``words`` and ASCII)."""
    constants = parser
    allowed = _SAFE_CHARS if allowed is None else allowed
    for op, argument in tokens:
        name = str(op)
        if name == "LITERAL":
            if chr(argument) not in allowed:
                return False
        elif name in ("NOT_LITERAL", "ANY"):
            return False
        elif name == "IN":
            for item_op, item in argument:
                item_name = str(item_op)
                if item_name == "NEGATE":
                    return False
                if item_name == "LITERAL" and chr(item) not in allowed:
                    return False
                if item_name == "RANGE" and not all(chr(c) in allowed for c in range(item[0], item[1] + 1)):
                    return False
                if item_name == "CATEGORY" and not _category_safe(str(item), ascii_flag and words):
                    return False
        elif name == "CATEGORY":
            if not _category_safe(str(argument), ascii_flag and words):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            if not _tokens_safe(argument[2], constants, ascii_flag, allowed, words):
                return False
        elif name == "SUBPATTERN":
            if not _tokens_safe(argument[-1], constants, ascii_flag, allowed, words):
                return False
        elif name == "BRANCH":
            if not all(_tokens_safe(branch, constants, ascii_flag, allowed, words) for branch in argument[1]):
                return False
        elif name == "ATOMIC_GROUP":
            if not _tokens_safe(argument, constants, ascii_flag, allowed, words):
                return False
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
            continue
        else:
            return False
    return True


def _category_safe(category: str, ascii_flag: bool) -> bool:
    if category == "CATEGORY_DIGIT":
        return True
    if category == "CATEGORY_WORD":
        return ascii_flag
    return False
