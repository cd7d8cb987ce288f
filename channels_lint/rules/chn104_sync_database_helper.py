"""CHN104: a sync helper that touches the database, called from async code."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import ASYNC_MARKERS
from channels_lint.diagnostics import AddAwait, AddDecorator, Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.orm import DB_SYNC_TO_ASYNC


class SyncDatabaseHelperInAsync(Rule):
    """
    ## What it does
    Checks for calls, in code that runs on the event loop, of a plain sync function or method
    of the same module that touches the database: directly (any ORM query, instance write,
    relation load or sync-only API that CHN101-CHN103 and CHN109 know) or through another such
    helper. Helpers decorated with or passed to `database_sync_to_async` / `sync_to_async`
    run in a thread and are not reported.

    ## Why is this bad?
    A sync function called from an `async def` runs on the event loop thread, so its query
    raises `SynchronousOnlyOperation` just as if it were written inline. The DB access is one
    call away, which is why it survives review.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    def count_members(room):
        return len(room.members.all())


    class RoomConsumer(AsyncWebsocketConsumer):
        async def join(self, room):
            size = count_members(room)
    ```

    Use instead:
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer


    @database_sync_to_async
    def count_members(room):
        return len(room.members.all())


    class RoomConsumer(AsyncWebsocketConsumer):
        async def join(self, room):
            size = await count_members(room)
    ```

    ## Fix safety
    The fix decorates the helper with `@database_sync_to_async` and adds `await` at every
    call site; it is offered only when every use of the helper is such a call in an `async
    def`, and it is unsafe: the helper now runs in another thread, which matters if it
    touches thread-local state, and other modules that import it would get a coroutine.

    ## Known problems
    Only helpers defined in the same module are followed. Inside a helper, `x.<name>.all()`
    (and `filter`, `exclude`, `order_by`...) on an unknown `x` counts as a related manager.
    """

    code = "CHN104"
    name = "sync-database-helper-in-async"
    markers = ASYNC_MARKERS
    fix_applicability = Applicability.UNSAFE

    valid = (
        """
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

@database_sync_to_async
def count_notes():
    return Note.objects.count()

def shout(text):
    return text.upper()

class C(AsyncWebsocketConsumer):
    async def connect(self):
        total = await count_notes()
        loud = shout("x")
        rows = await database_sync_to_async(self.load)()

    def load(self):
        return list(Note.objects.all())

    @staticmethod
    @database_sync_to_async
    def store(body):
        Note.objects.create(body=body)
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

def count_members(room):
    return len(room.members.all())

def describe(room):
    return f"{room.name}: {count_members(room)}"

class C(AsyncWebsocketConsumer):
    async def join(self, room):
        size = count_members(room)  # error
        text = describe(room)  # error
        self.store("x")  # error

    def store(self, body):
        Note.objects.create(body=body)
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note
from channels.db import database_sync_to_async

def count_members(room):
    return len(room.members.all())

@database_sync_to_async
def describe(room):
    return f"{room.name}: {count_members(room)}"

class C(AsyncWebsocketConsumer):
    async def join(self, room):
        size = count_members(room)  # error
        text = await describe(room)  # error
        await self.store("x")  # error

    @database_sync_to_async
    def store(self, body):
        Note.objects.create(body=body)
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        if a.async_unsafe_allowed:
            return  # Django raises no SynchronousOnlyOperation there
        source = a.syntax.source
        for found in a.helpers.on_loop(lambda: a.db.helpers, lambda fact: fact.touches_db):
            call = found.call
            if found.fact is not None:
                yield self.violation(
                    call,
                    f"`{source(call.func)}()` (defined in `{a.relative(found.fact.path)}`, line {found.fact.line}) is a "
                    "sync function that touches the database; called on the event loop it raises "
                    "SynchronousOnlyOperation; decorate it with `@database_sync_to_async` and await it",
                )
                continue
            evidence = f"`{source(found.evidence.func)}()`" if found.via_helper else f"`{source(found.evidence)}`"
            message = (
                f"`{source(call.func)}()` is a sync function that touches the database ({evidence}); "
                "called on the event loop it raises SynchronousOnlyOperation; decorate it with "
                "`@database_sync_to_async` and await it"
            )
            edits = self._fix(found.function)
            if edits:
                yield self.violation(call, message, edits, "Decorate the helper and await its calls", (DB_SYNC_TO_ASYNC,))
            else:
                yield self.violation(call, message)

    def _fix(self, helper: ast.FunctionDef) -> tuple:
        """Decorator plus an ``await`` at every call, if every use of the name is a call of
        this helper, in an ``async def``, whose result is used right there (not passed to
        ``gather()``/``create_task()``, which would then get the awaited value)."""
        a = self.analysis
        parents = a.syntax.parents
        calls = []
        for reference in a.names.references(helper):
            call = parents.get(reference)
            if not (
                isinstance(call, ast.Call)
                and call.func is reference
                and a.names.local_function(call) is helper
                and a.context.can_await_here(call)
                and not a.syntax.is_awaited(call)
                and not isinstance(parents.get(call), (ast.Call, ast.keyword, ast.Starred))
            ):
                return ()
            calls.append(call)
        if not calls or helper not in a.db.helpers:
            return ()
        span = a.syntax.span
        return (AddDecorator(span(helper), "database_sync_to_async"), *(AddAwait(span(c)) for c in calls))
