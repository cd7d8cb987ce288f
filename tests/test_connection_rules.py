"""Connection-data rules (CHN301-CHN306) and the client-data analyzer beyond the rules' own
examples: routes across modules, Channels versions, real-code shapes that must stay silent,
where the validator fix is (and is not) offered, and the analyzer's facts."""

from __future__ import annotations

import ast
import textwrap

import pytest

from channels_lint.analysis import ModuleAnalysis
from channels_lint.analysis.client import ClientSource, pattern_fact, route_kwarg_fact
from channels_lint.config import Settings
from channels_lint.engine import Source, lint
from channels_lint.project import ProjectIndex

from .helpers import fix_snippet, found, lint_snippet, make_project

CONNECTION = ["CHN301", "CHN302", "CHN303", "CHN304", "CHN305", "CHN306"]


def codes(source: str, **kwargs) -> list[tuple[int, str]]:
    return found(textwrap.dedent(source), select=CONNECTION, **kwargs)


def analyse(source: str) -> ModuleAnalysis:
    source = textwrap.dedent(source)
    return ModuleAnalysis(ast.parse(source), source.splitlines(keepends=True), project=ProjectIndex(None))


# ---------------------------------------------------------------------------- routes
ROOMS = """\
from channels.generic.websocket import AsyncWebsocketConsumer


class {name}(AsyncWebsocketConsumer):
    async def connect(self):
        room = self.scope["url_route"]["kwargs"]["room"]
        await self.channel_layer.group_add({group}, self.channel_name)
        await self.accept()
"""


@pytest.mark.parametrize(
    ("route", "group", "reported"),
    [
        ('path("ws/<int:room>/", consumers.Room.as_asgi())', 'f"room-{room}"', False),
        ('path("ws/<uuid:room>/", consumers.Room.as_asgi())', 'f"room-{room}"', False),
        ('re_path(r"^ws/(?P<room>[a-z0-9-]{1,40})/$", consumers.Room.as_asgi())', 'f"room-{room}"', False),
        ('re_path(r"^ws/(?P<room>\\d+)/$", consumers.Room.as_asgi())', 'f"room-{room}"', False),
        ('path("ws/<str:room>/", consumers.Room.as_asgi())', 'f"room-{room}"', True),
        ('path("ws/<path:room>/", consumers.Room.as_asgi())', 'f"room-{room}"', True),
        ('re_path(r"^ws/(?P<room>\\w+)/$", consumers.Room.as_asgi())', 'f"room-{room}"', True),
        ('re_path(r"^ws/(?P<room>[^/]+)/$", consumers.Room.as_asgi())', 'f"room-{room}"', True),
        ('path("ws/<slug:room>/", consumers.Room.as_asgi())', 'f"room-{room}"', True),  # unbounded length
        ('path("ws/<uuid:room>/", consumers.Room.as_asgi())', '"r" * 64 + str(room)', True),  # 100 characters
        ('path("ws/<uuid:room>/", consumers.Room.as_asgi())', '"r" * 63 + str(room)', False),  # 99 characters
    ],
)
def test_url_kwargs_are_judged_by_their_route(tmp_path, route: str, group: str, reported: bool) -> None:
    root = make_project(
        tmp_path,
        {
            "chat/__init__.py": "",
            "chat/consumers.py": ROOMS.format(name="Room", group=group),
            "chat/routing.py": f"from django.urls import path, re_path\nfrom . import consumers\n\nwebsocket_urlpatterns = [{route}]\n",
        },
    )
    found_codes = found((root / "chat/consumers.py").read_text(), path=root / "chat/consumers.py", select=["CHN303"])
    assert found_codes == ([(7, "CHN303")] if reported else [])


def test_a_kwarg_of_a_consumer_without_a_known_route_is_unsanitised(tmp_path) -> None:
    root = make_project(tmp_path, {"chat/consumers.py": ROOMS.format(name="Room", group='f"room-{room}"')})
    assert found((root / "chat/consumers.py").read_text(), path=root / "chat/consumers.py", select=["CHN303"]) == [(7, "CHN303")]


def test_route_facts() -> None:
    assert route_kwarg_fact(None, "room") is None
    assert route_kwarg_fact({"room": "int"}, "room").charset_safe
    assert not route_kwarg_fact({"room": "str"}, "room").charset_safe
    assert not route_kwarg_fact({"other": "int"}, "room").known  # the routes never define it
    assert pattern_fact(r"[a-z0-9-]{1,40}") == (True, 40)
    assert pattern_fact(r"\w+") == (False, None)
    assert pattern_fact(r"(?a)\w{1,10}") == (True, 10)
    assert pattern_fact(r"[^/]+") == (False, None)
    assert pattern_fact(r"\d+") == (True, None)
    assert pattern_fact(r"(foo|bar-baz)") == (True, 7)
    assert pattern_fact(r"a b") == (False, 3)


