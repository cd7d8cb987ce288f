"""The channel layer: which expressions are a layer, its method calls, and the events sent.

Facts (docs/semantics.md §2.2, §2.3, §5): every channel-layer method is a coroutine,
``get_channel_layer()`` is sync; an event's ``"type"`` names its handler after ``.`` -> ``_``
(``channels/consumer.py`` ``get_handler_name``).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from channels_lint.analysis.facts import ASYNC_TO_SYNC, GET_CHANNEL_LAYER, LAYER_METHODS
from channels_lint.analysis.flow import DictShape, ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax, dotted


@dataclass(frozen=True)
class LayerCall:
    """A channel-layer method call, e.g. ``self.channel_layer.group_send(g, event)``.

    ``call`` is the call that passes the arguments.  In the bridged form
    ``async_to_sync(layer.group_send)(g, event)`` ``bridge`` is the inner
    ``async_to_sync(...)`` call; otherwise it is ``None``.
    """

    call: ast.Call
    method: str
    receiver: ast.expr
    bridge: ast.Call | None

    @property
    def args(self) -> list[ast.expr]:
        return self.call.args

    def argument(self, position: int, keyword: str) -> ast.expr | None:
        """The argument at ``position`` or passed as ``keyword``, else ``None``."""
        if len(self.call.args) > position and not any(isinstance(arg, ast.Starred) for arg in self.call.args[: position + 1]):
            return self.call.args[position]
        for kw in self.call.keywords:
            if kw.arg == keyword:
                return kw.value
        return None


@dataclass(frozen=True)
class Event:
    """An event passed to ``send``/``group_send``.

    ``argument`` is the expression as written; ``shape`` what the value-flow layer proves
    about the dict (``None``: not provably a dict built in this module); ``type`` the
    ``"type"`` every path gives as one literal str, else ``None``.
    """

    layer_call: LayerCall
    argument: ast.expr
    shape: DictShape | None
    type: str | None

    @property
    def call(self) -> ast.Call:
        return self.layer_call.call


class ChannelLayer:
    """Channel-layer calls and events of one module."""

    def __init__(self, syntax: Syntax, names: Names, flow: ValueFlow) -> None:
        self.syntax = syntax
        self.names = names
        self.flow = flow

    def is_layer(self, node: ast.expr) -> bool:
        """``self.channel_layer``, ``get_channel_layer()``, or a name every reaching value of
        which is one of those."""
        if isinstance(node, ast.Attribute) and node.attr == "channel_layer":
            return dotted(node) == "self.channel_layer"
        if isinstance(node, ast.Call):
            return self.names.resolves_to(node.func, GET_CHANNEL_LAYER)
        if isinstance(node, ast.Name):
            values = self.flow.values(node)
            return bool(values) and all(not isinstance(v, ast.Name) and self.is_layer(v) for v in values)
        return False

    @functools.cached_property
    def calls(self) -> list[LayerCall]:
        """Every call of a channel-layer method, direct or through ``async_to_sync``."""
        found = []
        for call in self.syntax.nodes(ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in LAYER_METHODS and self.is_layer(func.value):
                found.append(LayerCall(call, func.attr, func.value, None))
            elif (
                isinstance(func, ast.Call)
                and self.names.resolves_to(func.func, ASYNC_TO_SYNC)
                and func.args
                and isinstance(func.args[0], ast.Attribute)
                and func.args[0].attr in LAYER_METHODS
                and self.is_layer(func.args[0].value)
            ):
                found.append(LayerCall(call, func.args[0].attr, func.args[0].value, func))
        return found

    @functools.cached_property
    def events(self) -> list[Event]:
        """Every event passed to ``send``/``group_send``."""
        found = []
        for layer_call in self.calls:
            if layer_call.method not in ("send", "group_send"):
                continue
            argument = layer_call.argument(1, "message")
            if argument is None:
                continue
            shape = self.flow.dict_shape(argument)
            found.append(Event(layer_call, argument, shape, _literal_type(shape)))
        return found

    @functools.cached_property
    def handler_names(self) -> frozenset[str]:
        """Handler names of the event types this module sends (``chat.message`` ->
        ``chat_message``)."""
        return frozenset(event.type.replace(".", "_") for event in self.events if event.type is not None)


def _literal_type(shape: DictShape | None) -> str | None:
    if shape is None:
        return None
    values = shape.values_of("type")
    if not values or not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
        return None
    texts = {v.value for v in values}
    return texts.pop() if len(texts) == 1 else None
