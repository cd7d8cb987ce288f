"""SafeJsonConsumerMixin / AsyncSafeJsonConsumerMixin, run for real under WebsocketCommunicator."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group

from channels_lint.runtime import AsyncSafeJsonConsumerMixin, JSONSerializer, SafeJsonConsumerMixin

WHEN = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
PAYLOAD = {
    "at": WHEN,
    "id": UUID(int=7),
    "amount": Decimal("12.50"),
    "ratio": float("nan"),
    "tags": {"b", "a"},
    "group": Group(pk=3, name="secret"),
    4: "int key",
}
EXPECTED = {
    "at": "2024-01-02T03:04:05.678Z",
    "id": "00000000-0000-0000-0000-000000000007",
    "amount": "12.50",
    "ratio": None,
    "tags": ["a", "b"],
    "group": {"pk": 3},
    "4": "int key",
}
BIG = {"rows": ["x" * 100] * 10}


def reject_constant(name: str) -> object:
    raise ValueError(f"non-strict JSON constant {name}")


class AsyncEcho(AsyncSafeJsonConsumerMixin, AsyncJsonWebsocketConsumer):
    async def receive_json(self, content: object, **kwargs: object) -> None:
        await self.send_json(BIG if content == "big" else PAYLOAD)


class SyncEcho(SafeJsonConsumerMixin, JsonWebsocketConsumer):
    def receive_json(self, content: object, **kwargs: object) -> None:
        self.send_json(BIG if content == "big" else PAYLOAD)


class LimitedAsyncEcho(AsyncEcho):
    json_serializer = JSONSerializer(max_bytes=200, sort_keys=True)


class LimitedSyncEcho(SyncEcho):
    json_serializer = JSONSerializer(max_bytes=200, sort_keys=True)


class PlainAsyncEcho(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content: object, **kwargs: object) -> None:
        await self.send_json(PAYLOAD)


async def exchange(consumer: type, *requests: object) -> list[str]:
    """Connect, send each request as JSON and collect one text frame per request."""
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/ws/")
    connected, _ = await communicator.connect()
    assert connected
    replies = []
    try:
        for request in requests:
            await communicator.send_json_to(request)
            replies.append(await communicator.receive_from(timeout=5))  # timeout: failure guard only
    finally:
        await communicator.disconnect()
    return replies


@pytest.mark.asyncio
@pytest.mark.parametrize("consumer", [AsyncEcho, SyncEcho])
async def test_send_json_with_datetime_uuid_decimal(consumer: type) -> None:
    (text,) = await exchange(consumer, "go")
    assert json.loads(text, parse_constant=reject_constant) == EXPECTED


@pytest.mark.asyncio
@pytest.mark.parametrize("consumer", [LimitedAsyncEcho, LimitedSyncEcho])
async def test_oversized_payload_sends_the_fallback_frame_and_the_connection_lives(consumer: type) -> None:
    big_text, small_text = await exchange(consumer, "big", "go")
    size = len(json.dumps(BIG, sort_keys=True))
    assert json.loads(big_text) == {
        "type": "error",
        "error": "serialization_failed",
        "reason": f"the encoded message is {size} bytes, over the limit of 200 (max_bytes)",
    }
    assert json.loads(small_text) == EXPECTED
    assert small_text == json.dumps(EXPECTED, sort_keys=True)


@pytest.mark.asyncio
async def test_without_the_mixin_channels_fails_on_the_same_payload() -> None:
    """The premise: Channels' own encode_json is plain json.dumps (channels 4.3.2 generic/websocket.py)."""
    communicator = WebsocketCommunicator(PlainAsyncEcho.as_asgi(), "/ws/")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to("go")
    with pytest.raises(TypeError, match="not JSON serializable"):
        await communicator.wait(timeout=5)  # returns as soon as the application dies; 5 s: failure guard


def test_encode_json_kinds_match_the_channels_classes() -> None:
    assert inspect.iscoroutinefunction(AsyncEcho.encode_json)
    assert not inspect.iscoroutinefunction(SyncEcho.encode_json)
    assert SyncEcho.encode_json({"at": WHEN}) == '{"at": "2024-01-02T03:04:05.678Z"}'


def test_wrong_mixin_fails_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="use SafeJsonConsumerMixin with JsonWebsocketConsumer"):

        class AsyncMixinOnSync(AsyncSafeJsonConsumerMixin, JsonWebsocketConsumer):
            pass

    with pytest.raises(TypeError, match="use AsyncSafeJsonConsumerMixin with AsyncJsonWebsocketConsumer"):

        class SyncMixinOnAsync(SafeJsonConsumerMixin, AsyncJsonWebsocketConsumer):
            pass


def test_mixin_after_the_base_class_fails_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="list AsyncSafeJsonConsumerMixin before AsyncJsonWebsocketConsumer"):

        class Shadowed(AsyncJsonWebsocketConsumer, AsyncSafeJsonConsumerMixin):
            pass

    class OwnEncoder(AsyncSafeJsonConsumerMixin, AsyncJsonWebsocketConsumer):
        @classmethod
        async def encode_json(cls, content: object) -> str:  # a deliberate override is allowed
            return "{}"

    class Intermediate(AsyncSafeJsonConsumerMixin):
        pass

    class ViaIntermediate(Intermediate, AsyncJsonWebsocketConsumer):
        pass

    assert ViaIntermediate.encode_json.__func__ is AsyncSafeJsonConsumerMixin.encode_json.__func__  # type: ignore[attr-defined]
