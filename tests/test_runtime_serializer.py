"""Tests for channels_lint.runtime.serializer."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any
from uuid import UUID

import msgpack
import pytest
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy
from hypothesis import event, given
from hypothesis import strategies as st

from channels_lint.runtime import (
    MAX_DEPTH,
    JSONSerializer,
    dumps,
    safe_serialize,
    serialize_datetime,
    serialize_message,
    validate_serializable,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UTC_PLUS_0530 = timezone(timedelta(hours=5, minutes=30))


class Color(Enum):
    RED = "red"
    WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    PAIR = (1, Decimal("2.5"))


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Kind(str, Enum):
    CHAT = "chat.message"


class GroupWithDict(Group):
    """A proxy model (no table) defining ``to_dict``."""

    class Meta:
        proxy = True
        app_label = "auth"

    def to_dict(self) -> dict[str, object]:
        return {"id": self.pk, "name": self.name, "seen": date(2024, 1, 2)}


class GroupWithBrokenDict(Group):
    class Meta:
        proxy = True
        app_label = "auth"

    def to_dict(self) -> dict[str, object]:
        raise RuntimeError("boom")


class GroupReturningSelf(Group):
    class Meta:
        proxy = True
        app_label = "auth"

    def to_dict(self) -> object:
        return self


def nested_lists(levels: int) -> list[object]:
    """``levels`` lists inside each other: nested_lists(1) == [], nested_lists(2) == [[]]."""
    root: list[object] = []
    current = root
    for _ in range(levels - 1):
        inner: list[object] = []
        current.append(inner)
        current = inner
    return root


def list_depth(value: object) -> tuple[int, object]:
    """Follow the first item of nested lists; return (number of lists, innermost non-list item)."""
    levels = 0
    while isinstance(value, list):
        levels += 1
        if not value:
            return levels, None
        value = value[0]
    return levels, value


def msgpack_round_trip(value: object) -> object:
    """What channels_redis's MsgPackSerializer does: packb/unpackb with msgpack defaults."""
    return msgpack.unpackb(msgpack.packb(value), strict_map_key=True)


# --- scalar conversions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, 123456), "2024-01-02T03:04:05.123"),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "2024-01-02T03:04:05Z"),
        (
            datetime(2024, 1, 2, 3, 4, 5, 1000, tzinfo=UTC_PLUS_0530),
            "2024-01-02T03:04:05.001+05:30",
        ),
        (date(2024, 1, 2), "2024-01-02"),
        (time(3, 4, 5, 123456), "03:04:05.123"),
        (time(3, 4, 5, 123456, tzinfo=timezone.utc), "03:04:05.123456+00:00"),
        (time(3, 4, 5, tzinfo=UTC_PLUS_0530), "03:04:05+05:30"),
    ],
)
def test_datetimes_use_iso_8601(value: date | time, expected: str) -> None:
    assert safe_serialize(value) == expected
    assert serialize_datetime(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC_PLUS_0530),
        date(2024, 1, 2),
        time(3, 4, 5, 123456),
        timedelta(days=1, seconds=5, microseconds=7),
        Decimal("1.10"),
        UUID("12345678-1234-5678-1234-567812345678"),
        gettext_lazy("hello"),
    ],
)
def test_matches_django_json_encoder(value: object) -> None:
    assert safe_serialize(value) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(days=1, seconds=5), "P1DT00H00M05S"),
        (Decimal("1.10"), "1.10"),
        (Decimal("NaN"), "NaN"),
        (Decimal("-Infinity"), "-Infinity"),
        (UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        ((1, (2, 3)), [1, [2, 3]]),
        (b"\x00\xffhi", "AP9oaQ=="),
        (bytearray(b"hi"), "aGk="),
        (memoryview(b"abcdef")[::2], "YWNl"),
        (Color.RED, "red"),
        (Color.WHEN, "2024-01-02T03:04:05Z"),
        (Color.PAIR, [1, "2.5"]),
        (Level.HIGH, 2),
        (Kind.CHAT, "chat.message"),
        (models.TextChoices("Status", "DRAFT").DRAFT, "DRAFT"),
        (SafeString("<b>"), "<b>"),
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
        (2**63, str(2**63)),
        (-(2**63) - 1, str(-(2**63) - 1)),
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
        (1.5, 1.5),
        (True, True),
        (None, None),
        ("a\ud800b", "a?b"),
        (1 + 2j, "(1+2j)"),
        (range(3), "range(0, 3)"),
    ],
)
def test_conversions(value: object, expected: object) -> None:
    result = safe_serialize(value)
    assert result == expected
    assert type(result) is type(expected)


