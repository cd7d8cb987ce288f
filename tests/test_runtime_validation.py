"""Tests for channels_lint.runtime.validation (issue 9: connection data)."""

from __future__ import annotations

import json
import logging
import math
from types import MappingProxyType

import msgpack
import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django import forms
from django.core.exceptions import SynchronousOnlyOperation, ValidationError
from hypothesis import event, given
from hypothesis import strategies as st

from channels_lint.runtime import (
    ConnectionValidator,
    MessageCheck,
    check_message_data,
    error_frame,
    extract_message_data,
    safe_get_attribute,
    validate_connection_data,
)
from channels_lint.runtime.validation import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, INT64_MAX, INT64_MIN

ERROR_CODES = {
    "invalid_utf8",
    "invalid_json",
    "not_an_object",
    "too_large",
    "too_deep",
    "number_out_of_range",
    "invalid_key",
    "unsupported_type",
    "missing_key",
    "wrong_type",
    "invalid_data",
    "invalid_requirement",
}


def nested(depth: int) -> str:
    """A JSON object whose containers nest ``depth`` levels (the object itself is level 1)."""
    return '{"a":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


# -- rejections, one per error code --------------------------------------------------------------

REJECTED = [
    (b"\xff\xfe{}", "invalid_utf8"),
    (b'{"a": "\xc3"}', "invalid_utf8"),
    ('{"a": "\\ud800"}', "invalid_utf8"),  # a lone surrogate escape: msgpack cannot encode it
    ('{"a": "\ud800"}', "invalid_utf8"),  # the same character given directly
    ({"a": "\udfff"}, "invalid_utf8"),
    ("not json", "invalid_json"),
    ("{'a': 1}", "invalid_json"),
    ('{"a": NaN}', "invalid_json"),
    ('{"a": Infinity}', "invalid_json"),
    ('{"a": -Infinity}', "invalid_json"),
    ("", "invalid_json"),
    ("   ", "invalid_json"),
    (None, "invalid_json"),
    ("\ufeff{}", "invalid_json"),
    ("[]", "not_an_object"),
    ('"text"', "not_an_object"),
    ("5", "not_an_object"),
    ("null", "not_an_object"),
    ([1, 2], "not_an_object"),
    (7, "not_an_object"),
    ("x" * (DEFAULT_MAX_BYTES + 1), "too_large"),
    (b"x" * (DEFAULT_MAX_BYTES + 1), "too_large"),
    ('{"a": "' + "é" * (DEFAULT_MAX_BYTES // 2) + '"}', "too_large"),  # few characters, many bytes
    ({"a": "x" * DEFAULT_MAX_BYTES}, "too_large"),
    ({"a": list(range(DEFAULT_MAX_BYTES))}, "too_large"),
    (nested(DEFAULT_MAX_DEPTH + 1), "too_deep"),
    ('{"a": 9223372036854775808}', "number_out_of_range"),
    ('{"a": -9223372036854775809}', "number_out_of_range"),
    ('{"a": ' + "1" * 5000 + "}", "number_out_of_range"),  # int() alone raises ValueError (4300 digits)
    ('{"a": 1e400}', "number_out_of_range"),
    ('{"a": -1e400}', "number_out_of_range"),
    ({"a": 2**64}, "number_out_of_range"),
    ({"a": float("nan")}, "number_out_of_range"),
    ({"a": [float("inf")]}, "number_out_of_range"),
    ({1: "a"}, "invalid_key"),
    ({"a": {None: 1}}, "invalid_key"),
    ({"a": {1, 2}}, "unsupported_type"),
    ({"a": b"bytes"}, "unsupported_type"),
    ({"a": object()}, "unsupported_type"),
]


@pytest.mark.parametrize(("raw", "code"), REJECTED, ids=[f"{code}-{i}" for i, (_, code) in enumerate(REJECTED)])
def test_rejected_frames_give_their_code_and_a_reason(raw, code):
    check = check_message_data(raw)
    assert check == MessageCheck(None, check.reason, code)
    assert isinstance(check.reason, str) and check.reason.endswith(".")
    assert not check.ok
    assert extract_message_data(raw) is None
    assert validate_connection_data(raw) is False
    assert check.error_frame() == {"type": "error", "error": code, "reason": check.reason}
    assert check.error_frame(request_id=3) == error_frame(code, check.reason, request_id=3)


def test_a_deep_frame_is_rejected_before_json_loads_could_recurse():
    frame = "[" * 100_000
    with pytest.raises(RecursionError):
        json.loads(frame)  # the hazard the pre-scan avoids
    validator = ConnectionValidator(max_bytes=10**6)
    assert validator.check_message_data(frame).error == "too_deep"
    assert validator.check_message_data('{"a": ' + frame).error == "too_deep"
    assert validator.check_message_data("{" * 100_000).error == "too_deep"


def test_brackets_inside_strings_do_not_count_as_depth():
    text = json.dumps({"a": "[" * 1000, "b": '\\"[[[[', "c": "{{{{"})
    assert extract_message_data(text) == json.loads(text)


def test_an_unterminated_string_is_invalid_json_not_too_deep():
    assert check_message_data('{"a": "' + "[" * 100).error == "invalid_json"


def test_limits_are_inclusive():
    at_limit = nested(DEFAULT_MAX_DEPTH)
    assert extract_message_data(at_limit) == json.loads(at_limit)
    padding = DEFAULT_MAX_BYTES - len('{"a":""}')
    exact = '{"a":"' + "x" * padding + '"}'
    assert len(exact.encode()) == DEFAULT_MAX_BYTES
    assert extract_message_data(exact) == {"a": "x" * padding}
    assert extract_message_data(exact.encode()) == {"a": "x" * padding}
    assert check_message_data(exact, max_bytes=DEFAULT_MAX_BYTES - 1).error == "too_large"
    assert extract_message_data({"a": INT64_MAX, "b": INT64_MIN}) == {"a": INT64_MAX, "b": INT64_MIN}
    assert extract_message_data(json.dumps({"a": INT64_MAX, "b": INT64_MIN})) == {"a": INT64_MAX, "b": INT64_MIN}


def test_configured_limits():
    small = ConnectionValidator(max_bytes=12, max_depth=2)
    assert small.extract_message_data('{"a":[1]}') == {"a": [1]}
    assert small.check_message_data('{"a":[[1]]}').error == "too_deep"
    assert small.check_message_data('{"a":"0123456789"}').error == "too_large"
    assert small.check_message_data('{"a":"0123456789"}', max_bytes=100).ok
    assert repr(small) == "ConnectionValidator(max_bytes=12, max_depth=2)"
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError):
            ConnectionValidator(max_bytes=bad)
        with pytest.raises(ValueError):
            ConnectionValidator(max_depth=bad)


def test_accepted_inputs():
    assert extract_message_data('{"message": "hi"}') == {"message": "hi"}
    assert extract_message_data(b'{"message": "h\xc3\xa9"}') == {"message": "hé"}
    assert extract_message_data(bytearray(b'{"a": 1}')) == {"a": 1}
    assert extract_message_data(memoryview(b'{"a": 1}')) == {"a": 1}
    content = {"message": "hi", "n": [1, 2.5, None, True]}
    assert extract_message_data(content) is content  # receive_json's content, checked in place
    assert extract_message_data(MappingProxyType({"a": 1})) == {"a": 1}
    assert extract_message_data({"t": (1, 2)}) == {"t": (1, 2)}
    assert extract_message_data('{"pair": "\\ud83d\\ude00"}') == {"pair": "😀"}  # a valid surrogate pair
    check = check_message_data('{"a": 1}')
    assert check == MessageCheck({"a": 1}) and check.ok and check.error_frame() is None


def test_a_cyclic_decoded_value_is_too_deep_not_a_hang():
    cyclic: dict[str, object] = {}
    cyclic["self"] = cyclic
    assert check_message_data(cyclic).error == "too_deep"


# -- required keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("required", "data", "expected"),
    [
        (("message",), {"message": None}, None),
        ("message", {"message": 1}, None),  # one name given as a str
        (("message",), {}, "missing_key"),
        ((("message", str),), {"message": "x"}, None),
        ((("message", str),), {"message": None}, "wrong_type"),
        ((("count", int),), {"count": 3}, None),
        ((("count", int),), {"count": True}, "wrong_type"),  # a JSON boolean is not a number
        ((("count", int),), {"count": 2.0}, "wrong_type"),
        ((("ratio", float),), {"ratio": 2}, None),  # JSON has one number type
        ((("ratio", float),), {"ratio": False}, "wrong_type"),
        ((("flag", bool),), {"flag": False}, None),
        ((("flag", bool),), {"flag": 0}, "wrong_type"),
        ((("maybe", (str, None)),), {"maybe": None}, None),
        ((("maybe", (str, type(None))),), {"maybe": "x"}, None),
        ((("maybe", (str, None)),), {"maybe": 1}, "wrong_type"),
        ((("items", list),), {"items": []}, None),
        ((("items", dict),), {"items": []}, "wrong_type"),
        ((("any", object),), {"any": [1]}, None),
        (("a", ("b", int)), {"a": 1, "b": "x"}, "wrong_type"),
    ],
)
def test_required_keys_and_types(required, data, expected):
    check = check_message_data(json.dumps(data), required=required)
    assert check.error == expected
    assert (check.data == data) is (expected is None)


