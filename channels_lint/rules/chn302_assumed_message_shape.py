"""CHN302: decoded client JSON used with a shape nobody checked."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.client import ANY, CheckKind, ClientSource, ClientValue
from channels_lint.analysis.facts import SHAPE_ERROR_CATCHERS
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.connection import VALIDATOR_IMPORTS, failure, validator_fix

#: Checks that validate everything below the checked value.
VALIDATED = frozenset({CheckKind.SCHEMA, CheckKind.PROJECT})


class AssumedMessageShape(Rule):
    """
    ## What it does
    Checks for decoded client JSON (what `json.loads(text_data)` returns, `receive_json`'s
    `content`, and the values read from them) read with an assumed shape: a subscript
    (`data["message"]`, `data["user"]["id"]`) or `data.pop("message")` with nothing before it
    that checks the key (`"message" in data`, `data.get("message")`) or the type
    (`isinstance(data, dict)`), when the data went through no schema (a DRF serializer, a
    form, pydantic, jsonschema, the runtime's `extract_message_data`, a project
    `validate*`/`clean*` function) and no `try` around the use catches `KeyError`,
    `TypeError`, `AttributeError` or `Exception`.

    ## Why is this bad?
    Valid JSON is not a valid message: `{}` has no `"message"` (`KeyError`), `[1]` is a list
    (`TypeError` on `["message"]`, `AttributeError` on `.get`), `"x"` and `5` are neither. The
    exception kills the consumer: the socket closes (1011), `disconnect()` never runs and the
    channel stays in its groups until `group_expiry` (docs/semantics.md §2.5, §11.2).

    ## Example
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class ChatConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content, **kwargs):
            await self.send_json({"echo": content["message"]})
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class ChatConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content, **kwargs):
            if not isinstance(content, dict) or "message" not in content:
                await self.send_json({"error": "a message is required"})
                return
            await self.send_json({"echo": content["message"]})
    ```

    ## Fix safety
    For `data = json.loads(text_data)` in a websocket consumer's `receive`, where `data` is
    only used as a JSON object, the fix decodes with
    `channels_lint.runtime.extract_message_data(text_data, required=(...))`, `required` being
    the keys read on every path, and answers `None` with an `error_frame` and a `return`
    (the same fix as CHN301). It is unsafe: it adds a production import of
    `channels_lint.runtime`, and refuses frames that used to pass (numbers outside 64 bits,
    `NaN`, deep nesting, more than 64 KiB). Keys read only on some paths keep their finding,
    without a fix.

    ## Known problems
    A check counts when it comes earlier in the same function, whatever it concluded (a
    membership test in an unrelated branch silences a later read). Data passed to a helper
    method is not followed. `.get()`, `.items()` and the other dict methods are not reported:
    they raise `AttributeError` on a frame that is not an object, but `content.get("type")` is
    the idiom projects use to check a message, and it is not told apart from the rest.
    """

    code = "CHN302"
    markers = (
        ("loads", "receive", "["),
        ("loads", "text_data", "["),
        ("loads", "body", "["),
        ("loads", "receive", ".pop("),
        ("receive_json", "["),
        ("receive_json", ".pop("),
        ("decode_json", "["),
        ("extract_message_data", "["),
    )
    name = "assumed-message-shape"
    fix_applicability = Applicability.UNSAFE

    valid = (
        # checks: isinstance, membership, .get, schemas, try, the runtime validator
        """
import json
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from pydantic import BaseModel
from rest_framework import serializers
from channels_lint.runtime import extract_message_data

class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()

class Chat(BaseModel):
    message: str

class Dispatcher(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "chat" and "message" in content:
            await self.send_json({"echo": content["message"]})
        if content.get("room"):
            await self.send_json({"room": content["room"]})

class Drf(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        serializer = MessageSerializer(data=content)
        if serializer.is_valid():
            await self.send_json({"echo": content["message"]})

class Pydantic(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
        except ValueError:
            return
        chat = Chat.model_validate(data)
        await self.send(text_data=data["message"])

class Tried(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
            await self.send(text_data=data["message"]["text"])
        except (ValueError, KeyError, TypeError):
            await self.close()

class Runtime(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        data = extract_message_data(text_data, required=("message",))
        if data is None:
            return
        await self.send(text_data=data["message"])
""",
        # a match statement, a project validator, a decode_json override, an event handler
        """
import json
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from .validation import validate_message

class Matcher(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        match content:
            case {"type": "chat", "message": str()}:
                await self.send_json({"echo": content["message"]})

class Validated(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        validate_message(content)
        await self.send_json({"echo": content["message"]})

class DictsOnly(AsyncJsonWebsocketConsumer):
    @classmethod
    async def decode_json(cls, text_data):
        try:
            data = json.loads(text_data)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def receive_json(self, content, **kwargs):
        await self.send_json({"echo": content.get("message")})

    async def chat_message(self, event):
        await self.send_json({"text": event["text"]})
""",
    )

    invalid = (
        Invalid(
            """
import json
from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer

class Chat(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        room = content["room"]  # error
        text = content["message"]["text"]  # error
        if "user" in content:
            await self.send_json({"user": content["user"]["name"]})  # error

class Sync(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
        except ValueError:
            return
        action = data.pop("action")  # error
        for key, value in data.items():
            self.send(text_data=key)
""",
        ),
        Invalid(
            """
import json
from channels.generic.websocket import AsyncWebsocketConsumer

class Telemetry(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        reading = data["reading"]  # error
        await self.send(text_data=json.dumps({"ack": reading, "unit": data["unit"]}))  # error
        if data["reading"] > 100:
            await self.send(text_data=json.dumps({"alarm": data["sensor"]}))  # error
""",
            fixed="""
import json
from channels.generic.websocket import AsyncWebsocketConsumer
from channels_lint.runtime import error_frame, extract_message_data

class Telemetry(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        data = extract_message_data(text_data, required=("reading", "unit"))
        if data is None:
            await self.send(text_data=json.dumps(error_frame("invalid_message", "A JSON object with 'reading', 'unit' was expected.")))
            return
        reading = data["reading"]  # error
        await self.send(text_data=json.dumps({"ack": reading, "unit": data["unit"]}))  # error
        if data["reading"] > 100:
            await self.send(text_data=json.dumps({"alarm": data["sensor"]}))  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        client = a.client
        reported: set[ast.AST] = set()
        accesses = sorted(
            self._accesses(), key=lambda item: (item[0].lineno, item[0].col_offset, item[0].end_lineno, item[0].end_col_offset)
        )
        seen: dict[tuple[int, ast.AST, tuple[object, ...]], set[object]] = {}
        for node, value, key, method in accesses:
            scope = a.syntax.enclosing_scope(node)
            earlier = seen.setdefault((id(scope), value.origin, value.path), set())
            if key in earlier and key is not ANY:
                continue  # an earlier read of this key succeeded
            earlier.add(key)
            if self._protected(node, value, key):
                continue
            base = node.value if isinstance(node, ast.Subscript) else node.func.value
            if any(b in reported for b in ast.walk(base)):
                continue  # the read it starts from is reported already
            reported.add(node)
            message = (
                f"`{a.syntax.source(node)}` assumes the client sent an object with this key; a missing key or a "
                f"frame that is not an object raises and {failure(client.handler(scope))}; check the key first or "
                "validate the message"
            )
            fix = self._fix(node, value)
            if fix is None:
                yield self.violation(node, message)
            else:
                yield self.violation(node, message, fix, "Decode with `extract_message_data()` and answer an error frame", VALIDATOR_IMPORTS)

    def _accesses(self) -> Iterator[tuple[ast.expr, ClientValue, object, str | None]]:
        """``(node, value read from, key, dict method)`` of every read of client JSON."""
        a = self.analysis
        for node in a.syntax.nodes(ast.Subscript):
            if not isinstance(node.ctx, ast.Load) or isinstance(node.slice, ast.Slice):
                continue
            value = a.client.value(node.value)
            if value is None or value.source is not ClientSource.JSON or value.derived:
                continue
            key = node.slice.value if isinstance(node.slice, ast.Constant) else ANY
            if key is ANY and not isinstance(node.slice, (ast.Name, ast.Attribute)):
                continue
            yield node, value, key, None
        for node in a.syntax.nodes(ast.Call):
            func = node.func
            if not (isinstance(func, ast.Attribute) and func.attr == "pop" and len(node.args) == 1 and not node.keywords):
                continue
            value = a.client.value(func.value)
            if value is None or value.source is not ClientSource.JSON or value.derived:
                continue
            key = node.args[0].value if isinstance(node.args[0], ast.Constant) else ANY
            yield node, value, key, "pop"

    def _protected(self, node: ast.expr, value: ClientValue, key: object) -> bool:
        a = self.analysis
        client = a.client
        handler = client.handler(a.syntax.enclosing_scope(node))
        if handler is not None and handler.errors_caught:
            return True
        if client.caught(node, SHAPE_ERROR_CATCHERS):
            return True
        decoded = client.decoded_from(value.origin)
        if decoded is not None and any(c.kind in VALIDATED for c in client.checks_before(decoded, node)):
            return True  # the text was validated before it was decoded (a pydantic model of the frame)
        for check in client.checks_before(value, node):
            if check.kind in VALIDATED:
                return True
            if check.kind is CheckKind.RUNTIME and check.value.path == () and not value.path and key in check.required:
                return True
            if check.kind is CheckKind.TYPE and check.value.path == (*value.path, key):
                return True  # isinstance(data.get("k"), dict): "k" is there
            if check.value.path != value.path:
                continue
            if check.kind is CheckKind.TYPE:
                return True
            if check.kind in (CheckKind.MEMBERSHIP, CheckKind.GET) and check.key in (key, ANY):
                return True
        return False

    def _fix(self, node: ast.expr, value: ClientValue):
        origin = value.origin
        if value.path or not isinstance(origin, ast.Call):
            return None
        fix = validator_fix(self.analysis, origin)
        if fix is None or node not in fix.covered:
            return None
        return fix.edits
