"""Never crash (issue 12): generated programs through ``check`` and ``fix --unsafe-fixes``.

Two sources of programs:

* ``hypothesmith`` (``from_grammar`` and ``from_node``): arbitrary valid Python, raw and with a
  comment holding every rule's pre-filter markers, so every rule analyses it;
* a splicing generator: realistic consumer skeletons (async and sync consumers, helpers,
  module-level code; LF, CRLF or CR line endings) with statements drawn from what Channels
  code does (ORM, channel layer, bridges, JSON, groups, routing, client data) and random
  call chains over the same names (``[await ]obj.method(args)...``, wrapped in bridges).

For every program: linting raises nothing and gives no ``CHN900`` "internal error" (a rule
crash); ``fix`` raises nothing and refuses no edit for an internal error; a changed output
compiles (parses, when the input did not compile), lints without an internal error, and a
second fix changes nothing.  Example counts come from the Hypothesis profile
(tests/conftest.py: 150 per test under CI): four hypothesmith tests give 600 programs, the
splicing generator 150 more.

``hypothesmith`` is part of the ``test`` extra.
"""

from __future__ import annotations

import textwrap

import hypothesmith
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from channels_lint.engine import lint_bytes
from channels_lint.fixes import fix_bytes
from channels_lint.rules import REGISTRY

#: hypothesmith's strategies are slow to draw and filter: not a failure of the code under test.
SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

#: A comment naming every marker, so the pre-filter lets every rule look at the program.
MARKERS = "# " + " ".join(
    sorted(
        {
            part
            for rule in REGISTRY.values()
            for marker in rule.markers
            for part in ((marker,) if isinstance(marker, str) else marker)
        }
    )
)


