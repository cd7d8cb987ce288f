"""Regression tests for the serializer bugs a tester reported (issue 12)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.runtime import JSONSerializer, dumps, safe_serialize, serialize_message, validate_serializable
from channels_lint.runtime.serializer import _int_text_chunked


def msgpack_round_trip(value: object) -> object:
    """What channels_redis 4.3.0's MsgPackSerializer does: packb/unpackb with msgpack defaults."""
    return msgpack.unpackb(msgpack.packb(value), strict_map_key=True)


# --- a type whose __name__ raises or lies (metaclass property) ----------------------------------


class RaisingNameMeta(type):
    @property
    def __name__(cls) -> str:  # type: ignore[override]
        raise RuntimeError("no name")


class SurrogateNameMeta(type):
    @property
    def __name__(cls) -> str:  # type: ignore[override]
        return "\ud800"


class NamelessUnprintable(metaclass=RaisingNameMeta):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class SurrogateUnprintable(metaclass=SurrogateNameMeta):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class NamelessPrintable(metaclass=RaisingNameMeta):
    def __str__(self) -> str:
        return "printable"


def run(thunk: Callable[[], object]) -> object:
    """Call ``thunk``; turn an exception into a plain assertion failure.

    Objects whose type's ``__name__`` raises crash pytest's own reporting (reprlib and saferepr read
    ``type(x).__name__``), so they must appear neither in a failing traceback's arguments nor in an
    assert expression: the tests pass them only inside lambdas and assert on the results.
    """
    try:
        return thunk()
    except Exception as error:
        raise AssertionError(f"raised {type(error).__qualname__}: {error}") from None


def test_type_name_that_raises_does_not_raise() -> None:
    """Issue 12: ``type(value).__name__`` raising made safe_serialize raise."""
    value = NamelessUnprintable()
    printable = NamelessPrintable()
    premise = run(lambda: pytest.raises(RuntimeError, lambda: type(value).__name__))
    assert premise is not None  # the metaclass property really raises
    marker = "<unserializable NamelessUnprintable>"
    assert run(lambda: safe_serialize(value)) == marker
    assert run(lambda: safe_serialize({value: 1})) == {marker: 1}
    assert run(lambda: safe_serialize([value, printable])) == [marker, "printable"]
    assert run(lambda: validate_serializable(value)) is False
    assert run(lambda: serialize_message({"type": "t", "x": value})) == {"type": "t", "x": marker}
    assert json.loads(run(lambda: dumps(value))) == marker  # type: ignore[arg-type]
    frame = json.loads(run(lambda: JSONSerializer(convert=False).encode_or_fallback({"x": value})))  # type: ignore
    assert frame["error"] == "serialization_failed"
    assert frame["reason"] == 'value["x"]: NamelessUnprintable is not a JSON/msgpack primitive (convert=False)'


def test_surrogate_type_name_is_not_emitted() -> None:
    """Issue 12: a lone surrogate reached the output (msgpack rejects it) through a faked type name."""
    value = {"x": SurrogateUnprintable(), "y": [SurrogateUnprintable()]}
    result = run(lambda: safe_serialize(value))
    marker = "<unserializable SurrogateUnprintable>"
    assert result == {"x": marker, "y": [marker]}
    assert msgpack_round_trip(result) == result
    assert validate_serializable(result) is True


@given(st.text(st.characters(categories=["Cs", "Lu", "Nd"]), min_size=1, max_size=8))
def test_property_no_lone_surrogate_reaches_the_output(name: str) -> None:
    """Whatever text a metaclass claims as the type name, or a value's str() returns, the output packs."""

    class LyingMeta(type):
        @property
        def __name__(cls) -> str:  # type: ignore[override]
            return name

    class Hostile(metaclass=LyingMeta):
        def __str__(self) -> str:
            raise RuntimeError

    class Talker:
        def __str__(self) -> str:
            return name

    value = {name: [Hostile(), Talker(), name], "k": {Hostile(): name}}
    result = run(lambda: safe_serialize(value))
    assert msgpack_round_trip(result) == result
    assert validate_serializable(result) is True
    frame = JSONSerializer().fallback_frame(name)
    assert msgpack_round_trip(frame) == frame  # the fallback frame is clean too


# --- ints past Python's int-to-str digit limit ---------------------------------------------------


