"""CHN306: the client's decoded message forwarded unvalidated through the channel layer."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.client import CheckKind, ClientSource, ClientValue
from channels_lint.analysis.facts import LAYER_MARKERS
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule

#: Checks that bound what a message may hold (the runtime checks ints, depth and keys).
VALIDATED = frozenset({CheckKind.SCHEMA, CheckKind.RUNTIME, CheckKind.PROJECT})


class UnvalidatedClientDataForwarded(Rule):
    """
    ## What it does
    Checks channel-layer events (`group_send`, `channel_layer.send`) that carry the client's
    whole decoded message unvalidated: `{"type": "chat.message", "payload": content}`,
    `{"type": ..., **data}`, or the message itself as the event (`group_send(group, content)`),
    where `content`/`data` is `receive_json`'s content or what `json.loads` made of a frame,
    and no schema (a serializer, pydantic, the runtime's `extract_message_data`, a project
    `validate*` function) checked it first.

    ## Why is this bad?
    JSON allows what the channel layer does not: integers outside 64 bits make msgpack raise
    `OverflowError` in `group_send` (channels_redis; docs/semantics.md §5.2, §5.3, §11.5), so the
    sender's consumer dies and the broadcast is lost, while the in-memory layer used in tests
    lets them through. Deep nesting and fields the receivers never expected reach every member
    of the group; as the event itself, the client also picks its `"type"`, which is the handler
    every member runs (§2.3).

    ## Example
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class RelayConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content, **kwargs):
            await self.channel_layer.group_send(
                "relay", {"type": "relay.message", "payload": content}
            )
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from channels_lint.runtime import extract_message_data


    class RelayConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content, **kwargs):
            payload = extract_message_data(content, required=(("text", str),))
            if payload is None:
                return
            await self.channel_layer.group_send(
                "relay", {"type": "relay.message", "text": payload["text"]}
            )
    ```

    ## Fix safety
    No fix: which fields to forward, and their types, is the application's decision.

    ## Known problems
    Only the whole message is reported; a single field forwarded as it came
    (`{"message": data["message"]}`) can hold a huge integer too, but it is not reported.
    """

    code = "CHN306"
    markers = LAYER_MARKERS
    name = "unvalidated-client-data-forwarded"

    valid = (
        """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework import serializers
from channels_lint.runtime import extract_message_data

class ChatSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)

class Relay(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        text = content.get("text")
        await self.channel_layer.group_send("relay", {"type": "relay.message", "text": text})

class Checked(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        serializer = ChatSerializer(data=content)
        serializer.is_valid(raise_exception=True)
        await self.channel_layer.group_send("relay", {"type": "relay.message", "payload": content})

class Runtime(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        data = extract_message_data(content, required=("text",))
        if data is not None:
            await self.channel_layer.group_send("relay", {"type": "relay.message", **data})
""",
    )

    invalid = (
        Invalid(
            """
import json
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer

class Relay(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send("relay", {"type": "relay.message", "payload": content})  # error
        await self.channel_layer.group_send("relay", content)  # error

class Spread(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
        except ValueError:
            return
        event = {"type": "chat.message", **data}  # error
        async_to_sync(self.channel_layer.group_send)("chat", event)
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for event in a.layer.events:
            call = event.call
            whole = self._message(event.argument, call)
            if whole is not None:
                yield self.violation(
                    event.argument,
                    f"`{a.syntax.source(event.argument)}` is the client's decoded message sent as the event: the "
                    "client picks the `type` (the handler every member runs) and every value, and an integer "
                    "outside 64 bits makes the Redis layer raise; build the event from validated fields",
                )
                continue
            if event.shape is None:
                continue
            for entry in event.shape.entries:
                message = self._message(entry.value, call)
                if message is None:
                    continue
                yield self.violation(
                    entry.value,
                    f"`{a.syntax.source(entry.value)}` forwards the client's decoded message unvalidated: an integer "
                    "outside 64 bits makes the Redis layer raise and the broadcast is lost, and any field reaches "
                    "every receiver; validate it first or forward only checked fields",
                )

    def _message(self, node: ast.expr, call: ast.Call) -> ClientValue | None:
        """The client's whole decoded message, when ``node`` holds it unvalidated."""
        client = self.analysis.client
        value = client.value(node)
        if value is None or value.source is not ClientSource.JSON or value.path or value.derived:
            return None
        if any(check.kind in VALIDATED for check in client.checks_before(value, call)):
            return None
        return value
