"""Behaviour of issue 7's fixable shapes under ``WebsocketCommunicator`` with a real database:
the original consumer raises, the output of ``channels-lint fix`` works.

* a queryset that came back unevaluated from ``sync_to_async`` and is iterated on the loop
  (CHN101);
* state kept on the consumer: ``self.room`` loaded in ``connect`` and saved in ``receive``
  (CHN102);
* the bridge wrapper awaited without being called (CHN110).
"""

from __future__ import annotations

import gc

import pytest

from .helpers import clients, consumer_application, fix_snippet, load_module

pytestmark = pytest.mark.behaviour

IMPORTS = """\
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chat.models import Message, Room
"""

#: id -> (code, source, the original's failure)
CASES = {
    "thread-hop-queryset": (
        "CHN101",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        room = await Room.objects.acreate(name="lobby")
        await Message.objects.acreate(room=room, author="ann", body=text_data)
        messages = await sync_to_async(Message.objects.filter)(room=room)
        await self.send(text_data=",".join([m.body for m in messages]))
""",
        "SynchronousOnlyOperation",
    ),
    "state-on-the-consumer": (
        "CHN102",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = await Room.objects.acreate(name="lobby")
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        self.room.name = text_data
        self.room.save()
        await self.send(text_data=(await Room.objects.aget(pk=self.room.pk)).name)
""",
        "SynchronousOnlyOperation",
    ),
    "awaited-uncalled-bridge": (
        "CHN110",
        IMPORTS
        + """
class Consumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        count = await database_sync_to_async(self.count_rooms)
        await self.send(text_data=str(count))

    def count_rooms(self):
        Room.objects.create(name=f"r{Room.objects.count()}")
        return Room.objects.count()
""",
        TypeError,
    ),
}
REPLIES = {"thread-hop-queryset": "hello", "state-on-the-consumer": "hello", "awaited-uncalled-bridge": "1"}

# Fixed at import (see test_example_project.py on CPython 3.11's ast re-entrancy bug).
FIXED = {name: fix_snippet(source, select=(code,)) for name, (code, source, _) in CASES.items()}


@pytest.fixture(autouse=True)
def collect_garbage(thread_connections_closed):
    yield
    gc.collect()


def application(name: str, source: str, monkeypatch):
    module = f"chat.issue7_{name.replace('-', '_')}"
    return consumer_application(load_module(module, source, monkeypatch))


@pytest.mark.parametrize("name", CASES)
def test_the_fix_changed_the_code(name: str) -> None:
    assert FIXED[name] != CASES[name][1]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", CASES)
async def test_fixed_consumer_works(name: str, monkeypatch) -> None:
    async with clients(application(name, FIXED[name], monkeypatch), "/ws/") as (client,):
        await client.connect()
        await client.send("hello")
        assert await client.receive_text() == REPLIES[name]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("name", CASES)
async def test_original_consumer_fails(name: str, monkeypatch) -> None:
    from django.core.exceptions import SynchronousOnlyOperation

    _, source, failure = CASES[name]
    expected = SynchronousOnlyOperation if failure == "SynchronousOnlyOperation" else failure
    with pytest.raises(expected):
        async with clients(application(name, source, monkeypatch), "/ws/") as (client,):
            await client.connect()
            await client.send("hello")
            await client.receive_output()
