"""``AsyncSafeMessageHandler`` against the test database (SQLite, and PostgreSQL in CI's second
``-m behaviour`` pass): async-safe queries, transactions, transient vs permanent errors, the
backoff policy, idempotency receipts, and never raising."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from django.core.exceptions import SynchronousOnlyOperation, ValidationError
from django.db import DataError, IntegrityError, OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_lint.runtime import errors
from channels_lint.runtime.handler import AsyncSafeMessageHandler, RetriesExhausted, RetryPolicy, retry_async

from .faultproxy import RecordingSleep

pytestmark = pytest.mark.behaviour

FIELDS = {"content": "body", "user": "author", "room": "room", "created_at": "sent_at"}
POLICY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.04, multiplier=2.0, jitter=0.5)
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_rooms = itertools.count()

# Text PostgreSQL accepts (no NUL, no lone surrogates) that is not blank.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=300).filter(
    str.strip
)
AUTHOR = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=100)


def handler(**kwargs) -> AsyncSafeMessageHandler:
    kwargs.setdefault("retry", POLICY)
    kwargs.setdefault("sleep", RecordingSleep())
    kwargs.setdefault("rng", lambda: 0.5)
    return AsyncSafeMessageHandler("chat.Message", fields=FIELDS, **kwargs)


async def new_room():
    from chat.models import Room

    return await Room.objects.acreate(name=f"room-{next(_rooms)}")


async def stored(room, body=None) -> list:
    from chat.models import Message

    rows = Message.objects.filter(room=room)
    if body is not None:
        rows = rows.filter(body=body)
    return [row async for row in rows.order_by("id").values_list("body", flat=True)]


@pytest.fixture(autouse=True)
def empty_buffer(thread_connections_closed):
    errors._buffer.clear()
    yield
    errors._buffer.clear()


# ------------------------------------------------------------------------------ retry policy


@given(
    attempts=st.integers(1, 8),
    base=st.floats(0, 1),
    factor=st.floats(0, 10),
    multiplier=st.floats(1, 4),
    jitter=st.floats(0, 1),
    draws=st.lists(st.floats(0, 1, exclude_max=True), min_size=8, max_size=8),
)
def test_backoff_delays_grow_exponentially_within_their_jitter_band(attempts, base, factor, multiplier, jitter, draws) -> None:
    policy = RetryPolicy(attempts=attempts, base_delay=base, max_delay=base * (1 + factor), multiplier=multiplier, jitter=jitter)
    for number, draw in enumerate(draws):
        ceiling = min(policy.max_delay, base * multiplier**number)
        assert policy.ceiling(number) == pytest.approx(ceiling)
        assert ceiling * (1 - jitter) - 1e-12 <= policy.delay(number, lambda d=draw: d) <= ceiling + 1e-12
    far = policy.ceiling(10**6)  # no OverflowError however far
    assert far <= policy.max_delay
    if multiplier >= 1.5 and base > 0:
        assert far == policy.max_delay


@pytest.mark.asyncio
async def test_retry_async_retries_transient_errors_only_and_is_bounded() -> None:
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("connection refused")
        return "done"

    sleep = RecordingSleep()
    assert await retry_async(flaky, policy=POLICY, sleep=sleep, rng=lambda: 1.0) == ("done", 3)
    assert sleep.delays == [0.01, 0.02]

    async def always_down():
        raise ConnectionResetError("reset")

    sleep = RecordingSleep()
    with pytest.raises(RetriesExhausted) as exhausted:
        await retry_async(always_down, policy=POLICY, sleep=sleep, rng=lambda: 1.0)
    assert exhausted.value.attempts == 4 and sleep.delays == [0.01, 0.02, 0.04]

    async def invalid():
        raise IntegrityError("duplicate key")

    sleep = RecordingSleep()
    with pytest.raises(IntegrityError):
        await retry_async(invalid, policy=POLICY, sleep=sleep)
    assert sleep.delays == []


# ------------------------------------------------------------------------------ handler


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_create_and_list_messages_from_async_code() -> None:
    room = await new_room()
    h = handler()
    first = await h.create_message("hello", "ann", room.pk, idempotency_key="c1")
    assert first["ok"] and not first["duplicate"]
    assert first["message"]["content"] == "hello" and first["message"]["user_id"] == "ann"
    assert first["message"]["room_id"] == room.pk and first["message"]["client_id"] == "c1"
    assert isinstance(first["message"]["created_at"], str)
    second = await h.handle_message_creation({"content": "world", "user_id": "bob", "room_id": room.pk})
    assert second["ok"]
    listing = await h.get_messages(room.pk, limit=1)
    assert [m["content"] for m in listing["messages"]] == ["world"]
    listing = await h.get_messages(room.pk)
    assert [m["content"] for m in listing["messages"]] == ["hello", "world"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_same_client_id_stores_once() -> None:
    room = await new_room()
    h = handler()
    results = [await h.create_message("once", "ann", room.pk, idempotency_key=7) for _ in range(3)]
    assert [r["duplicate"] for r in results] == [False, True, True]
    assert len({r["message"]["id"] for r in results}) == 1
    assert await stored(room) == ["once"]
    # the key is scoped by room and user: another user's "7" is another message
    other = await h.create_message("once", "bob", room.pk, idempotency_key=7)
    assert other["ok"] and not other["duplicate"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("not a dict", "invalid_message"),
        ({"user_id": "ann"}, "invalid_message"),
        ({"content": "   ", "room_id": 1}, "invalid_message"),
        ({"content": 5, "room_id": 1}, "invalid_message"),
        ({"content": "x" * 5000, "room_id": 1}, "message_too_long"),
        ({"content": "x", "room_id": [1]}, "invalid_message"),
        ({"content": "x", "room_id": "abc", "user_id": "ann"}, "invalid_message"),
        ({"content": "x", "room_id": 1, "user_id": "a" * 101}, "invalid_message"),
        ({"content": "x", "room_id": 1, "user_id": "ann", "client_id": {"a": 1}}, "invalid_message"),
        ({"content": "x", "room_id": 10**9, "user_id": "ann"}, "invalid_message"),  # no such room
    ],
)
async def test_invalid_messages_are_refused_without_retry(data, code) -> None:
    from channels_lint.runtime.models import MessagingError

    sleep = RecordingSleep()
    result = await handler(sleep=sleep).handle_message_creation(data)
    assert result["ok"] is False and result["type"] == "error" and result["error"] == code
    assert result["retryable"] is False and result["reason"]
    assert sleep.delays == []
    assert await MessagingError.objects.filter(category="validation").acount() == 1


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_unconfigured_handler_answers_with_an_error(settings) -> None:
    settings.CHANNELS_LINT_RUNTIME = {}
    result = await AsyncSafeMessageHandler().create_message("hi", "ann", 1)
    assert result["ok"] is False and result["error"] == "server_misconfigured"
    settings.CHANNELS_LINT_RUNTIME = {"MESSAGE_MODEL": "chat.Message", "MESSAGE_FIELDS": FIELDS}
    room = await new_room()
    assert (await AsyncSafeMessageHandler(retry=POLICY).create_message("hi", "ann", room.pk))["ok"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_transient_failure_is_retried_and_recorded() -> None:
    from channels_lint.runtime.models import MessagingError

    room = await new_room()
    sleep = RecordingSleep()
    h = handler(sleep=sleep)
    real = h._create_sync
    failures = iter([OperationalError("server closed the connection unexpectedly")] * 2)

    def flaky(*args):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(*args)

    h._create_sync = flaky
    result = await h.create_message("kept", "ann", room.pk, idempotency_key="k")
    assert result["ok"] and await stored(room) == ["kept"]
    assert sleep.delays == [0.0075, 0.015]  # ceiling 0.01, 0.02 with jitter 0.5 at rng 0.5
    record = await MessagingError.objects.aget(recovery_action="retried")
    assert record.context_data["attempts"] == 3 and record.context_data["operation"] == "create_message"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_database_down_through_every_attempt_gives_a_retryable_error() -> None:
    room = await new_room()
    h = handler()

    def down(*args):
        raise OperationalError("connection refused")

    h._create_sync = down
    result = await h.create_message("lost?", "ann", room.pk, idempotency_key="k9")
    assert result == {
        "type": "error",
        "error": "database_unavailable",
        "reason": "the database is unavailable; the message was not stored, send it again",
        "ok": False,
        "category": "database",
        "retryable": True,
        "client_id": "k9",
    }
    assert len(h.sleep.delays) == POLICY.attempts - 1


PERMANENT = st.sampled_from(
    [IntegrityError("dup"), DataError("too long"), ValidationError("bad"), ValueError("bad"), RuntimeError("bug")]
)


@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(content=TEXT, author=AUTHOR, failure=PERMANENT | st.just(OperationalError("connection reset")))
def test_property_a_failing_operation_rolls_back_its_transaction(content, author, failure) -> None:
    """Feature: messaging-system-fixes, Property 10: a failing operation keeps the connection and rolls back its transaction.

    (Handler side: the message row and its receipt roll back together and the caller gets a
    dict, never an exception; the consumer side is in test_runtime_mixin.py.)"""
    from channels_lint.runtime.models import MessageReceipt

    class Failing(AsyncSafeMessageHandler):
        def after_create(self, instance):
            assert instance.pk is not None  # saved inside the transaction
            raise failure

    async def scenario():
        room = await new_room()
        h = Failing("chat.Message", fields=FIELDS, retry=POLICY, sleep=RecordingSleep(), rng=lambda: 0.5)
        receipts = await MessageReceipt.objects.acount()
        result = await h.create_message(content, author, room.pk, idempotency_key="x")
        assert result["ok"] is False and result["type"] == "error"
        assert await stored(room) == []
        assert await MessageReceipt.objects.acount() == receipts
        transient = isinstance(failure, OperationalError)
        assert result["retryable"] is transient
        assert len(h.sleep.delays) == (POLICY.attempts - 1 if transient else 0)

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(batch=st.lists(st.tuples(TEXT, AUTHOR, st.booleans()), min_size=1, max_size=6))
def test_property_handler_db_operations_complete_from_async_code(batch) -> None:
    """Feature: messaging-system-fixes, Property 1: handler DB operations complete from async code with no async-context violation."""
    from channels_lint.runtime.models import MessagingError

    async def scenario():
        room = await new_room()
        h = handler()
        expected = []
        for number, (content, author, with_id) in enumerate(batch):
            result = await h.create_message(content, author[:100], room.pk, idempotency_key=f"m{number}" if with_id else None)
            assert result["ok"], result
            assert result["message"]["content"] == content
            expected.append(content)
        listing = await h.get_messages(room.pk, limit=50)
        assert listing["ok"] and [m["content"] for m in listing["messages"]] == expected
        assert await stored(room) == expected
        assert h.stats["failures"] == 0
        assert not await MessagingError.objects.filter(category="async_context").aexists()

    asyncio.run(scenario())


@pytest.mark.asyncio
async def test_a_sync_query_on_the_loop_is_what_the_handler_avoids() -> None:
    """Control for Property 1: the same query made directly on the event loop does raise."""
    from chat.models import Message

    with pytest.raises(SynchronousOnlyOperation):
        Message.objects.count()


FAULT_PLAN = st.lists(st.sampled_from(["before", "after"]), max_size=6)


@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(plan=FAULT_PLAN, content=TEXT)
def test_property_retries_never_store_a_message_twice(plan, content) -> None:
    """Feature: messaging-system-fixes, Property 11: retries with backoff; nothing accepted is lost.

    A transient failure before the commit, or after it (the commit happened but its answer was
    lost), on any of the attempts: an accepted message is stored exactly once; a refused one is
    retryable and the client's resend with the same id stores it exactly once; each delay is
    within its backoff band."""

    async def scenario():
        room = await new_room()
        sleep = RecordingSleep()
        h = handler(sleep=sleep, rng=lambda: 0.999)
        real = h._create_sync
        faults = iter(plan)

        def faulty(*args):
            fault = next(faults, None)
            if fault == "before":
                raise OperationalError("connection refused")
            result = real(*args)
            if fault == "after":
                raise OperationalError("server closed the connection unexpectedly")
            return result

        h._create_sync = faulty
        result = await h.create_message(content, "ann", room.pk, idempotency_key="same")
        failures = min(len(plan), POLICY.attempts)
        assert len(sleep.delays) == min(failures, POLICY.attempts - 1)
        for number, delay in enumerate(sleep.delays):
            assert POLICY.ceiling(number) * (1 - POLICY.jitter) <= delay <= POLICY.ceiling(number)
        if result["ok"]:
            assert len(plan) < POLICY.attempts
            assert result["duplicate"] == ("after" in plan)
        else:
            assert result["retryable"] and len(plan) >= POLICY.attempts
            h._create_sync = real
            again = await h.create_message(content, "ann", room.pk, idempotency_key="same")
            assert again["ok"] and again["duplicate"] == ("after" in plan[: POLICY.attempts])
        assert await stored(room) == [content]

    asyncio.run(scenario())
