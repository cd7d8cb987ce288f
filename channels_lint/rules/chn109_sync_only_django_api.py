"""CHN109: other sync-only Django APIs in async code."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.analysis import Family
from channels_lint.analysis.facts import ASYNC_MARKERS
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.orm import operation_violation, operations_on_loop


class SyncOnlyDjangoApiInAsync(Rule):
    """
    ## What it does
    Checks for sync-only Django APIs that touch the database in code that runs on the event
    loop: `transaction.atomic` (as a `with` or on an `async def`), `connection.cursor()`,
    `django.contrib.auth.authenticate/login/logout/get_user`, the session's `save()`,
    `flush()`, `cycle_key()` and `delete()` (`self.scope["session"]`), the user's
    permission checks (`has_perm()`...), and `request.user.<attr>` in an `async def` view or
    middleware `__call__` (`AuthenticationMiddleware`'s lazy user loads the session and the
    user on first use; Django 5.0 added `await request.auser()`), and a DRF `ModelSerializer`'s
    `save()` or the `.data` of `many=True`/a queryset.

    ## Why is this bad?
    They all reach the database and raise `SynchronousOnlyOperation`. Django's docs: "Transactions
    are not currently supported with asynchronous queries and updates"; Channels' `login()`
    does not save the session, and the docs' example saves it with
    `await database_sync_to_async(self.scope["session"].save)()`.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer
    from django.contrib.auth import authenticate


    class LoginConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            user = authenticate(username="ann", password=text_data)
    ```

    Use instead:
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer
    from django.contrib.auth import authenticate


    class LoginConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            user = await database_sync_to_async(authenticate)(username="ann", password=text_data)
    ```

    ## Fix safety
    Calls get `await database_sync_to_async(f)(args)` and are safe. With
    `--orm-style=async-methods` they become the native coroutine where the target Django has
    it: `aauthenticate`/`alogin`/`alogout` (5.0), the session's `asave` (5.1),
    `ahas_perm` (5.2). `transaction.atomic` and `connection.cursor()` get no fix: a
    transaction and a cursor belong to the thread that opened them, so the whole block must
    move into a `@database_sync_to_async` function.
    """

    code = "CHN109"
    name = "sync-only-django-api-in-async"
    markers = ASYNC_MARKERS
    fix_applicability = Applicability.SAFE

    valid = (
        """
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import transaction
from django.contrib.auth import aauthenticate

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        user = await aauthenticate(username="a", password="b")
        await database_sync_to_async(self.scope["session"].save)()
        name = self.scope["user"].username

    @database_sync_to_async
    def store(self):
        with transaction.atomic():
            pass
""",
        """
from django.http import JsonResponse

async def whoami(request):
    user = await request.auser()
    return JsonResponse({"name": user.username})

def sync_view(request):
    return JsonResponse({"name": request.user.username})

class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        request.started = 1
        return await self.get_response(request)
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import authenticate
from django.db import connection, transaction

class C(AsyncWebsocketConsumer):
    @transaction.atomic  # error
    async def connect(self):
        user = authenticate(username="a", password="b")  # error
        with transaction.atomic():  # error
            cursor = connection.cursor()  # error
        self.scope["session"].save()  # error
        allowed = self.scope["user"].has_perm("chat.add_message")  # error
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import authenticate
from django.db import connection, transaction
from channels.db import database_sync_to_async

class C(AsyncWebsocketConsumer):
    @transaction.atomic  # error
    async def connect(self):
        user = await database_sync_to_async(authenticate)(username="a", password="b")  # error
        with transaction.atomic():  # error
            cursor = connection.cursor()  # error
        await database_sync_to_async(self.scope["session"].save)()  # error
        allowed = await database_sync_to_async(self.scope["user"].has_perm)("chat.add_message")  # error
""",
        ),
        Invalid(
            """
from django.http import JsonResponse

async def whoami(request):
    if not request.user.is_authenticated:  # error
        return JsonResponse({}, status=401)
    return JsonResponse({"name": "x"})

class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        name = request.user.username  # error
        return await self.get_response(request)
""",
            messages=(
                "`request.user` is a lazy object: its first use loads the session and the user from the database, "
                "which raises SynchronousOnlyOperation on the event loop; use `user = await request.auser()`",
            )
            * 2,
        ),
        Invalid(
            """
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework import serializers
from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "body"]


class NoteConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        serializer = NoteSerializer(data=content)
        if serializer.is_valid():
            serializer.save()  # error
        listing = NoteSerializer(Note.objects.all(), many=True)
        await self.send_json(listing.data)  # error
        one = NoteSerializer(await Note.objects.aget(pk=1))
        await self.send_json(one.data)
""",
            fixed="""
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework import serializers
from .models import Note
from channels.db import database_sync_to_async


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "body"]


class NoteConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        serializer = NoteSerializer(data=content)
        if serializer.is_valid():
            await database_sync_to_async(serializer.save)()  # error
        listing = NoteSerializer(Note.objects.all(), many=True)
        await self.send_json(listing.data)  # error
        one = NoteSerializer(await Note.objects.aget(pk=1))
        await self.send_json(one.data)
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        for operation in operations_on_loop(self.analysis, Family.API):
            yield operation_violation(self, operation)