def test_unsortable_set_keeps_every_item() -> None:
    result = safe_serialize({1, "a", None})
    assert isinstance(result, list)
    assert sorted(result, key=repr) == sorted([1, "a", None], key=repr)


def test_lazy_string_becomes_plain_str() -> None:
    result = safe_serialize({"label": gettext_lazy("hello")})
    assert result == {"label": "hello"}
    assert type(result["label"]) is str  # type: ignore[index]


def test_serialize_datetime_rejects_other_types() -> None:
    for value in (timedelta(1), "2024-01-02", 1700000000, None):
        with pytest.raises(TypeError):
            serialize_datetime(value)


# --- Django models and QuerySets ----------------------------------------------------------------


def test_model_instance_exposes_only_its_pk() -> None:
    assert safe_serialize(Group(pk=3, name="secret")) == {"pk": 3}
    assert safe_serialize(Group(name="secret")) == {"pk": None}


def test_model_to_dict_is_used_and_serialized() -> None:
    assert safe_serialize(GroupWithDict(pk=4, name="public")) == {
        "id": 4,
        "name": "public",
        "seen": "2024-01-02",
    }


def test_model_to_dict_failures_do_not_leak() -> None:
    broken = GroupWithBrokenDict(pk=5, name="secret")
    assert safe_serialize(broken) == "<unserializable GroupWithBrokenDict>"
    assert safe_serialize(GroupReturningSelf(pk=6, name="secret")) == "<cycle>"


def test_queryset_and_manager_become_markers_without_db_access() -> None:
    # No django_db mark: pytest-django would fail any query, giving "<unserializable QuerySet>".
    assert safe_serialize(Group.objects.filter(name="x")) == "<QuerySet of auth.Group>"
    assert safe_serialize(Group.objects) == "<QuerySet of auth.Group>"


# --- containers, keys, cycles, depth ------------------------------------------------------------


def test_non_str_keys_are_stringified() -> None:
    value = {
        1: "int",
        None: "none",
        1.5: "float",
        (1, "a"): "tuple",
        Color.RED: "enum",
        Level.HIGH: "intenum",
        UUID(int=1): "uuid",
        SafeString("safe"): "safe",
    }
    assert safe_serialize(value) == {
        "1": "int",
        "None": "none",
        "1.5": "float",
        "(1, 'a')": "tuple",
        "red": "enum",
        "2": "intenum",
        "00000000-0000-0000-0000-000000000001": "uuid",
        "safe": "safe",
    }
    result = safe_serialize(value)
    assert all(type(key) is str for key in result)  # type: ignore[union-attr]


def test_colliding_keys_keep_the_first() -> None:
    assert safe_serialize({1: "int", "1": "str"}) == {"1": "int"}
    assert safe_serialize({"1": "str", 1: "int"}) == {"1": "str"}
    assert safe_serialize({Level.LOW: "enum", 1.5: "x", "1": "str"}) == {"1": "enum", "1.5": "x"}
    assert safe_serialize({"b": 1, 2: 2, "2": 3, "a": 4}) == {"b": 1, "2": 2, "a": 4}
    assert list(safe_serialize({"b": 1, 2: 2, "a": 4})) == ["b", "2", "a"]  # type: ignore


def test_unstringifiable_key_becomes_marker() -> None:
    class BadKey:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert safe_serialize({BadKey(): 1}) == {"<unserializable BadKey>": 1}


def test_mappings_and_sequences_become_dicts_and_lists() -> None:
    value = MappingProxyType({"a": (1, {2})})
    assert safe_serialize(value) == {"a": [1, [2]]}


