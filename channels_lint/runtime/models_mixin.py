"""``SerializableModelMixin``: a model's WebSocket representation, from a declared field list.

::

    from channels_lint.runtime.models_mixin import SerializableModelMixin

    class Message(SerializableModelMixin, models.Model):
        websocket_fields = ("id", "room", "body", "sent_at")
        room = models.ForeignKey(Room, on_delete=models.CASCADE)
        body = models.TextField()
        sent_at = models.DateTimeField(auto_now_add=True)

    message.to_dict()
    # {"id": 7, "room": 3, "body": "hi", "sent_at": "2024-01-02T03:04:05.123Z"}
    await self.channel_layer.group_send("room-3", message.to_websocket_message(type="chat.message"))

Only the declared fields are ever included, so adding a column (a password hash, an internal
note) never leaks it to clients. A model without ``to_dict()`` is serialized by
:func:`~channels_lint.runtime.safe_serialize` as ``{"pk": ...}`` only.

This module defines no model. It does not import ``django.db.models`` at the package's import
time either: ``channels_lint.runtime`` exports the mixin lazily.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models.signals import class_prepared

from .serializer import safe_serialize

__all__ = ["SerializableModelMixin"]


class SerializableModelMixin:
    """Mix into a Django model to get ``to_dict()`` and ``to_websocket_message()``.

    Class attribute:
        websocket_fields: tuple of field names to include, in order, e.g. ``("id", "title",
            "author")``; ``"pk"`` names the primary key under the key ``"pk"``. Each name must be a
            concrete, non-many-to-many field of the model. Checked when the model class is
            prepared (Django's ``class_prepared`` signal): a wrong name raises
            ``ImproperlyConfigured`` at import time, never while a consumer runs.

    Values:
        * an ordinary field gives its value as :func:`safe_serialize` converts it (datetimes as
          ISO 8601 text, ``Decimal``/``UUID`` as ``str``…);
        * a ``ForeignKey``/``OneToOneField`` gives the raw column value (``author_id``: the related
          object's pk, or its ``to_field``), read without a query;
        * a field deferred by ``only()``/``defer()`` is left out rather than loaded: loading it
          would run a query, which raises ``SynchronousOnlyOperation`` in async code (django 5.2
          ``utils/asyncio.py``, ``async_unsafe``).

    Many-to-many and reverse relations are refused: reading them always queries the database.
    """

    websocket_fields: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, object]:
        """Return the declared fields as a JSON- and msgpack-safe ``dict``.

        Returns:
            ``{name: value}`` for each name of ``websocket_fields`` in order (deferred fields
            omitted); every value is already converted by :func:`safe_serialize`, so
            ``json.dumps(result, allow_nan=False)`` and channels_redis 4.3.0's msgpack both accept
            the result.

        Raises:
            Nothing for a model whose ``websocket_fields`` passed the class check.
        """
        meta = self._meta  # type: ignore[attr-defined]
        deferred = self.get_deferred_fields()  # type: ignore[attr-defined]
        data: dict[str, object] = {}
        for name in self.websocket_fields:
            field = meta.pk if name == "pk" else meta.get_field(name)
            if field.attname in deferred:
                continue
            data[name] = getattr(self, field.attname)
        result = safe_serialize(data)
        return result if isinstance(result, dict) else {}

    def to_websocket_message(self, type: str) -> dict[str, object]:
        """Return a channel-layer event carrying :meth:`to_dict`.

        Args:
            type: the event type, e.g. ``"chat.message"``; a receiving consumer handles it in the
                method ``type.replace(".", "_")`` (channels 4.3.2 ``consumer.py``). Converted with
                ``str()`` if it is not a ``str``.

        Returns:
            ``{"type": type, "data": self.to_dict()}``, ready for ``group_send``/``send``: accepted
            by channels_redis 4.3.0's msgpack and by ``json.dumps(allow_nan=False)``.

        Raises:
            Nothing for a model whose ``websocket_fields`` passed the class check.
        """
        event_type = safe_serialize(type)
        return {"type": event_type if isinstance(event_type, str) else str(event_type), "data": self.to_dict()}


def _check_websocket_fields(sender: Any, **kwargs: Any) -> None:
    """``class_prepared`` receiver: every name of ``websocket_fields`` must be a readable field."""
    if not (isinstance(sender, type) and issubclass(sender, SerializableModelMixin)):
        return
    names = sender.websocket_fields
    label = sender._meta.label  # type: ignore[attr-defined]
    if isinstance(names, str) or not isinstance(names, (tuple, list)):
        raise ImproperlyConfigured(f"{label}.websocket_fields must be a tuple of field names, not {names!r}")
    for name in names:
        if name == "pk":
            continue
        if not isinstance(name, str):
            raise ImproperlyConfigured(f"{label}.websocket_fields: {name!r} is not a field name")
        try:
            field = sender._meta.get_field(name)  # type: ignore[attr-defined]
        except FieldDoesNotExist:
            raise ImproperlyConfigured(f"{label}.websocket_fields: {label} has no field {name!r}") from None
        if field.many_to_many or not getattr(field, "concrete", False):
            raise ImproperlyConfigured(
                f"{label}.websocket_fields: {name!r} is a many-to-many, reverse or virtual field; reading it "
                "queries the database (SynchronousOnlyOperation in async code). Send ids from a sync "
                "context (database_sync_to_async) instead."
            )


class_prepared.connect(_check_websocket_fields, dispatch_uid="channels_lint.runtime.models_mixin")
