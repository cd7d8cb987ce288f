"""JSONSerializer as a configured object: options, size limit, convert=False, the fallback frame."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import UUID

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.runtime import (
    MAX_DEPTH,
    JSONSerializer,
    dumps,
    encode_or_fallback,
    error_frame,
    safe_serialize,
    serialize_message,
    validate_serializable,
)
from channels_lint.runtime.serializer import MAX_DEPTH_LIMIT, SERIALIZATION_FAILED


def nested_lists(levels: int) -> list[object]:
    root: list[object] = []
    current = root
    for _ in range(levels - 1):
        inner: list[object] = []
        current.append(inner)
        current = inner
    return root


def depth_of(value: object) -> int:
    levels = 0
    while isinstance(value, list) and value:
        levels += 1
        value = value[0]
    return levels + (1 if value == [] else 0)


# --- construction -------------------------------------------------------------------------------


def test_defaults() -> None:
    serializer = JSONSerializer()
    assert (serializer.sort_keys, serializer.max_depth, serializer.max_bytes, serializer.convert) == (
        False,
        MAX_DEPTH,
        None,
        True,
    )
    assert repr(serializer) == "JSONSerializer(sort_keys=False, max_depth=200, max_bytes=None, convert=True)"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"sort_keys": 1}, TypeError),
        ({"convert": None}, TypeError),
        ({"max_depth": 2.0}, TypeError),
        ({"max_depth": True}, TypeError),
        ({"max_depth": 0}, ValueError),
        ({"max_depth": MAX_DEPTH_LIMIT + 1}, ValueError),
        ({"max_bytes": 0}, ValueError),
        ({"max_bytes": "64k"}, TypeError),
    ],
)
def test_bad_options_raise_at_construction(options: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        JSONSerializer(**options)  # type: ignore[arg-type]


def test_options_are_keyword_only_and_read_only() -> None:
    with pytest.raises(TypeError):
        JSONSerializer(True)  # type: ignore[misc]
    serializer = JSONSerializer(max_depth=1)
    with pytest.raises(AttributeError):
        serializer.max_depth = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        serializer.extra = 1  # type: ignore[attr-defined]


# --- sort_keys, max_depth -----------------------------------------------------------------------


def test_sort_keys() -> None:
    value = {"b": 1, "a": {"d": 2, "c": 3}}
    assert JSONSerializer(sort_keys=True).dumps(value) == '{"a": {"c": 3, "d": 2}, "b": 1}'
    assert JSONSerializer(sort_keys=True).encode_or_fallback(value) == '{"a": {"c": 3, "d": 2}, "b": 1}'
    assert JSONSerializer().dumps(value) == '{"b": 1, "a": {"d": 2, "c": 3}}'
    assert JSONSerializer(sort_keys=True).dumps(value, sort_keys=False) == '{"b": 1, "a": {"d": 2, "c": 3}}'
    assert dumps(value) == '{"b": 1, "a": {"d": 2, "c": 3}}'  # the module function keeps its order


def test_sort_keys_with_stringified_keys() -> None:
    # non-str keys are already strings when json sorts them, so mixed key types cannot make it fail
    assert JSONSerializer(sort_keys=True).dumps({2: "b", "1": "a", None: "n"}) == '{"1": "a", "2": "b", "None": "n"}'


@pytest.mark.parametrize("max_depth", [1, 2, 7, MAX_DEPTH_LIMIT])
def test_max_depth(max_depth: int) -> None:
    serializer = JSONSerializer(max_depth=max_depth)
    assert serializer.safe_serialize(nested_lists(max_depth)) == nested_lists(max_depth)
    assert serializer.validate_serializable(nested_lists(max_depth)) is True
    cut = serializer.safe_serialize(nested_lists(10_000))
    assert depth_of(cut) == max_depth
    assert serializer.validate_serializable(nested_lists(max_depth + 1)) is False
    text = serializer.dumps(nested_lists(10_000))
    assert json.loads(text) == cut
    assert msgpack.unpackb(msgpack.packb(cut)) == cut  # MAX_DEPTH_LIMIT stays under msgpack's 1024 levels


# --- max_bytes and the fallback frame -----------------------------------------------------------


def test_size_limit_boundary_in_utf8_bytes() -> None:
    value = {"text": "é" * 10}
    ascii_text = json.dumps(value)  # "\\u00e9" escapes: 6 ASCII bytes each
    assert JSONSerializer(max_bytes=len(ascii_text)).dumps(value) == ascii_text
    raw_text = json.dumps(value, ensure_ascii=False)
    size = len(raw_text.encode("utf-8"))
    assert size == len(raw_text) + 10  # "é" is 2 bytes in UTF-8
    assert JSONSerializer(max_bytes=size).dumps(value, ensure_ascii=False) == raw_text
    fallback = json.loads(JSONSerializer(max_bytes=size - 1).dumps(value, ensure_ascii=False))
    assert fallback == error_frame(
        "serialization_failed", f"the encoded message is {size} bytes, over the limit of {size - 1} (max_bytes)"
    )


def test_fallback_frame_is_the_error_frame() -> None:
    serializer = JSONSerializer(max_bytes=20)
    text = serializer.encode_or_fallback({"rows": list(range(100))})
    frame = json.loads(text)
    size = len(json.dumps({"rows": list(range(100))}))
    assert frame == {
        "type": "error",
        "error": SERIALIZATION_FAILED,
        "reason": f"the encoded message is {size} bytes, over the limit of 20 (max_bytes)",
    }
    assert frame == error_frame("serialization_failed", frame["reason"])
    assert serializer.fallback_frame("why") == error_frame("serialization_failed", "why")
    assert serializer.fallback_frame("bad \ud800 text") == error_frame("serialization_failed", "bad ? text")
    assert serializer.dumps({"rows": list(range(100))}) == text
    indented = len(json.dumps({"rows": list(range(100))}, indent=1))  # json_kwargs count towards the size
    reason = f"the encoded message is {indented} bytes, over the limit of 20 (max_bytes)"
    expected = json.dumps(error_frame("serialization_failed", reason), indent=1)
    assert serializer.dumps({"rows": list(range(100))}, indent=1) == expected


def test_size_limit_does_not_apply_to_messages() -> None:
    # A fallback *event* would be dispatched to a handler named "error", which consumers lack.
    serializer = JSONSerializer(max_bytes=10)
    event = {"type": "chat.message", "rows": list(range(100))}
    assert serializer.serialize_message(event) == event
    assert serializer.safe_serialize(event) == event


def test_module_functions_have_no_size_limit() -> None:
    big = {"rows": ["x" * 1000] * 1000}
    assert json.loads(encode_or_fallback(big)) == big
    assert json.loads(dumps(big)) == big


def test_invalid_json_kwargs_still_raise() -> None:
    with pytest.raises(TypeError):
        JSONSerializer(max_bytes=5).dumps({"a": 1}, no_such_option=True)
    with pytest.raises(TypeError):
        dumps({"a": 1}, no_such_option=True)


def test_dumps_is_strict_json() -> None:
    value = {"nan": float("nan"), "inf": float("-inf"), "dec": Decimal("NaN")}

    def reject(name: str) -> object:
        raise ValueError(name)

    assert json.loads(dumps(value), parse_constant=reject) == {"nan": None, "inf": None, "dec": "NaN"}
    assert json.loads(JSONSerializer().dumps(value, allow_nan=True), parse_constant=reject)["nan"] is None


# --- convert=False ------------------------------------------------------------------------------


def test_convert_false_encodes_valid_values_unchanged() -> None:
    serializer = JSONSerializer(convert=False, sort_keys=True)
    value = {"b": [1, 2.5, None, True, "é"], "a": {}}
    assert serializer.encode_or_fallback(value) == json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"at": datetime(2024, 1, 2, tzinfo=timezone.utc)}, 'value["at"]: datetime is not a JSON/msgpack primitive'),
        ([1, {"n": 2**64}], 'value[1]["n"]: int outside the signed 64-bit range'),
        ({"x": [float("nan")]}, 'value["x"][0]: NaN or infinity (strict JSON has neither)'),
        ({"k": {1: "one"}}, 'value["k"]: key 1 is not a str'),
        ({"t": (1, 2)}, 'value["t"]: tuple (comes back from msgpack as a list)'),
        ({"s": "a\ud800"}, 'value["s"]: str with a lone surrogate (not UTF-8 encodable)'),
        ([UUID(int=1)], "value[0]: UUID is not a JSON/msgpack primitive"),
        (date(2024, 1, 2), "value: date is not a JSON/msgpack primitive"),
        (nested_lists(4), "value[0][0][0]: nested deeper than max_depth=3"),
    ],
)
def test_convert_false_names_the_first_problem(value: object, reason: str) -> None:
    serializer = JSONSerializer(convert=False, max_depth=3)
    frame = json.loads(serializer.encode_or_fallback(value))
    assert frame == error_frame("serialization_failed", reason + " (convert=False)")
    assert serializer.validate_serializable(value) is False


def test_convert_false_cycle_and_long_path() -> None:
    cyclic: dict[str, object] = {"a": [1]}
    cyclic["a"].append(cyclic)  # type: ignore[attr-defined]
    frame = json.loads(JSONSerializer(convert=False).encode_or_fallback(cyclic))
    assert frame["reason"] == 'value["a"][1]: refers back to a container it is inside (a cycle) (convert=False)'
    deep = json.loads(JSONSerializer(convert=False, max_depth=50).encode_or_fallback(nested_lists(60)))
    assert (
        deep["reason"] == "value[0][0][0][0][0][0]…(38 more)…[0][0][0][0][0][0]: nested deeper than max_depth=50 (convert=False)"
    )


def test_hostile_values_never_raise() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    class Exploding(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("no items")

    for serializer in (JSONSerializer(), JSONSerializer(convert=False), JSONSerializer(max_bytes=1)):
        for value in (Unprintable(), {Unprintable(): 1}, Exploding(a=1), [Exploding()], {"k": Unprintable()}):
            text = serializer.encode_or_fallback(value)
            assert isinstance(json.loads(text), (str, dict, list))


# --- the module functions are the default instance ----------------------------------------------


@given(
    st.recursive(
        st.none() | st.integers() | st.floats() | st.text() | st.dates() | st.decimals(),
        lambda c: st.lists(c) | st.dictionaries(st.integers() | st.text(), c),
        max_leaves=15,
    )
)
def test_property_module_functions_match_the_default_instance(value: object) -> None:
    """The module-level functions behave exactly as a default JSONSerializer (backward compatible)."""
    default = JSONSerializer()
    assert safe_serialize(value) == default.safe_serialize(value)  # the output holds no NaN
    assert json.loads(dumps(value)) == json.loads(default.dumps(value))
    assert dumps(value) == json.dumps(safe_serialize(value))  # the old definition, byte for byte
    assert validate_serializable(value) is default.validate_serializable(value)
    assert serialize_message({"type": "t", "v": value}) == default.serialize_message({"type": "t", "v": value})
    assert encode_or_fallback(value) == dumps(value)
