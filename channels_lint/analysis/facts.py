"""What Django, Channels, asgiref and channels_redis do, as data (no ``ast`` here).

Every fact cites the section of ``docs/semantics.md`` that states it with its upstream source
(file and version).  Analyzers turn these facts into typed findings; rules turn findings into
words.
"""

from __future__ import annotations

import enum


class DbEffect(enum.Enum):
    """What a sync-only Django API does to the database (docs/semantics.md §3.3, §4.2)."""

    QUERIES_USERS = enum.auto()
    WRITES_SESSION_AND_LAST_LOGIN = enum.auto()
    FLUSHES_SESSION = enum.auto()
    QUERIES_SESSION_AND_USER = enum.auto()
    WRITES_SESSION = enum.auto()
    OPENS_CURSOR = enum.auto()


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


#: Channels consumer base classes by qualified name, and whether their handlers are async.
CONSUMER_BASES: dict[str, bool] = {
    "channels.consumer.AsyncConsumer": True,
    "channels.consumer.SyncConsumer": False,
    "channels.generic.websocket.WebsocketConsumer": False,
    "channels.generic.websocket.JsonWebsocketConsumer": False,
    "channels.generic.websocket.AsyncWebsocketConsumer": True,
    "channels.generic.websocket.AsyncJsonWebsocketConsumer": True,
    "channels.generic.http.AsyncHttpConsumer": True,
    "channels.security.websocket.WebsocketDenier": True,
}

#: Bridges that run a sync callable in a worker thread (asgiref/sync.py, channels/db.py).
SYNC_TO_ASYNC = frozenset(
    {
        "asgiref.sync.sync_to_async",
        "asgiref.sync.SyncToAsync",
        "channels.db.database_sync_to_async",
        "channels.db.DatabaseSyncToAsync",
    }
)
ASYNC_TO_SYNC = frozenset({"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"})
#: Library functions that are coroutine functions (channels/auth.py, channels/db.py).
KNOWN_COROUTINE_FUNCTIONS = frozenset(
    {
        "channels.auth.login",
        "channels.auth.logout",
        "channels.auth.get_user",
        "channels.db.aclose_old_connections",
        "asyncio.sleep",
    }
)
GET_CHANNEL_LAYER = "channels.layers.get_channel_layer"

#: Channels' test communicators and their coroutine methods (channels/testing/websocket.py,
#: http.py, asgiref/testing.py @ 3.x): every one of them must be awaited.
COMMUNICATORS = frozenset(
    {
        "channels.testing.WebsocketCommunicator",
        "channels.testing.HttpCommunicator",
        "channels.testing.ApplicationCommunicator",
        "channels.testing.websocket.WebsocketCommunicator",
        "channels.testing.http.HttpCommunicator",
        "asgiref.testing.ApplicationCommunicator",
    }
)
COMMUNICATOR_COROUTINES = frozenset(
    {
        "connect", "disconnect", "send_to", "send_json_to", "receive_from", "receive_json_from", "receive_nothing",
        "send_input", "receive_output", "wait", "get_response",
    }
)  # fmt: skip

#: Channel-layer methods; all are coroutines (channels/layers.py, channels_redis/core.py).
LAYER_METHODS = frozenset(
    {
        "send",
        "receive",
        "new_channel",
        "group_add",
        "group_discard",
        "group_send",
        "flush",
        "close",
        "close_pools",
        "receive_single",
        "wait_received",
    }
)

_WEBSOCKET = frozenset(
    {
        "connect",
        "disconnect",
        "receive",
        "websocket_connect",
        "websocket_receive",
        "websocket_disconnect",
        "accept",
        "close",
        "send",
    }
)
_JSON = frozenset({"receive_json", "send_json", "encode_json", "decode_json"})
_HTTP = frozenset(
    {"handle", "http_request", "http_disconnect", "send_headers", "send_body", "send_response", "disconnect", "send"}
)
_RAW = frozenset({"websocket_connect", "websocket_receive", "websocket_disconnect", "http_request", "http_disconnect", "send"})

