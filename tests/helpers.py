"""What the test files share: lint or fix a snippet, lay out a project, run a consumer.

Linting and fixing::

    lint_snippet(source, path=None, select=None) -> list[Violation]
    found(source, path=None, select=None)        -> [(line, code), ...]
    make_project(tmp_path, {"app/models.py": ...}) -> tmp_path (with a manage.py)
    fix_snippet(source, path=None, select=None, ignore=(), unsafe_fixes=False, **options) -> str

Running consumers under ``channels.testing.WebsocketCommunicator``::

    module = load_module("chat.consumers", source, monkeypatch)
    application = consumer_application(module)         # module.Consumer, probed, at ws/
    async with clients(application, "/ws/", 2) as (a, b):
        await a.connect(); await a.send("hi")            # or send(json=...)
        await b.receive_text()                          # receive_json(), receive_output()
        await a.handled("websocket.receive")            # a's handler has finished
        await output_after_marker(b, a, event, group=)  # proves a's handler sent b nothing

Every wait races the communicator's output against the futures of the applications in play,
so an application's exception is raised the moment it happens, not when a receive times out.
The timeout (:data:`GUARD`) only guards against a hung test: a passing test never waits for
it, and no test expects it.
"""

from __future__ import annotations

import asyncio
import importlib
import json as json_module
import sys
import types
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from channels_lint.diagnostics import Violation
from channels_lint.engine import Source, lint, selected_rules
from channels_lint.fixes import fix_bytes

#: Seconds a wait may take before the test fails; only a hung application ever reaches it
#: (no test expects it to pass: a failure is raised as it happens, a lost message is proven).
GUARD = 5.0

# ---------------------------------------------------------------------------- lint and fix


def lint_snippet(source: str, *, path: str | Path | None = None, select: Collection[str] | None = None) -> list[Violation]:
    """Lint ``source`` as if it were the file ``path`` (which locates the project's models)."""
    rules = selected_rules(select) if select is not None else None
    return lint(Source.from_text(source), rules, path=None if path is None else str(path))


def found(source: str, *, path: str | Path | None = None, select: Collection[str] | None = None) -> list[tuple[int, str]]:
    """``(line, code)`` of every finding, in report order."""
    return [(v.line, v.code) for v in lint_snippet(source, path=path, select=select)]


def make_project(tmp_path: Path, files: dict[str, str]) -> Path:
    """A project root at ``tmp_path``: an empty ``manage.py`` (the root marker) plus ``files``
    (relative path -> text, folders created).  Returns the root."""
    (tmp_path / "manage.py").touch()
    for relative, text in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def fix_snippet(
    source: str,
    *,
    path: str | Path | None = None,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    unsafe_fixes: bool = False,
    **options: str,
) -> str:
    """The fixed text of ``source``; the fix must succeed and a second fix change nothing."""
    arguments = dict(select=select, ignore=ignore, unsafe_fixes=unsafe_fixes, filename=None if path is None else str(path))
    result = fix_bytes(source.encode(), **arguments, **options)
    assert result.error is None, result.error
    again = fix_bytes(result.fixed, **arguments, **options)
    assert again.error is None and not again.changed, f"a second fix changed the output:\n{again.fixed.decode()}"
    return result.fixed.decode()


# ---------------------------------------------------------------------------- modules


def load_module(name: str, source: str, monkeypatch, *, file: str | None = None) -> types.ModuleType:
    """Execute ``source`` as the module ``name`` (in ``sys.modules`` for the test only); a
    dotted name is set on its (imported) parent package too, as an import would."""
    module = types.ModuleType(name)
    module.__package__ = name.rpartition(".")[0]
    if file is not None:
        module.__file__ = file
    monkeypatch.setitem(sys.modules, name, module)
    if module.__package__:
        package = importlib.import_module(module.__package__)
        monkeypatch.setattr(package, name.rpartition(".")[2], module, raising=False)
    # compiled as "<name>": a traceback must not show the lines of the file this varies
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


