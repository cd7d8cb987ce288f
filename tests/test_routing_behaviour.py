"""Behaviour of every fixable routing code (issue 10) through ``URLRouter`` under
``WebsocketCommunicator``: the original routes fail (to connect, or to load at all), the
output of ``channels-lint fix`` connects and gets the URL kwargs the route was written for.

The routed consumer accepts and sends its ``url_route`` kwargs, so a connection proves which
route matched and what it captured.  Failures are raised as they happen
(``tests.helpers.Client`` races every receive against the application); no test waits on a
timeout.  CHN411's import order is run in a fresh interpreter, where the app registry is not
ready yet.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.middleware import BaseMiddleware

from .helpers import clients, fix_snippet, found, load_module, probed

#: Channels' async consumers close stale database connections around each message
#: (``aclose_old_connections``), which pytest-django allows only in database tests.
pytestmark = [pytest.mark.behaviour, pytest.mark.django_db(transaction=True)]


class _Echo(AsyncJsonWebsocketConsumer):
    """Accepts and sends the route's kwargs: which route matched, and what it captured."""

    async def connect(self):
        await self.accept()
        await self.send_json(self.scope["url_route"]["kwargs"])


class PassMiddleware(BaseMiddleware):
    """Middleware that changes nothing (it hides a router from ``path()`` all the same)."""


#: The consumer the routes target, reporting handled messages to the test's probe.
EchoConsumer = probed(_Echo)

ECHO = """\
from channels.routing import URLRouter
from django.urls import path, re_path

from tests.test_routing_behaviour import EchoConsumer, PassMiddleware

"""


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    routes: str  # the websocket_urlpatterns list
    path: str
    kwargs: dict
    #: the original's exception when a client connects (type, message pattern)
    failure: tuple[type[BaseException] | str, str]

    @property
    def source(self) -> str:
        return ECHO + self.routes + "\napplication = URLRouter(websocket_urlpatterns)\n"


NO_ROUTE = (ValueError, "No route found for path")
CASES = [
    Case(
        "CHN401-pcre-group",
        "CHN401",
        'websocket_urlpatterns = [re_path(r"^ws/chat/(?<room>\\w+)/$", EchoConsumer.as_asgi())]\n',
        "/ws/chat/lobby/",
        {"room": "lobby"},
        ("ImproperlyConfigured", "is not a valid regular expression"),
    ),
    Case(
        "CHN402-converter-route",
        "CHN402",
        'websocket_urlpatterns = [path("^ws/status/$", EchoConsumer.as_asgi())]\n',
        "/ws/status/",
        {},
        NO_ROUTE,
    ),
    Case(
        "CHN402-str-group",
        "CHN402",
        'websocket_urlpatterns = [path("^ws/room/(?P<room>[^/]+)/$", EchoConsumer.as_asgi())]\n',
        "/ws/room/r1/",
        {"room": "r1"},
        NO_ROUTE,
    ),
    Case(
        "CHN402-re_path",
        "CHN402",
        'websocket_urlpatterns = [path("ws/feed/(?P<fmt>json|text)/$", EchoConsumer.as_asgi())]\n',
        "/ws/feed/json/",
        {"fmt": "json"},
        NO_ROUTE,
    ),
    Case(
        "CHN402-nested-prefix",
        "CHN402",
        'websocket_urlpatterns = [path("^ws/(?P<team>[a-z]+)/", URLRouter([path("chat/", EchoConsumer.as_asgi())]))]\n',
        "/ws/blue/chat/",
        {"team": "blue"},
        NO_ROUTE,
    ),
    Case(
        "CHN403-class",
        "CHN403",
        'websocket_urlpatterns = [path("ws/chat/", EchoConsumer)]\n',
        "/ws/chat/",
        {},
        (TypeError, "can't be used in 'await' expression"),
    ),
    Case(
        "CHN403-uncalled",
        "CHN403",
        'websocket_urlpatterns = [path("ws/chat/", EchoConsumer.as_asgi)]\n',
        "/ws/chat/",
        {},
        (TypeError, "as_asgi"),
    ),
    Case(
        "CHN403-in-middleware",
        "CHN403",
        'websocket_urlpatterns = [path("ws/chat/", PassMiddleware(EchoConsumer))]\n',
        "/ws/chat/",
        {},
        (TypeError, "can't be used in 'await' expression"),
    ),
    Case(
        "CHN406-leading-slash",
        "CHN406",
        'websocket_urlpatterns = [path("/ws/chat/<str:room>/", EchoConsumer.as_asgi())]\n',
        "/ws/chat/lobby/",
        {"room": "lobby"},
        NO_ROUTE,
    ),
    Case(
        "CHN406-leading-slash-regex",
        "CHN406",
        'websocket_urlpatterns = [re_path(r"^/ws/feed/(?P<feed>\\w+)/$", EchoConsumer.as_asgi())]\n',
        "/ws/feed/news/",
        {"feed": "news"},
        NO_ROUTE,
    ),
    Case(
        "CHN406-router-in-middleware",
        "CHN406",
        'rooms = URLRouter([path("<slug:room>/", EchoConsumer.as_asgi())])\n'
        'websocket_urlpatterns = [path("ws/rooms/", PassMiddleware(rooms))]\n',
        "/ws/rooms/lobby/",
        {"room": "lobby"},
        NO_ROUTE,
    ),
    Case(
        "CHN406-router-under-dollar",
        "CHN406",
        'websocket_urlpatterns = [re_path(r"^ws/teams/$", URLRouter([path("<int:id>/", EchoConsumer.as_asgi())]))]\n',
        "/ws/teams/5/",
        {"id": 5},
        NO_ROUTE,
    ),
]


