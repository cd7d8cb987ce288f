"""CHN304: a method, attribute or global chosen by the client without an allowlist."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.client import CheckKind, ClientValue
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule

#: Checks that restrict the name to known values.
RESTRICTED = frozenset({CheckKind.ALLOWLIST, CheckKind.CONTENT, CheckKind.SCHEMA, CheckKind.RUNTIME, CheckKind.PROJECT})
NAMESPACES = ("globals", "locals", "vars")


class ClientChosenDispatch(Rule):
    """
    ## What it does
    Checks for `getattr(self, name)`, `self.__dict__[name]`, `vars(self)[name]`,
    `globals()[name]` and `locals()[name]` where `name` is client data (a message field, a
    URL kwarg, a query parameter) used as it came, with no allowlist test before it
    (`name in ALLOWED`, `name == "join"`, a regex or `startswith` test, a schema).

    ## Why is this bad?
    The client picks what runs: any method of the consumer (`close`, `disconnect`,
    `group_send`, private helpers, inherited Channels internals) or any global of the module.
    A name that does not exist raises `AttributeError`/`KeyError`, which kills the consumer
    (docs/semantics.md §2.5); one that exists runs with arguments it was never meant for.

    ## Example
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class ActionConsumer(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content, **kwargs):
            handler = getattr(self, content.get("action"))
            await handler(content)
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncJsonWebsocketConsumer


    class ActionConsumer(AsyncJsonWebsocketConsumer):
        actions = {"join", "leave"}

        async def receive_json(self, content, **kwargs):
            action = content.get("action")
            if action not in self.actions:
                return
            handler = getattr(self, action)
            await handler(content)
    ```

    ## Fix safety
    No fix: which names the client may choose is the application's decision.

    ## Known problems
    A name built with a fixed prefix or suffix (`getattr(self, f"handle_{kind}")`) is not
    reported: the client can only reach the methods of that family. Any earlier test of the
    name counts as an allowlist.
    """

    code = "CHN304"
    # dispatch on client data happens in a consumer or view: a name of it must be in the file too
    markers = tuple(
        (name, where)
        for name in ("getattr", "__dict__", "globals()", "locals()", "vars(")
        for where in ("receive", "text_data", 'scope["', "scope['", "request.GET", "request.POST", "request.body")
    )
    name = "client-chosen-dispatch"

    valid = (
        """
from channels.generic.websocket import AsyncJsonWebsocketConsumer

class Actions(AsyncJsonWebsocketConsumer):
    allowed = ("join", "leave")

    async def receive_json(self, content, **kwargs):
        action = content.get("action")
        if action in self.allowed:
            await getattr(self, action)(content)
        handler = getattr(self, f"handle_{content.get('type')}", None)
        if handler is not None:
            await handler(content)
        await getattr(self, "on_" + content.get("event", "default"))()
        await getattr(self, self.default_action)()
""",
    )

    invalid = (
        Invalid(
            """
import json
from channels.generic.websocket import WebsocketConsumer

class Actions(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        try:
            data = json.loads(text_data)
        except ValueError:
            return
        method = getattr(self, data.get("method", "").lower(), None)  # error
        if method is not None:
            method(data)
        setting = globals()[data.get("setting", "DEFAULT")]  # error
        tab = self.scope["url_route"]["kwargs"]["tab"]
        view = self.__dict__[tab]  # error
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call in a.syntax.nodes(ast.Call):
            if a.names.is_builtin(call.func, "getattr") and len(call.args) >= 2 and _is_self(call.args[0]):
                yield from self._report(call, call.args[1], "method or attribute of the consumer")
        for subscript in a.syntax.nodes(ast.Subscript):
            if not isinstance(subscript.ctx, ast.Load):
                continue
            target = subscript.value
            if isinstance(target, ast.Attribute) and target.attr == "__dict__" and _is_self(target.value):
                yield from self._report(subscript, subscript.slice, "attribute of the consumer")
            elif (
                isinstance(target, ast.Call)
                and any(a.names.is_builtin(target.func, name) for name in NAMESPACES)
                and (not target.args or _is_self(target.args[0]))
            ):
                what = "attribute of the consumer" if target.args else "name of the module"
                yield from self._report(subscript, subscript.slice, what)

    def _report(self, node: ast.expr, name: ast.expr, what: str) -> Iterator[Violation]:
        a = self.analysis
        value = a.client.value(name)
        if value is None or value.source.is_container or self._restricted(value, node):
            return
        yield self.violation(
            node,
            f"`{a.syntax.source(node)}` lets the client choose any {what} through `{a.syntax.source(name)}`; "
            "an unknown name raises and kills the consumer, a known one runs whatever it is; "
            "test the name against an allowlist first",
        )

    def _restricted(self, value: ClientValue, node: ast.expr) -> bool:
        return any(check.kind in RESTRICTED for check in self.analysis.client.checks_before(value, node))


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")