# ---------------------------------------------------------------------------- consumers


class Probe:
    """Shared through the connection's scope: the consumer instance and the messages it has
    finished handling, so a test can wait for "the handler has run" without a timeout."""

    def __init__(self) -> None:
        self.consumer: Any = None
        self.handled: asyncio.Queue[str] = asyncio.Queue()


def probed(consumer_class: type) -> type:
    """A subclass of ``consumer_class`` (same name) that reports to the scope's :class:`Probe`
    each message it has finished dispatching.  Behaviour is otherwise unchanged: the
    ``dispatch`` of a sync consumer still runs in its worker thread."""

    from channels.exceptions import StopConsumer

    async def dispatch(self, message):
        probe = self.scope.get("probe")
        if probe is not None:
            probe.consumer = self
        try:
            await super(subclass, self).dispatch(message)
        except StopConsumer:  # the disconnect handler ran: handled too
            if probe is not None:
                probe.handled.put_nowait(message["type"])
            raise
        if probe is not None:
            probe.handled.put_nowait(message["type"])

    subclass = type(consumer_class.__name__, (consumer_class,), {"dispatch": dispatch, "__module__": consumer_class.__module__})
    subclass.__qualname__ = consumer_class.__qualname__
    return subclass


def consumer_application(module: types.ModuleType, route: str = "ws/"):
    """A URL router with ``module.Consumer`` (probed) at ``route``."""
    from channels.routing import URLRouter
    from django.urls import path

    return URLRouter([path(route, probed(module.Consumer).as_asgi())])


class Client:
    """One WebSocket connection.  Every wait also watches the ``peers`` (the clients of the same
    test, itself included): whichever application raises first, its exception is raised."""

    def __init__(self, application, path: str) -> None:
        from channels.testing import WebsocketCommunicator

        self.communicator = WebsocketCommunicator(application, path)
        self.probe = Probe()
        self.communicator.scope["probe"] = self.probe
        self.peers: list[Client] = [self]
        #: The application runs once the first message is sent (the communicator starts it).
        self.started = False

    async def _race(self, awaitable, what: str):
        """The result of ``awaitable``, unless an application in play raises first."""
        waiter = asyncio.ensure_future(awaitable)
        try:
            while True:
                self._raise_failures()
                running = {peer.communicator.future for peer in self.peers if peer.started and not peer.communicator.future.done()}
                done, _ = await asyncio.wait({waiter, *running}, timeout=GUARD, return_when=asyncio.FIRST_COMPLETED)
                if waiter in done:
                    return waiter.result()
                if not done:
                    raise AssertionError(f"{what}: nothing within the {GUARD} s guard (the application hangs)")
                # a peer's application ended: raise its exception, if any (the loop checks)
                own = self.communicator.future
                if own in done and not own.cancelled() and own.exception() is None:
                    self._raise_failures()
                    await asyncio.sleep(0)  # one loop turn: a message sent just before returning
                    if waiter.done():
                        return waiter.result()
                    raise AssertionError(f"{what}: the application finished without it")
        finally:
            waiter.cancel()

    def _raise_failures(self) -> None:
        for peer in filter(lambda peer: peer.started, self.peers):
            future = peer.communicator.future
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()

    async def receive_output(self) -> dict:
        """The next ASGI message the application sends (what it sent before failing first)."""
        queue = self.communicator.output_queue
        if not queue.empty():
            return queue.get_nowait()
        return await self._race(queue.get(), "receive")

    async def _send_input(self, message: dict) -> None:
        self.started = True
        await self.communicator.send_input(message)

    async def connect(self) -> None:
        await self._send_input({"type": "websocket.connect"})
        response = await self.receive_output()
        assert response["type"] == "websocket.accept", f"the connection was not accepted: {response}"

    async def send(self, text: str | None = None, *, json: Any = None) -> None:
        """A text frame: ``text``, or ``json`` encoded."""
        assert (text is None) != (json is None), "send text or json"
        await self._send_input(
            {"type": "websocket.receive", "text": text if json is None else json_module.dumps(json)}
        )

    async def receive_text(self) -> str:
        response = await self.receive_output()
        assert response["type"] == "websocket.send" and isinstance(response.get("text"), str), response
        return response["text"]

    async def receive_json(self) -> Any:
        return json_module.loads(await self.receive_text())

    async def handled(self, message_type: str = "websocket.receive") -> None:
        """Wait until the consumer has finished handling a ``message_type`` message: whatever
        its handler sent to the channel layer is queued by then."""
        while True:
            handled = await self._race(self.probe.handled.get(), f"handling {message_type}")
            if handled == message_type:
                return

    @property
    def channel_name(self) -> str:
        assert self.probe.consumer is not None, "the consumer has handled no message yet"
        return self.probe.consumer.channel_name

    async def close(self, *, raise_errors: bool = True) -> None:
        """Disconnect and wait for the application to stop; a failure it had is raised (unless
        ``raise_errors`` is false: the test is already failing)."""
        if not self.started:
            return
        future = self.communicator.future
        try:
            if not future.done():
                await self._send_input({"type": "websocket.disconnect", "code": 1000})
                await self.handled("websocket.disconnect")
                await _wake_layer_receive(self)
                done, _ = await asyncio.wait({future}, timeout=GUARD)
                if not done:
                    raise AssertionError(f"the application did not stop within the {GUARD} s guard after disconnect")
            self._raise_failures()
        except Exception:
            if raise_errors:
                raise
        finally:
            if not future.done():
                future.cancel()
                with suppress(BaseException):
                    await future
            if not future.cancelled():
                future.exception()  # retrieved: raised already, or the test's to raise


