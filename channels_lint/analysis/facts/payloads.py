"""What msgpack (channels_redis), ``json.dumps``, ``DjangoJSONEncoder`` and Channels' send
methods accept, as data.

The kinds of value a serializer rejects (:class:`PayloadKind`), the calls that return them,
which serializer rejects which kind, the model fields holding them, and the consumer bases
by what their ``send``/``send_json`` take (docs/semantics.md §2.2-§2.4, §5.2, §5.3, §6).
"""

from __future__ import annotations

import enum

from channels_lint.analysis.facts.async_context import CONSUMER_METHODS


class PayloadKind(enum.Enum):
    """A kind of value msgpack (channels_redis) and ``json.dumps`` reject (docs/semantics.md
    §5.3, §6.1)."""

    DATETIME = enum.auto()
    DATE = enum.auto()
    TIME = enum.auto()
    TIMEDELTA = enum.auto()
    UUID = enum.auto()
    DECIMAL = enum.auto()
    SET = enum.auto()
    FROZENSET = enum.auto()
    MODEL_INSTANCE = enum.auto()
    QUERYSET = enum.auto()
    NON_STR_KEY = enum.auto()  # an int, float, bool or None key
    ENUM = enum.auto()  # a member of an Enum that is not a str/int subclass
    LAZY_TEXT = enum.auto()  # gettext_lazy(...) and friends
    BIG_INT = enum.auto()  # an int outside the signed 64-bit range msgpack packs
    BYTES = enum.auto()  # bytes: fine for msgpack, rejected by json
    BYTES_KEY = enum.auto()
    TUPLE_KEY = enum.auto()
    TYPE_KEY = enum.auto()  # the builtin `type` used as a key instead of "type"


#: Calls that return values msgpack and json.dumps reject (docs/semantics.md §5.3, §6.1).
UNSERIALIZABLE_CALLS: dict[str, PayloadKind] = {
    **{
        f"datetime.datetime.{name}": PayloadKind.DATETIME
        for name in ("now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp", "fromisoformat", "combine", "strptime")
    },
    "datetime.datetime": PayloadKind.DATETIME,
    "datetime.date": PayloadKind.DATE,
    "datetime.date.today": PayloadKind.DATE,
    "datetime.date.fromtimestamp": PayloadKind.DATE,
    "datetime.date.fromisoformat": PayloadKind.DATE,
    "datetime.time": PayloadKind.TIME,
    "datetime.timedelta": PayloadKind.TIMEDELTA,
    "django.utils.timezone.now": PayloadKind.DATETIME,
    "django.utils.timezone.localtime": PayloadKind.DATETIME,
    "django.utils.timezone.localdate": PayloadKind.DATE,
    "django.utils.timezone.make_aware": PayloadKind.DATETIME,
    "django.utils.timezone.make_naive": PayloadKind.DATETIME,
    "uuid.UUID": PayloadKind.UUID,
    "uuid.uuid1": PayloadKind.UUID,
    "uuid.uuid3": PayloadKind.UUID,
    "uuid.uuid4": PayloadKind.UUID,
    "uuid.uuid5": PayloadKind.UUID,
    "decimal.Decimal": PayloadKind.DECIMAL,
    "set": PayloadKind.SET,
    "frozenset": PayloadKind.FROZENSET,
}

#: What each serializer rejects (docs/semantics.md §5.2, §5.3, §6.1): msgpack as channels_redis
#: packs events (a non-str key is sent, then breaks the receiver; bytes keys break the JSON
#: serializer and the spec's str-keys rule), and plain ``json.dumps`` as ``send_json`` encodes.
MSGPACK_REJECTS = frozenset(PayloadKind) - {PayloadKind.BYTES}
JSON_REJECTS = frozenset(PayloadKind) - {PayloadKind.NON_STR_KEY, PayloadKind.BIG_INT}
#: What ``DjangoJSONEncoder`` (``JsonResponse``'s default encoder) turns into strings (§6.2).
DJANGO_JSON_ENCODER_ACCEPTS = frozenset(
    {
        PayloadKind.DATETIME,
        PayloadKind.DATE,
        PayloadKind.TIME,
        PayloadKind.TIMEDELTA,
        PayloadKind.UUID,
        PayloadKind.DECIMAL,
        PayloadKind.LAZY_TEXT,
    }
)
#: The int range msgpack packs: a signed 64-bit int, or an unsigned one up to 2**64 - 1 (§5.3).
MSGPACK_INT_RANGE = (-(2**63), 2**64 - 1)