def test_self_referencing_list_and_dict() -> None:
    items: list[object] = [1]
    items.append(items)
    assert safe_serialize(items) == [1, "<cycle>"]

    mapping: dict[str, object] = {"a": 1}
    mapping["self"] = mapping
    mapping["inner"] = {"back": mapping}
    assert safe_serialize(mapping) == {"a": 1, "self": "<cycle>", "inner": {"back": "<cycle>"}}
    assert validate_serializable(items) is False
    assert validate_serializable(mapping) is False


def test_shared_references_are_not_cycles() -> None:
    shared = [1]
    assert safe_serialize([shared, {"x": shared}]) == [[1], {"x": [1]}]
    assert validate_serializable([shared, {"x": shared}]) is True


def test_depth_limit_boundary() -> None:
    assert safe_serialize(nested_lists(MAX_DEPTH)) == nested_lists(MAX_DEPTH)
    assert validate_serializable(nested_lists(MAX_DEPTH)) is True
    assert list_depth(safe_serialize(nested_lists(MAX_DEPTH + 1))) == (MAX_DEPTH, "<max depth>")
    assert validate_serializable(nested_lists(MAX_DEPTH + 1)) is False


def test_100_000_deep_nesting_does_not_recurse() -> None:
    deep_list = nested_lists(100_000)
    result = safe_serialize(deep_list)
    assert list_depth(result) == (MAX_DEPTH, "<max depth>")
    assert json.loads(json.dumps(result)) == result
    assert msgpack_round_trip(result) == result
    assert validate_serializable(deep_list) is False

    deep_dict: dict[str, object] = {}
    current = deep_dict
    for _ in range(100_000):
        current["k"] = current = {}
    assert validate_serializable(safe_serialize(deep_dict)) is True
    assert validate_serializable(deep_dict) is False
    assert len(dumps(deep_dict)) < 10 * MAX_DEPTH


# --- never raises -------------------------------------------------------------------------------


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")


class LyingClass:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise RuntimeError("no class")


