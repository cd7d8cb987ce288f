"""Plain data shared by rules, the engine, the flake8 plugin and the fixer.

Nothing here imports LibCST: a fix is described as edits on source spans, and only
:mod:`channels_lint.fixes` turns them into LibCST rewrites, for files that have fixes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

#: ``(line, col, end_line, end_col)``: lines 1-based, columns 0-based in characters.
Span = tuple[int, int, int, int]


class Applicability(enum.Enum):
    """ruff's fix safety levels: safe fixes keep the code's meaning, unsafe ones may not."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """One rewrite of the expression found exactly at ``span``."""

    span: Span


@dataclass(frozen=True)
class AddAwait(Edit):
    """``expr`` -> ``await expr``."""


@dataclass(frozen=True)
class CallThrough(Edit):
    """``f(args)`` -> ``await wrapper(f)(args)`` (``wrapper`` is a name, e.g.
    ``database_sync_to_async``); without the ``await`` when not ``awaited``
    (``async_to_sync(f)(args)``)."""

    wrapper: str
    awaited: bool = True


@dataclass(frozen=True)
class AwaitAsyncMethod(Edit):
    """``obj.m(args)`` -> ``await obj.<name>(args)``; ``f(args)`` -> ``await <name>(args)``."""

    name: str


@dataclass(frozen=True)
class AwaitInsteadOfAsyncToSync(Edit):
    """``async_to_sync(f)(args)`` or ``async_to_sync(f(args))`` -> ``await f(args)``."""


@dataclass(frozen=True)
class HoistCall(Edit):
    """``async_to_sync(f(args))`` -> ``async_to_sync(f)(args)``."""


@dataclass(frozen=True)
class MakeAsync(Edit):
    """``def`` -> ``async def`` (``span`` is the function's, from ``def`` on);
    ``for`` -> ``async for`` (the loop statement's span)."""


@dataclass(frozen=True)
class AddDecorator(Edit):
    """Add ``@decorator`` as the innermost decorator of the function at ``span``."""

    decorator: str


@dataclass(frozen=True)
class WrapIn(Edit):
    """``expr`` -> ``func(expr)``, or ``await func(expr)`` when ``awaited``.

    ``func`` is Python expression text such as ``"safe_serialize"`` or
    ``"database_sync_to_async(list)"``.
    """

    func: str
    awaited: bool = False


@dataclass(frozen=True)
class CallMethod(Edit):
    """``expr`` -> ``expr.method()``; on ``expr.method`` (not called) -> ``expr.method()``."""

    method: str


@dataclass(frozen=True)
class ReplaceWith(Edit):
    """``expr`` -> ``text`` (Python expression text, e.g. ``'"type"'`` for the builtin
    ``type`` written as a key)."""

    text: str


@dataclass(frozen=True)
class GetAttribute(Edit):
    """``expr`` -> ``expr.attr`` (e.g. a model instance -> ``instance.pk``)."""

    attr: str


@dataclass(frozen=True)
class AddCall(Edit):
    """``expr`` -> ``expr()``."""


@dataclass(frozen=True)
class InsertAfter(Edit):
    """Insert the statement ``code`` after the statement at ``span`` (same block, same
    indentation); ``code`` is one statement of Python text."""

    code: str


@dataclass(frozen=True)
class RemoveStatement(Edit):
    """Remove the line whose one statement is at ``span`` (its leading comment lines go with
    it: a rule offers this only where there are none)."""


@dataclass(frozen=True)
class Fix:
    """A fix for one violation: edits to apply together and the imports they need."""

    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE
    #: ``(module, name)`` pairs, e.g. ``("channels.db", "database_sync_to_async")``.
    imports: tuple[tuple[str, str], ...] = ()
    #: ``(module, name)`` imports the fix may leave unused; removed only if they are.
    unused_imports: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Violation:
    """One finding: a rule code at a position, with a one-line message and maybe a fix."""

    code: str
    line: int
    col: int
    message: str
    fix: Fix | None = field(default=None, compare=False)

    def format(self, filename: str) -> str:
        """flake8's default format: ``path:line:col: CODE message`` (col 1-based)."""
        return f"{filename}:{self.line}:{self.col + 1}: {self.code} {self.message}"
