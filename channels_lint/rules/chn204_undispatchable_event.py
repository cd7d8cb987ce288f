"""CHN204: a channel-layer event that is not a dict with a str ``"type"`` Channels can dispatch."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import LAYER_MARKERS
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.payload import dispatchable, handler_name, quote

_NOUNS = {
    str: "a str",
    bytes: "bytes",
    int: "an int",
    float: "a float",
    bool: "a bool",
    list: "a list",
    tuple: "a tuple",
    set: "a set",
    type(None): "None",
}


class UndispatchableEvent(Rule):
    """
    ## What it does
    Checks events passed to `group_send`/`channel_layer.send` that Channels can never
    dispatch: a message that is not a dict (`json.dumps(...)`, a list), a dict without a
    `"type"` key, a `"type"` that is not a str, or a type whose handler name (after Channels
    maps `.` to `_`) starts with `_` or cannot be a method name (`"chat-message"`,
    `".update"`).

    ## Why is this bad?
    No channel layer looks at `"type"` when sending (channels/layers.py,
    channels_redis/core.py): the event travels, and every consumer that receives it fails in
    `dispatch` (`ValueError: Incoming message has no 'type' attribute`, `Malformed type in
    message (leading underscore)`, `No handler for message type ...`, channels/consumer.py
    `get_handler_name`). The exception ends each receiving consumer: its socket closes and
    `disconnect()` never runs. A message that is not a dict fails at `send` on the in-memory
    layer and at the receiver on Redis.

    ## Example
    ```python
    async def notify(self):
        await self.channel_layer.group_send("alerts", {"event": "alert.raised", "text": "disk full"})
    ```

    Use instead:
    ```python
    async def notify(self):
        await self.channel_layer.group_send("alerts", {"type": "alert.raised", "text": "disk full"})
    ```

    ## Fix safety
    No fix: which key or name was meant is the application's decision.

    ## Known problems
    Only dicts whose entries the analysis sees entirely are checked for a missing `"type"`.
    The builtin `type` written as a key (`{type: "chat.message"}`) is reported by CHN202.
    Applies to Channels 2.0+ (docs/semantics.md §2.3, §12.5).
    """

    code = "CHN204"
    name = "undispatchable-event"
    markers = LAYER_MARKERS

    valid = (
        """
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

EVENT = "chat.message"

def notify(extra, kind):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)("g", {"type": EVENT, "text": "hi"})
    async_to_sync(layer.group_send)("g", {**extra, "text": "hi"})
    async_to_sync(layer.group_send)("g", dict(extra, text="hi"))
    async_to_sync(layer.group_send)("g", {"type": f"chat.{kind}"})
    async_to_sync(layer.send)("worker", {"type": "thumbnail.make", "id": 3})
    event = {"text": "hi"}
    event["type"] = "chat.message"
    async_to_sync(layer.group_send)("g", event)
    async_to_sync(layer.group_send)("g", {type: "chat.message"})
""",
    )
    invalid = (
        Invalid(
            """
import json
from channels.generic.websocket import AsyncWebsocketConsumer

TICK = "_tick"


class Alerts(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send("alerts", {"event": "alert.raised", "text": text_data})  # error
        await self.channel_layer.group_send("alerts", json.dumps({"type": "alert.raised"}))  # error
        await self.channel_layer.group_send("alerts", {"type": "alert-raised"})  # error
        await self.channel_layer.group_send("alerts", {"type": TICK})  # error
        await self.channel_layer.send(self.channel_name, {"type": 3})  # error
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for layer_call in a.layer.calls:
            if layer_call.method not in ("send", "group_send"):
                continue
            argument = layer_call.argument(1, "message")
            if argument is None:
                continue
            kind = a.payloads.value_type(argument)
            if kind is not None and kind is not dict:
                yield self.violation(
                    argument,
                    f"the event `{quote(a, argument)}` is {_NOUNS.get(kind, 'not a dict')}, not a dict: the layer or every "
                    f'receiver fails on it; send a dict with a "type"',
                )
                continue
            shape = a.flow.dict_shape(argument)
            if shape is None or any(a.names.is_builtin(e.key, "type") for e in shape.entries):
                continue  # the builtin `type` as a key is CHN202's
            if not shape.values_of("type"):
                if shape.open or any(e.key is not None and not isinstance(e.key, ast.Constant) for e in shape.entries):
                    continue
                yield self.violation(
                    argument,
                    f'the event `{quote(a, argument)}` has no "type" key: every consumer receiving it fails with '
                    '"Incoming message has no \'type\' attribute" and disconnects; add a "type" naming its handler',
                )
                continue
            if shape.open:
                continue
            for written in shape.values_of("type"):
                for value in a.flow.values(written) or ():
                    if isinstance(value, ast.Constant):
                        yield from self._type(written, value)

    def _type(self, written: ast.expr, value: ast.Constant) -> Iterator[Violation]:
        source = self.analysis.syntax.source
        if not isinstance(value.value, str):
            noun = _NOUNS.get(type(value.value), "not a str")
            yield self.violation(
                written,
                f'the event "type" `{source(written)}` is {noun}, not a str: every consumer receiving it '
                "fails in `dispatch` and disconnects; use a str naming a handler",
            )
        elif not dispatchable(value.value):
            name = handler_name(value.value)
            why = "Channels refuses (a leading underscore)" if name.startswith("_") else "is not a method name"
            yield self.violation(
                written,
                f'the event type "{value.value}" maps to the handler name `{name}`, which {why}: every '
                "consumer receiving it fails in `dispatch` and disconnects; use letters, digits, `_` and `.`",
            )
