"""Execution context: where a piece of code runs (module, sync, a worker thread, the loop).

Facts (docs/semantics.md §2.2, §3.1): async consumers await their handlers on the event
loop, so a sync ``def`` that Channels calls from an async consumer runs on the loop;
``sync_to_async``/``database_sync_to_async`` (and ``asyncio.to_thread``,
``run_in_executor``) run their function in a worker thread.
"""

from __future__ import annotations

import ast
import enum
import functools
from collections import defaultdict, deque
from collections.abc import Callable

from channels_lint.analysis.consumers import Consumers
from channels_lint.analysis.facts import ASYNC_TO_SYNC, SYNC_TO_ASYNC
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Scope, Syntax, dotted, walk_scope


class Context(enum.Enum):
    """Where a piece of code runs."""

    MODULE = "module"  # module or class body: import time, sync
    SYNC = "sync"  # a plain ``def``: sync, not on the event loop unless called from it
    THREAD = "thread"  # a ``def`` run through sync_to_async/database_sync_to_async
    ASYNC = "async"  # an ``async def``: on the event loop, may ``await``
    LOOP_SYNC = "loop-sync"  # a sync ``def`` that Channels calls on the event loop
    UNKNOWN = "unknown"  # a lambda: where it runs is not decided statically

    @property
    def on_event_loop(self) -> bool:
        return self in (Context.ASYNC, Context.LOOP_SYNC)

    @property
    def is_sync(self) -> bool:
        return self in (Context.MODULE, Context.SYNC, Context.THREAD)


