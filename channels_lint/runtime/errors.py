"""Error records: classify a failure, log it with structured ``extra``, store a ``MessagingError``.

Two entry points, neither of which ever raises:

* :func:`arecord_error` (``await`` it from async code) logs at once, then writes the row through
  ``channels.db.database_sync_to_async``.
* :func:`record_error` (sync code, e.g. a ``JsonWebsocketConsumer`` method) logs at once and
  writes the row in the calling thread; called on a thread that runs an event loop it never
  touches the database there (Django raises ``SynchronousOnlyOperation`` for any query on such a
  thread: ``django/utils/asyncio.py`` ``async_unsafe``, Django 5.2) and schedules the write on the
  loop instead.

When the database refuses the write (down, failing over, table missing), the record is kept in a
bounded in-memory buffer (``CHANNELS_LINT_RUNTIME["ERROR_BUFFER_SIZE"]``, oldest dropped first,
each drop logged) and written before the next record that reaches the database
(:func:`flush_error_buffer` does it on demand). The log line is always emitted first, so a
record is never lost to the log pipeline.

Log line: logger ``CHANNELS_LINT_RUNTIME["LOGGER"]`` (default ``"channels_lint.runtime"``), level
ERROR (WARNING for validation failures), message ``"messaging error: <type>: <message>"``, and
``extra`` = ``{"error_type", "error_message", "category", "context_data", "consumer", "user_id",
"channel_name", "recovery_action", "occurred_at", "traceback", "transient"}``. The same keys are
set as attributes of the ``LogRecord``, so a JSON log formatter picks them up.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import logging
import threading
import traceback as traceback_module
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from .conf import runtime_settings

__all__ = [
    "ErrorInfo",
    "ErrorRecord",
    "UnrecoverableError",
    "arecord_error",
    "buffered_errors",
    "classify_error",
    "flush_error_buffer",
    "record_error",
]


class UnrecoverableError(Exception):
    """Raise it from a consumer handler to end the connection (the consumer mixins close it).

    Args:
        message: the reason, sent to the client in the error frame and used as the close reason.
        code: WebSocket close code; default ``CHANNELS_LINT_RUNTIME["CLOSE_CODE"]`` (4000).
    """

    def __init__(self, message: str = "unrecoverable error", *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ErrorInfo:
    """What :func:`classify_error` says about an exception.

    Attributes:
        category: one of ``models.ErrorCategory`` values (``"database"``, ``"channel_layer"`` ...).
        transient: True when trying again later may succeed (connection refused/reset, timeouts,
            ``OperationalError``, Redis ``ConnectionError``/``TimeoutError``, ``ChannelFull``).
        recoverable: False when the connection should be closed (``UnrecoverableError``,
            ``ImproperlyConfigured``, ``InvalidChannelLayerError``, ``MemoryError``).
        code: short machine-readable error code for the error frame.
    """

    category: str
    transient: bool
    recoverable: bool
    code: str


_TRANSIENT_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ENETDOWN,
}


def classify_error(exc: BaseException) -> ErrorInfo:
    """Tell an exception's category and whether it is transient (worth a retry) or recoverable.

    Sources: Django wraps driver errors in ``django.db.utils`` classes (``OperationalError`` for
    lost/refused connections, ``IntegrityError``/``DataError`` for bad data; ``django/db/utils.py``,
    Django 5.2); redis-py 8.1 raises ``redis.exceptions.ConnectionError``/``TimeoutError`` when the
    server is unreachable (channels_redis 4.3.0 lets them propagate out of ``send``,
    ``group_send`` and ``receive``); Channels' ``ChannelFull`` (``channels/exceptions.py`` 4.3.2)
    is raised by a full channel; ``SynchronousOnlyOperation`` is Django's async-context guard
    (docs/semantics.md §4.2).

    Args:
        exc: any exception.

    Returns:
        An :class:`ErrorInfo`.

    Raises:
        Nothing.
    """
    try:
        return _classify(exc)
    except Exception:  # pragma: no cover - a broken exception class
        return ErrorInfo("internal", False, True, "internal_error")


def _classify(exc: BaseException) -> ErrorInfo:
    from django.core.exceptions import ImproperlyConfigured, SynchronousOnlyOperation, ValidationError
    from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError

    if isinstance(exc, UnrecoverableError):
        return ErrorInfo("internal", False, False, "unrecoverable")
    if isinstance(exc, (ImproperlyConfigured, MemoryError)):
        return ErrorInfo("configuration", False, False, "server_misconfigured")
    if isinstance(exc, SynchronousOnlyOperation):
        return ErrorInfo("async_context", False, True, "async_context_error")
    if isinstance(exc, (OperationalError, InterfaceError)):
        return ErrorInfo("database", True, True, "database_unavailable")
    if isinstance(exc, IntegrityError):
        return ErrorInfo("integrity", False, True, "integrity_error")
    if isinstance(exc, DataError):
        return ErrorInfo("validation", False, True, "invalid_data")
    if isinstance(exc, DatabaseError):
        return ErrorInfo("database", False, True, "database_error")
    redis_info = _classify_redis(exc)
    if redis_info is not None:
        return redis_info
    try:
        from channels.exceptions import ChannelFull, InvalidChannelLayerError
    except ImportError:  # pragma: no cover - channels is a runtime dependency
        ChannelFull = InvalidChannelLayerError = ()  # type: ignore[assignment,misc]
    if ChannelFull and isinstance(exc, ChannelFull):
        return ErrorInfo("channel_layer", True, True, "channel_full")
    if InvalidChannelLayerError and isinstance(exc, InvalidChannelLayerError):
        return ErrorInfo("configuration", False, False, "channel_layer_misconfigured")
    if isinstance(exc, (ConnectionError, TimeoutError, asyncio.TimeoutError)):
        return ErrorInfo("network", True, True, "service_unavailable")
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return ErrorInfo("network", True, True, "service_unavailable")
    if isinstance(exc, ValidationError):
        return ErrorInfo("validation", False, True, "invalid_message")
    if isinstance(exc, TypeError) and "serializ" in str(exc):
        return ErrorInfo("serialization", False, True, "serialization_failed")
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return ErrorInfo("validation", False, True, "invalid_message")
    return ErrorInfo("internal", False, True, "internal_error")


def _classify_redis(exc: BaseException) -> ErrorInfo | None:
    try:
        from redis import exceptions as redis_exceptions
    except ImportError:
        return None
    if isinstance(exc, (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError)):
        return ErrorInfo("channel_layer", True, True, "channel_layer_unavailable")
    if isinstance(exc, redis_exceptions.BusyLoadingError):  # pragma: no cover - subclass of ConnectionError
        return ErrorInfo("channel_layer", True, True, "channel_layer_unavailable")
    if isinstance(exc, redis_exceptions.RedisError):
        return ErrorInfo("channel_layer", False, True, "channel_layer_error")
    return None


@dataclass
class ErrorRecord:
    """The fields of one error, as logged and as stored in ``MessagingError``.

    ``occurred_at`` is an aware UTC datetime; ``traceback`` is formatted text ("" when none).
    """

    error_type: str
    error_message: str
    category: str
    context_data: dict[str, Any] = field(default_factory=dict)
    consumer: str = ""
    user_id: str = ""
    channel_name: str = ""
    recovery_action: str = "none"
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    traceback: str = ""
    transient: bool = False
    #: primary key of the stored ``MessagingError`` (``None`` until written, or if buffered/dropped)
    pk: int | None = None

    def model_fields(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("traceback", "transient", "pk"):
            data.pop(key)
        return data

    def log_extra(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("pk")
        data["occurred_at"] = self.occurred_at.isoformat()
        return data


# Records the database refused, oldest first; bounded by ERROR_BUFFER_SIZE.
_buffer: collections.deque[ErrorRecord] = collections.deque()
_buffer_lock = threading.Lock()
_pending_tasks: set[asyncio.Task] = set()


def buffered_errors() -> list[ErrorRecord]:
    """Return a copy of the records waiting for the database (oldest first)."""
    with _buffer_lock:
        return list(_buffer)


def build_record(
    error: BaseException | str,
    *,
    category: str | None = None,
    operation: str = "",
    consumer: object = "",
    user_id: object = None,
    channel_name: str | None = "",
    recovery_action: str = "none",
    context: dict[str, Any] | None = None,
) -> ErrorRecord:
    """Build an :class:`ErrorRecord` without logging or storing it (see :func:`record_error`)."""
    from .serializer import safe_serialize

    if isinstance(error, BaseException):
        info = classify_error(error)
        error_type = type(error).__name__
        message = str(error)
        tb = "".join(traceback_module.format_exception(type(error), error, error.__traceback__))
    else:
        info = ErrorInfo(category or "internal", False, True, "internal_error")
        error_type, message, tb = str(error), "", ""
    data = dict(context or {})
    if operation:
        data["operation"] = operation
    data.setdefault("error_code", info.code)
    context_data = _without_nul(safe_serialize(data))
    if not isinstance(context_data, dict):  # pragma: no cover - safe_serialize keeps dicts
        context_data = {"context": context_data}
    if not isinstance(consumer, str):
        cls = consumer if isinstance(consumer, type) else type(consumer)
        consumer = f"{cls.__module__}.{cls.__qualname__}"
    return ErrorRecord(
        error_type=_without_nul(error_type[:200]) or "Error",
        error_message=_without_nul(message[:10000]),
        category=category or info.category,
        context_data=context_data,
        consumer=_without_nul(str(consumer)[:200]),
        user_id="" if user_id is None else _without_nul(str(user_id)[:150]),
        channel_name=_without_nul(str(channel_name or "")[:200]),
        recovery_action=recovery_action,
        traceback=tb,
        transient=info.transient,
    )


def _without_nul(value: Any) -> Any:
    """Replace NUL characters, which PostgreSQL refuses in text and ``jsonb`` (``\\u0000``)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def record_error(error: BaseException | str, **fields: Any) -> ErrorRecord:
    """Log an error and store it as a ``MessagingError``, from sync code. Never raises.

    Args:
        error: the exception (its class, message and traceback are recorded) or an error-type
            string for failures that have no exception (e.g. ``"InvalidFrame"``).
        category: override of :func:`classify_error`'s category.
        operation: what was being done (``"create_message"``, ``"group_send"`` ...); stored in
            ``context_data["operation"]``.
        consumer: the consumer instance or class, or a dotted path string.
        user_id: the user's id (any value; stored as text).
        channel_name: the connection's channel name.
        recovery_action: a ``models.RecoveryAction`` value.
        context: further JSON-safe details (made safe with ``safe_serialize``).

    Returns:
        The :class:`ErrorRecord` (``pk`` set when the row was written at once).
    """
    try:
        record = build_record(error, **fields)
    except Exception as exc:  # never break the caller
        logging.getLogger("channels_lint.runtime").exception("could not build an error record")
        return ErrorRecord("RecordError", str(exc), "internal")
    _log(record)
    if not _recording_enabled():
        return record
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        _store_sync(record)
    else:  # on the event loop's thread: no query here; write from a worker thread instead
        task = loop.create_task(_store_async(record))
        _pending_tasks.add(task)
        task.add_done_callback(_pending_tasks.discard)
    return record


