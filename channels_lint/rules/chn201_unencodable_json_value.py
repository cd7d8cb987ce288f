"""CHN201: a value the JSON encoder cannot encode, sent to the client from consumer code."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import PayloadKind, UnsafeValue
from channels_lint.analysis.facts import DJANGO_JSON_ENCODER_ACCEPTS, JSON_REJECTS
from channels_lint.analysis.payload import JsonSink, SinkKind
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.payload import INSTEAD, conversion, keeps_meaning, subject

#: The encoder each sink uses, as the message names it (docs/semantics.md §2.4, §6.1, §6.2).
_ENCODERS = {
    SinkKind.SEND_JSON: "`send_json` (plain `json.dumps` in `encode_json`)",
    SinkKind.JSON_DUMPS: "`json.dumps`",
    SinkKind.JSON_RESPONSE: "`JsonResponse` (DjangoJSONEncoder)",
}
#: The other way out, besides converting the value.
_OR = {
    SinkKind.SEND_JSON: "or override `encode_json` with an encoder that handles it",
    SinkKind.JSON_DUMPS: "or pass `cls=DjangoJSONEncoder`",
    SinkKind.JSON_RESPONSE: "or pass an `encoder=` that handles it",
}


class UnencodableJsonValue(Rule):
    """
    ## What it does
    Checks values that consumer code hands to a JSON encoder: `self.send_json(...)` of a
    JSON consumer, `json.dumps(...)` (also as `send(text_data=json.dumps(...))`) and
    `JsonResponse(...)`, for values the encoder rejects: datetimes, dates, times,
    timedeltas, UUIDs, Decimals, sets, bytes, members of a plain `Enum`, lazy translation
    strings, model instances, querysets, and tuple/bytes keys. Values are followed through
    local variables, dict building, helper return values, `self.<attr>` and model fields the
    models index knows (`ticket.opened_at` is a datetime when the model declares a
    `DateTimeField`). Silent when the consumer or a project base class overrides
    `encode_json`, when `cls=`/`default=` (`encoder=` for `JsonResponse`) is given, and for
    converted values (`.isoformat()`, `str()`, `float()`, `list()`).

    ## Why is this bad?
    `send_json` encodes with `encode_json`, which is plain `json.dumps(content)`
    (channels/generic/websocket.py), not Django's encoder: the first message raises
    `TypeError: Object of type datetime is not JSON serializable`, and the exception closes
    the socket (the server sends 1011) without running `disconnect()`.

    ## Example
    ```python
    import uuid

    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from django.utils import timezone


    class SessionConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self):
            await self.accept()
            await self.send_json({"session": uuid.uuid4(), "opened": timezone.now()})
    ```

    Use instead:
    ```python
    import uuid

    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from django.utils import timezone


    class SessionConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self):
            await self.accept()
            await self.send_json({"session": str(uuid.uuid4()), "opened": timezone.now().isoformat()})
    ```

    ## Fix safety
    Values of known kind are converted in place, with no import: `.isoformat()` for
    datetimes, dates and times, `str(...)` for UUIDs, Decimals and lazy strings,
    `sorted(...)` for sets, `.decode()` for base64 bytes. That is safe where the encoded
    text goes straight to the client (`send_json`, `send(text_data=json.dumps(...))`,
    `JsonResponse`): the encoder rejects the original value, so the client could only ever
    get the converted one. It is unsafe elsewhere (`json.dumps` whose text is kept or
    parsed again), for a model field (it may be `None`), and for a model instance (`.pk`: the
    client gets a key instead of the object) or an Enum member (`.value`). Other values get
    no fix.

    ## Known problems
    Silent for consumers with a base class the analysis cannot read (a library's mixin may
    override `encode_json`). Values computed in other modules are not traced. Applies to
    Channels 2.0+ (`encode_json` has been plain `json.dumps` since the JSON consumers exist;
    docs/semantics.md §2.4).
    """

    code = "CHN201"
    name = "unencodable-json-value"
    markers = ("send_json", ("dumps", "send("), ("dumps", "onsumer"), "JsonResponse")
    fix_applicability = Applicability.UNSAFE
    example_models = """
from django.db import models


class Ticket(models.Model):
    id = models.UUIDField(primary_key=True)
    opened_at = models.DateTimeField()
    closed = models.BooleanField(default=False)
"""

    valid = (
        """
import json
import uuid
from decimal import Decimal

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.utils import timezone


