"""CHN305: the query string parsed by hand."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.client import ClientSource
from channels_lint.diagnostics import Applicability, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule

SPLITTERS = frozenset({"split", "rsplit", "partition", "rpartition"})
PARSE_QSL = ("urllib.parse", "parse_qsl")


class HandParsedQueryString(Rule):
    """
    ## What it does
    Checks for `scope["query_string"]` (or text taken from it) cut up by hand:
    `.split("&")`, `.split("=")`, `.split("token=")`, `.partition("=")`, typically as
    `dict(pair.split("=") for pair in query.split("&"))`.

    ## Why is this bad?
    The query string is raw, percent-encoded client text (docs/semantics.md §1.3b). The hand
    parse breaks on ordinary input: an empty query string or a parameter without `=` makes
    `dict(...)` raise `ValueError`, a value holding `=` gives three pieces, `split("token=")[1]`
    raises `IndexError` when the parameter is missing, and percent escapes (`%20`, `%2B`) and
    `+` are never decoded. In `connect` the exception fails the handshake; in `receive` it
    kills the consumer (§2.5, §11.4).

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class FeedConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            query = self.scope["query_string"].decode()
            params = dict(pair.split("=") for pair in query.split("&"))
            self.token = params.get("token")
            await self.accept()
    ```

    Use instead:
    ```python
    from urllib.parse import parse_qs

    from channels.generic.websocket import AsyncWebsocketConsumer


    class FeedConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            params = parse_qs(self.scope["query_string"].decode())
            self.token = params.get("token", [None])[0]
            await self.accept()
    ```

    ## Fix safety
    `dict(pair.split("=") for pair in query.split("&"))` (or the list form) on decoded text
    becomes `dict(parse_qsl(query, keep_blank_values=True))`: the same dict (the last of
    repeated keys wins, empty values kept) wherever the hand parse worked, and a dict instead of
    `ValueError` where it did not. It is unsafe, since no rewrite is exact: `parse_qsl`
    decodes percent escapes and `+`, so a value holding them changes (to what the client
    meant). Other hand parses are only reported.

    ## Known problems
    A query string is recognised by its scope key; one read through a helper in another
    module is not.
    """

    code = "CHN305"
    markers = ("query_string",)
    name = "hand-parsed-query-string"
    fix_applicability = Applicability.UNSAFE

    valid = (
        """
from urllib.parse import parse_qs
from channels.generic.websocket import AsyncWebsocketConsumer
from channels_lint.runtime import safe_query_params

class Feed(AsyncWebsocketConsumer):
    async def connect(self):
        params = parse_qs(self.scope["query_string"].decode())
        tags = params.get("tags", [""])[0].split(",")
        other = safe_query_params(self.scope)
        path_parts = self.scope["path"].split("/")
        await self.accept()
""",
    )

    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer

class Feed(AsyncWebsocketConsumer):
    async def connect(self):
        query = self.scope["query_string"].decode("utf-8")
        token = query.split("token=")[1]  # error
        await self.accept()

class Legacy(WebsocketConsumer):
    def connect(self):
        raw = self.scope["query_string"]
        for pair in raw.split(b"&"):  # error
            key, _, value = pair.partition(b"=")
        self.accept()
""",
        ),
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer

class Feed(AsyncWebsocketConsumer):
    async def connect(self):
        query = self.scope["query_string"].decode()
        params = dict(pair.split("=") for pair in query.split("&"))  # error
        listed = dict([p.split("=") for p in self.scope["query_string"].decode().split("&")])  # error
        self.token = params.get("token")
        await self.accept()
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from urllib.parse import parse_qsl

class Feed(AsyncWebsocketConsumer):
    async def connect(self):
        query = self.scope["query_string"].decode()
        params = dict(parse_qsl(query, keep_blank_values=True))  # error
        listed = dict(parse_qsl(self.scope["query_string"].decode(), keep_blank_values=True))  # error
        self.token = params.get("token")
        await self.accept()
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        reported_statements: set[ast.AST] = set()
        calls = sorted(a.syntax.nodes(ast.Call), key=lambda c: (c.lineno, c.col_offset))
        for call in calls:
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr in SPLITTERS and call.args):
                continue
            separator = call.args[0]
            if not (isinstance(separator, ast.Constant) and isinstance(separator.value, (str, bytes))):
                continue
            text = separator.value if isinstance(separator.value, str) else separator.value.decode("latin-1")
            if not ("&" in text or "=" in text or text == ";"):
                continue
            value = a.client.value(func.value)
            if value is None or value.source is not ClientSource.QUERY_STRING or value.path:
                continue  # not the query string itself (a piece of it is reported with it)
            statement = a.syntax.statement_of(call)
            if statement in reported_statements:
                continue
            reported_statements.add(statement)
            node, edits = self._fixable(call) or (call, ())
            message = (
                f"`{a.syntax.source(call)}` parses the query string by hand: an empty query, a parameter "
                "without `=` or a value holding `=` breaks it, and percent escapes stay encoded; use "
                "`urllib.parse.parse_qs`"
            )
            if edits:
                yield self.violation(node, message, edits, "Parse with `urllib.parse.parse_qsl`", (PARSE_QSL,))
            else:
                yield self.violation(node, message)

    def _fixable(self, split_call: ast.Call):
        """``dict(p.split("=") for p in QUERY.split("&"))`` holding ``split_call``: the call
        to replace and its edit, when ``QUERY`` is decoded text."""
        a = self.analysis
        comprehension = a.syntax.parents.get(split_call)
        if not isinstance(comprehension, ast.comprehension) or comprehension.iter is not split_call:
            return None
        generator = a.syntax.parents.get(comprehension)
        if not isinstance(generator, (ast.GeneratorExp, ast.ListComp)) or len(generator.generators) != 1:
            return None
        outer = a.syntax.parents.get(generator)
        if not (
            isinstance(outer, ast.Call)
            and a.names.is_builtin(outer.func, "dict")
            and len(outer.args) == 1
            and outer.args[0] is generator
            and not outer.keywords
        ):
            return None
        target, element = comprehension.target, generator.elt
        if (
            comprehension.ifs
            or comprehension.is_async
            or not isinstance(target, ast.Name)
            or split_call.func.attr != "split"
            or len(split_call.args) != 1
            or split_call.keywords
            or split_call.args[0].value != "&"
            or not (
                isinstance(element, ast.Call)
                and isinstance(element.func, ast.Attribute)
                and element.func.attr == "split"
                and isinstance(element.func.value, ast.Name)
                and element.func.value.id == target.id
                and len(element.args) == 1
                and not element.keywords
                and isinstance(element.args[0], ast.Constant)
                and element.args[0].value == "="
            )
        ):
            return None
        query = split_call.func.value
        line, col, end_line, end_col = a.syntax.span(query)
        if line != end_line:
            return None
        text = a.lines[line - 1][col:end_col]
        return outer, (ReplaceWith(a.syntax.span(outer), f"dict(parse_qsl({text}, keep_blank_values=True))"),)