class BrokenMapping(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no iteration")

    def __len__(self) -> int:
        return 1


def test_hostile_objects_become_markers() -> None:
    released = memoryview(b"x")
    released.release()
    assert safe_serialize(Unprintable()) == "<unserializable Unprintable>"
    assert safe_serialize(LyingClass()) == "<unserializable LyingClass>"
    assert safe_serialize(BrokenMapping()) == "<unserializable BrokenMapping>"
    assert safe_serialize(released) == "<unserializable memoryview>"
    assert safe_serialize(10**5000) == "1" + "0" * 5000  # issue 12: digits, past str()'s 4300-digit limit
    assert safe_serialize([Unprintable(), 1]) == ["<unserializable Unprintable>", 1]
    for value in (Unprintable(), LyingClass(), BrokenMapping(), released):
        assert validate_serializable(value) is False
        assert serialize_message(value) == {"value": f"<unserializable {type(value).__name__}>"}
        assert json.loads(dumps(value)) == f"<unserializable {type(value).__name__}>"


# --- validate_serializable ----------------------------------------------------------------------


def test_validate_accepts_safe_primitives() -> None:
    value = {"a": [1, -(2**63), 2**63 - 1, 2.5, "é", None, True, {"b": []}]}
    assert validate_serializable(value) is True
    assert safe_serialize(value) == value


@pytest.mark.parametrize(
    "value",
    [
        (1, 2),
        b"bytes",
        Level.LOW,
        Kind.CHAT,
        SafeString("x"),
        float("nan"),
        float("inf"),
        2**63,
        -(2**63) - 1,
        "a\ud800",
        {1: "int key"},
        {"ok": {SafeString("k"): 1}},
        datetime(2024, 1, 2),
        Decimal("1"),
        UUID(int=1),
        {1},
        frozenset(),
        gettext_lazy("hello"),
        Group(pk=1),
        object(),
    ],
)
def test_validate_rejects_unsafe_values(value: object) -> None:
    assert validate_serializable(value) is False
    assert validate_serializable([{"x": value}]) is False


# --- serialize_message, dumps, JSONSerializer ---------------------------------------------------


def test_serialize_message() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert serialize_message({"type": "chat.message", "when": when}) == {
        "type": "chat.message",
        "when": "2024-01-02T03:04:05Z",
    }
    assert serialize_message({"type": Kind.CHAT}) == {"type": "chat.message"}
    assert serialize_message({"type": 5, "x": 5}) == {"type": "5", "x": 5}
    assert serialize_message(MappingProxyType({"text": "hi"})) == {"text": "hi"}
    assert serialize_message([1, (2,)]) == {"value": [1, [2]]}
    assert serialize_message(None) == {"value": None}
    assert serialize_message(Group(pk=3, name="secret")) == {"value": {"pk": 3}}


def test_dumps() -> None:
    value = {"b": {2, 1}, "a": Decimal("1.10"), "n": float("nan")}
    assert dumps(value, sort_keys=True) == '{"a": "1.10", "b": [1, 2], "n": null}'
    with pytest.raises(TypeError):
        dumps(value, no_such_option=True)


def test_json_serializer_delegates() -> None:
    serializer = JSONSerializer()
    when = datetime(2024, 1, 2, tzinfo=timezone.utc)
    assert serializer.safe_serialize({1: when}) == {"1": "2024-01-02T00:00:00Z"}
    assert serializer.serialize_datetime(when) == "2024-01-02T00:00:00Z"
    assert serializer.serialize_message([when]) == {"value": ["2024-01-02T00:00:00Z"]}
    assert serializer.validate_serializable({"a": 1}) is True
    assert serializer.dumps({"a": {1}}) == '{"a": [1]}'


def test_encode_json_override_in_async_consumer() -> None:
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    class ChatConsumer(AsyncJsonWebsocketConsumer):
        @classmethod
        async def encode_json(cls, content: object) -> str:
            return dumps(content)

    text = asyncio.run(ChatConsumer.encode_json({"at": datetime(2024, 1, 2), "id": UUID(int=2)}))
    assert json.loads(text) == {"at": "2024-01-02T00:00:00", "id": str(UUID(int=2))}


# --- import hygiene -----------------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)


def test_runtime_never_imports_libcst_or_flake8() -> None:
    process = run_python("import channels_lint.runtime, sys; assert 'libcst' not in sys.modules and 'flake8' not in sys.modules")
    assert process.returncode == 0, process.stderr


def test_works_without_django() -> None:
    process = run_python(
        "import sys; sys.modules['django'] = None\n"
        "import datetime, decimal\n"
        "from channels_lint.runtime import safe_serialize\n"
        "print(safe_serialize([datetime.date(2024, 1, 2), decimal.Decimal('1.5'), {2, 1}, b'hi']))"
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "['2024-01-02', '1.5', [1, 2], 'aGk=']"


# --- property tests -----------------------------------------------------------------------------

TIMEZONES = st.sampled_from([None, timezone.utc, UTC_PLUS_0530, timezone(timedelta(hours=-8))])
# Any code point; the second branch makes lone surrogates (category Cs, not UTF-8 encodable) common.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20) | st.text(
    st.characters(categories=["Cs", "Ll"]), min_size=1, max_size=5
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, -(10**40)]),
    st.floats(),
    ANY_TEXT,
    st.datetimes(timezones=TIMEZONES),
    st.dates(),
    st.times(timezones=TIMEZONES),
    st.timedeltas(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.uuids(),
    st.sets(st.integers()),
    st.frozensets(st.integers(), max_size=5),
    st.binary(max_size=20),
    st.binary(max_size=20).map(bytearray),
    st.sampled_from([*Color, *Level, *Kind]),
)
KEYS = st.one_of(
    ANY_TEXT,
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(),
    st.tuples(st.integers(), st.text(max_size=3)),
    st.sampled_from([*Color, *Level, *Kind]),
    st.uuids(),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.dictionaries(KEYS, children, max_size=5),
    ),
    max_leaves=30,
)
SAFE_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)
POISON = st.one_of(
    st.datetimes(timezones=TIMEZONES),
    st.dates(),
    st.times(),
    st.decimals(allow_nan=True),
    st.uuids(),
    st.sets(st.integers()),
    st.frozensets(st.integers()),
)


