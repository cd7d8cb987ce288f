"""Routing facts and rules across the modules of a project: routes split across ``asgi.py``
and ``routing.py``, the URL kwargs each consumer's routes define (``route_kwargs``, which the
connection-data rules read), lists routed by another module, the import graph an ASGI module
starts, the ASGI settings, and the version gates of CHN403/CHN404/CHN411."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels_lint.project import ProjectIndex

from .helpers import make_project
from .test_routing_real_code import routing_findings

CONSUMERS = """\
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Room


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.team = self.scope["url_route"]["kwargs"]["team"]
        await self.accept()


class EchoConsumer(AsyncWebsocketConsumer):
    pass
"""
MODELS = "from django.db import models\n\n\nclass Room(models.Model):\n    name = models.CharField(max_length=9)\n"
ROUTING = """\
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("chat/<slug:room>/", consumers.ChatConsumer.as_asgi()),
    path("echo/<uuid:token>/", consumers.EchoConsumer.as_asgi()),
]
"""
ASGI = """\
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import re_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
django_asgi_app = get_asgi_application()

import chat.routing  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": URLRouter([re_path(r"^ws/(?P<team>[a-z]+)/", URLRouter(chat.routing.websocket_urlpatterns))]),
})
"""
SETTINGS = 'INSTALLED_APPS = ["daphne", "chat"]\nASGI_APPLICATION = "proj.asgi.application"\n'
FILES = {
    "requirements.txt": "Django>=4.2\nchannels>=4.0\n",
    "proj/__init__.py": "",
    "proj/settings.py": SETTINGS,
    "proj/asgi.py": ASGI,
    "chat/__init__.py": "",
    "chat/models.py": MODELS,
    "chat/consumers.py": CONSUMERS,
    "chat/routing.py": ROUTING,
}


def index(tmp_path: Path, files: dict[str, str]) -> ProjectIndex:
    tmp_path.mkdir(parents=True, exist_ok=True)
    root = make_project(tmp_path, files)
    return ProjectIndex(root)  # a fresh index, not the per-process cached one


# ---------------------------------------------------------------------------- route_kwargs
def test_route_kwargs_join_routes_across_modules_with_their_converters(tmp_path: Path) -> None:
    kwargs = index(tmp_path, FILES).route_kwargs("ChatConsumer")
    assert set(kwargs) == {"room", "team"}
    assert (kwargs["room"].converter, kwargs["room"].regex) == ("slug", "[-a-zA-Z0-9_]+")
    assert (kwargs["team"].converter, kwargs["team"].regex) == ("regex", "[a-z]+")
    assert kwargs["room"].always and kwargs["team"].always
    echo = index(tmp_path / "echo", FILES).route_kwargs("EchoConsumer")
    assert {name: fact.converter for name, fact in echo.items()} == {"token": "uuid", "team": "regex"}


def test_route_kwargs_of_several_routes_disagreeing(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "]\n",
        '    re_path(r"^chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi()),\n    path("lobby/", consumers.ChatConsumer.as_asgi(), {"room": "lobby"}),\n]\n',
    ).replace("from django.urls import path", "from django.urls import path, re_path")
    kwargs = index(tmp_path, {**FILES, "chat/routing.py": routing}).route_kwargs("ChatConsumer")
    room = kwargs["room"]
    assert room.converter is None  # the routes disagree
    assert sorted((d.converter, d.regex) for d in room.definitions) == [
        ("default", None),
        ("regex", "\\w+"),
        ("slug", "[-a-zA-Z0-9_]+"),
    ]
    assert room.always


@pytest.mark.parametrize(
    ("route", "consumer"),
    [('"chat/<slug:room>/"', "ChatConsumer"), ('"echo/<uuid:token>/"', "EchoConsumer")],
)
def test_route_kwargs_unknown_when_a_route_is_not_evaluated(tmp_path: Path, route: str, consumer: str) -> None:
    routing = "from django.conf import settings\n" + ROUTING.replace(route, "settings.SOME_ROUTE")
    assert index(tmp_path, {**FILES, "chat/routing.py": routing}).route_kwargs(consumer) is None


def test_route_kwargs_none_without_a_route_or_with_as_asgi_elsewhere(tmp_path: Path) -> None:
    assert index(tmp_path, FILES).route_kwargs("Unknown") is None
    elsewhere = {**FILES, "chat/apps_asgi.py": "from .consumers import EchoConsumer\n\nsolo = EchoConsumer.as_asgi()\n"}
    assert index(tmp_path / "b", elsewhere).route_kwargs("EchoConsumer") is None
    # a test module's as_asgi() is not a route and does not hide the routes
    tests = {**FILES, "chat/tests/test_ws.py": "from chat.consumers import EchoConsumer\n\napp = EchoConsumer.as_asgi()\n"}
    assert index(tmp_path / "c", tests).route_kwargs("EchoConsumer") is not None


def test_analysis_sees_the_module_being_linted(tmp_path: Path) -> None:
    import ast

    from channels_lint.analysis import ModuleAnalysis

    root = make_project(tmp_path, FILES)
    edited = ROUTING.replace("<slug:room>", "<int:room>")
    analysis = ModuleAnalysis(
        ast.parse(edited), edited.splitlines(True), str(root / "chat/routing.py"), project=ProjectIndex(root)
    )
    assert analysis.routes.route_kwargs("ChatConsumer")["room"].converter == "int"


# ---------------------------------------------------------------------------- CHN409 across modules
def test_kwarg_read_that_no_route_defines_is_reported_in_the_consumer(tmp_path: Path) -> None:
    routing = ROUTING.replace("<slug:room>", "<slug:room_name>")
    findings = routing_findings(tmp_path, {**FILES, "chat/routing.py": routing}, "chat/consumers.py")
    assert findings == [(8, "CHN409")]
    assert routing_findings(tmp_path, FILES, "chat/consumers.py") == []


def test_kwarg_from_a_prefix_elsewhere_is_not_reported(tmp_path: Path) -> None:
    # `team` comes only from asgi.py's prefix route: the prefix reaches the consumer
    assert routing_findings(tmp_path, FILES, "chat/consumers.py") == []
    unknown_prefix = ASGI.replace('r"^ws/(?P<team>[a-z]+)/"', "settings.WS_PREFIX")
    routing = ROUTING.replace("<slug:room>", "<slug:room_name>")
    files = {**FILES, "proj/asgi.py": unknown_prefix, "chat/routing.py": routing}
    assert routing_findings(tmp_path, files, "chat/consumers.py") == []  # the prefix may define anything


# ---------------------------------------------------------------------------- CHN410 across modules
def test_include_in_a_list_another_module_routes(tmp_path: Path) -> None:
    routing = ROUTING.replace("]\n", '    path("legacy/", include("legacy.routing")),\n]\n').replace(
        "from django.urls import path", "from django.urls import include, path"
    )
    assert routing_findings(tmp_path, {**FILES, "chat/routing.py": routing}, "chat/routing.py") == [(8, "CHN410")]
    # the same list, routed by no URLRouter and not named for websockets: Django urlpatterns
    plain = routing.replace("websocket_urlpatterns", "urlpatterns")
    asgi = ASGI.replace("chat.routing.websocket_urlpatterns", "[]")
    assert routing_findings(tmp_path, {**FILES, "chat/routing.py": plain, "proj/asgi.py": asgi}, "chat/routing.py") == []


# ---------------------------------------------------------------------------- CHN411 across modules
def test_import_before_setup_reaches_models_through_project_modules(tmp_path: Path) -> None:
    early = ASGI.replace("import chat.routing  # noqa: E402\n", "").replace(
        "from django.urls import re_path\n", "from django.urls import re_path\n\nimport chat.routing\n"
    )
    (tmp_path / "p").mkdir()
    root = make_project(tmp_path / "p", {**FILES, "proj/asgi.py": early})
    from channels_lint.engine import Source, lint, selected_rules

    violations = lint(Source.from_text(early), selected_rules(["CHN411"]), path=str(root / "proj/asgi.py"))
    assert [(v.line, v.code) for v in violations] == [(7, "CHN411")]
    assert "`chat.routing`" in violations[0].message and "`chat.models` through `chat.consumers`" in violations[0].message
    # a routing module that imports no models may come first
    harmless = {**FILES, "chat/consumers.py": CONSUMERS.replace("from .models import Room\n", ""), "proj/asgi.py": early}
    assert routing_findings(tmp_path, harmless, "proj/asgi.py") == []


def test_missing_http_needs_daphne_channels_4_and_the_asgi_application(tmp_path: Path) -> None:
    websocket_only = ASGI.replace('    "http": django_asgi_app,\n', "")
    files = {**FILES, "proj/asgi.py": websocket_only}
    assert routing_findings(tmp_path, files, "proj/asgi.py") == [(12, "CHN411")]
    no_daphne = {**files, "proj/settings.py": SETTINGS.replace('"daphne", ', "")}
    assert routing_findings(tmp_path, no_daphne, "proj/asgi.py") == []
    channels_3 = {**files, "requirements.txt": "Django>=3.2\nchannels>=3.0,<4\n"}
    assert routing_findings(tmp_path, channels_3, "proj/asgi.py") == []
    other_entry = {**files, "proj/settings.py": SETTINGS.replace("proj.asgi.application", "proj.other.application")}
    assert routing_findings(tmp_path, other_entry, "proj/asgi.py") == []


# ---------------------------------------------------------------------------- version gates
def test_missing_as_asgi_only_on_channels_3_and_later(tmp_path: Path) -> None:
    routing = ROUTING.replace("consumers.EchoConsumer.as_asgi()", "consumers.EchoConsumer")
    assert routing_findings(tmp_path, {**FILES, "chat/routing.py": routing}, "chat/routing.py") == [(7, "CHN403")]
    for pins in ("Django==2.2\nchannels==2.4.0\n", "Django>=2.2\nchannels>=2.1,<3\n"):
        old = {**FILES, "chat/routing.py": routing, "requirements.txt": pins}
        assert routing_findings(tmp_path, old, "chat/routing.py") == []


def test_removed_api_by_target_version(tmp_path: Path) -> None:
    routing = (
        "from channels.http import AsgiHandler\nfrom django.conf.urls import url\n\nfrom . import consumers\n\n"
        'websocket_urlpatterns = [url(r"^chat/(?P<room>\\w+)/$", consumers.ChatConsumer.as_asgi())]\nhttp = AsgiHandler()\n'
    )
    files = {**FILES, "chat/routing.py": routing}
    for pins, expected in [
        ("Django>=3.2,<4\nchannels>=3.0,<4\n", []),
        ("Django>=4.0\nchannels>=3.0,<4\n", [(6, "CHN404")]),
        ("Django>=3.2,<4\nchannels>=4.0\n", [(7, "CHN404")]),
    ]:
        assert routing_findings(tmp_path, {**files, "requirements.txt": pins}, "chat/routing.py") == expected, pins
