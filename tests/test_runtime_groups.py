"""Tests for channels_lint.runtime.groups: safe_group_name and safe_query_params (issue 9)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from urllib.parse import urlencode

import pytest
from channels.layers import BaseChannelLayer, InMemoryChannelLayer
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.runtime import safe_group_name, safe_query_params
from channels_lint.runtime.groups import MAX_GROUP_NAME_LENGTH
from tests.conftest import REDIS_HOST, REDIS_PORT, ROOT, require_service

#: stricter than Channels' own regex (whose ``$`` admits a trailing newline and ``\d`` Unicode digits)
STRICT = re.compile(r"[A-Za-z0-9_.-]{1,99}\Z")
LAYER = BaseChannelLayer()


def assert_valid(name: str) -> None:
    assert STRICT.match(name), name
    assert LAYER.require_valid_group_name(name) is True  # channels/layers.py @ 4.3.2 L164-169


def test_the_installed_channels_rule_is_the_one_documented():
    assert BaseChannelLayer.MAX_NAME_LENGTH == 100
    assert MAX_GROUP_NAME_LENGTH == BaseChannelLayer.MAX_NAME_LENGTH - 1
    assert LAYER.require_valid_group_name("a" * 99)
    for bad in ("a" * 100, "", "room 1", "café", "a:b", "a/b", "a!b"):
        with pytest.raises(TypeError, match="Group name must be a valid unicode string with length < 100"):
            LAYER.require_valid_group_name(bad)
    # looser than it looks: both pass Channels' check, and safe_group_name never produces either
    assert LAYER.require_valid_group_name("room\n") and LAYER.require_valid_group_name("room٣")


@pytest.mark.parametrize(
    ("parts", "prefix", "expected"),
    [
        (("chat", "lobby"), "", "chat.lobby"),
        (("lobby",), "chat", "chat.lobby"),
        (("room-1_A",), "", "room-1_A"),
        ((42,), "chat", "chat.42"),
        (("a" * 99,), "", "a" * 99),
    ],
)
def test_plain_parts_are_kept_readable(parts, prefix, expected):
    assert safe_group_name(*parts, prefix=prefix) == expected


@pytest.mark.parametrize(
    ("parts", "readable"),
    [
        (("chat", "café"), "chat.cafe"),
        (("chat", "Zürich Main"), "chat.Zurich_Main"),
        (("a.b",), "a_b"),
        (("chat", "room\n"), "chat.room"),
        (("chat", "room٣"), "chat.room"),
        (("chat", "日本語"), "chat"),
        (("",), "g"),
        ((), "g"),
        (("chat", "\ud800"), "chat"),
        (("a" * 100,), "a" * 75),
    ],
)
def test_other_parts_get_a_readable_stem_and_a_hash(parts, readable):
    name = safe_group_name(*parts)
    assert_valid(name)
    stem, _, digest = name.partition("..")
    assert stem == readable
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", digest)
    assert name == safe_group_name(*parts)  # stable


def test_parts_that_could_collide_give_different_names():
    names = {
        safe_group_name("a.b"),
        safe_group_name("a", "b"),
        safe_group_name("a_b"),
        safe_group_name("a", "", "b"),
        safe_group_name("a..b"),
        safe_group_name("ab"),
        safe_group_name("a.b", "c"),
        safe_group_name("a", "b.c"),
        safe_group_name("café"),
        safe_group_name("cafe"),
        safe_group_name("cafe\u0301"),  # é written as e + combining accent
        safe_group_name("a" * 100),
        safe_group_name("a" * 101),
        safe_group_name(""),
        safe_group_name(),
        safe_group_name("", ""),
    }
    assert len(names) == 16


def test_prefix_is_a_leading_part():
    assert safe_group_name("x", prefix="chat") == safe_group_name("chat", "x")
    assert safe_group_name("x", prefix="") == safe_group_name("x")
    assert safe_group_name("é", prefix="chat") == safe_group_name("chat", "é")


def test_a_part_whose_str_raises_is_replaced(caplog):
    class Bad:
        def __str__(self):
            raise RuntimeError("no")

    name = safe_group_name("chat", Bad())
    assert_valid(name)
    assert "str() of a Bad group name part raised" in caplog.text


def test_names_are_the_same_in_another_process():
    parts = ("chat", "café ☕", "x" * 120)
    code = f"from channels_lint.runtime import safe_group_name; print(safe_group_name(*{parts!r}))"
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout.strip()
    assert other == safe_group_name(*parts)


@pytest.mark.asyncio
async def test_in_memory_layer_accepts_the_names():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    for parts in [("chat", "Zürich Main"), ("topic", "a/b:c"), ("x" * 200,)]:
        name = safe_group_name(*parts)
        await layer.group_add(name, channel)
        await layer.group_send(name, {"type": "hello", "parts": list(parts)})
        assert (await layer.receive(channel))["parts"] == list(parts)


# -- properties -----------------------------------------------------------------------------------

#: characters chosen to provoke collisions: separators, look-alikes, accents, digits
TRICKY = st.text(st.sampled_from("aAb-_.. é\u0301٣\n:/!😀") | st.characters(), max_size=12)
part_lists = st.lists(TRICKY, max_size=5)


@given(parts=part_lists, prefix=st.sampled_from(["", "chat", "é", "a.b"]))
def test_property_group_names_are_always_valid(parts, prefix):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety"""
    name = safe_group_name(*parts, prefix=prefix)
    assert_valid(name)
    assert safe_group_name(*parts, prefix=prefix) == name


