"""``StrictInMemoryChannelLayer``: an in-memory channel layer for tests that fails like Redis would.

``channels.layers.InMemoryChannelLayer`` (channels 4.3.2 ``layers.py``) stores a ``deepcopy`` of each
message, so it accepts datetimes, Decimals, sets, model instances, int-keyed dicts… and tests pass
for payloads that fail in production on ``channels_redis``. This layer sends every message through
msgpack exactly as channels_redis 4.3.0 does (``serializers.py``: ``MsgPackSerializer.as_bytes =
msgpack.packb`` and ``from_bytes = msgpack.unpackb``, msgpack's defaults, so ``use_bin_type=True``,
``raw=False``, ``strict_map_key=True``), and receivers get the *unpacked* copy: tuples arrive as
lists, ``bytearray``/``memoryview`` as ``bytes``, ``str``/``int`` subclasses (``SafeString``,
``IntEnum``…) as plain ``str``/``int``, exactly as on Redis.

Use it in test settings::

    # settings_test.py (or an override_settings in a test)
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_lint.runtime.layers.StrictInMemoryChannelLayer",
            # optional, as for InMemoryChannelLayer: "CONFIG": {"capacity": 100, "expiry": 60},
        }
    }

Channels reads ``CHANNEL_LAYERS`` when a layer is first used and rebuilds it when the setting
changes (``ChannelLayerManager._reset_backends`` on ``setting_changed``), so
``override_settings(CHANNEL_LAYERS=...)`` works too. Requires ``msgpack`` (installed with
channels_redis).

What fails, and where (every failure raises in ``send``/``group_send``, even to an empty group,
with the place in the message, e.g. ``event["payload"]["at"]: datetime is not msgpack-serializable``):

* ``TypeError``: the message is not a ``dict``; its ``"type"`` is not a ``str``; a value msgpack
  cannot pack (``datetime``, ``Decimal``, ``UUID``, ``set``, plain ``Enum``, lazy strings, model
  instances, QuerySets…: msgpack's ``TypeError: can not serialize 'X' object``); a bad group or
  channel name (the base class's ``require_valid_group_name``/``require_valid_channel_name``, the
  same checks channels_redis 4.3.0 ``core.py`` runs).
* ``ValueError``: no ``"type"`` key, or a type starting with ``_`` once dots become underscores
  (every receiving consumer would raise ``ValueError`` in ``dispatch``, channels 4.3.2
  ``consumer.py``); an int outside msgpack's range (-2**63 .. 2**64-1: ``OverflowError``
  there); a string with a lone surrogate (``UnicodeEncodeError``); nesting deeper than msgpack's
  limit (1024 levels in msgpack 1.2.4) or a cycle; a dict key that is not ``str`` or ``bytes``
  (``int``, ``float``, ``bool``, ``None``, ``tuple``, ``Enum``…). channels_redis *sends* such a
  message, but every receiver fails while unpacking it with ``ValueError: int is not allowed for
  map key when strict_map_key=True``; here the sender fails instead.

What it accepts that JSON would not: ``bytes`` (channels_redis carries them; a JSON consumer
cannot), ints from 2**63 to 2**64-1 (msgpack packs them unsigned), and NaN/infinity floats. Run
the payload through :func:`~channels_lint.runtime.safe_serialize` first to get JSON-safe data.
``"__asgi_channel__"`` in a message is refused as by the base class.
"""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer
from django.core.exceptions import ImproperlyConfigured

from .serializer import _format_path, _short_repr, _type_name

try:
    import msgpack
except ImportError:  # pragma: no cover - msgpack comes with channels_redis
    msgpack = None

__all__ = ["StrictInMemoryChannelLayer", "check_message"]

#: msgpack 1.2.4 ``fallback.py`` ``DEFAULT_RECURSE_LIMIT``: deepest nesting ``packb`` accepts.
MSGPACK_NEST_LIMIT = 1024


