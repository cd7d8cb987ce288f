"""Test helpers for the runtime's fault tests: a cuttable loopback TCP proxy and a recording sleep.

``FaultProxy`` listens on 127.0.0.1 (a random free port) and forwards every connection to a real
service (Redis, PostgreSQL). ``cut()`` resets every open connection and refuses new ones (the
listening socket is closed, so a connect gets ``ECONNREFUSED`` at once, as from a stopped
server); ``restore()`` listens again on the same port. Nothing but loopback is ever contacted.

``RecordingSleep`` replaces ``asyncio.sleep`` in the runtime's retry code: it records every
requested delay and waits only a bounded tiny real time (``cap`` seconds), so tests run the real
backoff logic without waiting for it; ``on_sleep`` lets a test act after the N-th retry (e.g.
restore the proxy), which is deterministic where a wall-clock outage would not be.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of ``(target_host, target_port)`` that a test can cut.

    Use inside a running event loop::

        proxy = FaultProxy("127.0.0.1", 6379)
        await proxy.start()
        ...  # point the client at proxy.port
        await proxy.cut()
        await proxy.restore()
        await proxy.stop()

    Attributes:
        port: the proxy's port (stable across cut/restore).
        connections: how many client connections were accepted so far.
        refused: True while cut.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.connections = 0
        self.refused = False
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> FaultProxy:
        self.refused = False
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        return self

    async def cut(self) -> None:
        """Reset every open connection and refuse new ones until :meth:`restore`."""
        self.refused = True
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)

    async def restore(self) -> None:
        """Accept connections again (same port)."""
        if self._server is None:
            await self.start()

    async def stop(self) -> None:
        await self.cut()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refused:
            _abort(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(writer)
            return
        self.connections += 1
        self._writers.update((writer, upstream_writer))
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            _abort(writer)
            self._writers.discard(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()  # RST, like a server that died


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingSleep:
    """An ``async sleep(seconds)`` that records each delay and waits at most ``cap`` seconds.

    Args:
        cap: the longest real wait per call (0 = only yield to the loop).
        on_sleep: called with the number of calls so far (may return an awaitable).
    """

    def __init__(self, cap: float = 0.0, on_sleep: Callable[[int], object] | None = None) -> None:
        self.cap = cap
        self.on_sleep = on_sleep
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.on_sleep is not None:
            outcome = self.on_sleep(len(self.delays))
            if asyncio.iscoroutine(outcome):
                await outcome
        await asyncio.sleep(min(self.cap, max(0.0, seconds)))