async def arecord_error(error: BaseException | str, **fields: Any) -> ErrorRecord:
    """Async :func:`record_error` (same arguments): logs now, writes through ``database_sync_to_async``.

    Never raises, except ``CancelledError`` when the caller is cancelled (the record is then
    buffered, so it is still written later).
    """
    try:
        record = build_record(error, **fields)
    except Exception as exc:
        logging.getLogger("channels_lint.runtime").exception("could not build an error record")
        return ErrorRecord("RecordError", str(exc), "internal")
    _log(record)
    if _recording_enabled():
        await _store_async(record)
    return record


def flush_error_buffer() -> int:
    """Write the buffered records (sync code only). Returns how many were written. Never raises."""
    written = 0
    while True:
        with _buffer_lock:
            if not _buffer:
                return written
            record = _buffer[0]
        try:
            _write(record)
        except Exception as exc:
            _reset_connection_if_broken()
            if classify_error(exc).transient:
                return written
            _logger().warning("dropped a buffered error record the database refuses (%s: %s)", type(exc).__name__, exc)
            written -= 1
        with _buffer_lock:
            if _buffer and _buffer[0] is record:
                _buffer.popleft()
        written += 1


async def aflush_error_buffer() -> int:
    """Async :func:`flush_error_buffer`."""
    from channels.db import database_sync_to_async

    try:
        return await database_sync_to_async(flush_error_buffer)()
    except Exception:
        return 0