#: The methods Channels defines on each consumer base, by the base's qualified name: on the
#: async bases they are coroutines that Channels awaits, on the sync ones plain methods it
#: calls in a worker thread (channels/consumer.py, channels/generic/*.py @ 4.3.2, §2.2).
CONSUMER_METHODS: dict[str, frozenset[str]] = {
    "channels.consumer.AsyncConsumer": _RAW,
    "channels.consumer.SyncConsumer": _RAW,
    "channels.generic.websocket.WebsocketConsumer": _WEBSOCKET,
    "channels.generic.websocket.JsonWebsocketConsumer": _WEBSOCKET | _JSON,
    "channels.generic.websocket.AsyncWebsocketConsumer": _WEBSOCKET,
    "channels.generic.websocket.AsyncJsonWebsocketConsumer": _WEBSOCKET | _JSON,
    "channels.generic.http.AsyncHttpConsumer": _HTTP,
    "channels.security.websocket.WebsocketDenier": _WEBSOCKET,
}

MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})

#: QuerySet methods that return a new, unevaluated QuerySet (no SQL).
QUERYSET_BUILDERS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "select_related",
        "prefetch_related",
        "values",
        "values_list",
        "only",
        "defer",
        "distinct",
        "none",
        "using",
        "union",
        "intersection",
        "difference",
        "select_for_update",
        "annotate",
        "alias",
        "reverse",
        "complex_filter",
        "extra",
        "dates",
        "datetimes",
        "raw",
        "fetch_mode",
    }
)

#: Sync QuerySet/Manager methods that run SQL, and the ones among them returning one instance.
QUERYSET_INSTANCE_METHODS = frozenset({"get", "first", "last", "earliest", "latest", "create"})
QUERYSET_SQL_METHODS = QUERYSET_INSTANCE_METHODS | frozenset(
    {
        "count",
        "exists",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "aggregate",
        "in_bulk",
        "contains",
        "explain",
    }
)
#: Calls whose keyword arguments end up cached on the instance they return.
CACHING_METHODS = frozenset({"create", "acreate", "__init__"})
#: Async twins (Django 4.1+) that return one instance once awaited.
ASYNC_INSTANCE_METHODS = frozenset({"a" + name for name in QUERYSET_INSTANCE_METHODS})

#: Model instance methods that run SQL (django/db/models/base.py); full_clean runs
#: validate_unique, which queries.
INSTANCE_DB_METHODS = frozenset({"save", "delete", "refresh_from_db", "full_clean", "validate_unique"})
#: Related-manager methods that write (django/db/models/fields/related_descriptors.py).
RELATED_WRITE_METHODS = frozenset({"add", "remove", "clear", "set", "create", "get_or_create", "update_or_create"})
#: User methods that query permissions (django/contrib/auth/models.py); §4.2 of the reference.
USER_DB_METHODS = frozenset(
    {"has_perm", "has_perms", "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions"}
)
TRANSACTION_ATOMIC = frozenset({"django.db.transaction.atomic"})
#: Other sync-only Django calls (docs/semantics.md §3.3, §4.2): what each does to the database.
SYNC_ONLY_CALLS: dict[str, DbEffect] = {
    "django.contrib.auth.authenticate": DbEffect.QUERIES_USERS,
    "django.contrib.auth.login": DbEffect.WRITES_SESSION_AND_LAST_LOGIN,
    "django.contrib.auth.logout": DbEffect.FLUSHES_SESSION,
    "django.contrib.auth.get_user": DbEffect.QUERIES_SESSION_AND_USER,
    "django.contrib.auth.update_session_auth_hash": DbEffect.WRITES_SESSION,
    "django.db.connection.cursor": DbEffect.OPENS_CURSOR,
}

