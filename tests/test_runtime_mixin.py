"""The consumer mixins under ``WebsocketCommunicator``: validated frames, caught errors, close
codes, groups always left, and ordered retried channel-layer sends (async and sync consumers)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError

from channels_lint.runtime import errors
from channels_lint.runtime.errors import UnrecoverableError
from channels_lint.runtime.handler import RetryPolicy
from channels_lint.runtime.mixins import ResilientAsyncJsonConsumerMixin, ResilientJsonConsumerMixin

from .faultproxy import RecordingSleep

pytestmark = pytest.mark.behaviour

PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
_rooms = itertools.count()


class FlakyLayer(InMemoryChannelLayer):
    """The in-memory layer, whose ``group_send`` fails transiently as planned: ``plan[seq]`` is how
    many times the event with that ``seq`` fails (as a Redis outage would)."""

    plan: dict = {}
    attempts: list = []

    async def group_send(self, group, message):
        seq = message.get("seq")
        FlakyLayer.attempts.append(seq)
        if FlakyLayer.plan.get(seq, 0) > 0:
            FlakyLayer.plan[seq] -= 1
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        await super().group_send(group, message)


@pytest.fixture(autouse=True)
def layer_and_buffer(settings, thread_connections_closed):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.test_runtime_mixin.FlakyLayer"}}
    FlakyLayer.plan, FlakyLayer.attempts = {}, []
    errors._buffer.clear()
    yield
    errors._buffer.clear()


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "error_type"):
            self.records.append(record)

    def __enter__(self) -> Capture:
        logging.getLogger("channels_lint.runtime").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("channels_lint.runtime").removeHandler(self)


class Behaviour:
    """What the test consumers do with a valid frame's ``action``."""

    processed: list = []
    disconnected: list = []


def act(consumer, content) -> None:
    Behaviour.processed.append(content)
    action = content.get("action")
    if action == "boom":
        raise RuntimeError("a bug in the handler")
    if action == "fatal":
        raise UnrecoverableError("you are banned", code=4403)
    if action == "orm":
        from chat.models import Message

        Message.objects.count()  # a query on the event loop in the async consumer


class AsyncRoom(ResilientAsyncJsonConsumerMixin, AsyncJsonWebsocketConsumer):
    required_fields = (("seq", int),)
    max_frame_bytes = 2048
    retry_policy = FAST
    retry_sleep = RecordingSleep()

    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        await self.channel_layer.group_add(self.room, self.channel_name)
        if self.scope["url_route"]["kwargs"].get("fail") == "connect":
            raise RuntimeError("connect failed after group_add")
        await self.accept()

    async def receive_json(self, content, **kwargs):
        act(self, content)
        await self.channel_layer.group_send(self.room, {"type": "room.message", "seq": content["seq"]})

    async def room_message(self, event):
        await self.send_json({"type": "message", "seq": event["seq"]})

    async def disconnect(self, code):
        Behaviour.disconnected.append(code)


class SyncRoom(ResilientJsonConsumerMixin, JsonWebsocketConsumer):
    required_fields = (("seq", int),)
    max_frame_bytes = 2048
    retry_policy = FAST
    retry_sleep = RecordingSleep()

    def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        async_to_sync(self.channel_layer.group_add)(self.room, self.channel_name)
        if self.scope["url_route"]["kwargs"].get("fail") == "connect":
            raise RuntimeError("connect failed after group_add")
        self.accept()

    def receive_json(self, content, **kwargs):
        if content.get("action") == "orm":
            content = {**content, "action": None}  # a sync consumer may query: not an error here
        act(self, content)
        async_to_sync(self.channel_layer.group_send)(self.room, {"type": "room.message", "seq": content["seq"]})

    def room_message(self, event):
        self.send_json({"type": "message", "seq": event["seq"]})

    def disconnect(self, code):
        Behaviour.disconnected.append(code)


CONSUMERS = pytest.mark.parametrize("consumer", [AsyncRoom, SyncRoom], ids=["async", "sync"])


def communicator(consumer, room=None, **kwargs) -> WebsocketCommunicator:
    room = room or f"room{next(_rooms)}"
    comm = WebsocketCommunicator(consumer.as_asgi(), f"/ws/{room}/")
    comm.scope["url_route"] = {"args": (), "kwargs": {"room": room, **kwargs}}
    return comm


async def members(group: str) -> set:
    layer = get_channel_layer()
    return set(layer.groups.get(group, {}))


async def expect_open(comm: WebsocketCommunicator) -> None:
    """The connection is open: the consumer task runs and a valid frame still round-trips."""
    assert not comm.future.done()
    await comm.send_json_to({"seq": -1})
    assert await comm.receive_json_from(timeout=5) == {"type": "message", "seq": -1}


def reset() -> None:
    Behaviour.processed, Behaviour.disconnected = [], []


# ------------------------------------------------------------------------------ invalid frames

