"""Notifications with fallback: an ordered list of delivery backends, each failure recorded.

::

    service = NotificationService()          # CHANNELS_LINT_RUNTIME["NOTIFICATION_BACKENDS"]
    status = await service.notify(user.pk, {"text": "you were mentioned"})
    # {"ok": True, "id": 12, "status": "delivered", "backend": "channel_layer", "attempts": [...]}
    await service.status(12)                 # the same dict, read back from the database

Backends are tried in order until one succeeds; a backend that raises is recorded
(``MessagingError`` category ``notification``, action ``next_backend``, and a log line) and the
next one is tried. The default order:

1. :class:`ChannelLayerBackend`: ``group_send`` to the user's group
   (``CHANNELS_LINT_RUNTIME["NOTIFICATION_GROUP"]``, default ``"notifications.user.{user_id}"``) with
   an event ``{"type": "notification.message", "id": ..., "payload": ...}``. A group with no member
   counts as a failure (``NoRecipient``): Channels' ``group_send`` to an empty group succeeds
   silently (docs/semantics.md §5.3-5.4), which would mark an undelivered notification
   "delivered". Membership is read from ``InMemoryChannelLayer.groups`` or the channels_redis
   group sorted set (``RedisChannelLayer._group_key``, channels_redis 4.3.0 ``core.py``); for any
   other layer the check is skipped.
2. :class:`InboxBackend`: the notification stays in the database with status ``"inbox"``; the
   consumer mixins deliver it on the user's next connect
   (:meth:`~channels_lint.runtime.mixins.ResilientConsumerBase.join_notifications`), then it becomes
   ``"delivered"``.
3. Any :class:`HookBackend` (a callable such as an e-mail sender) added by the project.

Every notification is a ``Notification`` row (status ``pending`` -> ``delivered`` | ``inbox`` |
``failed``, the backend used, and every attempt). When the database is down the status is kept
in the returned dict only (``"id": None``) and the inbox backend fails over to the next one.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from .conf import runtime_settings

__all__ = [
    "ChannelLayerBackend",
    "HookBackend",
    "InboxBackend",
    "NoRecipient",
    "NotificationService",
]

EVENT_TYPE = "notification.message"


class NoRecipient(Exception):
    """The user has no live connection in the notification group."""


def notification_group(user_id: Any) -> str:
    """The user's notification group name (``NOTIFICATION_GROUP`` formatted with ``user_id``)."""
    return str(runtime_settings()["NOTIFICATION_GROUP"]).format(user_id=user_id)


class ChannelLayerBackend:
    """Deliver through the channel layer to the user's group (live connections only).

    Args:
        layer_alias: the ``CHANNEL_LAYERS`` alias.
        require_member: refuse (``NoRecipient``) when the group has no member.
    """

    name = "channel_layer"

    def __init__(self, layer_alias: str = "default", *, require_member: bool = True) -> None:
        self.layer_alias = layer_alias
        self.require_member = require_member

    async def deliver(self, user_id: Any, payload: dict, notification_id: Any) -> str:
        from channels.layers import get_channel_layer
        from django.core.exceptions import ImproperlyConfigured

        layer = get_channel_layer(self.layer_alias)
        if layer is None:
            raise ImproperlyConfigured(f"no channel layer {self.layer_alias!r}")
        group = notification_group(user_id)
        if self.require_member and not await _has_members(layer, group):
            raise NoRecipient(f"nobody is connected in group {group!r}")
        await layer.group_send(group, {"type": EVENT_TYPE, "id": notification_id, "payload": payload})
        return "delivered"


class InboxBackend:
    """Keep the notification in the database for the user's next connect."""

    name = "inbox"

    async def deliver(self, user_id: Any, payload: dict, notification_id: Any) -> str:
        if notification_id is None:
            raise RuntimeError("the notification could not be stored, so it cannot wait in the inbox")
        return "inbox"


class HookBackend:
    """Deliver with a project callable, e.g. an e-mail sender.

    Args:
        func: ``func(user_id, payload)``, sync (run in a worker thread) or ``async``; raising means
            the delivery failed.
        name: the name recorded as the backend (default: the function's name).
    """

    def __init__(self, func: Callable[[Any, dict], Any], name: str | None = None) -> None:
        self.func = func
        self.name = name or getattr(func, "__name__", "hook")

    async def deliver(self, user_id: Any, payload: dict, notification_id: Any) -> str:
        if inspect.iscoroutinefunction(self.func):
            await self.func(user_id, payload)
        else:
            from asgiref.sync import sync_to_async

            await sync_to_async(self.func, thread_sensitive=False)(user_id, payload)
        return "delivered"