@given(inputs=st.lists(part_lists, min_size=2, max_size=8, unique_by=tuple))
def test_property_distinct_parts_give_distinct_names(inputs):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety"""
    names = [safe_group_name(*parts) for parts in inputs]
    assert len(set(names)) == len(inputs)


@pytest.mark.services
@pytest.mark.asyncio
@given(parts=part_lists)
async def test_property_redis_layer_accepts_the_names(parts):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety

    One real group_add / group_send / receive / group_discard on channels_redis per example; the
    number of examples (so of Redis round trips) is the Hypothesis profile's.
    """
    from channels_redis.core import RedisChannelLayer

    require_service("Redis", REDIS_HOST, REDIS_PORT)  # the redis_url fixture cannot be used under @given
    layer = RedisChannelLayer(
        hosts=[f"redis://{REDIS_HOST}:{REDIS_PORT}/0"], prefix=f"channels-lint-groups-{uuid.uuid4().hex[:8]}"
    )
    try:
        name = safe_group_name(*parts)
        channel = await layer.new_channel()
        await layer.group_add(name, channel)
        await layer.group_send(name, {"type": "hello", "name": name})
        assert await layer.receive(channel) == {"type": "hello", "name": name}
        await layer.group_discard(name, channel)
    finally:
        await layer.flush()
        await layer.close_pools()


# -- safe_query_params ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        (b"room=lobby&room=kitchen&x=1", {"room": ["lobby", "kitchen"], "x": ["1"]}),
        (b"room=&flag", {"room": [""], "flag": [""]}),
        (b"q=a+b%2Bc", {"q": ["a b+c"]}),
        (b"name=caf%C3%A9", {"name": ["café"]}),
        ("name=café".encode(), {"name": ["café"]}),  # raw UTF-8 bytes some clients send
        (b"name=%FF%FE", {"name": ["\ufffd\ufffd"]}),
        (b"name=\xff", {"name": ["\ufffd"]}),
        (b"a=1;b=2", {"a": ["1;b=2"]}),  # ';' is not a separator (Python >= 3.10, as in Django)
        (b"", {}),
        ("room=lobby", {"room": ["lobby"]}),
        (bytearray(b"a=1"), {"a": ["1"]}),
        (memoryview(b"a=1"), {"a": ["1"]}),
        (None, {}),
        (5, {}),
    ],
)
def test_safe_query_params(query_string, expected):
    assert safe_query_params({"type": "websocket", "query_string": query_string}) == expected


def test_safe_query_params_odd_scopes():
    assert safe_query_params({}) == {}
    assert safe_query_params(None) == {}
    assert safe_query_params("query_string=x") == {}


def test_safe_query_params_reads_at_most_max_fields():
    query = "&".join(f"k{i}=v" for i in range(2000)).encode()
    params = safe_query_params({"query_string": query})
    assert len(params) == 1000 and "k999" in params and "k1000" not in params
    assert safe_query_params({"query_string": b"a=1&b=2"}, max_fields=1) == {"a": ["1"]}
    assert safe_query_params({"query_string": b"a=1"}, max_fields=0) == {}


def test_safe_query_params_never_raises(caplog):
    class Exploding(dict):
        def get(self, *args):
            raise RuntimeError("boom")

    assert safe_query_params(Exploding()) == {}
    assert "parsing the query string failed" in caplog.text


no_surrogates = st.text(st.characters(exclude_categories=["Cs"]))


@given(params=st.dictionaries(no_surrogates, st.lists(no_surrogates, min_size=1, max_size=3), max_size=5))
def test_property_query_params_round_trip(params):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety"""
    query = urlencode(params, doseq=True).encode("ascii")
    assert safe_query_params({"query_string": query}) == {k: v for k, v in params.items()}


@given(raw=st.binary(max_size=200) | st.text(max_size=200))
def test_property_query_params_never_raise(raw):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety"""
    params = safe_query_params({"query_string": raw})
    assert isinstance(params, dict)
    assert all(isinstance(k, str) and all(isinstance(v, str) for v in values) for k, values in params.items())