#: ``x.<relation>.<builder>()`` on an unknown ``x`` is taken as a related manager (weakly).
WEAK_RELATION_BUILDERS = frozenset({"all", "filter", "exclude", "order_by", "select_related", "prefetch_related"})

#: Builtins that evaluate (iterate) their first argument.
EVALUATING_BUILTINS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "len",
        "bool",
        "sorted",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "dict",
        "next",
        "print",
        "str",
        "repr",
    }
)

#: Builtins that return a lazy iterator over some of their arguments (which iterating it
#: evaluates): the positions of those arguments, ``None`` for all of them.
LAZY_ITERATING_BUILTINS: dict[str, tuple[int, ...] | None] = {
    "enumerate": (0,),
    "reversed": (0,),
    "zip": None,
    "map": None,  # every argument after the function
    "filter": (1,),
}

#: Django functions that run a query, by qualified name (django/shortcuts.py,
#: django/core/serializers/__init__.py; docs/semantics.md §4.2).
QUERY_FUNCTIONS = frozenset(
    {
        "django.shortcuts.get_object_or_404",
        "django.shortcuts.get_list_or_404",
        "django.core.serializers.serialize",
    }
)
GET_USER_MODEL = "django.contrib.auth.get_user_model"

#: Async twins and the Django version that added them (docs/semantics.md §4.1, §3.3).
QUERYSET_TWINS = dict.fromkeys(QUERYSET_SQL_METHODS, (4, 1))  # every one has an a* twin since 4.1
INSTANCE_TWINS = {"save": (4, 2), "delete": (4, 2), "refresh_from_db": (4, 2)}
RELATED_TWINS = {
    "add": (4, 2),
    "set": (4, 2),
    "remove": (4, 2),
    "clear": (4, 2),
    "create": (4, 1),
    "get_or_create": (4, 1),
    "update_or_create": (4, 1),
}
USER_TWINS = dict.fromkeys(
    ["has_perm", "has_perms", "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions"],
    (5, 2),
)
SESSION_TWINS = {"save": (5, 1), "flush": (5, 1), "cycle_key": (5, 1), "delete": (5, 1)}
FUNCTION_TWINS = {
    "django.contrib.auth.authenticate": (5, 0),
    "django.contrib.auth.login": (5, 0),
    "django.contrib.auth.logout": (5, 0),
    "django.contrib.auth.get_user": (5, 0),
    "django.contrib.auth.update_session_auth_hash": (5, 0),
    "django.shortcuts.get_object_or_404": (5, 0),
    "django.shortcuts.get_list_or_404": (5, 0),
}


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

#: Pre-filter markers shared by rules (a file without any of them cannot hold their findings).
ASYNC_MARKERS = ("async def", "Async", "WebsocketDenier")
LAYER_MARKERS = ("channel_layer",)


# --------------------------------------------------------------------------- async context (issue 7)
#: Attributes and methods of ``django.contrib.auth.models.User`` itself (AbstractUser,
#: AbstractBaseUser, PermissionsMixin, Model; django/contrib/auth/models.py and
#: base_user.py @ 5.2): anything else read on the user goes through a relation
#: (docs/semantics.md §4.2).
USER_ATTRIBUTES = frozenset(
    {
        "id", "pk", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
        "is_staff", "is_active", "date_joined", "groups", "user_permissions", "is_authenticated", "is_anonymous",
        "get_username", "get_full_name", "get_short_name", "email_user", "has_perm", "has_perms",
        "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions",
        "ahas_perm", "ahas_perms", "ahas_module_perms", "aget_all_permissions", "aget_group_permissions",
        "aget_user_permissions", "check_password", "acheck_password", "set_password", "set_unusable_password",
        "has_usable_password", "natural_key", "get_session_auth_hash", "get_session_auth_fallback_hash",
        "get_email_field_name", "normalize_username", "clean", "save", "asave", "delete", "adelete",
        "refresh_from_db", "arefresh_from_db", "full_clean", "clean_fields", "validate_unique",
        "validate_constraints", "serializable_value", "objects", "DoesNotExist", "MultipleObjectsReturned",
        "EMAIL_FIELD", "USERNAME_FIELD", "REQUIRED_FIELDS", "backend", "_meta", "_state",
    }
)  # fmt: skip

