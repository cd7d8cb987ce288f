"""The notification service: ordered backends, each failure recorded and the next one tried,
status stored and queryable, the inbox delivered on the next connect (in-memory layer and Redis)."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_lint.runtime import errors
from channels_lint.runtime.mixins import ResilientAsyncJsonConsumerMixin, ResilientJsonConsumerMixin
from channels_lint.runtime.notifications import ChannelLayerBackend, HookBackend, InboxBackend, NotificationService

pytestmark = pytest.mark.behaviour

PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_users = itertools.count(1000)


@pytest.fixture(autouse=True)
def clean(thread_connections_closed):
    errors._buffer.clear()
    yield
    errors._buffer.clear()


class Inbox(ResilientAsyncJsonConsumerMixin, AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.join_notifications(self.scope["url_route"]["kwargs"]["user"])


class SyncInbox(ResilientJsonConsumerMixin, JsonWebsocketConsumer):
    def connect(self):
        self.accept()
        self.join_notifications(self.scope["url_route"]["kwargs"]["user"])


def client(consumer, user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(consumer.as_asgi(), f"/ws/notify/{user}/")
    comm.scope["url_route"] = {"args": (), "kwargs": {"user": user}}
    return comm


class Failure(Exception):
    pass


FAILURES = st.sampled_from(
    [Failure("smtp down"), ConnectionRefusedError(111, "refused"), TimeoutError(), ValueError("bad address")]
)


@pytest.mark.django_db(transaction=True)
@PROPERTY
@given(
    plan=st.lists(st.one_of(st.none(), FAILURES), min_size=1, max_size=5),
    payload=st.dictionaries(st.text(max_size=5), st.integers(-100, 100), max_size=3),
)
def test_property_a_failed_backend_is_logged_and_the_next_is_used(plan, payload) -> None:
    """Feature: messaging-system-fixes, Property 13: a failed notification backend is logged and the next is used.

    ``plan`` is the backends in order: ``None`` delivers, an exception fails with it."""
    from channels_lint.runtime.models import MessagingError

    calls: list[int] = []

    def backend(position: int, failure: BaseException | None):
        async def deliver(user_id, data):
            calls.append(position)
            assert data == {key.replace("\x00", "\ufffd"): value for key, value in payload.items()}
            if failure is not None:
                raise failure

        return HookBackend(deliver, name=f"hook{position}")

    async def scenario():
        user = next(_users)
        service = NotificationService([backend(n, failure) for n, failure in enumerate(plan)])
        before = await MessagingError.objects.filter(category="notification").acount()
        result = await service.notify(user, payload)
        first_ok = next((n for n, failure in enumerate(plan) if failure is None), None)
        tried = list(range(len(plan))) if first_ok is None else list(range(first_ok + 1))
        assert calls == tried  # in order, and nothing after the one that delivered
        assert [a["backend"] for a in result["attempts"]] == [f"hook{n}" for n in tried]
        assert [a["ok"] for a in result["attempts"]] == [plan[n] is None for n in tried]
        assert result["status"] == ("failed" if first_ok is None else "delivered")
        assert result["backend"] == ("" if first_ok is None else f"hook{first_ok}")
        failed = [n for n in tried if plan[n] is not None]
        records = MessagingError.objects.filter(category="notification", user_id=str(user), recovery_action="next_backend")
        logged = [r async for r in records.order_by("id").values_list("context_data", flat=True)]
        assert [c["operation"] for c in logged] == [f"notify:hook{n}" for n in failed]
        extra = 1 if first_ok is None else 0  # plus one "undelivered" record when all failed
        assert await MessagingError.objects.filter(category="notification").acount() == before + len(failed) + extra
        assert await service.status(result["id"]) == result  # queryable, as returned

    asyncio.run(scenario())


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("consumer", [Inbox, SyncInbox], ids=["async", "sync"])
async def test_live_user_gets_it_through_the_layer_offline_user_on_next_connect(consumer) -> None:
    service = NotificationService([ChannelLayerBackend(), InboxBackend()])
    user = next(_users)

    offline = await service.notify(user, {"text": "while you were away"})
    assert offline["status"] == "inbox" and offline["backend"] == "inbox"
    assert offline["attempts"][0]["backend"] == "channel_layer" and "NoRecipient" in offline["attempts"][0]["error"]

    comm = client(consumer, user)
    assert (await comm.connect())[0]
    assert await comm.receive_json_from(timeout=5) == {
        "type": "notification",
        "id": offline["id"],
        "payload": {"text": "while you were away"},
    }
    assert (await service.status(offline["id"]))["status"] == "delivered"

    live = await service.notify(user, {"text": "now"})
    assert live["status"] == "delivered" and live["backend"] == "channel_layer"
    assert await comm.receive_json_from(timeout=5) == {"type": "notification", "id": live["id"], "payload": {"text": "now"}}
    await comm.disconnect()

    again = client(consumer, user)  # nothing is delivered twice
    assert (await again.connect())[0]
    later = await service.notify(user, {"text": "third"})
    assert (await again.receive_json_from(timeout=5))["id"] == later["id"]
    await again.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_channel_layer_backend_on_redis(settings, redis_url) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": f"chlint-notify-{uuid.uuid4().hex[:8]}"},
        }
    }
    from channels.layers import get_channel_layer

    service = NotificationService()  # the settings' default order: channel layer, then inbox
    user = next(_users)
    assert (await service.notify(user, {"n": 1}))["status"] == "inbox"
    comm = client(Inbox, user)
    assert (await comm.connect())[0]
    assert (await comm.receive_json_from(timeout=5))["payload"] == {"n": 1}
    result = await service.notify(user, {"n": 2})
    assert result["backend"] == "channel_layer"
    assert (await comm.receive_json_from(timeout=5))["payload"] == {"n": 2}
    await comm.disconnect()
    layer = get_channel_layer()
    await layer.flush()
    await layer.close_pools()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_storage_down_falls_through_to_the_hook(monkeypatch) -> None:
    from django.db import OperationalError

    from channels_lint.runtime import notifications

    def down(*args):
        raise OperationalError("connection refused")

    monkeypatch.setattr(notifications, "_create_row", down)
    sent = []
    service = NotificationService([InboxBackend(), HookBackend(lambda user_id, data: sent.append((user_id, data)), name="email")])
    result = await service.notify("u1", {"text": "hi"})
    assert result["id"] is None and result["status"] == "delivered" and result["backend"] == "email"
    assert sent == [("u1", {"text": "hi"})]
    assert result["attempts"][0] == {"backend": "inbox", "ok": False, "error": result["attempts"][0]["error"]}
