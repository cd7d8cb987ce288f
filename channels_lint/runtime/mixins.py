"""Consumer mixins that keep a WebSocket connection alive through recoverable errors.

Use one before the Channels base class::

    class ChatConsumer(ResilientAsyncJsonConsumerMixin, AsyncJsonWebsocketConsumer):
        required_fields = (("body", str),)          # checked before receive_json runs
        ...

    class SyncChatConsumer(ResilientJsonConsumerMixin, JsonWebsocketConsumer):
        ...

Why: Channels does not catch an exception raised in a handler. ``await_many_dispatch`` lets it
out of ``AsyncConsumer.__call__``, the application instance dies, the client sees close code 1011
(Daphne) or 1006 (Uvicorn), ``disconnect()`` never runs and the group memberships stay until
``group_expiry`` (channels 4.3.2 ``channels/utils.py`` L32-59 and ``consumer.py``;
docs/semantics.md §2.5). A Redis outage kills every consumer the same way, because
``channel_layer.receive`` raises ``redis.exceptions.ConnectionError`` inside that loop
(channels_redis 4.3.0 ``core.py`` ``receive``/``receive_single``).

What the mixins do:

* **Frames are validated before dispatch.** ``receive`` runs every text or binary frame through
  :class:`channels_lint.runtime.validation.ConnectionValidator` (``required_fields``,
  ``frame_schema``, ``max_frame_bytes``) and calls ``receive_json`` only with a checked ``dict``;
  a rejected frame gets the validator's error frame and an error record (category
  ``validation``), and the connection stays open.
* **Handler errors are caught** in ``dispatch`` (client frames and channel-layer events alike),
  recorded with :func:`~channels_lint.runtime.errors.arecord_error`, and answered with an error
  frame (:func:`~channels_lint.runtime.frames.error_frame`). Recoverable errors keep the
  connection open; unrecoverable ones (:class:`~channels_lint.runtime.errors.UnrecoverableError`,
  ``ImproperlyConfigured``, ``InvalidChannelLayerError``, ``MemoryError``) close it with
  ``CHANNELS_LINT_RUNTIME["CLOSE_CODE"]`` (4000; or the error's own ``code``). A failure inside
  ``connect`` refuses the handshake (1013 "try again later" when the cause is transient).
* **Groups are always left**: every ``group_add`` for this connection's channel is tracked (the
  consumer's ``channel_layer`` is a thin tracking wrapper), and every tracked group is discarded
  when the consumer ends for any reason: normal disconnect, unrecoverable error, a ``connect``
  that failed half-way, or cancellation.
* **Ordered, retried outbound channel-layer sends.** ``channel_layer.group_send``/``send`` go
  through a per-connection :class:`OutboundQueue`: one item at a time, in order; a transient
  failure (Redis down) is retried with exponential backoff and jitter; after
  ``RETRY["ATTEMPTS"]`` tries the caller is released (the error is recorded with action
  ``queued``) but the item stays at the head of the queue and is retried (delay capped by
  ``OUTBOUND_RETRY_DELAY``) before any later item goes out. Permanent failures (an unpackable
  payload, an invalid group name) are raised to the caller.
* **The channel-layer receive loop survives outages**: a transient ``receive`` failure is
  recorded once per outage and retried with backoff; once it works again the connection's groups
  are re-added (Redis may have lost them) and the consumer carries on.

Retry timing is injectable (tests pass tiny delays or a recording ``sleep``)::

    ChatConsumer.as_asgi(retry_policy=RetryPolicy(attempts=3, base_delay=0.001), retry_sleep=my_sleep)

Outbound delivery may repeat an event after an ambiguous failure (the layer stored it but the
reply was lost; channels_redis also notes that "duplicate messages will be received eventually"
when a receive's cleanup is cancelled, ``core.py`` ``receive_single``). Give events an id and
drop repeats with :meth:`ResilientConsumerBase.first_delivery`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .conf import runtime_settings
from .handler import RetryPolicy

__all__ = [
    "OutboundQueue",
    "ResilientAsyncJsonConsumerMixin",
    "ResilientConsumerBase",
    "ResilientJsonConsumerMixin",
]

_log = logging.getLogger("channels_lint.runtime.mixins")

#: RFC 6455 §7.4.1: 1013 "Try Again Later" (registered by IANA) for a connect that failed transiently.
TRY_AGAIN_LATER = 1013


# ------------------------------------------------------------------------------ outbound queue


@dataclass(eq=False)
class _Item:
    kind: str  # "group_send" or "send"
    target: str
    message: dict
    settled: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    attempts: int = 0


class OutboundQueue:
    """Channel-layer sends of one connection, delivered one at a time and in order.

    Args:
        layer: the channel layer (anything with async ``group_send``/``send``).
        policy: :class:`~channels_lint.runtime.handler.RetryPolicy`; after ``policy.attempts`` tries
            the caller is released and the item keeps being retried (delays capped by
            ``max_delay`` seconds).
        sleep: ``async sleep(seconds)`` between tries (injectable).
        rng: ``() -> float in [0, 1)`` for jitter.
        max_size: items waiting at most; :meth:`put` beyond it raises ``ChannelFull``-like
            :class:`asyncio.QueueFull`.
        max_delay: cap (seconds) of the delay between tries once ``policy.attempts`` ran out.
        on_event: ``async on_event(kind, item, exc)`` with ``kind`` ``"retry"``, ``"queued"``,
            ``"recovered"`` or ``"failed"`` (the mixins record these).

    The worker task starts on the first :meth:`put` and runs on the caller's event loop.
    """

    def __init__(
        self,
        layer: Any,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        max_size: int = 1000,
        max_delay: float = 5.0,
        on_event: Callable[[str, _Item, BaseException | None], Awaitable[None]] | None = None,
    ) -> None:
        self.layer = layer
        self.policy = policy
        self.sleep = sleep
        self.rng = rng
        self.max_size = max_size
        self.max_delay = max_delay
        self.on_event = on_event
        self._items: collections.deque[_Item] = collections.deque()
        self._wakeup: asyncio.Event | None = None
        self._empty: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._closed = False
        #: counters: sent, retries, queued (gave up waiting), failed (permanent)
        self.stats = {"sent": 0, "retries": 0, "queued": 0, "failed": 0}

    def __len__(self) -> int:
        return len(self._items)

    def put(self, kind: str, target: str, message: dict) -> asyncio.Future:
        """Append a send; returns a future resolved with ``True`` once sent, ``False`` once the
        caller should stop waiting (still queued: after ``policy.attempts`` failed tries, or at
        once while an earlier item is waiting out an outage), or the permanent exception.

        Raises:
            asyncio.QueueFull: ``max_size`` items are already waiting.
            RuntimeError: the queue was closed.
        """
        if self._closed:
            raise RuntimeError("the outbound queue is closed")
        if len(self._items) >= self.max_size:
            raise asyncio.QueueFull(f"{len(self._items)} channel-layer sends are already waiting")
        item = _Item(kind, target, message)
        if self._items and _released(self._items[0].settled):
            # the head is already waiting out an outage: this item goes after it anyway, so its
            # caller need not wait for it (it is accepted and will be sent in order)
            self.stats["queued"] += 1
            item.settled.set_result(False)
        self._items.append(item)
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        self._wakeup.set()
        if self._empty is not None:
            self._empty.clear()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="channels-lint outbound queue")
        return item.settled

    async def send(self, kind: str, target: str, message: dict) -> bool:
        """:meth:`put` and wait: ``True`` when sent, ``False`` when still queued after the retries.

        Raises:
            The permanent exception of the send (e.g. msgpack's ``TypeError``); ``QueueFull``.
        """
        return await asyncio.shield(self.put(kind, target, message))

    async def drain(self) -> None:
        """Wait until every item was sent or failed permanently (bound it with ``asyncio.wait_for``)."""
        while self._items and self._worker is not None and not self._worker.done():
            if self._empty is None:
                self._empty = asyncio.Event()
            waiter = asyncio.ensure_future(self._empty.wait())
            try:
                await asyncio.wait({self._worker, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()

    async def close(self) -> list[_Item]:
        """Stop the worker; returns the items that were never sent (the caller records them)."""
        self._closed = True
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            try:
                await self._worker
            except BaseException:
                pass
        left = list(self._items)
        self._items.clear()
        for item in left:
            if not item.settled.done():
                item.settled.set_result(False)
        return left

    async def _run(self) -> None:
        while True:
            if not self._items:
                assert self._wakeup is not None
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            item = self._items[0]
            await self._deliver(item)
            self._items.popleft()
            if not self._items and self._empty is not None:
                self._empty.set()

    async def _deliver(self, item: _Item) -> None:
        from .errors import classify_error

        failures = 0
        while True:
            item.attempts += 1
            try:
                if item.kind == "group_send":
                    await self.layer.group_send(item.target, item.message)
                else:
                    await self.layer.send(item.target, item.message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not classify_error(exc).transient:
                    self.stats["failed"] += 1
                    if not item.settled.done():
                        item.settled.set_exception(exc)
                        item.settled.exception()  # mark retrieved: the caller may have stopped waiting
                    await self._event("failed", item, exc)
                    return
                failures += 1
                self.stats["retries"] += 1
                if failures == self.policy.attempts and not item.settled.done():
                    self.stats["queued"] += 1
                    item.settled.set_result(False)
                    await self._event("queued", item, exc)
                elif failures == 1:
                    await self._event("retry", item, exc)
                delay = min(self.max_delay, self.policy.delay(failures - 1, self.rng))
                await self.sleep(delay)
                continue
            self.stats["sent"] += 1
            if failures:
                await self._event("recovered", item, None)
            if not item.settled.done():
                item.settled.set_result(True)
            return

    async def _event(self, kind: str, item: _Item, exc: BaseException | None) -> None:
        if self.on_event is None:
            return
        try:
            await self.on_event(kind, item, exc)
        except Exception:  # recording must never stop delivery
            _log.exception("outbound queue event hook failed")


def _released(future: asyncio.Future) -> bool:
    """True when the caller of this item was released while the item is still unsent."""
    return future.done() and not future.cancelled() and future.exception() is None and future.result() is False


# ------------------------------------------------------------------------------ tracked layer


class _TrackedLayer:
    """Wraps the consumer's channel layer: tracks this connection's groups, queues sends and keeps
    ``receive`` going through outages. Every other attribute is the real layer's."""

    def __init__(self, layer: Any, owner: ResilientConsumerBase) -> None:
        self._layer = layer
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._layer, name)

    @property
    def wrapped(self) -> Any:
        """The real channel layer."""
        return self._layer

    async def group_add(self, group: str, channel: str) -> None:
        owner = self._owner
        if channel == getattr(owner, "channel_name", None):
            owner._joined_groups[group] = None  # before the call: a lost reply may hide a success
        await owner._with_retry("group_add", lambda: self._layer.group_add(group, channel), {"group": group})

    async def group_discard(self, group: str, channel: str) -> None:
        owner = self._owner
        await owner._with_retry("group_discard", lambda: self._layer.group_discard(group, channel), {"group": group})
        if channel == getattr(owner, "channel_name", None):
            owner._joined_groups.pop(group, None)

    async def group_send(self, group: str, message: dict) -> None:
        await self._owner._outbound_send("group_send", group, message)

    async def send(self, channel: str, message: dict) -> None:
        await self._owner._outbound_send("send", channel, message)

    async def receive(self, channel: str) -> dict:
        return await self._owner._resilient_receive(self._layer, channel)


