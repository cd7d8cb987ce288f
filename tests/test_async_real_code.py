"""Issue 7: async-context shapes of real code, and silence where real projects are right."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers import found, make_project

ASYNC_ORM = """
from app.models import Note

async def test_notes():
    Note.objects.create(body="x")
"""
CONSUMER = """
from channels.generic.websocket import AsyncWebsocketConsumer
from app.models import Note

class C(AsyncWebsocketConsumer):
    async def connect(self):
        Note.objects.create(body="x")
"""
MODELS = """
from django.db import models

class Note(models.Model):
    body = models.TextField()
"""


@pytest.mark.parametrize(
    ("setting", "silent", "reported"),
    [
        (
            {"tests/conftest.py": 'import os\nos.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"\n'},
            ["tests/test_notes.py", "tests/unit/test_more.py"],
            ["app/consumers.py", "other/test_elsewhere.py"],
        ),
        (
            {"pytest.ini": "[pytest]\nenv =\n    DJANGO_ALLOW_ASYNC_UNSAFE=true\n"},
            ["tests/test_notes.py", "other/test_elsewhere.py"],
            ["app/consumers.py"],
        ),
        (
            {"pyproject.toml": '[tool.pytest.ini_options]\nenv = ["DJANGO_ALLOW_ASYNC_UNSAFE=true"]\n'},
            ["tests/test_notes.py"],
            ["app/consumers.py"],
        ),
        (
            {"proj/settings.py": 'import os\nos.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")\n'},
            ["tests/test_notes.py", "app/consumers.py"],
            [],
        ),
        (
            {"tests/conftest.py": '# os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"\n', "pytest.ini": "[pytest]\n# DJANGO_ALLOW_ASYNC_UNSAFE\n"},
            [],
            ["tests/test_notes.py", "app/consumers.py"],
        ),
    ],
    ids=["conftest-tree", "pytest-ini-env", "pyproject-env", "settings-everywhere", "commented-out"],
)
def test_django_allow_async_unsafe_silences_the_code_it_covers(tmp_path: Path, setting, silent, reported) -> None:
    files = {"app/models.py": MODELS, **setting}
    for name in (*silent, *reported):
        files[name] = CONSUMER if "consumers" in name else ASYNC_ORM
    root = make_project(tmp_path, files)
    for name in silent:
        assert found((root / name).read_text(), path=root / name) == [], name
    for name in reported:
        assert ("CHN101" in {code for _, code in found((root / name).read_text(), path=root / name)}), name


def test_the_setting_does_not_silence_other_failures(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from asgiref.sync import async_to_sync
        from channels.generic.websocket import AsyncWebsocketConsumer

        class C(AsyncWebsocketConsumer):
            async def connect(self):
                self.accept()
                async_to_sync(self.channel_layer.group_add)("g", self.channel_name)
        """
    )
    root = make_project(tmp_path, {"tests/conftest.py": 'import os\nos.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"\n', "tests/test_c.py": source})
    assert {code for _, code in found(source, path=root / "tests/test_c.py")} == {"CHN105", "CHN106"}


MIXINS = """
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from .models import Note


class PermissionMixin:
    @sync_to_async
    def has_perms(self, perms):
        return self.scope["user"].has_perms(perms)

    def label(self):
        return "plain"


def load_notes():
    return list(Note.objects.all())


def push(group):
    async_to_sync(get_channel_layer().group_send)(group, {"type": "x"})


async def notify(group):
    pass


def pure(value):
    return value * 2
"""

CROSS_CONSUMER = """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from app import mixins
from .mixins import PermissionMixin, load_notes, notify, pure, push


class NoteConsumer(PermissionMixin, AsyncJsonWebsocketConsumer):
    async def connect(self):
        if self.has_perms(["app.view_note"]):
            await self.accept()
        notes = load_notes()
        push("g")
        notify("g")
        mixins.notify("g")
        self.label()
        pure(2)
        await self.send_json({"n": len(notes)})
"""


def test_calls_across_modules_use_the_defining_module(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"app/models.py": MODELS, "app/mixins.py": MIXINS, "app/consumers.py": CROSS_CONSUMER})
    findings = found(CROSS_CONSUMER, path=root / "app" / "consumers.py")
    assert findings == [(9, "CHN105"), (11, "CHN104"), (12, "CHN106"), (13, "CHN105"), (14, "CHN105")]


def test_an_unresolvable_module_is_silent(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"app/models.py": MODELS, "app/consumers.py": CROSS_CONSUMER})
    assert found(CROSS_CONSUMER, path=root / "app" / "consumers.py") == []


def test_a_class_re_exported_by_a_package_init_resolves(tmp_path: Path) -> None:
    base = """
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

class BaseApiConsumer(AsyncJsonWebsocketConsumer):
    @sync_to_async
    def can_edit(self, obj):
        return True
"""
    consumer = """
from core.consumers import BaseApiConsumer

class TodoConsumer(BaseApiConsumer):
    async def receive_json(self, content):
        if not self.can_edit(content):
            return
"""
    root = make_project(
        tmp_path,
        {"core/consumers/__init__.py": "from .base import BaseApiConsumer\n", "core/consumers/base.py": base, "app/consumers.py": consumer},
    )
    assert found(consumer, path=root / "app" / "consumers.py") == [(6, "CHN105")]


def test_a_prefetch_queryset_that_selects_related_loads_those_paths(tmp_path: Path) -> None:
    models = """
from django.conf import settings
from django.db import models

class Round(models.Model):
    number = models.IntegerField()

class Answer(models.Model):
    round = models.ForeignKey(Round, related_name="answers", on_delete=models.CASCADE)
    player = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
"""
    consumer = """
from django.db.models import Prefetch
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Answer, Round

class C(AsyncWebsocketConsumer):
    async def connect(self):
        answers = Answer.objects.select_related("player")
        async for round_ in Round.objects.prefetch_related(Prefetch("answers", queryset=answers)):
            for answer in round_.answers.all():
                print(answer.player.username)
        async for round_ in Round.objects.prefetch_related("answers"):
            for answer in round_.answers.all():
                print(answer.player.username)
"""
    root = make_project(tmp_path, {"app/models.py": models, "app/consumers.py": consumer})
    assert found(consumer, path=root / "app" / "consumers.py") == [(14, "CHN103")]


def test_test_communicator_methods_must_be_awaited() -> None:
    source = textwrap.dedent(
        """
        from channels.testing import WebsocketCommunicator
        from myproject.asgi import application

        async def test_chat():
            communicator = WebsocketCommunicator(application, "/ws/chat/")
            connected, _ = await communicator.connect()
            communicator.send_json_to({"message": "hi"})
            assert await communicator.receive_json_from() == {"message": "hi"}
            await communicator.disconnect()
        """
    )
    assert found(source) == [(8, "CHN105")]
