"""Validate data a client sends over a connection before a consumer uses it.

A WebSocket frame is untrusted: ``text_data`` may be anything, ``bytes_data`` may not be UTF-8,
and ``receive_json``'s ``content`` is whatever ``json.loads`` produced. Channels itself validates
none of it: ``JsonWebsocketConsumer.decode_json`` is plain ``json.loads``, and an exception raised
in ``receive`` kills the consumer without running ``disconnect()`` or discarding its groups
(``channels/generic/websocket.py`` @ 4.3.2 L122-153, ``channels/utils.py`` L32-59;
docs/semantics.md §2.4, §2.5). The helpers here turn every frame into either a checked
``dict`` or a reason, and never raise::

    data = extract_message_data(text_data, required=("message",))
    if data is None:
        return  # or: await self.send_json(check_message_data(text_data).error_frame())

What is rejected, with the :attr:`MessageCheck.error` code:

==========================  =====================================================================
``invalid_utf8``            ``bytes`` that are not UTF-8, or strings holding lone surrogates
                            (``"\\ud800"`` escapes): msgpack and Daphne's ``text.encode("utf8")``
                            both fail on them (docs/semantics.md §6.2 and the serializer).
``invalid_json``            text that is not JSON (RFC 8259), including the ``NaN``/``Infinity``
                            literals that ``json.loads`` accepts by default; ``None`` (a binary
                            frame sent to a text handler) and empty frames.
``not_an_object``           JSON whose top level is not an object (``[]``, ``"x"``, ``5``).
``too_large``               more than ``max_bytes`` bytes of UTF-8 (64 KiB by default). For an
                            already decoded value, a lower bound of its compact JSON size is used.
``too_deep``                containers nested more than ``max_depth`` levels (32 by default); the
                            text is scanned *before* ``json.loads``, whose recursive decoder raises
                            ``RecursionError`` on ``"[" * 100000``.
``number_out_of_range``     integers outside the signed 64-bit range (the channel layer spec,
                            ``docs/channel_layer_spec.rst`` @ 4.3.2 L26-37; channels_redis
                            packs with msgpack, which fails with ``OverflowError``), and numbers
                            that overflow to infinity (``1e400``) or are NaN/infinite.
``invalid_key``             a non-``str`` dict key (only possible in decoded input): msgpack
                            receivers reject them with ``strict_map_key=True`` (§5.3).
``unsupported_type``        a value JSON cannot produce (``set``, ``datetime``, ``bytes``, ...) in
                            decoded input.
``missing_key``             a ``required`` key is absent.
``wrong_type``              a ``required`` key's value has the wrong type.
``invalid_data``            ``schema`` rejected the message.
``invalid_requirement``     ``required`` or ``schema`` is malformed (a programming error, logged).
==========================  =====================================================================

Type rules for ``required=(("count", int),)`` and dict schemas: ``bool`` is *not* accepted where
``int`` or ``float`` is asked for (``True`` is an ``int`` in Python but not a number in JSON);
``int`` is accepted where ``float`` is asked for (JSON has one number type); ``type(None)`` or
``None`` accepts ``null``; a tuple of types accepts any of them; ``object`` accepts anything. A
bare name (``"message"``) only requires the key to be present (its value may be ``null``).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from channels_lint.runtime.frames import error_frame as _error_frame

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "ConnectionValidator",
    "MessageCheck",
    "check_message_data",
    "extract_message_data",
    "safe_get_attribute",
    "validate_connection_data",
]

logger = logging.getLogger("channels_lint.runtime")

DEFAULT_MAX_BYTES = 64 * 1024
"""Default frame size limit, in bytes of UTF-8 (64 KiB)."""

DEFAULT_MAX_DEPTH = 32
"""Default limit on container nesting; the top-level object is depth 1."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: ``required`` entries: a key name, or ``(name, type)`` / ``(name, (type, ...))``.
Requirement = str | tuple[str, type | None | tuple[type | None, ...]]
#: ``schema``: a dict of key -> type, a serializer/form class, or a callable.
Schema = Mapping[str, Any] | Callable[[dict[str, Any]], Any] | type | None

_REASON_LIMIT = 200  # longest reason text taken from a schema's own error messages