#: Model field classes and the kind of value they hold (django/db/models/fields/__init__.py;
#: django-extensions' and django-model-utils' timestamp fields are DateTimeFields).
FIELD_PAYLOAD_KINDS: dict[str, PayloadKind] = {
    "DateTimeField": PayloadKind.DATETIME,
    "CreationDateTimeField": PayloadKind.DATETIME,
    "ModificationDateTimeField": PayloadKind.DATETIME,
    "AutoCreatedField": PayloadKind.DATETIME,
    "AutoLastModifiedField": PayloadKind.DATETIME,
    "DateField": PayloadKind.DATE,
    "TimeField": PayloadKind.TIME,
    "DurationField": PayloadKind.TIMEDELTA,
    "UUIDField": PayloadKind.UUID,
    "DecimalField": PayloadKind.DECIMAL,
}

#: Calls that return lazy translation strings (django/utils/translation/__init__.py,
#: django/utils/text.py ``format_lazy``): a ``Promise``, not a ``str``.
LAZY_TEXT_CALLS = frozenset(
    {
        "django.utils.translation.gettext_lazy",
        "django.utils.translation.ugettext_lazy",
        "django.utils.translation.pgettext_lazy",
        "django.utils.translation.ngettext_lazy",
        "django.utils.translation.ungettext_lazy",
        "django.utils.translation.npgettext_lazy",
        "django.utils.text.format_lazy",
    }
)
#: Calls that return bytes (CPython base64.py).
BYTES_CALLS = frozenset(
    {
        "base64.b64encode",
        "base64.urlsafe_b64encode",
        "base64.standard_b64encode",
        "base64.b32encode",
        "base64.b16encode",
        "base64.b85encode",
        "base64.a85encode",
        "base64.encodebytes",
    }
)
#: Enum bases whose members are not str/int instances (CPython enum.py); members of an
#: ``IntEnum``/``StrEnum``/``IntFlag``, of ``TextChoices``/``IntegerChoices`` or of an enum
#: mixing in ``str``/``int`` serialize as their value (§5.3).
PLAIN_ENUM_BASES = frozenset({"enum.Enum", "enum.Flag"})
VALUE_ENUM_MIXINS = frozenset({"str", "int", "float", "enum.IntEnum", "enum.StrEnum", "enum.IntFlag"})

#: Consumer bases whose ``send`` takes ``text_data``/``bytes_data`` (websocket.py), those whose
#: ``send`` takes a raw ASGI message (consumer.py, http.py), and the JSON consumers whose
#: ``send_json`` encodes with ``encode_json`` (§2.4).
WEBSOCKET_SEND_BASES = frozenset(
    {
        "channels.generic.websocket.WebsocketConsumer",
        "channels.generic.websocket.JsonWebsocketConsumer",
        "channels.generic.websocket.AsyncWebsocketConsumer",
        "channels.generic.websocket.AsyncJsonWebsocketConsumer",
        "channels.security.websocket.WebsocketDenier",
    }
)
RAW_SEND_BASES = frozenset(
    {"channels.consumer.AsyncConsumer", "channels.consumer.SyncConsumer", "channels.generic.http.AsyncHttpConsumer"}
)
JSON_CONSUMER_BASES = frozenset(
    {"channels.generic.websocket.JsonWebsocketConsumer", "channels.generic.websocket.AsyncJsonWebsocketConsumer"}
)
HTTP_CONSUMER_BASE = "channels.generic.http.AsyncHttpConsumer"
#: Keyword arguments of ``json.dumps`` that change how values are encoded (CPython json/__init__.py).
JSON_ENCODER_KEYWORDS = frozenset({"cls", "default"})
#: Methods every consumer has from Channels itself, so an event type naming one has a handler
#: (channels/consumer.py, channels/generic/*.py @ 4.3.2, §2.2, §2.3).
CHANNELS_BASE_HANDLERS = frozenset().union(*CONSUMER_METHODS.values())
