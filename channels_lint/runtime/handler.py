"""``AsyncSafeMessageHandler``: store and read chat messages from async consumers, safely.

What "safely" means here, with the facts it rests on:

* **No async-context violation.** Every query runs through ``channels.db.database_sync_to_async``
  (a ``SyncToAsync`` subclass that closes stale connections around the call; channels 4.3.2
  ``channels/db.py``, docs/semantics.md §3.1). A query on the event loop's thread raises
  ``SynchronousOnlyOperation`` (Django 5.2 ``django/utils/asyncio.py``, §4.2), and
  ``transaction.atomic`` cannot be used from async code at all (§4.2 table), so the whole write,
  transaction included, runs in the worker thread.
* **Transactions.** A message and its idempotency receipt are written in one
  ``transaction.atomic`` block; any error rolls both back, including an error raised by the
  :meth:`AsyncSafeMessageHandler.after_create` hook.
* **Transient vs permanent errors** (:func:`channels_lint.runtime.errors.classify_error`): lost or
  refused database connections (``OperationalError``/``InterfaceError``), network errors and Redis
  ``ConnectionError``/``TimeoutError`` are retried with exponential backoff and jitter
  (:class:`RetryPolicy`, bounded attempts); validation and integrity errors are never retried.
* **Idempotency.** Each stored message gets a ``MessageReceipt`` row keyed by the client's message
  id (``message_data["client_id"]``, scoped by model, room and user) or, when the client sent none,
  a key made once per call. A retry after an ambiguous failure (the commit happened but its answer
  was lost) finds the receipt and returns the stored message with ``"duplicate": True`` instead
  of storing it again. Receipts need the runtime app installed; without it there are none.
* **Never raises into the consumer.** Every public coroutine returns a JSON- and msgpack-safe
  ``dict``: ``{"ok": True, ...}`` or the error frame shape of
  :func:`channels_lint.runtime.frames.error_frame` plus ``"ok": False``, ``"category"`` and
  ``"retryable"``. Failures are recorded with :func:`channels_lint.runtime.errors.arecord_error`.

Configuration (``CHANNELS_LINT_RUNTIME``, see :mod:`channels_lint.runtime.conf`) or constructor
arguments, which win::

    handler = AsyncSafeMessageHandler(
        "chat.Message",
        fields={"content": "body", "user": "author", "room": "room", "created_at": "sent_at"},
    )
    result = await handler.handle_message_creation(
        {"content": "hi", "user_id": "ann", "room_id": room.pk, "client_id": "c-17"}
    )
    # {"ok": True, "duplicate": False, "message": {"id": 1, "content": "hi", "user_id": "ann",
    #  "room_id": 3, "created_at": "2026-...Z", "client_id": "c-17"}}
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .conf import runtime_settings

__all__ = ["AsyncSafeMessageHandler", "RetriesExhausted", "RetryPolicy", "retry_async"]

T = TypeVar("T")
_log = logging.getLogger("channels_lint.runtime.handler")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts.

    The delay before retry ``n`` (``n = 0`` for the first retry) is drawn from
    ``[c * (1 - jitter), c]`` where ``c = min(max_delay, base_delay * multiplier ** n)``;
    ``jitter=1.0`` is "full jitter", ``0.0`` none.

    Attributes:
        attempts: total tries including the first (>= 1).
        base_delay: seconds before the first retry (before jitter).
        max_delay: cap of any single delay, in seconds.
        multiplier: growth factor per retry (>= 1).
        jitter: fraction of each delay that is random, 0 to 1.
    """

    attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 2.0
    multiplier: float = 2.0
    jitter: float = 1.0

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        """The policy of ``CHANNELS_LINT_RUNTIME["RETRY"]`` (defaults for invalid values)."""
        retry = runtime_settings().get("RETRY") or {}
        try:
            return cls(
                attempts=max(1, int(retry["ATTEMPTS"])),
                base_delay=max(0.0, float(retry["BASE_DELAY"])),
                max_delay=max(0.0, float(retry["MAX_DELAY"])),
                multiplier=max(1.0, float(retry["MULTIPLIER"])),
                jitter=min(1.0, max(0.0, float(retry["JITTER"]))),
            )
        except Exception:
            return cls()

    def ceiling(self, retry_number: int) -> float:
        """The largest delay (seconds) before retry ``retry_number`` (0-based)."""
        try:
            grown = self.base_delay * self.multiplier ** max(0, retry_number)
        except OverflowError:
            return self.max_delay
        return self.max_delay if math.isnan(grown) else min(self.max_delay, grown)

    def delay(self, retry_number: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry ``retry_number`` (0-based), using ``rng() in [0, 1)``."""
        ceiling = self.ceiling(retry_number)
        return ceiling * (1.0 - self.jitter) + ceiling * self.jitter * min(1.0, max(0.0, rng()))


class RetriesExhausted(Exception):
    """Raised by :func:`retry_async` when every attempt failed with a transient error."""

    def __init__(self, last: BaseException, attempts: int, errors: list[str]) -> None:
        super().__init__(f"{attempts} attempts failed; last: {type(last).__name__}: {last}")
        self.last = last
        self.attempts = attempts
        self.errors = errors


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
    rng: Callable[[], float] | None = None,
    is_transient: Callable[[BaseException], bool] | None = None,
    on_retry: Callable[[BaseException, int, float], Any] | None = None,
) -> tuple[T, int]:
    """Await ``operation()`` until it succeeds, retrying transient errors with backoff.

    Args:
        operation: a zero-argument callable returning a new awaitable on each call.
        policy: the :class:`RetryPolicy` (default: from settings).
        sleep: ``async sleep(seconds)``; default ``asyncio.sleep``. Tests pass a recorder.
        rng: ``() -> float in [0, 1)`` for the jitter; default ``random.random``.
        is_transient: decides whether an exception is retried; default
            ``classify_error(exc).transient``.
        on_retry: called as ``on_retry(exc, attempt_number, delay_seconds)`` before each sleep
            (may be a coroutine function).

    Returns:
        ``(result, attempts_used)``.

    Raises:
        The first non-transient exception unchanged; :class:`RetriesExhausted` (with ``.last``)
        when every attempt failed transiently. ``CancelledError`` propagates.
    """
    from .errors import classify_error

    policy = policy or RetryPolicy.from_settings()
    sleep = sleep or asyncio.sleep
    rng = rng or random.random
    is_transient = is_transient or (lambda exc: classify_error(exc).transient)
    errors: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        try:
            return await operation(), attempt
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not is_transient(exc):
                raise
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            if attempt >= policy.attempts:
                raise RetriesExhausted(exc, attempt, errors) from exc
            delay = policy.delay(attempt - 1, rng)
            if on_retry is not None:
                outcome = on_retry(exc, attempt, delay)
                if asyncio.iscoroutine(outcome):
                    await outcome
            await sleep(delay)


class _Invalid(Exception):
    """A permanent validation failure found before any query."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class AsyncSafeMessageHandler:
    """Create and list chat messages from async code without ever raising.

    Args:
        model: the message model class or ``"app_label.ModelName"``; default
            ``CHANNELS_LINT_RUNTIME["MESSAGE_MODEL"]``. Resolved on first use, so a handler may be
            built at import time (e.g. in ``asgi.py``).
        fields: logical name -> model field name, for ``"content"``, ``"user"``, ``"room"`` and
            ``"created_at"`` (``None`` when the model has no timestamp); merged over
            ``CHANNELS_LINT_RUNTIME["MESSAGE_FIELDS"]``. ``user``/``room`` may be foreign keys
            (their ``<name>_id`` column is set, no query) or plain fields.
        using: database alias.
        retry: the :class:`RetryPolicy` for transient errors; default from settings.
        sleep: ``async sleep(seconds)`` used between retries (inject one in tests).
        rng: ``() -> float`` in ``[0, 1)`` for jitter.
        consumer, channel_name: identify the connection in error records (the consumer mixins
            set them).
        max_content_length: characters accepted; default ``MAX_CONTENT_LENGTH`` (the model field's
            ``max_length`` wins when smaller).
    """

    def __init__(
        self,
        model: Any = None,
        *,
        fields: dict[str, str | None] | None = None,
        using: str = "default",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        rng: Callable[[], float] | None = None,
        consumer: object = "",
        channel_name: str = "",
        max_content_length: int | None = None,
    ) -> None:
        conf = runtime_settings()
        self._model_spec = model if model is not None else conf["MESSAGE_MODEL"]
        self._model: Any = None
        self.fields: dict[str, str | None] = {**conf["MESSAGE_FIELDS"], **(fields or {})}
        self.using = using
        self.retry = retry or RetryPolicy.from_settings()
        self.sleep = sleep or asyncio.sleep
        self.rng = rng or random.random
        self.consumer = consumer
        self.channel_name = channel_name
        self.idempotency_field = str(conf["IDEMPOTENCY_KEY"])
        self._max_content_length = max_content_length or int(conf["MAX_CONTENT_LENGTH"])
        #: counters: stored, duplicates, retries, failures (for tests and the benchmark)
        self.stats = {"stored": 0, "duplicates": 0, "retries": 0, "failures": 0}

    # ------------------------------------------------------------------ public API

    async def create_message(self, content: Any, user_id: Any, room_id: Any, *, idempotency_key: Any = None) -> dict[str, Any]:
        """Store one message in a transaction, retrying transient failures; never raises.

        Args:
            content: the text (``str``; surrounding whitespace is kept, empty is refused).
            user_id: value of the user field (a pk for a foreign key, else the field's value).
            room_id: value of the room field (a pk for a foreign key, else the field's value).
            idempotency_key: the client's id for this message (``str``/``int``, <= 200 chars);
                the same key (same room and user) stores the message at most once.

        Returns:
            ``{"ok": True, "duplicate": bool, "message": {...}}`` or an error dict
            (``{"ok": False, "type": "error", "error": code, "reason": ..., "category": ...,
            "retryable": bool}``). ``retryable`` is True when the database stayed unavailable
            through every attempt: the message was NOT stored and the client may send it again
            with the same ``client_id``.
        """
        operation = "create_message"
        context = {"room_id": room_id, "user_id": user_id, "client_id": idempotency_key}
        try:
            values = self._values(content, user_id, room_id)
            key = self._receipt_key(room_id, user_id, idempotency_key)
        except _Invalid as invalid:
            return await self._refuse(invalid, operation, context)
        except Exception as exc:
            return await self._fail(exc, operation, context, attempts=0)
        from channels.db import database_sync_to_async

        create = database_sync_to_async(self._create_sync)
        return await self._run(operation, lambda: create(values, key, idempotency_key), context)

    async def get_messages(self, room_id: Any, limit: int = 50, *, after_id: Any = None) -> dict[str, Any]:
        """Return the room's latest ``limit`` messages, oldest first; never raises.

        Args:
            room_id: value of the room field (pk for a foreign key).
            limit: 1 to 1000 (clamped).
            after_id: when given, the first ``limit`` messages whose primary key is greater, in
                primary-key order (a client or consumer catching up after an outage).

        Returns:
            ``{"ok": True, "room_id": room_id, "messages": [ {...}, ... ]}`` or an error dict.
        """
        operation = "get_messages"
        context = {"room_id": room_id, "limit": limit, "after_id": after_id}
        try:
            limit = min(1000, max(1, int(limit)))
        except (TypeError, ValueError):
            return await self._refuse(_Invalid("invalid_message", "limit must be an integer"), operation, context)
        from channels.db import database_sync_to_async

        fetch = database_sync_to_async(self._list_sync)
        return await self._run(operation, lambda: fetch(room_id, limit, after_id), context)

    async def handle_message_creation(self, message_data: Any) -> dict[str, Any]:
        """Validate a client's message dict and store it (see :meth:`create_message`); never raises.

        Args:
            message_data: ``{"content": str, "user_id": ..., "room_id": ..., "client_id": ...}``
                (the id key is ``CHANNELS_LINT_RUNTIME["IDEMPOTENCY_KEY"]``, optional).

        Returns:
            As :meth:`create_message`; a non-dict or missing key gives
            ``{"ok": False, "error": "invalid_message", ...}`` without touching the database.
        """
        if not isinstance(message_data, dict):
            return await self._refuse(
                _Invalid("invalid_message", "message data must be a JSON object"),
                "handle_message_creation",
                {"received": type(message_data).__name__},
            )
        missing = [key for key in ("content", "room_id") if key not in message_data]
        if missing:
            return await self._refuse(
                _Invalid("invalid_message", f"missing {', '.join(missing)}"),
                "handle_message_creation",
                {"keys": sorted(map(str, message_data))[:20]},
            )
        return await self.create_message(
            message_data.get("content"),
            message_data.get("user_id"),
            message_data.get("room_id"),
            idempotency_key=message_data.get(self.idempotency_field),
        )

    def after_create(self, instance: Any) -> None:
        """Hook run inside the transaction, in the worker thread, after the message is saved.

        Override it for work that must commit or roll back with the message (counters, audit
        rows). An exception here rolls the message back and is reported like any other.
        """

    def serialize_message(self, instance: Any) -> dict[str, Any]:
        """The ``"message"`` dict of a stored instance (runs in the worker thread)."""
        from .serializer import safe_serialize

        data = {
            "id": instance.pk,
            "content": getattr(instance, self.fields["content"]),
            "user_id": self._read(instance, "user"),
            "room_id": self._read(instance, "room"),
            "created_at": getattr(instance, self.fields["created_at"]) if self.fields.get("created_at") else None,
        }
        return safe_serialize(data)  # type: ignore[return-value]

    # ------------------------------------------------------------------ model access

    @property
    def model(self) -> Any:
        """The message model class (resolved on first use).

        Raises:
            django.core.exceptions.ImproperlyConfigured: no model configured or not installed.
        """
        if self._model is None:
            from django.apps import apps
            from django.core.exceptions import ImproperlyConfigured

            spec = self._model_spec
            if spec is None:
                raise ImproperlyConfigured("AsyncSafeMessageHandler needs model= or CHANNELS_LINT_RUNTIME['MESSAGE_MODEL']")
            if isinstance(spec, str):
                try:
                    spec = apps.get_model(spec)
                except (LookupError, ValueError) as exc:
                    raise ImproperlyConfigured(f"message model {self._model_spec!r}: {exc}") from exc
            self._model = spec
        return self._model

    def _field(self, logical: str) -> Any:
        from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

        name = self.fields.get(logical)
        try:
            return self.model._meta.get_field(name)
        except FieldDoesNotExist as exc:
            raise ImproperlyConfigured(f"{self.model._meta.label} has no field {name!r} (the {logical!r} field)") from exc

    def _attname(self, logical: str) -> str:
        return self._field(logical).attname  # "room_id" for a foreign key "room", else the name

    def _read(self, instance: Any, logical: str) -> Any:
        return getattr(instance, self._attname(logical))

    def _values(self, content: Any, user_id: Any, room_id: Any) -> dict[str, Any]:
        if not isinstance(content, str) or not content.strip():
            raise _Invalid("invalid_message", "content must be a non-empty string")
        limit = self._max_content_length
        max_length = getattr(self._field("content"), "max_length", None)
        if max_length:
            limit = min(limit, max_length)
        if len(content) > limit:
            raise _Invalid("message_too_long", f"content is longer than {limit} characters")
        values = {self._attname("content"): content}
        for logical, value in (("user", user_id), ("room", room_id)):
            field = self._field(logical)
            if value is not None and not isinstance(value, (str, int)) or isinstance(value, bool):
                raise _Invalid("invalid_message", f"{logical}_id must be a string or an integer")
            target = field.target_field if field.is_relation else field
            try:
                value = None if value is None else target.to_python(value)
            except Exception:
                raise _Invalid("invalid_message", f"{logical}_id {str(value)[:50]!r} is not valid") from None
            if value is None and not field.null:
                raise _Invalid("invalid_message", f"{logical}_id is required")
            max_length = getattr(target, "max_length", None)
            if isinstance(value, str) and max_length and len(value) > max_length:
                raise _Invalid("invalid_message", f"{logical}_id is longer than {max_length} characters")
            values[field.attname] = value
        return values

    def _receipt_key(self, room_id: Any, user_id: Any, client_id: Any) -> str | None:
        from django.apps import apps

        if not apps.is_installed("channels_lint.runtime"):
            return None
        if client_id is None:
            return f"auto:{uuid.uuid4().hex}"  # idempotent across this call's own retries
        if isinstance(client_id, bool) or not isinstance(client_id, (str, int)) or len(str(client_id)) > 200:
            raise _Invalid("invalid_message", f"{self.idempotency_field} must be a string or integer of <= 200 chars")
        scoped = f"{self.model._meta.label_lower}|{room_id}|{user_id}|{client_id}"
        return "k:" + hashlib.sha256(scoped.encode("utf-8", "replace")).hexdigest()

    # ------------------------------------------------------------------ worker-thread code

    def _create_sync(self, values: dict[str, Any], key: str | None, client_id: Any) -> dict[str, Any]:
        from django.db import IntegrityError, transaction

        from .errors import _reset_connection_if_broken

        try:
            try:
                with transaction.atomic(using=self.using):
                    return self._create_in_transaction(values, key, client_id)
            except IntegrityError:
                existing = self._receipt(key)  # a concurrent or earlier try stored it
                if existing is not None:
                    return existing
                raise
        except Exception:
            _reset_connection_if_broken(self.using)
            raise

    def _create_in_transaction(self, values: dict[str, Any], key: str | None, client_id: Any) -> dict[str, Any]:
        # No receipt lookup first: a repeated key makes the receipt INSERT fail (unique), which
        # rolls the new message back too, and _create_sync then returns the stored receipt. One
        # query less on the normal path.
        instance = self.model(**values)
        instance.full_clean(validate_unique=False, validate_constraints=False)
        instance.save(using=self.using)
        self.after_create(instance)
        message = self.serialize_message(instance)
        message["client_id"] = client_id if isinstance(client_id, (str, int)) else None
        result = {"ok": True, "duplicate": False, "message": message}
        if key is not None:
            from .models import MessageReceipt

            MessageReceipt.objects.using(self.using).create(
                key=key, model=self.model._meta.label, object_pk=str(instance.pk), result=result
            )
        return result

    def _receipt(self, key: str | None) -> dict[str, Any] | None:
        if key is None:
            return None
        from .models import MessageReceipt

        receipt = MessageReceipt.objects.using(self.using).filter(key=key).first()
        if receipt is None:
            return None
        return {**receipt.result, "duplicate": True}

    def _list_sync(self, room_id: Any, limit: int, after_id: Any = None) -> dict[str, Any]:
        from .errors import _reset_connection_if_broken

        try:
            rows = self.model._default_manager.using(self.using).filter(**{self._attname("room"): room_id})
            if after_id is not None:
                rows = list(rows.filter(pk__gt=after_id).order_by("pk")[:limit])
            else:
                order = self.fields.get("created_at")
                ordering = (f"-{order}", "-pk") if order else ("-pk",)
                rows = list(rows.order_by(*ordering)[:limit])[::-1]
            return {"ok": True, "room_id": room_id, "messages": [self.serialize_message(row) for row in rows]}
        except Exception:
            _reset_connection_if_broken(self.using)
            raise

    # ------------------------------------------------------------------ outcome handling

    async def _run(self, operation: str, call: Callable[[], Awaitable[dict]], context: dict) -> dict[str, Any]:
        from .errors import arecord_error
        from .serializer import safe_serialize

        retried: list[str] = []

        def on_retry(exc: BaseException, attempt: int, delay: float) -> None:
            self.stats["retries"] += 1
            retried.append(f"{type(exc).__name__}: {exc}"[:300])
            _log.warning(
                "%s: attempt %d failed (%s: %s); retrying in %.3f s",
                operation,
                attempt,
                type(exc).__name__,
                exc,
                delay,
                extra={"operation": operation, "attempt": attempt, "delay_seconds": delay, "context_data": context},
            )

        try:
            result, attempts = await retry_async(call, policy=self.retry, sleep=self.sleep, rng=self.rng, on_retry=on_retry)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, RetriesExhausted):
                return await self._fail(exc.last, operation, {**context, "errors": exc.errors}, attempts=exc.attempts)
            return await self._fail(exc, operation, context, attempts=len(retried) + 1)
        if operation == "create_message":
            self.stats["duplicates" if result.get("duplicate") else "stored"] += 1
        if retried:
            await arecord_error(
                _RecoveredError(retried[-1]),
                category="database",
                operation=operation,
                consumer=self.consumer,
                user_id=context.get("user_id"),
                channel_name=self.channel_name,
                recovery_action="retried",
                context={**context, "attempts": attempts, "errors": retried},
            )
        return safe_serialize(result)  # type: ignore[return-value]

    async def _refuse(self, invalid: _Invalid, operation: str, context: dict) -> dict[str, Any]:
        from .errors import arecord_error
        from .frames import error_frame

        self.stats["failures"] += 1
        await arecord_error(
            "InvalidMessage",
            category="validation",
            operation=operation,
            consumer=self.consumer,
            user_id=context.get("user_id"),
            channel_name=self.channel_name,
            recovery_action="not_retried",
            context={**context, "reason": invalid.reason},
        )
        return error_frame(invalid.code, invalid.reason, ok=False, category="validation", retryable=False)

    async def _fail(self, exc: BaseException, operation: str, context: dict, *, attempts: int) -> dict[str, Any]:
        from .errors import arecord_error, classify_error
        from .frames import error_frame
        from .serializer import safe_serialize

        self.stats["failures"] += 1
        info = classify_error(exc)
        action = "gave_up" if info.transient else "not_retried"
        await arecord_error(
            exc,
            operation=operation,
            consumer=self.consumer,
            user_id=context.get("user_id"),
            channel_name=self.channel_name,
            recovery_action=action,
            context={**context, "attempts": attempts},
        )
        reason = {
            "database_unavailable": "the database is unavailable; the message was not stored, send it again",
            "integrity_error": "the message conflicts with stored data",
            "invalid_data": "the message has a value the database refuses",
            "server_misconfigured": "the server's message store is misconfigured",
        }.get(info.code, "the message could not be processed")
        if info.category == "validation":
            reason = _validation_text(exc)
        frame = error_frame(info.code, reason, ok=False, category=info.category, retryable=info.transient)
        if context.get("client_id") is not None:
            frame["client_id"] = context["client_id"]
        return safe_serialize(frame)  # type: ignore[return-value]


def _validation_text(exc: BaseException) -> str:
    """One sentence from a ``ValidationError`` (field: message; ...), without the client's values."""
    messages = getattr(exc, "message_dict", None)
    if isinstance(messages, dict):
        text = "; ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in messages.items())
    else:
        text = " ".join(map(str, getattr(exc, "messages", None) or [exc]))
    return text[:200] or "the message was not valid"


class _RecoveredError(Exception):
    """Stands for transient failures that a retry overcame (recorded with action ``retried``)."""
