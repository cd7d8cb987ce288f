"""What the client controls in a connection, and what catches or cleans it, as data.

JSON decoders and the ``except`` types that catch their errors or a wrong message shape,
the scope keys filled from the client, user text fields, group-name rules, URL converters,
sanitisers and hash lengths, the runtime's validators, query-string parsers and decorators
known not to catch (docs/semantics.md §1.3, §1.3b, §2.4, §5.1, §11).
"""

from __future__ import annotations

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
