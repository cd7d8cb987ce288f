"""CHN403: consumer class routed without ``.as_asgi()``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import dotted, is_capitalized
from channels_lint.diagnostics import Applicability, CallMethod, Violation
from channels_lint.rules.base import Invalid, Rule

ROUTE_FUNCTIONS = frozenset({"django.urls.path", "django.urls.re_path", "django.conf.urls.url"})
URL_ROUTER = "channels.routing.URLRouter"


class MissingAsAsgi(Rule):
    """
    ## What it does
    Checks websocket routes (`path()`/`re_path()` in `websocket_urlpatterns` or in a
    `URLRouter([...])`) whose target is a consumer class, or `Consumer.as_asgi` without the
    call, instead of the ASGI application `Consumer.as_asgi()`.

    ## Why is this bad?
    Since Channels 3.0 a route needs an ASGI application (docs/releases/3.0.0.rst). Nothing
    checks this at startup (`manage.py check` never looks at websocket routes); the first
    connection fails with `TypeError: object ChatConsumer can't be used in 'await'
    expression` (or `as_asgi() takes 1 positional argument but 4 were given`).

    ## Example
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer),
    ]
    ```

    Use instead:
    ```python
    from django.urls import re_path

    from . import consumers

    websocket_urlpatterns = [
        re_path(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
    ]
    ```

    ## Fix safety
    The fix appends `.as_asgi()` (or the missing `()`), which is what Channels 3+ requires; it
    is safe.

    ## Known problems
    A target counts as a consumer class when the module defines it as one, when its name ends
    in `Consumer`, or, inside websocket routes, when it is a CapWords name. An ASGI
    application written as a class instance with a CapWords name would be reported.
    """

    code = "CHN403"
    markers = ("Consumer", "websocket", "URLRouter", "as_asgi")
    name = "missing-as-asgi"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from django.urls import path, re_path
from channels.routing import URLRouter
from . import consumers, views

ChatRouter = URLRouter([path("room/", consumers.Room.as_asgi())])
websocket_urlpatterns = [
    path("ws/chat/", consumers.ChatConsumer.as_asgi()),
    path("ws/raw/", consumers.raw_asgi_app),
    re_path(r"^ws/nested/", URLRouter([path("x/", consumers.X.as_asgi())])),
    path("ws/chat/", ChatRouter),
]
urlpatterns = [path("home/", views.HomeView.as_view())]
""",
    )
    invalid = (
        Invalid(
            """
from django.urls import path, re_path
from channels.routing import URLRouter
from . import consumers
from .consumers import ChatConsumer

websocket_urlpatterns = [
    re_path(r"^ws/course/(?P<course_id>\\d+)/$", consumers.CourseConsumer),  # error
    path("ws/chat/", ChatConsumer.as_asgi),  # error
]
router = URLRouter([path("ws/other/", consumers.Other)])  # error
""",
            fixed="""
from django.urls import path, re_path
from channels.routing import URLRouter
from . import consumers
from .consumers import ChatConsumer

websocket_urlpatterns = [
    re_path(r"^ws/course/(?P<course_id>\\d+)/$", consumers.CourseConsumer.as_asgi()),  # error
    path("ws/chat/", ChatConsumer.as_asgi()),  # error
]
router = URLRouter([path("ws/other/", consumers.Other.as_asgi())])  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        source, span = a.syntax.source, a.syntax.span
        for call in a.syntax.nodes(ast.Call):
            if not a.names.resolves_to(call.func, ROUTE_FUNCTIONS):
                continue
            target = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "view"), None)
            if target is None:
                continue
            if isinstance(target, ast.Attribute) and target.attr == "as_asgi":
                yield self.violation(
                    target,
                    f"`{source(target)}` is not called; route `{source(target)}()`",
                    (CallMethod(span(target), "as_asgi"),),
                    "Call `as_asgi()`",
                )
            elif self._is_consumer_class(target, self._in_websocket_routes(call)):
                yield self.violation(
                    target,
                    f"the consumer class `{source(target)}` is routed without `.as_asgi()` and fails on the "
                    f"first connection; route `{source(target)}.as_asgi()`",
                    (CallMethod(span(target), "as_asgi"),),
                    "Append `.as_asgi()`",
                )

    def _is_consumer_class(self, target: ast.expr, websocket_routes: bool) -> bool:
        name = dotted(target)
        if name is None:
            return False
        last = name.rsplit(".", 1)[-1]
        if isinstance(target, ast.Name):
            if any(c.node.name == last for c in self.analysis.consumers.by_class.values()):
                return True
            if last in self.analysis.names.local_names(self.analysis.tree):
                return False  # ChatRouter = URLRouter([...]): an application, not a class
        class_like = is_capitalized(last) and not last.isupper()  # CapWords, not a CONSTANT
        return last.endswith("Consumer") or (websocket_routes and class_like)

    def _in_websocket_routes(self, route: ast.Call) -> bool:
        """Whether the route sits in a ``URLRouter([...])`` or a list named ``*websocket*``."""
        a = self.analysis
        for parent in a.syntax.ancestors(route):
            if isinstance(parent, ast.Call) and a.names.resolves_to(parent.func, URL_ROUTER):
                return True
            if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                return any("websocket" in (dotted(t) or "").lower() for t in targets)
            if isinstance(parent, ast.stmt):
                return False
        return False
