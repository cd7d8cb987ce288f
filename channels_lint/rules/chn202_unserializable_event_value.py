"""CHN202: a value the channel layer cannot serialize in a channel-layer event."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import Event, PayloadKind, UnsafeValue
from channels_lint.analysis.facts import LAYER_MARKERS, MSGPACK_REJECTS
from channels_lint.diagnostics import Applicability, Violation, WrapIn
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.payload import (
    INSTEAD,
    RUNTIME_NOTE,
    SAFE_SERIALIZE,
    conversion,
    keeps_meaning,
    project_handlers,
    subject,
)

#: Why msgpack fails on each kind of key (docs/semantics.md §5.2, §5.3).
_KEY_CONSEQUENCES = {
    PayloadKind.NON_STR_KEY: "the Redis layer sends it, then every receiver fails to unpack it (msgpack `strict_map_key`)",
    PayloadKind.TUPLE_KEY: "the Redis layer sends it, then every receiver fails to unpack it (msgpack `strict_map_key`)",
    PayloadKind.BYTES_KEY: "the channel layer spec allows only str keys and the layer's JSON serializer rejects it",
    PayloadKind.TYPE_KEY: 'msgpack cannot serialize it and no receiver finds a "type"',
}


class UnserializableEventValue(Rule):
    """
    ## What it does
    Checks channel-layer events (`group_send(group, event)`, `channel_layer.send(channel,
    event)`) for values that the Redis channel layer cannot serialize: datetimes, dates,
    times and timedeltas (`timezone.now()`, `datetime.now()`, model fields the models index
    knows as `DateTimeField`...), UUIDs (`uuid4()`, a `UUIDField`), Decimals, sets, members
    of a plain `Enum`, lazy translation strings (`gettext_lazy`), ints past 64 bits written
    as literals, model instances and querysets; and dict keys that are not strings (ints,
    `None`, bools, tuples, bytes, the builtin `type` written for `"type"`). Values are
    followed through local variables, dict building (`d["k"] = v`, `update`, `**`), helper
    return values and `self.<attr>`.

    ## Why is this bad?
    `InMemoryChannelLayer` deep-copies events, so tests pass. `channels_redis` packs events
    with `msgpack.packb` (channels_redis 4.3.0 `serializers.py`), which raises
    `TypeError: can not serialize 'datetime.datetime' object` as soon as the group has a
    member (`OverflowError` for an int past 64 bits); the JSON serializer fails the same way.
    Non-str keys are sent fine and then crash every receiver (`ValueError: int is not allowed
    for map key when strict_map_key=True`).

    ## Example
    ```python
    from django.utils import timezone


    async def announce(self):
        await self.channel_layer.group_send(
            "presence", {"type": "presence.joined", "since": timezone.now()}
        )
    ```

    Use instead:
    ```python
    from django.utils import timezone


    async def announce(self):
        await self.channel_layer.group_send(
            "presence", {"type": "presence.joined", "since": timezone.now().isoformat()}
        )
    ```

    ## Fix safety
    Values of known kind are converted in place, with no import: `timezone.now()` ->
    `timezone.now().isoformat()`, `uuid4()` -> `str(uuid4())`, `Decimal(x)` ->
    `str(Decimal(x))`, a set -> `sorted(...)`, a lazy string -> `str(...)`, a model instance
    -> `instance.pk`, the key `1` -> `"1"`, the builtin `type` -> `"type"`. A conversion is
    safe only where every handler of the event's type in the project (read through the
    project index, in any module) only hands the value on to a plain JSON encoder
    (`send_json`, `json.dumps`), which rejects the original value anyway, and a value
    reached through a local name is used nowhere else; otherwise (a handler that calls
    `event["at"].date()`, a project the index cannot read entirely, a model field that may
    be `None`, a model instance, an Enum member) it is unsafe. Writing `"type"` for the builtin `type` is
    safe: the event could never be delivered. Other values (timedeltas, big ints, tuple and
    `None` keys) are fixed by passing the whole event through
    `channels_lint.runtime.safe_serialize`, which is unsafe: it adds a production import of
    `channels_lint.runtime`, and receivers get strings. QuerySets get no fix (the runtime
    would send a marker instead of the rows).

    ## Known problems
    Values computed in other modules are not traced; an event built from a dict the analysis
    cannot see entirely is checked only in the parts it sees. Applies to Channels 2.0+; int,
    float, bool and `None` keys only from Channels 3.0 on, assumed to run with channels_redis
    3+ (msgpack 1.0 made `strict_map_key` the default; channels_redis 2.x's msgpack 0.6
    unpacks them).
    """

    code = "CHN202"
    markers = LAYER_MARKERS
    name = "unserializable-event-value"
    fix_applicability = Applicability.UNSAFE
    example_models = """
