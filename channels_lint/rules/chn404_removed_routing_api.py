"""CHN404: routing and ASGI API removed by the target Django or Channels."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.facts import REMOVED_ROUTING_API
from channels_lint.diagnostics import Applicability, ReplaceWith, Violation
from channels_lint.rules.base import Invalid, Rule


class RemovedRoutingApi(Rule):
    """
    ## What it does
    Checks uses of routing and ASGI API that the target versions removed:
    `django.conf.urls.url()` (removed in Django 4.0) and `channels.http.AsgiHandler` (removed
    in Channels 4.0). The versions come from the project's pins or `--django-version` /
    `--channels-version`.

    ## Why is this bad?
    The import fails, so the routing module, and with it the ASGI application, cannot be
    loaded: the server does not start (docs/semantics.md §10.1). `url()` was `re_path()` under
    another name; Django's own ASGI application, `get_asgi_application()`, replaces
    `AsgiHandler` for HTTP.

    ## Example
    ```python
    from channels.http import AsgiHandler
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.conf.urls import url

    from . import consumers

    application = ProtocolTypeRouter({
        "http": AsgiHandler(),
        "websocket": URLRouter([url(r"^ws/chat/$", consumers.ChatConsumer.as_asgi())]),
    })
    ```

    Use instead:
    ```python
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application
    from django.urls import re_path

    from . import consumers

    application = ProtocolTypeRouter({
        "http": get_asgi_application(),
        "websocket": URLRouter([re_path(r"^ws/chat/$", consumers.ChatConsumer.as_asgi())]),
    })
    ```

    ## Fix safety
    `url(...)` becomes `re_path(...)`, which Django 2.0-3.2's `url()` called with the same
    arguments; `AsgiHandler()` (or the bare `AsgiHandler` as an application) becomes
    `get_asgi_application()`; the imports are added and the removed ones dropped when nothing
    else uses them. The original cannot even be imported on the target version, so no working
    code changes behaviour: the fix is safe. A subclass of `AsgiHandler` is reported without
    a fix.
    """

    code = "CHN404"
    markers = ("django.conf.urls", "AsgiHandler")
    name = "removed-routing-api"
    fix_applicability = Applicability.SAFE

    valid = (
        """
from django.conf.urls import include
from django.core.asgi import get_asgi_application
from django.urls import re_path

urlpatterns = [re_path(r"^api/", include("api.urls"))]
application = get_asgi_application()
""",
    )
    invalid = (
        Invalid(
            """
from channels.http import AsgiHandler
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf.urls import url

from . import consumers

application = ProtocolTypeRouter({
    "http": AsgiHandler(),  # error
    "websocket": URLRouter([url(r"^ws/chat/$", consumers.ChatConsumer.as_asgi())]),  # error
})
""",
            fixed="""
from channels.routing import ProtocolTypeRouter, URLRouter

from . import consumers
from django.core.asgi import get_asgi_application
from django.urls import re_path

application = ProtocolTypeRouter({
    "http": get_asgi_application(),  # error
    "websocket": URLRouter([re_path(r"^ws/chat/$", consumers.ChatConsumer.as_asgi())]),  # error
})
""",
        ),
        Invalid(
            """
from channels import http
from django.conf import urls

from . import views


class Handler(http.AsgiHandler):  # error
    pass


urlpatterns = [urls.url(r"^$", views.home)]  # error
""",
            fixed="""
from channels import http
from django.conf import urls

from . import views
from django.urls import re_path


class Handler(http.AsgiHandler):  # error
    pass


urlpatterns = [re_path(r"^$", views.home)]  # error
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        versions = {"django": a.settings.django_version, "channels": a.settings.channels_version}
        for node in (*a.syntax.nodes(ast.Name), *a.syntax.nodes(ast.Attribute)):
            if not isinstance(node.ctx, ast.Load):
                continue
            parent = a.syntax.parents.get(node)
            if isinstance(parent, ast.Attribute):
                continue  # only the whole dotted name (`http.AsgiHandler`, not `http`)
            qualified = a.names.qualname(node)
            removed = REMOVED_ROUTING_API.get(qualified or "")
            if removed is None:
                continue
            package, version, (module, replacement) = removed
            if versions[package] < version:
                continue
            shown = a.syntax.source(node)
            since = f"{'Django' if package == 'django' else 'Channels'} {version[0]}.{version[1]}"
            unused = (tuple(qualified.rsplit(".", 1)),)
            if replacement == "re_path":
                call = parent if isinstance(parent, ast.Call) and parent.func is node else None
                yield self.violation(
                    node,
                    f"`{shown}()` was removed in {since}, so this module cannot be imported; use `re_path()`, "
                    "which takes the same arguments",
                    (ReplaceWith(a.syntax.span(node), replacement),) if call is not None else (),
                    "Use `re_path()`",
                    ((module, replacement),),
                    unused,
                )
                continue
            called = isinstance(parent, ast.Call) and parent.func is node and not parent.args and not parent.keywords
            application = parent if called else node
            edits = ()
            if called or self._application_position(node):
                edits = (ReplaceWith(a.syntax.span(application), f"{replacement}()"),)
            yield self.violation(
                node,
                f"`{shown}` was removed in {since}, so this module cannot be imported; serve HTTP with "
                f"Django's `{replacement}()`",
                edits,
                f"Use `{replacement}()`",
                ((module, replacement),),
                unused,
            )

    def _application_position(self, node: ast.expr) -> bool:
        """``AsgiHandler`` itself used as an application (a router value or route target)."""
        return any(target.node is node for target in self.analysis.routes.applications)
