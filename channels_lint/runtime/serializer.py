"""Turn arbitrary Python values into channel-layer- and JSON-safe data.

Why this is needed (sources in ``channels-semantics.md``, "the reference" below):

* The Channels channel layer spec (``docs/channel_layer_spec.rst`` L26–37, reference §5.2) allows
  only byte strings, unicode strings, integers within the signed 64-bit range, floats, lists,
  dicts with unicode-string keys, booleans and ``None`` in a message.
* channels_redis 4.3.0 ``serializers.py`` L126–130 packs messages with ``msgpack.packb`` and
  unpacks them with ``msgpack.unpackb``, both with msgpack's defaults (``strict_map_key=True``).
  msgpack rejects ``datetime``, ``Decimal``, ``UUID``, ``set``, plain ``Enum`` members, lazy
  translation strings, model instances and QuerySets when sending; non-``str`` dict keys are sent
  but crash the *receiver* (reference §5.3).
* ``JsonWebsocketConsumer.encode_json`` is plain ``json.dumps``, which rejects the same types plus
  ``bytes`` (reference §2.4, §6.1).

The output of :func:`safe_serialize` is accepted by both ``json.dumps(..., allow_nan=False)`` and
``msgpack.packb``, and survives a msgpack round trip unchanged. Decisions made here:

* date, time, timedelta, ``Decimal``, ``UUID`` and lazy strings are formatted by Django's
  ``DjangoJSONEncoder.default`` (reference §6.2), except timezone-aware ``time`` values, which that
  encoder refuses and which use ``time.isoformat()``. Without Django installed, date/time values use
  ``isoformat()`` and everything else ``str()``.
* NaN and ±infinity become ``None`` (what JavaScript's ``JSON.stringify`` does); strict JSON has no
  literal for them.
* ``bytes``, ``bytearray`` and ``memoryview`` become base64 ASCII text: msgpack would carry bytes,
  but JSON cannot.
* Integers outside the signed 64-bit range become their decimal ``str``.
* Strings that cannot be encoded as UTF-8 (lone surrogates) have those characters replaced by
  ``"?"``: msgpack raises ``UnicodeEncodeError`` on them, and so does Daphne's
  ``content.encode("utf8")`` (reference §6.2).
* A model instance becomes ``obj.to_dict()`` (serialized in turn) when the model defines a callable
  ``to_dict``, else ``{"pk": <pk>}``; no other field is ever included.
* A QuerySet or Manager becomes the marker string ``"<QuerySet of app_label.Model>"``. Evaluating it
  would query the database, which raises ``SynchronousOnlyOperation`` in async code (reference
  §4.2). Evaluate it yourself, in a sync context, before serializing.
* Non-``str`` dict keys become ``str(key)``; an ``Enum`` key uses ``str(key.value)``, a ``bytes``
  key its UTF-8 text (undecodable bytes replaced). If two keys
  become the same string, the first one in iteration order wins and the later ones are dropped.
* A container that is already on the path from the root becomes ``"<cycle>"``. A container or
  wrapper (``Enum``, model instance) more than :data:`MAX_DEPTH` levels deep becomes
  ``"<max depth>"``. Any value whose conversion raises becomes ``"<unserializable TypeName>"``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Union
from uuid import UUID

try:
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db.models import Model, QuerySet
    from django.db.models.manager import BaseManager
    from django.utils.functional import Promise
except ImportError:  # Django is optional: plain Python values are still handled.
    _django_default: Callable[[object], Any] | None = None
    _LAZY_TYPES: tuple[type, ...] = ()
    _MODEL_TYPES: tuple[type, ...] = ()
    _QUERY_TYPES: tuple[type, ...] = ()
else:
    _django_default = DjangoJSONEncoder().default
    _LAZY_TYPES = (Promise,)
    _MODEL_TYPES = (Model,)
    _QUERY_TYPES = (QuerySet, BaseManager)

__all__ = [
    "MAX_DEPTH",
    "JSONSerializer",
    "dumps",
    "safe_serialize",
    "serialize_datetime",
    "serialize_message",
    "validate_serializable",
]

MAX_DEPTH = 200
"""Deepest nesting kept by :func:`safe_serialize` and accepted by :func:`validate_serializable`.