def test_wrong_type_reason_names_the_key_and_types_but_not_the_value():
    check = check_message_data('{"message": "secret-value"}', required=[("message", int)])
    assert check.reason == "Key 'message' must be int, got a string."


@pytest.mark.parametrize("required", [5, [("a",)], [("a", "str")], [(1, str)], [None], [("a", 3)]])
def test_malformed_requirements_are_reported_and_logged(required, caplog):
    with caplog.at_level(logging.ERROR, logger="channels_lint.runtime"):
        check = check_message_data('{"a": 1}', required=required)
    assert check.error == "invalid_requirement"
    assert check.data is None
    assert "channels_lint" in caplog.text


# -- schemas --------------------------------------------------------------------------------------


class ChatForm(forms.Form):
    message = forms.CharField(max_length=5)
    count = forms.IntegerField(min_value=0)


class FakeSerializer:
    """The part of DRF's Serializer API the validator uses."""

    def __init__(self, data):
        self.initial_data = data
        self.errors: dict[str, list[str]] = {}

    def is_valid(self):
        if not isinstance(self.initial_data.get("name"), str):
            self.errors = {"name": ["This field is required."]}
            return False
        self.validated_data = {"name": self.initial_data["name"].strip()}
        return True


def test_dict_schema_is_required_pairs():
    assert extract_message_data('{"a": "x", "b": 1}', schema={"a": str}) == {"a": "x", "b": 1}
    assert check_message_data('{"a": 1}', schema={"a": str}).error == "wrong_type"
    assert check_message_data("{}", schema={"a": str}).error == "missing_key"
    assert check_message_data("{}", schema={1: str}).error == "invalid_requirement"


