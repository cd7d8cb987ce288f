"""Behaviour of every fixable connection-data code (issue 9) under ``WebsocketCommunicator``.

For each code: the original consumer dies on a hostile frame (or URL, or query string) with the
exception the rule names, and its channel is left behind in the group it had joined (Channels
never runs ``disconnect()`` after a handler raised: docs/semantics.md §2.5); the output of
``channels-lint fix --unsafe-fixes`` answers the same input (with an error frame, where the
input is invalid) and stays connected: a valid message afterwards is answered too.

Every wait races the application (``tests.helpers``), so an exception is raised as it happens.
The tests may touch the database: since Channels 4.2 every dispatch closes old connections
(docs/semantics.md §1.4), so they run with database access like the other behaviour tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from .helpers import clients, consumer_application, fix_snippet, load_module

pytestmark = pytest.mark.behaviour


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    source: str
    #: The client's path (route ``ws/<str:topic>/`` for every case).
    path: str
    #: Frames sent after connecting: the hostile one first (``bytes``: a binary frame; ``None``:
    #: the hostile input is the path or query string), then a valid one.
    hostile: str | bytes | None
    valid: str
    #: What the original raises on the hostile input.
    failure: type[BaseException]
    #: The group the original's channel joined before it died.
    group: str
    #: What the fixed consumer answers: to the hostile frame (``None``: nothing expected), then
    #: to the valid one.
    answers: tuple[object, ...]


TELEMETRY = """\
import json
from channels.generic.websocket import AsyncWebsocketConsumer


class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("telemetry", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("telemetry", self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        reading = data["reading"]
        await self.send(text_data=json.dumps({"ack": reading}))
"""

TOPIC = """\
from channels.generic.websocket import AsyncWebsocketConsumer


class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        topic = self.scope["url_route"]["kwargs"]["topic"]
        self.group_name = f"topic-{topic}"
        await self.channel_layer.group_add("lobby", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("lobby", self.channel_name)
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.channel_layer.group_send(self.group_name, {"type": "topic.post", "text": text_data})

    async def topic_post(self, event):
        await self.send(text_data=event["text"])
"""

FEED = """\
from channels.generic.websocket import AsyncWebsocketConsumer


class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("feed", self.channel_name)
        query = self.scope["query_string"].decode()
        params = dict(pair.split("=") for pair in query.split("&"))
        self.token = params.get("token", "anonymous")
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("feed", self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=f"{self.token}: {text_data}")
"""

ERROR = {"type": "error", "error": "invalid_message", "reason": "A JSON object with 'reading' was expected."}

CASES = [
    Case("CHN301-malformed", "CHN301", TELEMETRY, "/ws/lobby/", "{not json", '{"reading": 21}', json.JSONDecodeError, "telemetry", (ERROR, {"ack": 21})),
    Case("CHN301-binary", "CHN301", TELEMETRY, "/ws/lobby/", b"\x00\x01", '{"reading": 21}', TypeError, "telemetry", (ERROR, {"ack": 21})),
    Case("CHN302-missing-key", "CHN302", TELEMETRY, "/ws/lobby/", '{"temp": 21}', '{"reading": 22}', KeyError, "telemetry", (ERROR, {"ack": 22})),
    Case("CHN302-list", "CHN302", TELEMETRY, "/ws/lobby/", "[1, 2]", '{"reading": 23}', TypeError, "telemetry", (ERROR, {"ack": 23})),
    Case("CHN303-non-ascii-kwarg", "CHN303", TOPIC, "/ws/café/", "bonjour", "encore", TypeError, "lobby", ("bonjour", "encore")),
    Case("CHN303-space-in-kwarg", "CHN303", TOPIC, "/ws/two words/", "hi", "again", TypeError, "lobby", ("hi", "again")),
    Case("CHN305-no-query", "CHN305", FEED, "/ws/lobby/", None, "hi", ValueError, "feed", ("anonymous: hi",)),
    Case("CHN305-equals-in-value", "CHN305", FEED, "/ws/lobby/?token=abc==", None, "hi", ValueError, "feed", ("abc==: hi",)),
]


def _fixed(case: Case) -> str:
    fixed = fix_snippet(case.source, select=(case.code,), unsafe_fixes=True)
    assert fixed != case.source, case.id
    return fixed


FIXED = {case.id: _fixed(case) for case in CASES}


def application(source: str, case: Case, monkeypatch):
    module = load_module(f"chat.connection_{case.code.lower()}", source, monkeypatch)
    return consumer_application(module, "ws/<str:topic>/")


async def _send(client, frame: str | bytes) -> None:
    if isinstance(frame, bytes):  # a binary frame: receive() gets text_data=None
        await client._send_input({"type": "websocket.receive", "bytes": frame})
    else:
        await client.send(frame)


@pytest.fixture(autouse=True)
def database_connections(thread_connections_closed):
    yield


def _members(group: str) -> set[str]:
    from channels.layers import get_channel_layer

    return set(get_channel_layer().groups.get(group, {}))


def test_every_fixable_code_has_a_case() -> None:
    from channels_lint.rules import REGISTRY

    fixable = {code for code, rule in REGISTRY.items() if code.startswith("CHN30") and rule.fix_applicability is not None}
    assert fixable == {case.code for case in CASES}


def test_fixes_are_the_documented_rewrites() -> None:
    assert 'data = extract_message_data(text_data, required=("reading",))' in FIXED["CHN301-malformed"]
    assert FIXED["CHN301-malformed"] == FIXED["CHN302-list"]
    assert 'self.group_name = safe_group_name(f"topic-{topic}")' in FIXED["CHN303-non-ascii-kwarg"]
    assert "params = dict(parse_qsl(query, keep_blank_values=True))" in FIXED["CHN305-no-query"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_original_consumer_dies_and_leaks_its_group(case: Case, monkeypatch) -> None:
    app = application(case.source, case, monkeypatch)
    channel = None
    with pytest.raises(case.failure):
        async with clients(app, case.path) as (client,):
            if case.hostile is None:  # dies in connect, after joining its group
                await client._send_input({"type": "websocket.connect"})
                await client.receive_output()
            else:
                await client.connect()
                channel = client.channel_name
                await _send(client, case.hostile)
                await client.receive_output()
    if channel is None:  # the handshake failed: the probe saw the consumer all the same
        channel = client.probe.consumer.channel_name
    assert channel in _members(case.group), "the dead consumer's channel should still be in its group"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_fixed_consumer_answers_and_stays_connected(case: Case, monkeypatch) -> None:
    app = application(FIXED[case.id], case, monkeypatch)
    async with clients(app, case.path) as (client,):
        await client.connect()
        channel = client.channel_name
        answers = list(case.answers)
        if case.hostile is not None:
            await _send(client, case.hostile)
            reply = await client.receive_text()
            assert (json.loads(reply) if isinstance(answers[0], dict) else reply) == answers.pop(0)
        await client.send(case.valid)
        reply = await client.receive_text()
        assert (json.loads(reply) if isinstance(answers[0], dict) else reply) == answers.pop(0)
        assert channel in _members(case.group)
    assert channel not in _members(case.group), "disconnect() ran and left the group"