class StrictInMemoryChannelLayer(InMemoryChannelLayer):
    """``InMemoryChannelLayer`` that round-trips each message through msgpack as channels_redis does.

    Args:
        expiry, group_expiry, capacity, channel_capacity: as ``InMemoryChannelLayer`` (channels
            4.3.2 ``layers.py``): message expiry and group membership expiry in seconds, default
            queue capacity, per-channel capacities.

    Raises:
        ImproperlyConfigured: msgpack is not installed (at construction).

    ``send(channel, message)`` and ``group_send(group, message)`` raise ``TypeError``/``ValueError``
    as listed in the module docstring, before anything is queued; receivers get the unpacked copy.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if msgpack is None:
            raise ImproperlyConfigured("StrictInMemoryChannelLayer needs msgpack (pip install channels-redis or msgpack)")
        super().__init__(*args, **kwargs)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Validate and round-trip ``message`` through msgpack, then queue the copy on ``channel``."""
        self.require_valid_channel_name(channel)
        await super().send(channel, _Unpacked(check_message(message)))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Validate and round-trip ``message`` (even if the group is empty), then send the copy."""
        self.require_valid_group_name(group)
        await super().group_send(group, check_message(message))


class _Unpacked(dict):  # type: ignore[type-arg]
    """The unpacked copy, handed to ``InMemoryChannelLayer.send``, which queues ``deepcopy(message)``.

    The copy is already private, so its deep copy is the plain ``dict`` itself: copying again would
    be wasted work, and ``copy.deepcopy`` recurses once per level, so it would overflow Python's
    recursion limit on messages msgpack accepts (up to 1024 levels).
    """

    __slots__ = ("_plain",)

    def __init__(self, plain: dict[str, Any]) -> None:
        super().__init__(plain)
        self._plain = plain

    def __deepcopy__(self, memo: dict[int, object]) -> dict[str, Any]:
        return self._plain


def check_message(message: object, name: str = "event") -> dict[str, Any]:
    """Return what a channels_redis receiver gets for ``message``, or raise where it would fail.

    Args:
        message: a channel-layer message (event).
        name: how the message is called in error texts (``event["payload"]["at"]: ...``).

    Returns:
        ``msgpack.unpackb(msgpack.packb(message))`` with msgpack's defaults, as channels_redis 4.3.0
        ``serializers.py`` does: a new ``dict`` (tuples become lists, subclasses their base type).

    Raises:
        TypeError: ``message`` is not a ``dict``, its ``"type"`` is not a ``str``, or it holds a
            value msgpack cannot pack.
        ValueError: no ``"type"``, a type starting with ``_`` after dots become underscores, an int
            out of msgpack's range, a lone surrogate, nesting past 1024 levels or a cycle, or a dict
            key other than ``str``/``bytes`` (which makes every channels_redis receiver fail).
        ImproperlyConfigured: msgpack is not installed.
    """
    if msgpack is None:  # pragma: no cover
        raise ImproperlyConfigured("check_message needs msgpack (pip install channels-redis or msgpack)")
    if not isinstance(message, dict):
        raise TypeError(f"{name}: a channel-layer message must be a dict, not {_type_name(message)}")
    if "type" not in message:
        raise ValueError(
            f"{name} has no 'type' key: every receiving consumer would fail with "
            "ValueError: Incoming message has no 'type' attribute (channels consumer.py)"
        )
    event_type = message["type"]
    if not isinstance(event_type, str):
        raise TypeError(f'{name}["type"]: {_type_name(event_type)} is not a str; consumers dispatch on the type text')
    if event_type.replace(".", "_").startswith("_"):
        raise ValueError(
            f'{name}["type"] = {_short_repr(event_type)}: no consumer can handle a type starting with "_" or "." '
            "(channels consumer.py: Malformed type in message (leading underscore))"
        )
    try:
        packed = msgpack.packb(message)
    except Exception as error:
        raise _pack_failure(message, name, error) from error
    try:
        return msgpack.unpackb(packed)
    except Exception as error:
        raise _unpack_failure(message, name, error) from error


# --- locating the failure -----------------------------------------------------------------------
# msgpack reports what failed but not where; these walks repeat its packing order (msgpack 1.2.4
# ``fallback.py`` ``Packer._pack``: None, bool, int, bytes/bytearray, str, memoryview, float,
# ExtType/Timestamp, list/tuple, dict; subclasses included since channels_redis does not set
# ``strict_types``) to find the first offending value.


def _kind(value: object) -> str:
    """How msgpack's packer treats ``value``: "array", "map", "key-ok" (str/bytes-like) or "scalar"."""
    if value is None or isinstance(value, (bool, int)):
        return "scalar"
    if isinstance(value, (bytes, bytearray, str, memoryview)):
        return "key-ok"
    if isinstance(value, float):
        return "scalar"
    if isinstance(value, (msgpack.ExtType, msgpack.Timestamp)):
        return "scalar"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "map"
    return "scalar"  # packed by itself below, which raises msgpack's own TypeError