def test_django_form_schema_returns_cleaned_data():
    assert extract_message_data('{"message": "hi", "count": "3"}', schema=ChatForm) == {"message": "hi", "count": 3}
    check = check_message_data('{"message": "too long", "count": -1}', schema=ChatForm)
    assert check.error == "invalid_data"
    assert check.reason.startswith("The message failed ChatForm: ")
    assert "message: Ensure this value has at most 5 characters" in check.reason
    assert "count: Ensure this value is greater than or equal to 0." in check.reason


def test_serializer_like_schema_returns_validated_data():
    assert extract_message_data('{"name": "  ada "}', schema=FakeSerializer) == {"name": "ada"}
    check = check_message_data('{"name": 1}', schema=FakeSerializer)
    assert (check.error, check.reason) == ("invalid_data", "The message failed FakeSerializer: name: This field is required.")


def test_callable_schema():
    assert extract_message_data('{"a": 1}', schema=lambda d: {**d, "b": 2}) == {"a": 1, "b": 2}
    assert extract_message_data('{"a": 1}', schema=lambda d: None) == {"a": 1}

    def reject(data):
        raise ValueError("a must be even")

    def django_reject(data):
        raise ValidationError(["first problem", "second problem"])

    def broken(data):
        raise RuntimeError("internal detail")

    assert check_message_data('{"a": 1}', schema=reject).reason == "The message was rejected: a must be even."
    assert (
        check_message_data('{"a": 1}', schema=django_reject).reason == "The message was rejected: first problem second problem."
    )
    hidden = check_message_data('{"a": 1}', schema=broken)
    assert (hidden.error, hidden.reason) == ("invalid_data", "The message was rejected: rejected (RuntimeError).")
    assert check_message_data('{"a": 1}', schema=lambda d: [1]).error == "invalid_requirement"
    assert check_message_data('{"a": 1}', schema="nope").error == "invalid_requirement"


