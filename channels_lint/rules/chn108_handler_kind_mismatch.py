"""CHN108: a handler whose sync/async kind does not match its consumer."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.diagnostics import Applicability, MakeAsync, Violation
from channels_lint.rules.base import Invalid, Rule


class HandlerKindMismatch(Rule):
    """
    ## What it does
    Checks async consumers for sync `def` overrides of the coroutine methods Channels awaits
    (`connect`, `receive`, `disconnect`, `receive_json`, `websocket_*`, `http_*`, `handle`,
    the event handlers named by `"type"` values sent in the module, and `encode_json` /
    `decode_json` in `AsyncJsonWebsocketConsumer`), and sync consumers for `async def`
    overrides of the methods Channels calls synchronously.

    ## Why is this bad?
    An async consumer awaits its handlers (`await self.connect()`, `await handler(message)` in
    consumer.py `dispatch`): a sync override runs on the event loop, so it can neither await
    `self.accept()` nor call `async_to_sync`, and `encode_json` returning a `str` fails with
    `TypeError: object str can't be used in 'await' expression`. A sync consumer calls its
    handlers in a worker thread without awaiting: an `async def` handler only creates a
    coroutine that never runs.

    ## Example
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class NewsConsumer(AsyncJsonWebsocketConsumer):
        def connect(self):
            self.accept()
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class NewsConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self):
            await self.accept()
    ```

    ## Fix safety
    The fix makes the handler `async def` and is unsafe: code that calls the method directly
    and expects a plain return value changes meaning. Once it is async, the next fix pass adds
    the `await`s (CHN105) and replaces `async_to_sync` (CHN106) in its body. No fix for an
    `async def` in a sync consumer: its body awaits, so it cannot simply become sync.
    """

    code = "CHN108"
    name = "handler-kind-mismatch"
    markers = ("Consumer", "WebsocketDenier")
    fix_applicability = Applicability.UNSAFE

    valid = (
        """
from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer

class A(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()

    def helper(self):
        return 1

    @classmethod
    async def encode_json(cls, content):
        return "{}"

    def disconnect(self, code):
        return self.channel_layer.group_discard("g", self.channel_name)

    def handle(self, body):
        return body

    def error(self, message):
        return {"type": "error", "message": message}

class S(WebsocketConsumer):
    def connect(self):
        self.accept()

    async def fetch(self):
        return 1
""",
    )
    invalid = (
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer

class A(AsyncJsonWebsocketConsumer):
    def connect(self):  # error
        async_to_sync(self.channel_layer.group_add)("news", self.channel_name)
        self.accept()

    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send("news", {"type": "news.item", "text": "x"})

    def news_item(self, event):  # error
        pass

    @classmethod
    def encode_json(cls, content):  # error
        return "{}"

class S(WebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):  # error
        pass
""",
            fixed="""
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer

class A(AsyncJsonWebsocketConsumer):
    async def connect(self):  # error
        async_to_sync(self.channel_layer.group_add)("news", self.channel_name)
        self.accept()

    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send("news", {"type": "news.item", "text": "x"})

    async def news_item(self, event):  # error
        pass

    @classmethod
    async def encode_json(cls, content):  # error
        return "{}"

class S(WebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):  # error
        pass
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for consumer in a.consumers.by_class.values():
            handlers = consumer.channels_methods | a.event_handler_names
            for method in consumer.node.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name not in handlers:
                    continue
                if (
                    consumer.is_async
                    and isinstance(method, ast.FunctionDef)
                    and not self.analysis.coroutines.returns_awaitable(method)
                ):
                    yield self.violation(
                        method,
                        f"`{method.name}` is awaited by the async consumer `{consumer.node.name}` but is a sync "
                        "`def`, so it runs on the event loop and cannot await; make it `async def`",
                        (MakeAsync(a.syntax.span(method)),),
                        "Make the handler `async def`",
                    )
                elif not consumer.is_async and isinstance(method, ast.AsyncFunctionDef):
                    yield self.violation(
                        method,
                        f"`{method.name}` is called without `await` by the sync consumer `{consumer.node.name}` "
                        "but is `async def`, so its body never runs; make it a plain `def`",
                    )
