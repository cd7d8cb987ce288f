"""Issue 3's list of production patterns: what must stay silent and what must be found."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import fix_snippet, found, make_project

MODELS = """
from django.db import models

class Room(models.Model):
    name = models.CharField(max_length=20)
    members = models.ManyToManyField("auth.User", related_name="rooms")

class Subscription(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE)
    phase = models.CharField(max_length=20)

class PublishedManager(models.Manager):
    pass

class Post(models.Model):
    title = models.CharField(max_length=20)
    published = PublishedManager()
"""

SILENT = {
    "decorated-methods": """
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Room

class C(AsyncWebsocketConsumer):
    async def connect(self):
        await self.load()
        await self.store("x")

    @database_sync_to_async
    def load(self):
        return list(Room.objects.all())

    @staticmethod
    @database_sync_to_async
    def store(name):
        Room.objects.create(name=name)
""",
    "bound-method-and-lambda-wrapping": """
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from .models import Room, Subscription

async def handler(sub: Subscription):
    room = await Room.objects.aget(pk=1)
    await database_sync_to_async(room.save)()
    phase = await sync_to_async(lambda: sub.phase)()
    label = await sync_to_async(lambda: Subscription.objects.get(pk=1).room.name)()
""",
    "module-level-decorated-helper": """
from channels.db import database_sync_to_async
from .models import Room

@database_sync_to_async
def rooms():
    return list(Room.objects.all())

async def handler():
    return await rooms()
""",
    "own-wrapper-one-level-deep": """
from channels.db import database_sync_to_async
from .models import Room

def db_task(function):
    return database_sync_to_async(function)

@db_task
def rooms():
    return list(Room.objects.all())

async def handler():
    return await rooms()
""",
    "to-thread": """
import asyncio
from .models import Room

def count():
    return Room.objects.count()

async def handler():
    return await asyncio.to_thread(count)
""",
    "run-until-complete-in-sync-code": """
import asyncio
from channels.layers import get_channel_layer

def notify():
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(layer.group_send("g", {"type": "x"}))
""",
    "queryset-class-attribute": """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Room

class C(AsyncWebsocketConsumer):
    queryset = Room.objects.filter(name__startswith="a")
    rooms = Room.objects.all()[:5]
""",
    "consumer-inside-a-test-function": """
from channels.generic.websocket import WebsocketConsumer
from .models import Room

def test_consumer():
    class Echo(WebsocketConsumer):
        def connect(self):
            Room.objects.create(name="x")
            self.accept()
""",
    "async-class-named-websocketconsumer": """
from channels.generic.websocket import AsyncWebsocketConsumer

class WebsocketConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
""",
    "consumer-method-called-group-send": """
from channels.generic.websocket import AsyncWebsocketConsumer

class C(AsyncWebsocketConsumer):
    async def connect(self):
        await self.group_send("x")

    async def group_send(self, text):
        await self.send(text_data=text)
""",
    "scope-user-plain-fields": """
from channels.generic.websocket import AsyncWebsocketConsumer