class NotificationService:
    """Send notifications through an ordered list of backends, recording each failure.

    Args:
        backends: backend objects (with ``name`` and ``async deliver(user_id, payload, id)``),
            classes, plain callables (wrapped in :class:`HookBackend`) or dotted paths of any of
            these; default ``CHANNELS_LINT_RUNTIME["NOTIFICATION_BACKENDS"]``.
    """

    def __init__(self, backends: list[Any] | None = None) -> None:
        entries = backends if backends is not None else runtime_settings()["NOTIFICATION_BACKENDS"]
        self.backends = [_backend(entry) for entry in entries]

    async def notify(self, user_id: Any, payload: dict, *, consumer: object = "") -> dict[str, Any]:
        """Deliver one notification; never raises.

        Args:
            user_id: the recipient's id (stored as text).
            payload: content; made JSON-safe with ``safe_serialize`` and NUL characters replaced by
                U+FFFD (PostgreSQL refuses them), then delivered and stored in that form.
            consumer: recorded with failures.

        Returns:
            ``{"ok": bool, "id": pk | None, "status": "delivered" | "inbox" | "failed",
            "backend": name | "", "attempts": [{"backend", "ok", "error"}, ...]}``.
        """
        from .errors import _without_nul, arecord_error
        from .serializer import safe_serialize

        # what is stored is what is delivered: JSON-safe, and without NUL (PostgreSQL's jsonb refuses it)
        payload = _without_nul(safe_serialize(payload) if isinstance(payload, dict) else {"value": safe_serialize(payload)})
        notification_id = await _db(_create_row, str(user_id), payload)
        attempts: list[dict[str, Any]] = []
        status, used = "failed", ""
        for backend in self.backends:
            name = str(getattr(backend, "name", type(backend).__name__))
            try:
                outcome = await backend.deliver(user_id, payload, notification_id)
                status = outcome if outcome in ("delivered", "inbox") else "delivered"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempts.append({"backend": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]})
                await arecord_error(
                    exc,
                    category="notification",
                    operation=f"notify:{name}",
                    consumer=consumer,
                    user_id=user_id,
                    recovery_action="next_backend",
                    context={"notification_id": notification_id, "backend": name, "position": len(attempts)},
                )
                continue
            attempts.append({"backend": name, "ok": True, "error": ""})
            used = name
            break
        else:
            status = "failed"
            await arecord_error(
                "NotificationUndelivered",
                category="notification",
                operation="notify",
                consumer=consumer,
                user_id=user_id,
                recovery_action="dropped",
                context={"notification_id": notification_id, "attempts": attempts},
            )
        result = {"ok": status != "failed", "id": notification_id, "status": status, "backend": used, "attempts": attempts}
        if notification_id is not None:
            await _db(_update_row, notification_id, status, used, attempts)
        return result

    async def status(self, notification_id: Any) -> dict[str, Any] | None:
        """The stored status of a notification (the :meth:`notify` dict), or ``None`` if unknown
        or the database is unreachable."""
        return await _db(_read_row, notification_id)

    async def deliver_inbox(self, user_id: Any, send: Callable[[dict], Awaitable[Any]]) -> int:
        """Send the user's waiting notifications, oldest first, as ``{"type": "notification",
        "id", "payload"}`` frames through ``send``; each is marked delivered once sent. Returns how
        many were sent; never raises (a failed send leaves the rest in the inbox)."""
        from .errors import arecord_error

        waiting = await _db(_inbox_rows, str(user_id)) or []
        sent = 0
        for notification_id, payload in waiting:
            try:
                await send({"type": "notification", "id": notification_id, "payload": payload})
            except Exception as exc:
                await arecord_error(
                    exc,
                    category="notification",
                    operation="deliver_inbox",
                    user_id=user_id,
                    recovery_action="queued",
                    context={"notification_id": notification_id},
                )
                break
            await _db(_mark_delivered, notification_id)
            sent += 1
        return sent


def _backend(entry: Any) -> Any:
    if isinstance(entry, str):
        from django.utils.module_loading import import_string

        entry = import_string(entry)
    if isinstance(entry, type):
        entry = entry()
    if hasattr(entry, "deliver"):
        return entry
    if callable(entry):
        return HookBackend(entry)
    raise TypeError(f"not a notification backend: {entry!r}")


async def _has_members(layer: Any, group: str) -> bool:
    layer = getattr(layer, "wrapped", layer)
    groups = getattr(layer, "groups", None)
    if isinstance(groups, dict):  # InMemoryChannelLayer
        return bool(groups.get(group))
    group_key = getattr(layer, "_group_key", None)
    if callable(group_key) and hasattr(layer, "connection"):  # channels_redis RedisChannelLayer
        key = group_key(group)
        connection = layer.connection(layer.consistent_hash(group))
        return bool(await connection.zcard(key))
    return True


async def _db(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func`` in the database thread; ``None`` when the database fails (logged)."""
    from channels.db import database_sync_to_async

    from .errors import _reset_connection_if_broken

    def call() -> Any:
        try:
            return func(*args)
        except Exception:
            _reset_connection_if_broken()
            raise

    try:
        return await database_sync_to_async(call)()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        from .errors import _logger

        _logger().warning("notification storage failed (%s: %s)", type(exc).__name__, exc)
        return None


def _create_row(user_id: str, payload: dict) -> int:
    from .models import Notification

    return Notification.objects.create(user_id=user_id[:150], payload=payload).pk


def _update_row(pk: int, status: str, backend: str, attempts: list) -> None:
    from django.utils import timezone

    from .models import Notification

    Notification.objects.filter(pk=pk).update(
        status=status, backend=backend, attempts=attempts, delivered_at=timezone.now() if status == "delivered" else None
    )


def _read_row(pk: Any) -> dict[str, Any] | None:
    from .models import Notification

    row = Notification.objects.filter(pk=pk).first()
    if row is None:
        return None
    return {"ok": row.status != "failed", "id": row.pk, "status": row.status, "backend": row.backend, "attempts": row.attempts}


def _inbox_rows(user_id: str) -> list[tuple[int, Any]]:
    from .models import Notification

    return list(
        Notification.objects.filter(user_id=user_id, status="inbox").order_by("created_at", "id").values_list("id", "payload")
    )


def _mark_delivered(pk: int) -> None:
    from django.utils import timezone

    from .models import Notification

    Notification.objects.filter(pk=pk, status="inbox").update(status="delivered", delivered_at=timezone.now())
