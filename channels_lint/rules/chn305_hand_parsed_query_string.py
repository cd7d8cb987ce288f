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
    Checks for `scope["query_string"]` (or text taken from it) cut up by hand in a way that
    raises on ordinary input: `query.split("token=")[1]` (the parameter may be missing),
    `key, value = pair.split("=")` and `dict(pair.split("=") for pair in query.split("&"))`
    (a parameter without `=`, a value holding `=`, an empty query string), unless the text
    was tested for the separator first (with `maxsplit=1`) or a `try` catches the error.

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
    module is not. Robust hand parses (`pair.partition("=")`, `split("=", 1)` after
    `"=" in pair`) are not reported, although they leave percent escapes encoded.
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

class Robust(AsyncWebsocketConsumer):
    async def connect(self):
        query = self.scope.get("query_string", b"").decode()
        params = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
        token = query.split("token=")[1] if "token=" in query else None
        last = query.split("token=")[-1]
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
        for pair in raw.split(b"&"):
            key, value = pair.split(b"=")  # error
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
            if not (isinstance(func, ast.Attribute) and func.attr in ("split", "rsplit") and call.args):
                continue
            separator = call.args[0]
            if not (isinstance(separator, ast.Constant) and isinstance(separator.value, (str, bytes))):
                continue
            text = separator.value if isinstance(separator.value, str) else separator.value.decode("latin-1")
            if "=" not in text:
                continue
            value = a.client.value(func.value)
            if value is None or value.source is not ClientSource.QUERY_STRING:
                continue
            failure = self._fragile(call, value)
            if failure is None:
                continue
            statement = a.syntax.statement_of(call)
            if statement in reported_statements:
                continue
            reported_statements.add(statement)
            fixable = self._fixable(call)
            node, edits = fixable or (call, ())
            message = (
                f"`{a.syntax.source(call)}` parses the query string by hand and raises {failure}; "
                "use `urllib.parse.parse_qs`, which also decodes percent escapes"
            )
            if edits:
                yield self.violation(node, message, edits, "Parse with `urllib.parse.parse_qsl`", (PARSE_QSL,))
            else:
                yield self.violation(node, message)

    def _fragile(self, call: ast.Call, value) -> str | None:
        """How ``text.split("=")`` (or ``split("token=")``) fails on ordinary input, when its
        result is used in a way that fails: indexed (``IndexError`` when the separator is
        absent), unpacked into two names or read by ``dict(...)`` (``ValueError`` for a piece
        without ``=`` or with two), unless a ``try`` catches it or ``"=" in text`` was tested
        and at most one split is made."""
        a = self.analysis
        client = a.client
        if client.caught(call, frozenset({"ValueError", "IndexError", "LookupError", "Exception", "BaseException"})):
            return None
        parent = a.syntax.parents.get(call)
        tested = self._separator_tested(call, value)
        if isinstance(parent, ast.Subscript) and parent.value is call:
            index = parent.slice
            if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and isinstance(index.operand, ast.Constant):
                index = -index.operand.value if type(index.operand.value) is int else None
            else:
                index = index.value if isinstance(index, ast.Constant) and type(index.value) is int else None
            if tested or index is None or index in (0, -1):
                return None  # [0] and [-1] always exist
            return "`IndexError` when the parameter is missing"
        limited = len(call.args) > 1 or any(k.arg == "maxsplit" for k in call.keywords)
        if tested:
            failure = "`ValueError` for a value holding `=`"
        elif limited:
            failure = "`ValueError` for a parameter without `=`"
        else:
            failure = "`ValueError` for a parameter without `=` or a value holding `=`"
        if isinstance(parent, ast.Assign) and parent.value is call:
            target = parent.targets[0]
            if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2 and not (limited and tested):
                return failure
            return None
        if isinstance(parent, (ast.GeneratorExp, ast.ListComp)) and parent.elt is call:
            outer = a.syntax.parents.get(parent)
            if isinstance(outer, ast.Call) and a.names.is_builtin(outer.func, "dict") and not (limited and tested):
                return failure.replace("for a parameter", "on an empty query string, a parameter", 1)
        return None

    def _separator_tested(self, call: ast.Call, value) -> bool:
        """Whether the text was tested for the separator (``"=" in pair``, ``if "token=" in q``)
        before the split or in the comprehension that makes it."""
        a = self.analysis
        if any(check.kind.name in ("MEMBERSHIP", "CONTENT", "ALLOWLIST") for check in a.client.checks_before(value, call)):
            return True
        for parent in a.syntax.ancestors(call):
            if isinstance(parent, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
                for generator in parent.generators:
                    for test in generator.ifs:
                        for node in ast.walk(test):
                            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                                return True
            if isinstance(parent, ast.stmt):
                break
        return False

    def _fixable(self, element: ast.Call):
        """``dict(p.split("=") for p in QUERY.split("&"))`` whose element is ``element``: the
        call to replace and its edit, when ``QUERY`` is decoded text."""
        a = self.analysis
        generator = a.syntax.parents.get(element)
        if not isinstance(generator, (ast.GeneratorExp, ast.ListComp)) or generator.elt is not element or len(generator.generators) != 1:
            return None
        comprehension = generator.generators[0]
        split_call = comprehension.iter
        outer = a.syntax.parents.get(generator)
        if not (
            isinstance(outer, ast.Call)
            and a.names.is_builtin(outer.func, "dict")
            and len(outer.args) == 1
            and outer.args[0] is generator
            and not outer.keywords
        ):
            return None
        target = comprehension.target
        if (
            comprehension.ifs
            or comprehension.is_async
            or not isinstance(target, ast.Name)
            or not isinstance(split_call, ast.Call)
            or not isinstance(split_call.func, ast.Attribute)
            or split_call.func.attr != "split"
            or len(split_call.args) != 1
            or split_call.keywords
            or not isinstance(split_call.args[0], ast.Constant)
            or split_call.args[0].value != "&"
            or not (
                isinstance(element.func, ast.Attribute)
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
