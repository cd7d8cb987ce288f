"""Bugs found by trying the tool as a new user; each test failed before its fix."""

from __future__ import annotations

import os
from pathlib import Path

from channels_lint.cli import main

from .helpers import fix_snippet, found, lint_snippet, make_project

HEAD = "from channels.generic.websocket import AsyncWebsocketConsumer\nfrom .models import Message\n\n"


def test_decorators_defaults_and_class_bodies_are_not_fixed_into_syntax_errors() -> None:
    source = HEAD + (
        "class C(AsyncWebsocketConsumer):\n"
        "    @cached(Message.objects.get(name='lobby'))\n"
        "    async def connect(self, n=Message.objects.count()):\n"
        "        class Local:\n"
        "            total = Message.objects.count()\n"
    )
    assert found(source) == [(8, "CHN101")]  # only the class body, which runs on the loop
    assert fix_snippet(source) == source  # and the (unchanged) fix succeeds
    compile(source, "<fixed>", "exec")


def test_form_feed_and_line_separator_do_not_shift_lines() -> None:
    source = HEAD + '\x0c\nx = "a\u2028b"\n\nasync def f():\n    Message.objects.count()\n'
    assert found(source) == [(8, "CHN101")]
    assert "await database_sync_to_async(Message.objects.count)()" in fix_snippet(source)


def test_noqa_at_the_end_of_a_multiline_statement() -> None:
    source = HEAD + 'async def f():\n    Message.objects.create(body="""\nhello""")  # noqa: CHN101\n'
    assert found(source) == []
    assert fix_snippet(source) == source


def test_comments_in_a_parenthesised_callee_survive() -> None:
    source = HEAD + "async def f():\n    a = (  # why\n        Message.objects  # manager\n        .get  # method\n    )(pk=1)\n"
    fixed = fix_snippet(source)
    assert "# why" in fixed and "# manager" in fixed and "# method" in fixed
    assert "await database_sync_to_async(" in fixed


def test_async_generators_are_not_awaited() -> None:
    source = HEAD + (
        "class C(AsyncWebsocketConsumer):\n"
        "    async def stream(self):\n"
        "        yield 1\n"
        "    async def connect(self):\n"
        "        self.stream()\n"
    )
    assert found(source) == []


def test_sync_handler_of_async_consumer_is_checked_with_select(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.py"
    path.write_text(
        HEAD
        + "class C(AsyncWebsocketConsumer):\n    def receive(self, text_data=None):\n        Message.objects.create(body=text_data)\n"
    )
    assert main(["check", "--select", "CHN101", str(path)]) == 1
    assert ":6:9: CHN101" in capsys.readouterr().out


def test_last_boolop_operand_and_comprehension_variables() -> None:
    source = HEAD + (
        "async def f(self, batches, rows):\n"
        "    msgs = Message.objects.filter(x=1)\n"
        "    fallback = self.scope.get('qs') or Message.objects.none()\n"
        "    latest = rows and Message.objects.filter(pk__in=rows)\n"
        "    sizes = [len(msgs) for msgs in batches]\n"
        "    empty = [not msgs for msgs in batches]\n"
    )
    assert found(source) == []


def test_textchoices_in_models_py_is_not_a_model(tmp_path: Path) -> None:
    models = (
        "from django.db import models\n\n"
        "class Status(models.TextChoices):\n    OPEN = 'open'\n\n"
        "class Ticket(models.Model):\n    status = models.CharField(max_length=9)\n"
    )
    consumer = make_project(tmp_path, {"models.py": models}) / "consumers.py"
    source = (
        "from .models import Status, Ticket\n\n"
        "async def f(layer):\n"
        "    await layer.group_send('g', {'type': 't', 'status': Status('open'), 'ticket': Ticket(pk=1)})\n"
        "    layer = None\n"
    )
    assert lint_snippet(source, path=consumer) == []  # `layer` is a parameter here: not proven to be a channel layer
    source = source.replace("async def f(layer):", "async def f(self):").replace(
        "layer.group_send", "self.channel_layer.group_send"
    )
    messages = [v.message for v in lint_snippet(source, path=consumer)]
    assert len(messages) == 1 and "`Ticket(pk=1)` is a model instance" in messages[0]


def test_fix_writes_through_symlinks_and_refuses_read_only(tmp_path: Path) -> None:
    target = tmp_path / "real.py"
    target.write_text(HEAD + "async def f():\n    Message.objects.count()\n")
    link = tmp_path / "link.py"
    link.symlink_to(target)
    assert main(["fix", str(link)]) == 1
    assert link.is_symlink() and "await" in target.read_text()
    readonly = tmp_path / "ro.py"
    readonly.write_text(HEAD + "async def f():\n    Message.objects.count()\n")
    readonly.chmod(0o444)
    before = readonly.read_bytes()
    assert main(["fix", str(readonly)]) == 1
    assert readonly.read_bytes() == before


def test_unreadable_entries_are_reported_not_raised(tmp_path: Path, capsys) -> None:
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "ok.py").write_text(HEAD + "async def f():\n    Message.objects.count()\n")
    assert main(["check", str(tmp_path)]) == 1  # directories skip non-regular files
    assert main(["check", str(tmp_path / "pipe.py")]) == 1
    assert "CHN900 file could not be read" in capsys.readouterr().out


def test_diff_marks_missing_final_newline_and_keeps_encoding(tmp_path: Path, capsys) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(
        ("# -*- coding: latin-1 -*-\n# café\n" + HEAD + "async def f():\n    Message.objects.count()").encode("latin-1")
    )
    assert main(["fix", "--diff", str(path)]) == 1
    out = capsys.readouterr().out
    assert "\\ No newline at end of file" in out and "café" in out


def test_unknown_codes_are_rejected(tmp_path: Path, capsys) -> None:
    assert main(["check", "--select", "XYZ", str(tmp_path)]) == 2
    assert "unknown rule code" in capsys.readouterr().err


def test_fix_reuses_an_aliased_import() -> None:
    source = HEAD.replace("\n\n", "\nfrom channels.db import database_sync_to_async as dsta\n\n", 1) + (
        "async def f():\n    Message.objects.count()\n"
    )
    fixed = fix_snippet(source)
    assert "await dsta(Message.objects.count)()" in fixed
    assert fixed.count("import database_sync_to_async") == 1
