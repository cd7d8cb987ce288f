"""CHN301: client JSON decoded without handling malformed input."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.client import CheckKind, ClientSource, HandlerKind
from channels_lint.analysis.facts import DECODE_ERROR_CATCHERS
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.connection import VALIDATOR_IMPORTS, WHAT, failure, validator_fix

#: Checks after which the text is known to decode (the runtime's or the project's validator).
VALIDATED = frozenset({CheckKind.RUNTIME, CheckKind.SCHEMA, CheckKind.PROJECT})


class UnguardedJsonLoads(Rule):
    """
    ## What it does
    Checks for client text decoded as JSON without handling malformed input:
    `json.loads(text_data)` / `json.loads(bytes_data)` in a consumer's `receive` (also through
    a name such as `data = text_data or bytes_data`), `json.loads(event["text"])` in
    `websocket_receive`, `json.loads(text_data)` in a `decode_json` override,
    `self.decode_json(text_data)` called by hand, `json.loads(body)` in an
    `AsyncHttpConsumer.handle` and `json.loads(request.body)` in a view, in sync and async
    code, when no `try` around it catches `json.JSONDecodeError`, `ValueError` or `Exception`
    and no validator (the runtime's `check_message_data`/`extract_message_data`, or a project
    function named `validate*`/`check*`/`clean*`) looked at the text first.

    ## Why is this bad?
    The frame comes from the client and can be anything. Channels does not catch exceptions
    raised by handlers (`channels/utils.py` `await_many_dispatch`): one malformed frame kills
    the consumer, the server closes the socket (Daphne sends 1011), and because
    `disconnect()` never runs, the channel stays in its groups until `group_expiry`
    (docs/semantics.md §2.5). In a view the same input gives a 500 and an error log entry
    instead of a 400.

    ## Example
    ```python
    import json

    from channels.generic.websocket import AsyncWebsocketConsumer


    class TelemetryConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            data = json.loads(text_data)
            await self.send(text_data=json.dumps({"ack": data["reading"]}))
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
            if not isinstance(data, dict) or "reading" not in data:
                return
            await self.send(text_data=json.dumps({"ack": data["reading"]}))
    ```

    ## Fix safety
    Where the rewrite is provably right (a websocket consumer's `receive` decoding its own
    `text_data`/`bytes_data` in a statement of its body, into a name used only as a JSON
    object), the fix decodes with `channels_lint.runtime.extract_message_data(text_data,
    required=(...))`, `required` being the keys the handler reads on every path, and answers
    `None` with an `error_frame("invalid_message", ...)` and a `return`. It is unsafe: it adds
    a production import of `channels_lint.runtime`, and frames that decoded before but are not
    JSON objects, hold numbers outside 64 bits, `NaN`, nesting deeper than 32 or more than
    64 KiB are now refused with an error frame. Elsewhere the rule only reports.

    ## Known problems
    Client text passed to a helper method or function and decoded there is not followed.
    Catching only `json.JSONDecodeError` counts as handled, although a binary frame makes
    `json.loads(text_data)` raise `TypeError` (`text_data` is `None`).
    """

    code = "CHN301"
    markers = (("loads", "receive"), ("loads", "body"), ("loads", "text_data"), ("decode_json", "receive"))
    name = "unguarded-json-loads"
    fix_applicability = Applicability.UNSAFE

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
        # the whole handler in a try; the project's validator first; a catching decorator
        """
import json
from channels.generic.websocket import AsyncWebsocketConsumer, AsyncJsonWebsocketConsumer
from .utils import handle_errors, is_valid_json

class Chat(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
            await self.send(text_data=data["message"])
        except Exception:
            await self.close()

class Checked(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        if not is_valid_json(text_data):
            return
        data = json.loads(text_data)

class Wrapped(AsyncWebsocketConsumer):
    @handle_errors
    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)

class SafeDecode(AsyncJsonWebsocketConsumer):
    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return {}
""",
        # a consumer whose dispatch catches handler errors; data that is not the client's
        """
import json
from channels.generic.websocket import WebsocketConsumer
from django.http import JsonResponse

class Guarded(WebsocketConsumer):
    def dispatch(self, message):
        try:
            super().dispatch(message)
        except Exception:
            self.close()

    def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)

class Events(WebsocketConsumer):
    def chat_message(self, event):
        payload = json.loads(event["payload"])

def settings_view(request):
    try:
        body = json.loads(request.body)
    except json.JSONDecodeError:
        return JsonResponse({"error": "invalid JSON"}, status=400)
    return JsonResponse(json.loads(CONFIG))
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
        # aliases, sync consumers, decode_json overrides and by-hand calls, HTTP consumers, views
        Invalid(
            """
import json
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer, WebsocketConsumer
from django.http import JsonResponse

class Sync(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        raw = text_data or bytes_data
        for item in json.loads(raw.strip()):  # error
            self.send(text_data=str(item))

class Decoder(JsonWebsocketConsumer):
    @classmethod
    def decode_json(cls, text_data):
        return json.loads(text_data)  # error

class ByHand(AsyncJsonWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        content = await self.decode_json(text_data)  # error
        await self.receive_json(content)

class Upload(AsyncHttpConsumer):
    async def handle(self, body):
        order = json.loads(body)  # error
        await self.send_response(200, b"ok")

def order_view(request):
    data = json.loads(request.body.decode("utf-8"))  # error
    return JsonResponse({"ok": True})
"""
        ),
        Invalid(
            """
import json
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer

class Telemetry(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)  # error
        reading = data["reading"]
        unit = data.get("unit", "C")
        await self.send(text_data=json.dumps({"ack": reading, "unit": unit}))

class Echo(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        message = json.loads(text_data)  # error
        if message.get("type") == "ping":
            self.send(text_data="pong")
""",
            fixed="""
import json
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer
from channels_lint.runtime import error_frame, extract_message_data

class Telemetry(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        data = extract_message_data(text_data, required=("reading",))  # error
        if data is None:
            await self.send(text_data=json.dumps(error_frame("invalid_message", "A JSON object with 'reading' was expected.")))
            return
        reading = data["reading"]
        unit = data.get("unit", "C")
        await self.send(text_data=json.dumps({"ack": reading, "unit": unit}))

class Echo(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        message = extract_message_data(text_data)  # error
        if message is None:
            self.send(text_data=json.dumps(error_frame("invalid_message", "A JSON object was expected.")))
            return
        if message.get("type") == "ping":
            self.send(text_data="pong")
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call, argument, source in a.client.decodes:
            function = a.syntax.enclosing_scope(call)
            handler = a.client.handler(function)
            if handler is not None and handler.errors_caught:
                continue
            if a.client.caught(call, DECODE_ERROR_CATCHERS):
                continue
            if any(check.kind in VALIDATED for check in a.client.checks_before(source, call)):
                continue
            view = source.source is ClientSource.REQUEST_BODY and (handler is None or handler.kind is HandlerKind.VIEW)
            if view:
                consequence, advice = "the view answers 500", "catch `json.JSONDecodeError` and answer 400"
            else:
                consequence = failure(handler)
                advice = "catch `json.JSONDecodeError` or decode with `extract_message_data()`"
            message = f"`{a.syntax.source(call)}` raises on {WHAT[source.source]} and {consequence}; {advice}"
            fix = validator_fix(a, call)
            if fix is None:
                yield self.violation(call, message)
            else:
                yield self.violation(
                    call, message, fix.edits, "Decode with `extract_message_data()` and answer an error frame", VALIDATOR_IMPORTS
                )
