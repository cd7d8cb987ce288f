"""Real faults, bounded and local: a TCP proxy on 127.0.0.1 (``tests/faultproxy.py``) in front of
the real Redis or PostgreSQL is cut mid-stream and restored, while two clients of the example
``ResilientChatConsumer`` talk in one room.

Afterwards: every message the server accepted (acknowledged) is stored exactly once and delivered
to every member, once, in the order it was accepted; both connections stayed open; each failure
left a ``MessagingError`` record or a structured log line. Retry delays are tiny and injected
(``RecordingSleep``); the PostgreSQL outage is ended by the retry hook after a set number of
retries, so no test waits for a timeout.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import re_path

from channels_lint.runtime import errors
from channels_lint.runtime.handler import RetryPolicy

from .conftest import POSTGRES_HOST, POSTGRES_PORT, REDIS_HOST, REDIS_PORT, require_service
from .faultproxy import FaultProxy, RecordingSleep

pytestmark = [pytest.mark.behaviour, pytest.mark.services]

POLICY = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.004)


class Capture(logging.Handler):
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
def clean(thread_connections_closed):
    errors._buffer.clear()
    yield
    errors._buffer.clear()


def application(sleep: RecordingSleep):
    from chat.resilient import ResilientChatConsumer

    consumer = type("FaultTestConsumer", (ResilientChatConsumer,), {"retry_policy": POLICY, "retry_sleep": sleep})
    return URLRouter([re_path(r"^ws/resilient/(?P<room_name>[-a-zA-Z0-9_]{1,50})/$", consumer.as_asgi())])


class Client:
    """A chat client: sends frames, reads its direct replies, keeps the room broadcasts aside."""

    def __init__(self, app, room: str) -> None:
        self.comm = WebsocketCommunicator(app, f"/ws/resilient/{room}/")
        self.broadcasts: list[dict] = []

    async def connect(self) -> None:
        assert (await self.comm.connect(timeout=10))[0]
        assert (await self.next_frame())["type"] == "history"

    async def next_frame(self) -> dict:
        output = await self.comm.receive_output(timeout=10)
        assert output["type"] == "websocket.send", f"the connection was closed: {output}"
        return json.loads(output["text"])

    async def say(self, body: str, client_id: str) -> dict:
        await self.comm.send_json_to({"body": body, "author": "ann", "client_id": client_id})
        while (frame := await self.next_frame())["type"] not in ("ack", "error"):
            self.broadcasts.append(frame)
        return frame

    async def room_messages(self, until: str) -> list[str]:
        while not self.broadcasts or self.broadcasts[-1].get("content") != until:
            frame = await self.next_frame()
            if frame["type"] == "chat.message":
                self.broadcasts.append(frame)
        return [frame["content"] for frame in self.broadcasts if frame["type"] == "chat.message"]


async def stored_bodies(room: str) -> list[str]:
    from chat.models import Message

    rows = Message.objects.filter(room__name=room).order_by("id").values_list("body", flat=True)
    return [body async for body in rows]


# ------------------------------------------------------------------------------ Redis


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_channel_layer_outage_mid_stream_loses_nothing(settings) -> None:
    """Feature: messaging-system-fixes, Property 11: retries with backoff; nothing accepted is lost.

    Redis becomes unreachable for a while mid-stream (proxy cut: open connections reset, new ones
    refused) and comes back."""
    from channels_lint.runtime.models import MessagingError

    require_service("Redis", REDIS_HOST, REDIS_PORT)
    proxy = await FaultProxy(REDIS_HOST, REDIS_PORT).start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{proxy.port}/0"], "prefix": f"chlint-fault-{uuid.uuid4().hex[:8]}"},
        }
    }
    sleep = RecordingSleep(cap=0.002)
    app = application(sleep)
    room = "redis_fault"
    sender, listener = Client(app, room), Client(app, room)
    accepted = []
    try:
        for client in (sender, listener):
            await client.connect()
        with Capture() as capture:
            for number in range(5):  # before the outage
                assert (await sender.say(f"before {number}", f"b{number}"))["type"] == "ack"
                accepted.append(f"before {number}")
            await proxy.cut()
            retries_before = len(sleep.delays)
            for number in range(8):  # during: stored, acknowledged, queued in order
                reply = await sender.say(f"during {number}", f"d{number}")
                assert reply["type"] == "ack" and not reply["duplicate"], reply
                accepted.append(f"during {number}")
            assert len(sleep.delays) > retries_before  # the sends were retried with backoff
            await proxy.restore()
            for number in range(5):  # after
                assert (await sender.say(f"after {number}", f"a{number}"))["type"] == "ack"
                accepted.append(f"after {number}")
            assert await listener.room_messages(until=accepted[-1]) == accepted
            assert await sender.room_messages(until=accepted[-1]) == accepted
        assert not sender.comm.future.done() and not listener.comm.future.done()
        assert await stored_bodies(room) == accepted
        failures = [r for r in capture.records if getattr(r, "category", None) in ("channel_layer", "network")]
        assert failures, "the outage left no structured log line"
        assert {r.context_data["operation"] for r in failures} >= {"group_send", "channel_layer.receive"}
        queued = MessagingError.objects.filter(recovery_action="queued", context_data__operation="group_send")
        assert await queued.aexists()
        for client in (sender, listener):
            await client.comm.disconnect()
    finally:
        from channels.layers import get_channel_layer

        await proxy.restore()
        layer = get_channel_layer()
        for _ in range(2):  # a pooled connection may still be the one the cut broke
            try:
                await layer.flush()
                break
            except Exception:
                pass
        await layer.close_pools()
        await proxy.stop()


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_database_outage_mid_stream_loses_nothing() -> None:
    """Feature: messaging-system-fixes, Property 11: retries with backoff; nothing accepted is lost.

    PostgreSQL refuses connections for a while (proxy cut) twice: once for longer than the
    handler's retry bound (the client is told to resend, and its resend with the same
    ``client_id`` is stored once), once for less (the handler's own retries succeed)."""
    from asgiref.sync import sync_to_async
    from django.db import connection, connections

    from channels_lint.runtime.models import MessagingError

    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (CHANNELS_LINT_TEST_DATABASE=postgres; CI's behaviour pass)")
    require_service("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    proxy = await FaultProxy(POSTGRES_HOST, POSTGRES_PORT).start()
    settings_dict = connections.settings["default"]  # the dict every thread's connection uses
    original_port = settings_dict["PORT"]
    restore_after: list[int] = []  # sleep count at which the retry hook ends the outage

    async def end_outage(count: int) -> None:
        if restore_after and count >= restore_after[0]:
            restore_after.clear()
            await proxy.restore()

    sleep = RecordingSleep(cap=0.002, on_sleep=end_outage)
    app = application(sleep)
    room = "db_fault"
    sender, listener = Client(app, room), Client(app, room)
    accepted = []
    settings_dict["PORT"] = proxy.port
    await sync_to_async(connections.close_all)()  # the worker thread reconnects through the proxy
    try:
        for client in (sender, listener):
            await client.connect()
        with Capture() as capture:
            for number in range(4):
                assert (await sender.say(f"before {number}", f"b{number}"))["type"] == "ack"
                accepted.append(f"before {number}")

            await proxy.cut()  # longer than the retry bound
            refused = await sender.say("long outage", "long")
            assert refused["type"] == "error" and refused["retryable"] and refused["error"] == "database_unavailable"
            assert refused["client_id"] == "long"

            restore_after.append(len(sleep.delays) + 2)  # shorter: ends at the handler's 2nd retry
            reply = await sender.say("short outage", "short")
            assert reply["type"] == "ack" and not reply["duplicate"], reply
            accepted.append("short outage")
            assert not proxy.refused

            reply = await sender.say("long outage", "long")  # the client's resend, same id
            assert reply["type"] == "ack", reply
            accepted.append("long outage")
            for number in range(4):
                assert (await sender.say(f"after {number}", f"a{number}"))["type"] == "ack"
                accepted.append(f"after {number}")
            assert await listener.room_messages(until=accepted[-1]) == accepted
        assert not sender.comm.future.done() and not listener.comm.future.done()
        assert await stored_bodies(room) == accepted
        assert any(getattr(r, "category", None) == "database" for r in capture.records)
        await errors.aflush_error_buffer()
        actions = {
            action
            async for action in MessagingError.objects.filter(category="database").values_list("recovery_action", flat=True)
        }
        assert {"gave_up", "retried"} <= actions  # the records written during the outage survived it
        for client in (sender, listener):
            await client.comm.disconnect()
    finally:
        settings_dict["PORT"] = original_port
        await proxy.restore()
        await sync_to_async(connections.close_all)()
        await proxy.stop()
