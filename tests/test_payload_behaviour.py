"""The example project's payload bugs (``fixtures/chat_project/chat/payloads.py``) are real, and
``channels-lint fix`` repairs the fixable ones.

* CHN202: a ``Decimal`` in a ``group_send`` event cannot cross a real Redis channel layer
  (msgpack); the fixed event (``str(Decimal(...))``) is delivered to every member.
* CHN203: ``send(text_data={...})`` gives the server a dict, which Daphne's
  ``WebSocketProtocol.handle_reply`` cannot send (``WebsocketCommunicator`` hands it back
  unchanged, so only the server shows it); the fixed frame (``json.dumps(...)``) is sent.
* CHN201: ``send_json`` with a UUID and a datetime fails in the JSON encoder; the fixed values
  (``str(...)``, ``.isoformat()``) reach the client.
* CHN204, CHN205, CHN206 have no fix: the original fails as each message says (no ``"type"``,
  no handler, a sync ``encode_json`` awaited), over Redis, and the fixed module still holds
  the same code; doing what the messages say makes it deliver.

Every failure is raised as it happens (``tests/helpers.py`` races receives against the
applications); no test waits on a timeout.
"""

from __future__ import annotations

import datetime
import gc
import json
import subprocess
import sys
import uuid

import pytest

from .conftest import FIXTURES
from .helpers import clients, fix_snippet, load_module, probed

# Channels 4.2+ closes old database connections around every handler (a worker thread touches
# the connection), so the tests take the database like tests/test_example_project.py does.
pytestmark = [pytest.mark.behaviour, pytest.mark.django_db(transaction=True)]

APP = FIXTURES / "chat_project" / "chat"
ORIGINAL = (APP / "payloads.py").read_text()
FIXED = (FIXTURES / "chat_project_fixed" / "chat" / "payloads.py").read_text()
# Computed at import (see tests/test_example_project.py: no ast.parse while finalisers run).
FIX_OUTPUT = fix_snippet(ORIGINAL, path=APP / "payloads.py")
#: The alert consumer corrected as CHN204, CHN205 and CHN206 say (by hand: they have no fix).
CORRECTED = (
    FIXED.replace("    def encode_json(cls, content):  # expect: CHN206", "    async def encode_json(cls, content):")
    .replace('{"alert": "raised", "text": text}', '{"type": "alert.raised", "text": text}')
    .replace(
        "    async def alert_raised(self, event):",
        '    async def alert_cleared(self, event):\n        await self.send_json({"cleared": event["text"]})\n\n'
        "    async def alert_raised(self, event):",
    )
)


def application_for(source: str, monkeypatch):
    """The module's three consumers (probed) at their routes, as ``chat.payloads``."""
    from channels.routing import URLRouter
    from django.urls import path

    module = load_module("chat.payloads", source, monkeypatch, file=str(APP / "payloads.py"))
    return URLRouter(
        [
            path("ws/ticker/", probed(module.TickerConsumer).as_asgi()),
            path("ws/session/", probed(module.SessionConsumer).as_asgi()),
            path("ws/alerts/", probed(module.AlertConsumer).as_asgi()),
        ]
    )


@pytest.fixture(autouse=True)
def collect_garbage(thread_connections_closed):
    """Finalise the consumers a test leaves behind now (see tests/test_example_project.py)."""
    yield
    gc.collect()


@pytest.fixture
def redis_layer(settings, redis_url: str) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": f"channels-lint-payloads-{uuid.uuid4().hex[:8]}"},
        }
    }


#: Run in a child process: importing daphne (Twisted, zope.interface) breaks LibCST's visitor
#: set-up in this process (``AttributeError: __provides__``), which later fix tests would meet.
_DAPHNE_REPLY = """
import json, sys
from daphne.ws_protocol import WebSocketProtocol

protocol = WebSocketProtocol.__new__(WebSocketProtocol)
protocol.state = WebSocketProtocol.STATE_OPEN
protocol.client_addr = ["127.0.0.1", 50000]
written = []
protocol.sendMessage = lambda payload, binary=False: written.append(payload)
try:
    protocol.handle_reply(json.load(sys.stdin))
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
else:
    print(json.dumps({"written": [payload.decode("latin-1") for payload in written]}))
"""


def daphne_sends(message: dict) -> list[bytes]:
    """What Daphne 4's ``WebSocketProtocol.handle_reply`` writes for an application's
    ``websocket.send`` message on an open connection (its own code, the socket stubbed);
    its exception is raised here."""
    result = subprocess.run(
        [sys.executable, "-c", _DAPHNE_REPLY], input=json.dumps(message), capture_output=True, text=True, check=True
    )
    outcome = json.loads(result.stdout)
    if "error" in outcome:
        raise {"AttributeError": AttributeError, "AssertionError": AssertionError}.get(outcome["error"], RuntimeError)(
            outcome["message"]
        )
    return [payload.encode("latin-1") for payload in outcome["written"]]


def test_the_fix_gives_the_shipped_fixed_module() -> None:
    assert FIX_OUTPUT == FIXED
    for unfixed in ("# expect: CHN204", "# expect: CHN205", "# expect: CHN206"):
        line = next(line for line in ORIGINAL.splitlines() if unfixed in line)
        assert line in FIXED.splitlines()