from django.db import models


class Order(models.Model):
    ref = models.UUIDField()
    paid_at = models.DateTimeField(null=True)
"""

    valid = (
        """
import uuid
from enum import Enum, IntEnum
from django.utils import timezone
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

class Level(IntEnum):
    LOW = 1

def notify(total):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        "reports",
        {"type": "report.ready", "at": timezone.now().isoformat(), "ref": str(uuid.uuid4()), "items": [1, 2]},
    )
    async_to_sync(layer.group_send)("reports", {"type": "report.level", "level": Level.LOW, "big": 2**63, "raw": b"ok"})
""",
        """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Order

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        order = await Order.objects.aget(pk=1)
        stamp = order.paid_at.isoformat() if order.paid_at else None
        counts = {str(k): v for k, v in self.counts.items()}
        await self.channel_layer.group_send("orders", {"type": "order.view", "paid": stamp, "ref": str(order.ref), "counts": counts})
""",
    )
    invalid = (
        Invalid(
            """
import uuid
from decimal import Decimal

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone


class Shop(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send(
            "shop",
            {"type": "order.paid", "at": timezone.now(), "ref": uuid.uuid4(), "total": Decimal("9.99")},  # error
        )
        event = {"type": "stock.changed", "tags": {"new", "sale"}}  # error
        event["counts"] = {1: 10}  # error
        await self.channel_layer.group_send("shop", event)

    async def order_paid(self, event):
        await self.send_json({"at": event["at"], "ref": event["ref"], "total": event["total"]})

    async def stock_changed(self, event):
        await self.send_json(event)
""",
            fixed="""
import uuid
from decimal import Decimal

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone


class Shop(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send(
            "shop",
            {"type": "order.paid", "at": timezone.now().isoformat(), "ref": str(uuid.uuid4()), "total": str(Decimal("9.99"))},  # error
        )
        event = {"type": "stock.changed", "tags": sorted({"new", "sale"})}  # error
        event["counts"] = {"1": 10}  # error
        await self.channel_layer.group_send("shop", event)

    async def order_paid(self, event):
        await self.send_json({"at": event["at"], "ref": event["ref"], "total": event["total"]})

    async def stock_changed(self, event):
        await self.send_json(event)
""",
        ),
        Invalid(
            """
import json
from datetime import timedelta

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from .models import Order


class Feed(AsyncWebsocketConsumer):
    async def connect(self):
        order = await Order.objects.aget(pk=1)
        await self.channel_layer.group_send("feed", {"type": "feed.item", "at": timezone.now(), "order": order})  # error
        await self.channel_layer.group_send("feed", {"type": "feed.item", "at": order.paid_at, "span": timedelta(days=1)})  # error
        await self.channel_layer.send("x", {type: "feed.item", "n": 2**64})  # error

    async def feed_item(self, event):
        when = event["at"].date().isoformat()
        await self.send(text_data=json.dumps({"when": when}))
""",
            fixed="""
import json
from datetime import timedelta

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from .models import Order
from channels_lint.runtime import safe_serialize


class Feed(AsyncWebsocketConsumer):
    async def connect(self):
        order = await Order.objects.aget(pk=1)
        await self.channel_layer.group_send("feed", {"type": "feed.item", "at": timezone.now().isoformat(), "order": order.pk})  # error
        await self.channel_layer.group_send("feed", safe_serialize({"type": "feed.item", "at": order.paid_at.isoformat(), "span": timedelta(days=1)}))  # error
        await self.channel_layer.send("x", safe_serialize({"type": "feed.item", "n": 2**64}))  # error

    async def feed_item(self, event):
        when = event["at"].date().isoformat()
        await self.send(text_data=json.dumps({"when": when}))
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for event in a.layer.events:
            if event.shape is None:
                continue
            for unsafe in a.payloads.in_shape(event.shape):
                if unsafe.kind not in MSGPACK_REJECTS:
                    continue
                if unsafe.kind is PayloadKind.NON_STR_KEY and a.settings.channels_version < (3, 0):
                    continue  # channels_redis 2.x's msgpack 0.6 unpacks int keys (docs/semantics.md §12.4)
                yield self._violation(event, unsafe)

    def _violation(self, event: Event, unsafe: UnsafeValue) -> Violation:
        a = self.analysis
        consequence = _KEY_CONSEQUENCES.get(unsafe.kind)
        if consequence is None and unsafe.is_key:
            consequence = "msgpack cannot serialize it"
        converted = conversion(a, unsafe)
        if converted is not None:
            edits, title = converted
            safe = unsafe.kind is PayloadKind.TYPE_KEY or (keeps_meaning(unsafe) and self._receivers_pass_on(event, unsafe))
            message = self._message(unsafe, consequence, title[0].lower() + title[1:])
            return self.violation(
                unsafe.node, message, edits, title, applicability=Applicability.SAFE if safe else Applicability.UNSAFE
            )
        instead = "send " + INSTEAD[unsafe.kind]
        if unsafe.kind is PayloadKind.QUERYSET:
            return self.violation(unsafe.node, self._message(unsafe, consequence, instead))
        message = self._message(unsafe, consequence, f"{instead} or pass the event through `safe_serialize()` ({RUNTIME_NOTE})")
        return self.violation(
            unsafe.node,
            message,
            (WrapIn(a.syntax.span(event.argument), "safe_serialize"),),
            "Pass the event through `safe_serialize()`",
            (SAFE_SERIALIZE,),
        )

    def _message(self, unsafe: UnsafeValue, consequence: str | None, way_out: str) -> str:
        what = subject(self.analysis, unsafe)
        if consequence is not None:
            return f"{what}: {consequence}; {way_out}"
        if unsafe.kind is PayloadKind.BIG_INT:
            return f"{what}, which msgpack cannot pack (`OverflowError`) in the Redis channel layer; {way_out}"
        return f"{what}, which the Redis channel layer (msgpack) cannot serialize; {way_out}"

    def _receivers_pass_on(self, event: Event, unsafe: UnsafeValue) -> bool:
        """Every handler of the event's type in the project (whose code the index can read)
        only hands the value's top-level entry on to a plain JSON encoder (a renamed
        top-level key: only the whole event)."""
        handlers = project_handlers(self.analysis, event.type)
        if handlers is None or event.shape is None or event.shape.open:
            return False
        for entry in event.shape.entries:
            if not isinstance(entry.key, ast.Constant):
                continue
            if entry.key is unsafe.node:
                return all(where.payloads.passes_on(h, entry.key.value, renamed=True) for where, h in handlers)
            written = unsafe.via[0] if unsafe.via else unsafe.node
            if any(node is written for node in ast.walk(entry.value)):
                # reached through a local name: converting it must change nothing else
                if not all(self.analysis.payloads.used_once(name) for name in unsafe.via):
                    return False
                return all(where.payloads.passes_on(h, entry.key.value) for where, h in handlers)
        return False
