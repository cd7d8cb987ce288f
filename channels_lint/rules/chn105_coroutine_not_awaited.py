"""CHN105: coroutine called without ``await`` in code that runs on the event loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import CoroutineCall, CoroutineKind
from channels_lint.analysis.facts import ASYNC_MARKERS
from channels_lint.diagnostics import AddAwait, Applicability, Violation
from channels_lint.rules.base import Invalid, Rule


#: What a coroutine object itself has (collections.abc.Coroutine and CPython's coroutine type).
COROUTINE_ATTRIBUTES = frozenset({"send", "throw", "close", "cr_await", "cr_frame", "cr_running", "cr_code", "cr_origin", "__await__"})


class CoroutineNotAwaited(Rule):
    """
    ## What it does
    Checks for calls whose result is a coroutine that is thrown away or only tested for
    truth: `self.send(...)`, `self.send_json(...)`, `self.accept()`, `self.close()` and the
    consumer's own `async def` methods in an async consumer, methods and functions decorated
    with `database_sync_to_async`/`sync_to_async`, `database_sync_to_async(f)(...)`, every
    channel-layer method (`group_send`, `group_add`, `send`, ...), module-level coroutine
    functions, and `channels.auth.login/logout/get_user`. In sync code (a sync consumer, a
    helper run in a thread) the same calls need `async_to_sync`; channel-layer calls there
    are CHN107's.

    ## Why is this bad?
    Calling a coroutine function only creates the coroutine; nothing runs until it is
    awaited. The message is never sent, the group never joined, the connection never
    accepted, and the only trace is `RuntimeWarning: coroutine '...' was never awaited`
    (Channels `consumer.py`/`layers.py`: all of these are `async def`). In a condition it is
    worse: `if self.user_may_edit(room):` is always true, because a coroutine object is truthy.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class ChatConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            self.channel_layer.group_add("chat", self.channel_name)
            self.accept()
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class ChatConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.channel_layer.group_add("chat", self.channel_name)
            await self.accept()
    ```

    ## Fix safety
    The fix adds `await` (in sync code: `async_to_sync(f)(args)`) and is safe: it runs the
    coroutine the code already created. No fix
    is offered inside a sync `def` that an async consumer calls on the event loop (it cannot
    `await`; make it `async def` first, see CHN108), a lambda, an f-string, a class body or a
    generator expression.

    ## Known problems
    Only coroutines discarded as a statement or tested for truth are reported; a coroutine
    stored in a variable, passed on (`asyncio.create_task`, `gather`) or returned is assumed
    to be awaited later.
    """

    code = "CHN105"
    name = "coroutine-not-awaited"
    # async code, decorated helpers (…sync_to_async), channels.auth and channels.db coroutines
    markers = (*ASYNC_MARKERS, "sync_to_async", "channels.auth", "auth.log", "aclose_old_connections")
    fix_applicability = Applicability.SAFE

    valid = (
        """
import asyncio
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer

async def notify(layer):
    await layer.group_send("g", {"type": "x"})

class A(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        task = asyncio.create_task(self.channel_layer.group_send("g", {"type": "x"}))
        asyncio.ensure_future(notify(self.channel_layer))
        if await self.may_join():
            pass
        return self.close()

    async def group_send(self):
        pass

    @database_sync_to_async
    def may_join(self):
        return True

class S(WebsocketConsumer):
    def connect(self):
        self.accept()
        self.send(text_data="hi")
""",
    )
    invalid = (
        Invalid(
            """
from channels.auth import login
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

async def announce(text):
    layer = get_channel_layer()
    layer.group_send("news", {"type": "news.item", "text": text})  # error

class C(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.accept()  # error
        self.refresh()  # error
        announce("hello")  # error
        login(self.scope, self.scope["user"])  # error
        if self.may_edit():  # error
            database_sync_to_async(self.scope["session"].save)()  # error

    async def refresh(self):
        async def inner():
            self.send_json({"ok": True})  # error
        await inner()

    @database_sync_to_async
    def may_edit(self):
        return False
""",
            fixed="""
from channels.auth import login
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

async def announce(text):
    layer = get_channel_layer()
    await layer.group_send("news", {"type": "news.item", "text": text})  # error

class C(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()  # error
        await self.refresh()  # error
        await announce("hello")  # error
        await login(self.scope, self.scope["user"])  # error
        if await self.may_edit():  # error
            await database_sync_to_async(self.scope["session"].save)()  # error

    async def refresh(self):
        async def inner():
            await self.send_json({"ok": True})  # error
        await inner()

    @database_sync_to_async
    def may_edit(self):
        return False
""",
        ),
        Invalid(
            """
import asyncio
from channels.generic.websocket import AsyncWebsocketConsumer

class PresenceConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        greeting = self.send(text_data="welcome")  # error
        joined = self.channel_layer.group_add("presence", self.channel_name)
        await joined
        ping = self.send(text_data="ping")
        asyncio.ensure_future(ping)
"""
        ),
        Invalid(
            """
from channels.testing import WebsocketCommunicator
from chat.asgi import application

async def test_echo():
    communicator = WebsocketCommunicator(application, "/ws/echo/")
    connected, _ = await communicator.connect()
    await communicator.send_json_to({"text": "hi"})
    reply = communicator.receive_json_from()  # error
    assert reply["text"] == "hi"
    assert communicator.receive_json_from()["text"] == "hi"  # error
    await communicator.disconnect()
"""
        ),
        Invalid(
            """
from channels.auth import login
from channels.generic.websocket import WebsocketConsumer

class S(WebsocketConsumer):
    def connect(self):
        login(self.scope, self.scope["user"])  # error: 9
        self.accept()
""",
            messages=(
                "coroutine function `login` returns a coroutine that sync code never awaits, so it never runs; "
                "use `async_to_sync(login)(...)`",
            ),
            fixed="""
from channels.auth import login
from channels.generic.websocket import WebsocketConsumer
from asgiref.sync import async_to_sync

class S(WebsocketConsumer):
    def connect(self):
        async_to_sync(login)(self.scope, self.scope["user"])  # error: 9
        self.accept()
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        syntax = a.syntax
        layer_calls = {layer_call.call for layer_call in a.layer.calls}
        yield from self._stored()
        yield from self._misused_calls()
        for call in syntax.nodes(ast.Call):
            if not (isinstance(syntax.parents.get(call), ast.Expr) or syntax.truth_tested(call)):
                continue
            context = a.context.of(call)
            if not (context.on_event_loop or context.is_sync):
                continue
            coroutine = a.coroutines.of(call)
            if coroutine is None:
                continue
            what = self._what(coroutine)
            outcome = "is always true" if syntax.truth_tested(call) else "never runs"
            callee = syntax.source(call.func)
            if context.is_sync:
                if call in layer_calls:
                    continue  # CHN107's
                yield self.async_to_sync_violation(
                    call,
                    f"{what} returns a coroutine that sync code never awaits, so it {outcome}; "
                    f"use `async_to_sync({callee})(...)`",
                    "Run it with `async_to_sync`",
                )
                continue
            message = f"{what} returns a coroutine that is never awaited, so it {outcome}; use `await {callee}(...)`"
            if a.context.can_await_here(call):
                yield self.violation(call, message, (AddAwait(syntax.span(call)),), "Add `await`")
            else:
                yield self.violation(call, message + " in an `async def`")

    def _stored(self) -> Iterator[Violation]:
        """``task = self.send(...)`` whose name is never read again: the coroutine never runs."""
        a = self.analysis
        syntax = a.syntax
        for assign in syntax.nodes(ast.Assign):
            if len(assign.targets) != 1 or not isinstance(assign.targets[0], ast.Name) or not isinstance(assign.value, ast.Call):
                continue
            name = assign.targets[0].id
            if not a.context.of(assign).on_event_loop or name == "_":
                continue
            coroutine = a.coroutines.of(assign.value)
            if coroutine is None:
                continue
            scope = syntax.enclosing_scope(assign)
            loads = [n for n in a.names.loads_by_name[0].get(name, ()) if syntax.enclosing_scope(n) is scope]
            reached = [n for n in loads if any(b.node is assign for b in (a.flow.reaching(n) or ()))]
            misuse = next((n for n in reached if self._used_as_value(n)), None)
            if misuse is not None:
                yield self.violation(
                    assign.value,
                    f"{self._what(coroutine)} returns a coroutine, stored in `{name}`; "
                    f"`{syntax.source(syntax.parents[misuse])}` uses it as the result, which fails with TypeError; "
                    f"use `await {syntax.source(assign.value.func)}(...)`",
                )
                continue
            if reached:
                continue
            if isinstance(scope, ast.Module) or any(
                syntax.enclosing_scope(n) is not scope for n in a.names.loads_by_name[0].get(name, ())
            ):
                continue  # read by a nested function or at module level: it may be awaited there
            yield self.violation(
                assign.value,
                f"{self._what(coroutine)} returns a coroutine that is stored in `{name}` and never awaited or passed on, "
                f"so it never runs; use `await {syntax.source(assign.value.func)}(...)`",
            )

    def _misused_calls(self) -> Iterator[Violation]:
        """``self.receive_json_from()["type"]``: a coroutine call's result used as a value."""
        a = self.analysis
        syntax = a.syntax
        for call in syntax.nodes(ast.Call):
            if not self._used_as_value(call) or not a.context.of(call).on_event_loop:
                continue
            coroutine = a.coroutines.of(call)
            if coroutine is None:
                continue
            yield self.violation(
                call,
                f"{self._what(coroutine)} returns a coroutine; `{syntax.source(syntax.parents[call])}` uses it as the "
                f"result, which fails with TypeError; use `await {syntax.source(call.func)}(...)`",
            )

    def _used_as_value(self, node: ast.expr) -> bool:
        """Whether ``node`` (a coroutine) is used the way only its result could be: indexed,
        an attribute read (other than a coroutine's own), iterated, compared or computed with."""
        parent = self.analysis.syntax.parents.get(node)
        if isinstance(parent, ast.Subscript):
            return parent.value is node
        if isinstance(parent, ast.Attribute):
            return parent.attr not in COROUTINE_ATTRIBUTES
        if isinstance(parent, (ast.For, ast.comprehension)):
            return parent.iter is node
        return isinstance(parent, (ast.Compare, ast.BinOp))

    def _what(self, coroutine: CoroutineCall) -> str:
        callee = self.analysis.syntax.source(coroutine.callee)
        return {
            CoroutineKind.LAYER_METHOD: f"channel-layer method `{callee}`",
            CoroutineKind.BRIDGE_CALL: f"`{callee}`",
            CoroutineKind.LIBRARY_FUNCTION: f"coroutine function `{callee}`",
            CoroutineKind.MODULE_FUNCTION: f"coroutine function `{callee}`",
            CoroutineKind.OWN_METHOD: f"coroutine method `{callee}`",
            CoroutineKind.CONSUMER_METHOD: f"coroutine method `{callee}`",
        }[coroutine.kind]
