"""CHN410: ``include()`` inside a ``URLRouter``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import INCLUDE_FUNCTIONS
from channels_lint.analysis.routes import TargetKind
from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Invalid, Rule


class IncludeInUrlRouter(Rule):
    """
    ## What it does
    Checks `include()` used as a route target, or as an entry, in a list of routes that a
    `URLRouter` routes: the list is passed to `URLRouter(...)` in this module, is named for
    websocket routes, or another module of the project routes it.

    ## Why is this bad?
    `URLRouter` rejects `include()` when it is built: `ImproperlyConfigured: ... include() is
    not supported in URLRouter. Use nested URLRouter instances instead.`; a bare `include()`
    entry (a tuple) fails with `AttributeError: 'tuple' object has no attribute 'callback'`
    (docs/semantics.md §1.4). The ASGI application cannot be loaded and the server does not
    start.

    ## Example
    ```python
    from channels.routing import URLRouter
    from django.urls import include, path

    application = URLRouter([
        path("ws/chat/", include("chat.routing")),
    ])
    ```

    Use instead:
    ```python
    from channels.routing import URLRouter
    from django.urls import path

    import chat.routing

    application = URLRouter([
        path("ws/chat/", URLRouter(chat.routing.websocket_urlpatterns)),
    ])
    ```

    ## Fix safety
    No fix: the included module's list has to be named (Django's `include()` reads its
    `urlpatterns`; Channels routing modules usually call theirs otherwise).
    """

    code = "CHN410"
    markers = (("include", "URLRouter"), ("include", "websocket"), ("include", "onsumer"))
    name = "include-in-url-router"

    valid = (
        """
from django.urls import include, path

urlpatterns = [path("api/", include("api.urls"))]
""",
    )
    invalid = (
        Invalid(
            """
from channels.routing import URLRouter
from django.urls import include, path, re_path

websocket_urlpatterns = [
    re_path(r"^ws/chat/", include("chat.routing")),  # error
]
other = [path("ws/news/", include("news.routing"))]  # error
application = URLRouter(other + [include("extra.routing")])  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        for route in a.routes.routes:
            if route.target is not None and route.target.kind is TargetKind.INCLUDE and a.routes.in_router(route):
                yield self._violation(route.target.node)
        for router in a.routes.routers:
            for item in router.entries.items:
                if isinstance(item, ast.Call) and a.names.qualname(item.func) in INCLUDE_FUNCTIONS:
                    yield self._violation(item)

    def _violation(self, node: ast.expr) -> Violation:
        return self.violation(
            node,
            f"`URLRouter` does not support `{self.analysis.syntax.source(node)}` and fails when it is built; "
            "nest a `URLRouter` of the included routes instead",
        )
