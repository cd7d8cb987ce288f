"""CHN106: ``async_to_sync`` called in code that runs on the event loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import ASYNC_TO_SYNC
from channels_lint.diagnostics import Applicability, AwaitInsteadOfAsyncToSync, Violation
from channels_lint.rules.base import Invalid, Rule


class AsyncToSyncInAsync(Rule):
    """
    ## What it does
    Checks for `async_to_sync(f)(args)` (and `async_to_sync(f(args))`) in code that runs on
    the event loop: an `async def`, or a sync handler that an async consumer calls on the
    loop.

    ## Why is this bad?
    `async_to_sync` refuses to run in a thread that has a running event loop:
    `RuntimeError: You cannot use AsyncToSync in the same thread as an async event loop -
    just await the async function directly.` (asgiref/sync.py). The handler dies, and with
    it the connection.

    ## Example
    ```python
    from asgiref.sync import async_to_sync
    from channels.generic.websocket import AsyncWebsocketConsumer


    class FeedConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            async_to_sync(self.channel_layer.group_add)("feed", self.channel_name)
            await self.accept()
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class FeedConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.channel_layer.group_add("feed", self.channel_name)
            await self.accept()
    ```

    A sync function of the module that runs `async_to_sync` (itself or through another such
    function) and is called on the loop fails the same way; it is reported at the call.

    ## Fix safety
    `async_to_sync(f)(args)` becomes `await f(args)`, which is what the call meant; safe. No
    fix in a sync `def` (it cannot `await`; see CHN108), a lambda, an f-string, a class body
    or a generator expression. An `async_to_sync` import the fix leaves unused is removed.
    A call of a sync helper that runs `async_to_sync` gets no fix: the helper may have other
    callers in sync code.
    """

    code = "CHN106"
    name = "async-to-sync-in-async"
    markers = ("async_to_sync", "AsyncToSync")
    fix_applicability = Applicability.SAFE

    valid = (
        """
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

def push(group):
    async_to_sync(get_channel_layer().group_send)(group, {"type": "x"})

async def handler():
    await sync_to_async(push)("g")
""",
        """
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from channels.layers import get_channel_layer

def notify(group, text):
    async_to_sync(get_channel_layer().group_send)(group, {"type": "chat.message", "text": text})

class ChatConsumer(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        notify("room", text_data)
""",
    )
    invalid = (
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.consumer import AsyncConsumer

class C(AsyncConsumer):
    async def websocket_connect(self, event):
        async_to_sync(self.channel_layer.group_add)("feed", self.channel_name)  # error
        result = async_to_sync(self.compute(1))  # error

    async def compute(self, n):
        return n
""",
            fixed="""
from channels.consumer import AsyncConsumer

class C(AsyncConsumer):
    async def websocket_connect(self, event):
        await self.channel_layer.group_add("feed", self.channel_name)  # error
        result = await self.compute(1)  # error

    async def compute(self, n):
        return n
""",
        ),
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

def broadcast(group, payload):
    async_to_sync(get_channel_layer().group_send)(group, {"type": "feed.item", **payload})

def announce(group):
    broadcast(group, {"text": "joined"})

class FeedConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        announce("feed")  # error
        broadcast("feed", {"text": "hi"})  # error
""",
            messages=(
                "`announce()` is a sync function that runs `async_to_sync` (`broadcast()`); called on the event loop "
                "it raises RuntimeError; make it `async def` and await it, or run it with `await sync_to_async(...)()`",
                "`broadcast()` is a sync function that runs `async_to_sync` (`async_to_sync(get_channel_layer()"
                ".group_send)`); called on the event loop it raises RuntimeError; make it `async def` and await it, "
                "or run it with `await sync_to_async(...)()`",
            ),
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        source, span = a.syntax.source, a.syntax.span
        for call in a.syntax.nodes(ast.Call):
            if not a.names.resolves_to(call.func, ASYNC_TO_SYNC) or not call.args:
                continue
            parent = a.syntax.parents.get(call)
            outer = parent if isinstance(parent, ast.Call) and parent.func is call else None
            if outer is None and not isinstance(call.args[0], ast.Call):
                continue  # async_to_sync(f) made but not called here
            if not a.context.of(call).on_event_loop:
                continue
            target = outer or call
            message = f"`{source(call)}` raises RuntimeError in a thread with a running event loop; await the coroutine directly"
            if a.context.can_await_here(target):
                yield self.violation(
                    call,
                    message,
                    (AwaitInsteadOfAsyncToSync(span(target)),),
                    "Await it directly",
                    unused_imports=(("asgiref.sync", "async_to_sync"),),
                )
            else:
                yield self.violation(call, message + " in an `async def`")
        for found in a.helpers.on_loop(lambda: a.context.async_to_sync_helpers, lambda fact: fact.runs_async_to_sync):
            call = found.call
            if found.fact is not None:
                where = f" (defined in `{a.relative(found.fact.path)}`, line {found.fact.line})"
                evidence = ""
            else:
                where = ""
                evidence = f" (`{source(found.evidence.func)}()`)" if found.via_helper else f" (`{source(found.evidence)}`)"
            yield self.violation(
                call,
                f"`{source(call.func)}()`{where} is a sync function that runs `async_to_sync`{evidence}; called on the "
                "event loop it raises RuntimeError; make it `async def` and await it, or run it with "
                "`await sync_to_async(...)()`",
            )
