"""``channels-lint`` check / fix / rules / rule, as a user runs them."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from channels_lint.cli import main

from .helpers import make_project

BUGGY = """\
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Note


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        Note.objects.create(body=text_data)  # a comment that must survive
        self.send(text_data="ok")
"""
FIXED = """\
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Note
from channels.db import database_sync_to_async


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await database_sync_to_async(Note.objects.create)(body=text_data)  # a comment that must survive
        await self.send(text_data="ok")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {"app/consumers.py": BUGGY, "app/clean.py": "async def f():\n    return 1\n", ".venv/ignored.py": BUGGY}
    return make_project(tmp_path, files)


def test_check_reports_in_flake8_format_and_exits_1(project: Path, capsys) -> None:
    assert main(["check", str(project)]) == 1
    lines = capsys.readouterr().out.splitlines()
    path = project / "app" / "consumers.py"
    assert lines == [
        f"{path}:8:9: CHN101 `Note.objects.create()` runs a database query, which raises SynchronousOnlyOperation on "
        "the event loop; use `await database_sync_to_async(Note.objects.create)(...)`",
        f"{path}:9:9: CHN105 coroutine method `self.send` returns a coroutine that is never awaited, so it never "
        "runs; use `await self.send(...)`",
    ]


def test_check_select_and_ignore(project: Path, capsys) -> None:
    assert main(["check", "--select", "CHN105", str(project)]) == 1
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == ["CHN105"]
    assert main(["check", "--ignore", "CHN1", str(project)]) == 0
    assert capsys.readouterr().out == ""


def test_check_clean_and_missing_paths(project: Path, capsys) -> None:
    assert main(["check", str(project / "app" / "clean.py")]) == 0
    assert main(["check", str(project / "nope.py")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_fix_rewrites_in_place_and_keeps_mode(project: Path, capsys) -> None:
    path = project / "app" / "consumers.py"
    path.chmod(0o640)
    assert main(["fix", str(project)]) == 1
    assert path.read_text() == FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["clean.py", "consumers.py"]  # no temp files left
    assert (project / ".venv" / "ignored.py").read_text() == BUGGY
    assert "Fixed 2 finding(s) in 1 file(s)." in capsys.readouterr().err
    assert main(["fix", str(project)]) == 0  # nothing left to fix


def test_fix_diff_writes_nothing(project: Path, capsys) -> None:
    path = project / "app" / "consumers.py"
    assert main(["fix", "--diff", str(path)]) == 1
    out = capsys.readouterr().out
    assert path.read_text() == BUGGY
    assert f"--- {path}" in out and '+        await self.send(text_data="ok")' in out


def test_fix_select(project: Path) -> None:
    path = project / "app" / "consumers.py"
    assert main(["fix", "--select", "CHN105", str(path)]) == 1
    text = path.read_text()
    assert "await self.send" in text and "database_sync_to_async" not in text


def test_fix_keeps_crlf_and_declared_encoding(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    source = "# -*- coding: latin-1 -*-\n" + BUGGY.replace("a comment", "a comment, café")
    path.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert main(["fix", str(path)]) == 1
    data = path.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    expected = "# -*- coding: latin-1 -*-\n" + FIXED.replace("a comment", "a comment, café")
    assert data.decode("latin-1") == expected.replace("\n", "\r\n")


def test_fix_leaves_unparseable_file_untouched(tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.py"
    data = b"from .models import Note\nasync def f(:\n    Note.objects.create()\n"
    path.write_bytes(data)
    assert main(["fix", str(path)]) == 1
    assert path.read_bytes() == data
    assert "not fixed, left unchanged" in capsys.readouterr().err


def test_rules_and_rule_docs(capsys) -> None:
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert "CHN101  sync-orm-query-in-async" in listing and "fix: safe" in listing
    assert main(["rule", "chn101"]) == 0
    docs = capsys.readouterr().out
    assert docs.startswith("# sync-orm-query-in-async (CHN101)") and "## Why is this bad?" in docs
    assert main(["rule", "CHN999"]) == 2


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("channels-lint")
    assert script.exists() and os.access(script, os.X_OK)
