"""CHN205: an event type that no consumer of the project handles."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

from channels_lint.analysis.facts import CHANNELS_BASE_HANDLERS, LAYER_MARKERS
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.payload import dispatchable, handler_exists, handler_name


class EventWithoutHandler(Rule):
    """
    ## What it does
    Checks the `"type"` of events passed to `group_send`/`channel_layer.send`: after
    Channels maps `.` to `_` (`"chat.message"` -> `chat_message`), some consumer class of the
    project must define a method of that name (here, in another module, or in a project
    base class or mixin). A module-level function of that name does not count.

    ## Why is this bad?
    The layer delivers the event; each consumer that receives it looks the handler up with
    `getattr` in `dispatch` and raises `ValueError: No handler for message type
    station.status` (channels/consumer.py). The exception ends that consumer: every member
    of the group loses its socket, and `disconnect()` never runs. A typo in the type, or a
    handler renamed on one side only, is enough.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class StationConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.accept()
            await self.channel_layer.group_send("monitor", {"type": "station.status", "state": "up"})

        async def station_update(self, event):
            await self.send(text_data=event["state"])
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class StationConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.accept()
            await self.channel_layer.group_send("monitor", {"type": "station.update", "state": "up"})

        async def station_update(self, event):
            await self.send(text_data=event["state"])
    ```

    ## Fix safety
    No fix: whether the type or the handler's name is wrong is the application's decision.

    ## Known problems
    Silent when the type is computed, when the event dict may get entries the analysis
    cannot see, when the project index is incomplete, and when the project has consumers
    whose methods the index cannot read (a base class from a library, a mixin in a module it
    does not parse, a `dispatch` that does not call `super().dispatch`, a `__getattr__`).
    Events meant for consumers of another code base sharing the channel layer are reported.
    Applies to Channels 2.0+ (docs/semantics.md §2.3, §12.5).
    """

    code = "CHN205"
    name = "event-without-handler"
    markers = LAYER_MARKERS
    example_models = "# the examples' project: the consumers of the example itself"

    valid = (
        """
from channels.generic.websocket import AsyncWebsocketConsumer

KIND = "room.closed"

class Room(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_send("r", {"type": "room.joined"})
        await self.channel_layer.group_send("r", {"type": KIND})
        await self.channel_layer.group_send("r", {"type": f"room.{self.kind}"})
        await self.channel_layer.group_send("r", {"type": "websocket.disconnect", "code": 1000})
        await self.channel_layer.group_send("r", {**self.extra, "type": "room.typo"})

    async def room_joined(self, event):
        pass

    async def room_closed(self, event):
        pass
""",
        """
from channels.generic.websocket import AsyncWebsocketConsumer
from library.consumers import NotificationConsumer

class Mine(NotificationConsumer):
    async def connect(self):
        await self.channel_layer.group_send("n", {"type": "notification.sent"})
""",
    )
    invalid = (
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer

MONITOR_GROUP = "monitor"


def station_status(event):
    pass


class StationConsumer(WebsocketConsumer):
    groups = [MONITOR_GROUP]

    def connect(self):
        self.accept()
        async_to_sync(self.channel_layer.group_send)(
            MONITOR_GROUP,
            {"type": "station.status", "channel": self.channel_name, "state": "up"},  # error
        )

    def station_update(self, event):
        self.send(text_data=event["state"])
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for event in a.layer.events:
            if event.shape is None or event.shape.open:
                continue
            for written in event.shape.values_of("type"):
                values = a.flow.values(written)
                if not values:
                    continue
                for value in values:
                    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)) or not dispatchable(value.value):
                        continue  # computed (silent) or never dispatchable (CHN204)
                    name = handler_name(value.value)
                    if handler_exists(a, name) is False:
                        yield self.violation(written, self._message(value.value, name))

    def _message(self, event_type: str, name: str) -> str:
        a = self.analysis
        known = set(a.project.consumer_handlers.defined_in) if a.project.root is not None else set()
        for consumer in a.consumers.by_class.values():
            known |= set(a.names.class_methods(consumer.node)) | consumer.inherited
        known -= CHANNELS_BASE_HANDLERS | {"__init__"}
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f" (a consumer defines `{close[0]}()`)" if close else ""
        return (
            f'no consumer of the project defines `{name}()` for the event type "{event_type}", so every consumer '
            f'receiving it fails with "No handler for message type" and disconnects{hint}; add the handler or '
            "correct the type"
        )