def _compiles(source: bytes | str) -> bool:
    try:
        compile(source, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def never_crashes(source: str) -> None:
    """The property: see the module docstring."""
    data = source.encode("utf-8", "surrogatepass")
    _, violations = lint_bytes(data)
    internal = [v for v in violations if v.code == "CHN900" and "internal error" in v.message]
    assert not internal, internal[0].message
    result = fix_bytes(data, unsafe_fixes=True)
    assert "internal error" not in (result.error or ""), result.error
    assert not [why for _, why in result.refused if "internal error" in why], result.refused
    if not result.changed:
        return
    if _compiles(data):
        compile(result.fixed, "<fixed>", "exec", dont_inherit=True)
    _, after = lint_bytes(result.fixed)
    assert not [v for v in after if "internal error" in v.message]
    again = fix_bytes(result.fixed, unsafe_fixes=True)
    assert not again.changed, f"a second fix changed the output:\n{again.fixed.decode()}"


# ---------------------------------------------------------------------- hypothesmith
@SLOW
@given(hypothesmith.from_grammar())
def test_grammar_programs(source: str) -> None:
    never_crashes(source)


@SLOW
@given(hypothesmith.from_grammar())
def test_grammar_programs_seen_by_every_rule(source: str) -> None:
    never_crashes(MARKERS + "\n" + source)


@SLOW
@given(hypothesmith.from_node())
def test_node_programs(source: str) -> None:
    never_crashes(source)


@SLOW
@given(hypothesmith.from_node())
def test_node_programs_seen_by_every_rule(source: str) -> None:
    never_crashes(MARKERS + "\n" + source)


# ---------------------------------------------------------------------- splicing
HEADER = """\
import json
from asgiref.sync import async_to_sync, sync_to_async
from channels.auth import login
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer, WebsocketConsumer
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path, re_path
from django.utils import timezone

from .models import Message, Room
"""

#: Statements Channels code writes (each may span lines; indented by the generator).
STATEMENTS = [
    "pass",
    "Room.objects.get(pk=1)",
    'room = Room.objects.filter(name="x").first()',
    "rooms = list(Room.objects.all())",
    "room.save()",
    "self.scope['user'].save()",
    "for m in Message.objects.filter(room=room):\n    pass",
    "count = await database_sync_to_async(Room.objects.count)()",
    "data = json.loads(text_data)",
    "name = data['name']",
    'self.room = self.scope["url_route"]["kwargs"]["room"]',
    "await self.channel_layer.group_add(self.room, self.channel_name)",
    'self.channel_layer.group_send("chat", {"type": "chat.message", "at": timezone.now()})',
    'await self.channel_layer.group_send("chat", {"type": "chat_message", "room": room})',
    'async_to_sync(self.channel_layer.group_send)("chat", {"type": "chat.message"})',
    "async_to_sync(self.helper)(1)",
    "await async_to_sync(self.helper)(2)",
    "result = sync_to_async(self.compute)",
    "await sync_to_async(self.compute)",
    "self.helper(3)",
    "await self.send(text_data=json.dumps({'room': room}))",
    "self.send(text_data='x')",
    "await self.send_json({'when': timezone.now()})",
    "handler = getattr(self, data['type'])",
    "await login(self.scope, user)",
    "query = self.scope['query_string'].decode().split('=')[1]",
    "if True:\n    pass\nelse:\n    self.helper(4)",
    "while False:\n    Room.objects.get(pk=2)",
    "try:\n    Room.objects.get(pk=3)\nexcept Room.DoesNotExist:\n    pass",
    "with open('f') as handle:\n    Room.objects.update(name='y')",
    "x = (lambda: Room.objects.count())()",
    "values = [r.name for r in Room.objects.all()]",
    "def inner():\n    return Room.objects.count()",
    "return",
    "raise ValueError('x')",
    "text = f'{Room.objects.count()}'",
    "\x0cx = 1",
]

SKELETON = """\
{header}

{module_level}


class Chat(AsyncWebsocketConsumer):
    async def connect(self):
{connect}

    async def receive(self, text_data=None, bytes_data=None):
{receive}

    async def chat_message(self, event):
{handler}

    async def helper(self, n):
        return n

    def compute(self):
        return Room.objects.count()


class Sync(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
{sync}


async def view(request):
{view}


application = ProtocolTypeRouter({{"websocket": URLRouter([path("ws/<room>/", Chat), re_path(r"^x/(?P<id>\\d+)$", Sync.as_asgi())])}})
"""


def _block(statements: list[str], depth: int) -> str:
    return textwrap.indent("\n".join(statements) or "pass", "    " * depth)


#: Pieces of random statements: what consumer code reads, calls and awaits.
OBJECTS = [
    "self",
    "room",
    "Room.objects",
    "Room",
    "data",
    "event",
    "self.channel_layer",
    "self.scope",
    "message",
    "json",
    "sync_to_async",
    "async_to_sync",
    "database_sync_to_async",
    "get_channel_layer()",
    "user",
]
METHODS = [
    "get",
    "filter",
    "first",
    "all",
    "save",
    "delete",
    "create",
    "count",
    "group_send",
    "group_add",
    "send",
    "send_json",
    "accept",
    "close",
    "loads",
    "dumps",
    "pop",
    "items",
    "aget",
    "asave",
    "helper",
    "compute",
    "chat_message",
]
ARGUMENTS = [
    "",
    "1",
    "pk=1",
    "text_data",
    "self.channel_name",
    '"chat"',
    '{"type": "chat.message", "value": data}',
    "event['text']",
    "timezone.now()",
    "room",
]


@st.composite
def expressions(draw, depth: int = 2) -> str:
    """A random call chain: ``[await ]obj.method(args)[.method(args)]``, or a subscript."""
    text = draw(st.sampled_from(OBJECTS))
    for _ in range(draw(st.integers(0, depth))):
        if draw(st.booleans()):
            text += f".{draw(st.sampled_from(METHODS))}({draw(st.sampled_from(ARGUMENTS))})"
        elif draw(st.booleans()):
            text += f"[{draw(st.sampled_from(ARGUMENTS[1:]))}]"
        else:
            text = f"{draw(st.sampled_from(['sync_to_async', 'async_to_sync', 'database_sync_to_async', 'list', 'len']))}({text})"
    return ("await " if draw(st.booleans()) else "") + text


@st.composite
def random_statements(draw) -> str:
    expression = draw(expressions())
    shape = draw(
        st.sampled_from(["{e}", "x = {e}", "return {e}", "if {e}:\n    pass", "for item in {e}:\n    pass", "self.value = {e}"])
    )
    return shape.format(e=expression)


@st.composite
def consumer_modules(draw) -> str:
    statement = st.sampled_from(STATEMENTS) | random_statements()
    body = lambda: draw(st.lists(statement, min_size=0, max_size=6))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    module = SKELETON.format(
        header=HEADER,
        module_level=_block(draw(st.lists(st.sampled_from(STATEMENTS[:3] + ["x = 1"]), max_size=2)), 0),
        connect=_block(body(), 2),
        receive=_block(body(), 2),
        handler=_block(body(), 2),
        sync=_block(body(), 2),
        view=_block(body(), 1),
    )
    return module.replace("\n", newline)


@SLOW
@given(consumer_modules())
@example(
    SKELETON.format(
        header=HEADER,
        module_level="",
        connect=_block(STATEMENTS, 2),
        receive="        pass",
        handler="        pass",
        sync=_block(STATEMENTS, 2),
        view="    pass",
    )
)
def test_statements_spliced_into_consumer_skeletons(source: str) -> None:
    never_crashes(source)
