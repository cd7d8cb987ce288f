"""CHN403: consumer class routed without ``.as_asgi()``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import AS_ASGI_SINCE
from channels_lint.analysis.routes import TargetKind
from channels_lint.diagnostics import Applicability, CallMethod, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule


class MissingAsAsgi(Rule):
    """
    ## What it does
    Checks application positions (route targets, also inside nested `URLRouter`s and
    middleware such as `AuthMiddlewareStack(...)`, and the values of `ProtocolTypeRouter` and
    `ChannelNameRouter`) that hold a consumer class, `Consumer.as_asgi` without the call, or a
    consumer instance, instead of the ASGI application `Consumer.as_asgi()`; and
    `path(...).as_asgi()`, the call put on the route instead of its consumer. Applies when the
    target Channels is 3.0 or newer (on Channels 2 the bare class is correct).

    ## Why is this bad?
    Since Channels 3.0 a route needs an ASGI application (docs/semantics.md §1.6). Nothing
    checks this at startup (`manage.py check` never looks at websocket routes); the first
    connection fails with `TypeError: object ChatConsumer can't be used in 'await'
    expression` (or `as_asgi() takes 1 positional argument but 4 were given`). A consumer
    instance does not fail: every connection shares that one object and its attributes.
    `path(...).as_asgi()` fails at import (`URLPattern` has no `as_asgi`).

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
    The fix appends `.as_asgi()` (or the missing `()`), or moves `.as_asgi()` from the route
    onto its consumer, which is what Channels 3+ requires; it is safe. A routed instance is
    reported without a fix: its constructor arguments may not be keyword arguments
    `as_asgi(**initkwargs)` accepts, and code may rely on the shared state.

    ## Known problems
    A target counts as a consumer class when this module or the project defines it as one,
    when its name ends in `Consumer`, or when it is a CapWords name taken from a module named
    `consumers` (`consumers.Chat`). Other imported classes are not reported.
    """

    code = "CHN403"
    markers = ("Consumer", "websocket", "URLRouter", "as_asgi", "ChannelNameRouter")
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
        # Django's ASGI app and Channels' AsgiHandler are applications, not consumers; an
        # app factory's result is an application
        """
from channels.http import AsgiHandler
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

from .factory import build_app

django_asgi_app = get_asgi_application()
application = ProtocolTypeRouter({
    "http": URLRouter([path("legacy/", AsgiHandler()), path("", django_asgi_app)]),
    "websocket": build_app(),
})
""",
        # middleware-wrapped routers, routes returned by functions, lists extended with +=
        """
from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.urls import path

from . import consumers


def debug_routes():
    return [path("ws/debug/", consumers.DebugConsumer.as_asgi())]


websocket_urlpatterns = [path("ws/chat/", consumers.ChatConsumer.as_asgi())]
if settings.DEBUG:
    websocket_urlpatterns += debug_routes()
application = ProtocolTypeRouter({"websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns))})
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
        # inside middleware and nested routers, in a ProtocolTypeRouter, and the call put
        # on the route
        Invalid(
            """
from channels.auth import AuthMiddlewareStack
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter
from django.urls import path

from .consumers import ChatConsumer, EchoConsumer, ThumbnailConsumer

websocket_urlpatterns = [
    path("ws/chat/", AuthMiddlewareStack(ChatConsumer)),  # error
    path("ws/echo/", EchoConsumer).as_asgi(),  # error
]
application = ProtocolTypeRouter({
    "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    "channel": ChannelNameRouter({"thumbnails": ThumbnailConsumer}),  # error
})
""",
            fixed="""
from channels.auth import AuthMiddlewareStack
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter
from django.urls import path

from .consumers import ChatConsumer, EchoConsumer, ThumbnailConsumer

websocket_urlpatterns = [
    path("ws/chat/", AuthMiddlewareStack(ChatConsumer.as_asgi())),  # error
    path("ws/echo/", EchoConsumer.as_asgi()),  # error
]
application = ProtocolTypeRouter({
    "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    "channel": ChannelNameRouter({"thumbnails": ThumbnailConsumer.as_asgi()}),  # error
})
""",
        ),
        # a consumer instance: reported, not fixed
        Invalid(
            """
from django.urls import path
from .consumers import ChatConsumer

websocket_urlpatterns = [path("ws/chat/", ChatConsumer())]  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        if a.settings.channels_version < AS_ASGI_SINCE:
            return
        source, span = a.syntax.source, a.syntax.span
        seen: set[int] = set()
        for target in a.routes.applications:
            if not target.is_consumer or target.kind is TargetKind.AS_ASGI or id(target.inner) in seen:
                continue
            seen.add(id(target.inner))
            shown = source(target.inner)
            fixable = target.in_place
            if target.kind is TargetKind.UNCALLED_AS_ASGI:
                yield self.violation(
                    target.inner,
                    f"`{shown}` is not called, so the first connection fails; route `{shown}()`",
                    (CallMethod(span(target.inner), "as_asgi"),) if fixable else (),
                    "Call `as_asgi()`",
                )
            elif target.kind is TargetKind.CONSUMER_CLASS:
                yield self.violation(
                    target.inner,
                    f"the consumer class `{shown}` is routed without `.as_asgi()` and fails on the first "
                    f"connection; route `{shown}.as_asgi()`",
                    (CallMethod(span(target.inner), "as_asgi"),) if fixable else (),
                    "Append `.as_asgi()`",
                )
            else:  # an instance
                cls = source(target.class_node)
                yield self.violation(
                    target.inner,
                    f"the consumer instance `{shown}` is routed, so every connection shares it and its "
                    f"state; route `{cls}.as_asgi()`, which builds one consumer per connection",
                )
        for call in a.routes.misplaced_as_asgi:
            yield self._misplaced(call)

    def _misplaced(self, call: ast.Call) -> Violation:
        """``path(..., Consumer).as_asgi()``: move the call onto the consumer."""
        a = self.analysis
        route = a.routes.by_call.get(call.func.value)
        message = (
            f"`as_asgi()` is called on the route `{a.syntax.source(call.func.value)}`, which has no such method; "
            "call it on the consumer the route targets"
        )
        edits = ()
        target = route.target if route is not None else None
        if (
            target is not None
            and target.in_place
            and not target.wrappers
            and target.node.end_lineno == call.func.value.end_lineno
        ):
            text = self._route_text(call.func.value)
            if text is not None:
                if target.kind is TargetKind.AS_ASGI and not call.args and not call.keywords:
                    new = text  # the consumer already has it: drop the extra call
                elif target.kind is TargetKind.CONSUMER_CLASS:
                    arguments = a.syntax.source(call)[len(a.syntax.source(call.func)) :]
                    end = self._offset(call.func.value, target.node.end_lineno, target.node.end_col_offset)
                    new = text[:end] + ".as_asgi" + arguments + text[end:] if end is not None else None
                else:
                    new = None
                if new is not None:
                    edits = (ReplaceWith(a.syntax.span(call), new),)
        return self.violation(call, message, edits, "Call `as_asgi()` on the consumer")

    def _route_text(self, node: ast.expr) -> str | None:
        """The route call's exact source, when it is on one line."""
        if node.lineno != node.end_lineno:
            return None
        line, col, _, end_col = self.analysis.syntax.span(node)
        return self.analysis.lines[line - 1][col:end_col]

    def _offset(self, node: ast.expr, lineno: int, byte_col: int) -> int | None:
        if lineno != node.lineno:
            return None
        return self.analysis.syntax.char_col(lineno, byte_col) - self.analysis.syntax.span(node)[1]