def _walk(message: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Yield ``(path, value, depth, is_key)`` in msgpack's packing order (depth-first, key before value).

    Keys are yielded but not entered: a key is checked as a whole.
    """
    stack: list[tuple[Any, object, int, bool]] = [(None, message, 0, False)]
    while stack:
        path, value, depth, is_key = stack.pop()
        yield path, value, depth, is_key
        if is_key or depth >= MSGPACK_NEST_LIMIT:
            continue  # past the limit msgpack fails on the children; the caller reports it
        kind = _kind(value)
        if kind == "array":
            stack.extend(((path, index), item, depth + 1, False) for index, item in reversed(list(enumerate(value))))
        elif kind == "map":
            children: list[tuple[Any, object, int, bool]] = []
            for key, item in list(value.items()):
                children.append((path, key, depth + 1, True))
                children.append(((path, key), item, depth + 1, False))
            stack.extend(reversed(children))


def _pack_failure(message: dict[str, Any], name: str, error: Exception) -> Exception:
    for path, value, depth, is_key in _walk(message):
        where = _format_path(name, path)
        if depth >= MSGPACK_NEST_LIMIT and _kind(value) in ("array", "map") and len(value) > 0:  # type: ignore[arg-type]
            return ValueError(
                f"{where}: nested deeper than msgpack's limit of {MSGPACK_NEST_LIMIT} levels, or a cycle "
                "(msgpack: recursion limit exceeded)"
            )
        if not is_key and _kind(value) in ("array", "map"):
            continue
        try:
            msgpack.packb(value)
        except Exception as leaf_error:
            return _describe(where, value, is_key, leaf_error)
    return TypeError(f"{name}: not msgpack-serializable ({_type_name(error)}: {error})")


def _describe(where: str, value: object, is_key: bool, error: Exception) -> Exception:
    prefix = f"{where}: key {_short_repr(value)}: " if is_key else f"{where}: "
    if isinstance(error, OverflowError):
        return ValueError(f"{prefix}int outside msgpack's range -2**63 .. 2**64-1 (msgpack: {error})")
    if isinstance(error, UnicodeEncodeError):
        return ValueError(f"{prefix}str with a lone surrogate, not UTF-8 encodable")
    if isinstance(error, TypeError):
        if is_key:
            return TypeError(f"{prefix}not msgpack-serializable (msgpack: {error})")
        return TypeError(f"{where}: {_type_name(value)} is not msgpack-serializable")
    return ValueError(f"{prefix}{_type_name(error)}: {error}")


def _unpack_failure(message: dict[str, Any], name: str, error: Exception) -> Exception:
    for path, value, _depth, is_key in _walk(message):
        if is_key and _kind(value) != "key-ok":
            try:  # the type a receiver sees: a tuple key arrives as a list, an IntEnum as an int...
                received = _type_name(msgpack.unpackb(msgpack.packb(value), strict_map_key=False))
            except Exception:  # pragma: no cover - the whole message was packed already
                received = _type_name(value)
            return ValueError(
                f"{_format_path(name, path)}: key {_short_repr(value)}: {received} is not allowed for map key "
                "when strict_map_key=True. channels_redis 4.3.0 sends this message, but every receiver fails "
                "to unpack it; use str keys"
            )
    return ValueError(f"{name}: every receiver would fail to unpack it ({_type_name(error)}: {error})")