def test_group_name_rule_is_gated_on_the_channels_version() -> None:
    source = 'from channels.layers import get_channel_layer\nlayer = get_channel_layer()\n\nasync def f():\n    await layer.group_send("a b", {"type": "x"})\n'
    assert [v.code for v in lint(Source.from_text(source), settings=Settings(channels_version=(4, 0)))] == ["CHN303"]
    assert [v.code for v in lint(Source.from_text(source), settings=Settings(channels_version=(2, 4)))] == ["CHN303"]
    assert [v.code for v in lint(Source.from_text(source), settings=Settings(channels_version=(1, 1)))] == []


# ---------------------------------------------------------------------------- real-code shapes
def test_drf_and_pydantic_validated_consumers_are_silent() -> None:
    assert codes(
        """
        import json
        from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
        from pydantic import BaseModel, ValidationError
        from rest_framework import serializers
        from .serializers import ChatMessageSerializer

        class Join(BaseModel):
            room: str

        class Api(AsyncJsonWebsocketConsumer):
            async def receive_json(self, content, **kwargs):
                serializer = ChatMessageSerializer(data=content)
                serializer.is_valid(raise_exception=True)
                await self.channel_layer.group_send(content["room"], {"type": "chat.message", **content})

        class Typed(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                try:
                    join = Join.model_validate_json(text_data)
                    data = json.loads(text_data)
                except (ValidationError, ValueError):
                    return
                await self.send(text_data=data["room"])
        """
    ) == []


def test_type_dispatchers_and_handler_wide_try_are_silent() -> None:
    assert codes(
        """
        import json
        import logging
        from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer

        class Dispatch(AsyncJsonWebsocketConsumer):
            async def receive_json(self, content, **kwargs):
                kind = content.get("type")
                if kind == "chat.message":
                    await self.send_json({"text": content.get("text", "")})
                elif kind == "ping":
                    await self.send_json({"type": "pong"})

        class Wide(WebsocketConsumer):
            def receive(self, text_data=None, bytes_data=None):
                try:
                    data = json.loads(text_data)
                    handler = {"a": self.a, "b": self.b}[data["action"]]
                    handler(data["payload"]["value"])
                except Exception:
                    logging.exception("bad frame")
        """
    ) == []


def test_a_project_base_that_wraps_dispatch_silences_its_subclasses(tmp_path) -> None:
    root = make_project(
        tmp_path,
        {
            "core/base.py": textwrap.dedent(
                """
                from channels.generic.websocket import AsyncJsonWebsocketConsumer

                class SafeConsumer(AsyncJsonWebsocketConsumer):
                    async def dispatch(self, message):
                        try:
                            await super().dispatch(message)
                        except Exception:
                            await self.close()
                """
            ),
            "chat/consumers.py": textwrap.dedent(
                """
                from core.base import SafeConsumer

                class Chat(SafeConsumer):
                    async def receive_json(self, content, **kwargs):
                        await self.send_json({"echo": content["message"]})
                """
            ),
        },
    )
    assert found((root / "chat/consumers.py").read_text(), path=root / "chat/consumers.py", select=CONNECTION) == []


def test_views_parsing_the_request_body() -> None:
    assert codes(
        """
        import json
        from django.http import JsonResponse
        from django.views import View
        from django.views.decorators.csrf import csrf_exempt

        @csrf_exempt
        def create(request):
            payload = json.loads(request.body)
            return JsonResponse(payload)

        class Update(View):
            def post(self, request, *args, **kwargs):
                data = json.loads(self.request.body)
                return JsonResponse(data)

        def safe(request):
            try:
                data = json.loads(request.body)
            except ValueError:
                return JsonResponse({}, status=400)
            return JsonResponse(data)

        def not_the_body(request):
            return JsonResponse(json.loads(request.POST["blob"]))
        """
    ) == [(9, "CHN301"), (14, "CHN301")]