def _recording_enabled() -> bool:
    try:
        from django.apps import apps

        return bool(runtime_settings()["RECORD_ERRORS"]) and apps.is_installed("channels_lint.runtime")
    except Exception:
        return False


def _logger() -> logging.Logger:
    name = runtime_settings().get("LOGGER")
    return logging.getLogger(name if isinstance(name, str) and name else "channels_lint.runtime")


def _log(record: ErrorRecord) -> None:
    try:
        level = logging.WARNING if record.category == "validation" else logging.ERROR
        _logger().log(level, "messaging error: %s: %s", record.error_type, record.error_message, extra=record.log_extra())
    except Exception:  # a broken handler must not break the consumer
        pass


def _write(record: ErrorRecord) -> None:
    from .models import MessagingError

    row = MessagingError.objects.create(**record.model_fields())
    record.pk = row.pk


def _store_sync(record: ErrorRecord) -> None:
    try:
        flush_error_buffer()
        _write(record)
    except Exception as exc:
        _reset_connection_if_broken()
        if classify_error(exc).transient:
            _buffer_record(record, exc)
        else:  # the row itself is refused: buffering it would block every later record
            _logger().warning("could not store the error record (%s: %s); dropped (it was logged)", type(exc).__name__, exc)


async def _store_async(record: ErrorRecord) -> None:
    from channels.db import database_sync_to_async

    try:
        await database_sync_to_async(_store_sync)(record)
    except BaseException as exc:  # CancelledError included: keep the record
        _buffer_record(record, exc)
        if isinstance(exc, asyncio.CancelledError):
            raise