# ---------------------------------------------------------------------------- CHN203
@pytest.mark.asyncio
async def test_original_text_frame_is_a_dict_the_server_cannot_send(monkeypatch) -> None:
    async with clients(application_for(ORIGINAL, monkeypatch), "/ws/ticker/") as (client,):
        await client.connect()
        frame = await client.receive_output()
    assert frame["text"] == {"subscribed": "ticker"}  # the test communicator hands the dict back
    with pytest.raises(AttributeError, match="'dict' object has no attribute 'encode'"):
        daphne_sends(frame)


@pytest.mark.asyncio
async def test_fixed_text_frame_is_sent_by_the_server(monkeypatch) -> None:
    async with clients(application_for(FIXED, monkeypatch), "/ws/ticker/") as (client,):
        await client.connect()
        frame = await client.receive_output()
    assert daphne_sends(frame) == [b'{"subscribed": "ticker"}']


# ---------------------------------------------------------------------------- CHN202
@pytest.mark.asyncio
async def test_original_decimal_cannot_cross_redis(monkeypatch, redis_layer) -> None:
    with pytest.raises(TypeError, match="can not serialize 'decimal.Decimal' object"):
        async with clients(application_for(ORIGINAL, monkeypatch), "/ws/ticker/", 2) as (sender, listener):
            for client in (sender, listener):
                await client.connect()
                await client.receive_output()  # the subscribed frame
            await sender.send("acme")
            await listener.receive_output()


@pytest.mark.asyncio
async def test_fixed_quote_is_delivered_over_redis(monkeypatch, redis_layer) -> None:
    async with clients(application_for(FIXED, monkeypatch), "/ws/ticker/", 2) as (sender, listener):
        for client in (sender, listener):
            await client.connect()
            assert await client.receive_json() == {"subscribed": "ticker"}
        await sender.send("acme")
        assert await listener.receive_json() == {"symbol": "ACME", "price": "12.40"}
        assert await sender.receive_json() == {"symbol": "ACME", "price": "12.40"}


# ---------------------------------------------------------------------------- CHN201
@pytest.mark.asyncio
async def test_original_session_fails_in_the_json_encoder(monkeypatch) -> None:
    with pytest.raises(TypeError, match="Object of type UUID is not JSON serializable"):
        async with clients(application_for(ORIGINAL, monkeypatch), "/ws/session/") as (client,):
            await client.connect()
            await client.receive_output()


@pytest.mark.asyncio
async def test_fixed_session_reaches_the_client(monkeypatch) -> None:
    async with clients(application_for(FIXED, monkeypatch), "/ws/session/") as (client,):
        await client.connect()
        hello = await client.receive_json()
    assert uuid.UUID(hello["session"]).version == 4
    connected = datetime.datetime.fromisoformat(hello["connected_at"])
    assert abs(datetime.datetime.now(datetime.timezone.utc) - connected) < datetime.timedelta(minutes=1)


# ---------------------------------------------------------------------------- CHN204-CHN206 (no fix)
@pytest.mark.asyncio
@pytest.mark.parametrize("source", [ORIGINAL, FIXED], ids=["original", "fixed"])
async def test_sync_encode_json_in_an_async_consumer_fails(monkeypatch, source: str) -> None:
    with pytest.raises(TypeError, match="object str can't be used in 'await' expression"):
        async with clients(application_for(source, monkeypatch), "/ws/alerts/") as (client,):
            await client.connect()
            await client.send(json={"action": "echo", "text": "hi"})
            await client.receive_output()


@pytest.mark.asyncio
@pytest.mark.parametrize("source", [ORIGINAL, FIXED], ids=["original", "fixed"])
@pytest.mark.parametrize(
    ("action", "error"),
    [("raise", "Incoming message has no 'type' attribute"), ("clear", "No handler for message type alert.cleared")],
)
async def test_undispatchable_event_kills_the_receivers(monkeypatch, redis_layer, source: str, action: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        async with clients(application_for(source, monkeypatch), "/ws/alerts/", 2) as (sender, listener):
            for client in (sender, listener):
                await client.connect()
            await sender.send(json={"action": action, "text": "disk full"})
            await listener.receive_output()


@pytest.mark.asyncio
async def test_alerts_corrected_as_the_messages_say_are_delivered(monkeypatch, redis_layer) -> None:
    from channels_lint.engine import Source, lint

    assert not [v for v in lint(Source.from_text(CORRECTED), path=str(APP / "payloads.py")) if v.code.startswith("CHN2")]
    async with clients(application_for(CORRECTED, monkeypatch), "/ws/alerts/", 2) as (sender, listener):
        for client in (sender, listener):
            await client.connect()
        # both are in the group; the compact encoder (now async) writes every frame
        await sender.send(json={"action": "raise", "text": "disk full"})
        for client in (listener, sender):
            assert await client.receive_text() == '{"alert":"disk full"}'
        await sender.send(json={"action": "clear", "text": "disk ok"})
        for client in (listener, sender):
            assert await client.receive_text() == '{"cleared":"disk ok"}'
        await sender.send(json={"action": "echo", "text": "hi"})
        assert await sender.receive_text() == '{"echo":"hi"}'
