"""Real routing code the routing rules (CHN401-CHN411) must leave alone (issue 10's list),
one test each, linted inside a small project with every CHN4 rule and the project's pinned
versions (as the CLI and flake8 read them); where a shape has a buggy twin, the twin is
reported, so each test can fail."""

from __future__ import annotations

import itertools
from pathlib import Path

from channels_lint.engine import Source, lint, selected_rules
from channels_lint.project import project_settings

from .helpers import make_project

_PROJECTS = itertools.count()


def routing_findings(tmp_path: Path, files: dict[str, str], target: str) -> list[tuple[int, str]]:
    """CHN4 findings in ``target`` of a new project holding ``files`` (each call gets its own
    root: the project index is built once per root and process)."""
    directory = tmp_path / f"project{next(_PROJECTS)}"
    directory.mkdir()
    root = make_project(directory, files)
    settings = project_settings(root)
    source = Source.from_text((root / target).read_text())
    return [(v.line, v.code) for v in lint(source, selected_rules(["CHN4"]), path=str(root / target), settings=settings)]


CONSUMERS = """\
from channels.generic.websocket import AsyncWebsocketConsumer


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        await self.accept()


class DebugConsumer(AsyncWebsocketConsumer):
    pass


class TeamConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.team = self.scope["url_route"]["kwargs"]["team"]
        self.channel = self.scope["url_route"]["kwargs"]["channel"]
        await self.accept()
"""


def test_route_list_not_named_websocket_urlpatterns(tmp_path: Path) -> None:
    routing = """\
from django.urls import path, re_path

from . import consumers

ws_routes = [
    re_path(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
]
"""
    files = {"chat/__init__.py": "", "chat/consumers.py": CONSUMERS, "chat/routing.py": routing}
    assert routing_findings(tmp_path, files, "chat/routing.py") == []
    assert routing_findings(tmp_path, files, "chat/consumers.py") == []
    broken = routing.replace("consumers.ChatConsumer.as_asgi()", "consumers.ChatConsumer")
    assert routing_findings(tmp_path, {**files, "chat/routing.py": broken}, "chat/routing.py") == [(6, "CHN403")]


def test_list_extended_with_plus_equals_under_a_setting(tmp_path: Path) -> None:
    routing = """\
from django.conf import settings
from django.urls import path

from . import consumers

websocket_urlpatterns = [path("ws/chat/<slug:room>/", consumers.ChatConsumer.as_asgi())]
if settings.DEBUG:
    websocket_urlpatterns += [path("ws/debug/", consumers.DebugConsumer.as_asgi())]
if settings.TEAMS:
    websocket_urlpatterns.extend([path("ws/<slug:team>/<slug:channel>/", consumers.TeamConsumer.as_asgi())])
"""
    files = {"chat/__init__.py": "", "chat/consumers.py": CONSUMERS, "chat/routing.py": routing}
    assert routing_findings(tmp_path, files, "chat/routing.py") == []
    assert routing_findings(tmp_path, files, "chat/consumers.py") == []
    # the routes added later are routes to those consumers: a kwarg none of them defines is reported
    renamed = routing.replace("<slug:channel>", "<slug:chan>")
    assert routing_findings(tmp_path, {**files, "chat/routing.py": renamed}, "chat/consumers.py") == [(17, "CHN409")]


def test_routes_returned_by_functions(tmp_path: Path) -> None:
    routing = """\
from django.urls import path, re_path

from . import consumers


def chat_routes(prefix):
    return [re_path(rf"^{prefix}/chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi())]


def debug_routes():
    routes = [path("ws/debug/", consumers.DebugConsumer.as_asgi())]
    routes.append(path("ws/debug/<slug:team>/<slug:channel>/", consumers.TeamConsumer.as_asgi()))
    return routes
"""
    asgi = """\
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from chat.routing import chat_routes, debug_routes  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": URLRouter(chat_routes("ws") + debug_routes()),
})
"""
    files = {"chat/__init__.py": "", "chat/consumers.py": CONSUMERS, "chat/routing.py": routing, "proj/asgi.py": asgi}
    for module in ("chat/routing.py", "proj/asgi.py", "chat/consumers.py"):
        assert routing_findings(tmp_path, files, module) == []


def test_f_string_and_format_routes(tmp_path: Path) -> None:
    routing = """\
from django.conf import settings
from django.urls import path, re_path

from . import consumers

PREFIX = "ws"
VERSION = 2
websocket_urlpatterns = [
    path(f"{PREFIX}/v{VERSION}/chat/<slug:room>/", consumers.ChatConsumer.as_asgi()),
    re_path(r"^{}/chat/(?P<room>\\w+)/$".format(PREFIX), consumers.ChatConsumer.as_asgi()),
    re_path(rf"^{settings.WS_PREFIX}/(?P<room>{settings.ROOM_REGEX})/$", consumers.ChatConsumer.as_asgi()),
    path(settings.DEBUG_ROUTE + "/", consumers.DebugConsumer.as_asgi()),
    path(f"{PREFIX!r}/x/", consumers.DebugConsumer.as_asgi()),
]
"""
    files = {"chat/__init__.py": "", "chat/consumers.py": CONSUMERS, "chat/routing.py": routing}
    assert routing_findings(tmp_path, files, "chat/routing.py") == []
    # evaluated when constant: the same shape with regex syntax in path() is reported
    broken = routing.replace('f"{PREFIX}/v{VERSION}/chat/<slug:room>/"', 'f"^{PREFIX}/chat/$"')
    assert routing_findings(tmp_path, {**files, "chat/routing.py": broken}, "chat/routing.py") == [(9, "CHN402")]