# ------------------------------------------------------------------------------ the mixins


class ResilientConsumerBase:
    """Shared machinery of the two mixins (all of it runs on the event loop).

    Class attributes (or ``as_asgi(...)`` keyword arguments):

    * ``required_fields``: what every client frame must hold, as for
      :func:`~channels_lint.runtime.validation.check_message_data` (``("body",)`` or
      ``(("body", str),)``).
    * ``frame_schema``: optional schema for the validator (dict, serializer/form class, callable).
    * ``max_frame_bytes``: frame size limit in bytes (default ``MAX_FRAME_BYTES``).
    * ``retry_policy``, ``retry_sleep``, ``retry_rng``: backoff policy and injectable timing.
    * ``close_code``: close code for unrecoverable errors (default ``CLOSE_CODE``).
    * ``message_model``, ``message_fields``: when set, :attr:`message_handler` stores into it.
    """

    required_fields: Any = ()
    frame_schema: Any = None
    max_frame_bytes: int | None = None
    retry_policy: RetryPolicy | None = None
    retry_sleep: Callable[[float], Awaitable[Any]] | None = None
    retry_rng: Callable[[], float] | None = None
    close_code: int | None = None
    message_model: Any = None
    message_fields: dict[str, str | None] | None = None
    #: how many event ids :meth:`first_delivery` remembers per connection
    seen_ids_limit: int = 10000

    _OPTIONS = ("retry_policy", "retry_sleep", "retry_rng", "close_code", "required_fields", "frame_schema", "max_frame_bytes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name in self._OPTIONS:
            if name in kwargs:
                setattr(self, name, kwargs.pop(name))
        super().__init__(*args, **kwargs)
        self._joined_groups: dict[str, None] = {}
        self._accepted = False
        self._closed = False
        self._raw_send: Callable[[dict], Awaitable[None]] | None = None
        self._outbound: OutboundQueue | None = None
        self._seen: collections.OrderedDict[Any, None] = collections.OrderedDict()
        self._receive_failures = 0
        self._message_handler = None
        self._finished = False

    # -- the channel layer attribute: always the tracking wrapper

    @property
    def channel_layer(self) -> Any:
        return self.__dict__.get("_tracked_channel_layer")

    @channel_layer.setter
    def channel_layer(self, layer: Any) -> None:
        if layer is not None and not isinstance(layer, _TrackedLayer):
            layer = _TrackedLayer(layer, self)
        self.__dict__["_tracked_channel_layer"] = layer

    # -- ASGI entry point

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        async def tracking_send(message: dict) -> None:
            kind = message.get("type")
            if kind == "websocket.accept":
                self._accepted = True
            elif kind == "websocket.close":
                if self._closed:
                    return  # never close twice
                self._closed = True
            elif kind == "websocket.send" and self._closed:
                return  # nothing may follow a close
            await send(message)

        self._raw_send = tracking_send
        try:
            await super().__call__(scope, receive, tracking_send)  # type: ignore[misc]
        finally:
            await self._finish()

    # -- retry settings

    def _option(self, name: str) -> Any:
        # read from the class without binding: a function set as a class attribute (retry_sleep =
        # asyncio.sleep) must not become a bound method
        return self.__dict__[name] if name in self.__dict__ else getattr(type(self), name, None)

    def _policy(self) -> RetryPolicy:
        return self.retry_policy or RetryPolicy.from_settings()

    def _sleep(self) -> Callable[[float], Awaitable[Any]]:
        return self._option("retry_sleep") or asyncio.sleep

    def _rng(self) -> Callable[[], float]:
        return self._option("retry_rng") or random.random

    @property
    def message_handler(self) -> Any:
        """An :class:`~channels_lint.runtime.handler.AsyncSafeMessageHandler` for this connection
        (``message_model``/``message_fields``, this consumer's retry timing and identity)."""
        if self._message_handler is None:
            from .handler import AsyncSafeMessageHandler

            self._message_handler = AsyncSafeMessageHandler(
                self.message_model,
                fields=self.message_fields,
                retry=self._policy(),
                sleep=self._sleep(),
                rng=self._rng(),
                consumer=self,
                channel_name=getattr(self, "channel_name", ""),
            )
        return self._message_handler

    def first_delivery(self, event_id: Any) -> bool:
        """True the first time ``event_id`` is seen on this connection (remembers the last
        ``seen_ids_limit`` ids): drop repeated deliveries of an event with it."""
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > self.seen_ids_limit:
            self._seen.popitem(last=False)
        return True

    def _user_id(self) -> Any:
        user = getattr(self, "scope", {}).get("user") if isinstance(getattr(self, "scope", None), dict) else None
        try:
            return getattr(user, "pk", None) if user is not None and user.is_authenticated else None
        except Exception:
            return None

    async def _record(self, error: BaseException | str, **fields: Any) -> None:
        from .errors import arecord_error

        fields.setdefault("consumer", self)
        fields.setdefault("channel_name", getattr(self, "channel_name", ""))
        fields.setdefault("user_id", self._user_id())
        await arecord_error(error, **fields)

    # -- channel-layer operations

    async def _with_retry(self, operation: str, call: Callable[[], Awaitable[Any]], context: dict) -> Any:
        from .handler import RetriesExhausted, retry_async

        try:
            result, attempts = await retry_async(call, policy=self._policy(), sleep=self._sleep(), rng=self._rng())
        except RetriesExhausted as exhausted:
            await self._record(
                exhausted.last, operation=operation, recovery_action="gave_up", context={**context, "errors": exhausted.errors}
            )
            raise exhausted.last from None
        if attempts > 1:
            await self._record(
                "RecoveredAfterRetry",
                category="channel_layer",
                operation=operation,
                recovery_action="retried",
                context={**context, "attempts": attempts},
            )
        return result

    def _queue(self) -> OutboundQueue:
        if self._outbound is None:
            conf = runtime_settings()
            self._outbound = OutboundQueue(
                self.channel_layer.wrapped,
                policy=self._policy(),
                sleep=self._sleep(),
                rng=self._rng(),
                max_size=int(conf["OUTBOUND_QUEUE_SIZE"]),
                max_delay=float(conf["OUTBOUND_RETRY_DELAY"]),
                on_event=self._outbound_event,
            )
        return self._outbound

    async def _outbound_send(self, kind: str, target: str, message: dict) -> None:
        try:
            await self._queue().send(kind, target, message)
        except asyncio.QueueFull as exc:
            await self._record(
                exc,
                category="channel_layer",
                operation=kind,
                recovery_action="dropped",
                context={"target": target, "event_type": message.get("type")},
            )
            raise

    async def _outbound_event(self, kind: str, item: _Item, exc: BaseException | None) -> None:
        context = {
            "target": item.target,
            "event_type": item.message.get("type"),
            "attempts": item.attempts,
            "waiting": len(self._outbound or ()),
        }
        if kind == "retry":
            _log.warning(
                "%s to %s failed (%s); retrying",
                item.kind,
                item.target,
                exc,
                extra={"operation": item.kind, "context_data": context},
            )
        elif kind == "queued":
            await self._record(exc, operation=item.kind, recovery_action="queued", context=context)
        elif kind == "recovered":
            await self._record(
                "RecoveredAfterRetry", category="channel_layer", operation=item.kind, recovery_action="retried", context=context
            )
        # "failed": raised to the waiting caller, which dispatch records

    async def _resilient_receive(self, layer: Any, channel: str) -> dict:
        from .errors import classify_error

        outage_recorded = False
        policy = self._policy()
        max_delay = float(runtime_settings()["OUTBOUND_RETRY_DELAY"])
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._receive_failures += 1
                info = classify_error(exc)
                if not outage_recorded:
                    outage_recorded = True
                    await self._record(
                        exc,
                        operation="channel_layer.receive",
                        recovery_action="retried" if info.transient else "dropped",
                        context={"channel": channel},
                    )
                await self._sleep()(min(max_delay, policy.delay(min(self._receive_failures, 30) - 1, self._rng())))
                continue
            if self._receive_failures:
                self._receive_failures = 0
                await self._rejoin_groups()
                try:
                    await self.on_channel_layer_recovered()
                except Exception as exc:
                    await self._record(exc, operation="on_channel_layer_recovered", recovery_action="none")
            return message

    async def on_channel_layer_recovered(self) -> None:
        """Called once the channel layer answers again after an outage (groups already re-added),
        before the next event is dispatched. Override it to catch up on what the outage may have
        swallowed: channels_redis pops a message with ``BZPOPMIN`` before it reaches the consumer,
        so a message in flight when the connection broke is gone (channels_redis 4.3.0
        ``core.py`` ``_brpop_with_clean``). The example consumer re-reads the room's messages
        stored after the last one it delivered. Errors raised here are recorded, never raised."""

    async def _rejoin_groups(self) -> None:
        for group in list(self._joined_groups):
            try:
                await self.channel_layer.wrapped.group_add(group, self.channel_name)
            except Exception as exc:
                await self._record(exc, operation="group_add", recovery_action="gave_up", context={"group": group})

    async def _leave_groups(self) -> None:
        layer = self.channel_layer
        channel = getattr(self, "channel_name", None)
        if layer is None or channel is None:
            return
        for group in list(self._joined_groups) + [
            g for g in (getattr(self, "groups", None) or []) if g not in self._joined_groups
        ]:
            try:
                await self._with_retry("group_discard", lambda g=group: layer.wrapped.group_discard(g, channel), {"group": group})
                self._joined_groups.pop(group, None)
            except Exception:
                pass  # recorded by _with_retry; group_expiry removes it eventually

    async def _finish(self) -> None:
        """Leave every group and settle the outbound queue; runs once when the consumer ends."""
        if self._finished:
            return
        self._finished = True
        timeout = float(runtime_settings()["SHUTDOWN_TIMEOUT"])
        if self._outbound is not None:
            await _bounded(self._outbound.drain(), timeout)
        await _bounded(self._leave_groups(), timeout)
        if self._outbound is not None:
            for item in await self._outbound.close():
                await self._record(
                    "UndeliveredEvent",
                    category="channel_layer",
                    operation=item.kind,
                    recovery_action="dropped",
                    context={"target": item.target, "event_type": item.message.get("type")},
                )

    # -- dispatch protection

    async def dispatch(self, message: dict) -> None:
        from channels.exceptions import StopConsumer

        try:
            await super().dispatch(message)  # type: ignore[misc]
        except StopConsumer:
            raise
        except Exception as exc:
            await self._on_dispatch_error(exc, message)

    async def _on_dispatch_error(self, exc: BaseException, message: dict) -> None:
        from channels.exceptions import StopConsumer

        from .errors import UnrecoverableError, classify_error
        from .frames import error_frame

        info = classify_error(exc)
        kind = str(message.get("type", ""))
        context = {"message_type": kind, "handler": self._failing_method(exc) or kind.replace(".", "_")}
        if kind == "websocket.receive":
            text = message.get("text")
            context["frame_bytes"] = (
                len(text.encode("utf-8", "replace")) if isinstance(text, str) else len(message.get("bytes") or b"")
            )
        if kind == "websocket.disconnect":
            await self._record(exc, operation="disconnect", recovery_action="connection_closed", context=context)
            raise StopConsumer()
        if kind == "websocket.connect" or not info.recoverable:
            code = getattr(exc, "code", None) if isinstance(exc, UnrecoverableError) else None
            if code is None:
                code = TRY_AGAIN_LATER if (kind == "websocket.connect" and info.transient) else self._close_code()
            await self._record(
                exc, operation=context["handler"], recovery_action="connection_closed", context={**context, "close_code": code}
            )
            if self._accepted:
                await self._send_frame(error_frame(info.code, _public_reason(exc, info), fatal=True))
            await self._close(code, reason=info.code)
            await self._call_disconnect(code)
            raise StopConsumer()
        await self._record(exc, operation=context["handler"], recovery_action="error_frame", context=context)
        if self._accepted:
            await self._send_frame(error_frame(info.code, _public_reason(exc, info), category=info.category))

    def _failing_method(self, exc: BaseException) -> str | None:
        """Name of the innermost method of this consumer in the traceback (``receive_json``...)."""
        name = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_locals.get("self") is self:
                name = tb.tb_frame.f_code.co_name
            tb = tb.tb_next
        return name

    def _close_code(self) -> int:
        code = self.close_code if self.close_code is not None else runtime_settings()["CLOSE_CODE"]
        return code if type(code) is int else 4000

    async def _send_frame(self, frame: dict, *, strict: bool = False) -> None:
        """Send ``frame`` as JSON text straight to the client (bypassing ``encode_json``).

        Raises:
            ConnectionError: only with ``strict=True``, when the frame could not be sent.
        """
        from .serializer import dumps

        if self._raw_send is None or self._closed or not self._accepted:
            if strict:
                raise ConnectionError("the WebSocket is not open")
            return
        try:
            await self._raw_send({"type": "websocket.send", "text": dumps(frame)})
        except Exception as exc:  # the client is gone
            if strict:
                raise ConnectionError(f"could not send: {exc}") from exc
            _log.debug("could not send a frame: %s", exc)

    async def _send_strict(self, frame: dict) -> None:
        await self._send_frame(frame, strict=True)

    async def _join_notifications(self, user_id: Any = None) -> int:
        from .notifications import NotificationService, notification_group

        user_id = user_id if user_id is not None else self._user_id()
        if user_id is None:
            return 0
        await self.channel_layer.group_add(notification_group(user_id), self.channel_name)
        return await NotificationService().deliver_inbox(user_id, self._send_strict)

    async def _close(self, code: int, reason: str = "") -> None:
        if self._raw_send is None or self._closed:
            return
        try:
            await self._raw_send({"type": "websocket.close", "code": code, "reason": reason[:120]})
        except Exception as exc:
            _log.debug("could not close: %s", exc)

    async def _call_disconnect(self, code: int) -> None:
        """Run the consumer's ``disconnect(code)`` once after an error closed the connection."""
        disconnect = getattr(self, "disconnect", None)
        if disconnect is None:
            return
        try:
            if asyncio.iscoroutinefunction(disconnect):
                await disconnect(code)
            else:
                from channels.db import database_sync_to_async

                await database_sync_to_async(disconnect)(code)
        except Exception as exc:
            await self._record(exc, operation="disconnect", recovery_action="connection_closed")

    # -- frame validation

    def _validator(self) -> Any:
        limit = self.max_frame_bytes or int(runtime_settings()["MAX_FRAME_BYTES"])
        try:
            from .validation import ConnectionValidator
        except ImportError:  # pragma: no cover - the validation module ships with the runtime
            return _FallbackValidator(limit)
        return ConnectionValidator(max_bytes=limit)

    def _check_frame(self, text_data: Any, bytes_data: Any) -> Any:
        raw = text_data if text_data is not None else bytes_data
        return self._validator().check_message_data(raw, required=self.required_fields, schema=self.frame_schema)

    def _invalid_frame_record(self, check: Any, text_data: Any, bytes_data: Any) -> dict:
        raw = text_data if text_data is not None else bytes_data
        size = len(raw.encode("utf-8", "replace")) if isinstance(raw, str) else len(raw or b"")
        return {
            "category": "validation",
            "operation": "receive",
            "recovery_action": "error_frame",
            "context": {"error_code": check.error, "reason": check.reason, "frame_bytes": size, "binary": text_data is None},
        }


class ResilientAsyncJsonConsumerMixin(ResilientConsumerBase):
    """For ``AsyncJsonWebsocketConsumer``: validated frames, caught errors, tracked groups, ordered
    retried channel-layer sends. See the module docstring."""

    async def receive(self, text_data: Any = None, bytes_data: Any = None, **kwargs: Any) -> None:
        check = self._check_frame(text_data, bytes_data)
        if check.data is None:
            await self._record("InvalidFrame", **self._invalid_frame_record(check, text_data, bytes_data))
            await self._send_frame(check.error_frame())
            return
        await self.receive_json(check.data, **kwargs)  # type: ignore[attr-defined]

    async def join_notifications(self, user_id: Any = None) -> int:
        """Join the user's notification group and send the notifications waiting in the inbox.

        Call it after ``accept()``. ``user_id`` defaults to the authenticated ``scope["user"]``'s
        pk. Returns how many inbox notifications were sent (each then marked delivered); live
        ones arrive as ``{"type": "notification", "id", "payload"}`` frames through
        :meth:`notification_message`. Never raises for a delivery problem (recorded instead).
        """
        return await self._join_notifications(user_id)

    async def notification_message(self, event: dict) -> None:
        """Channel-layer event ``notification.message`` (from the notification service)."""
        await self._send_frame({"type": "notification", "id": event.get("id"), "payload": event.get("payload")})


class ResilientJsonConsumerMixin(ResilientConsumerBase):
    """For the sync ``JsonWebsocketConsumer``: the same behaviour. Its handlers run in a worker
    thread (channels 4.3.2 ``SyncConsumer.dispatch`` is ``database_sync_to_async``); errors are
    caught around that call on the event loop, and ``async_to_sync(self.channel_layer.group_send)``
    goes through the same ordered outbound queue."""

    def receive(self, text_data: Any = None, bytes_data: Any = None, **kwargs: Any) -> None:
        from .errors import record_error
        from .serializer import dumps

        check = self._check_frame(text_data, bytes_data)
        if check.data is None:
            fields = self._invalid_frame_record(check, text_data, bytes_data)
            record_error(
                "InvalidFrame", consumer=self, channel_name=getattr(self, "channel_name", ""), user_id=self._user_id(), **fields
            )
            self.send(text_data=dumps(check.error_frame()))  # type: ignore[attr-defined]
            return
        self.receive_json(check.data, **kwargs)  # type: ignore[attr-defined]

    def join_notifications(self, user_id: Any = None) -> int:
        """Sync :meth:`ResilientAsyncJsonConsumerMixin.join_notifications` (call it after ``accept()``)."""
        from asgiref.sync import async_to_sync

        return async_to_sync(self._join_notifications)(user_id)

    def notification_message(self, event: dict) -> None:
        """Channel-layer event ``notification.message`` (from the notification service)."""
        from .serializer import dumps

        self.send(text_data=dumps({"type": "notification", "id": event.get("id"), "payload": event.get("payload")}))  # type: ignore[attr-defined]


async def _bounded(awaitable: Awaitable[Any], seconds: float) -> None:
    """Await ``awaitable`` for at most ``seconds``; swallow its errors (cleanup must not raise)."""
    try:
        await asyncio.wait_for(awaitable, seconds)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        _log.warning("cleanup step did not finish: %s: %s", type(exc).__name__, exc)


def _public_reason(exc: BaseException, info: Any) -> str:
    """A sentence for the client that never leaks internals (the record has the details)."""
    from .errors import UnrecoverableError

    if isinstance(exc, UnrecoverableError):
        return str(exc)
    return {
        "database": "the server could not reach its database; try again",
        "channel_layer": "the server could not reach its message broker; try again",
        "network": "a service the server needs is unreachable; try again",
        "validation": "the message was not valid",
        "integrity": "the message conflicts with stored data",
        "serialization": "the server could not encode a reply",
        "async_context": "the server hit an internal error handling the message",
        "configuration": "the server is misconfigured",
    }.get(info.category, "the server could not handle the message")


class _FallbackValidator:  # pragma: no cover - used only if channels_lint.runtime.validation is absent
    """Minimal stand-in with the ``check_message_data`` contract of the validation module."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def check_message_data(self, raw: Any, *, required: Any = (), schema: Any = None) -> Any:
        import json

        from .frames import error_frame
        from .serializer import validate_serializable

        @dataclass(frozen=True)
        class Check:
            data: dict | None
            reason: str | None = None
            error: str | None = None

            def error_frame(self) -> dict | None:
                return None if self.data is not None else error_frame(self.error or "invalid_data", self.reason or "")

        try:
            if isinstance(raw, (bytes, bytearray, memoryview)):
                raw = bytes(raw).decode("utf-8")
            if not isinstance(raw, str) or not raw:
                return Check(None, "expected a JSON text frame", "invalid_json")
            if len(raw.encode("utf-8")) > self.max_bytes:
                return Check(None, f"frame larger than {self.max_bytes} bytes", "too_large")
            data = json.loads(raw)
        except (UnicodeError, ValueError, RecursionError):
            return Check(None, "the frame is not valid UTF-8 JSON", "invalid_json")
        if not isinstance(data, dict):
            return Check(None, "expected a JSON object", "not_an_object")
        if not validate_serializable(data):
            return Check(None, "the frame holds an unsupported value", "number_out_of_range")
        names = [required] if isinstance(required, str) else list(required)
        for entry in names:
            name, types = (entry, None) if isinstance(entry, str) else entry
            if name not in data:
                return Check(None, f"missing key {name!r}", "missing_key")
            if types is not None and not isinstance(data[name], types):
                return Check(None, f"wrong type for {name!r}", "wrong_type")
        return Check(data)
