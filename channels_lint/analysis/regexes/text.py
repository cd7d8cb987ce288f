"""Regex text as Python's ``re`` reads it: whether it compiles (Django compiles a ``re_path``
regex lazily, on the first match: docs/semantics.md §1.2), PCRE-style named groups, where a
group ends, and the named and positional groups of a regex.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass

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


def _compiled(regex: str) -> re.Pattern | None:
    if compile_error(regex) is not None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(regex)
    except (re.error, RecursionError, OverflowError, ValueError, MemoryError):  # pragma: no cover - it compiled
        return None


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