class ExecutionContext:
    """Execution context of every scope of one module.

    Args:
        handler_names: gives the event-handler method names (from the events this module and
            the project send): a sync ``def`` of that name in an async consumer is awaited by
            Channels, so it runs on the loop.
    """

    def __init__(self, syntax: Syntax, names: Names, consumers: Consumers, handler_names: Callable[[], frozenset[str]]) -> None:
        self.syntax = syntax
        self.names = names
        self.consumers = consumers
        self._handler_names = handler_names
        self._cache: dict[Scope, Context] = {}

    def is_bridge(self, node: ast.expr) -> bool:
        """``sync_to_async`` / ``database_sync_to_async``, bare or called, or a function of
        this module that returns one applied to its argument (a project's own wrapper, one
        level deep)."""
        if isinstance(node, ast.Call):
            node = node.func
        if self.names.resolves_to(node, SYNC_TO_ASYNC):
            return True
        return isinstance(node, ast.Name) and node.id in self._bridge_wrappers

    @functools.cached_property
    def _bridge_wrappers(self) -> frozenset[str]:
        wrappers = set()
        for function in self.syntax.tree.body:
            if isinstance(function, ast.FunctionDef):
                for node in walk_scope(function.body):
                    if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                        call = node.value
                        bridge = call.func.func if isinstance(call.func, ast.Call) else call.func
                        if self.names.resolves_to(bridge, SYNC_TO_ASYNC):
                            wrappers.add(function.name)
        return frozenset(wrappers)

    @functools.cached_property
    def _thread_functions(self) -> tuple[frozenset[str], frozenset[str]]:
        """Names of functions (first) and methods (second, as ``self.m``/``cls.m``) passed to
        a thread runner anywhere: ``sync_to_async(f)``, ``database_sync_to_async(f)``,
        ``asyncio.to_thread(f, ...)``, ``loop.run_in_executor(executor, f, ...)``."""
        names: set[str] = set()
        methods: set[str] = set()
        for call in self.syntax.nodes(ast.Call):
            target = None
            if (self.is_bridge(call.func) or self.names.resolves_to(call.func, "asyncio.to_thread")) and call.args:
                target = call.args[0]
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "run_in_executor" and len(call.args) > 1:
                target = call.args[1]
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in ("self", "cls"):
                methods.add(target.attr)
        return frozenset(names), frozenset(methods)

    def of(self, node: ast.AST) -> Context:
        """Where the code of ``node`` runs (see :class:`Context`); for a function node, where
        its body runs."""
        scope = (
            node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else self.syntax.enclosing_scope(node)
        )
        if scope not in self._cache:
            self._cache[scope] = self._scope_context(scope)
        return self._cache[scope]

    def _scope_context(self, scope: Scope) -> Context:
        if isinstance(scope, ast.Module):
            return Context.MODULE
        if isinstance(scope, ast.Lambda):
            parent = self.syntax.parents.get(scope)
            if isinstance(parent, ast.Call) and self.is_bridge(parent.func) and parent.args and parent.args[0] is scope:
                return Context.THREAD
            return Context.UNKNOWN
        if isinstance(scope, ast.AsyncFunctionDef):
            return Context.ASYNC
        if any(self.is_bridge(decorator) for decorator in scope.decorator_list):
            return Context.THREAD
        cls = self.syntax.parents.get(scope)
        if scope.name in self._thread_functions[isinstance(cls, ast.ClassDef)]:
            return Context.THREAD
        if isinstance(cls, ast.ClassDef):
            consumer = self.consumers.by_class.get(cls)
            if (
                consumer is not None
                and consumer.is_async
                and (scope.name in consumer.channels_methods or scope.name in self._handler_names())
            ):
                return Context.LOOP_SYNC
        return Context.SYNC

    def can_await_here(self, node: ast.AST) -> bool:
        """Whether an ``await`` can be inserted at ``node`` without changing semantics.

        True only directly in an ``async def`` body: not in a lambda, a sync def, an
        f-string (the fix would have to rewrite the string), or a generator expression
        (``await`` would turn it into an async generator).
        """
        if self.of(node) is not Context.ASYNC:
            return False
        return not self.syntax.inside(node, (ast.JoinedStr, ast.GeneratorExp, ast.Lambda, ast.ClassDef))

    # ------------------------------------------------------------------ sync helpers
    def is_plain_sync(self, function: ast.AST) -> bool:
        """A sync ``def`` not run through a bridge, with no decorator other than
        ``staticmethod``/``classmethod`` (whose effect is known)."""
        return (
            isinstance(function, ast.FunctionDef)
            and self.of(function) is Context.SYNC
            and all(dotted(d) in ("staticmethod", "classmethod") for d in function.decorator_list)
        )

    def sync_helpers(self, seeds: dict[ast.AST, ast.expr]) -> dict[ast.FunctionDef, tuple[ast.expr, bool]]:
        """The plain sync functions among ``seeds`` (scope -> the expression that makes it
        one), and every plain sync function of this module that calls one of those, helpers of
        helpers included; the value is the seed expression, or the call of such a helper (then
        ``True``), to quote."""
        found = {scope: (node, False) for scope, node in seeds.items() if self.is_plain_sync(scope)}
        callers: dict[ast.AST, list[tuple[ast.FunctionDef, ast.Call]]] = defaultdict(list)
        for call in self.syntax.nodes(ast.Call):
            callee, caller = self.names.local_function(call), self.syntax.enclosing_scope(call)
            if callee is not None and self.is_plain_sync(caller):
                callers[callee].append((caller, call))
        queue = deque(found)
        while queue:  # helpers of helpers: each function is reached once
            for caller, call in callers.get(queue.popleft(), ()):
                if caller not in found:
                    found[caller] = (call, True)
                    queue.append(caller)
        return found

    @functools.cached_property
    def async_to_sync_helpers(self) -> dict[ast.FunctionDef, tuple[ast.expr, bool]]:
        """Plain sync functions that run ``async_to_sync(f)(...)`` themselves or through
        another such function: called on the event loop they raise RuntimeError
        (docs/semantics.md §3.2)."""
        seeds: dict[ast.AST, ast.expr] = {}
        for call in self.syntax.nodes(ast.Call):
            if self.names.resolves_to(call.func, ASYNC_TO_SYNC) and call.args:
                seeds.setdefault(self.syntax.enclosing_scope(call), call)
        return self.sync_helpers(seeds)
