"""CHN301: ``json.loads`` of client data without handling malformed JSON."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Rule

JSON_LOADS = frozenset({"json.loads"})
#: Exceptions that catch json.JSONDecodeError (a ValueError subclass, CPython json/decoder.py).
CATCHES_DECODE_ERROR = frozenset(
    {"json.JSONDecodeError", "json.decoder.JSONDecodeError", "ValueError", "Exception", "BaseException"}
)
CLIENT_DATA_PARAMETERS = frozenset({"text_data", "bytes_data"})
RECEIVE_HANDLERS = frozenset({"receive", "websocket_receive"})


class UnguardedJsonLoads(Rule):
    """
    ## What it does
    Checks for `json.loads(text_data)` / `json.loads(bytes_data)` (and
    `json.loads(event["text"])` in `websocket_receive`) in a consumer's receive handler that
    is not inside a `try` catching `json.JSONDecodeError` or `ValueError`.

    ## Why is this bad?
    The frame comes from the client and can be anything. Channels does not catch exceptions
    raised by handlers (`channels/utils.py` `await_many_dispatch`): one malformed frame kills
    the consumer, the server closes the socket (Daphne sends 1011), and because
    `disconnect()` never runs, the channel stays in its groups until `group_expiry`.

    ## Example
    ```python
    import json

    from channels.generic.websocket import AsyncWebsocketConsumer


    class TelemetryConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            data = json.loads(text_data)
    ```

    Use instead:
    ```python
    import json

    from channels.generic.websocket import AsyncWebsocketConsumer


    class TelemetryConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            try:
                data = json.loads(text_data)
            except json.JSONDecodeError:
                await self.send(text_data='{"error": "invalid JSON"}')
                return
    ```

    ## Fix safety
    No fix: what to do with a malformed frame (ignore it, answer with an error, close the
    connection) is the application's decision.
    """

    code = "CHN301"
    markers = (("loads", "receive"),)
    name = "unguarded-json-loads"

    valid = (
        """
import json
from channels.generic.websocket import WebsocketConsumer

class C(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
        except (KeyError, ValueError):
            return

    def helper(self, text_data):
        return json.loads(text_data)
""",
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call in a.nodes(ast.Call):
            if not a.resolves_to(call.func, JSON_LOADS) or not call.args:
                continue
            method = a.enclosing_scope(call)
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name not in RECEIVE_HANDLERS:
                continue
            if a.consumer_of(call) is None or not self._is_client_data(call.args[0], method):
                continue
            if self._guarded(call):
                continue
            yield self.violation(
                call,
                f"`{a.source(call)}` raises on a malformed client frame and the exception closes the "
                "socket without running `disconnect()`; catch `json.JSONDecodeError`",
            )

    @staticmethod
    def _is_client_data(argument: ast.expr, method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        parameters = {arg.arg for arg in method.args.args + method.args.kwonlyargs}
        if isinstance(argument, ast.Name):
            return argument.id in CLIENT_DATA_PARAMETERS and argument.id in parameters
        if isinstance(argument, ast.Subscript) and isinstance(argument.value, ast.Name):
            key = argument.slice
            return (
                argument.value.id in parameters
                and argument.value.id != "self"
                and isinstance(key, ast.Constant)
                and key.value in ("text", "bytes")
            )
        return False

    def _guarded(self, call: ast.Call) -> bool:
        a = self.analysis
        child: ast.AST = call
        for parent in a.ancestors(call):
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return False
            if isinstance(parent, (ast.Try, ast.TryStar)) and child in parent.body:
                if any(self._catches(handler) for handler in parent.handlers):
                    return True
            child = parent
        return False

    def _catches(self, handler: ast.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return any(self.analysis.qualname(kind) in CATCHES_DECODE_ERROR for kind in types)