# A JSON string (with escapes), a bracket, or an unterminated string's opening quote.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|"', re.DOTALL)


@dataclass(frozen=True)
class MessageCheck:
    """The outcome of :meth:`ConnectionValidator.check_message_data`.

    Attributes:
        data: the checked ``dict`` (what ``schema`` returned, when one was given), or ``None``
            when the frame was rejected.
        reason: one sentence saying why the frame was rejected (``None`` when accepted). It names
            keys and types, never echoes the client's values.
        error: the short machine-readable code (table in the module docstring), or ``None``.
    """

    data: dict[str, Any] | None
    reason: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """``True`` when the frame was accepted (``data`` is a ``dict``)."""
        return self.data is not None

    def error_frame(self, **fields: object) -> dict[str, object] | None:
        """The frame to send back to the client, or ``None`` when the frame was accepted.

        Args:
            fields: extra JSON-safe entries, passed to :func:`channels_lint.runtime.error_frame`.

        Returns:
            ``{"type": "error", "error": <code>, "reason": <sentence>, **fields}``, or ``None``.

        Raises:
            Nothing.
        """
        if self.ok:
            return None
        return _error_frame(self.error or "invalid_data", self.reason or "", **fields)


class _Reject(Exception):
    """Internal: carries an error code and reason out of a json.loads hook or a walk."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


class ConnectionValidator:
    """Checks client data (frames, decoded content) against size, depth and type limits.

    Args:
        max_bytes: largest accepted frame, in bytes of UTF-8 (default 65536).
        max_depth: deepest accepted container nesting, top-level object = 1 (default 32).

    Raises:
        ValueError: from the constructor only, when a limit is not a positive ``int``.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        for name, value in (("max_bytes", max_bytes), ("max_depth", max_depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_bytes={self.max_bytes}, max_depth={self.max_depth})"

    # -- public API --------------------------------------------------------------------------

    def check_message_data(
        self,
        raw: object,
        *,
        required: Iterable[Requirement] | str = (),
        schema: Schema = None,
        max_bytes: int | None = None,
    ) -> MessageCheck:
        """Decode and check one client message.

        Args:
            raw: ``text_data`` (``str``), ``bytes_data`` (``bytes``, ``bytearray`` or
                ``memoryview``, decoded as strict UTF-8), ``None`` (no text frame), or an already
                decoded value such as ``receive_json``'s ``content``.
            required: key names, or ``(name, type)`` pairs (type rules in the module docstring).
                A single ``str`` means one key name.
            schema: ``None``; a dict of key -> type (the same as ``(name, type)`` pairs); a class
                with ``is_valid()`` constructed as ``schema(data=data)`` (a DRF serializer or a
                Django form), whose ``validated_data`` (else ``cleaned_data``) becomes ``data``;
                or a callable ``schema(data)`` returning the cleaned ``dict``, or ``None`` to keep
                ``data`` as it is, and raising (``ValueError``, Django's ``ValidationError``...) to
                reject it. The schema runs after every other check.
            max_bytes: overrides the validator's ``max_bytes`` for this call.

        Returns:
            A :class:`MessageCheck`: ``data`` is a ``dict`` with ``str`` keys whose numbers are
            finite and within signed 64 bits, nested at most ``max_depth`` levels, holding every
            required key with its type; or ``data`` is ``None`` with ``error`` and ``reason`` set.

        Raises:
            Nothing, whatever ``raw`` is. A malformed ``required`` is reported as
            ``invalid_requirement`` and logged; an exception from ``schema`` as ``invalid_data``.
        """
        try:
            limit = self.max_bytes if max_bytes is None else max_bytes
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise _Reject("invalid_requirement", f"max_bytes must be a positive int, got {type(limit).__name__}.")
            requirements = _requirements(required)
            data = self._decode(raw, limit)
            _walk(data, self.max_depth, limit)
            _check_required(data, requirements)
            data = _apply_schema(schema, data)
        except _Reject as rejection:
            if rejection.error == "invalid_requirement":
                logger.error("channels_lint: %s", rejection.reason)
            return MessageCheck(None, rejection.reason, rejection.error)
        except Exception as exc:  # never raise into a consumer
            logger.exception("channels_lint: checking a message failed")
            return MessageCheck(None, f"The message could not be checked ({type(exc).__name__}).", "invalid_data")
        return MessageCheck(data)

    def extract_message_data(
        self,
        raw: object,
        *,
        required: Iterable[Requirement] | str = (),
        schema: Schema = None,
        max_bytes: int | None = None,
    ) -> dict[str, Any] | None:
        """``check_message_data(...).data``: the checked ``dict``, or ``None``.

        Same arguments as :meth:`check_message_data`. Raises nothing.
        """
        return self.check_message_data(raw, required=required, schema=schema, max_bytes=max_bytes).data

    def validate_connection_data(
        self,
        data: object,
        *,
        required: Iterable[Requirement] | str = (),
        schema: Schema = None,
        max_bytes: int | None = None,
    ) -> bool:
        """``True`` when :meth:`check_message_data` accepts ``data``.

        Same arguments as :meth:`check_message_data`. Raises nothing.
        """
        return self.check_message_data(data, required=required, schema=schema, max_bytes=max_bytes).ok

    @staticmethod
    def safe_get_attribute(obj: object, attr: object, default: Any = None) -> Any:
        """``getattr`` that never raises.

        Args:
            obj: any object, e.g. ``self.scope.get("user")``.
            attr: an attribute name, or a dotted path (``"profile.display_name"``) followed one
                attribute at a time.
            default: returned when any step is missing or raises.

        Returns:
            The attribute's value, or ``default`` when ``attr`` is not a non-empty ``str``, an
            attribute is missing, or a property/descriptor/``__getattr__`` raises any
            ``Exception``. That includes ``SynchronousOnlyOperation`` from a lazy foreign key read
            in async code (docs/semantics.md §4.2): it is logged at DEBUG and ``default`` is
            returned, so load related objects before (``select_related``) if you need them.

        Raises:
            Nothing (``BaseException`` such as ``KeyboardInterrupt`` still propagates).
        """
        if not isinstance(attr, str) or not attr:
            return default
        value = obj
        for name in attr.split("."):
            try:
                value = getattr(value, name)
            except Exception as exc:  # noqa: BLE001
                if not isinstance(exc, AttributeError):
                    logger.debug("channels_lint: reading %r raised %s", attr, type(exc).__name__)
                return default
        return value

    # -- steps -------------------------------------------------------------------------------

    def _decode(self, raw: object, limit: int) -> dict[str, Any]:
        if raw is None:
            raise _Reject("invalid_json", "No text frame was received; a JSON object was expected.")
        if isinstance(raw, (bytes, bytearray, memoryview)):
            raw = bytes(raw)
            if len(raw) > limit:
                raise _too_large(len(raw), limit)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Reject("invalid_utf8", f"The frame is not valid UTF-8 (byte {exc.start}).") from None
            return self._loads(text)
        if isinstance(raw, str):
            if len(raw) > limit:  # every character takes at least one byte
                raise _too_large(len(raw), limit)
            try:
                size = len(raw.encode("utf-8"))
            except UnicodeEncodeError as exc:
                raise _Reject("invalid_utf8", f"The text holds a lone surrogate at index {exc.start}.") from None
            if size > limit:
                raise _too_large(size, limit)
            return self._loads(str(raw))
        if isinstance(raw, Mapping) and not isinstance(raw, dict):
            raw = dict(raw)
        if not isinstance(raw, dict):
            raise _Reject("not_an_object", f"A JSON object was expected, got {_json_type(raw)}.")
        return raw

    def _loads(self, text: str) -> dict[str, Any]:
        depth = 0
        for token in _TOKENS.finditer(text):
            char = token.group()
            if char == "[" or char == "{":
                depth += 1
                if depth > self.max_depth:
                    raise _too_deep(self.max_depth)
            elif char == "]" or char == "}":
                depth = max(depth - 1, 0)
            elif char == '"':  # an unterminated string: everything after it is inside it
                break
        try:
            value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
        except json.JSONDecodeError as exc:
            reason = "The frame is empty." if not text.strip() else f"The frame is not valid JSON: {exc.msg} (char {exc.pos})."
            raise _Reject("invalid_json", reason) from None
        except RecursionError:  # not reached after the scan above; kept so a bug cannot crash a consumer
            raise _too_deep(self.max_depth) from None
        if not isinstance(value, dict):
            raise _Reject("not_an_object", f"A JSON object was expected, got {_json_type(value)}.")
        return value


# -- helpers -----------------------------------------------------------------------------------


def _too_large(size: int, limit: int) -> _Reject:
    return _Reject("too_large", f"The message has at least {size} bytes; the limit is {limit}.")


def _too_deep(limit: int) -> _Reject:
    return _Reject("too_deep", f"The message is nested more than {limit} levels deep.")


def _out_of_range() -> _Reject:
    return _Reject("number_out_of_range", "A number is outside the signed 64-bit integer range or not finite.")


def _parse_int(text: str) -> int:
    if len(text) > 20:  # also avoids int()'s 4300-digit ValueError
        raise _out_of_range()
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _out_of_range()
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # "1e400" overflows to inf
        raise _out_of_range()
    return value


def _parse_constant(text: str) -> float:
    raise _Reject("invalid_json", f"The frame is not valid JSON: {text} is not a JSON number.")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


def _utf8_ok(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(data: dict[str, Any], max_depth: int, limit: int) -> None:
    """Check every value of ``data`` iteratively (no recursion, bounded work)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    size = 0  # lower bound of the compact JSON encoding's length
    while stack:
        value, depth = stack.pop()
        size += 1
        if isinstance(value, str):
            size += len(value)
            if not _utf8_ok(value):
                raise _Reject("invalid_utf8", "A string holds a lone surrogate that is not valid UTF-8.")
        elif value is None or isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise _out_of_range()
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _out_of_range()
        elif isinstance(value, (dict, list, tuple)):
            if depth > max_depth:
                raise _too_deep(max_depth)
            if size + len(value) > limit:
                raise _too_large(size + len(value), limit)
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise _Reject("invalid_key", f"A key is {_json_type(key)}, not a string.")
                    if not _utf8_ok(key):
                        raise _Reject("invalid_utf8", "A key holds a lone surrogate that is not valid UTF-8.")
                    size += len(key) + 1
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        else:
            raise _Reject("unsupported_type", f"A value is {_json_type(value)}, which JSON cannot carry.")
        if size > limit:
            raise _too_large(size, limit)


_Types = tuple[type | None, ...]


def _requirements(required: object) -> list[tuple[str, _Types | None]]:
    if isinstance(required, str):
        required = (required,)
    try:
        entries = list(required)  # type: ignore[call-overload]
    except TypeError:
        raise _Reject(
            "invalid_requirement", f"required must be an iterable of names or (name, type) pairs, got {type(required).__name__}."
        ) from None
    result: list[tuple[str, _Types | None]] = []
    for entry in entries:
        if isinstance(entry, str):
            result.append((entry, None))
        elif isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str):
            result.append((entry[0], _types(entry[0], entry[1])))
        else:
            raise _Reject("invalid_requirement", f"A required entry must be a name or a (name, type) pair, got {entry!r}.")
    return result


def _types(name: str, spec: object) -> _Types:
    specs = spec if isinstance(spec, tuple) else (spec,)
    for item in specs:
        if item is not None and not isinstance(item, type):
            raise _Reject(
                "invalid_requirement", f"The type given for key {name!r} must be a type or a tuple of types, got {item!r}."
            )
    return tuple(type(None) if item is None else item for item in specs)


def _type_ok(value: object, types: _Types) -> bool:
    for expected in types:
        assert expected is not None
        if expected is object:
            return True
        if isinstance(value, bool) and expected in (int, float):
            continue
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return True
        if isinstance(value, expected):
            return True
    return False


def _type_names(types: _Types) -> str:
    names = ["null" if t is type(None) else getattr(t, "__name__", str(t)) for t in types]
    return " or ".join(names)


def _check_required(data: dict[str, Any], requirements: list[tuple[str, _Types | None]]) -> None:
    for name, types in requirements:
        if name not in data:
            raise _Reject("missing_key", f"Key {name!r} is missing.")
        if types is not None and not _type_ok(data[name], types):
            raise _Reject("wrong_type", f"Key {name!r} must be {_type_names(types)}, got {_json_type(data[name])}.")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


def _error_text(errors: object) -> str:
    if isinstance(errors, Mapping):
        parts = []
        for key, value in errors.items():
            items = value if isinstance(value, (list, tuple)) else [value]
            parts.append(f"{key}: {' '.join(str(item) for item in items)}")
        return "; ".join(parts)
    return str(errors)


def _exception_text(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)  # django.core.exceptions.ValidationError
    if isinstance(messages, list) and messages:
        return " ".join(str(message) for message in messages)
    if isinstance(exc, (ValueError, TypeError, LookupError)) and str(exc):
        return str(exc)
    return f"rejected ({type(exc).__name__})"


def _apply_schema(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    if schema is None:
        return data
    if isinstance(schema, Mapping):
        requirements = []
        for key, spec in schema.items():
            if not isinstance(key, str):
                raise _Reject("invalid_requirement", f"A schema key must be a str, got {key!r}.")
            requirements.append((key, _types(key, spec)))
        _check_required(data, requirements)
        return data
    if isinstance(schema, type) and callable(getattr(schema, "is_valid", None)):
        try:
            form = schema(data=data)
            valid = form.is_valid()
        except Exception as exc:  # noqa: BLE001
            raise _Reject(
                "invalid_data", _short(f"The message failed {schema.__name__}: {_exception_text(exc).rstrip('.')}.")
            ) from None
        if not valid:
            errors = _error_text(getattr(form, "errors", None) or "invalid").rstrip(".")
            raise _Reject("invalid_data", _short(f"The message failed {schema.__name__}: {errors}."))
        cleaned = getattr(form, "validated_data", None)
        if cleaned is None:
            cleaned = getattr(form, "cleaned_data", None)
        if not isinstance(cleaned, Mapping):
            raise _Reject("invalid_requirement", f"{schema.__name__} has neither validated_data nor cleaned_data.")
        return dict(cleaned)
    if callable(schema):
        try:
            result = schema(data)
        except Exception as exc:  # noqa: BLE001
            raise _Reject("invalid_data", _short(f"The message was rejected: {_exception_text(exc).rstrip('.')}.")) from None
        if result is None:
            return data
        if isinstance(result, Mapping):
            return dict(result)
        raise _Reject("invalid_requirement", f"The schema returned {type(result).__name__}, not a dict or None.")
    raise _Reject(
        "invalid_requirement", f"schema must be a dict, a class with is_valid(), or a callable, got {type(schema).__name__}."
    )


# -- module-level API: a default validator -----------------------------------------------------

_DEFAULT = ConnectionValidator()


def check_message_data(
    raw: object,
    *,
    required: Iterable[Requirement] | str = (),
    schema: Schema = None,
    max_bytes: int | None = None,
) -> MessageCheck:
    """:meth:`ConnectionValidator.check_message_data` with the default limits (64 KiB, depth 32)."""
    return _DEFAULT.check_message_data(raw, required=required, schema=schema, max_bytes=max_bytes)


def extract_message_data(
    raw: object,
    *,
    required: Iterable[Requirement] | str = (),
    schema: Schema = None,
    max_bytes: int | None = None,
) -> dict[str, Any] | None:
    """:meth:`ConnectionValidator.extract_message_data` with the default limits: a ``dict`` or ``None``."""
    return _DEFAULT.check_message_data(raw, required=required, schema=schema, max_bytes=max_bytes).data


def validate_connection_data(
    data: object,
    *,
    required: Iterable[Requirement] | str = (),
    schema: Schema = None,
    max_bytes: int | None = None,
) -> bool:
    """:meth:`ConnectionValidator.validate_connection_data` with the default limits."""
    return _DEFAULT.check_message_data(data, required=required, schema=schema, max_bytes=max_bytes).ok


def safe_get_attribute(obj: object, attr: object, default: Any = None) -> Any:
    """:meth:`ConnectionValidator.safe_get_attribute`: ``getattr`` (dotted paths allowed) that never raises."""
    return ConnectionValidator.safe_get_attribute(obj, attr, default)
