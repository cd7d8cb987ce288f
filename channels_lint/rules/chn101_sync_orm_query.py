"""CHN101: sync ORM query in async code."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import EVALUATING_BUILTINS, QUERYSET_SQL_METHODS, Orm
from channels_lint.diagnostics import Applicability, CallThrough, Violation, WrapIn
from channels_lint.rules.base import Invalid, Rule

DB_SYNC_TO_ASYNC = ("channels.db", "database_sync_to_async")

_HOW = "raises SynchronousOnlyOperation on the event loop"


class SyncOrmQueryInAsync(Rule):
    """
    ## What it does
    Checks for Django ORM calls that run SQL, and for queryset evaluation, in code that runs
    on the event loop (an `async def`, or a sync handler that an async consumer awaits).

    ## Why is this bad?
    Django's database layer is decorated with `async_unsafe`: any query made while an event
    loop runs in the thread raises `SynchronousOnlyOperation` ("You cannot call this from an
    async context - use a thread or sync_to_async."). Building a queryset (`filter`, `all`,
    `order_by`, slicing without a step) runs no SQL and is fine; calling `get`, `create`,
    `count`, `exists`, `update`, `delete`, `aggregate`... or iterating, `len()`, `list()`,
    `bool()`, `in` and indexing a queryset run SQL.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer

    from .models import Note


    class BoardConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            Note.objects.create(body=text_data)
            for note in Note.objects.order_by("-id")[:20]:
                await self.send(text_data=note.body)
    ```

    Use instead:
    ```python
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncWebsocketConsumer

    from .models import Note


    class BoardConsumer(AsyncWebsocketConsumer):
        async def receive(self, text_data=None, bytes_data=None):
            await database_sync_to_async(Note.objects.create)(body=text_data)
            for note in await database_sync_to_async(list)(Note.objects.order_by("-id")[:20]):
                await self.send(text_data=note.body)
    ```

    ## Fix safety
    The fix is safe: `database_sync_to_async(callee)(args)` runs the same call with the same
    arguments in Django's thread-sensitive worker thread, closing stale connections around
    it (`channels/db.py`), and iteration becomes `await database_sync_to_async(list)(qs)`.
    No fix is offered where an `await` cannot be added without changing meaning: in a sync
    handler, a lambda, an f-string or a generator expression, for `in`, indexing and truth
    tests, or where the call is already awaited.

    ## Known problems
    Only values the analysis can prove are querysets are checked: `Model.objects` chains,
    names imported from a `models` module, and local names assigned from those.
    """

    code = "CHN101"
    markers = ("async def", "Async", "WebsocketDenier")
    name = "sync-orm-query-in-async"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

class C(AsyncWebsocketConsumer):
    async def connect(self):
        qs = Note.objects.filter(done=False).order_by("id")[:10]
        total = await database_sync_to_async(Note.objects.count)()
        async for note in qs:
            await self.send(text_data=note.body)
        note = await Note.objects.aget(pk=1)
        rows = await database_sync_to_async(lambda: list(qs))()

    @database_sync_to_async
    def rows(self):
        return list(Note.objects.all())
""",
        """
from channels.generic.websocket import WebsocketConsumer
from .models import Note

class C(WebsocketConsumer):
    def connect(self):
        self.accept()
        for note in Note.objects.all():
            self.send(text_data=note.body)
""",
    )
    invalid = (
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = Note.objects.get(pk=1)  # error
        count = len(Note.objects.filter(done=True))  # error
        for other in Note.objects.exclude(pk=note.pk):  # error
            pass
        qs = Note.objects.all()
        if qs.exists():  # error
            first = qs[0]  # error
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note
from channels.db import database_sync_to_async

class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        note = await database_sync_to_async(Note.objects.get)(pk=1)  # error
        count = await database_sync_to_async(len)(Note.objects.filter(done=True))  # error
        for other in await database_sync_to_async(list)(Note.objects.exclude(pk=note.pk)):  # error
            pass
        qs = Note.objects.all()
        if await database_sync_to_async(qs.exists)():  # error
            first = qs[0]  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for call in a.nodes(ast.Call):
            if not a.context(call).on_event_loop:
                continue
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in QUERYSET_SQL_METHODS:
                if a.orm(func.value) in (Orm.MANAGER, Orm.QUERYSET):
                    yield self._call(call, f"`{a.source(func)}()` runs a database query and {_HOW}")
            elif (
                isinstance(func, ast.Name)
                and func.id in EVALUATING_BUILTINS
                and func.id not in a.imports
                and call.args
                and a.orm(call.args[0]) is Orm.QUERYSET
            ):
                yield self._call(call, f"`{func.id}()` evaluates the queryset `{a.source(call.args[0])}` and {_HOW}")
        for loop in a.nodes(ast.For):
            if a.context(loop).on_event_loop and a.orm(loop.iter) is Orm.QUERYSET:
                yield self._iteration(loop.iter)
        for kind in (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp):
            for comp in a.nodes(kind):
                for generator in comp.generators:
                    if not generator.is_async and a.context(comp).on_event_loop and a.orm(generator.iter) is Orm.QUERYSET:
                        yield self._iteration(generator.iter)
        yield from self._unfixable_evaluations()

    def _unfixable_evaluations(self) -> Iterator[Violation]:
        a = self.analysis
        for compare in a.nodes(ast.Compare):
            for op, right in zip(compare.ops, compare.comparators):
                if isinstance(op, (ast.In, ast.NotIn)) and a.orm(right) is Orm.QUERYSET and a.context(compare).on_event_loop:
                    yield self.violation(compare, f"`in` evaluates the queryset `{a.source(right)}` and {_HOW}")
        for subscript in a.nodes(ast.Subscript):
            if a.orm(subscript.value) is not Orm.QUERYSET or not a.context(subscript).on_event_loop:
                continue
            if not isinstance(subscript.slice, ast.Slice) or subscript.slice.step is not None:
                yield self.violation(subscript, f"indexing the queryset `{a.source(subscript.value)}` runs a query and {_HOW}")
        for test in self._truth_tests():
            if a.orm(test) is Orm.QUERYSET and a.context(test).on_event_loop:
                yield self.violation(test, f"testing the truth of the queryset `{a.source(test)}` runs a query and {_HOW}")
        for operation in a.nodes(ast.BinOp):
            if (
                isinstance(operation.op, ast.Mod)
                and isinstance(operation.left, ast.Constant)
                and isinstance(operation.left.value, str)
                and a.context(operation).on_event_loop
            ):
                operands = operation.right.elts if isinstance(operation.right, ast.Tuple) else [operation.right]
                for operand in operands:
                    if a.orm(operand) is Orm.QUERYSET:
                        yield self.violation(operand, f"formatting the queryset `{a.source(operand)}` runs a query and {_HOW}")
        for value in a.nodes(ast.FormattedValue):
            if a.orm(value.value) is Orm.QUERYSET and a.context(value).on_event_loop:
                yield self.violation(value.value, f"formatting the queryset `{a.source(value.value)}` runs a query and {_HOW}")

    def _truth_tests(self) -> Iterator[ast.expr]:
        a = self.analysis
        for kind in (ast.If, ast.While, ast.IfExp):
            for node in a.nodes(kind):
                yield node.test
        for node in a.nodes(ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                yield node.operand
        for node in a.nodes(ast.BoolOp):
            yield from node.values[:-1]  # the last operand is returned, not tested

    def _call(self, call: ast.Call, message: str) -> Violation:
        a = self.analysis
        if a.can_await_here(call) and not a.is_awaited(call):
            return self.violation(
                call,
                message + f"; use `await database_sync_to_async({a.source(call.func)})(...)`",
                (CallThrough(a.span(call), "database_sync_to_async"),),
                "Run the call through `database_sync_to_async`",
                (DB_SYNC_TO_ASYNC,),
            )
        return self.violation(call, message + "; move it into a `@database_sync_to_async` function")

    def _iteration(self, iterable: ast.expr) -> Violation:
        a = self.analysis
        message = f"iterating the queryset `{a.source(iterable)}` runs a query and {_HOW}"
        if a.can_await_here(iterable):
            return self.violation(
                iterable,
                message + "; use `async for` or `await database_sync_to_async(list)(...)`",
                (WrapIn(a.span(iterable), "database_sync_to_async(list)", awaited=True),),
                "Evaluate the queryset with `database_sync_to_async(list)`",
                (DB_SYNC_TO_ASYNC,),
            )
        return self.violation(iterable, message + "; use `async for` or move it into a `@database_sync_to_async` function")