def test_schema_runs_after_the_safety_checks():
    calls = []
    assert check_message_data('{"a": 1e400}', schema=calls.append).error == "number_out_of_range"
    assert calls == []


def test_long_schema_reasons_are_cut():
    def reject(data):
        raise ValueError("x" * 1000)

    assert len(check_message_data("{}", schema=reject).reason) == 200


def test_an_internal_failure_is_reported_not_raised(monkeypatch, caplog):
    from channels_lint.runtime import validation

    def explode(*args):
        raise MemoryError

    monkeypatch.setattr(validation, "_walk", explode)
    with caplog.at_level(logging.ERROR, logger="channels_lint.runtime"):
        check = check_message_data('{"a": 1}')
    assert (check.error, check.reason) == ("invalid_data", "The message could not be checked (MemoryError).")
    assert "checking a message failed" in caplog.text


# -- safe_get_attribute ---------------------------------------------------------------------------


class Profile:
    display_name = "Ada"

    @property
    def broken(self):
        raise RuntimeError("property failed")

    @property
    def lazy_fk(self):
        raise SynchronousOnlyOperation("You cannot call this from an async context")


class User:
    username = "ada"
    profile = Profile()

    def __getattr__(self, name):
        raise KeyError(name)


def test_safe_get_attribute():
    user = User()
    assert safe_get_attribute(user, "username") == "ada"
    assert safe_get_attribute(user, "profile.display_name") == "Ada"
    assert safe_get_attribute(user, "missing", "d") == "d"  # __getattr__ raising KeyError
    assert safe_get_attribute(user, "profile.broken", 0) == 0
    assert safe_get_attribute(user, "profile.lazy_fk") is None
    assert safe_get_attribute(None, "username", "anon") == "anon"
    assert safe_get_attribute(user, "", 1) == 1
    assert safe_get_attribute(user, 5, 1) == 1
    assert safe_get_attribute(user, "profile.display_name.upper")() == "ADA"
    assert ConnectionValidator.safe_get_attribute(user, "username") == "ada"


# -- a consumer that uses it ----------------------------------------------------------------------


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        check = check_message_data(text_data if text_data is not None else bytes_data, required=[("message", str)])
        if not check.ok:
            await self.send(text_data=json.dumps(check.error_frame()))
            return
        await self.send(text_data=json.dumps({"echo": check.data["message"]}))


@pytest.mark.asyncio
async def test_a_consumer_survives_hostile_frames():
    communicator = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
    connected, _ = await communicator.connect()
    assert connected
    hostile = ["not json", "[" * 100_000, '{"message": 1e999}', '{"other": 1}', "[1]"]
    for frame in hostile:
        await communicator.send_to(text_data=frame)
        reply = json.loads(await communicator.receive_from())
        assert reply["type"] == "error" and reply["error"] in ERROR_CODES
    await communicator.send_to(bytes_data=b"\xff")
    assert json.loads(await communicator.receive_from())["error"] == "invalid_utf8"
    await communicator.send_to(text_data='{"message": "still here"}')
    assert json.loads(await communicator.receive_from()) == {"echo": "still here"}
    await communicator.disconnect()


