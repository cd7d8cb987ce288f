"""CHN107: channel-layer call in sync code without ``async_to_sync``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import Context
from channels_lint.analysis.facts import ASYNC_TO_SYNC
from channels_lint.diagnostics import Applicability, HoistCall, Violation
from channels_lint.rules.base import Invalid, Rule


class LayerCallWithoutAsyncToSync(Rule):
    """
    ## What it does
    Checks sync code (sync consumers, signal receivers, Celery tasks, views, management
    commands, functions run through `sync_to_async`) for channel-layer calls that are not
    wrapped in `async_to_sync`: `get_channel_layer().group_send(...)`,
    `self.channel_layer.group_add(...)`; and for `async_to_sync(f(args))`, which wraps the
    coroutine instead of the function.

    ## Why is this bad?
    Every channel-layer method is a coroutine function ("Channel layers have a purely async
    interface", docs/topics/channel_layers.rst). Called from sync code it returns a coroutine
    that nobody runs: the message is silently not sent, with only a `RuntimeWarning`.
    `async_to_sync(f(args))` fails too: `async_to_sync` needs the function, not a coroutine
    object.

    ## Example
    ```python
    from channels.layers import get_channel_layer


    def push_progress(percent):
        layer = get_channel_layer()
        layer.group_send("progress", {"type": "progress.update", "percent": percent})
    ```

    Use instead:
    ```python
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer


    def push_progress(percent):
        layer = get_channel_layer()
        async_to_sync(layer.group_send)("progress", {"type": "progress.update", "percent": percent})
    ```

    ## Fix safety
    The fix is safe: `async_to_sync(layer.group_send)(args)` runs the call the code already
    makes, and `async_to_sync(f(args))` becomes `async_to_sync(f)(args)`.

    ## Known problems
    Only calls used as statements are reported: a coroutine handed to
    `loop.run_until_complete(...)`, `asyncio.run(...)` or stored is assumed to be run.
    """

    code = "CHN107"
    name = "layer-call-without-async-to-sync"
    markers = ("channel_layer", "async_to_sync")
    fix_applicability = Applicability.SAFE

    valid = (
        """
import asyncio
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from channels.layers import get_channel_layer

def notify():
    layer = get_channel_layer()
    async_to_sync(layer.group_send)("g", {"type": "x"})
    loop = asyncio.new_event_loop()
    loop.run_until_complete(layer.group_send("g", {"type": "x"}))

class C(WebsocketConsumer):
    def connect(self):
        async_to_sync(self.channel_layer.group_add)("g", self.channel_name)
        self.accept()
""",
    )
    invalid = (
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from channels.layers import get_channel_layer

def push(done):
    layer = get_channel_layer()
    layer.group_send("import", {"type": "progress", "done": done})  # error
    async_to_sync(layer.group_send("import", {"type": "progress", "done": done}))  # error

class C(WebsocketConsumer):
    def connect(self):
        self.channel_layer.group_add("import", self.channel_name)  # error
        self.accept()
""",
            fixed="""
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from channels.layers import get_channel_layer

def push(done):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)("import", {"type": "progress", "done": done})  # error
    async_to_sync(layer.group_send)("import", {"type": "progress", "done": done})  # error

class C(WebsocketConsumer):
    def connect(self):
        async_to_sync(self.channel_layer.group_add)("import", self.channel_name)  # error
        self.accept()
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        source, parents = a.syntax.source, a.syntax.parents
        for layer_call in a.layer.calls:
            call = layer_call.call
            if layer_call.bridge is not None or not isinstance(parents.get(call), ast.Expr):
                continue
            if not a.context.of(call).is_sync:
                continue
            yield self.async_to_sync_violation(
                call,
                f"channel-layer method `{source(call.func)}` returns a coroutine that sync code never runs, "
                f"so nothing is sent; use `async_to_sync({source(call.func)})(...)`",
                "Wrap the method in `async_to_sync`",
            )
        for call in a.syntax.nodes(ast.Call):
            if (
                a.names.resolves_to(call.func, ASYNC_TO_SYNC)
                and len(call.args) == 1
                and isinstance(call.args[0], ast.Call)
                and not (isinstance(parents.get(call), ast.Call) and parents[call].func is call)
                and a.context.of(call) in (Context.MODULE, Context.SYNC, Context.THREAD)
            ):
                inner = call.args[0]
                yield self.violation(
                    call,
                    f"`{source(call)}` passes a coroutine to `async_to_sync`, which needs the coroutine function; "
                    f"use `async_to_sync({source(inner.func)})(...)`",
                    (HoistCall(a.syntax.span(call)),),
                    "Pass the function, then call the wrapper",
                )
