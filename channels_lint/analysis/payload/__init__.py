"""Payloads: values that msgpack (channels_redis), ``json.dumps`` or the ASGI server reject.

Facts (docs/semantics.md §5.2, §5.3, §6.1, §6.2): the channel layer spec allows only str,
bytes, 64-bit ints, floats, bools, ``None``, lists and dicts with str keys; msgpack rejects
datetimes, UUIDs, Decimals, sets, plain Enum members, lazy translation strings, model
instances, querysets and ints past 64 bits, and a non-str key is sent but breaks every
receiver; ``json.dumps`` rejects the same values (ints of any size and int/None/bool keys
excepted) plus bytes.  Which serializer rejects which :class:`PayloadKind` is data in
:mod:`.facts` (``MSGPACK_REJECTS``, ``JSON_REJECTS``).

The analyzer answers:

* :meth:`Payloads.in_value` / :meth:`Payloads.in_shape`: the values of known kind in a
  payload, reached through literals, comprehensions, names, ``self.<attr>``, helper returns
  (the flow layer) and model fields the models index knows;
* :meth:`Payloads.value_type`: the Python type an expression certainly has (``str``,
  ``dict``...), for the frame and HTTP checks;
* :attr:`Payloads.json_sinks`: where consumer code hands a value to a JSON encoder;
* :meth:`Payloads.passes_on`: whether an event handler only hands a key's value on to a
  plain JSON encoder (what makes converting it in the sender keep the meaning).

The analyzer is one class built in layers, one module each: :mod:`.types` (Python types,
constant ints), :mod:`.values` (values of known kind, keys, enums), :mod:`.sinks` (JSON sinks,
consumer methods, text frames) and :mod:`.handlers` (event types, handler pass-on).  Every
public name is importable from ``channels_lint.analysis.payload``.
"""

from __future__ import annotations

from channels_lint.analysis.payload.handlers import EventHandlers
from channels_lint.analysis.payload.sinks import JsonSink, JsonSinks, SinkKind
from channels_lint.analysis.payload.types import PythonTypes
from channels_lint.analysis.payload.values import PayloadValues, UnsafeValue


class Payloads(EventHandlers):
    """Classifies payload values (see the module docstring)."""


__all__ = ["EventHandlers", "JsonSink", "JsonSinks", "PayloadValues", "Payloads", "PythonTypes", "SinkKind", "UnsafeValue"]