class C(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope["user"]
        if user.is_authenticated and user.username:
            await self.accept()
""",
    "async-orm-methods": """
from .models import Post, Room

async def handler():
    room = await Room.objects.aget(pk=1)
    async for post in Post.published.filter(title="x"):
        pass
    total = await Post.published.acount()
    first = await Room.objects.filter(name="a").afirst()
""",
}

FOUND = {
    "sync-helper-len-of-related-manager": (
        """
from channels.generic.websocket import AsyncWebsocketConsumer

def member_count(room):
    return len(room.members.all())

class C(AsyncWebsocketConsumer):
    async def join(self, room):
        return member_count(room)
""",
        [(9, "CHN104")],
    ),
    "custom-manager": (
        """
from .models import Post

async def handler():
    return Post.published.count()
""",
        [(5, "CHN101")],
    ),
    "str-of-queryset-and-values-list-index": (
        """
from .models import Room

async def handler():
    text = str(Room.objects.all())
    first = Room.objects.values_list("name", flat=True)[0]
    sql = str(Room.objects.all().query)
""",
        [(5, "CHN101"), (6, "CHN101")],
    ),
    "related-manager-write": (
        """
from .models import Room

async def handler(user):
    room = await Room.objects.aget(pk=1)
    room.members.add(user)
""",
        [(6, "CHN102")],
    ),
    "scope-user-relation": (
        """
from channels.generic.websocket import AsyncWebsocketConsumer

class C(AsyncWebsocketConsumer):
    async def connect(self):
        rooms = [room.name for room in self.scope["user"].rooms.all()]
""",
        [(6, "CHN103")],
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Where the snippets live: ``app/consumers.py`` beside ``app/models.py``."""
    return make_project(tmp_path, {"app/models.py": MODELS}) / "app" / "consumers.py"


def findings(path: Path, source: str) -> list[tuple[int, str]]:
    path.write_text(source)
    return found(source, path=path)


@pytest.mark.parametrize("source", SILENT.values(), ids=SILENT.keys())
def test_production_patterns_stay_silent(project: Path, source: str) -> None:
    assert findings(project, source) == []


@pytest.mark.parametrize(("source", "expected"), FOUND.values(), ids=FOUND.keys())
def test_async_context_bugs_are_found(project: Path, source: str, expected) -> None:
    assert findings(project, source) == expected


ORM_STYLE = """
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import authenticate
from .models import Room

class C(AsyncWebsocketConsumer):
    async def connect(self):
        room = Room.objects.get(pk=1)
        for other in Room.objects.all():
            pass
        room.save()
        room.members.add(self.scope["user"])
        user = authenticate(username="a", password="b")
        self.scope["session"].save()
"""


@pytest.mark.parametrize(
    ("django_version", "expected"),
    [
        (
            "6.1",
            [
                "room = await Room.objects.aget(pk=1)",
                "async for other in Room.objects.all():",
                "await room.asave()",
                'await room.members.aadd(self.scope["user"])',
                'user = await aauthenticate(username="a", password="b")',
                'await self.scope["session"].asave()',
                "from django.contrib.auth import aauthenticate",
            ],
        ),
        (
            "4.1",
            [
                "room = await Room.objects.aget(pk=1)",
                "async for other in Room.objects.all():",
                "await database_sync_to_async(room.save)()",
                'await database_sync_to_async(room.members.add)(self.scope["user"])',
                'user = await database_sync_to_async(authenticate)(username="a", password="b")',
                'await database_sync_to_async(self.scope["session"].save)()',
            ],
        ),
        (
            "4.0",
            [
                "room = await database_sync_to_async(Room.objects.get)(pk=1)",
                "for other in await database_sync_to_async(list)(Room.objects.all()):",
            ],
        ),
    ],
)
def test_async_methods_style_follows_the_target_django(project: Path, django_version: str, expected: list[str]) -> None:
    project.write_text(ORM_STYLE)
    # fix_snippet: no error, and a second fix changes nothing
    fixed = fix_snippet(ORM_STYLE, path=project, django_version=django_version, orm_style="async-methods")
    for line in expected:
        assert line in fixed
    compile(fixed, "fixed", "exec")


def test_target_version_is_read_from_the_project_pins(tmp_path: Path) -> None:
    from channels_lint.project import pinned_versions, project_settings

    (tmp_path / "requirements.txt").write_text("Django>=4.2,<5.0\nchannels==4.1.0\n")
    (tmp_path / "pyproject.toml").write_text('[tool.channels_lint]\norm-style = "async-methods"\n')
    assert pinned_versions(tmp_path) == {"django": (4, 2), "channels": (4, 1)}
    settings = project_settings(tmp_path)
    assert (settings.django_version, settings.channels_version, settings.orm_style) == ((4, 2), (4, 1), "async-methods")
    assert project_settings(tmp_path, django_version="5.1").django_version == (5, 1)
    with pytest.raises(ValueError):
        project_settings(tmp_path, orm_style="fast")


@pytest.mark.parametrize(
    ("requirements", "poetry", "expected"),
    [
        ("django<4.2,>=4.1\n", None, (4, 1)),
        ("django!=4.2,>=4.0  # comment\n", None, (4, 0)),
        ("Django[argon2]~=4.2.7\nchannels>=4\n", None, (4, 2)),
        ("-r base.txt\ndjango==5.0.*\n", None, (5, 0)),
        ("django<5\n", None, None),
        ("", '"4.1"', (4, 1)),
        ("", '"~4.1"', (4, 1)),
        ("", '"4.1.*"', (4, 1)),
        ("", '{version = "^4.1.3"}', (4, 1)),
        ("", '">=4.0,<5"', (4, 0)),
        ("django>=5.1\n", '">=4.2"', (4, 2)),
    ],
)
def test_pin_lower_bounds(tmp_path: Path, requirements: str, poetry: str | None, expected) -> None:
    from channels_lint.project import pinned_versions

    (tmp_path / "requirements.txt").write_text(requirements)
    if poetry is not None:
        (tmp_path / "pyproject.toml").write_text(f"[tool.poetry.dependencies]\ndjango = {poetry}\n")
    assert pinned_versions(tmp_path).get("django") == expected


def test_chn104_fix_only_where_every_call_can_await(project: Path) -> None:
    source = """
import asyncio
import functools
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Room

def get_room(pk):
    return Room.objects.get(pk=pk)

@functools.lru_cache
def cached_count():
    return Room.objects.count()

class A(AsyncWebsocketConsumer):
    def load(self):
        return Room.objects.count()

    async def connect(self):
        rooms = await asyncio.gather(get_room(1), get_room(2))
        n = self.load()

class B(A):
    async def receive(self, text_data=None, bytes_data=None):
        total = self.load() + 1
        other = cached_count()
"""
    assert findings(project, source) == [(19, "CHN104"), (19, "CHN104"), (20, "CHN104"), (24, "CHN104")]
    fixed = fix_snippet(source, path=project, unsafe_fixes=True)
    assert "rooms = await asyncio.gather(get_room(1), get_room(2))" in fixed  # no await inside gather()
    assert "@database_sync_to_async\ndef get_room" not in fixed
    assert "@database_sync_to_async\n    def load" in fixed  # every call, subclass included, is awaited:
    assert "n = await self.load()" in fixed and "total = await self.load() + 1" in fixed
    assert "@functools.lru_cache\ndef cached_count" in fixed  # unknown decorators: left alone


def test_more_ways_to_reach_the_database(project: Path) -> None:
    source = """
from django.db import connections
from .models import Room

async def handler(self):
    session = self.scope["session"]
    session.save()
    cursor = connections["default"].cursor()
    rooms = [*Room.objects.all()]
    first, *rest = Room.objects.filter(name="a")

    def count():
        return Room.objects.count()

    total = count()
"""
    assert findings(project, source) == [(7, "CHN109"), (8, "CHN109"), (9, "CHN101"), (10, "CHN101"), (15, "CHN104")]
    fixed = fix_snippet(source, path=project, unsafe_fixes=True)
    assert "await database_sync_to_async(session.save)()" in fixed
    assert "    @database_sync_to_async\n    def count():" in fixed and "total = await count()" in fixed


def test_relations_after_the_fix_and_after_create(project: Path) -> None:
    models = """
from django.db import models

class Room(models.Model):
    name = models.CharField(max_length=20)

class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE)
"""
    (project.parent / "models.py").write_text(models)
    source = """
from channels.db import database_sync_to_async
from .models import Message, Room

async def handler(room):
    message = await database_sync_to_async(Message.objects.get)(pk=1)
    first = message.room.name
    for other in await database_sync_to_async(list)(Message.objects.all()):
        second = other.room.name
    created = await Message.objects.acreate(room=room)
    third = created.room.name
    built = Message(room=room)
    fourth = built.room.name
"""
    assert findings(project, source) == [(7, "CHN103"), (9, "CHN103")]