# -- Property 5 -----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # unbounded: includes numbers outside signed 64 bits
    st.floats(),  # includes NaN and infinities (json.dumps writes NaN/Infinity literals)
    st.text(),
    st.sampled_from(["\ud800", "\udfff", "a\udc80b"]),  # lone surrogates: valid str, invalid UTF-8
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)
deep_frames = st.builds(
    lambda depth, opener, inner: opener * depth + inner,
    st.integers(0, 5000),
    st.sampled_from(["[", '{"a":', '[{"b":']),
    st.sampled_from(["", "1", "]" * 3, "}"]),
)
huge_numbers = st.builds(
    lambda digits, exponent: '{"n": ' + digits + exponent + "}",
    st.text("0123456789-", min_size=1, max_size=6000),
    st.sampled_from(["", "e400", "e-400", ".5", "E+308"]),
)
decoded_values = st.recursive(
    json_scalars | st.sets(st.integers(), max_size=2) | st.binary(max_size=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3) | st.integers() | st.none(), children, max_size=3)
    ),
    max_leaves=20,
)
big_frames = st.integers(DEFAULT_MAX_BYTES - 12, DEFAULT_MAX_BYTES).map(lambda n: '{"a":"' + "x" * n + '"}')
frames = st.one_of(
    big_frames,
    st.binary(max_size=300),
    st.text(max_size=300),
    json_values.map(json.dumps),
    json_values.map(lambda value: json.dumps(value).encode("utf-8", "surrogatepass")),
    st.dictionaries(st.sampled_from(["message", "count", "x"]), json_values, max_size=3).map(json.dumps),
    deep_frames,
    huge_numbers,
    decoded_values,
)
requirements = st.lists(
    st.sampled_from(["message", "count", ("message", str), ("count", int), ("count", float), ("x", (list, dict, None))]),
    max_size=3,
)


def depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def assert_safe(data: dict, required: list) -> None:
    assert isinstance(data, dict)
    assert depth_of(data) <= DEFAULT_MAX_DEPTH
    text = json.dumps(data, allow_nan=False)  # strict JSON: no NaN/Infinity, str keys only
    assert msgpack.unpackb(msgpack.packb(data), strict_map_key=True) == json.loads(text)  # channels_redis-safe
    stack: list[object] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            assert all(isinstance(key, str) for key in value)
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            assert INT64_MIN <= value <= INT64_MAX
        elif isinstance(value, float):
            assert math.isfinite(value)
    for entry in required:
        name, types = (entry, None) if isinstance(entry, str) else entry
        assert name in data
        if types is not None:
            expected = tuple(type(None) if t is None else t for t in (types if isinstance(types, tuple) else (types,)))
            value = data[name]
            assert not isinstance(value, bool) or bool in expected
            assert isinstance(value, expected) or (float in expected and isinstance(value, int))


@given(raw=frames, required=requirements)
def test_property_connection_data_safety(raw, required):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety"""
    check = check_message_data(raw, required=required)  # must not raise, whatever raw is
    event(check.error or "accepted")
    assert extract_message_data(raw, required=required) == check.data
    if check.data is not None:
        assert check.error is None and check.reason is None
        assert_safe(check.data, required)
        if isinstance(raw, (str, bytes)):
            size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
            assert size <= DEFAULT_MAX_BYTES
    else:
        assert check.error in ERROR_CODES
        assert isinstance(check.reason, str) and check.reason
        assert check.error_frame() == {"type": "error", "error": check.error, "reason": check.reason}


safe_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(INT64_MIN, INT64_MAX),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"])),
)
safe_objects = st.dictionaries(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=5),
    st.recursive(
        safe_scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=5), children, max_size=4)
        ),
        max_leaves=30,
    ),
    max_size=5,
)


@given(obj=safe_objects, as_bytes=st.booleans())
def test_property_connection_data_safety_accepts_every_safe_object(obj, as_bytes):
    """Feature: messaging-system-fixes, Property 5: Connection Data Safety"""
    text = json.dumps(obj, ensure_ascii=as_bytes)
    raw = text.encode() if as_bytes else text
    assert extract_message_data(raw) == obj
    assert extract_message_data(obj) == obj
    assert validate_connection_data(raw, required=list(obj)) is True
