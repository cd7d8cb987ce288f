"""CHN203: a WebSocket frame, HTTP body or header of the wrong type for the ASGI server."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import HTTP_CONSUMER_BASE, JSON_REJECTS, RAW_SEND_BASES, PayloadKind
from channels_lint.diagnostics import Applicability, CallMethod, Violation, WrapIn
from channels_lint.rules.base import Invalid, Rule
from channels_lint.rules.payload import quote

_NOUNS = {
    dict: "a dict",
    list: "a list",
    tuple: "a tuple",
    set: "a set",
    bytes: "bytes",
    int: "an int",
    float: "a float",
    bool: "a bool",
    str: "a str",
    type(None): "None",
}
#: Expressions ``.encode()`` can be appended to as they are.
_ENCODABLE = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.JoinedStr)
_HTTP_METHODS = ("send_body", "send_response", "send_headers")


class WrongFrameType(Rule):
    """
    ## What it does
    Checks what consumers hand to the ASGI server: `self.send(text_data=...)` given
    something other than a str (a dict, a list, bytes, a variable holding one),
    `bytes_data=` given a str; in an `AsyncHttpConsumer`, a body that is not bytes
    (`send_response(200, "text")`, `send_body({"a": 1})`) and headers that are not
    `(bytes, bytes)` pairs; and the same keys of raw `websocket.send` /
    `http.response.start` / `http.response.body` messages passed to `self.send({...})`.

    ## Why is this bad?
    Channels passes `text_data` and `bytes_data` on unchecked (channels/generic/websocket.py).
    Daphne encodes a text frame with `.encode("utf8")` and autobahn asserts a binary frame is
    `bytes`, so the frame fails inside the server, far from the code, and the connection
    dies; `channels.testing.WebsocketCommunicator` hands the dict back unchanged, so tests
    pass. `send_body` asserts `isinstance(body, bytes)` (`AssertionError: Body is not bytes`).
    ASGI headers are byte strings: uvicorn raises `TypeError` on a str header (Daphne
    happens to encode it).

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class QuoteConsumer(AsyncWebsocketConsumer):
        async def quote_tick(self, event):
            await self.send(text_data={"symbol": event["symbol"], "price": event["price"]})
    ```

    Use instead:
    ```python
    import json

    from channels.generic.websocket import AsyncWebsocketConsumer


    class QuoteConsumer(AsyncWebsocketConsumer):
        async def quote_tick(self, event):
            await self.send(text_data=json.dumps({"symbol": event["symbol"], "price": event["price"]}))
    ```

    ## Fix safety
    A dict or list given as `text_data` is wrapped in `json.dumps(...)` (imported as
    `from json import dumps` when the module has no `import json`): safe when no value in it
    is one `json.dumps` rejects or silently changes (a non-str key), since the original
    frame can never be sent; values of unknown type can only make `json.dumps` raise, never
    lose data. Otherwise unsafe. A str given as `bytes_data`, as a body or as an ASCII
    header literal gets `.encode()`, which is safe (the original always fails); a non-ASCII
    or computed header str is unsafe (Daphne encoded it its own way). Bytes given as
    `text_data`, ints and other types get no fix.

    ## Known problems
    Only values whose type the analysis proves are checked (literals, `json.dumps(...)`,
    f-strings, names holding one). A str header is reported although Daphne happens to encode
    it (docs/semantics.md §12.2). Applies to Channels 2.0+.
    """

    code = "CHN203"
    name = "wrong-frame-type"
    markers = ("self.send", "send_body", "send_response", "send_headers")
    fix_applicability = Applicability.UNSAFE

    valid = (
        """
import json
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer, WebsocketConsumer

class W(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=json.dumps({"a": 1}))
        await self.send(text_data=text_data, bytes_data=None)
        await self.send(bytes_data=b"\\x00" + bytes_data)
        await self.send(f"echo {text_data}")
        await self.send(text_data=str(len(text_data)))

class J(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        await self.send_json({"a": [1, 2]})

class Own(WebsocketConsumer):
    def send(self, payload):
        super().send(text_data=json.dumps(payload))

    def receive(self, text_data=None, bytes_data=None):
        self.send({"echo": text_data})

class H(AsyncHttpConsumer):
    async def handle(self, body):
        await self.send_response(200, b"ok", headers=[(b"Content-Type", b"text/plain")])
        await self.send_headers(headers={b"X-A": b"1"})
        await self.send_body(json.dumps({"a": 1}).encode(), more_body=True)
        await self.send_body(body)
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer


class Quotes(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data={"symbol": "ACME", "price": "12.40"})  # error

    async def quote_tick(self, event):
        await self.send({"symbol": event["symbol"], "price": event["price"]})  # error
        rows = [1, 2]
        await self.send(text_data=rows)  # error
        await self.send(text_data={1: "one"})  # error
        await self.send(bytes_data="raw")  # error


class Legacy(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=b"pong")  # error
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer
from json import dumps


class Quotes(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=dumps({"symbol": "ACME", "price": "12.40"}))  # error

    async def quote_tick(self, event):
        await self.send(dumps({"symbol": event["symbol"], "price": event["price"]}))  # error
        rows = [1, 2]
        await self.send(text_data=dumps(rows))  # error
        await self.send(text_data=dumps({1: "one"}))  # error
        await self.send(bytes_data="raw".encode())  # error


class Legacy(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data=b"pong")  # error
""",
        ),
        Invalid(
            """
import json

from channels.consumer import AsyncConsumer
from channels.generic.http import AsyncHttpConsumer


class Health(AsyncHttpConsumer):
    async def handle(self, body):
        page = f"ok {len(body)}"
        await self.send_response(200, page, headers=[("Content-Type", b"text/plain")])  # error
        await self.send_headers(headers={b"X-Retries": 3})  # error
        await self.send_body(json.dumps({"ok": True}))  # error


class Raw(AsyncConsumer):
    async def websocket_receive(self, message):
        await self.send({"type": "websocket.send", "text": {"echo": message.get("text")}})  # error
""",
            fixed="""
import json

from channels.consumer import AsyncConsumer
from channels.generic.http import AsyncHttpConsumer


class Health(AsyncHttpConsumer):
    async def handle(self, body):
        page = f"ok {len(body)}"
        await self.send_response(200, page.encode(), headers=[("Content-Type".encode(), b"text/plain")])  # error
        await self.send_headers(headers={b"X-Retries": 3})  # error
        await self.send_body(json.dumps({"ok": True}).encode())  # error


class Raw(AsyncConsumer):
    async def websocket_receive(self, message):
        await self.send({"type": "websocket.send", "text": json.dumps({"echo": message.get("text")})})  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call in a.syntax.nodes(ast.Call):
            func = call.func
            if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"):
                continue
            consumer = a.consumers.of(call)
            if consumer is None or a.consumers.defines(consumer, func.attr):
                continue
            if func.attr == "send" and a.payloads.websocket_send(call):
                yield from self._frame(_argument(call, 0, "text_data"), _argument(call, 1, "bytes_data"))
            elif func.attr == "send" and consumer.base in RAW_SEND_BASES:
                yield from self._raw(_argument(call, 0, "message"))
            elif func.attr in _HTTP_METHODS and consumer.base == HTTP_CONSUMER_BASE:
                if func.attr != "send_headers":
                    yield from self._body(_argument(call, 0 if func.attr == "send_body" else 1, "body"), func.attr)
                if func.attr != "send_body":
                    yield from self._headers(_argument(call, 99, "headers"))

    # ------------------------------------------------------------------ websocket frames
    def _frame(self, text: ast.expr | None, data: ast.expr | None, key: str = "text_data") -> Iterator[Violation]:
        a = self.analysis
        kind = a.payloads.value_type(text)
        if text is not None and kind not in (None, str, type(None)):
            problem = (
                f"`{key}` is {_NOUNS[kind]} (`{quote(a, text)}`): the server encodes a text frame with `.encode()`, "
                "so the frame fails inside it, far from this code"
            )
            if kind in (dict, list, tuple):
                yield self._dumps(text, problem)
            elif kind is bytes:
                yield self.violation(text, f"{problem}; send it as `bytes_data` or decode it")
            else:
                yield self.violation(text, f"{problem}; send a str")
        bytes_key = "bytes_data" if key == "text_data" else "bytes"
        if data is not None and a.payloads.value_type(data) is str:
            yield self._encode(
                data,
                f"`{bytes_key}` is a str (`{quote(a, data)}`): the server sends binary frames as given and "
                "fails on a str (autobahn asserts bytes)",
                safe=True,
            )

    def _dumps(self, value: ast.expr, problem: str) -> Violation:
        a = self.analysis
        module = next((local for local, target in a.names.imports.items() if target == "json"), None)
        func, imports = (f"{module}.dumps", ()) if module else ("dumps", (("json", "dumps"),))
        changed = any(u.kind in JSON_REJECTS or u.kind is PayloadKind.NON_STR_KEY for u in a.payloads.in_value(value))
        return self.violation(
            value,
            f"{problem}; send `json.dumps(...)` of it",
            (WrapIn(a.syntax.span(value), func),),
            "Send `json.dumps(...)` of it",
            imports,
            applicability=Applicability.UNSAFE if changed else Applicability.SAFE,
        )

    def _encode(self, value: ast.expr, problem: str, safe: bool) -> Violation:
        if not isinstance(value, _ENCODABLE):
            return self.violation(value, f"{problem}; send bytes")
        return self.violation(
            value,
            f"{problem}; send `.encode()` of it",
            (CallMethod(self.analysis.syntax.span(value), "encode"),),
            "Send `.encode()` of it",
            applicability=Applicability.SAFE if safe else Applicability.UNSAFE,
        )

    def _raw(self, message: ast.expr | None) -> Iterator[Violation]:
        """``self.send({"type": "websocket.send" | "http.response.*", ...})`` in a raw consumer."""
        a = self.analysis
        shape = a.flow.dict_shape(message)
        if shape is None:
            return
        values = shape.values_of("type")
        types = {v.value for v in values if isinstance(v, ast.Constant)}
        if len(types) != 1 or not all(isinstance(v, ast.Constant) for v in values):
            return
        message_type = types.pop()
        if message_type == "websocket.send":
            for text in shape.values_of("text"):
                yield from self._frame(text, None, key="text")
            for data in shape.values_of("bytes"):
                yield from self._frame(None, data, key="bytes")
        elif message_type == "http.response.body":
            for body in shape.values_of("body"):
                yield from self._body(body, "http.response.body")
        elif message_type == "http.response.start":
            for headers in shape.values_of("headers"):
                yield from self._headers(headers)

    # ------------------------------------------------------------------ HTTP
    def _body(self, body: ast.expr | None, where: str) -> Iterator[Violation]:
        a = self.analysis
        kind = a.payloads.value_type(body)
        if body is None or kind in (None, bytes):
            return
        if where in _HTTP_METHODS:
            problem = f"the body `{quote(a, body)}` is {_NOUNS[kind]}: `{where}` asserts bytes (`Body is not bytes`)"
        else:
            problem = f"the body `{quote(a, body)}` is {_NOUNS[kind]}: the server writes the body as bytes and fails"
        if kind is str:
            yield self._encode(body, problem, safe=True)
        else:
            yield self.violation(body, f"{problem}; send bytes")

    def _headers(self, headers: ast.expr | None) -> Iterator[Violation]:
        """Header names and values of a literal list of pairs or dict that are str or int."""
        a = self.analysis
        for value in a.flow.values(headers) or () if headers is not None else ():
            elements: list[tuple[str, ast.expr]] = []
            if isinstance(value, ast.Dict):
                for key, item in zip(value.keys, value.values, strict=True):
                    if key is not None:
                        elements += [("name", key), ("value", item)]
            elif isinstance(value, (ast.List, ast.Tuple)):
                for pair in value.elts:
                    if isinstance(pair, (ast.Tuple, ast.List)) and len(pair.elts) == 2:
                        elements += [("name", pair.elts[0]), ("value", pair.elts[1])]
            for role, element in elements:
                kind = a.payloads.value_type(element)
                if kind not in (str, int, float):
                    continue
                if kind is str:
                    consequence = "uvicorn raises `TypeError` on a str (Daphne happens to encode it)"
                else:
                    consequence = "the server fails on it (Daphne: `AttributeError`, uvicorn: `TypeError`)"
                problem = f"the header {role} `{quote(a, element)}` is {_NOUNS[kind]}: ASGI headers are bytes, and {consequence}"
                if kind is str:
                    ascii_literal = isinstance(element, ast.Constant) and element.value.isascii()
                    yield self._encode(element, problem, safe=ascii_literal)
                else:
                    yield self.violation(element, f"{problem}; send bytes")


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if any(isinstance(arg, ast.Starred) for arg in call.args[: position + 1]):
        return None
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)
