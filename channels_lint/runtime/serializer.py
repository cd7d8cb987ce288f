"""Turn arbitrary Python values into channel-layer- and JSON-safe data.

Why this is needed (upstream sources; notes in the project's ``docs/semantics.md`` §5, §6):

* The Channels channel layer spec (channels 4.3.2 ``docs/channel_layer_spec.rst`` L26–37) allows
  only byte strings, unicode strings, integers within the signed 64-bit range, floats, lists,
  dicts with unicode-string keys, booleans and ``None`` in a message.
* channels_redis 4.3.0 ``serializers.py`` (``MsgPackSerializer``) packs messages with
  ``msgpack.packb`` and unpacks them with ``msgpack.unpackb``, both with msgpack's defaults
  (``strict_map_key=True``). msgpack 1.2.4 rejects ``datetime``, ``Decimal``, ``UUID``, ``set``,
  plain ``Enum`` members, lazy translation strings, model instances and QuerySets when sending;
  non-``str`` dict keys are sent but make the *receiver* fail
  (``ValueError: int is not allowed for map key when strict_map_key=True``).
* ``JsonWebsocketConsumer.encode_json`` is plain ``json.dumps`` (channels 4.3.2
  ``generic/websocket.py``), which rejects the same types plus ``bytes``.

The output of :func:`safe_serialize` is accepted by both ``json.dumps(..., allow_nan=False)`` and
``msgpack.packb``, and survives a msgpack round trip unchanged. Decisions made here:

* date, time, timedelta, ``Decimal``, ``UUID`` and lazy strings are formatted by Django's
  ``DjangoJSONEncoder.default`` (django 5.2 ``core/serializers/json.py``), except timezone-aware
  ``time`` values, which that encoder refuses and which use ``time.isoformat()``. Without Django
  installed, date/time values use ``isoformat()`` and everything else ``str()``.
* NaN and ±infinity become ``None`` (what JavaScript's ``JSON.stringify`` does); strict JSON has no
  literal for them.
* ``bytes``, ``bytearray`` and ``memoryview`` become base64 ASCII text: msgpack would carry bytes,
  but JSON cannot.
* Integers outside the signed 64-bit range become their decimal digits as ``str``, however long
  (Python's ``int``-to-``str`` digit limit, ``sys.set_int_max_str_digits``, is worked around
  without changing it).
* Every string in the output encodes as UTF-8: lone surrogates are replaced by ``"?"`` (msgpack
  raises ``UnicodeEncodeError`` on them, and so does ``content.encode("utf8")`` in Daphne 4.2.3
  ``ws_protocol.py`` ``serverSend``).
  That includes marker text built from type names, which a metaclass may fake.
* A model instance becomes ``obj.to_dict()`` (serialized in turn) when the model defines a callable
  ``to_dict`` (see :mod:`channels_lint.runtime.models_mixin`), else ``{"pk": <pk>}``; no other field
  is ever included.
* A QuerySet or Manager becomes the marker string ``"<QuerySet of app_label.Model>"``. Evaluating it
  would query the database, which raises ``SynchronousOnlyOperation`` in async code (django 5.2
  ``utils/asyncio.py``). Evaluate it yourself, in a sync context, before serializing.
* Non-``str`` dict keys become ``str(key)``; an ``Enum`` key uses ``str(key.value)``, a ``bytes``
  key its UTF-8 text (undecodable bytes replaced). If two keys become the same string, the first
  one in iteration order wins and the later ones are dropped.
* A container met again while it is still being converted (a reference back to one of its own
  ancestors) becomes ``"<cycle>"``. A container met again after its conversion finished (a shared
  reference) is converted once: its result is reused, so the output may share that ``list`` or
  ``dict`` between several places, and the work is linear in the number of distinct objects.
  (JSON text and msgpack write a shared value out at every place; :func:`dumps` counts them first,
  see :data:`MAX_EXPANDED_VALUES`.)
* A container or wrapper (``Enum``, model instance) more than ``max_depth`` levels deep becomes
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
from typing import Any
from uuid import UUID

from .frames import error_frame

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
    "MAX_DEPTH_LIMIT",
    "MAX_EXPANDED_VALUES",
    "SERIALIZATION_FAILED",
    "JSONSerializer",
    "dumps",
    "encode_or_fallback",
    "safe_serialize",
    "serialize_datetime",
    "serialize_message",
    "validate_serializable",
]

MAX_DEPTH = 200
"""Default deepest nesting kept by :func:`safe_serialize` and accepted by :func:`validate_serializable`.

