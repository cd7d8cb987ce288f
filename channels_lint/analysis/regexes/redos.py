"""ReDoS: a repeated group whose repetitions can split the same text in many ways, followed
by something that can fail (exponential backtracking; a conservative structural check on the
parsed regex).
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass

from channels_lint.analysis.regexes.text import compile_error

if sys.version_info >= (3, 11):
    from re import _constants as sre
    from re import _parser as sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants as sre
    import sre_parse

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
