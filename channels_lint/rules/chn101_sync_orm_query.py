"""CHN101: sync ORM query in async code."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import Family
from channels_lint.analysis.facts import ASYNC_MARKERS
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.orm import operation_violation, operations_on_loop


class SyncOrmQueryInAsync(Rule):
    """
    ## What it does
    Checks for Django ORM calls that run SQL, and for queryset evaluation, in code that runs
    on the event loop (an `async def`, or a sync handler that an async consumer awaits):
    every QuerySet/Manager method that is not a builder (`get`, `create`, `first`, `count`,
    `exists`, `update`, `delete`, `get_or_create`, `aggregate`, `in_bulk`, ...), on
    `Model.objects`, `_default_manager` and the custom managers the project's `models.py`
    declares; and evaluation: `for`, `list()`, `len()`, `bool()`, `in`, indexing, a step
    slice, `str()`/`repr()`/`print()`/f-strings/`%`, `iterator()` in a plain `for`.

    ## Why is this bad?
    Django's database layer is decorated with `async_unsafe`: any query made while an event
    loop runs in the thread raises `SynchronousOnlyOperation` ("You cannot call this from an
    async context - use a thread or sync_to_async.", django/utils/asyncio.py). Building a
    queryset (`filter`, `all`, `order_by`, slicing without a step, `str(qs.query)`) runs no
    SQL and is fine, and so are `async for` and awaited `a*` methods. Note that `aggregate`
    is sync despite its name (the async one is `aaggregate`).

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer

    from .models import Note


    class BoardConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            Note.objects.create(body=text_data)
            for note in Note.objects.order_by("-id")[:20]:
                await self.send(text_data=note.body)
    ```

    Use instead:
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer

    from .models import Note


    class BoardConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            await database_sync_to_async(Note.objects.create)(body=text_data)
            for note in await database_sync_to_async(list)(Note.objects.order_by("-id")[:20]):
                await self.send(text_data=note.body)
    ```

    ## Fix safety
    The fix is safe: `database_sync_to_async(callee)(args)` runs the same call with the same
    arguments in Django's thread-sensitive worker thread, closing stale connections around
    it (`channels/db.py`), and iteration becomes `await database_sync_to_async(list)(qs)`.
    With `--orm-style=async-methods` it uses the native method instead (`await
    Note.objects.aget(...)`, `async for`) where the target Django has it (4.1+). No fix is
    offered where an `await` cannot be added without changing meaning: in a sync handler, a
    lambda, an f-string, a class body or a generator expression, for `in`, indexing and truth
    tests, or where the call is already awaited.

    ## Known problems
    Only values the analysis can prove are querysets are checked: `Model.objects` chains,
    names imported from a `models` module, and local names assigned from those. Querysets
    reached through a relation (`room.members.all()`) are CHN103's.
    """

    code = "CHN101"
    name = "sync-orm-query-in-async"
    markers = ASYNC_MARKERS
    fix_applicability = Applicability.SAFE

    valid = (
        """
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

class C(AsyncWebsocketConsumer):
    queryset = Note.objects.filter(done=False)

    async def connect(self):
        qs = Note.objects.filter(done=False).order_by("id")[:10]
        total = await database_sync_to_async(Note.objects.count)()
        async for note in qs:
            await self.send(text_data=note.body)
        note = await Note.objects.aget(pk=1)
        rows = await database_sync_to_async(lambda: list(qs))()
        sql = str(qs.query)

    @database_sync_to_async
    def rows(self):
        return list(Note.objects.all())

    async def bodies(self):
        rows = await self.rows()
        notes = await sync_to_async(list)(Note.objects.filter(done=False))
        return [n.body for n in rows] + [n.body for n in notes]
""",
        """
from channels.generic.websocket import WebsocketConsumer
from .models import Note

class C(WebsocketConsumer):
    def connect(self):
        self.accept()
        for note in Note.objects.all():
            self.send(text_data=note.body)
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = Note.objects.get(pk=1)  # error
        count = len(Note.objects.filter(done=True))  # error
        for other in Note.objects.exclude(pk=note.pk):  # error
            pass
        qs = Note.objects.all()
        if qs.exists():  # error
            first = qs[0]  # error
        total = Note.objects.aggregate(n=1)  # error
        for row in qs.iterator():  # error
            await self.send(text_data=f"{qs}")  # error
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note
from channels.db import database_sync_to_async

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = await database_sync_to_async(Note.objects.get)(pk=1)  # error
        count = await database_sync_to_async(len)(Note.objects.filter(done=True))  # error
        for other in await database_sync_to_async(list)(Note.objects.exclude(pk=note.pk)):  # error
            pass
        qs = Note.objects.all()
        if await database_sync_to_async(qs.exists)():  # error
            first = qs[0]  # error
        total = await database_sync_to_async(Note.objects.aggregate)(n=1)  # error
        for row in await database_sync_to_async(list)(qs.iterator()):  # error
            await self.send(text_data=f"{qs}")  # error
""",
        ),
        Invalid(
            """
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from .models import Note


@database_sync_to_async
def open_notes(user):
    return Note.objects.filter(owner=user, done=False)


class BoardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        notes = await sync_to_async(Note.objects.filter)(done=False)
        await self.send_json({"bodies": [n.body for n in notes]})  # error
        for note in await open_notes(self.scope["user"]):  # error
            await self.send_json({"body": note.body})
""",
            fixed="""
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from .models import Note


@database_sync_to_async
def open_notes(user):
    return Note.objects.filter(owner=user, done=False)


class BoardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        notes = await sync_to_async(Note.objects.filter)(done=False)
        await self.send_json({"bodies": [n.body for n in await database_sync_to_async(list)(notes)]})  # error
        for note in await database_sync_to_async(list)(await open_notes(self.scope["user"])):  # error
            await self.send_json({"body": note.body})
""",
        ),
        Invalid(
            """
from django.db.models.signals import post_save
from django.dispatch import receiver
from .models import Note


@receiver(post_save, sender=Note)
async def count_notes(sender, instance, created, **kwargs):
    if created:
        total = Note.objects.filter(owner=instance.owner_id).count()  # error
""",
            fixed="""
from django.db.models.signals import post_save
from django.dispatch import receiver
from .models import Note
from channels.db import database_sync_to_async


@receiver(post_save, sender=Note)
async def count_notes(sender, instance, created, **kwargs):
    if created:
        total = await database_sync_to_async(Note.objects.filter(owner=instance.owner_id).count)()  # error
""",
        ),
        Invalid(
            """
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

User = get_user_model()


class HistoryConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        owner = User.objects.get(pk=self.scope["url_route"]["kwargs"]["pk"])  # error
        note = get_object_or_404(Note, pk=1)  # error
        recent = Note.objects.filter(owner=owner).order_by("-id")[:20]
        for position, item in enumerate(recent):  # error
            await self.send(text_data=f"{position}: {item.body}")
""",
            fixed="""
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note
from channels.db import database_sync_to_async

User = get_user_model()


class HistoryConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        owner = await database_sync_to_async(User.objects.get)(pk=self.scope["url_route"]["kwargs"]["pk"])  # error
        note = await database_sync_to_async(get_object_or_404)(Note, pk=1)  # error
        recent = Note.objects.filter(owner=owner).order_by("-id")[:20]
        for position, item in enumerate(await database_sync_to_async(list)(recent)):  # error
            await self.send(text_data=f"{position}: {item.body}")
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        for operation in operations_on_loop(self.analysis, Family.QUERY):
            yield operation_violation(self, operation)