def test_huge_int_gives_its_digits() -> None:
    """Issue 12: 10**5000 became "<unserializable int>"; it must give its decimal digits."""
    limit = sys.get_int_max_str_digits()
    assert safe_serialize(10**5000) == "1" + "0" * 5000
    assert safe_serialize(-(10**5000) - 7) == "-1" + "0" * 4999 + "7"
    assert safe_serialize({10**5000: [2**70000]})[("1" + "0" * 5000)][0][-5:] == str(2**70000 % 10**5).zfill(5)  # type: ignore
    assert json.loads(dumps({"n": 10**5000}))["n"] == "1" + "0" * 5000
    assert sys.get_int_max_str_digits() == limit  # the interpreter-wide limit is left alone


def test_huge_int_under_the_smallest_digit_limit() -> None:
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        assert safe_serialize(10**700 + 1) == "1" + "0" * 699 + "1"
        assert safe_serialize([-(10**641)]) == ["-1" + "0" * 641]
    finally:
        sys.set_int_max_str_digits(limit)


@given(st.integers(min_value=-(10**3000), max_value=10**3000) | st.integers())
def test_property_chunked_digits_match_str(number: int) -> None:
    """The fallback used without the C decimal module gives exactly str(int)'s digits."""
    assert _int_text_chunked(number) == str(number)
    if number:
        assert _int_text_chunked(number * 10**2000) == str(number) + "0" * 2000


# --- shared references: linear in distinct objects ----------------------------------------------


class CountingList(list):  # type: ignore[type-arg]
    """A list that counts how often it is iterated, and stops the test once it is clearly exponential."""

    iterations = 0
    budget = 10_000

    def __iter__(self) -> Iterator[object]:
        CountingList.iterations += 1
        if CountingList.iterations > CountingList.budget:
            raise RuntimeError("iterated far more often than there are objects")
        return super().__iter__()


def doubled(levels: int, factory: type = list, bottom: object = None) -> list[object]:
    """``a = [a, a]`` ``levels`` times: 2**levels paths, ``levels + 1`` distinct lists."""
    value: list[object] = factory([] if bottom is None else [bottom])
    for _ in range(levels):
        value = factory([value, value])
    return value


def same(left: object, right: object, seen: set[tuple[int, int]] | None = None) -> bool:
    """Structural equality (types included) that compares each pair of shared objects once."""
    seen = set() if seen is None else seen
    if left is right:
        return True
    if type(left) is not type(right):
        return False
    if isinstance(left, (list, dict)):
        pair = (id(left), id(right))
        if pair in seen:
            return True
        seen.add(pair)
        if isinstance(left, list):
            return len(left) == len(right) and all(same(a, b, seen) for a, b in zip(left, right))  # type: ignore
        return list(left) == list(right) and all(same(left[k], right[k], seen) for k in left)  # type: ignore
    return left == right


def check_doubled(result: object, levels: int, bottom: object) -> None:
    """``result`` has the shape of ``doubled(levels, bottom=bottom)``, checked level by level."""
    assert same(result, doubled(levels, bottom=bottom))
    current = result
    for _ in range(levels):
        assert isinstance(current, list) and len(current) == 2
        assert same(current[0], current[1])
        current = current[0]
    assert current == ([] if bottom is None else [bottom])


def test_shared_references_are_expanded_once() -> None:
    """Issue 12: 20 levels of ``a = [a, a]`` took 8.9 s (2**20 expansions); now each list once."""
    CountingList.iterations = 0
    value = doubled(40, CountingList, bottom=1.5)
    result = safe_serialize(value)
    assert CountingList.iterations == 41  # one iteration per distinct list
    check_doubled(result, 40, 1.5)
    inner = result
    for _ in range(30):
        inner = inner[0]  # type: ignore[index]
    assert same(msgpack_round_trip(inner), doubled(10, bottom=1.5))  # 1024 paths: small enough to pack
    assert validate_serializable(result) is True
    assert same(safe_serialize(result), result)  # idempotent, still linear