def fixed_source(case: Case) -> str:
    assert any(code == case.code for _, code in found(case.source)), f"{case.code} does not report the original"
    fixed = fix_snippet(case.source, select=[case.code])
    assert fixed != case.source
    assert not [f for f in found(fixed) if f[1] == case.code], f"{case.code} still reported after the fix:\n{fixed}"
    return fixed


async def connect(application, path: str) -> dict:
    async with clients(application, path) as (client,):
        await client.connect()
        return await client.receive_json()


@pytest.mark.asyncio
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_original_route_fails_to_connect(case: Case, monkeypatch) -> None:
    module = load_module(f"routing_original_{case.id.replace('-', '_')}", case.source, monkeypatch)
    kind, message = case.failure
    with pytest.raises(Exception, match=message) as error:
        await connect(module.application, case.path)
    assert kind in (type(error.value), type(error.value).__name__), error.value


@pytest.mark.asyncio
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_fixed_route_connects(case: Case, monkeypatch) -> None:
    module = load_module(f"routing_fixed_{case.id.replace('-', '_')}", fixed_source(case), monkeypatch)
    assert await connect(module.application, case.path) == case.kwargs


# ---------------------------------------------------------------------------- failures at load
LOAD_CASES = [
    (
        "CHN403-on-the-route",
        "CHN403",
        ECHO
        + 'websocket_urlpatterns = [path("ws/chat/", EchoConsumer).as_asgi()]\napplication = URLRouter(websocket_urlpatterns)\n',
        AttributeError,
        {},
    ),
    (
        "CHN404-url",
        "CHN404",
        "from django.conf.urls import url\n"
        + ECHO
        + 'websocket_urlpatterns = [url(r"^ws/chat/(?P<room>\\w+)/$", EchoConsumer.as_asgi())]\n'
        + "application = URLRouter(websocket_urlpatterns)\n",
        ImportError,
        {"room": "lobby"},
    ),
    (
        "CHN404-AsgiHandler",
        "CHN404",
        "from channels.http import AsgiHandler\nfrom channels.routing import ProtocolTypeRouter\n"
        + ECHO
        + 'websocket_urlpatterns = [re_path(r"^ws/chat/(?P<room>\\w+)/$", EchoConsumer.as_asgi())]\n'
        + 'application = ProtocolTypeRouter({"http": AsgiHandler(), "websocket": URLRouter(websocket_urlpatterns)})\n',
        ImportError,
        {"room": "lobby"},
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("id_", "code", "source", "failure", "kwargs"), LOAD_CASES, ids=[c[0] for c in LOAD_CASES])
async def test_original_fails_to_load_and_fixed_connects(id_, code, source, failure, kwargs, monkeypatch) -> None:
    assert any(c == code for _, c in found(source))
    name = id_.replace("-", "_")
    with pytest.raises(failure):
        load_module(f"routing_original_{name}", source, monkeypatch)
    fixed = fix_snippet(source, select=[code])
    assert not [f for f in found(fixed) if f[1] == code], fixed
    module = load_module(f"routing_fixed_{name}", fixed, monkeypatch)
    path = "/ws/chat/lobby/" if kwargs else "/ws/chat/"
    assert await connect(module.application, path) == kwargs
    if "AsgiHandler" in source:
        from django.core.handlers.asgi import ASGIHandler

        assert isinstance(module.application.application_mapping["http"], ASGIHandler)


# ---------------------------------------------------------------------------- CHN405: same value, no warning
@pytest.mark.asyncio
async def test_raw_string_fix_keeps_the_route_and_drops_the_escape_warning(monkeypatch) -> None:
    source = ECHO + 'websocket_urlpatterns = [re_path("^ws/chat/(?P<room>\\w+)/$", EchoConsumer.as_asgi())]\n'
    source += "application = URLRouter(websocket_urlpatterns)\n"
    assert any(code == "CHN405" for _, code in found(source))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SyntaxError, match="invalid escape sequence"):
            compile(source, "<original>", "exec")
    fixed = fix_snippet(source, select=["CHN405"])
    assert 'r"^ws/chat/(?P<room>\\w+)/$"' in fixed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(fixed, "<fixed>", "exec")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = load_module("routing_original_chn405", source, monkeypatch)
    fixed_module = load_module("routing_fixed_chn405", fixed, monkeypatch)
    assert original.websocket_urlpatterns[0].pattern._regex == fixed_module.websocket_urlpatterns[0].pattern._regex
    assert await connect(original.application, "/ws/chat/lobby/") == await connect(fixed_module.application, "/ws/chat/lobby/")