class Report(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        stamp, ref, total = timezone.now(), uuid.uuid4(), Decimal("9.99")
        await self.send(text_data=json.dumps({"at": stamp, "ref": ref, "total": total}, cls=DjangoJSONEncoder))
        await self.send(text_data=json.dumps({"at": stamp}, default=str))
        await self.send(text_data=json.dumps({"at": stamp.isoformat(), "ref": str(ref), "total": float(total), "tags": list({1})}))

    async def report_ready(self, event):
        await self.send(text_data=json.dumps(event))


class EncodedBase(AsyncJsonWebsocketConsumer):
    @classmethod
    async def encode_json(cls, content):
        return json.dumps(content, cls=DjangoJSONEncoder)


class Audit(EncodedBase):
    async def connect(self):
        await self.accept()
        await self.send_json({"opened": timezone.now(), "session": uuid.uuid4()})


def page(request):
    return JsonResponse({"at": timezone.now(), "ref": uuid.uuid4()})


payload = json.dumps({"at": "fixed"})
""",
    )
    invalid = (
        Invalid(
            """
import json
import uuid
from decimal import Decimal

from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer
from django.utils import timezone


class Status(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        self.opened = timezone.now()
        await self.send_json({"session": uuid.uuid4(), "opened": self.opened})  # error
        totals = {"sum": Decimal("1.50")}  # error
        totals["tags"] = {"a", "b"}  # error
        await self.send_json(content=totals)


class Legacy(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=json.dumps({"at": timezone.now()}))  # error
""",
            fixed="""
import json
import uuid
from decimal import Decimal

from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer
from django.utils import timezone


class Status(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        self.opened = timezone.now()
        await self.send_json({"session": str(uuid.uuid4()), "opened": self.opened.isoformat()})  # error
        totals = {"sum": str(Decimal("1.50"))}  # error
        totals["tags"] = sorted({"a", "b"})  # error
        await self.send_json(content=totals)


class Legacy(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=json.dumps({"at": timezone.now().isoformat()}))  # error
""",
        ),
        Invalid(
            """
import json

from channels.generic.websocket import JsonWebsocketConsumer
from django.core.cache import cache
from django.utils import timezone

from .models import Ticket


class TicketConsumer(JsonWebsocketConsumer):
    def connect(self):
        self.accept()
        ticket = Ticket.objects.filter(closed=False).first()
        if ticket is not None:
            self.send_json({"id": ticket.id, "opened": ticket.opened_at, "ticket": ticket})  # error
        cache.set("seen", json.dumps({"at": timezone.now()}))  # error
        self.send_json({"open": Ticket.objects.filter(closed=False), "raw": b"x", (1, 2): "pair"})  # error
""",
            fixed="""
import json

from channels.generic.websocket import JsonWebsocketConsumer
from django.core.cache import cache
from django.utils import timezone

from .models import Ticket


class TicketConsumer(JsonWebsocketConsumer):
    def connect(self):
        self.accept()
        ticket = Ticket.objects.filter(closed=False).first()
        if ticket is not None:
            self.send_json({"id": str(ticket.id), "opened": ticket.opened_at.isoformat(), "ticket": ticket.pk})  # error
        cache.set("seen", json.dumps({"at": timezone.now().isoformat()}))  # error
        self.send_json({"open": Ticket.objects.filter(closed=False), "raw": b"x", (1, 2): "pair"})  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for sink in a.payloads.json_sinks:
            rejects = JSON_REJECTS - DJANGO_JSON_ENCODER_ACCEPTS if sink.kind is SinkKind.JSON_RESPONSE else JSON_REJECTS
            for unsafe in a.payloads.in_value(sink.value):
                if unsafe.kind in rejects:
                    yield self._violation(sink, unsafe)

    def _violation(self, sink: JsonSink, unsafe: UnsafeValue) -> Violation:
        a = self.analysis
        what = subject(a, unsafe)
        if unsafe.kind is PayloadKind.TUPLE_KEY or unsafe.kind is PayloadKind.BYTES_KEY:
            problem = f"{what}, and {_ENCODERS[sink.kind]} accepts only str, int, float, bool or None keys"
        else:
            problem = f"{what}, which {_ENCODERS[sink.kind]} cannot encode"
        alternative = _OR[sink.kind]
        if sink.kind is SinkKind.JSON_DUMPS and unsafe.kind not in DJANGO_JSON_ENCODER_ACCEPTS:
            alternative = ""  # DjangoJSONEncoder rejects it too
        converted = conversion(a, unsafe)
        if converted is None:
            return self.violation(unsafe.node, f"{problem}; send {INSTEAD[unsafe.kind]} {alternative}".rstrip())
        edits, title = converted
        safe = sink.to_client and (unsafe.kind is PayloadKind.TYPE_KEY or keeps_meaning(unsafe))
        return self.violation(
            unsafe.node,
            f"{problem}; {title[0].lower() + title[1:]} {alternative}".rstrip(),
            edits,
            title,
            applicability=Applicability.SAFE if safe else Applicability.UNSAFE,
        )
