"""Property tests of the fix machinery over generated consumer modules.

Feature: messaging-system-fixes, Property 1: Async Context Safety -- for any consumer module
built from ORM calls, wrapped calls, nested defs, lambdas, comprehensions, awaits and
channel-layer calls, ``fix`` output compiles, a second fix changes nothing, and re-linting
shows no finding that still has a fix to apply (every fixed code is gone, but for the
instances that have no fix, e.g. inside f-strings).  Each fix pass also proves itself (it
raises, and ``fix_bytes`` reports an error, if re-linting shows a claimed finding left).
"""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from channels_lint.diagnostics import Applicability

from .helpers import fix_snippet, lint_snippet

HEADER = """\
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer
from channels.layers import get_channel_layer
from django.utils import timezone

from .models import Note
"""

#: Statements for an ``async def`` body (each may span lines; indented by the generator).
ASYNC_BLOCKS = [
    'Note.objects.create(body="x")',
    "note = Note.objects.get(pk=1)",
    "for n in Note.objects.filter(done=False):\n    await self.send(text_data=n.body)",
    "total = len(Note.objects.all())",
    "total = await database_sync_to_async(Note.objects.count)()",
    'self.send(text_data="x")',
    'await self.send(text_data="x")',
    'self.channel_layer.group_send("g", {"type": "chat.message", "at": timezone.now()})',
    'await self.channel_layer.group_send("g", {"type": "chat.message", "n": 1})',
    'async_to_sync(self.channel_layer.group_add)("g", self.channel_name)',
    "def inner():\n    return Note.objects.count()",
    "count = await sync_to_async(lambda: Note.objects.count())()",
    "if Note.objects.exists():\n    pass",
    'note = Note(body="x")\nnote.save()',
    "self.helper()",
    "rows = self.helper()",
    'text = f"{Note.objects.all()}"',
    "bodies = [n.body for n in Note.objects.all()]",
    "size = sum(1 for n in Note.objects.all())",
    "async for n in Note.objects.all():\n    pass",
    "note = await Note.objects.aget(pk=1)\nnote.save()",
    "if self.allowed():\n    pass",
    "x = (Note.objects.filter(done=True).first()).body",
    "title = Note.objects.get(pk=1).body",
    "names = Note.objects.all()[:3]\nfor n in names:\n    pass",
    "with open('f') as handle:\n    Note.objects.update(done=True)",
    "try:\n    Note.objects.get(pk=2).delete()\nexcept Exception:\n    pass",
]
SYNC_BLOCKS = [
    'self.channel_layer.group_send("g", {"type": "chat.message"})',
    'async_to_sync(self.channel_layer.group_send("g", {"type": "chat.message"}))',
    "Note.objects.create(body='ok')",
    "self.accept()",
]


def indent(block: str, depth: int) -> str:
    return textwrap.indent(block, "    " * depth)


@st.composite
def consumer_modules(draw) -> str:
    body = draw(st.lists(st.sampled_from(ASYNC_BLOCKS), min_size=1, max_size=8))
    nested = draw(st.booleans())
    statements = []
    for block in body:
        if nested and draw(st.booleans()):
            block = "if self.scope:\n" + indent(block, 1)
        statements.append(indent(block, 2))
    sync_body = draw(st.lists(st.sampled_from(SYNC_BLOCKS), min_size=1, max_size=3))
    helper_touches_db = draw(st.booleans())
    handler_is_sync = draw(st.booleans())
    connect = "def" if handler_is_sync else "async def"
    return (
        HEADER
        + "\n\nclass Live(AsyncWebsocketConsumer):\n"
        + f"    {connect} connect(self):\n        await_later = 1\n"
        + "\n    async def receive(self, text_data=None, bytes_data=None):\n"
        + "\n".join(statements)
        + "\n\n    def helper(self):\n"
        + ("        return list(Note.objects.all())\n" if helper_touches_db else "        return 1\n")
        + "\n    @database_sync_to_async\n    def allowed(self):\n        return True\n"
        + "\n\nclass Plain(WebsocketConsumer):\n    def connect(self):\n"
        + "\n".join(indent(block, 2) for block in sync_body)
        + "\n"
    )


# Example count (ci: 150, dev: 30), deadline and health checks: the profile in tests/conftest.py.
@given(module=consumer_modules(), unsafe=st.booleans())
def test_async_context_fixes_are_safe_and_idempotent(module: str, unsafe: bool) -> None:
    """Feature: messaging-system-fixes, Property 1: Async Context Safety"""
    compile(module, "generated", "exec")
    fixed = fix_snippet(module, unsafe_fixes=unsafe)  # no error, and a second fix changes nothing
    compile(fixed, "fixed", "exec")
    # every await (the module's own and the ones fixes add) applies to a call, never to an
    # attribute or subscript of one: `await f().x` would await the attribute
    assert all(isinstance(node.value, ast.Call) for node in ast.walk(ast.parse(fixed)) if isinstance(node, ast.Await))
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    still_fixable = [v for v in lint_snippet(fixed) if v.fix is not None and v.fix.applicability in allowed]
    assert still_fixable == []