# ---------------------------------------------------------------------------- CHN411: import order, at startup
ASGI = """\
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

from chat.routing import websocket_urlpatterns

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
django_asgi_app = get_asgi_application()

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})
"""
PROJECT = {
    "proj/__init__.py": "",
    "proj/settings.py": 'SECRET_KEY = "x"\nINSTALLED_APPS = ["django.contrib.contenttypes", "chat"]\n'
    'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}\n',
    "chat/__init__.py": "",
    "chat/models.py": "from django.db import models\n\n\nclass Room(models.Model):\n    name = models.CharField(max_length=9)\n",
    "chat/consumers.py": "from channels.generic.websocket import WebsocketConsumer\n\nfrom .models import Room\n\n\n"
    "class Chat(WebsocketConsumer):\n    pass\n",
    "chat/routing.py": 'from django.urls import path\n\nfrom . import consumers\n\nwebsocket_urlpatterns = [path("ws/", consumers.Chat.as_asgi())]\n',
}


def _import_asgi(root: Path) -> subprocess.CompletedProcess:
    """Import ``proj.asgi`` as Daphne or Uvicorn would: a fresh interpreter with the settings
    module in its environment, nothing set up."""
    return subprocess.run(
        [sys.executable, "-c", "import proj.asgi"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        env={"PATH": "", "PYTHONPATH": str(root), "DJANGO_SETTINGS_MODULE": "proj.settings"},
        timeout=60,
    )


def test_import_order_fix_lets_the_asgi_module_start(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text("")
    for relative, text in PROJECT.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    asgi = tmp_path / "proj" / "asgi.py"
    asgi.write_text(ASGI)
    assert "CHN411" in {code for _, code in found(ASGI, path=asgi)}
    broken = _import_asgi(tmp_path)
    assert broken.returncode != 0 and "AppRegistryNotReady" in broken.stderr, broken.stderr
    fixed = fix_snippet(ASGI, path=asgi, select=["CHN411"], unsafe_fixes=True)
    assert "from chat.routing import websocket_urlpatterns  # noqa: E402" in fixed
    assert fixed.index("get_asgi_application()") < fixed.index("from chat.routing")
    asgi.write_text(fixed)
    started = _import_asgi(tmp_path)
    assert started.returncode == 0, started.stderr
