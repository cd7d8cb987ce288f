"""Behaviour of every fixable async-context code (issue 3) under ``WebsocketCommunicator``
with a real database: the original consumer raises or silently drops the message, the
output of ``channels-lint fix`` works.

Runs on the test settings' database: SQLite by default, PostgreSQL with
``CHANNELS_LINT_TEST_DATABASE=postgres`` (CI runs both).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import types
from dataclasses import dataclass, field

import pytest

from channels_lint.fixes import fix_bytes

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
    #: What the original does: an exception type, or TimeoutError for a dropped message.
    failure: type[BaseException]
    select: tuple[str, ...] = ()
    unsafe: bool = False
    json: bool = False
    fixed: str = field(default="", compare=False)


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
        TimeoutError,
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
        TimeoutError,
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
    result = fix_bytes(case.source.encode(), select=case.select or (case.code,), unsafe_fixes=case.unsafe)
    assert result.error is None and result.changed, (case.code, result.error)
    return result.fixed.decode()


# Fixed at import (see test_example_project.py on CPython 3.11's ast re-entrancy bug).
FIXED = {case.code: _fixed(case) for case in CASES}


def application(source: str, code: str, monkeypatch):
    from channels.routing import URLRouter
    from django.urls import path

    module = types.ModuleType(f"chat.behaviour_{code.lower()}")
    module.__package__ = "chat"
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(source, f"<{code} consumer>", "exec"), module.__dict__)
    return URLRouter([path("ws/", module.Consumer.as_asgi())])


async def exchange(app, case: Case):
    """Connect two clients; the first sends, and the reply is read from the first."""
    from channels.testing import WebsocketCommunicator

    client = WebsocketCommunicator(app, "/ws/")
    try:
        connected, _ = await client.connect(timeout=2)
        assert connected
        if case.json:
            await client.send_json_to(case.send)
            return await client.receive_json_from(timeout=2)
        await client.send_to(text_data=case.send)
        return await client.receive_from(timeout=2)
    finally:
        if not client.future.done():
            await client.disconnect()


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

    assert await exchange(application(FIXED[case.code], case.code, monkeypatch), case) == case.reply
    if case.code in ("CHN101", "CHN104", "CHN107"):
        assert await Message.objects.filter(author="ann", body=case.send).aexists()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
async def test_original_consumer_fails(case: Case, monkeypatch, user) -> None:
    from django.core.exceptions import SynchronousOnlyOperation

    failure = SynchronousOnlyOperation if case.failure == "SynchronousOnlyOperation" else case.failure
    failure = asyncio.TimeoutError if failure is TimeoutError else failure
    app = application(case.source, case.code, monkeypatch)
    with pytest.raises(failure):
        await exchange(app, case)
