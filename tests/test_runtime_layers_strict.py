"""StrictInMemoryChannelLayer without Redis: errors, what receivers get, settings, a consumer.

The differential tests against real Redis layers are in tests/test_runtime_layers.py.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from uuid import UUID

import msgpack
import pytest
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.test import override_settings
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.runtime import StrictInMemoryChannelLayer, safe_serialize
from channels_lint.runtime.layers import check_message

STRICT = {"default": {"BACKEND": "channels_lint.runtime.layers.StrictInMemoryChannelLayer"}}


class Color(Enum):
    RED = "red"


class Level(IntEnum):
    LOW = 1


def deep(levels: int) -> list[object]:
    root: list[object] = []
    current = root
    for _ in range(levels - 1):
        inner: list[object] = []
        current.append(inner)
        current = inner
    return root


REJECTED = [
    (
        {"type": "t", "payload": {"at": datetime(2024, 1, 2)}},
        TypeError,
        'event["payload"]["at"]: datetime is not msgpack-serializable',
    ),
    ({"type": "t", "amount": Decimal("1.5")}, TypeError, 'event["amount"]: Decimal is not msgpack-serializable'),
    ({"type": "t", "ids": [UUID(int=1)]}, TypeError, 'event["ids"][0]: UUID is not msgpack-serializable'),
    ({"type": "t", "tags": {"a"}}, TypeError, 'event["tags"]: set is not msgpack-serializable'),
    ({"type": "t", "color": Color.RED}, TypeError, 'event["color"]: Color is not msgpack-serializable'),
    ({"type": "t", "group": Group(pk=1)}, TypeError, 'event["group"]: Group is not msgpack-serializable'),
    ({"type": "t", "n": [0, 2**64]}, ValueError, 'event["n"][1]: int outside msgpack\'s range -2**63 .. 2**64-1'),
    ({"type": "t", "n": -(2**63) - 1}, ValueError, 'event["n"]: int outside msgpack\'s range'),
    ({"type": "t", "s": "a\ud800"}, ValueError, 'event["s"]: str with a lone surrogate, not UTF-8 encodable'),
    (
        {"type": "t", "scores": {1: "one"}},
        ValueError,
        'event["scores"]: key 1: int is not allowed for map key when strict_map_key=True. channels_redis 4.3.0 '
        "sends this message, but every receiver fails to unpack it; use str keys",
    ),
    ({"type": "t", "m": [{(1, 2): 0}]}, ValueError, 'event["m"][0]: key (1, 2): list is not allowed for map key'),
    ({"type": "t", "m": {Level.LOW: 0}}, ValueError, 'event["m"]: key <Level.LOW: 1>: int is not allowed for map key'),
    ({"type": "t", None: 0}, ValueError, "event: key None: NoneType is not allowed for map key"),
    ({"type": "t", "m": {"\ud800": 0}}, ValueError, 'event["m"]: key "\\ud800": str with a lone surrogate'),
    ({"type": "t", "d": deep(1025)}, ValueError, "nested deeper than msgpack's limit of 1024 levels, or a cycle"),
    ({"payload": 1}, ValueError, "event has no 'type' key: every receiving consumer would fail"),
    ({"type": b"t"}, TypeError, 'event["type"]: bytes is not a str'),
    ({"type": "_private"}, ValueError, 'event["type"] = "_private": no consumer can handle a type starting with "_"'),
    ({"type": ".x"}, ValueError, "no consumer can handle a type starting with"),
    (["type", "t"], TypeError, "event: a channel-layer message must be a dict, not list"),
]


def cyclic_event() -> dict[str, object]:
    items: list[object] = []
    items.append(items)
    return {"type": "t", "items": items}


@pytest.mark.asyncio
@pytest.mark.parametrize(("message", "error", "text"), REJECTED)
async def test_send_and_group_send_reject_with_the_key_path(message: object, error: type[Exception], text: str) -> None:
    layer = StrictInMemoryChannelLayer()
    with pytest.raises(error, match=re.escape(text)):
        await layer.send("chat", message)  # type: ignore[arg-type]
    with pytest.raises(error, match=re.escape(text)):
        await layer.group_send("nobody-here", message)  # type: ignore[arg-type]  # even to an empty group
    assert layer.channels == {}  # nothing was queued


@pytest.mark.asyncio
async def test_cycles_are_rejected() -> None:
    layer = StrictInMemoryChannelLayer()
    with pytest.raises(ValueError, match=r'event\["items"\]\[0\]\[0\].*nested deeper than msgpack\'s limit'):
        await layer.send("chat", cyclic_event())


@pytest.mark.asyncio
async def test_deepest_message_msgpack_accepts_is_accepted() -> None:
    layer = StrictInMemoryChannelLayer()
    await layer.send("chat", {"type": "t", "d": deep(1023)})  # the event dict is level 1: 1024 in all
    received = await layer.receive("chat")
    assert msgpack.packb(received) == msgpack.packb({"type": "t", "d": deep(1023)})  # == would recurse too deep
    await layer.group_add("g", "member")
    await layer.group_send("g", {"type": "t", "d": deep(1023)})
    assert msgpack.packb(await layer.receive("member")) == msgpack.packb({"type": "t", "d": deep(1023)})


@pytest.mark.asyncio
async def test_names_are_validated_like_channels_and_redis() -> None:
    layer = StrictInMemoryChannelLayer()
    for bad in ("has space", "ü", "x" * 100, "", 5):
        with pytest.raises(TypeError, match="name must be a valid unicode string"):
            await layer.send(bad, {"type": "t"})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="name must be a valid unicode string"):
            await layer.group_send(bad, {"type": "t"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Group name must be a valid"):
        await layer.group_send("a!b", {"type": "t"})


@pytest.mark.asyncio
async def test_receivers_get_the_unpacked_copy() -> None:
    layer = StrictInMemoryChannelLayer()
    await layer.group_add("room", "alice")
    await layer.group_add("room", "bob")
    sent = {
        "type": "chat.message",
        "pair": (1, (2, 3)),
        "raw": bytearray(b"x"),
        "view": memoryview(b"yz"),
        "safe": SafeString("<b>"),
        "level": Level.LOW,
        "big": 2**64 - 1,
        "nan": float("nan"),
        b"bytes-key": 1,
    }
    await layer.group_send("room", sent)
    for member in ("alice", "bob"):
        received = await layer.receive(member)
        assert received["pair"] == [1, [2, 3]] and type(received["pair"][1]) is list
        assert received["raw"] == b"x" and type(received["raw"]) is bytes
        assert received["view"] == b"yz" and type(received["view"]) is bytes
        assert type(received["safe"]) is str and type(received["level"]) is int
        assert received["big"] == 2**64 - 1
        assert received["nan"] != received["nan"]
        assert received[b"bytes-key"] == 1
        assert msgpack.packb(received) == msgpack.packb(msgpack.unpackb(msgpack.packb(sent)))
    assert sent["pair"] == (1, (2, 3))  # the sender's message is not changed
    await layer.send("carol", {"type": "x", "n": 1})
    assert await layer.receive("carol") == {"type": "x", "n": 1}


@pytest.mark.asyncio
async def test_base_class_behaviour_is_kept() -> None:
    layer = StrictInMemoryChannelLayer(capacity=2)
    assert isinstance(layer, InMemoryChannelLayer)
    await layer.send("q", {"type": "t", "n": 1})
    await layer.send("q", {"type": "t", "n": 2})
    with pytest.raises(ChannelFull):
        await layer.send("q", {"type": "t", "n": 3})
    with pytest.raises(AssertionError):
        await layer.send("q2", {"type": "t", "__asgi_channel__": "x"})
    assert (await layer.receive("q"))["n"] == 1
    name = await layer.new_channel()
    await layer.send(name, {"type": "t"})
    assert await layer.receive(name) == {"type": "t"}


@pytest.mark.asyncio
async def test_plain_in_memory_layer_accepts_what_redis_refuses() -> None:
    """The premise: InMemoryChannelLayer deep-copies (channels 4.3.2 layers.py), so tests pass."""
    layer = InMemoryChannelLayer()
    await layer.send("q", {"type": "t", "at": datetime(2024, 1, 2), 1: {2}})
    assert (await layer.receive("q"))[1] == {2}


def test_check_message_returns_what_a_receiver_gets() -> None:
    assert check_message({"type": "t", "x": (1,)}) == {"type": "t", "x": [1]}
    assert check_message(safe_serialize({"type": "t", "at": datetime(2024, 1, 2, tzinfo=timezone.utc), 1: {2}})) == {
        "type": "t",
        "at": "2024-01-02T00:00:00Z",
        "1": [2],
    }
    with pytest.raises(TypeError, match=r'^payload\["x"\]: datetime'):
        check_message({"type": "t", "x": datetime(2024, 1, 2)}, name="payload")


# --- as configured in settings, with a consumer ---------------------------------------------------


class Broadcaster(AsyncJsonWebsocketConsumer):
    groups = ["lobby"]

    async def receive_json(self, content: object, **kwargs: object) -> None:
        # The datetime is the point: the strict layer must refuse it, as Redis would.
        payload = {"at": datetime(2024, 1, 2, tzinfo=timezone.utc)} if content == "raw" else {"text": content}  # noqa: CHN202
        await self.channel_layer.group_send("lobby", {"type": "lobby.message", **payload})

    async def lobby_message(self, event: dict[str, object]) -> None:
        await self.send_json(event)


@pytest.mark.asyncio
async def test_settings_switch_and_a_consumer_that_sends_a_datetime() -> None:
    with override_settings(CHANNEL_LAYERS=STRICT):
        layer = get_channel_layer()
        assert type(layer) is StrictInMemoryChannelLayer
        communicator = WebsocketCommunicator(Broadcaster.as_asgi(), "/ws/")
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to("hello")
        assert await communicator.receive_json_from(timeout=5) == {"type": "lobby.message", "text": "hello"}
        await communicator.send_json_to("raw")
        with pytest.raises(TypeError, match=re.escape('event["at"]: datetime is not msgpack-serializable')):
            await communicator.wait(timeout=5)  # the consumer dies at group_send, as it would on Redis
    assert type(get_channel_layer()) is InMemoryChannelLayer  # the test settings are back


# --- the error always names a place -------------------------------------------------------------

KEYS = st.one_of(st.text(max_size=3), st.binary(max_size=3), st.integers(), st.none(), st.booleans(), st.tuples(st.integers()))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),
    st.binary(max_size=3),
    st.datetimes(),
    st.decimals(allow_nan=False),
    st.uuids(),
    st.sampled_from([Color.RED, Level.LOW]),
)
PAYLOADS = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.tuples(children) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=12,
)


@given(PAYLOADS)
def test_property_errors_always_name_the_offending_place(payload: object) -> None:
    """Every rejection is a TypeError/ValueError whose text starts with the path of a real element
    (the locator never falls back to "somewhere in the message"), and acceptance matches msgpack."""
    message = {"type": "t", "payload": payload}
    try:
        expected = msgpack.unpackb(msgpack.packb(message), strict_map_key=True)
    except (TypeError, ValueError, OverflowError):
        expected = None
    try:
        received = check_message(message)
    except (TypeError, ValueError) as error:
        assert expected is None
        assert re.match(r'^event\["payload"\]', str(error)), str(error)
        assert "not msgpack-serializable (" not in str(error).split(": ", 1)[0]
        assert "every receiver would fail to unpack it (" not in str(error)
        return
    assert expected is not None
    assert msgpack.packb(received) == msgpack.packb(expected)


def test_the_layer_runs_in_its_own_event_loop_per_test() -> None:
    # A sync test using the layer through asyncio.run, as a management command would.
    async def round_trip() -> object:
        layer = StrictInMemoryChannelLayer()
        await layer.send("q", {"type": "t", "v": (1,)})
        return await layer.receive("q")

    assert asyncio.run(round_trip()) == {"type": "t", "v": [1]}
