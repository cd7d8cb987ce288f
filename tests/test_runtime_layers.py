"""Against a real Redis: safe_serialize output survives channels_redis, and StrictInMemoryChannelLayer
rejects exactly what channels_redis rejects (RedisChannelLayer and RedisPubSubChannelLayer).

Each test runs one event loop of its own (Hypothesis drives a sync inner function, each example runs
on that loop), uses a unique key prefix, and flushes what it created. A message counts as rejected
by Redis when ``send``/``group_send`` raises, or when the receiver's ``receive`` raises while
unpacking it (channels_redis 4.3.0 sends int-keyed dicts; msgpack's ``strict_map_key=True`` then
fails in every receiver). ``asyncio.wait_for`` timeouts are failure guards only: every message
awaited has been sent.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any, TypeVar

import pytest
from django.utils.safestring import SafeString
from hypothesis import event, given
from hypothesis import strategies as st

from channels_lint.runtime import StrictInMemoryChannelLayer, safe_serialize

pytestmark = pytest.mark.services

channels_redis_core = pytest.importorskip("channels_redis.core")
channels_redis_pubsub = pytest.importorskip("channels_redis.pubsub")

GUARD = 5.0  # seconds; only reached if something is broken
T = TypeVar("T")


class Color(Enum):
    RED = "red"


class Level(IntEnum):
    LOW = 1


class Kind(str, Enum):
    CHAT = "chat"


# --- outcomes ------------------------------------------------------------------------------------


class Rejected:
    def __init__(self, where: str, error: BaseException) -> None:
        self.where, self.error = where, error

    def __repr__(self) -> str:
        return f"Rejected({self.where}: {type(self.error).__name__}: {self.error})"


class Accepted:
    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"Accepted({self.message!r})"


#: What msgpack raises in channels_redis: TypeError (type), OverflowError (int range), ValueError
#: (nesting/cycle, lone surrogate as UnicodeEncodeError, strict_map_key on the receiver). Anything
#: else (a connection error...) is not a rejection and fails the test.
REDIS_REJECTIONS = (TypeError, ValueError, OverflowError)


def same(left: object, right: object) -> bool:
    """Equality with types kept everywhere and NaN equal to NaN (iterative: payloads may be deep)."""
    stack = [(left, right)]
    while stack:
        a, b = stack.pop()
        if type(a) is not type(b):
            return False
        if type(a) is float and math.isnan(a):
            if not math.isnan(b):  # type: ignore[arg-type]
                return False
        elif type(a) is list:
            if len(a) != len(b):  # type: ignore[arg-type]
                return False
            stack.extend(zip(a, b))  # type: ignore[call-overload]
        elif type(a) is dict:
            if len(a) != len(b) or any(type(k1) is not type(k2) or k1 != k2 for k1, k2 in zip(a, b)):  # type: ignore
                return False
            stack.extend(zip(a.values(), b.values()))  # type: ignore[union-attr]
        elif a != b:
            return False
    return True


@contextmanager
def event_loop() -> Iterator[Callable[[Awaitable[T]], T]]:
    """One event loop for the whole test; yields ``run(awaitable)`` with the failure guard."""
    loop = asyncio.new_event_loop()

    def run(awaitable: Awaitable[T]) -> T:
        return loop.run_until_complete(asyncio.wait_for(awaitable, GUARD))

    try:
        yield run
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def redis_send_receive(layer: Any, channel: str, message: dict[str, Any]) -> Accepted | Rejected:
    try:
        await layer.send(channel, message)
    except REDIS_REJECTIONS as error:
        return Rejected("send", error)
    try:
        return Accepted(await asyncio.wait_for(layer.receive(channel), GUARD))
    except REDIS_REJECTIONS as error:
        return Rejected("receive", error)


async def strict_send_receive(layer: StrictInMemoryChannelLayer, message: dict[str, Any]) -> Accepted | Rejected:
    try:
        await layer.send("strict-check", message)
    except (TypeError, ValueError) as error:
        return Rejected("send", error)
    return Accepted(await layer.receive("strict-check"))


# --- payloads ------------------------------------------------------------------------------------

TIMEZONES = st.sampled_from([None, timezone.utc, timezone(timedelta(hours=5, minutes=30))])
INT_EDGES = st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30])
RAW_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    INT_EDGES,
    st.floats(),
    st.text(max_size=8),
    st.text(st.characters(categories=["Cs", "Ll"]), min_size=1, max_size=3),
    st.binary(max_size=4),
    st.binary(max_size=4).map(bytearray),
    st.text(max_size=4).map(SafeString),
    st.datetimes(timezones=TIMEZONES),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=True),
    st.uuids(),
    st.sets(st.integers(), max_size=2),
    st.sampled_from([Color.RED, Level.LOW, Kind.CHAT]),
)
RAW_KEYS = st.one_of(
    st.text(max_size=4),
    st.text(max_size=4),
    st.binary(max_size=3),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.tuples(st.integers()),
    st.sampled_from([Level.LOW, Kind.CHAT]),
)
RAW_PAYLOADS = st.recursive(
    RAW_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=4), children, max_size=3),
        st.dictionaries(RAW_KEYS, children, max_size=3),
    ),
    max_leaves=12,
)


def nested(levels: int) -> list[object]:
    root: list[object] = []
    current = root
    for _ in range(levels - 1):
        inner: list[object] = []
        current.append(inner)
        current = inner
    return root


def cyclic() -> list[object]:
    items: list[object] = [1]
    items.append(items)
    return items


#: Nesting around msgpack's 1024-level limit (the event dict itself is one level), and a cycle.
EDGE_PAYLOADS = st.sampled_from([1022, 1023, 1024]).map(nested) | st.builds(cyclic)
#: Values msgpack packs, under keys of every kind: where the sender succeeds and receivers may fail.
PACKABLE_PAYLOADS = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(),
        st.text(max_size=4),
        st.binary(max_size=3),
        st.sampled_from([Level.LOW, Kind.CHAT, SafeString("s")]),
    ),
    lambda children: st.lists(children, max_size=3) | st.tuples(children) | st.dictionaries(RAW_KEYS, children, max_size=3),
    max_leaves=8,
)
DIFFERENTIAL_PAYLOADS = RAW_PAYLOADS | PACKABLE_PAYLOADS | EDGE_PAYLOADS


def nasty_values() -> st.SearchStrategy[object]:
    """What users put in events: every type safe_serialize converts, shared and cyclic too."""
    leaves = st.one_of(
        RAW_SCALARS,
        st.integers(min_value=2**64, max_value=2**200),
        st.sampled_from([float("nan"), float("inf"), Decimal("NaN")]),
        st.integers(min_value=4300, max_value=6000).map(lambda digits: -(10**digits) - 1),  # past str()'s limit
        st.times(timezones=TIMEZONES),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.tuples(children),
            st.frozensets(st.integers(), max_size=2),
            st.dictionaries(RAW_KEYS, children, max_size=3),
        ),
        max_leaves=15,
    ).map(lambda value: [value, value, {"self": cyclic()}])


# --- RedisChannelLayer ---------------------------------------------------------------------------


def redis_layer(redis_url: str) -> Any:
    return channels_redis_core.RedisChannelLayer(hosts=[redis_url], prefix=unique("chltest"))


def test_safe_serialize_output_survives_redis_group_send(redis_url: str) -> None:
    """Every value safe_serialize returns comes out of a real RedisChannelLayer group_send unchanged,
    and StrictInMemoryChannelLayer delivers the same message."""
    layer = redis_layer(redis_url)
    with event_loop() as run:
        run(layer.group_add("survivors", "receiver.one"))
        try:

            @given(nasty_values())
            def check(value: object) -> None:
                message = {"type": "chat.message", "payload": safe_serialize(value)}
                run(layer.group_send("survivors", message))
                received = run(layer.receive("receiver.one"))
                assert received == message
                strict = StrictInMemoryChannelLayer()
                assert run(strict_send_receive(strict, message)).message == message  # type: ignore[union-attr]

            check()
        finally:
            run(layer.flush())


def test_strict_layer_rejects_exactly_what_redis_rejects(redis_url: str) -> None:
    """Differential: for each generated payload, RedisChannelLayer send + receive succeeds (and gives
    a message) exactly when StrictInMemoryChannelLayer.send accepts it (and delivers the same one)."""
    layer = redis_layer(redis_url)
    with event_loop() as run:
        outcomes: Counter[str] = Counter()
        receive_failures: list[Rejected] = []
        try:

            @given(DIFFERENTIAL_PAYLOADS)
            def check(payload: object) -> None:
                message = {"type": "chat.message", "payload": payload}
                on_redis = run(redis_send_receive(layer, "differential", message))
                on_strict = run(strict_send_receive(StrictInMemoryChannelLayer(), message))
                outcome = f"redis: {type(on_redis).__name__} {getattr(on_redis, 'where', '')}".strip()
                event(outcome)
                outcomes[type(on_redis).__name__] += 1
                if isinstance(on_redis, Rejected) and on_redis.where == "receive":
                    receive_failures.append(on_redis)
                assert type(on_redis) is type(on_strict), (on_redis, on_strict)
                if isinstance(on_redis, Accepted):
                    assert same(on_redis.message, on_strict.message)  # type: ignore[union-attr]

            check()
            assert outcomes["Accepted"] and outcomes["Rejected"], outcomes  # both sides were exercised
            assert receive_failures, outcomes  # and the receiver-side failure (non-str map keys)
        finally:
            run(layer.flush())


def test_redis_facts_the_strict_layer_is_built_on(redis_url: str) -> None:
    """The channels_redis 4.3.0 behaviours the strict layer copies, or deliberately tightens."""
    layer = redis_layer(redis_url)
    with event_loop() as run:
        try:
            # int keys: sent fine, then the receiver fails (msgpack strict_map_key=True)
            run(layer.send("facts", {"type": "t", "scores": {1: "one"}}))
            with pytest.raises(ValueError, match="int is not allowed for map key when strict_map_key=True"):
                run(layer.receive("facts"))
            # bytes keys are allowed by strict_map_key and arrive as bytes
            run(layer.send("facts", {"type": "t", "k": {b"id": 1}}))
            assert run(layer.receive("facts")) == {"type": "t", "k": {b"id": 1}}
            # tuples arrive as lists; uint64 ints pass; one past fails at send
            run(layer.send("facts", {"type": "t", "v": (1, 2), "n": 2**64 - 1}))
            assert run(layer.receive("facts")) == {"type": "t", "v": [1, 2], "n": 2**64 - 1}
            with pytest.raises(OverflowError):
                run(layer.send("facts", {"type": "t", "n": 2**64}))
            with pytest.raises(TypeError, match="can not serialize 'datetime.datetime' object"):
                run(layer.send("facts", {"type": "t", "at": datetime(2024, 1, 2)}))
            # group_send serializes per member: an empty group accepts anything (the strict layer does not)
            run(layer.group_send("empty-group", {"type": "t", "at": datetime(2024, 1, 2)}))
            with pytest.raises(TypeError, match=r'event\["at"\]: datetime'):
                run(StrictInMemoryChannelLayer().group_send("empty-group", {"type": "t", "at": datetime(2024, 1, 2)}))
            # no "type": Redis sends it; every receiving consumer would fail (the strict layer refuses)
            run(layer.send("facts", {"no": "type"}))
            assert run(layer.receive("facts")) == {"no": "type"}
        finally:
            run(layer.flush())


# --- RedisPubSubChannelLayer ---------------------------------------------------------------------


def pubsub_layer(redis_url: str) -> Any:
    return channels_redis_pubsub.RedisPubSubChannelLayer(hosts=[redis_url], prefix=unique("chltest"))


def subscribed_channel(run: Callable[[Awaitable[Any]], Any], layer: Any) -> str:
    """A new channel, proven subscribed by one round trip (publishing before the subscription is
    active would lose the message), so later examples never race the SUBSCRIBE."""
    channel = run(layer.new_channel())
    run(layer.send(channel, {"type": "probe"}))
    assert run(layer.receive(channel)) == {"type": "probe"}
    return channel


def test_safe_serialize_output_survives_pubsub_group_send(redis_url: str) -> None:
    """The same survival property on RedisPubSubChannelLayer (serializes before publishing)."""
    layer = pubsub_layer(redis_url)
    with event_loop() as run:
        try:
            channel = subscribed_channel(run, layer)
            run(layer.group_add("survivors", channel))
            run(layer.group_send("survivors", {"type": "probe"}))
            assert run(layer.receive(channel)) == {"type": "probe"}

            @given(nasty_values())
            def check(value: object) -> None:
                message = {"type": "chat.message", "payload": safe_serialize(value)}
                run(layer.group_send("survivors", message))
                assert run(layer.receive(channel)) == message

            check()
        finally:
            run(layer.flush())


def test_strict_layer_rejects_exactly_what_pubsub_rejects(redis_url: str) -> None:
    """Differential against RedisPubSubChannelLayer: send + receive succeeds exactly when
    StrictInMemoryChannelLayer.send accepts, with the same message delivered."""
    layer = pubsub_layer(redis_url)
    with event_loop() as run:
        outcomes: Counter[str] = Counter()
        receive_failures: list[Rejected] = []
        try:
            channel = subscribed_channel(run, layer)

            @given(DIFFERENTIAL_PAYLOADS)
            def check(payload: object) -> None:
                message = {"type": "chat.message", "payload": payload}
                on_redis = run(redis_send_receive(layer, channel, message))
                on_strict = run(strict_send_receive(StrictInMemoryChannelLayer(), message))
                outcome = f"pubsub: {type(on_redis).__name__} {getattr(on_redis, 'where', '')}".strip()
                event(outcome)
                outcomes[type(on_redis).__name__] += 1
                if isinstance(on_redis, Rejected) and on_redis.where == "receive":
                    receive_failures.append(on_redis)
                assert type(on_redis) is type(on_strict), (on_redis, on_strict)
                if isinstance(on_redis, Accepted):
                    assert same(on_redis.message, on_strict.message)  # type: ignore[union-attr]

            check()
            assert outcomes["Accepted"] and outcomes["Rejected"], outcomes  # both sides were exercised
            assert receive_failures, outcomes  # and the receiver-side failure (non-str map keys)
        finally:
            run(layer.flush())


def test_pubsub_fails_at_send_even_for_an_empty_group(redis_url: str) -> None:
    layer = pubsub_layer(redis_url)
    with event_loop() as run:
        try:
            with pytest.raises(TypeError, match="can not serialize 'decimal.Decimal' object"):
                run(layer.group_send("nobody", {"type": "t", "x": Decimal("1")}))
            run(layer.group_send("nobody", {"type": "t", "x": [date(2024, 1, 2).isoformat(), time(1).isoformat()]}))
        finally:
            run(layer.flush())
