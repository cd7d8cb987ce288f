"""CHN110: ``await sync_to_async(f)`` awaits the wrapper instead of calling it."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import SYNC_TO_ASYNC
from channels_lint.diagnostics import AddCall, Applicability, Violation
from channels_lint.rules.base import Invalid, Rule


class AwaitedBridgeNotCalled(Rule):
    """
    ## What it does
    Checks for `await sync_to_async(f)` and `await database_sync_to_async(f)` (also with
    `thread_sensitive=...`) where the wrapper is awaited without being called.

    ## Why is this bad?
    `sync_to_async(f)` returns a `SyncToAsync` wrapper, an awaitable only once called:
    awaiting the wrapper itself raises `TypeError: object SyncToAsync can't be used in 'await'
    expression` (asgiref/sync.py; `DatabaseSyncToAsync` in channels/db.py is a subclass), so
    the handler dies and the connection with it. The function never runs.

    ## Example
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer


    class RoomConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            self.rooms = await database_sync_to_async(self.load_rooms)
            await self.accept()

        def load_rooms(self):
            return []
    ```

    Use instead:
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer


    class RoomConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            self.rooms = await database_sync_to_async(self.load_rooms)()
            await self.accept()

        def load_rooms(self):
            return []
    ```

    ## Fix safety
    The fix adds the call (`await sync_to_async(f)()`), the only way the wrapper can be
    awaited; it is safe: the original always raises, and a function that needs arguments
    still fails loudly (with a `TypeError` naming them).

    ## Known problems
    Only the bridges themselves are recognised, not a project's own wrappers of them.
    """

    code = "CHN110"
    name = "awaited-bridge-not-called"
    markers = ("sync_to_async", "SyncToAsync")
    fix_applicability = Applicability.SAFE

    valid = (
        """
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

async def handler(fetch):
    rows = await database_sync_to_async(fetch)()
    other = await sync_to_async(fetch, thread_sensitive=True)(1)
    wrapper = sync_to_async(fetch)
    return await wrapper()
""",
    )
    invalid = (
        Invalid(
            """
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

class RoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.rooms = await database_sync_to_async(self.load_rooms)  # error
        await sync_to_async(self.mark_online, thread_sensitive=True)  # error
        await self.accept()

    def load_rooms(self):
        return []

    def mark_online(self):
        pass
""",
            fixed="""
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

class RoomConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.rooms = await database_sync_to_async(self.load_rooms)()  # error
        await sync_to_async(self.mark_online, thread_sensitive=True)()  # error
        await self.accept()

    def load_rooms(self):
        return []

    def mark_online(self):
        pass
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for node in a.syntax.nodes(ast.Await):
            wrapper = node.value
            if not (isinstance(wrapper, ast.Call) and wrapper.args and a.names.resolves_to(wrapper.func, SYNC_TO_ASYNC)):
                continue
            yield self.violation(
                wrapper,
                f"`{a.syntax.source(wrapper)}` is a wrapper, not a coroutine: awaiting it raises TypeError and "
                f"`{a.syntax.source(wrapper.args[0])}` never runs; call it: `await {a.syntax.source(wrapper)}()`",
                (AddCall(a.syntax.span(wrapper)),),
                "Call the wrapper",
            )
