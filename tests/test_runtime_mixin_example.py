"""The example project's ``chat.resilient.ResilientChatConsumer`` (handler + mixin + error app)
against a fuzzing client: 1,200 random frames, valid and hostile, through ``WebsocketCommunicator``
with a real database (SQLite; PostgreSQL in CI's ``-m behaviour`` pass), on the in-memory layer
and on real Redis. No frame closes the connection, every valid message is acknowledged, stored
exactly once and delivered once, in order, to another member of the room."""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from channels_lint.runtime import errors

pytestmark = pytest.mark.behaviour

FRAMES = 1200
SEED = int(os.environ.get("CHANNELS_LINT_FUZZ_SEED", "20261202"))
ALPHABET = 'abcdefghij KLMNOP 0123456789 .,!?-_ éü中文🙂\n\t"\\/{}[]'


@pytest.fixture(autouse=True)
def clean(thread_connections_closed):
    errors._buffer.clear()
    yield
    errors._buffer.clear()


@pytest.fixture
def redis_layer(settings, redis_url):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": f"chlint-fuzz-{uuid.uuid4().hex[:8]}"},
        }
    }


def body(rng: random.Random) -> str:
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 120)))
    return text if text.strip() else text + "x"


def hostile(rng: random.Random) -> tuple[str, object]:
    """A frame the server must refuse with an error frame (kind, payload)."""
    choice = rng.randrange(14)
    if choice == 0:
        return "bytes", bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))) + b"\xff"
    if choice == 1:
        return "text", "".join(rng.choice("{[\"':,}] abc1") for _ in range(rng.randint(1, 30))) + "{"
    if choice == 2:
        return "text", json.dumps(rng.choice([[1, 2], 5, "body", None, True, 1.5]))
    if choice == 3:
        return "text", json.dumps({"text": body(rng)})  # no "body"
    if choice == 4:
        return "text", json.dumps({"body": rng.choice([5, None, ["x"], {"a": 1}, True, 2.5])})
    if choice == 5:
        return "text", json.dumps({"body": "x", "n": 2**64 + rng.randrange(1000)})
    if choice == 6:
        depth = rng.randint(40, 3000)
        return "text", '{"body": "x", "d": ' + "[" * depth + "]" * depth + "}"
    if choice == 7:
        return "text", json.dumps({"body": "x" * 70000})  # over MAX_FRAME_BYTES
    if choice == 8:
        return "text", ""
    if choice == 9:
        return "text", json.dumps({"body": " \n\t "})  # blank: the handler refuses it
    if choice == 10:
        return "text", json.dumps({"body": "y" * 2001 * 2})  # longer than MAX_CONTENT_LENGTH (4000)
    if choice == 11:
        return "text", '{"body": NaN}'
    if choice == 12:
        return "text", '{"body": "\\ud800"}'  # a lone surrogate
    return "text", json.dumps({"body": "ok", "client_id": {"not": "an id"}})


async def next_reply(comm: WebsocketCommunicator, broadcasts: list) -> dict:
    """The sender's direct reply (ack or error); room broadcasts seen meanwhile go to ``broadcasts``."""
    while True:
        output = await comm.receive_output(timeout=10)
        assert output["type"] == "websocket.send", f"the connection was closed: {output}"
        frame = json.loads(output["text"])
        if frame["type"] in ("ack", "error"):
            return frame
        broadcasts.append(frame)


async def collect_until(comm: WebsocketCommunicator, sentinel: str) -> list:
    received = []
    while True:
        output = await comm.receive_output(timeout=10)
        assert output["type"] == "websocket.send", f"the listener was closed: {output}"
        frame = json.loads(output["text"])
        if frame["type"] == "chat.message":
            received.append(frame)
            if frame["content"] == sentinel:
                return received


async def fuzz(room: str) -> None:
    from chat.models import Message
    from chat.routing import websocket_urlpatterns

    rng = random.Random(SEED)
    application = URLRouter(websocket_urlpatterns)
    sender = WebsocketCommunicator(application, f"/ws/resilient/{room}/")
    listener = WebsocketCommunicator(application, f"/ws/resilient/{room}/")
    for comm in (sender, listener):
        assert (await comm.connect(timeout=10))[0]
        assert json.loads((await comm.receive_output(timeout=10))["text"])["type"] == "history"
    sentinel = f"sentinel-{uuid.uuid4().hex}"
    listening = asyncio.ensure_future(collect_until(listener, sentinel))

    accepted: list[dict] = []  # valid frames in the order sent
    broadcasts: list = []
    errors_seen = duplicates = 0
    for number in range(FRAMES):
        roll = rng.random()
        if roll < 0.45:
            frame = {"body": body(rng), "author": rng.choice(["ann", "bob", "", None]), "client_id": f"c{number}"}
            await sender.send_json_to(frame)
            reply = await next_reply(sender, broadcasts)
            assert reply["type"] == "ack" and reply["client_id"] == frame["client_id"] and not reply["duplicate"], reply
            accepted.append(frame)
        elif roll < 0.55 and accepted:
            await sender.send_json_to(rng.choice(accepted))  # a client's resend of the same frame
            reply = await next_reply(sender, broadcasts)
            assert reply["type"] == "ack" and reply["duplicate"], reply
            duplicates += 1
        else:
            kind, payload = hostile(rng)
            await sender.send_input({"type": "websocket.receive", "bytes" if kind == "bytes" else "text": payload})
            reply = await next_reply(sender, broadcasts)
            assert reply["type"] == "error" and reply["error"], (kind, str(payload)[:80], reply)
            errors_seen += 1
    await sender.send_json_to({"body": sentinel, "client_id": "sentinel"})
    assert (await next_reply(sender, broadcasts))["type"] == "ack"
    received = await listening

    expected = [frame["body"] for frame in accepted] + [sentinel]
    assert [frame["content"] for frame in received] == expected  # every one, once, in order
    assert not sender.future.done() and not listener.future.done()  # nobody was disconnected
    stored = [body async for body in Message.objects.filter(room__name=room).order_by("id").values_list("body", flat=True)]
    assert stored == expected  # stored exactly once each, duplicates included
    assert errors_seen > 400 and duplicates > 50 and len(accepted) > 450
    for comm in (sender, listener):
        await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_example_consumer_survives_a_fuzzing_client_in_memory() -> None:
    await fuzz("fuzz_memory")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_example_consumer_survives_a_fuzzing_client_on_redis(redis_layer) -> None:
    await fuzz("fuzz_redis")
