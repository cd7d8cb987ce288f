"""Error records: classification, the ``MessagingError`` row, the structured log line, the buffer
used while the database refuses writes, and the admin's filters and action."""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured, SynchronousOnlyOperation, ValidationError
from django.db import DataError, IntegrityError, OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_lint.runtime import errors
from channels_lint.runtime.errors import UnrecoverableError, arecord_error, classify_error, record_error

pytestmark = pytest.mark.behaviour

LOG_FIELDS = {
    "error_type",
    "error_message",
    "category",
    "context_data",
    "consumer",
    "user_id",
    "channel_name",
    "recovery_action",
    "occurred_at",
    "traceback",
}


class Capture(logging.Handler):
    """Collects the runtime's log records (Hypothesis tests cannot take the caplog fixture)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Capture:
        logging.getLogger("channels_lint.runtime").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("channels_lint.runtime").removeHandler(self)


@pytest.fixture(autouse=True)
def empty_buffer(thread_connections_closed):
    errors._buffer.clear()
    yield
    errors._buffer.clear()


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


@pytest.mark.parametrize(
    ("exc", "category", "transient", "recoverable"),
    [
        (OperationalError("server closed the connection unexpectedly"), "database", True, True),
        (IntegrityError("duplicate key"), "integrity", False, True),
        (DataError("value too long"), "validation", False, True),
        (ValidationError("bad"), "validation", False, True),
        (SynchronousOnlyOperation("You cannot call this from an async context"), "async_context", False, True),
        (ConnectionRefusedError(111, "refused"), "network", True, True),
        (TimeoutError(), "network", True, True),
        (TypeError("can not serialize 'datetime.datetime' object"), "serialization", False, True),
        (KeyError("body"), "validation", False, True),
        (ImproperlyConfigured("no model"), "configuration", False, False),
        (UnrecoverableError("banned"), "internal", False, False),
        (RuntimeError("boom"), "internal", False, True),
    ],
)
def test_classify_error(exc, category, transient, recoverable) -> None:
    info = classify_error(exc)
    assert (info.category, info.transient, info.recoverable) == (category, transient, recoverable)


def test_classify_redis_and_channels_errors() -> None:
    from channels.exceptions import ChannelFull, InvalidChannelLayerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    assert classify_error(RedisConnectionError("Error 111 connecting")).transient
    assert classify_error(RedisTimeoutError()).category == "channel_layer"
    assert not classify_error(ResponseError("WRONGTYPE")).transient
    assert classify_error(ChannelFull()).transient
    assert not classify_error(InvalidChannelLayerError("no groups")).recoverable


@pytest.mark.django_db(transaction=True)
def test_record_error_writes_a_row_and_a_structured_log_line() -> None:
    from channels_lint.runtime.models import MessagingError

    with Capture() as capture:
        record = record_error(
            raised(OperationalError("connection refused")),
            operation="create_message",
            consumer="chat.resilient.ResilientChatConsumer",
            user_id=42,
            channel_name="specific.abc!def",
            recovery_action="gave_up",
            context={"room_id": 3, "attempts": 5},
        )
    row = MessagingError.objects.get(pk=record.pk)
    assert (row.error_type, row.category, row.user_id, row.recovery_action) == (
        "OperationalError",
        "database",
        "42",
        "gave_up",
    )
    assert row.context_data == {"room_id": 3, "attempts": 5, "operation": "create_message", "error_code": "database_unavailable"}
    assert row.consumer == "chat.resilient.ResilientChatConsumer" and row.channel_name == "specific.abc!def"
    assert not row.resolved
    [line] = capture.records
    assert line.levelno == logging.ERROR
    assert LOG_FIELDS <= set(vars(line))
    assert line.error_type == "OperationalError" and line.context_data["operation"] == "create_message"
    assert "Traceback" in line.traceback and "connection refused" in line.traceback


@pytest.mark.django_db(transaction=True)
def test_record_error_keeps_the_record_while_the_database_refuses_writes(monkeypatch) -> None:
    from channels_lint.runtime.models import MessagingError

    real_create = MessagingError.objects.create

    def refuse(**fields):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(MessagingError.objects, "create", refuse)
    with Capture() as capture:
        record = record_error(raised(RuntimeError("boom")), operation="receive")  # must not raise
    assert record.pk is None
    assert [r.error_type for r in errors.buffered_errors()] == ["RuntimeError"]
    assert any("kept in memory" in r.getMessage() for r in capture.records)
    assert MessagingError.objects.count() == 0

    monkeypatch.setattr(MessagingError.objects, "create", real_create)
    record_error("LaterError", category="internal")  # the next write flushes the buffer first
    assert errors.buffered_errors() == []
    assert list(MessagingError.objects.order_by("id").values_list("error_type", flat=True)) == ["RuntimeError", "LaterError"]


@pytest.mark.django_db(transaction=True)
def test_error_buffer_is_bounded(monkeypatch, settings) -> None:
    from channels_lint.runtime.models import MessagingError

    settings.CHANNELS_LINT_RUNTIME = {"ERROR_BUFFER_SIZE": 3}
    monkeypatch.setattr(MessagingError.objects, "create", lambda **f: (_ for _ in ()).throw(OperationalError("down")))
    for number in range(5):
        record_error(f"Error{number}")
    assert [r.error_type for r in errors.buffered_errors()] == ["Error2", "Error3", "Error4"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_record_error_from_async_code_never_queries_on_the_loop() -> None:
    from channels_lint.runtime.models import MessagingError

    record = record_error(raised(ValueError("bad frame")), operation="receive_json")  # sync API, on the loop
    await asyncio.gather(*errors._pending_tasks)
    assert await MessagingError.objects.filter(error_type="ValueError", category="validation").acount() == 1
    assert record.category == "validation"
    stored = await arecord_error("InvalidFrame", category="validation", operation="receive")
    assert stored.pk is not None


@pytest.mark.django_db(transaction=True)
def test_recording_can_be_switched_off(settings) -> None:
    from channels_lint.runtime.models import MessagingError

    settings.CHANNELS_LINT_RUNTIME = {"RECORD_ERRORS": False}
    with Capture() as capture:
        record_error("Ignored")
    assert MessagingError.objects.count() == 0 and len(capture.records) == 1


EXCEPTIONS = st.sampled_from(
    [
        OperationalError,
        IntegrityError,
        DataError,
        ValueError,
        KeyError,
        TypeError,
        RuntimeError,
        ConnectionResetError,
        SynchronousOnlyOperation,
        UnrecoverableError,
    ]
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.datetimes() | st.binary(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=3),
    max_leaves=10,
)


@pytest.mark.django_db(transaction=True)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    exc_type=EXCEPTIONS,
    message=st.text(max_size=60).filter(lambda s: "\x00" not in s),
    operation=st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s),
    context=st.dictionaries(st.text(max_size=10), JSONISH, max_size=4),
)
def test_property_every_error_record_has_type_context_and_category(exc_type, message, operation, context) -> None:
    """Feature: messaging-system-fixes, Property 9: every error record has type, context and category."""
    from channels_lint.runtime.models import ErrorCategory, MessagingError

    record = record_error(raised(exc_type(message)), operation=operation, context=context)
    row = MessagingError.objects.get(pk=record.pk)
    assert row.error_type == exc_type.__name__
    assert row.category in ErrorCategory.values and row.category == classify_error(exc_type(message)).category
    assert isinstance(row.context_data, dict) and row.context_data["operation"] == operation
    assert row.context_data["error_code"]
    # every key is kept; NUL, which PostgreSQL refuses in jsonb, becomes U+FFFD
    assert {key.replace("\x00", "\ufffd") for key in context} <= set(row.context_data)


def test_admin_filters_and_mark_resolved_action(django_db_blocker) -> None:
    from django.contrib.admin import AdminSite

    from channels_lint.runtime.admin import MessagingErrorAdmin
    from channels_lint.runtime.models import MessagingError

    model_admin = MessagingErrorAdmin(MessagingError, AdminSite())
    assert {"error_type", "resolved"} <= set(model_admin.list_filter)
    assert "mark_resolved" in model_admin.actions
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            open_rows = [MessagingError.objects.create(error_type="X", category="internal") for _ in range(2)]
            kept = MessagingError.objects.create(error_type="Y", category="internal")
            said = []
            model_admin.message_user = lambda request, text: said.append(text)
            model_admin.mark_resolved(None, MessagingError.objects.filter(pk__in=[r.pk for r in open_rows]))
            assert set(MessagingError.objects.filter(resolved=True).values_list("pk", flat=True)) == {r.pk for r in open_rows}
            assert not MessagingError.objects.get(pk=kept.pk).resolved
            assert said == ["2 error(s) marked resolved."]
            transaction.set_rollback(True)
