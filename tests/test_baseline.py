"""Adopting channels-lint in one commit: ``check --add-noqa`` and ``check --baseline``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from channels_lint.cli import main

from .helpers import make_project

MODELS = "from django.db import models\n\nclass Note(models.Model):\n    body = models.TextField()\n"
SOURCE = '''\
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Note


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        Note.objects.count()
        Note.objects.filter(body="# not a comment").update(  # keep me
            body="""
a string # with a hash
""",
        )
        total = 1 + \\
            Note.objects.count()
        Note.objects.get(pk=1)  # noqa: E501
        self.send(text_data="x"); Note.objects.count()
'''


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    return make_project(tmp_path, {"app/models.py": MODELS, "app/consumers.py": SOURCE}) / "app" / "consumers.py"


def codes(capsys, *arguments: str) -> list[tuple[int, str]]:
    main(["check", *arguments])
    return [(int(line.split(":")[1]), line.split()[1]) for line in capsys.readouterr().out.splitlines()]


def test_add_noqa_silences_every_finding_without_touching_strings(consumer: Path, capsys) -> None:
    before = codes(capsys, str(consumer))
    assert [line for line, _ in before] == [8, 9, 15, 16, 17, 17]
    assert main(["check", "--add-noqa", str(consumer)]) == 0
    assert "Added 5 noqa directive(s) to 1 file(s)." in capsys.readouterr().err  # one per line
    text = consumer.read_text()
    lines = text.splitlines()
    assert lines[7] == "        Note.objects.count()  # noqa: CHN101"
    assert lines[8].endswith(".update(  # keep me  # noqa: CHN101")  # flake8 reads each bracketed line alone
    assert lines[12] == "        )"
    assert lines[10] == "a string # with a hash"  # strings are never touched
    assert lines[13] == "        total = 1 + \\"  # nor continuation lines
    assert lines[14] == "            Note.objects.count()  # noqa: CHN101"
    assert lines[15] == "        Note.objects.get(pk=1)  # noqa: E501, CHN101"  # an existing noqa grows
    assert lines[16] == '        self.send(text_data="x"); Note.objects.count()  # noqa: CHN101, CHN105'
    compile(text, str(consumer), "exec")
    assert codes(capsys, str(consumer)) == []
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "CHN", str(consumer)], capture_output=True, text=True, check=False
    )
    assert flake8.returncode == 0 and flake8.stdout == ""  # flake8 maps the comments the same way
    assert main(["check", "--add-noqa", str(consumer)]) == 0  # idempotent
    assert consumer.read_text() == text


def test_add_noqa_after_a_multiline_string(consumer: Path, capsys) -> None:
    consumer.write_text(
        'from .models import Note\n\nasync def f():\n    Note.objects.filter(body="""x\n# y\n""").count()\n    return """\n"""\n'
    )
    assert codes(capsys, str(consumer)) == [(4, "CHN101")]
    assert main(["check", "--add-noqa", str(consumer)]) == 0
    assert consumer.read_text().splitlines()[4:6] == ["# y", '""").count()  # noqa: CHN101']
    assert codes(capsys, str(consumer)) == []


def test_add_noqa_keeps_line_endings_and_encoding(consumer: Path, capsys) -> None:
    source = "# -*- coding: latin-1 -*-\n# café\n" + SOURCE
    consumer.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert main(["check", "--add-noqa", str(consumer)]) == 0
    data = consumer.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"") and "café".encode("latin-1") in data
    assert b"Note.objects.count()  # noqa: CHN101\r\n" in data
    assert codes(capsys, str(consumer)) == []


def test_add_noqa_leaves_unparseable_files_alone(tmp_path: Path, capsys) -> None:
    broken = make_project(tmp_path, {"app/models.py": MODELS}) / "app" / "broken.py"
    broken.write_text("from .models import Note\nasync def f(:\n    Note.objects.count()\n")
    before = broken.read_bytes()
    assert main(["check", "--add-noqa", str(broken)]) == 0
    assert broken.read_bytes() == before


def test_baseline_reports_only_new_findings_and_survives_line_shifts(consumer: Path, tmp_path: Path, capsys) -> None:
    baseline = tmp_path / "baseline.json"
    assert main(["check", "--baseline", str(baseline), str(consumer)]) == 2  # no baseline yet
    assert "--update-baseline" in capsys.readouterr().err
    assert main(["check", "--baseline", str(baseline), "--update-baseline", str(consumer)]) == 0
    assert "Recorded 6 finding(s)" in capsys.readouterr().err
    recorded = json.loads(baseline.read_text())
    assert {entry["file"] for entry in recorded["findings"]} == {"app/consumers.py"}
    assert sum(entry["count"] for entry in recorded["findings"]) == 6
    assert codes(capsys, "--baseline", str(baseline), str(consumer)) == []
    # lines inserted above and a re-indent: every finding is still known
    shifted = SOURCE.replace("    async def receive", "    x = 1\n\n    async def receive").replace(
        "        Note.objects.count()\n        Note.objects.filter",
        "        Note.objects.count()   \n        Note.objects.filter",
    )
    consumer.write_text(shifted)
    assert codes(capsys, "--baseline", str(baseline), str(consumer)) == []
    # a new finding, and a second copy of a known line, are reported
    consumer.write_text(shifted + "        Note.objects.count()\n        Note.objects.exists()\n")
    assert main(["check", "--baseline", str(baseline), str(consumer)]) == 1
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == ["CHN101", "CHN101"]


def test_baseline_errors(consumer: Path, tmp_path: Path, capsys) -> None:
    assert main(["check", "--update-baseline", str(consumer)]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["check", "--baseline", str(bad), str(consumer)]) == 2
    assert "cannot be read" in capsys.readouterr().err