#: Calls that only a manager or queryset answers: on ``instance.<attr>`` of a proven model
#: instance whose model the index does not know, they show ``<attr>`` is a related manager.
#: (``get``, ``remove``, ``clear``, ``pop``... are left out: a JSONField dict or list has them.)
INFERRED_MANAGER_CALLS = frozenset(
    {
        "all", "filter", "exclude", "order_by", "values", "values_list", "select_related", "prefetch_related",
        "annotate", "only", "defer", "distinct", "first", "last", "exists", "aggregate", "create", "add",
        "get_or_create", "update_or_create", "latest", "earliest", "in_bulk", "bulk_create", "iterator",
    }
)  # fmt: skip

#: Names of attributes and methods of the values Django fields hold (str, numbers, dates,
#: Decimal, UUID, dict/list from JSONField, files): reading one of these on
#: ``instance.<attr>`` says nothing about ``<attr>`` being a relation.
FIELD_VALUE_ATTRIBUTES = frozenset().union(
    *(dir(kind) for kind in (str, int, float, bool, bytes, list, dict, tuple, set, complex)),
    (
        "year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo", "fold", "date", "time",
        "timetz", "isoformat", "strftime", "timestamp", "weekday", "isoweekday", "isocalendar", "replace",
        "astimezone", "utcoffset", "dst", "tzname", "days", "seconds", "microseconds", "total_seconds",
        "quantize", "normalize", "is_nan", "is_zero", "to_integral_value", "adjusted", "as_tuple",
        "hex", "urn", "version", "variant", "fields", "node", "bytes_le",
        "url", "path", "size", "file", "width", "height", "open", "close", "read", "chunks", "save",
        "delete", "storage", "field", "instance", "closed", "multiple_chunks", "seek", "tell",
        "amount", "currency", "as_e164", "as_international", "as_national", "national_number", "country_code",
    ),
)  # fmt: skip


# --------------------------------------------------------------------------- payloads (issue 8)
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


