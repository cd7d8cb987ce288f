"""Behaviour of every fixable async-context code (issue 3) under ``WebsocketCommunicator``
with a real database: the original consumer raises or silently drops the message, the
output of ``channels-lint fix`` works.  An application's exception is raised the moment it
happens (``tests.helpers.Client`` races every receive against the application); a dropped
message is proven lost with a marker sent after the handler finished, not with a timeout.

Runs on the test settings' database: SQLite by default, PostgreSQL with
``CHANNELS_LINT_TEST_DATABASE=postgres`` (CI runs both).
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field

import pytest

from .helpers import clients, consumer_application, fix_snippet, load_module, output_after_marker

pytestmark = pytest.mark.behaviour

IMPORTS = """\
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer, WebsocketConsumer
from django.contrib.auth import authenticate

from .models import Message, Room
"""


@dataclass(frozen=True)
class Case:
    code: str
    source: str
    send: object
    reply: object
    #: What the original does: an exception type (or its name), or LOST for a dropped message.
    failure: type[BaseException] | str
    select: tuple[str, ...] = ()
    unsafe: bool = False
    json: bool = False
    fixed: str = field(default="", compare=False)


#: The original's failure when the message never reaches the channel layer.
LOST = "lost"

CASES = [
    Case(
        "CHN101",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        room = Room.objects.get_or_create(name="lobby")[0]
        Message.objects.create(room=room, author="ann", body=text_data)
        count = Message.objects.filter(room=room).count()
        await self.send(text_data=f"{count} stored")
""",
        "hello",
        "1 stored",
        "SynchronousOnlyOperation",
    ),
    Case(
        "CHN102",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        room = await Room.objects.acreate(name=text_data)
        room.name = text_data + "-renamed"
        room.save()
        await room.arefresh_from_db()
        await self.send(text_data=room.name)
""",
        "den",
        "den-renamed",
        "SynchronousOnlyOperation",
    ),
    Case(
        "CHN104",
        IMPORTS
        + """
def store(room_name, body):
    room = Room.objects.get_or_create(name=room_name)[0]
    return Message.objects.create(room=room, author="ann", body=body).body


class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        body = store("lobby", text_data)
        await self.send(text_data="stored " + body)
""",
        "hello",
        "stored hello",
        "SynchronousOnlyOperation",
        unsafe=True,
    ),
    Case(
        "CHN105",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("room", self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        self.channel_layer.group_send("room", {"type": "chat.message", "text": text_data})

    async def chat_message(self, event):
        await self.send(text_data=event["text"])
""",
        "hello",
        "hello",
        LOST,
    ),
    Case(
        "CHN106",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        async_to_sync(self.channel_layer.group_add)("room", self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send("room", {"type": "chat.message", "text": text_data})

    async def chat_message(self, event):
        await self.send(text_data=event["text"])
""",
        "hello",
        "hello",
        RuntimeError,
    ),
    Case(
        "CHN107",
        IMPORTS
        + """
class Consumer(WebsocketConsumer):
    def connect(self):
        self.channel_layer.group_add("room", self.channel_name)
        self.accept()

    def receive(self, text_data=None, bytes_data=None):
        room = Room.objects.get_or_create(name="lobby")[0]
        Message.objects.create(room=room, author="ann", body=text_data)
        self.channel_layer.group_send("room", {"type": "chat.message", "text": text_data})

    def chat_message(self, event):
        self.send(text_data=event["text"])
""",
        "hello",
        "hello",
        LOST,
    ),
    Case(
        "CHN108",
        IMPORTS
        + """
class Consumer(AsyncJsonWebsocketConsumer):
    def connect(self):
        async_to_sync(self.channel_layer.group_add)("room", self.channel_name)
        self.accept()

    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send("room", {"type": "chat.message", "text": content["text"]})

    async def chat_message(self, event):
        await self.send_json({"text": event["text"]})
""",
        {"text": "hello"},
        {"text": "hello"},
        RuntimeError,
        select=("CHN1",),
        unsafe=True,
        json=True,
    ),
    Case(
        "CHN109",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        user = authenticate(username="ann", password=text_data)
        await self.send(text_data="welcome" if user is not None else "denied")
""",
        "s3cret-pass",
        "welcome",
        "SynchronousOnlyOperation",
    ),
]


def _fixed(case: Case) -> str:
    fixed = fix_snippet(case.source, select=case.select or (case.code,), unsafe_fixes=case.unsafe)
    assert fixed != case.source, case.code
    return fixed


# Fixed at import (see test_example_project.py on CPython 3.11's ast re-entrancy bug).
FIXED = {case.code: _fixed(case) for case in CASES}


def application(source: str, code: str, monkeypatch):
    return consumer_application(load_module(f"chat.behaviour_{code.lower()}", source, monkeypatch))


async def send(client, case: Case) -> None:
    await client.connect()
    await client.send(json=case.send) if case.json else await client.send(case.send)


@pytest.fixture(autouse=True)
def collect_garbage(thread_connections_closed):
    yield
    gc.collect()


@pytest.fixture
def user(transactional_db):
    from django.contrib.auth.models import User

    return User.objects.create_user("ann", password="s3cret-pass")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
async def test_fixed_consumer_works(case: Case, monkeypatch, user) -> None:
    from chat.models import Message

    async with clients(application(FIXED[case.code], case.code, monkeypatch), "/ws/") as (client,):
        await send(client, case)
        assert await (client.receive_json() if case.json else client.receive_text()) == case.reply
    if case.code in ("CHN101", "CHN104", "CHN107"):
        assert await Message.objects.filter(author="ann", body=case.send).aexists()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("case", [c for c in CASES if c.failure is not LOST], ids=lambda c: c.code)
async def test_original_consumer_fails(case: Case, monkeypatch, user) -> None:
    from django.core.exceptions import SynchronousOnlyOperation

    failure = SynchronousOnlyOperation if case.failure == "SynchronousOnlyOperation" else case.failure
    app = application(case.source, case.code, monkeypatch)
    with pytest.raises(failure):
        async with clients(app, "/ws/") as (client,):
            await send(client, case)
            await client.receive_output()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", [c for c in CASES if c.failure is LOST], ids=lambda c: c.code)
async def test_original_consumer_loses_the_message(case: Case, monkeypatch, user) -> None:
    """The layer call is a coroutine nobody awaits (the warning proves it never ran), and a
    marker sent to the consumer's channel after its handler finished is the first thing the
    client gets: the handler's message never reached the layer."""
    app = application(case.source, case.code, monkeypatch)
    gc.collect()  # finalise earlier tests' coroutines before warnings are recorded
    with pytest.warns(RuntimeWarning, match="was never awaited") as warned:
        async with clients(app, "/ws/") as (client,):
            await send(client, case)
            marker = {"type": "chat.message", "text": "marker"}
            assert await output_after_marker(client, client, marker) == {"type": "websocket.send", "text": "marker"}
    never_awaited = set(re.findall(r"\.(\w+)' was never awaited", " ".join(str(w.message) for w in warned)))
    # exactly the layer calls the source makes as bare statements (no await, no async_to_sync)
    assert never_awaited == set(re.findall(r"^ +self\.channel_layer\.(\w+)\(", case.source, flags=re.M))