Well under msgpack's default nesting limit of 511 and far from Python's recursion limit; both
functions are iterative, so any input depth is safe.
"""

_CYCLE = "<cycle>"
_TOO_DEEP = "<max depth>"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_EXPAND = object()  # _leaf() result for values that have children or unwrap to another value

_Target = Union[list[object], dict[str, object]]
_Child = tuple[object, _Target, Any]  # (value, target container, slot in it)
_Task = Union[tuple[object, int, _Target, Any], int]  # (value, depth, target, slot) or an exit id


def safe_serialize(obj: object) -> object:
    """Return a copy of ``obj`` built only of JSON- and msgpack-safe primitives.

    Args:
        obj: any Python value, possibly nested, cyclic or arbitrarily deep.

    Returns:
        A value made only of ``dict`` (``str`` keys), ``list``, ``str``, ``int`` (signed 64-bit),
        finite ``float``, ``bool`` and ``None``, nested at most :data:`MAX_DEPTH` levels; the
        conversions are listed in the module docstring. ``validate_serializable`` is true for it,
        ``json.dumps(result, allow_nan=False)`` accepts it and
        ``msgpack.unpackb(msgpack.packb(result), strict_map_key=True) == result``. The function is
        idempotent. Why each type needs converting: channels_redis 4.3.0 ``serializers.py`` uses
        ``msgpack.packb`` with defaults, which rejects datetime/Decimal/UUID/set and more
        (channels-semantics.md §5.3); ``json.dumps`` rejects them too (§6.1).

    Raises:
        Nothing: values that cannot be converted become ``"<unserializable TypeName>"``.
    """
    root: list[object] = [None]
    stack: list[_Task] = [(obj, 0, root, 0)]
    path: dict[int, object] = {}  # id -> object, keeping it alive so that its id is not reused
    while stack:
        task = stack.pop()
        if isinstance(task, int):
            del path[task]
            continue
        value, depth, target, slot = task
        target[slot] = _visit(value, depth, target, slot, stack, path)
    return root[0]


def serialize_datetime(dt: object) -> str:
    """Format a ``datetime``, ``date`` or ``time`` as ISO 8601, as :func:`safe_serialize` does.

    Args:
        dt: a ``datetime.datetime``, ``datetime.date`` or ``datetime.time``, naive or aware.

    Returns:
        Django's ``DjangoJSONEncoder`` format (channels-semantics.md §6.2): datetimes are truncated
        to milliseconds and ``+00:00`` is written ``Z`` (``"2024-01-02T03:04:05.123Z"``); dates use
        ``isoformat()``; naive times are truncated to milliseconds. Aware times, which
        ``DjangoJSONEncoder`` refuses with ``ValueError``, use ``time.isoformat()``.

    Raises:
        TypeError: ``dt`` is not a ``datetime``, ``date`` or ``time``.
    """
    if not isinstance(dt, (date, time)):
        raise TypeError(f"expected a datetime, date or time, not {type(dt).__name__}")
    return _format(dt)


def serialize_message(obj: object) -> dict[str, object]:
    """Prepare a channel-layer message (event) for ``send``/``group_send``.

    Args:
        obj: normally a ``dict``/``Mapping`` such as ``{"type": "chat.message", ...}``; any value
            is accepted.

    Returns:
        ``safe_serialize(obj)`` when ``obj`` is a Mapping, with a non-``str`` ``"type"`` value
        turned into ``str``: consumers dispatch on ``message["type"].replace(".", "_")``
        (channels consumer.py L12–24, channels-semantics.md §2.3). Any other input is wrapped as
        ``{"value": safe_serialize(obj)}``. The layers require a ``dict`` message (layers.py L269,
        channels_redis core.py L171–174, §5.2); no key is added or removed, so a missing ``"type"``
        stays missing.

    Raises:
        Nothing.
    """
    result = safe_serialize(obj)
    if not (issubclass(type(obj), Mapping) and isinstance(result, dict)):
        return {"value": result}
    if "type" in result and not isinstance(result["type"], str):
        result["type"] = _text(result["type"])
    return result


def validate_serializable(obj: object) -> bool:
    """Tell whether ``obj`` is already channel-layer- and JSON-safe, unchanged.

    Args:
        obj: any Python value.

    Returns:
        True iff ``obj`` is built only of exact ``dict`` (exact ``str`` keys), ``list``, ``str``
        (UTF-8 encodable), ``int`` (signed 64-bit, the channel layer spec's range, §5.2), finite
        ``float``, ``bool`` and ``None``, with no cycle and at most :data:`MAX_DEPTH` levels of
        nesting. Such a value is accepted by ``json.dumps(obj, allow_nan=False)`` and by
        ``msgpack.packb`` with channels_redis's defaults, and
        ``msgpack.unpackb(msgpack.packb(obj), strict_map_key=True) == obj`` (§5.3). Tuples,
        ``bytes`` and subclasses (``IntEnum``, ``SafeString``…) give False: JSON cannot carry bytes,
        and msgpack hands tuples and subclasses back as plain ``list``/``int``/``str`` (§5.3).

    Raises:
        Nothing: a value that fails while being inspected gives False.
    """
    stack: list[tuple[object, int] | int] = [(obj, 0)]
    path: set[int] = set()
    try:
        while stack:
            task = stack.pop()
            if isinstance(task, int):
                path.discard(task)
                continue
            value, depth = task
            if type(value) is dict:
                if not all(type(key) is str and _utf8_ok(key) for key in value):
                    return False
                children: list[object] = list(value.values())
            elif type(value) is list:
                children = list(value)
            elif _valid_scalar(value):
                continue
            else:
                return False
            if depth >= MAX_DEPTH or id(value) in path:
                return False
            path.add(id(value))
            stack.append(id(value))
            stack.extend((child, depth + 1) for child in children)
    except Exception:  # e.g. "dictionary changed size during iteration"
        return False
    return True


def dumps(obj: object, **json_kwargs: Any) -> str:
    """Return ``json.dumps(safe_serialize(obj), **json_kwargs)``.

    Args:
        obj: any Python value.
        json_kwargs: passed to ``json.dumps`` unchanged (``indent``, ``sort_keys``…).

    Returns:
        Valid JSON text. Use it where Channels would call plain ``json.dumps``
        (``encode_json``, channels-semantics.md §2.4).

    Raises:
        Only what ``json.dumps`` raises for invalid ``json_kwargs``; never for ``obj``.
    """
    return json.dumps(safe_serialize(obj), **json_kwargs)


class JSONSerializer:
    """The module functions bundled as one object, to pass around or mix into a consumer.

    Every method is a static method delegating to the module-level function of the same name.
    For an ``AsyncJsonWebsocketConsumer``, whose ``encode_json`` is plain ``json.dumps`` and must be
    overridden as an async classmethod (channels-semantics.md §2.4)::

        class ChatConsumer(AsyncJsonWebsocketConsumer):
            @classmethod
            async def encode_json(cls, content):
                return dumps(content)

    In a sync ``JsonWebsocketConsumer`` the override is a plain ``@classmethod``.
    """

    safe_serialize = staticmethod(safe_serialize)
    serialize_datetime = staticmethod(serialize_datetime)
    serialize_message = staticmethod(serialize_message)
    validate_serializable = staticmethod(validate_serializable)
    dumps = staticmethod(dumps)


def _visit(
    value: object,
    depth: int,
    target: _Target,
    slot: Any,
    stack: list[_Task],
    path: dict[int, object],
) -> object:
    """Convert one value; for containers and wrappers, queue the children and return a stub."""
    try:
        leaf = _leaf(value)
        if leaf is not _EXPAND:
            return leaf
        if id(value) in path:
            return _CYCLE
        if depth >= MAX_DEPTH:
            return _TOO_DEEP
        result, children = _expand(value, target, slot)
    except Exception:
        return _unserializable(value)
    path[id(value)] = value
    stack.append(id(value))
    stack.extend((child, depth + 1, into, at) for child, into, at in reversed(children))
    return result


def _leaf(value: object) -> object:
    """Return the converted scalar, or ``_EXPAND`` when ``value`` holds or wraps other values."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (Enum, list, tuple, set, frozenset, Mapping, *_MODEL_TYPES)):
        return _EXPAND
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int):
        number = int.__int__(value)  # a plain int, whatever the subclass
        return number if _INT64_MIN <= number <= _INT64_MAX else str(number)
    if isinstance(value, float):
        real = float.__float__(value)
        return real if math.isfinite(real) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (date, time, timedelta, Decimal, UUID, *_LAZY_TYPES)):
        return _format(value)
    if isinstance(value, _QUERY_TYPES):
        return f"<QuerySet of {value.model._meta.label}>"  # type: ignore[attr-defined]
    return _text(value)


