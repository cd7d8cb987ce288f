"""CHN112: a middleware that says it is async-capable but has a plain ``def __call__``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule

#: Names whose use shows the middleware adapts itself to an async ``get_response``
#: (asgiref.sync.markcoroutinefunction, iscoroutinefunction checks, Django's MiddlewareMixin).
ADAPTS = frozenset({"markcoroutinefunction", "iscoroutinefunction", "_is_coroutine", "MiddlewareMixin"})


class AsyncCapableSyncMiddleware(Rule):
    """
    ## What it does
    Checks middleware classes that set `async_capable = True` but define `__call__` as a
    plain `def` and never adapt to an async `get_response` (no `markcoroutinefunction`, no
    `iscoroutinefunction` check, not a `MiddlewareMixin`).

    ## Why is this bad?
    For a middleware that is async-capable, Django passes an async `get_response` when the
    stack runs under ASGI (django/core/handlers/base.py `load_middleware`). A plain
    `__call__` then returns `self.get_response(request)` without awaiting it: the response
    is a coroutine, and Django fails with "The view ... didn't return an HttpResponse
    object. It returned an unawaited coroutine instead" (or the coroutine is never awaited).
    The Django docs require such a middleware to mark itself with `markcoroutinefunction`
    and provide an `async def __call__`.

    ## Example
    ```python
    class TimingMiddleware:
        sync_capable = True
        async_capable = True

        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            return self.get_response(request)
    ```

    Use instead:
    ```python
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction


    class TimingMiddleware:
        sync_capable = True
        async_capable = True

        def __init__(self, get_response):
            self.get_response = get_response
            if iscoroutinefunction(self.get_response):
                markcoroutinefunction(self)

        def __call__(self, request):
            if iscoroutinefunction(self):
                return self.__acall__(request)
            return self.get_response(request)

        async def __acall__(self, request):
            return await self.get_response(request)
    ```

    ## Fix safety
    No fix: the async path has to be written by hand.

    ## Known problems
    Only `async_capable = True` written in the class body is seen.
    """

    code = "CHN112"
    name = "async-capable-sync-middleware"
    markers = ("async_capable",)

    valid = (
        """
from django.utils.deprecation import MiddlewareMixin

class A(MiddlewareMixin):
    async_capable = True

    def __call__(self, request):
        return super().__call__(request)

class SyncOnly:
    async_capable = False

    def __call__(self, request):
        return self.get_response(request)

class AsyncOnly:
    sync_capable = False
    async_capable = True

    async def __call__(self, request):
        return await self.get_response(request)
""",
    )
    invalid = (
        Invalid(
            """
class HeaderMiddleware:
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):  # error
        response = self.get_response(request)
        response["X-Frame"] = "deny"
        return response
"""
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for cls in a.syntax.nodes(ast.ClassDef):
            if not _sets_true(cls, "async_capable"):
                continue
            call = next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "__call__"), None)
            if call is None or self._adapts(cls):
                continue
            yield self.violation(
                call,
                f"`{cls.name}` sets `async_capable = True` but `__call__` is a plain `def`: under ASGI Django passes an "
                "async `get_response` and the response becomes an unawaited coroutine; mark the instance with "
                "`markcoroutinefunction` and await `get_response` in an async path",
            )

    def _adapts(self, cls: ast.ClassDef) -> bool:
        names = self.analysis.names
        for base in cls.bases:
            if (names.qualname(base) or "").rsplit(".", 1)[-1] == "MiddlewareMixin":
                return True
        for node in ast.walk(cls):
            if isinstance(node, ast.Name) and node.id in ADAPTS:
                return True
            if isinstance(node, ast.Attribute) and node.attr in ADAPTS:
                return True
        return False


def _sets_true(cls: ast.ClassDef, name: str) -> bool:
    return any(
        isinstance(s, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)
        and isinstance(s.value, ast.Constant)
        and s.value.value is True
        for s in cls.body
    )
