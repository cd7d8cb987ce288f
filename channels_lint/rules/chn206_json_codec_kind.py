"""CHN206: ``encode_json``/``decode_json`` overridden with the wrong kind or signature."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import Consumer, dotted
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule

_HOOKS = {"encode_json": "content", "decode_json": "text_data"}
#: Plain Python functions: a class attribute holding one becomes a method, so
#: ``self.encode_json(content)`` passes the consumer first (CPython json/__init__.py).
_PLAIN_FUNCTIONS = frozenset({"json.dumps", "json.loads"})


class JsonCodecKind(Rule):
    """
    ## What it does
    Checks the `encode_json`/`decode_json` a JSON consumer uses when they cannot work the
    way Channels calls them: a sync `def` in a mixin of an `AsyncJsonWebsocketConsumer`
    (an `async def` in one of a `JsonWebsocketConsumer`), a signature that does not take
    one argument after `cls`/`self` (`@staticmethod def encode_json(cls, content)`,
    `@classmethod def encode_json(content)`), and a plain function assigned to the name
    (`encode_json = json.dumps`; `staticmethod(json.dumps)` in an async consumer).

    ## Why is this bad?
    `AsyncJsonWebsocketConsumer` awaits `self.encode_json(content)` in `send_json` and
    `self.decode_json(text_data)` in `receive` (channels/generic/websocket.py): a sync
    method returns a str, and the first message fails with `TypeError: object str can't be
    used in 'await' expression`. The sync consumer calls them without `await`, so an
    `async def` hands a coroutine to `send` or `receive_json`. A wrong signature, or
    `json.dumps` bound as a method (`json.dumps(self, content)`), raises `TypeError` on the
    first message. Either way the consumer dies and the socket closes.

    ## Example
    ```python
    import json

    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from django.core.serializers.json import DjangoJSONEncoder


    class DjangoJsonMixin:
        @classmethod
        def encode_json(cls, content):
            return json.dumps(content, cls=DjangoJSONEncoder)


    class FeedConsumer(DjangoJsonMixin, AsyncJsonWebsocketConsumer):
        pass
    ```

    Use instead:
    ```python
    import json

    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from django.core.serializers.json import DjangoJSONEncoder


    class DjangoJsonMixin:
        @classmethod
        async def encode_json(cls, content):
            return json.dumps(content, cls=DjangoJSONEncoder)


    class FeedConsumer(DjangoJsonMixin, AsyncJsonWebsocketConsumer):
        pass
    ```

    ## Fix safety
    No fix: a mixin may serve sync and async consumers, and which signature was meant is
    the application's decision.

    ## Known problems
    A sync `def encode_json` written in the async consumer class itself is reported by
    CHN108 (one code per failure). An instance method `def encode_json(self, content)` works
    (Channels calls it on `self`) and is not reported. Mixins in other modules are not read.
    Applies to Channels 2.0+ (docs/semantics.md §2.4, §12.3).
    """

    code = "CHN206"
    name = "json-codec-kind"
    markers = ("encode_json", "decode_json")

    valid = (
        """
import json
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer

class AsyncCodec:
    @classmethod
    async def encode_json(cls, content):
        return json.dumps(content, separators=(",", ":"))

class SyncCodec:
    @classmethod
    def decode_json(cls, text_data):
        return json.loads(text_data)

    def encode_json(self, content, *, indent=None):
        return json.dumps(content, indent=indent)

class A(AsyncCodec, AsyncJsonWebsocketConsumer):
    pass

class S(SyncCodec, JsonWebsocketConsumer):
    pass

class T(JsonWebsocketConsumer):
    encode_json = staticmethod(json.dumps)

    @staticmethod
    def decode_json(text_data):
        return json.loads(text_data)

class U(AsyncJsonWebsocketConsumer):
    @classmethod
    def encode_json(cls, content):
        return super().encode_json(content)
""",
    )
    invalid = (
        Invalid(
            """
import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer


class CompactJson:
    @classmethod
    def encode_json(cls, content):  # error
        return json.dumps(content, separators=(",", ":"))

    @classmethod
    async def decode_json(cls, text_data):
        return json.loads(text_data)


class Feed(CompactJson, AsyncJsonWebsocketConsumer):
    pass


class Legacy(CompactJson, JsonWebsocketConsumer):  # error
    pass


class Strict(JsonWebsocketConsumer):
    encode_json = json.dumps  # error

    @staticmethod
    def decode_json(cls, text_data):  # error
        return json.loads(text_data)


