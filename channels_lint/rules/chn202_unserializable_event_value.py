"""CHN202: a value the channel layer cannot serialize in a channel-layer event."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import Event, PayloadKind, UnsafeValue
from channels_lint.analysis.facts import LAYER_MARKERS
from channels_lint.diagnostics import Applicability, Violation, WrapIn
from channels_lint.rules.base import Invalid, Rule

SAFE_SERIALIZE = ("channels_lint.runtime", "safe_serialize")

#: What each kind of value is called, and what to send instead.
_WORDS: dict[PayloadKind, tuple[str, str]] = {
    PayloadKind.DATETIME: ("a datetime", "`.isoformat()`"),
    PayloadKind.DATE: ("a date", "`.isoformat()`"),
    PayloadKind.TIME: ("a time", "`.isoformat()`"),
    PayloadKind.TIMEDELTA: ("a timedelta", "`.total_seconds()`"),
    PayloadKind.UUID: ("a UUID", "`str(...)`"),
    PayloadKind.DECIMAL: ("a Decimal", "`str(...)`"),
    PayloadKind.SET: ("a set", "`sorted(...)`"),
    PayloadKind.FROZENSET: ("a frozenset", "`sorted(...)`"),
    PayloadKind.MODEL_INSTANCE: ("a model instance", "its `.pk` (or the fields the receiver needs)"),
    PayloadKind.QUERYSET: ("a QuerySet", "a list of values evaluated in a thread"),
    PayloadKind.NON_STR_KEY: ("not a str", "`str` keys"),
}


class UnserializableEventValue(Rule):
    """
    ## What it does
    Checks channel-layer events (`group_send(group, event)`, `channel_layer.send(channel,
    event)`) for values that the Redis channel layer cannot serialize: datetimes, dates,
    times and timedeltas (`timezone.now()`, `datetime.now()`), UUIDs (`uuid4()`), Decimals,
    sets, model instances and querysets, and dict keys that are not strings.

    ## Why is this bad?
    `InMemoryChannelLayer` deep-copies events, so tests pass. `channels_redis` packs events
    with `msgpack.packb` (channels_redis 4.3.0 `serializers.py`), which raises
    `TypeError: can not serialize 'datetime.datetime' object` as soon as the group has a
    member; the JSON serializer fails the same way. Non-str keys are sent fine and then crash
    every receiver (`ValueError: int is not allowed for map key when strict_map_key=True`).

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
    The fix passes the event through `channels_lint.runtime.safe_serialize`, which turns every
    value into msgpack- and JSON-safe primitives (ISO 8601 strings for datetimes, `str` for
    UUIDs and Decimals, lists for sets, `{"pk": ...}` for model instances). It is marked safe
    because the original event cannot be delivered through Redis at all, but receivers now get
    strings: a handler that called datetime methods on the value must parse it first.

    ## Known problems
    Only values built in the event literal itself (or a dict literal assigned to a local name)
    are checked; values computed elsewhere are not traced.
    """

    code = "CHN202"
    markers = LAYER_MARKERS
    name = "unserializable-event-value"
    fix_applicability = Applicability.SAFE

    valid = (
        """
import uuid
from django.utils import timezone
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

def notify(total):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        "reports",
        {"type": "report.ready", "at": timezone.now().isoformat(), "ref": str(uuid.uuid4()), "items": [1, 2]},
    )
""",
    )
    invalid = (
        Invalid(
            """
import uuid
from datetime import datetime
from decimal import Decimal
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Order

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        order = await Order.objects.aget(pk=1)
        event = {"type": "order.paid", "at": datetime.now(), "ref": uuid.uuid4()}  # error
        await self.channel_layer.group_send("orders", event)
        await self.channel_layer.group_send(
            "orders",
            {"type": "order.view", "order": order, "total": Decimal("1.5"), "tags": {"a"}},  # error
        )
        await self.channel_layer.send("x", {"type": "t", 1: "one"})  # error
        await self.channel_layer.send("y", dict(type="t", when=datetime.now()))  # error
""",
            fixed="""
import uuid
from datetime import datetime
from decimal import Decimal
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Order
from channels_lint.runtime import safe_serialize

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        order = await Order.objects.aget(pk=1)
        event = {"type": "order.paid", "at": datetime.now(), "ref": uuid.uuid4()}  # error
        await self.channel_layer.group_send("orders", safe_serialize(event))
        await self.channel_layer.group_send(
            "orders",
            safe_serialize({"type": "order.view", "order": order, "total": Decimal("1.5"), "tags": {"a"}}),  # error
        )
        await self.channel_layer.send("x", safe_serialize({"type": "t", 1: "one"}))  # error
        await self.channel_layer.send("y", safe_serialize(dict(type="t", when=datetime.now())))  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for event in a.layer.events:
            if event.shape is None:
                continue
            for unsafe in a.payloads.in_shape(event.shape):
                yield self._violation(event, unsafe)

    def _violation(self, event: Event, unsafe: UnsafeValue) -> Violation:
        source = self.analysis.syntax.source
        what, instead = _WORDS[unsafe.kind]
        if unsafe.kind is PayloadKind.NON_STR_KEY:
            subject = f"the key `{source(unsafe.node)}` is not a str"
        else:
            subject = f"`{source(unsafe.node)}` is {what}"
        message = (
            f"{subject}, which the Redis channel layer (msgpack) cannot serialize; "
            f"send {instead} or pass the event through `safe_serialize()`"
        )
        return self.violation(
            unsafe.node,
            message,
            (WrapIn(self.analysis.syntax.span(event.argument), "safe_serialize"),),
            "Pass the event through `safe_serialize()`",
            (SAFE_SERIALIZE,),
        )
