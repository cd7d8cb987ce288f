"""CHN105: coroutine called without ``await`` in code that runs on the event loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import ASYNC_CONSUMER_COROUTINES
from channels_lint.diagnostics import AddAwait, Applicability, Violation
from channels_lint.rules.base import Invalid, Rule


class CoroutineNotAwaited(Rule):
    """
    ## What it does
    Checks for calls whose result is a coroutine that is then thrown away: `self.send(...)`,
    `self.send_json(...)`, `self.accept()`, `self.close()` and the consumer's own `async def`
    methods in an async consumer, every channel-layer method (`group_send`, `group_add`,
    `send`, ...) and module-level coroutine functions, called as a statement without `await`.

    ## Why is this bad?
    Calling a coroutine function only creates the coroutine; nothing runs until it is
    awaited. The message is never sent, the group never joined, the connection never
    accepted, and the only trace is `RuntimeWarning: coroutine '...' was never awaited`
    (Channels `consumer.py`/`layers.py`: all of these are `async def`).

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class ChatConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            self.channel_layer.group_add("chat", self.channel_name)
            self.accept()
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class ChatConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.channel_layer.group_add("chat", self.channel_name)
            await self.accept()
    ```

    ## Fix safety
    The fix adds `await` and is safe: it runs the coroutine the code already created. No fix
    is offered inside a sync `def` that an async consumer calls on the event loop (it cannot
    `await`; make it `async def` first), a lambda, an f-string or a generator expression.

    ## Known problems
    Only coroutines discarded as a statement are reported; a coroutine stored in a variable,
    passed on or returned is assumed to be awaited later.
    """

    code = "CHN105"
    markers = ("async def", "Async", "WebsocketDenier")
    name = "coroutine-not-awaited"
    fix_applicability = Applicability.SAFE

    valid = (
        """
import asyncio
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer

async def notify(layer):
    await layer.group_send("g", {"type": "x"})

class A(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        task = asyncio.create_task(self.channel_layer.group_send("g", {"type": "x"}))
        asyncio.ensure_future(notify(self.channel_layer))
        return self.close()

class S(WebsocketConsumer):
    def connect(self):
        self.accept()
        self.send(text_data="hi")
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

async def announce(text):
    layer = get_channel_layer()
    layer.group_send("news", {"type": "news.item", "text": text})  # error

class C(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.accept()  # error
        self.refresh()  # error
        announce("hello")  # error

    async def refresh(self):
        self.send_json({"ok": True})  # error
""",
            fixed="""
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

async def announce(text):
    layer = get_channel_layer()
    await layer.group_send("news", {"type": "news.item", "text": text})  # error

class C(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()  # error
        await self.refresh()  # error
        await announce("hello")  # error

    async def refresh(self):
        await self.send_json({"ok": True})  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        layer_calls = {layer_call.call for layer_call in a.layer_calls if layer_call.bridge is None}
        module_coroutines = {
            node.name for node in a.tree.body if isinstance(node, ast.AsyncFunctionDef) and not a.is_async_generator(node)
        }
        for statement in a.nodes(ast.Expr):
            call = statement.value
            if not isinstance(call, ast.Call) or not a.context(call).on_event_loop:
                continue
            if call in layer_calls:
                what = f"channel-layer method `{a.source(call.func)}`"
            elif isinstance(call.func, ast.Name) and call.func.id in module_coroutines and call.func.id not in a.imports:
                what = f"coroutine function `{call.func.id}`"
            elif self._is_consumer_coroutine(call):
                what = f"coroutine method `{a.source(call.func)}`"
            else:
                continue
            message = f"{what} returns a coroutine that is never awaited, so it never runs; use `await {a.source(call.func)}(...)`"
            if a.can_await_here(call):
                yield self.violation(call, message, (AddAwait(a.span(call)),), "Add `await`")
            else:
                yield self.violation(call, message + " in an `async def`")

    def _is_consumer_coroutine(self, call: ast.Call) -> bool:
        a = self.analysis
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"):
            return False
        cls = a.enclosing_class(call)
        if cls is None:
            return False
        method = a.class_methods(cls).get(func.attr)
        if method is not None:
            return isinstance(method, ast.AsyncFunctionDef) and not a.is_async_generator(method)
        consumer = a.consumers.get(cls)
        return consumer is not None and consumer.is_async and func.attr in ASYNC_CONSUMER_COROUTINES
