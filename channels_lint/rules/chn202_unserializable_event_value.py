"""CHN202: a value the channel layer cannot serialize in a channel-layer event."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import LayerCall, Orm
from channels_lint.diagnostics import Applicability, Violation, WrapIn
from channels_lint.rules.base import Invalid, Rule

SAFE_SERIALIZE = ("channels_lint.runtime", "safe_serialize")

#: Calls that return values msgpack and json.dumps reject (channels-semantics.md §5.3, §6.1).
UNSERIALIZABLE_CALLS: dict[str, str] = {
    **{
        f"datetime.datetime.{name}": "a datetime"
        for name in ("now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp", "fromisoformat", "combine", "strptime")
    },
    "datetime.datetime": "a datetime",
    "datetime.date": "a date",
    "datetime.date.today": "a date",
    "datetime.date.fromtimestamp": "a date",
    "datetime.date.fromisoformat": "a date",
    "datetime.time": "a time",
    "datetime.timedelta": "a timedelta",
    "django.utils.timezone.now": "a datetime",
    "django.utils.timezone.localtime": "a datetime",
    "django.utils.timezone.localdate": "a date",
    "django.utils.timezone.make_aware": "a datetime",
    "django.utils.timezone.make_naive": "a datetime",
    "uuid.UUID": "a UUID",
    "uuid.uuid1": "a UUID",
    "uuid.uuid3": "a UUID",
    "uuid.uuid4": "a UUID",
    "uuid.uuid5": "a UUID",
    "decimal.Decimal": "a Decimal",
    "set": "a set",
    "frozenset": "a frozenset",
}


#: What to send instead, by the kind of value (first match wins).
_INSTEAD = (
    ("timedelta", "`.total_seconds()`"),
    ("date", "`.isoformat()`"),
    ("time", "`.isoformat()`"),
    ("UUID", "`str(...)`"),
    ("Decimal", "`str(...)`"),
    ("set", "`sorted(...)`"),
    ("key", "`str` keys"),
    ("model instance", "its `.pk` (or the fields the receiver needs)"),
    ("QuerySet", "a list of values evaluated in a thread"),
)


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
    markers = ("channel_layer",)
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
        for layer_call in self.analysis.layer_calls:
            display = self.analysis.event_display(layer_call)
            if display is None:
                continue
            event = layer_call.argument(1, "message")
            for value, why in self._unserializable(display):
                yield self._violation(layer_call, event, value, why)

    def _unserializable(self, node: ast.expr) -> Iterator[tuple[ast.expr, str]]:
        a = self.analysis
        if isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and not isinstance(key.value, (str, bytes)):
                    yield key, f"the key `{a.source(key)}` is not a str"
                elif isinstance(key, ast.Tuple):
                    yield key, f"the key `{a.source(key)}` is not a str"
            for value in node.values:
                yield from self._unserializable(value)
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for element in node.elts:
                yield from self._unserializable(element)
            return
        if self.analysis.is_dict_call(node):
            for argument in (*node.args, *(k.value for k in node.keywords)):
                yield from self._unserializable(argument)
            return
        if isinstance(node, (ast.Set, ast.SetComp)):
            yield node, "a set"
            return
        if isinstance(node, ast.Call):
            name = a.call_name(node)
            if name in UNSERIALIZABLE_CALLS and not (name in ("set", "frozenset") and name in a.imports):
                yield node, UNSERIALIZABLE_CALLS[name]
                return
        evidence = a.orm(node)
        if evidence is Orm.INSTANCE:
            yield node, "a model instance"
        elif evidence in (Orm.QUERYSET, Orm.MANAGER):
            yield node, "a QuerySet"

    def _violation(self, layer_call: LayerCall, event: ast.expr, value: ast.expr, why: str) -> Violation:
        a = self.analysis
        subject = why if why.startswith("the key") else f"`{a.source(value)}` is {why}"
        instead = next((text for kind, text in _INSTEAD if kind in why), "primitives")
        message = (
            f"{subject}, which the Redis channel layer (msgpack) cannot serialize; "
            f"send {instead} or pass the event through `safe_serialize()`"
        )
        return self.violation(
            value,
            message,
            (WrapIn(a.span(event), "safe_serialize"),),
            "Pass the event through `safe_serialize()`",
            (SAFE_SERIALIZE,),
        )