Both functions are iterative, so any input depth is safe to pass in.
"""

MAX_DEPTH_LIMIT = 500
"""Largest ``max_depth`` a :class:`JSONSerializer` accepts.

msgpack 1.2.4 refuses to pack anything nested more than 1024 levels deep (``fallback.py``
``DEFAULT_RECURSE_LIMIT = 1024``; the C packer behaves the same, checked by experiment), and
CPython's C JSON encoder recurses once per level, so much deeper output could not be sent.
"""

MAX_EXPANDED_VALUES = 10_000_000
"""Most values the JSON text of one payload may hold once shared references are written out.

The output of :func:`safe_serialize` may share a ``list``/``dict`` between several places (that
keeps the conversion linear), but JSON text writes a shared value again at every place: 40 levels
of ``a = [a, a]`` are 2**40 values. Before encoding a payload with shared references, the values
are counted (linear time); past this number (or past ``max_bytes``, since each value takes at
least one byte) the fallback frame is returned instead of building gigabytes of text.
"""

SERIALIZATION_FAILED = "serialization_failed"
"""The ``"error"`` code of the fallback frame (see :meth:`JSONSerializer.encode_or_fallback`)."""

_CYCLE = "<cycle>"
_TOO_DEEP = "<max depth>"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_EXPAND = object()  # _leaf() result for values that have children or unwrap to another value

_Target = list[object] | dict[str, object]
_Child = tuple[object, _Target, Any]  # (value, target container, slot in it)


class JSONSerializer:
    """A configured serializer: the conversions of :func:`safe_serialize` plus JSON encoding.

    Args:
        sort_keys: sort object keys in the JSON text that :meth:`dumps` and
            :meth:`encode_or_fallback` return (deterministic output for tests and caches).
        max_depth: deepest nesting kept (containers and wrappers deeper than this become
            ``"<max depth>"``) and accepted by :meth:`validate_serializable`; an ``int`` from 1 to
            :data:`MAX_DEPTH_LIMIT`.
        max_bytes: size limit, in bytes of UTF-8, of the JSON text :meth:`encode_or_fallback` and
            :meth:`dumps` return; a longer text is replaced by the fallback frame. ``None`` (the
            default) means no limit.
        convert: ``True`` (default): values are converted as :func:`safe_serialize` does before
            encoding. ``False``: only values that :meth:`validate_serializable` accepts as they are
            get encoded; any other gives the fallback frame, whose ``reason`` names the first
            offending place (useful in development, to find payloads that rely on conversion).

    Raises:
        TypeError, ValueError: an option has the wrong type or is out of range (at construction;
        no method raises for the value it is given).

    The instance is immutable and thread-safe. For a JSON consumer, use the mixins of
    :mod:`channels_lint.runtime.consumers`, which call :meth:`encode_or_fallback` from
    ``encode_json`` (a plain ``@classmethod`` in ``JsonWebsocketConsumer``, an ``async``
    classmethod in ``AsyncJsonWebsocketConsumer``: channels 4.3.2 ``generic/websocket.py``).

    The fallback frame is ``error_frame("serialization_failed", reason)`` from
    :mod:`channels_lint.runtime.frames`: ``{"type": "error", "error": "serialization_failed",
    "reason": "<one sentence>"}``. It is returned (as JSON text) instead of raising, and is never
    itself checked against ``max_bytes``; its ``reason`` names keys of the payload but no values.
    """

    __slots__ = ("_convert", "_max_bytes", "_max_depth", "_sort_keys")

    def __init__(
        self,
        *,
        sort_keys: bool = False,
        max_depth: int = MAX_DEPTH,
        max_bytes: int | None = None,
        convert: bool = True,
    ) -> None:
        if not isinstance(sort_keys, bool):
            raise TypeError(f"sort_keys must be a bool, not {_type_name(sort_keys)}")
        if not isinstance(convert, bool):
            raise TypeError(f"convert must be a bool, not {_type_name(convert)}")
        if type(max_depth) is not int:
            raise TypeError(f"max_depth must be an int, not {_type_name(max_depth)}")
        if not 1 <= max_depth <= MAX_DEPTH_LIMIT:
            raise ValueError(f"max_depth must be from 1 to {MAX_DEPTH_LIMIT}, not {max_depth}")
        if max_bytes is not None:
            if type(max_bytes) is not int:
                raise TypeError(f"max_bytes must be an int or None, not {_type_name(max_bytes)}")
            if max_bytes < 1:
                raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
        self._sort_keys = sort_keys
        self._max_depth = max_depth
        self._max_bytes = max_bytes
        self._convert = convert

    sort_keys = property(lambda self: self._sort_keys, doc="Whether JSON object keys are sorted.")
    max_depth = property(lambda self: self._max_depth, doc="Deepest nesting kept and accepted.")
    max_bytes = property(lambda self: self._max_bytes, doc="Size limit of the JSON text, or None.")
    convert = property(lambda self: self._convert, doc="Whether values are converted before encoding.")

    def __repr__(self) -> str:
        return (
            f"JSONSerializer(sort_keys={self._sort_keys}, max_depth={self._max_depth}, "
            f"max_bytes={self._max_bytes}, convert={self._convert})"
        )

    def safe_serialize(self, obj: object) -> object:
        """Return a copy of ``obj`` built only of JSON- and msgpack-safe primitives.

        Args:
            obj: any Python value, possibly nested, shared, cyclic or arbitrarily deep.

        Returns:
            A value made only of ``dict`` (``str`` keys), ``list``, ``str`` (UTF-8 encodable),
            ``int`` (signed 64-bit), finite ``float``, ``bool`` and ``None``, nested at most
            ``max_depth`` levels; the conversions are listed in the module docstring.
            ``validate_serializable`` is true for it, ``json.dumps(result, allow_nan=False)``
            accepts it and ``msgpack.unpackb(msgpack.packb(result), strict_map_key=True) == result``
            (msgpack 1.2.4 as channels_redis 4.3.0 ``serializers.py`` uses it). Idempotent. The
            time taken is linear in the number of distinct objects reachable from ``obj``.

        Raises:
            Nothing: values that cannot be converted become ``"<unserializable TypeName>"``.
        """
        return _Converter(self._max_depth).run(obj)

    def serialize_datetime(self, dt: object) -> str:
        """Format a ``datetime``, ``date`` or ``time`` as ISO 8601, as :meth:`safe_serialize` does.

        Args:
            dt: a ``datetime.datetime``, ``datetime.date`` or ``datetime.time``, naive or aware.

        Returns:
            Django's ``DjangoJSONEncoder`` format (django 5.2 ``core/serializers/json.py``):
            datetimes are truncated to milliseconds and ``+00:00`` is written ``Z``
            (``"2024-01-02T03:04:05.123Z"``); dates use ``isoformat()``; naive times are truncated
            to milliseconds. Aware times, which ``DjangoJSONEncoder`` refuses with ``ValueError``,
            use ``time.isoformat()``.

        Raises:
            TypeError: ``dt`` is not a ``datetime``, ``date`` or ``time``.
        """
        if not isinstance(dt, (date, time)):
            raise TypeError(f"expected a datetime, date or time, not {_type_name(dt)}")
        return _format(dt)

    def serialize_message(self, obj: object) -> dict[str, object]:
        """Prepare a channel-layer message (event) for ``send``/``group_send``.

        Args:
            obj: normally a ``dict``/``Mapping`` such as ``{"type": "chat.message", ...}``; any
                value is accepted.

        Returns:
            ``self.safe_serialize(obj)`` when ``obj`` is a Mapping, with a non-``str`` ``"type"``
            value turned into ``str``: consumers dispatch on ``message["type"].replace(".", "_")``
            (channels 4.3.2 ``consumer.py`` L12–24). Any other input is wrapped as
            ``{"value": safe_serialize(obj)}``: the layers require a ``dict`` message (channels
            4.3.2 ``layers.py`` ``InMemoryChannelLayer.send``, channels_redis 4.3.0 ``core.py``
            ``RedisChannelLayer.send``). No key is added or removed, so a missing ``"type"`` stays
            missing. ``max_bytes`` and ``convert`` do not apply: a fallback error frame would be
            dispatched to a handler named ``error``, which a consumer usually lacks (``ValueError:
            No handler for message type error``, channels 4.3.2 ``consumer.py``).

        Raises:
            Nothing.
        """
        result = self.safe_serialize(obj)
        try:
            is_mapping = issubclass(type(obj), Mapping)
        except Exception:  # a hostile metaclass
            is_mapping = False
        if not (is_mapping and isinstance(result, dict)):
            return {"value": result}
        if "type" in result and not isinstance(result["type"], str):
            result["type"] = _text(result["type"])
        return result

    def validate_serializable(self, obj: object) -> bool:
        """Tell whether ``obj`` is already channel-layer- and JSON-safe, unchanged.

        Args:
            obj: any Python value.

        Returns:
            True iff ``obj`` is built only of exact ``dict`` (exact ``str`` keys), ``list``,
            ``str`` (UTF-8 encodable), ``int`` (signed 64-bit, the channel layer spec's range),
            finite ``float``, ``bool`` and ``None``, with no cycle and at most ``max_depth`` levels
            of nesting (shared references are fine).

            What that guarantees, and how far it goes (tested as properties):

            * True ⇒ ``json.loads(json.dumps(obj, allow_nan=False)) == obj`` and
              ``msgpack.unpackb(msgpack.packb(obj), strict_map_key=True) == obj`` (channels_redis
              4.3.0's msgpack round trip), with every type kept.
            * Conversely, if both of those round trips succeed and give back ``obj`` with every
              type kept, it is True, except for ints from 2**63 to 2**64 - 1 (msgpack packs them
              as unsigned; the spec's range is signed) and nesting deeper than ``max_depth``.
            * Tuples, ``bytes`` and subclasses (``IntEnum``, ``SafeString``…) therefore give False:
              JSON cannot carry bytes, and msgpack hands tuples and subclasses back as plain
              ``list``/``int``/``str``.

        Raises:
            Nothing: a value that fails while being inspected gives False.
        """
        return _first_problem(obj, self._max_depth) is None

    def dumps(self, obj: object, **json_kwargs: Any) -> str:
        """Return ``obj`` as strict JSON text, or the fallback frame's text.

        Args:
            obj: any Python value.
            json_kwargs: passed to ``json.dumps`` (``indent``, ``separators``, ``ensure_ascii``…);
                ``sort_keys`` defaults to this serializer's option and ``allow_nan`` to ``False``.

        Returns:
            ``json.dumps(self.safe_serialize(obj), **json_kwargs)`` (with ``convert=False``:
            ``obj`` itself, if valid), or ``json.dumps(fallback frame, **json_kwargs)`` when the
            text would exceed ``max_bytes``, shared references would write out more than
            :data:`MAX_EXPANDED_VALUES` values, ``convert=False`` and ``obj`` is not valid, or
            encoding fails. The result never contains ``NaN``/``Infinity`` literals.

        Raises:
            TypeError: ``json_kwargs`` are invalid for ``json.dumps``. Never for ``obj``.
        """
        return self._encode(obj, {"sort_keys": self._sort_keys, "allow_nan": False, **json_kwargs})

    def encode_or_fallback(self, obj: object) -> str:
        """Return ``obj`` as strict JSON text, or the fallback frame's text: the ``encode_json`` API.

        Args:
            obj: any Python value, e.g. the ``content`` passed to ``send_json``.

        Returns:
            The same text as ``self.dumps(obj)``: the JSON of ``self.safe_serialize(obj)``, or,
            when the payload cannot be sent at all (its text is longer than ``max_bytes``; its
            shared references would write out more than :data:`MAX_EXPANDED_VALUES` values;
            ``convert=False`` and it is not valid as is; encoding failed), the JSON text of
            ``error_frame("serialization_failed", reason)``, e.g.
            ``{"type": "error", "error": "serialization_failed", "reason": "the encoded message
            is 70123 bytes, over the limit of 65536 (max_bytes)"}``. The client then receives an
            error it can handle, and the consumer keeps running.

        Raises:
            Nothing.
        """
        try:
            return self._encode(obj, {"sort_keys": self._sort_keys, "allow_nan": False})
        except Exception as error:  # pragma: no cover - _encode only raises for bad json_kwargs
            return json.dumps(self.fallback_frame(f"encoding failed ({_type_name(error)})"))

    def fallback_frame(self, reason: str) -> dict[str, object]:
        """Build the fallback frame: ``error_frame("serialization_failed", reason)``.

        Args:
            reason: one sentence saying why the payload could not be sent.

        Returns:
            ``{"type": "error", "error": "serialization_failed", "reason": reason}`` (a new
            ``dict``, JSON- and msgpack-safe: ``reason`` passes through the same text cleaning).

        Raises:
            Nothing.
        """
        return error_frame(SERIALIZATION_FAILED, _text(reason))

    def _encode(self, obj: object, options: dict[str, Any]) -> str:
        if self._convert:
            converter = _Converter(self._max_depth)
            value = converter.run(obj)
            shared = converter.reused > 0
        else:
            problem = _first_problem(obj, self._max_depth)
            if problem is not None:
                return self._fallback_text(f"{problem} (convert=False)", options)
            value, shared = obj, True  # validation does not say whether anything is shared
        if shared:  # JSON has no references: the text repeats a shared value at every place
            limit = MAX_EXPANDED_VALUES if self._max_bytes is None else min(self._max_bytes, MAX_EXPANDED_VALUES)
            count = _expanded_count(value)
            if count > limit:
                return self._fallback_text(_too_many_reason(count, self._max_bytes), options)
        try:
            text = json.dumps(value, **options)
        except TypeError:
            if self._convert:
                raise  # only invalid json_kwargs can make json.dumps raise TypeError on our output
            return self._fallback_text("the value changed while it was being encoded", options)
        except (ValueError, RecursionError, MemoryError, OverflowError) as error:
            return self._fallback_text(f"json.dumps failed ({_type_name(error)})", options)
        if self._max_bytes is not None:
            size = len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
            if size > self._max_bytes:
                reason = f"the encoded message is {size} bytes, over the limit of {self._max_bytes} (max_bytes)"
                return self._fallback_text(reason, options)
        return text

    def _fallback_text(self, reason: str, options: dict[str, Any]) -> str:
        frame = self.fallback_frame(reason)
        try:
            return json.dumps(frame, **options)
        except Exception:  # pragma: no cover - the options were already accepted once
            return json.dumps(frame)


_DEFAULT = JSONSerializer()


def safe_serialize(obj: object) -> object:
    """Return a copy of ``obj`` built only of JSON- and msgpack-safe primitives.

    ``JSONSerializer().safe_serialize(obj)`` (``max_depth`` = :data:`MAX_DEPTH`); see
    :meth:`JSONSerializer.safe_serialize` for the guarantees and the module docstring for the
    conversions. Why each type needs converting: channels_redis 4.3.0 ``serializers.py`` uses
    ``msgpack.packb`` with defaults, which rejects datetime/Decimal/UUID/set and more;
    ``json.dumps`` rejects them too.

    Args:
        obj: any Python value, possibly nested, shared, cyclic or arbitrarily deep.

    Returns:
        The converted value (only ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``).

    Raises:
        Nothing: values that cannot be converted become ``"<unserializable TypeName>"``.
    """
    return _DEFAULT.safe_serialize(obj)


def serialize_datetime(dt: object) -> str:
    """Format a ``datetime``, ``date`` or ``time`` as ISO 8601, as :func:`safe_serialize` does.

    Args:
        dt: a ``datetime.datetime``, ``datetime.date`` or ``datetime.time``, naive or aware.

    Returns:
        Django's ``DjangoJSONEncoder`` format (django 5.2 ``core/serializers/json.py``): datetimes
        are truncated to milliseconds and ``+00:00`` is written ``Z``
        (``"2024-01-02T03:04:05.123Z"``); dates use ``isoformat()``; naive times are truncated to
        milliseconds. Aware times, which ``DjangoJSONEncoder`` refuses with ``ValueError``, use
        ``time.isoformat()``.

    Raises:
        TypeError: ``dt`` is not a ``datetime``, ``date`` or ``time``.
    """
    return _DEFAULT.serialize_datetime(dt)


def serialize_message(obj: object) -> dict[str, object]:
    """Prepare a channel-layer message (event) for ``send``/``group_send``.

    ``JSONSerializer().serialize_message(obj)``; see :meth:`JSONSerializer.serialize_message`.

    Args:
        obj: normally a ``dict``/``Mapping`` such as ``{"type": "chat.message", ...}``; any value
            is accepted.

    Returns:
        ``safe_serialize(obj)`` for a Mapping (a non-``str`` ``"type"`` value becomes ``str``), else
        ``{"value": safe_serialize(obj)}``.

    Raises:
        Nothing.
    """
    return _DEFAULT.serialize_message(obj)


def validate_serializable(obj: object) -> bool:
    """Tell whether ``obj`` is already channel-layer- and JSON-safe, unchanged.

    ``JSONSerializer().validate_serializable(obj)`` (``max_depth`` = :data:`MAX_DEPTH`); see
    :meth:`JSONSerializer.validate_serializable` for exactly what True guarantees (a lossless
    ``json`` and msgpack round trip, as channels_redis 4.3.0 ``serializers.py`` does it) and for
    the cases where a lossless round trip still gives False.

    Args:
        obj: any Python value.

    Returns:
        True iff ``obj`` is built only of exact ``dict`` (``str`` keys), ``list``, ``str``,
        signed 64-bit ``int``, finite ``float``, ``bool`` and ``None``, acyclic and at most
        :data:`MAX_DEPTH` levels deep.

    Raises:
        Nothing: a value that fails while being inspected gives False.
    """
    return _DEFAULT.validate_serializable(obj)


def dumps(obj: object, **json_kwargs: Any) -> str:
    """Return ``json.dumps(safe_serialize(obj), **json_kwargs)``.

    ``JSONSerializer().dumps(obj, **json_kwargs)``: no size limit, so the fallback frame appears
    only when shared references would write out more than :data:`MAX_EXPANDED_VALUES` values or
    ``json.dumps`` itself fails; see :meth:`JSONSerializer.dumps`.

    Args:
        obj: any Python value.
        json_kwargs: passed to ``json.dumps`` (``indent``, ``sort_keys``…); ``allow_nan``
            defaults to ``False``, which changes nothing since the value holds no NaN.

    Returns:
        Valid, strict JSON text. Use it where Channels would call plain ``json.dumps``
        (``encode_json``, channels 4.3.2 ``generic/websocket.py``).

    Raises:
        TypeError: ``json_kwargs`` are invalid for ``json.dumps``. Never for ``obj``.
    """
    return _DEFAULT.dumps(obj, **json_kwargs)


def encode_or_fallback(obj: object) -> str:
    """``JSONSerializer().encode_or_fallback(obj)``: strict JSON text, never raises.

    Args:
        obj: any Python value.

    Returns:
        The JSON text of ``safe_serialize(obj)``, or of the fallback frame
        ``error_frame("serialization_failed", reason)`` if it cannot be encoded (see
        :meth:`JSONSerializer.encode_or_fallback`).

    Raises:
        Nothing.
    """
    return _DEFAULT.encode_or_fallback(obj)


# --- conversion ---------------------------------------------------------------------------------


class _Frame:
    """A container or wrapper being converted: where its result goes, and what its subtree holds."""

    __slots__ = ("depth", "height", "slot", "target", "truncated", "value")

    def __init__(self, value: object, depth: int, target: _Target, slot: Any) -> None:
        self.value = value
        self.depth = depth
        self.target = target
        self.slot = slot
        self.height = 1  # levels used by this subtree: 1 + the tallest child container
        self.truncated = False  # some descendant became "<max depth>"


class _Done:
    """A finished conversion, kept for shared references to the same object."""

    __slots__ = ("depth", "height", "result", "truncated", "value")

    def __init__(self, frame: _Frame) -> None:
        self.value = frame.value  # keeps the object alive, so that its id is not reused
        self.result = frame.target[frame.slot]
        self.height = frame.height
        self.truncated = frame.truncated
        self.depth = frame.depth


class _Converter:
    """One ``safe_serialize`` call: an iterative depth-first walk with an identity memo.

    The stack holds visits ``(value, depth, target, slot)`` and exits (a ``_Frame``). A container
    or wrapper that finishes is remembered by ``id``; meeting it again reuses the result, provided
    the subtree fits under ``max_depth`` at the new depth (a result cut by the depth limit is reused
    only at the depth it was made for). So each distinct object is expanded at most once per depth,
    and once in total when nothing was cut.
    """

    __slots__ = ("done", "done_at_depth", "frames", "max_depth", "on_path", "reused", "stack")

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.stack: list[tuple[object, int, _Target, Any] | _Frame] = []
        self.frames: list[_Frame] = []  # the open containers, root first
        self.on_path: set[int] = set()
        self.done: dict[int, _Done] = {}
        self.done_at_depth: dict[tuple[int, int], _Done] = {}
        self.reused = 0  # how many times a finished result was reused (shared references)

    def run(self, obj: object) -> object:
        root: list[object] = [None]
        stack = self.stack
        stack.append((obj, 0, root, 0))
        while stack:
            task = stack.pop()
            if isinstance(task, _Frame):
                self._exit(task)
            else:
                value, depth, target, slot = task
                target[slot] = self._visit(value, depth, target, slot)
        return root[0]

    def _visit(self, value: object, depth: int, target: _Target, slot: Any) -> object:
        """Convert one value; for containers and wrappers, queue the children and return a stub."""
        try:
            leaf = _leaf(value)
            if leaf is not _EXPAND:
                return leaf
            key = id(value)
            if key in self.on_path:
                return _CYCLE
            reused = self._reusable(key, depth)
            if reused is not None:
                self.reused += 1
                self._child_finished(reused.height, reused.truncated)
                return reused.result
            if depth >= self.max_depth:
                if self.frames:
                    self.frames[-1].truncated = True
                return _TOO_DEEP
            result, children = _expand(value, target, slot)
        except Exception:
            return _unserializable(value)
        frame = _Frame(value, depth, target, slot)
        self.on_path.add(key)
        self.frames.append(frame)
        self.stack.append(frame)
        self.stack.extend((child, depth + 1, into, at) for child, into, at in reversed(children))
        return result

    def _reusable(self, key: int, depth: int) -> _Done | None:
        done = self.done.get(key)
        if done is not None and not done.truncated and depth + done.height <= self.max_depth:
            return done
        return self.done_at_depth.get((key, depth))

    def _exit(self, frame: _Frame) -> None:
        self.frames.pop()
        self.on_path.discard(id(frame.value))
        done = _Done(frame)
        if done.truncated:
            self.done_at_depth[(id(frame.value), frame.depth)] = done
        else:
            self.done[id(frame.value)] = done
        self._child_finished(frame.height, frame.truncated)

    def _child_finished(self, height: int, truncated: bool) -> None:
        if self.frames:
            parent = self.frames[-1]
            parent.height = max(parent.height, height + 1)
            parent.truncated = parent.truncated or truncated


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
        return number if _INT64_MIN <= number <= _INT64_MAX else _int_text(number)
    if isinstance(value, float):
        real = float.__float__(value)
        return real if math.isfinite(real) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (date, time, timedelta, Decimal, UUID, *_LAZY_TYPES)):
        return _format(value)
    if isinstance(value, _QUERY_TYPES):
        return _text(f"<QuerySet of {value.model._meta.label}>")  # type: ignore[attr-defined]
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
        return _text(value.isoformat())  # DjangoJSONEncoder raises ValueError for aware times
    if _django_default is None:
        return _text(value.isoformat() if isinstance(value, (date, time)) else value)
    return _text(_django_default(value))


def _key_text(key: object) -> str:
    try:
        if isinstance(key, (bytes, bytearray)):  # b"id" -> "id", not "b'id'"
            return _text(bytes(key).decode("utf-8", "replace"))
        if isinstance(key, int) and not isinstance(key, bool) and not isinstance(key, Enum):
            return _int_text(int.__int__(key))  # big ints too (str() refuses > 4300 digits)
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


_CHUNK_DIGITS = 600  # below the smallest digit limit sys.set_int_max_str_digits accepts (640)


def _int_text(number: int) -> str:
    """The decimal digits of ``number``, even past Python's int-to-str digit limit.

    ``str(int)`` raises ``ValueError`` past ``sys.get_int_max_str_digits()`` (4300 by default,
    CPython 3.11+). ``Decimal(int)`` is exact and its ``str`` has no such limit (libmpdec converts
    in subquadratic time); without the C ``decimal`` module, the digits are made in chunks.
    """
    try:
        return int.__repr__(number)
    except ValueError:
        pass
    try:
        text = str(Decimal(number))
        if text.lstrip("-").isdigit():
            return text
    except Exception:  # pragma: no cover - only the pure-Python decimal module gets here
        pass
    return _int_text_chunked(number)


def _int_text_chunked(number: int) -> str:
    """Decimal digits of ``number`` built from pieces of at most 600 digits each."""
    sign = "-" if number < 0 else ""
    rest = -number if number < 0 else number
    base = 10**_CHUNK_DIGITS
    pieces: list[str] = []
    while rest >= base:
        rest, piece = divmod(rest, base)
        pieces.append(int.__repr__(piece).zfill(_CHUNK_DIGITS))
    pieces.append(int.__repr__(rest))
    return sign + "".join(reversed(pieces))


def _type_name(value: object) -> str:
    """The real name of ``type(value)``, UTF-8 safe, even if a metaclass fakes or breaks ``__name__``."""
    try:
        name = type.__dict__["__name__"].__get__(type(value))  # skips metaclass properties
        return _text(name)
    except Exception:  # pragma: no cover - type.__name__ itself cannot fail
        return "object"


def _unserializable(value: object) -> str:
    return f"<unserializable {_type_name(value)}>"


def _expanded_count(value: object) -> int:
    """How many values ``json.dumps(value)`` writes (shared containers counted at every place).

    ``value`` is acyclic (a ``safe_serialize`` result or a validated value). Each container is
    visited once, with a memo, so the time is linear in distinct containers while the total may be
    astronomically larger.
    """
    counts: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(value, False)]
    while stack:
        node, children_done = stack.pop()
        items = node.values() if type(node) is dict else node  # type: ignore[union-attr]
        if children_done:
            total = 1
            for item in items:  # type: ignore[union-attr]
                total += counts.get(id(item), 1) if type(item) in (list, dict) else 1
            counts[id(node)] = total
            continue
        if type(node) not in (list, dict) or id(node) in counts:
            continue
        stack.append((node, True))
        containers = [item for item in items if type(item) in (list, dict)]  # type: ignore[union-attr]
        stack.extend((item, False) for item in containers if id(item) not in counts)
    return counts.get(id(value), 1)


def _too_many_reason(count: int, max_bytes: int | None) -> str:
    if max_bytes is not None and count > max_bytes:
        return (
            f"the encoded message would be at least {count} bytes (shared references written out), "
            f"over the limit of {max_bytes} (max_bytes)"
        )
    return f"the encoded message would hold {count} values (shared references written out), more than {MAX_EXPANDED_VALUES}"


# --- validation ---------------------------------------------------------------------------------


def _valid_scalar(value: object) -> bool:
    if type(value) is int:
        return _INT64_MIN <= value <= _INT64_MAX
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is str:
        return _utf8_ok(value)
    return value is None or type(value) is bool


def _scalar_problem(value: object) -> str:
    """Why a non-container value is not valid as it is (``value`` failed ``_valid_scalar``)."""
    kind = type(value)
    if kind is int:
        return "int outside the signed 64-bit range"
    if kind is float:
        return "NaN or infinity (strict JSON has neither)"
    if kind is str:
        return "str with a lone surrogate (not UTF-8 encodable)"
    if kind is tuple:
        return "tuple (comes back from msgpack as a list)"
    if isinstance(value, (str, int, float, dict, list)):
        return f"{_type_name(value)} is a subclass (comes back from msgpack as its base type)"
    return f"{_type_name(value)} is not a JSON/msgpack primitive"


def _first_problem(obj: object, max_depth: int) -> str | None:
    """``None`` if ``obj`` is valid as it is (see ``validate_serializable``), else where and why not.

    Iterative, with an identity memo: a shared container is inspected once (its height is reused
    to check the depth limit where it appears again).
    """
    # Tasks: (value, depth, path) visits and ("exit", id, depth) markers. ``path`` is a linked
    # list (parent_path, key) turned into text only when a problem is found.
    stack: list[Any] = [(obj, 0, None)]
    on_path: set[int] = set()
    heights: dict[int, int] = {}  # id -> height of a finished, valid container
    alive: list[object] = []  # keeps inspected containers alive, so that ids are not reused
    open_heights: list[int] = []  # heights of the containers being inspected, root first
    try:
        while stack:
            task = stack.pop()
            if len(task) == 4:
                _, key, _, _ = task
                on_path.discard(key)
                height = open_heights.pop()
                heights[key] = height
                if open_heights:
                    open_heights[-1] = max(open_heights[-1], height + 1)
                continue
            value, depth, path = task
            if type(value) is dict:
                for item_key in value:
                    if type(item_key) is not str:
                        return f"{_format_path('value', path)}: key {_short_repr(item_key)} is not a str"
                    if not _utf8_ok(item_key):
                        return f"{_format_path('value', path)}: a key has a lone surrogate (not UTF-8 encodable)"
                children: list[tuple[object, object]] = list(value.items())
            elif type(value) is list:
                children = list(enumerate(value))
            elif _valid_scalar(value):
                continue
            else:
                return f"{_format_path('value', path)}: {_scalar_problem(value)}"
            key = id(value)
            if key in on_path:
                return f"{_format_path('value', path)}: refers back to a container it is inside (a cycle)"
            if key in heights:
                if depth + heights[key] > max_depth:
                    return f"{_format_path('value', path)}: nested deeper than max_depth={max_depth}"
                if open_heights:
                    open_heights[-1] = max(open_heights[-1], heights[key] + 1)
                continue
            if depth >= max_depth:
                return f"{_format_path('value', path)}: nested deeper than max_depth={max_depth}"
            on_path.add(key)
            alive.append(value)
            open_heights.append(1)
            stack.append(("exit", key, depth, None))
            stack.extend((child, depth + 1, (path, index)) for index, child in reversed(children))
    except Exception as error:  # e.g. "dictionary changed size during iteration"
        return f"value: could not be inspected ({_type_name(error)})"
    return None


def _format_path(root: str, path: Any, limit: int = 12) -> str:
    """``root["a"][0]`` from a ``(parent, key)`` linked list; long paths keep both ends."""
    keys: list[object] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    if len(keys) > limit:
        shown = [_path_item(key) for key in keys[: limit // 2]] + [f"…({len(keys) - limit} more)…"]
        shown += [_path_item(key) for key in keys[-(limit // 2) :]]
    else:
        shown = [_path_item(key) for key in keys]
    return root + "".join(shown)


def _path_item(key: object) -> str:
    if type(key) is int:
        return f"[{key}]"
    return f"[{_short_repr(key)}]"


def _short_repr(key: object, limit: int = 40) -> str:
    """A short, ASCII, never-raising representation of a key (names no type faked by a metaclass)."""
    try:
        text = json.dumps(key) if type(key) is str else ascii(key)
    except Exception:
        text = f"<{_type_name(key)}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