def _expand(value: object, target: _Target, slot: Any) -> tuple[object, list[_Child]]:
    """Return the new container (or a stub) and the children to visit."""
    if isinstance(value, Enum):
        return None, [(value.value, target, slot)]
    if isinstance(value, _MODEL_TYPES):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return None, [(to_dict(), target, slot)]
        record: dict[str, object] = {"pk": None}
        return record, [(value.pk, record, "pk")]  # type: ignore[attr-defined]
    if isinstance(value, Mapping):
        mapping: dict[str, object] = {}
        children: list[_Child] = []
        for key, item in list(value.items()):
            text = _key_text(key)
            if text not in mapping:  # colliding keys: the first one wins
                mapping[text] = None
                children.append((item, mapping, text))
        return mapping, children
    # Only list, tuple, set and frozenset are left (see _leaf).
    items = list(value) if isinstance(value, (list, tuple)) else _ordered(value)  # type: ignore
    sequence: list[object] = [None] * len(items)
    return sequence, [(item, sequence, index) for index, item in enumerate(items)]


def _ordered(items: set[Any] | frozenset[Any]) -> list[Any]:
    try:
        return sorted(items)
    except Exception:  # unorderable items: keep iteration order
        return list(items)


def _format(value: object) -> str:
    """Format a date/time/timedelta/Decimal/UUID/lazy string as DjangoJSONEncoder does."""
    if isinstance(value, time) and value.utcoffset() is not None:
        return value.isoformat()  # DjangoJSONEncoder raises ValueError for aware times
    if _django_default is None:
        return value.isoformat() if isinstance(value, (date, time)) else _text(value)
    return _text(_django_default(value))


def _key_text(key: object) -> str:
    try:
        if isinstance(key, (bytes, bytearray)):  # b"id" -> "id", not "b'id'"
            return _text(bytes(key).decode("utf-8", "replace"))
        return _text(key.value if isinstance(key, Enum) else key)
    except Exception:
        return _unserializable(key)


def _text(value: object) -> str:
    """``str(value)`` as a plain ``str`` that encodes as UTF-8 (lone surrogates become ``"?"``)."""
    text = str.__str__(value if isinstance(value, str) else str(value))
    return text if _utf8_ok(text) else text.encode("utf-8", "replace").decode("utf-8")


def _utf8_ok(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_scalar(value: object) -> bool:
    if type(value) is int:
        return _INT64_MIN <= value <= _INT64_MAX
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is str:
        return _utf8_ok(value)
    return value is None or type(value) is bool


def _unserializable(value: object) -> str:
    return f"<unserializable {type(value).__name__}>"