# ---------------------------------------------------------------------------- the validator fix
def test_the_fix_is_offered_only_where_provably_right() -> None:
    source = textwrap.dedent(
        """
        import json
        from channels.generic.websocket import AsyncWebsocketConsumer

        class PassedOn(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                data = json.loads(text_data)
                await self.handle(data)

        class Listed(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                data = json.loads(text_data)
                for item in data:
                    await self.send(text_data=str(item))

        class Nested(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                if text_data:
                    data = json.loads(text_data)
                    await self.send(text_data=data["message"])

        class Aliased(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                raw = text_data or bytes_data
                data = json.loads(raw)
                await self.send(text_data=data["message"])
        """
    )
    violations = lint_snippet(source, select=CONNECTION)
    assert [(v.line, v.code) for v in violations] == [
        (7, "CHN301"),
        (12, "CHN301"),
        (19, "CHN301"),
        (20, "CHN302"),
        (25, "CHN301"),
        (26, "CHN302"),
    ]
    assert all(v.fix is None for v in violations)


def test_keys_read_after_a_possible_return_are_not_required() -> None:
    source = textwrap.dedent(
        """
        import json
        from channels.generic.websocket import AsyncWebsocketConsumer

        class Chat(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                data = json.loads(text_data)
                kind = data["type"]
                if kind == "ping":
                    return
                await self.send(text_data=data["message"])
        """
    )
    fixed = fix_snippet(source, select=["CHN301", "CHN302"], unsafe_fixes=True)
    assert 'data = extract_message_data(text_data, required=("type",))' in fixed
    # "message" is read only by frames that are not pings: its finding stays, without a fix
    assert [(v.code, v.fix is None) for v in lint_snippet(fixed, select=["CHN301", "CHN302"])] == [("CHN302", True)]
    compile(fixed, "fixed", "exec")


def test_json_consumers_answer_with_send_json() -> None:
    source = textwrap.dedent(
        """
        import json
        from channels.generic.websocket import JsonWebsocketConsumer

        class Chat(JsonWebsocketConsumer):
            def receive(self, text_data=None, bytes_data=None):
                data = json.loads(text_data)
                self.send_json({"echo": data["message"]})
        """
    )
    fixed = fix_snippet(source, select=["CHN301"], unsafe_fixes=True)
    assert '        if data is None:\n            self.send_json(error_frame("invalid_message", ' in fixed
    assert fix_snippet(source, select=["CHN301"]) == source  # unsafe: not applied by default


# ---------------------------------------------------------------------------- analyzer facts
def test_client_values_and_their_sources() -> None:
    a = analyse(
        """
        import json
        from urllib.parse import parse_qs
        from channels.generic.websocket import AsyncWebsocketConsumer

        class C(AsyncWebsocketConsumer):
            async def connect(self):
                self.room = self.scope["url_route"]["kwargs"].get("room")
                headers = dict(self.scope["headers"])
                params = parse_qs(self.scope["query_string"].decode())
                who = self.scope["user"].email
                me = self.channel_name
                token = params["token"][0]

            async def receive(self, text_data=None, bytes_data=None):
                raw = text_data or bytes_data
                data = json.loads(raw)
                nested = data["a"]["b"]
                room = self.room
        """
    )
    names = {n.id: n for n in a.syntax.nodes(ast.Name) if isinstance(n.ctx, ast.Store)}
    source = lambda name: a.client.value(a.syntax.parents[names[name]].value)  # noqa: E731
    assert source("headers").source is ClientSource.HEADERS
    assert source("params").source is ClientSource.QUERY_PARAMS
    assert source("who").source is ClientSource.USER_FIELD and source("who").key == "email"
    assert source("me").source is ClientSource.CHANNEL_NAME
    assert source("token").source is ClientSource.QUERY_PARAM
    assert source("raw").source is ClientSource.FRAME
    assert source("data").source is ClientSource.JSON and source("data").path == ()
    assert source("nested").path == ("a", "b")
    assert source("room").source is ClientSource.URL_KWARG and source("room").key == "room"


def test_sanitisers_bound_the_charset_and_slices_bound_the_length() -> None:
    assert codes(
        """
        from channels.generic.websocket import AsyncWebsocketConsumer
        from django.utils.text import slugify

        class C(AsyncWebsocketConsumer):
            async def connect(self):
                room = self.scope["url_route"]["kwargs"]["room"]
                await self.channel_layer.group_add("a_" + slugify(room)[:50], self.channel_name)
                await self.channel_layer.group_add("b_" + room[:50], self.channel_name)
                await self.channel_layer.group_add("c_" + slugify(room), self.channel_name)
                await self.channel_layer.group_add(f"d_{int(room)}", self.channel_name)
                await self.channel_layer.group_add("e_" + slugify(room, allow_unicode=True), self.channel_name)
        """
    ) == [(9, "CHN303"), (10, "CHN303")]