def _bury(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Put ``inner`` at a random place inside a safe list or dict."""
    in_list = st.tuples(st.lists(SAFE_VALUES, max_size=3), inner, st.integers(0, 3)).map(
        lambda t: [*t[0][: t[2]], t[1], *t[0][t[2] :]]
    )
    safe_dicts = st.dictionaries(st.text(max_size=5), SAFE_VALUES, max_size=3)
    in_dict = st.tuples(safe_dicts, st.text(max_size=5), inner).map(lambda t: {**t[0], t[1]: t[2]})
    return in_list | in_dict


POISONED = st.recursive(POISON, _bury, max_leaves=10)


def _containers(value: object) -> list[object]:
    """The lists and dicts inside ``value`` (a tree when this is called), root first."""
    found: list[object] = []
    stack = [value]
    while stack:
        current = stack.pop()
        if type(current) is list:
            found.append(current)
            stack.extend(current)
        elif type(current) is dict:
            found.append(current)
            stack.extend(current.values())
        elif type(current) is tuple:
            stack.extend(current)
    return found


def _reaches(start: object, goal: object) -> bool:
    seen: set[int] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current is goal:
            return True
        if id(current) in seen or type(current) not in (list, dict, tuple):
            continue
        seen.add(id(current))
        stack.extend(current.values() if type(current) is dict else current)  # type: ignore[union-attr]
    return False


@st.composite
def graphs(draw: st.DrawFn, base: st.SearchStrategy[object], cycles: bool = True) -> object:
    """A value from ``base`` with up to 4 extra references added: shared containers and, if
    ``cycles``, references back to an ancestor."""
    value = draw(base)
    containers = _containers(value)
    if not containers:
        return value
    for _ in range(draw(st.integers(0, 4))):
        holder = draw(st.sampled_from(containers))
        target = draw(st.sampled_from(containers))
        if not cycles and _reaches(target, holder):
            continue
        if type(holder) is list:
            holder.insert(draw(st.integers(0, len(holder))), target)  # type: ignore[union-attr]
        else:
            holder[draw(st.text(max_size=3))] = target  # type: ignore[index]
    return value


# Built by a function: Hypothesis cannot repr an int past the 4300-digit limit in a strategy.
HUGE_INTS = st.integers(min_value=4300, max_value=6000).map(lambda digits: 10**digits + 1) | st.sampled_from([-(2**64), 2**200])
ANY_VALUES = graphs(st.one_of(VALUES, st.tuples(VALUES, HUGE_INTS).map(list)))
SERIALIZERS = st.builds(JSONSerializer, sort_keys=st.booleans(), max_depth=st.sampled_from([1, 2, 3, 5, MAX_DEPTH, 500]))


def reject_constant(name: str) -> object:
    raise ValueError(f"non-strict JSON constant {name}")


@given(ANY_VALUES, SERIALIZERS, st.sampled_from([{}, {"indent": 2}, {"ensure_ascii": False}, {"separators": (",", ":")}]))
def test_property_serialization_safety(value: object, serializer: JSONSerializer, json_kwargs: dict[str, Any]) -> None:
    """Feature: messaging-system-fixes, Property 3: JSON Serialization Completeness

    (Also Feature: messaging-system-fixes, Property 2: Serialization Safety.)
    For any nested structure of datetimes (naive and aware), Decimals (NaN too), UUIDs, sets,
    bytes, Enums, ints past 64 bits (past 4300 digits too), non-str keys, NaN, shared references
    and cycles: (a) safe_serialize never raises, (b) its result validates, (c) it round-trips
    through json.dumps(allow_nan=False)/json.loads, (d) it survives a msgpack round trip with
    strict_map_key=True exactly, (e) it is idempotent, (f) dumps returns strict JSON (json.loads
    with parse_constant rejecting NaN/Infinity) equal to the result, for the module function and
    any JSONSerializer configuration.
    """
    result = safe_serialize(value)  # (a)
    assert validate_serializable(result) is True  # (b)
    assert json.loads(json.dumps(result, allow_nan=False)) == result  # (c)
    assert msgpack_round_trip(result) == result  # (d)
    assert safe_serialize(result) == result  # (e)
    assert validate_serializable(serialize_message(value)) is True
    assert json.loads(dumps(value), parse_constant=reject_constant) == result  # (f)
    configured = serializer.safe_serialize(value)
    assert serializer.validate_serializable(configured) is True
    assert msgpack_round_trip(configured) == configured
    text = serializer.dumps(value, **json_kwargs)
    assert json.loads(text, parse_constant=reject_constant) == configured
    assert serializer.encode_or_fallback(value) == serializer.dumps(value)


@given(POISONED)
def test_property_unsafe_values_never_validate(value: object) -> None:
    """Feature: messaging-system-fixes, Property 2: Serialization Safety.

    A value containing a datetime, date, time, Decimal, UUID, set or frozenset anywhere is not
    serializable as is, while its safe_serialize result is.
    """
    assert validate_serializable(value) is False
    assert validate_serializable(safe_serialize(value)) is True


@given(SAFE_VALUES)
def test_property_safe_values_are_fixed_points(value: object) -> None:
    """Feature: messaging-system-fixes, Property 2: Serialization Safety.

    Already-safe values validate and pass through safe_serialize and msgpack unchanged.
    """
    assert validate_serializable(value) is True
    assert safe_serialize(value) == value
    assert msgpack_round_trip(value) == value


def test_bytes_keys_become_their_text() -> None:
    from channels_lint.runtime import safe_serialize

    assert safe_serialize({b"id": 1, b"\xff": 2}) == {"id": 1, "\ufffd": 2}


# --- Property 4: validation agrees with real encoders; failures give the fallback frame ----------

UINT64_ONLY = st.integers(min_value=2**63, max_value=2**64 - 1)  # msgpack packs these; the spec's range stops at 2**63 - 1
NEAR_SAFE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),
    UINT64_ONLY,
    st.floats(),
    st.text(max_size=10),
    ANY_TEXT,
    st.binary(max_size=5),
    st.text(max_size=5).map(SafeString),
    st.sampled_from([*Level, *Kind]),
    st.datetimes(timezones=TIMEZONES),
    st.decimals(allow_nan=True),
)
NEAR_SAFE_VALUES = graphs(
    SAFE_VALUES
    | st.recursive(
        st.one_of(SAFE_VALUES, NEAR_SAFE_SCALARS),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.tuples(children),
            st.dictionaries(st.text(max_size=4), children, max_size=4),
            st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans(), ANY_TEXT), children, max_size=3),
        ),
        max_leaves=20,
    ),
)


def same_exactly(left: object, right: object) -> bool:
    """Equality that also requires the same types everywhere (dict keys included)."""
    if type(left) is not type(right):
        return False
    if type(left) is list:
        return len(left) == len(right) and all(same_exactly(a, b) for a, b in zip(left, right))  # type: ignore
    if type(left) is dict:
        pairs = list(zip(left.items(), right.items()))  # type: ignore[union-attr]
        return len(left) == len(right) and all(  # type: ignore[arg-type]
            type(k1) is type(k2) and k1 == k2 and same_exactly(v1, v2) for (k1, v1), (k2, v2) in pairs
        )
    return left == right


def lossless_round_trips(value: object) -> bool:
    """The actual attempt: json.dumps(allow_nan=False) + json.loads, and channels_redis's msgpack
    packb + unpackb(strict_map_key=True), both succeed and give ``value`` back with every type kept."""
    try:
        text = json.dumps(value, allow_nan=False)
        unpacked = msgpack.unpackb(msgpack.packb(value), strict_map_key=True)
    except (TypeError, ValueError, OverflowError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return same_exactly(json.loads(text), value) and same_exactly(unpacked, value)


def contains_uint64_only_int(value: object) -> bool:
    stack, seen = [value], set()
    while stack:
        current = stack.pop()
        if type(current) is int and 2**63 <= current < 2**64:
            return True
        if type(current) in (list, dict, tuple) and id(current) not in seen:
            seen.add(id(current))
            stack.extend(current.values() if type(current) is dict else current)  # type: ignore[union-attr]
    return False


def nesting(value: object) -> int:
    """Levels of list/dict nesting (acyclic values only)."""
    if type(value) is list:
        return 1 + max((nesting(item) for item in value), default=0)
    if type(value) is dict:
        return 1 + max((nesting(item) for item in value.values()), default=0)  # type: ignore[union-attr]
    return 0


@given(NEAR_SAFE_VALUES, st.sampled_from([1, 2, 3, MAX_DEPTH]))
def test_property_validation_agrees_with_real_encoders(value: object, max_depth: int) -> None:
    """Feature: messaging-system-fixes, Property 4: Serialization Validation and Fallback

    Which directions hold, precisely (L = lossless_round_trips: json.dumps(allow_nan=False) and
    msgpack packb/unpackb(strict_map_key=True) both succeed and give the value back, types kept):
    * soundness, always: validate_serializable(v) implies L(v);
    * completeness, with two stated exceptions: L(v) implies validate_serializable(v), unless v
      holds an int in [2**63, 2**64) (msgpack packs it unsigned; the channel layer spec's range is
      signed 64-bit) or nests deeper than max_depth.
    So validate(v) == (L(v) and no such int and nesting(v) <= max_depth), tested as an equality.
    """
    serializer = JSONSerializer(max_depth=max_depth)
    verdict = serializer.validate_serializable(value)
    lossless = lossless_round_trips(value)
    event(f"valid={verdict}, lossless={lossless}")
    if verdict:
        assert lossless  # soundness
    expected = lossless and not contains_uint64_only_int(value) and nesting(value) <= max_depth
    assert verdict is expected  # soundness and completeness (with the exceptions above)


def assert_fallback_frame(text: str) -> dict[str, object]:
    frame = json.loads(text, parse_constant=reject_constant)
    assert set(frame) == {"type", "error", "reason"}
    assert frame["type"] == "error" and frame["error"] == "serialization_failed"
    assert isinstance(frame["reason"], str) and frame["reason"]
    assert msgpack_round_trip(frame) == frame
    return frame


@given(st.one_of(NEAR_SAFE_VALUES, ANY_VALUES), st.sampled_from([1, 2, 3, MAX_DEPTH]))
def test_property_invalid_values_give_the_fallback_frame(value: object, max_depth: int) -> None:
    """Feature: messaging-system-fixes, Property 4: Serialization Validation and Fallback

    With convert=False the serializer encodes only what validate_serializable accepts: for a valid
    value encode_or_fallback gives exactly json.dumps(value, allow_nan=False); for every invalid one,
    the fallback frame error_frame("serialization_failed", reason), never an exception.
    """
    serializer = JSONSerializer(convert=False, max_depth=max_depth)
    text = serializer.encode_or_fallback(value)
    event(f"valid={serializer.validate_serializable(value)}")
    if serializer.validate_serializable(value):
        assert text == json.dumps(value, allow_nan=False)
    else:
        assert_fallback_frame(text)
    assert serializer.dumps(value) == text


@given(ANY_VALUES, st.integers(min_value=-40, max_value=40), st.booleans())
def test_property_oversized_payloads_give_the_fallback_frame(value: object, offset: int, sort_keys: bool) -> None:
    """Feature: messaging-system-fixes, Property 4: Serialization Validation and Fallback

    With a size limit, encode_or_fallback gives the JSON text of safe_serialize(value) exactly when
    its UTF-8 size is within max_bytes, and the fallback frame exactly when it is not (max_bytes is
    drawn around the actual size, so both sides of the boundary are tested).
    """
    full = json.dumps(safe_serialize(value), allow_nan=False, sort_keys=sort_keys)
    size = len(full.encode("utf-8"))
    max_bytes = max(1, size + offset)
    serializer = JSONSerializer(max_bytes=max_bytes, sort_keys=sort_keys)
    text = serializer.encode_or_fallback(value)
    event(f"fits={size <= max_bytes}")
    if size <= max_bytes:
        assert text == full
    else:
        frame = assert_fallback_frame(text)
        reason = frame["reason"]
        # Shared references are counted first: when even one byte per value is too many, the reason
        # gives that lower bound (never above the real size) instead of encoding the text.
        counted = re.fullmatch(
            r"the encoded message would be at least (\d+) bytes .*over the limit of (\d+) \(max_bytes\)", reason
        )
        if counted:
            assert max_bytes < int(counted[1]) <= size and int(counted[2]) == max_bytes
        else:
            assert reason == f"the encoded message is {size} bytes, over the limit of {max_bytes} (max_bytes)"
