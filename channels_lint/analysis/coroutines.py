"""Coroutine calls: which calls return a coroutine that must be awaited.

Facts (docs/semantics.md §2.2, §3.1, §3.3): channel-layer methods, the async consumer
methods Channels defines, ``channels.auth.login``/``logout``/``get_user`` and
``database_sync_to_async(f)(...)`` are coroutines; so are a module's own ``async def``
functions and methods (not async generators) and functions decorated with a bridge.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass

from channels_lint.analysis.consumers import Consumers
from channels_lint.analysis.context import ExecutionContext
from channels_lint.analysis.crossmodule import CrossModule
from channels_lint.analysis.facts import COMMUNICATOR_COROUTINES, COMMUNICATORS, KNOWN_COROUTINE_FUNCTIONS
from channels_lint.analysis.layer import ChannelLayer
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax, dotted


class CoroutineKind(enum.Enum):
    LAYER_METHOD = "layer-method"  # self.channel_layer.group_send(...)
    BRIDGE_CALL = "bridge-call"  # database_sync_to_async(f)(...)
    LIBRARY_FUNCTION = "library-function"  # channels.auth.login(...)
    MODULE_FUNCTION = "module-function"  # an async def of this module
    OWN_METHOD = "own-method"  # self.m() where m is an async def of the class
    CONSUMER_METHOD = "consumer-method"  # self.send() on an async consumer


@dataclass(frozen=True, kw_only=True)
class CoroutineCall:
    """A call that returns a coroutine: ``callee`` is the expression called."""

    call: ast.Call
    kind: CoroutineKind
    callee: ast.expr


class Coroutines:
    """Which calls of one module return coroutines."""

    def __init__(
        self,
        syntax: Syntax,
        names: Names,
        context: ExecutionContext,
        consumers: Consumers,
        layer: ChannelLayer,
        cross: CrossModule | None = None,
        flow=None,
    ) -> None:
        self.flow = flow
        self.syntax = syntax
        self.names = names
        self.context = context
        self.consumers = consumers
        self.layer = layer
        self.cross = cross

    def of(self, call: ast.Call) -> CoroutineCall | None:
        """Why calling ``call`` returns a coroutine, or ``None`` when that is not proven."""
        func = call.func
        if any(layer.call is call and layer.bridge is None for layer in self.layer.calls):
            return CoroutineCall(call=call, kind=CoroutineKind.LAYER_METHOD, callee=func)
        if isinstance(func, ast.Call) and self.context.is_bridge(func.func):
            return CoroutineCall(call=call, kind=CoroutineKind.BRIDGE_CALL, callee=func)
        qualified = self.names.qualname(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if qualified in KNOWN_COROUTINE_FUNCTIONS:
            return CoroutineCall(call=call, kind=CoroutineKind.LIBRARY_FUNCTION, callee=func)
        if isinstance(func, ast.Attribute) and func.attr in COMMUNICATOR_COROUTINES and self._is_communicator(func.value):
            return CoroutineCall(call=call, kind=CoroutineKind.LIBRARY_FUNCTION, callee=func)
        if isinstance(func, ast.Name) and func.id not in self.names.imports:
            function = self.names.module_functions.get(func.id)
            if function is not None and self.returns_coroutine(function):
                return CoroutineCall(call=call, kind=CoroutineKind.MODULE_FUNCTION, callee=func)
            return None
        fact = self.cross.callee(call) if self.cross is not None else None
        if fact is not None:
            if not fact.coroutine:
                return None
            kind = (
                CoroutineKind.OWN_METHOD
                if isinstance(func, ast.Attribute) and dotted(func.value) == "self"
                else CoroutineKind.MODULE_FUNCTION
            )
            return CoroutineCall(call=call, kind=kind, callee=func)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            cls = self.syntax.enclosing_class(call)
            if cls is None:
                return None
            method = self.names.class_methods(cls).get(func.attr)
            if method is not None:
                return (
                    CoroutineCall(call=call, kind=CoroutineKind.OWN_METHOD, callee=func)
                    if self.returns_coroutine(method)
                    else None
                )
            consumer = self.consumers.by_class.get(cls)
            if (
                consumer is not None
                and consumer.is_async
                and func.attr in consumer.channels_methods
                and func.attr not in consumer.inherited
            ):
                return CoroutineCall(call=call, kind=CoroutineKind.CONSUMER_METHOD, callee=func)
        return None

    def _is_communicator(self, node: ast.expr) -> bool:
        """A name or attribute every value of which is a Channels test communicator."""
        values = self.flow.values(node) if self.flow is not None else None
        return bool(values) and all(
            isinstance(v, ast.Call) and self.names.resolves_to(v.func, COMMUNICATORS) for v in values
        )

    def returns_awaitable(self, method: ast.FunctionDef) -> bool:
        """Whether a sync ``def`` returns an awaitable (``return self.channel_layer.group_discard(...)``,
        ``return super().encode_json(content)``): Channels awaits what a handler returns, so
        such a sync override of a coroutine method is correct."""
        for node in ast.walk(method):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                call = node.value
                if self.of(call) is not None:
                    return True
                func = call.func
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and dotted(func.value.func) == "super":
                    return True
        return False

    def returns_coroutine(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        if isinstance(function, ast.AsyncFunctionDef):
            return not self.syntax.is_async_generator(function)
        return any(self.context.is_bridge(decorator) for decorator in function.decorator_list)