# --------------------------------------------------------------------------- connection data (issue 9)
#: Functions that decode JSON text and raise a ``ValueError`` subclass on malformed input
#: (CPython json/decoder.py ``JSONDecodeError(ValueError)``; docs/semantics.md §2.4, §11.1).
JSON_DECODERS = frozenset({"json.loads", "simplejson.loads", "ujson.loads", "orjson.loads", "rapidjson.loads"})
#: ``except`` types that catch a JSON decode error (§11.1).
DECODE_ERROR_CATCHERS = frozenset(
    {
        "ValueError",
        "json.JSONDecodeError",
        "json.decoder.JSONDecodeError",
        "simplejson.JSONDecodeError",
        "orjson.JSONDecodeError",
        "ujson.JSONDecodeError",
        "Exception",
        "BaseException",
    }
)
#: ``except`` types that catch what a key read or a dict method raises on the wrong shape:
#: ``KeyError`` (missing key), ``TypeError`` (``[1]["k"]``), ``AttributeError`` (``[1].get``)
#: (§11.2).
SHAPE_ERROR_CATCHERS = frozenset(
    {"KeyError", "LookupError", "TypeError", "AttributeError", "IndexError", "ValueError", "Exception", "BaseException"}
)
#: Dict methods that raise ``AttributeError`` on a JSON list, string or number (§11.2).
DICT_METHODS = frozenset({"get", "pop", "items", "keys", "values", "setdefault", "update", "copy", "popitem"})
#: ASGI scope keys whose values come from the client, and what they hold (§1.3b).
SCOPE_CLIENT_KEYS: dict[str, str] = {
    "query_string": "query-string",
    "path": "path",
    "raw_path": "path",
    "root_path": "path",
    "headers": "headers",
    "cookies": "cookies",
    "subprotocols": "headers",
    "url_route": "url-route",
    "user": "user",
}
#: Text fields of Django's user model: ``username`` allows ``@.+-`` and Unicode letters
#: (``UnicodeUsernameValidator``), ``email`` always holds ``@``, names hold spaces (§11.3).
USER_TEXT_FIELDS = frozenset({"username", "email", "first_name", "last_name", "get_username", "get_full_name", "get_short_name"})
#: Characters allowed in a group name and the longest one, by the first Channels version with
#: that rule (channels/layers.py: ``^[a-zA-Z\d\-_.]+$`` and ``len(name) < 100`` from 2.0 to
#: 4.3.2; §5.1).  Channels 1.x had no channel-layer groups of this kind.
GROUP_NAME_RULES: dict[tuple[int, int], tuple[str, int]] = {(2, 0): (r"[a-zA-Z\d\-_.]+", 99)}
#: URL converters: (every character valid in a group name, longest value; ``None``: unbounded)
#: (django/urls/converters.py @ 5.2, §1.3).  ``int`` and ``uuid`` values are ``int``/``UUID``
#: objects whose text is digits / 36 characters; an ``int`` is unbounded, but one of more
#: than 20 digits (past any 64-bit database id) is taken as impossible (§11.3).
INT_TEXT_LENGTH = 20
URL_CONVERTERS: dict[str, tuple[bool, int | None]] = {
    "int": (True, INT_TEXT_LENGTH),
    "slug": (True, None),
    "uuid": (True, 36),
    "str": (False, None),
    "path": (False, None),
}
#: Calls whose result is always a valid group-name piece: (charset safe, longest; ``None``:
#: as long as the input) (§11.3).
NAME_SANITISERS: dict[str, tuple[bool, int | None]] = {
    "channels_lint.runtime.safe_group_name": (True, 99),
    "channels_lint.runtime.groups.safe_group_name": (True, 99),
    "django.utils.text.slugify": (True, None),
    "uuid.UUID": (True, 36),
    "uuid.uuid4": (True, 36),
    "uuid.uuid1": (True, 36),
    "int": (True, INT_TEXT_LENGTH),
}
#: ``hashlib`` constructors and the length of their ``hexdigest()`` (CPython hashlib).
HEXDIGEST_LENGTHS: dict[str, int] = {
    "hashlib.md5": 32,
    "hashlib.sha1": 40,
    "hashlib.sha224": 56,
    "hashlib.sha256": 64,
    "hashlib.sha384": 96,
    "hashlib.sha512": 128,
    "hashlib.blake2b": 128,
    "hashlib.blake2s": 64,
}
#: The runtime's own validators (channels_lint/runtime/validation.py).
RUNTIME_VALIDATORS = frozenset(
    {
        f"channels_lint.runtime{module}.{name}"
        for module in ("", ".validation")
        for name in ("check_message_data", "extract_message_data", "validate_connection_data")
    }
)
#: Query-string parsers that decode and split correctly (CPython urllib/parse.py; the runtime's
#: ``safe_query_params``).
QUERY_PARSERS = frozenset(
    {
        "urllib.parse.parse_qs",
        "urllib.parse.parse_qsl",
        "channels_lint.runtime.safe_query_params",
        "channels_lint.runtime.groups.safe_query_params",
        "django.http.QueryDict",
    }
)
#: Decorators known not to catch exceptions (anything else around a handler may).
TRANSPARENT_DECORATORS = frozenset(
    {
        "classmethod",
        "staticmethod",
        "django.views.decorators.csrf.csrf_exempt",
        "django.views.decorators.http.require_POST",
        "django.views.decorators.http.require_GET",
        "django.views.decorators.http.require_http_methods",
        "django.views.decorators.http.require_safe",
        "django.views.decorators.cache.never_cache",
        "django.contrib.auth.decorators.login_required",
        "django.contrib.auth.decorators.permission_required",
        "django.db.transaction.atomic",
        "channels.db.database_sync_to_async",
        "asgiref.sync.sync_to_async",
    }
)


