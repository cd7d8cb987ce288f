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

:mod:`.text` holds what ``re`` says of regex text (compile errors, groups), :mod:`.paths`
everything about ``path()`` routes and :mod:`.redos` the backtracking check.  Every public
name is importable from ``channels_lint.analysis.regexes``.
"""

from __future__ import annotations

from channels_lint.analysis.regexes.paths import (
    CONVERTER_REGEX,
    PATH_PARAMETER,
    STRING_CONVERTERS,
    matches,
    regex_as_route,
    regex_syntax_in_route,
    route_parameters,
    route_regex,
)
from channels_lint.analysis.regexes.redos import ReDoS, find_redos
from channels_lint.analysis.regexes.text import (
    RegexError,
    compile_error,
    named_groups,
    pcre_named_groups,
    positional_groups,
    with_python_named_groups,
)

__all__ = [
    "CONVERTER_REGEX",
    "PATH_PARAMETER",
    "STRING_CONVERTERS",
    "ReDoS",
    "RegexError",
    "compile_error",
    "find_redos",
    "matches",
    "named_groups",
    "pcre_named_groups",
    "positional_groups",
    "regex_as_route",
    "regex_syntax_in_route",
    "route_parameters",
    "route_regex",
    "with_python_named_groups",
]