INVALID_FRAMES = st.one_of(
    st.binary(max_size=40).map(lambda b: ("bytes", b"\xff" + b)),  # never UTF-8
    st.text(max_size=40).filter(lambda t: not _is_json(t)).map(lambda t: ("text", t)),
    st.one_of(st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3), st.none(), st.booleans()).map(
        lambda v: ("text", json.dumps(v))
    ),
    st.dictionaries(st.text(max_size=8).filter(lambda k: k != "seq"), st.integers(), max_size=3).map(
        lambda d: ("text", json.dumps(d))
    ),
    st.one_of(st.text(max_size=5), st.floats(allow_nan=False), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)).map(
        lambda v: ("text", json.dumps({"seq": v}))
    ),
    st.integers(min_value=2**63).map(lambda n: ("text", json.dumps({"seq": n}))),
    st.integers(40, 200).map(lambda depth: ("text", '{"seq": 1, "deep": ' + "[" * depth + "]" * depth + "}")),
    st.integers(2049, 4000).map(lambda size: ("text", json.dumps({"seq": 1, "pad": "x" * size}))),
    st.just(("text", "")),
    st.just(("text", '{"seq": NaN}')),
)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


async def send_raw(comm, frame) -> None:
    kind, payload = frame
    # send_input, not send_to: send_to refuses an empty text frame, which a client can send
    await comm.send_input({"type": "websocket.receive", "bytes" if kind == "bytes" else "text": payload})


@CONSUMERS
@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(frames=st.lists(INVALID_FRAMES, min_size=1, max_size=8))
def test_property_any_invalid_frame_keeps_the_connection_and_is_logged(consumer, frames) -> None:
    """Feature: messaging-system-fixes, Property 6: any invalid frame: the connection stays open and the issue is logged."""

    async def scenario():
        reset()
        comm = communicator(consumer)
        assert (await comm.connect())[0]
        with Capture() as capture:
            for frame in frames:
                await send_raw(comm, frame)
                reply = await comm.receive_json_from(timeout=5)
                assert reply["type"] == "error" and reply["error"] and reply["reason"]
        assert Behaviour.processed == []  # nothing invalid reached receive_json
        assert [r.error_type for r in capture.records] == ["InvalidFrame"] * len(frames)
        assert all(r.category == "validation" and r.context_data["error_code"] for r in capture.records)
        await expect_open(comm)
        await comm.disconnect()

    asyncio.run(scenario())


# ------------------------------------------------------------------------------ ordering


FRAME_PLAN = st.lists(
    st.one_of(
        st.tuples(st.just("valid"), st.integers(0, 3)),  # a valid frame whose group_send fails N times
        st.tuples(st.just("invalid"), INVALID_FRAMES),
    ),
    min_size=1,
    max_size=10,
)


@CONSUMERS
@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(plan=FRAME_PLAN)
def test_property_frames_validated_before_processing_and_order_kept(consumer, plan) -> None:
    """Feature: messaging-system-fixes, Property 12: frames validated before processing; order kept through recovery.

    Valid frames whose broadcast fails transiently (Redis-like ``ConnectionError``, up to 3 times,
    more than the 2 attempts after which the sender is released) are retried before any later
    broadcast goes out: the listener receives every valid frame once, in the order sent, and
    ``receive_json`` never sees an invalid frame."""

    async def scenario():
        reset()
        await get_channel_layer().flush()
        room = f"order{next(_rooms)}"
        sender, listener = communicator(consumer, room), communicator(consumer, room)
        for comm in (sender, listener):
            assert (await comm.connect())[0]
        expected, echoed = [], []  # the sender is a member too: its own broadcasts come back
        for number, (kind, detail) in enumerate(plan):
            if kind == "valid":
                FlakyLayer.plan[number] = detail
                expected.append(number)
                await sender.send_json_to({"seq": number})
            else:
                await send_raw(sender, detail)
                while (reply := await sender.receive_json_from(timeout=5))["type"] != "error":
                    echoed.append(reply["seq"])
        received = [(await listener.receive_json_from(timeout=5))["seq"] for _ in expected]
        assert received == expected
        echoed += [(await sender.receive_json_from(timeout=5))["seq"] for _ in expected[len(echoed) :]]
        assert echoed == expected
        assert [content["seq"] for content in Behaviour.processed] == expected
        assert all(isinstance(content["seq"], int) for content in Behaviour.processed)
        for comm in (sender, listener):
            await expect_open(comm)
            await comm.disconnect()

    asyncio.run(scenario())


# ------------------------------------------------------------------------------ errors in handlers


@CONSUMERS
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_handler_error_sends_an_error_frame_and_keeps_the_connection(consumer) -> None:
    from channels_lint.runtime.models import MessagingError

    reset()
    comm = communicator(consumer)
    assert (await comm.connect())[0]
    await comm.send_json_to({"seq": 1, "action": "boom"})
    reply = await comm.receive_json_from(timeout=5)
    assert reply == {
        "type": "error",
        "error": "internal_error",
        "reason": "the server could not handle the message",
        "category": "internal",
    }
    await expect_open(comm)
    await comm.disconnect()
    record = await MessagingError.objects.aget(error_type="RuntimeError")
    assert record.recovery_action == "error_frame" and record.context_data["operation"] == "receive_json"
    assert record.consumer.endswith(consumer.__qualname__) and record.channel_name


