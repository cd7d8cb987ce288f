"""JSON consumer mixins whose ``encode_json`` never fails on datetimes, UUIDs, Decimals, models…

Channels' ``JsonWebsocketConsumer.encode_json`` and ``AsyncJsonWebsocketConsumer.encode_json`` are
plain ``json.dumps(content)`` (channels 4.3.2 ``generic/websocket.py``): ``send_json`` with a
``datetime``, ``UUID`` or ``Decimal`` raises ``TypeError`` and kills the connection. The mixins
below encode with :meth:`JSONSerializer.encode_or_fallback` instead::

    from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
    from channels_lint.runtime import JSONSerializer
    from channels_lint.runtime.consumers import AsyncSafeJsonConsumerMixin, SafeJsonConsumerMixin

    class ChatConsumer(AsyncSafeJsonConsumerMixin, AsyncJsonWebsocketConsumer):
        json_serializer = JSONSerializer(max_bytes=64 * 1024)   # optional

    class SyncChatConsumer(SafeJsonConsumerMixin, JsonWebsocketConsumer):
        ...

The mixin must come before the Channels base class, and ``encode_json`` is an ``async``
classmethod in the async consumer but a plain one in the sync consumer. The wrong mixin would fail
on the first ``send_json`` (``TypeError: object str can't be used in 'await' expression``) and a
mixin placed after the base class would silently do nothing, so both raise ``TypeError`` when the
class is defined instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer

from .serializer import JSONSerializer

__all__ = ["AsyncSafeJsonConsumerMixin", "SafeJsonConsumerMixin"]

_DEFAULT_SERIALIZER = JSONSerializer()


def _check_consumer_class(cls: type, mixin: type, wrong_base: type, right_base: type, right_mixin: str) -> None:
    """Raise ``TypeError`` if ``cls`` combines ``mixin`` with the wrong base or lets the base shadow it."""
    if issubclass(cls, wrong_base):
        raise TypeError(
            f"{cls.__qualname__}: {mixin.__name__} is for {right_base.__name__}; use {right_mixin} with {wrong_base.__name__}"
        )
    for klass in cls.__mro__:
        if "encode_json" in vars(klass):
            if klass is right_base:
                raise TypeError(
                    f"{cls.__qualname__}: list {mixin.__name__} before {right_base.__name__} in the bases, "
                    f"or {right_base.__name__}.encode_json (plain json.dumps) is used"
                )
            return


class SafeJsonConsumerMixin:
    """For ``JsonWebsocketConsumer`` (sync): ``encode_json`` through a :class:`JSONSerializer`.

    Class attribute:
        json_serializer: the :class:`JSONSerializer` used; the default has no size limit. Set e.g.
            ``JSONSerializer(max_bytes=65536, sort_keys=True)`` to change it.

    ``send_json(content)`` then sends ``json_serializer.encode_or_fallback(content)``: strict JSON
    of the converted content, or the fallback frame ``{"type": "error", "error":
    "serialization_failed", "reason": ...}`` when the content cannot be sent. It never raises.
    """

    json_serializer: ClassVar[JSONSerializer] = _DEFAULT_SERIALIZER

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_consumer_class(
            cls, SafeJsonConsumerMixin, AsyncJsonWebsocketConsumer, JsonWebsocketConsumer, "AsyncSafeJsonConsumerMixin"
        )

    @classmethod
    def encode_json(cls, content: object) -> str:
        """Return ``content`` as JSON text; never raises (see the class docstring)."""
        return cls.json_serializer.encode_or_fallback(content)


class AsyncSafeJsonConsumerMixin:
    """For ``AsyncJsonWebsocketConsumer``: an ``async`` ``encode_json`` through a :class:`JSONSerializer`.

    Class attribute:
        json_serializer: the :class:`JSONSerializer` used; the default has no size limit.

    ``await self.send_json(content)`` then sends ``json_serializer.encode_or_fallback(content)``:
    strict JSON of the converted content, or the fallback frame when it cannot be sent. Encoding
    runs on the event loop, as Channels' own ``encode_json`` does; it never raises.
    """

    json_serializer: ClassVar[JSONSerializer] = _DEFAULT_SERIALIZER

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_consumer_class(
            cls, AsyncSafeJsonConsumerMixin, JsonWebsocketConsumer, AsyncJsonWebsocketConsumer, "SafeJsonConsumerMixin"
        )

    @classmethod
    async def encode_json(cls, content: object) -> str:
        """Return ``content`` as JSON text; never raises (see the class docstring)."""
        return cls.json_serializer.encode_or_fallback(content)