def _buffer_record(record: ErrorRecord, exc: BaseException) -> None:
    try:
        size = runtime_settings()["ERROR_BUFFER_SIZE"]
        size = size if type(size) is int and size > 0 else 1000
        dropped = None
        with _buffer_lock:
            if not any(kept is record for kept in _buffer):
                _buffer.append(record)
            while len(_buffer) > size:
                dropped = _buffer.popleft()
        _logger().warning(
            "could not store the error record (%s: %s); kept in memory (%d waiting)",
            type(exc).__name__,
            exc,
            len(_buffer),
        )
        if dropped is not None:
            _logger().warning("error buffer full: dropped the record of %s", dropped.error_type)
    except Exception:
        pass


def _reset_connection_if_broken(using: str = "default") -> None:
    """Close this thread's connection when the last query broke it (Django reconnects on next use).

    Django does the same in ``close_old_connections`` (``BaseDatabaseWrapper.close_if_unusable_or_obsolete``,
    ``django/db/backends/base/base.py`` Django 5.2), but ``channels.testing`` patches that out, and
    a handler must recover without waiting for the next request cycle.
    """
    try:
        from django.db import connections

        connection = connections[using]
        if connection.connection is not None and not connection.in_atomic_block:
            if connection.errors_occurred and not connection.is_usable():
                connection.close()
            else:
                connection.errors_occurred = False
    except Exception:
        pass