@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in ("seq", "action")), st.integers(-(2**63), 2**63 - 1), max_size=3
    )
)
def test_property_an_async_context_error_is_logged_with_operation_and_context(extra) -> None:
    """Feature: messaging-system-fixes, Property 2: an async-context error is logged with the operation and context."""

    async def scenario():
        reset()
        comm = communicator(AsyncRoom)
        assert (await comm.connect())[0]
        with Capture() as capture:
            await comm.send_json_to({"seq": 5, "action": "orm", **extra})
            reply = await comm.receive_json_from(timeout=5)
        assert reply["error"] == "async_context_error" and reply["category"] == "async_context"
        [line] = capture.records
        assert line.error_type == "SynchronousOnlyOperation" and line.category == "async_context"
        assert line.context_data["operation"] == "receive_json"
        assert line.context_data["message_type"] == "websocket.receive" and line.context_data["frame_bytes"] > 0
        assert "You cannot call this from an async context" in line.error_message
        assert "receive_json" in line.traceback
        await expect_open(comm)
        await comm.disconnect()

    asyncio.run(scenario())


@CONSUMERS
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_unrecoverable_error_closes_with_its_code_and_leaves_the_group(consumer) -> None:
    from channels_lint.runtime.models import MessagingError

    reset()
    comm = communicator(consumer, "fatalroom")
    assert (await comm.connect())[0]
    assert len(await members("fatalroom")) == 1
    await comm.send_json_to({"seq": 1, "action": "fatal"})
    reply = await comm.receive_json_from(timeout=5)
    assert reply == {"type": "error", "error": "unrecoverable", "reason": "you are banned", "fatal": True}
    closed = await comm.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "unrecoverable"}
    await comm.wait(timeout=5)
    assert await members("fatalroom") == set()
    assert Behaviour.disconnected == [4403]
    record = await MessagingError.objects.aget(error_type="UnrecoverableError")
    assert record.recovery_action == "connection_closed" and record.context_data["close_code"] == 4403


@CONSUMERS
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_connect_failing_half_way_refuses_and_leaves_the_group(consumer) -> None:
    reset()
    comm = communicator(consumer, "halfway", fail="connect")
    connected, code = await comm.connect()
    assert (connected, code) == (False, 4000)
    await comm.wait(timeout=5)
    assert await members("halfway") == set()
    assert Behaviour.disconnected == [4000]


@CONSUMERS
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_groups_joined_in_code_are_left_on_disconnect(consumer) -> None:
    reset()
    comm = communicator(consumer, "leftroom")
    assert (await comm.connect())[0]
    assert len(await members("leftroom")) == 1
    await comm.disconnect()
    assert await members("leftroom") == set()
    assert Behaviour.disconnected == [1000]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_permanent_send_failure_is_raised_to_the_handler_and_reported() -> None:
    """An event the layer can never take (here: not a dict) is not retried: the handler's error
    path reports it and later events still go out."""

    class BadEvent(AsyncRoom):
        async def receive_json(self, content, **kwargs):
            if content["seq"] == 1:
                await self.channel_layer.group_send(self.room, ["not", "a", "dict"])
            await super().receive_json(content)

    reset()
    comm = communicator(BadEvent)
    assert (await comm.connect())[0]
    await comm.send_json_to({"seq": 1})
    assert (await comm.receive_json_from(timeout=5))["type"] == "error"
    await comm.send_json_to({"seq": 2})
    assert await comm.receive_json_from(timeout=5) == {"type": "message", "seq": 2}
    await comm.disconnect()


# ------------------------------------------------------------------------------ handler + mixin


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_failing_store_keeps_the_connection_and_rolls_back() -> None:
    from chat.models import Message
    from chat.resilient import ResilientChatConsumer

    from channels_lint.runtime.handler import AsyncSafeMessageHandler

    class Failing(AsyncSafeMessageHandler):
        def after_create(self, instance):
            raise RuntimeError("audit row failed")

    class Consumer(ResilientChatConsumer):
        @property
        def message_handler(self):
            return Failing("chat.Message", fields=self.message_fields, retry=FAST, sleep=RecordingSleep())

    comm = WebsocketCommunicator(Consumer.as_asgi(), "/ws/resilient/rollback/")
    comm.scope["url_route"] = {"args": (), "kwargs": {"room_name": "rollback"}}
    assert (await comm.connect())[0]
    assert (await comm.receive_json_from(timeout=5))["type"] == "history"
    await comm.send_json_to({"body": "never stored", "client_id": "r1"})
    reply = await comm.receive_json_from(timeout=5)
    assert reply["type"] == "error" and reply["ok"] is False and reply["retryable"] is False
    assert not await Message.objects.filter(body="never stored").aexists()
    assert not comm.future.done()
    await comm.disconnect()