def test_nested_routers_under_open_ended_re_path_prefix(tmp_path: Path) -> None:
    routing = """\
from channels.routing import URLRouter
from django.urls import path, re_path

from . import consumers

team_routes = URLRouter([path("<slug:channel>/", consumers.TeamConsumer.as_asgi())])
websocket_urlpatterns = [
    re_path(r"ws/teams/(?P<team>[-\\w]+)/", team_routes),
    re_path(r"^ws/", URLRouter([re_path(r"^chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi())])),
]
"""
    files = {"chat/__init__.py": "", "chat/consumers.py": CONSUMERS, "chat/routing.py": routing}
    assert routing_findings(tmp_path, files, "chat/routing.py") == []
    assert routing_findings(tmp_path, files, "chat/consumers.py") == []
    broken = routing.replace('r"^ws/", URLRouter', 'r"^ws/$", URLRouter')
    assert routing_findings(tmp_path, {**files, "chat/routing.py": broken}, "chat/routing.py") == [(9, "CHN406")]


def test_middleware_wrapped_routers(tmp_path: Path) -> None:
    asgi = """\
import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.urls import re_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
django_asgi_app = get_asgi_application()

from chat import consumers  # noqa: E402
from chat.middleware import TokenAuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(
        AuthMiddlewareStack(
            URLRouter([
                re_path(r"^ws/api/", TokenAuthMiddlewareStack(URLRouter([
                    re_path(r"^chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),
                ]))),
            ])
        )
    ),
})
"""
    files = {
        "chat/__init__.py": "",
        "chat/consumers.py": CONSUMERS,
        "chat/middleware.py": "def TokenAuthMiddlewareStack(inner):\n    return inner\n",
        "proj/asgi.py": asgi,
    }
    assert routing_findings(tmp_path, files, "proj/asgi.py") == []
    broken = asgi.replace('re_path(r"^ws/api/", TokenAuth', 'path("ws/api/", TokenAuth').replace(
        "from django.urls import re_path", "from django.urls import path, re_path"
    )
    assert routing_findings(tmp_path, {**files, "proj/asgi.py": broken}, "proj/asgi.py") == [(20, "CHN406")]


def test_non_consumer_asgi_apps(tmp_path: Path) -> None:
    asgi = """\
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import re_path

from graphql_app import build_graphql_app, GraphQLApp

django_asgi_app = get_asgi_application()
graphql = build_graphql_app()
application = ProtocolTypeRouter({
    "http": URLRouter([
        re_path(r"^graphql/", graphql),
        re_path(r"^other/", GraphQLApp),
        re_path(r"", django_asgi_app),
    ]),
    "websocket": build_graphql_app(),
})
"""
    files = {"proj/asgi.py": asgi}
    assert routing_findings(tmp_path, files, "proj/asgi.py") == []


def test_channels_2_project_routes_bare_classes(tmp_path: Path) -> None:
    routing = """\
from channels.auth import AuthMiddlewareStack
from channels.http import AsgiHandler
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf.urls import url

from chat import consumers

application = ProtocolTypeRouter({
    "http": AsgiHandler,
    "websocket": AuthMiddlewareStack(URLRouter([
        url(r"^ws/chat/(?P<room>\\w+)/$", consumers.ChatConsumer),
    ])),
})
"""
    files = {
        "requirements.txt": "Django==2.2.28\nchannels==2.4.0\n",
        "chat/__init__.py": "",
        "chat/consumers.py": CONSUMERS,
        "proj/routing.py": routing,
    }
    assert routing_findings(tmp_path, files, "proj/routing.py") == []
    upgraded = {**files, "requirements.txt": "Django>=4.2\nchannels>=4.0\n"}
    assert sorted(code for _, code in routing_findings(tmp_path, upgraded, "proj/routing.py")) == [
        "CHN403",
        "CHN404",
        "CHN404",
    ]


def test_django_setup_before_late_imports(tmp_path: Path) -> None:
    asgi = """\
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({"http": get_asgi_application(), "websocket": URLRouter(websocket_urlpatterns)})
"""
    routing = 'from django.urls import path\n\nfrom . import consumers\n\nwebsocket_urlpatterns = [path("ws/<slug:room>/", consumers.ChatConsumer.as_asgi())]\n'
    files = {
        "chat/__init__.py": "",
        "chat/models.py": "from django.db import models\n\n\nclass Room(models.Model):\n    pass\n",
        "chat/consumers.py": "from .models import Room\n" + CONSUMERS,
        "chat/routing.py": routing,
        "proj/asgi.py": asgi,
    }
    assert routing_findings(tmp_path, files, "proj/asgi.py") == []
    early = asgi.replace("import django\n", "import django\nfrom chat.routing import websocket_urlpatterns\n").replace(
        "from chat.routing import websocket_urlpatterns  # noqa: E402\n", ""
    )
    assert routing_findings(tmp_path, {**files, "proj/asgi.py": early}, "proj/asgi.py") == [(4, "CHN411")]