# ---------------------------------------------------------------------------- routing (issue 10)
#: Route functions and the kind of pattern each builds (django/urls/conf.py @ 5.2.19; ``url``
#: was ``re_path`` under another name until Django 4.0 removed it: docs/semantics.md §1.2, §10.1).
ROUTE_FUNCTIONS: dict[str, str] = {
    "django.urls.path": "path",
    "django.urls.re_path": "re_path",
    "django.conf.urls.url": "url",
}
URL_ROUTER = "channels.routing.URLRouter"
PROTOCOL_TYPE_ROUTER = "channels.routing.ProtocolTypeRouter"
CHANNEL_NAME_ROUTER = "channels.routing.ChannelNameRouter"
#: ``include()`` builds a ``URLResolver``, which ``URLRouter`` rejects (§1.4).
INCLUDE_FUNCTIONS = frozenset({"django.urls.include", "django.conf.urls.include"})
#: Channels' ASGI middleware: ``Middleware(inner, ...)`` wraps the application ``inner``
#: (channels/auth.py, sessions.py, security/websocket.py, middleware.py @ 4.3.2; §1.4).
CHANNELS_MIDDLEWARE = frozenset(
    {
        "channels.auth.AuthMiddlewareStack",
        "channels.auth.AuthMiddleware",
        "channels.sessions.SessionMiddlewareStack",
        "channels.sessions.SessionMiddleware",
        "channels.sessions.CookieMiddleware",
        "channels.security.websocket.AllowedHostsOriginValidator",
        "channels.security.websocket.OriginValidator",
        "channels.middleware.BaseMiddleware",
    }
)
#: Name endings of project and third-party ASGI middleware (``TokenAuthMiddlewareStack(app)``).
MIDDLEWARE_NAME_ENDINGS = ("Middleware", "MiddlewareStack", "OriginValidator")
#: Calls that return Django's own ASGI application (django/core/asgi.py @ 5.2.19: it runs
#: ``django.setup(set_prefix=False)`` and returns ``ASGIHandler()``; §10.3).
DJANGO_ASGI_APPLICATIONS = frozenset({"django.core.asgi.get_asgi_application", "django.core.handlers.asgi.ASGIHandler"})
#: Calls that populate the app registry: after them, models may be imported (§10.3).
DJANGO_SETUP_CALLS = frozenset({"django.setup", "django.core.asgi.get_asgi_application"})
#: Channels' own HTTP handler, removed in Channels 4.0 (§8.1, §10.1).
CHANNELS_ASGI_HANDLER = "channels.http.AsgiHandler"
#: Routing API removed by a release: qualified name -> (package, version that removed it,
#: (module, name) of the replacement) (§10.1).
REMOVED_ROUTING_API: dict[str, tuple[str, tuple[int, int], tuple[str, str]]] = {
    "django.conf.urls.url": ("django", (4, 0), ("django.urls", "re_path")),
    "channels.http.AsgiHandler": ("channels", (4, 0), ("django.core.asgi", "get_asgi_application")),
}
#: ``as_asgi()`` exists, and a route needs it, from Channels 3.0 (§1.6).
AS_ASGI_SINCE = (3, 0)
#: From Channels 4.0 a ``ProtocolTypeRouter`` without ``"http"`` fails every HTTP request
#: (Channels 3 added ``AsgiHandler`` for it; §1.5).
HTTP_REQUIRED_SINCE = (4, 0)
#: Text a module that routes must contain (pre-filter of the routing rules).
ROUTING_MARKERS = ("path(", "url(", "URLRouter", "as_asgi", "ProtocolTypeRouter", "ChannelNameRouter")
