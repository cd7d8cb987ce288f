"""CHN111: ``channels.auth.login`` in a consumer that never saves the session."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import ASYNC_TO_SYNC
from channels_lint.diagnostics import Applicability, InsertAfter, Violation
from channels_lint.rules.base import Invalid, Rule

LOGIN = "channels.auth.login"
DB_SYNC_TO_ASYNC = ("channels.db", "database_sync_to_async")


class LoginWithoutSessionSave(Rule):
    """
    ## What it does
    Checks consumers that call `channels.auth.login(scope, user)` but never save the session
    (`scope["session"].save()`, through `database_sync_to_async` in async code, or `asave()`).

    ## Why is this bad?
    `login()` only writes the user into `scope["session"]` and cycles its key
    (channels/auth.py, docs/semantics.md §3.3); unlike Django's `login()` for HTTP, nothing
    persists the session afterwards. The Channels docs require saving it: without the save
    the login lasts as long as this connection, and HTTP requests and the next connection see
    an anonymous user (or the old session key, which `login()` has already cycled away).

    ## Example
    ```python
    from channels.auth import login
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class LoginConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content):
            user = await self.authenticate(content)
            await login(self.scope, user)
            await self.send_json({"ok": True})
    ```

    Use instead:
    ```python
    from channels.auth import login
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class LoginConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content):
            user = await self.authenticate(content)
            await login(self.scope, user)
            await database_sync_to_async(self.scope["session"].save)()
            await self.send_json({"ok": True})
    ```

    ## Fix safety
    The fix inserts the save right after the `login()` statement: `await
    database_sync_to_async(scope["session"].save)()` in async code (`await
    scope["session"].asave()` with `--orm-style async-methods` on Django 5.1+),
    `scope["session"].save()` in sync code. It is unsafe: persisting the login is what the
    documentation asks for, but it changes who is logged in for the user's other requests.
    No fix where `login()` is not a statement of its own.

    ## Known problems
    A save anywhere in the consumer class counts, even on a path that does not follow the
    login; a save done by a helper in another module is not seen (the rule then reports).
    """

    code = "CHN111"
    name = "login-without-session-save"
    markers = (("login", "channels.auth"),)
    fix_applicability = Applicability.UNSAFE

    valid = (
        """
from asgiref.sync import async_to_sync
from channels.auth import login
from channels.generic.websocket import JsonWebsocketConsumer

class LoginConsumer(JsonWebsocketConsumer):
    def receive_json(self, content):
        async_to_sync(login)(self.scope, self.lookup(content))
        self.scope["session"].save()

    def lookup(self, content):
        return None
""",
        """
from channels.auth import login
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

class LoginConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        await login(self.scope, content["user"])
        await self.persist()

    async def persist(self):
        session = self.scope["session"]
        await database_sync_to_async(session.save)()
""",
    )
    invalid = (
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.auth import login
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer

class LoginConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        user = await self.authenticate(content)
        await login(self.scope, user)  # error
        await self.send_json({"ok": True})

    async def authenticate(self, content):
        return None

class SyncLoginConsumer(JsonWebsocketConsumer):
    def receive_json(self, content):
        async_to_sync(login)(self.scope, content["user"])  # error
        self.send_json({"ok": True})
""",
            fixed="""
from asgiref.sync import async_to_sync
from channels.auth import login
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
from channels.db import database_sync_to_async

class LoginConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        user = await self.authenticate(content)
        await login(self.scope, user)  # error
        await database_sync_to_async(self.scope["session"].save)()
        await self.send_json({"ok": True})

    async def authenticate(self, content):
        return None

class SyncLoginConsumer(JsonWebsocketConsumer):
    def receive_json(self, content):
        async_to_sync(login)(self.scope, content["user"])  # error
        self.scope["session"].save()
        self.send_json({"ok": True})
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call in a.syntax.nodes(ast.Call):
            scope_arg = self._login_scope(call)
            if scope_arg is None:
                continue
            consumer = a.consumers.of(call)
            if consumer is None or self._saves_session(consumer.node):
                continue
            scope_text = a.syntax.source(scope_arg)
            statement = a.syntax.statement_of(call)
            outer = a.syntax.parents.get(call)
            expression = outer if isinstance(outer, ast.Await) else call
            message = (
                f'`login()` puts the user in `{scope_text}["session"]` but this consumer never saves the session, '
                "so the login is lost when the connection closes; save it after `login()`"
            )
            if not (isinstance(statement, ast.Expr) and statement.value is expression):
                yield self.violation(call, message)
                continue
            save, imports = self._save_statement(call, scope_text)
            yield self.violation(
                call, message, (InsertAfter(a.syntax.span(statement), save),), "Save the session after `login()`", imports
            )

    def _login_scope(self, call: ast.Call) -> ast.expr | None:
        """The scope argument of ``login(scope, user)`` or ``async_to_sync(login)(scope, user)``."""
        names = self.analysis.names
        func = call.func
        if isinstance(func, ast.Call) and names.resolves_to(func.func, ASYNC_TO_SYNC) and func.args:
            func = func.args[0]
        if not names.resolves_to(func, LOGIN) or not call.args:
            return None
        return call.args[0]

    def _saves_session(self, cls: ast.ClassDef) -> bool:
        """A ``save``/``asave`` of the session anywhere in the class (``scope["session"].save``
        or a name holding it), called or passed to a bridge."""
        a = self.analysis
        for node in ast.walk(cls):
            if isinstance(node, ast.Attribute) and node.attr in ("save", "asave"):
                values = a.flow.values(node.value) if isinstance(node.value, ast.Name) else (node.value,)
                if values and any(a.orm.is_scope_key(v, "session") for v in values):
                    return True
        return False

    def _save_statement(self, call: ast.Call, scope_text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        a = self.analysis
        session = f'{scope_text}["session"]'
        if not a.context.of(call).on_event_loop:
            return f"{session}.save()", ()
        if a.settings.orm_style == "async-methods" and a.settings.django_version >= (5, 1):
            return f"await {session}.asave()", ()
        return f"await database_sync_to_async({session}.save)()", (DB_SYNC_TO_ASYNC,)