async def _wake_layer_receive(client: Client) -> None:
    """Wake the consumer's last channel-layer receive, which its exit has just cancelled.

    redis-py (8.1) can swallow a cancellation that arrives while a command is being sent: the
    cancelled ``BZPOPMIN`` then blocks for channels_redis's whole ``brpop_timeout`` (5 s), and so
    does the consumer's exit.  A message to the consumer's channel ends that ``BZPOPMIN`` at
    once.  Sent only after the consumer handled its disconnect, when it dispatches nothing more.
    """
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if not isinstance(layer, (InMemoryChannelLayer, type(None))) and client.probe.consumer is not None and not client.communicator.future.done():
        await layer.send(client.channel_name, {"type": "tests.closed"})


@asynccontextmanager
async def clients(application, path: str, count: int = 1) -> AsyncIterator[list[Client]]:
    """``count`` clients of ``application`` at ``path`` (not yet connected), closed at exit;
    each one's waits raise any of their applications' exceptions."""
    group = [Client(application, path) for _ in range(count)]
    for client in group:
        client.peers = group
    failed = True
    try:
        yield group
        failed = False
    finally:
        for client in group:
            await client.close(raise_errors=not failed)


async def output_after_marker(receiver: Client, sender: Client, event: dict, *, group: str | None = None) -> dict:
    """What ``receiver`` outputs first once ``sender`` has finished handling its last
    ``websocket.receive`` and the marker ``event`` has been sent to ``receiver`` (through
    ``group``, or straight to its channel).

    Proves positively, with no timeout, that the handler sent ``receiver`` nothing: by the
    time the handler has finished, anything it sent is already queued on the receiver's
    channel, and the layer delivers a channel's messages in order, so had the handler's
    message been sent it would be output before the marker's.
    """
    from channels.layers import get_channel_layer

    await sender.handled("websocket.receive")
    layer = get_channel_layer()
    if group is None:
        await layer.send(receiver.channel_name, event)
    else:
        await layer.group_send(group, event)
    return await receiver.receive_output()