class Loose(AsyncJsonWebsocketConsumer):
    decode_json = staticmethod(json.loads)  # error
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        reported: set[tuple[int, str]] = set()
        for consumer in a.consumers.by_class.values():
            if a.payloads.json_base(consumer) is None:
                continue
            for hook in _HOOKS:
                found = self._definition(consumer, hook)
                if found is None:
                    continue
                klass, statement = found
                for node, message in self._problems(consumer, klass, statement, hook):
                    if (id(node), message) not in reported:
                        reported.add((id(node), message))
                        yield self.violation(node, message)

    def _definition(self, consumer: Consumer, hook: str) -> tuple[ast.ClassDef, ast.stmt] | None:
        """The nearest class of the consumer's local bases defining ``hook``, with the
        ``def`` or assignment."""
        for klass in self.analysis.names.local_mro(consumer.node):
            for statement in klass.body:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == hook:
                    return klass, statement
                if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == hook for t in statement.targets):
                    return klass, statement
        return None

    def _problems(self, consumer: Consumer, klass: ast.ClassDef, statement: ast.stmt, hook: str):
        a = self.analysis
        kind = "async" if consumer.is_async else "sync"
        where = f"`{klass.name}.{hook}`"
        if isinstance(statement, ast.Assign):
            value = statement.value
            if a.names.qualname(value) in _PLAIN_FUNCTIONS:
                yield (
                    statement,
                    (
                        f"{where} is `{dotted(value)}` bound as a method, so `self.{hook}(...)` calls "
                        f"`{dotted(value)}(self, ...)` and fails with `TypeError`; define a classmethod"
                        + (" (`async def` in this async consumer)" if consumer.is_async else "")
                    ),
                )
            elif (
                consumer.is_async
                and isinstance(value, ast.Call)
                and a.names.is_builtin(value.func, "staticmethod")
                and value.args
                and a.names.qualname(value.args[0]) in _PLAIN_FUNCTIONS
            ):
                yield (
                    statement,
                    (
                        f"{where} is the sync `{dotted(value.args[0])}`, but the async consumer `{consumer.node.name}` awaits "
                        f"`{hook}()`, so the first message fails with `TypeError` (its result can't be awaited); define an "
                        "`async def` classmethod"
                    ),
                )
            return
        decorators = [a.names.qualname(d) for d in statement.decorator_list]
        if any(d not in ("classmethod", "staticmethod") for d in decorators):
            return  # wrapped by something the analysis does not know
        signature = self._signature_problem(statement, decorators)
        if signature is not None:
            yield (
                statement,
                (
                    f"{where} {signature}, but Channels calls `self.{hook}({_HOOKS[hook]})`, which fails with `TypeError`; "
                    f"take `(cls, {_HOOKS[hook]})` as a classmethod"
                ),
            )
        owner = a.consumers.by_class.get(klass)
        if owner is not None and hook in owner.channels_methods:
            return  # a JSON consumer's own method: CHN108 reports its kind
        if (
            consumer.is_async
            and isinstance(statement, ast.FunctionDef)
            and not self.analysis.coroutines.returns_awaitable(statement)
        ):
            yield (
                statement,
                (
                    f"{where} is a sync `def`, but the async consumer `{consumer.node.name}` awaits `{hook}()`, so the "
                    "first message fails with `TypeError` (its result can't be awaited); make it `async def`"
                ),
            )
        elif not consumer.is_async and isinstance(statement, ast.AsyncFunctionDef):
            yield (
                consumer.node,
                (
                    f"{where} is `async def`, but the {kind} consumer `{consumer.node.name}` calls `{hook}()` without `await`, "
                    f"so it gets a coroutine instead of the {'text' if hook == 'encode_json' else 'content'}; "
                    f"give `{consumer.node.name}` a plain `def {hook}`"
                ),
            )

    @staticmethod
    def _signature_problem(function: ast.FunctionDef | ast.AsyncFunctionDef, decorators: list[str | None]) -> str | None:
        """Why ``function`` cannot be called with one argument through ``self``, or ``None``."""
        arguments = function.args
        positional = [*arguments.posonlyargs, *arguments.args]
        bound = "staticmethod" not in decorators
        if bound:
            if not positional and arguments.vararg is None:
                return "takes no `cls`/`self`"
            positional = positional[1:] if positional else positional
        required = len(positional) - len(arguments.defaults)
        if required > 1:
            return f"needs {required} arguments" + (" (a staticmethod gets no `cls`)" if not bound else "")
        if not positional and arguments.vararg is None:
            return "takes no argument besides `cls`/`self`" if bound else "takes no argument"
        if any(default is None for default in arguments.kw_defaults):
            return "has a required keyword-only argument"
        return None