def test_shared_references_near_the_depth_limit() -> None:
    """A list shared at different depths is cut where it is too deep, and only there."""
    shared = [[[1]]]  # height 3
    value = [shared, [[shared]]]  # shared at depth 1 and 3
    assert JSONSerializer(max_depth=5).safe_serialize(value) == [[[[1]]], [[[["<max depth>"]]]]]
    assert JSONSerializer(max_depth=6).safe_serialize(value) == [[[[1]]], [[[[[1]]]]]]
    assert JSONSerializer(max_depth=5).validate_serializable(value) is False
    assert JSONSerializer(max_depth=6).validate_serializable(value) is True
    deep_first = [[[shared]], shared]  # the deeper, cut copy comes first this time
    assert JSONSerializer(max_depth=5).safe_serialize(deep_first) == [[[[["<max depth>"]]]], [[[1]]]]


def test_shared_references_with_cycles_stay_linear() -> None:
    """Doubled lists whose bottom refers back to the root: cycles and sharing at once."""
    CountingList.iterations = 0
    root = CountingList()
    root.append(doubled(40, CountingList, bottom=root))
    result = safe_serialize(root)
    assert CountingList.iterations <= 2 * 42
    current = result[0]
    for _ in range(40):
        current = current[0]
    assert current == ["<cycle>"]
    assert validate_serializable(result) is True


def test_validate_shared_references_is_linear() -> None:
    """validate_serializable inspects each shared list once (counted with a profiler budget)."""
    calls = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
            if calls > 20_000:
                raise RuntimeError("far more calls than there are objects")

    value = doubled(40, bottom=1.5)
    sys.setprofile(profile)
    try:
        verdict = validate_serializable(value)
    finally:
        sys.setprofile(None)
    assert verdict is True
    assert calls < 20_000
    assert validate_serializable(doubled(40, bottom=float("nan"))) is False


def tree_copy(value: object) -> object:
    """A copy of an acyclic value in which no list/dict/tuple is shared (shared ones are copied)."""
    if type(value) is list:
        return [tree_copy(item) for item in value]
    if type(value) is tuple:
        return tuple(tree_copy(item) for item in value)
    if type(value) is dict:
        return {key: tree_copy(item) for key, item in value.items()}
    return value


LEAVES = st.none() | st.integers() | st.text(max_size=3) | st.dates() | st.sets(st.integers(), max_size=2)


@st.composite
def shared_dags(draw: st.DrawFn) -> object:
    """Acyclic values where later containers reuse earlier ones (shared references at any depth)."""
    pool: list[object] = [draw(LEAVES)]
    for _ in range(draw(st.integers(1, 12))):
        items = draw(st.lists(st.sampled_from(pool) | LEAVES, max_size=4))
        kind = draw(st.sampled_from(["list", "tuple", "dict"]))
        if kind == "list":
            pool.append(list(items))
        elif kind == "tuple":
            pool.append(tuple(items))
        else:
            pool.append({f"k{index}": item for index, item in enumerate(items)})
    return pool[-1] if draw(st.booleans()) else pool


@given(shared_dags(), st.integers(min_value=1, max_value=8))
def test_property_shared_references_convert_like_copies(value: object, max_depth: int) -> None:
    """Reusing a shared container's result never changes the output: converting a value with shared
    references gives what converting a copy without sharing gives, at any depth limit."""
    serializer = JSONSerializer(max_depth=max_depth)
    assert serializer.safe_serialize(value) == serializer.safe_serialize(tree_copy(value))
    assert serializer.validate_serializable(value) is serializer.validate_serializable(tree_copy(value))


def test_encoding_shared_references_cannot_blow_up() -> None:
    """The converted value shares lists (linear), but JSON text writes them out: 2**levels values.
    Encoding counts the values first and gives the fallback frame rather than building the text.
    (If the count were missing, these sizes stay small enough to encode: the test fails, not hangs.)"""
    frame = json.loads(JSONSerializer(max_bytes=1000).encode_or_fallback(doubled(22)))
    assert frame["error"] == "serialization_failed"
    assert frame["reason"].startswith(f"the encoded message would be at least {2**23 - 1} bytes")
    frame = json.loads(dumps(doubled(24)))  # no size limit: the fixed ceiling applies
    assert frame["reason"] == (
        f"the encoded message would hold {2**25 - 1} values (shared references written out), more than 10000000"
    )
    frame = json.loads(JSONSerializer(convert=False).encode_or_fallback(doubled(24)))
    assert frame["error"] == "serialization_failed"
    assert json.loads(dumps(doubled(10))) == json.loads(json.dumps(doubled(10)))  # small ones encode as usual
    assert JSONSerializer(max_bytes=10**6).dumps(doubled(10)) == json.dumps(doubled(10))
