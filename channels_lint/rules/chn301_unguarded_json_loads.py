"""CHN301: ``json.loads`` of client data without handling malformed JSON."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule

JSON_LOADS = frozenset({"json.loads"})
#: Exceptions that catch json.JSONDecodeError (a ValueError subclass, CPython json/decoder.py).
CATCHES_DECODE_ERROR = frozenset(
    {"json.JSONDecodeError", "json.decoder.JSONDecodeError", "ValueError", "Exception", "BaseException"}
)
CLIENT_DATA_PARAMETERS = frozenset({"text_data", "bytes_data"})
RECEIVE_HANDLERS = frozenset({"receive", "websocket_receive"})
#: ``try`` and, on Python 3.11+, ``try``/``except*``.


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
import contextlib
import json
from channels.generic.websocket import WebsocketConsumer

class C(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
        except (KeyError, ValueError):
            return
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(s=text_data)

    def helper(self, text_data):
        return json.loads(text_data)
""",
    )

    invalid = (
        Invalid(
            """
import json
from channels.consumer import AsyncConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(s=text_data)  # error
        try:
            other = json.loads(bytes_data)  # error
        except KeyError:
            pass

class Raw(AsyncConsumer):
    async def websocket_receive(self, event):
        payload = json.loads(event["text"])  # error
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call in a.syntax.nodes(ast.Call):
            if not a.names.resolves_to(call.func, JSON_LOADS):
                continue
            data = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "s"), None)
            if data is None:
                continue
            method = a.syntax.enclosing_scope(call)
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name not in RECEIVE_HANDLERS:
                continue
            if a.consumers.of(call) is None or not self._is_client_data(data, method):
                continue
            if self._guarded(call):
                continue
            yield self.violation(
                call,
                f"`{a.syntax.source(call)}` raises on a malformed client frame and the exception closes the "
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
        for guard, expression in a.syntax.guards(call):
            if guard == "except" and self._catches(expression):
                return True
            if (
                guard == "with"
                and isinstance(expression, ast.Call)
                and a.names.resolves_to(expression.func, "contextlib.suppress")
                and any(self._catches(kind) for kind in expression.args)
            ):
                return True
        return False

    def _catches(self, kind: ast.expr | None) -> bool:
        """Whether an ``except`` clause (``None``: bare) or ``suppress`` argument catches it."""
        if kind is None:
            return True
        kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
        return any(self.analysis.names.qualname(k) in CATCHES_DECODE_ERROR for k in kinds)
