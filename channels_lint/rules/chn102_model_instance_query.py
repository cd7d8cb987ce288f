"""CHN102: model-instance and related-manager database methods in async code."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import Family
from channels_lint.analysis.facts import ASYNC_MARKERS
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.orm import operation_violation, operations_on_loop


class ModelInstanceQueryInAsync(Rule):
    """
    ## What it does
    Checks for database methods of model instances in code that runs on the event loop:
    `save()`, `delete()`, `refresh_from_db()`, `full_clean()` (it runs `validate_unique`),
    and the writing methods of related managers (`add`, `remove`, `clear`, `set`, `create`,
    `get_or_create`, `update_or_create`). Instances are values the analysis knows are model
    instances: `Model(...)`, `Model.objects.get(...)`, `await Model.objects.aget(...)`, loop
    variables over querysets, `self.scope["user"]`.

    ## Why is this bad?
    Each of them runs SQL, which raises `SynchronousOnlyOperation` on the event loop
    (django/utils/asyncio.py). The "Authentication" section of the Channels docs shows the
    same for the session: `await database_sync_to_async(self.scope["session"].save)()`.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer

    from .models import Note


    class NoteConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            note = await Note.objects.aget(pk=1)
            note.body = text_data
            note.save()
    ```

    Use instead:
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer

    from .models import Note


    class NoteConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            note = await Note.objects.aget(pk=1)
            note.body = text_data
            await database_sync_to_async(note.save)()
    ```

    ## Fix safety
    The fix is safe: `await database_sync_to_async(note.save)()` runs the same bound method in
    Django's worker thread. With `--orm-style=async-methods` and a target Django of 4.2 or
    newer it writes `await note.asave()` (`adelete`, `arefresh_from_db`, `aadd`, `aset`...;
    `aremove`/`aclear` only on many-to-many managers, since reverse foreign-key managers have
    them only for nullable keys). No fix where an `await` cannot be added (see CHN101).

    ## Known problems
    Related managers are known from the project's `models.py` files; for a model the index
    does not know, only `add()` and `create()` on an instance attribute are reported.
    """

    code = "CHN102"
    name = "model-instance-query-in-async"
    markers = ASYNC_MARKERS
    fix_applicability = Applicability.SAFE

    valid = (
        """
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = await Note.objects.aget(pk=1)
        await database_sync_to_async(note.save)()
        await note.adelete()
        data = {"a": 1}
        data.clear()

    @database_sync_to_async
    def store(self, body):
        Note(body=body).save()
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note, Tag

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = Note(body=text_data)
        note.save()  # error
        note.full_clean()  # error
        tag, created = await Tag.objects.aget_or_create(name="x")
        note.tags.add(tag)  # error
        for old in Note.objects.filter(done=True)[:5]:
            pass
        self.scope["session"].save()
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note, Tag
from channels.db import database_sync_to_async

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = Note(body=text_data)
        await database_sync_to_async(note.save)()  # error
        await database_sync_to_async(note.full_clean)()  # error
        tag, created = await Tag.objects.aget_or_create(name="x")
        await database_sync_to_async(note.tags.add)(tag)  # error
        for old in Note.objects.filter(done=True)[:5]:
            pass
        self.scope["session"].save()
""",
        ),
        Invalid(
            """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from .models import Note

class NoteConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.note = await Note.objects.aget(pk=self.scope["url_route"]["kwargs"]["pk"])
        await self.accept()

    async def receive_json(self, content):
        self.note.body = content["body"]
        self.note.save()  # error
""",
            fixed="""
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from .models import Note
from channels.db import database_sync_to_async

class NoteConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.note = await Note.objects.aget(pk=self.scope["url_route"]["kwargs"]["pk"])
        await self.accept()

    async def receive_json(self, content):
        self.note.body = content["body"]
        await database_sync_to_async(self.note.save)()  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        for operation in operations_on_loop(self.analysis, Family.INSTANCE):
            yield operation_violation(self, operation)
