"""``channels-lint fix``: ``--check``, ``--diff``, the summary, stdin, the process pool (same
result as one process), the progress bar, and no LibCST for files with nothing to fix."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from channels_lint import cli
from channels_lint.cli import main

from .helpers import make_project

MODELS = "from django.db import models\n\nclass Note(models.Model):\n    body = models.TextField()\n"
CONSUMER = """\
from channels.generic.websocket import AsyncWebsocketConsumer

from models import Note


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        Note.objects.create(body=text_data)
        self.send(text_data="ok")

    def disconnect(self, code):
        pass
"""
CLEAN = "def f():\n    return 1\n"


def mkproject(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    return make_project(root, files)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return mkproject(tmp_path / "p", {"models.py": MODELS, "app/consumers.py": CONSUMER, "app/clean.py": CLEAN})


def test_check_mode_writes_nothing_and_exits_1(project: Path, capsys) -> None:
    path = project / "app" / "consumers.py"
    assert main(["fix", "--check", str(project)]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"Would fix 2 finding(s) in {path}\n"
    assert "Would fix 2 finding(s) in 1 file(s)." in captured.err
    assert path.read_text() == CONSUMER
    assert main(["fix", "--check", str(project / "app" / "clean.py")]) == 0
    assert main(["fix", "--check", "--diff", str(project)]) == 2


def test_summary_counts_fixes_and_findings_left_per_code(project: Path, capsys) -> None:
    assert main(["fix", str(project)]) == 1
    err = capsys.readouterr().err
    assert (
        "Fixed 2 finding(s) in 1 file(s).\n  1     CHN101 sync-orm-query-in-async\n  1     CHN105 coroutine-not-awaited\n" in err
    )
    assert "1 finding(s) left:\n  1     CHN108 handler-kind-mismatch\n1 of them fixable with --unsafe-fixes.\n" in err
    assert main(["fix", "--unsafe-fixes", "--show-fixes", str(project)]) == 1
    err = capsys.readouterr().err
    assert f"{project / 'app' / 'consumers.py'}:\n  1     CHN108 handler-kind-mismatch\n" in err
    assert "finding(s) left" not in err
    assert main(["fix", str(project)]) == 0


def test_fix_from_stdin_prints_the_fixed_code(project: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": io.BytesIO(CONSUMER.encode())})())
    stdout = io.BytesIO()
    monkeypatch.setattr(
        sys, "stdout", type("Stdout", (), {"buffer": stdout, "flush": lambda self: None, "write": lambda self, s: None})()
    )
    assert main(["fix", "-", "--stdin-filename", str(project / "app" / "edited.py")]) == 1
    assert b"await database_sync_to_async(Note.objects.create)(body=text_data)" in stdout.getvalue()
    assert (project / "app" / "consumers.py").read_text() == CONSUMER


def test_parallel_fix_gives_the_serial_result(tmp_path: Path, capsys, monkeypatch) -> None:
    files = {"models.py": MODELS}
    for index in range(24):
        files[f"pkg{index % 3}/m{index:02}.py"] = CONSUMER if index % 2 else CLEAN
    serial_root = mkproject(tmp_path / "serial", files)
    parallel_root = tmp_path / "parallel"
    shutil.copytree(serial_root, parallel_root)
    monkeypatch.setattr(cli, "PARALLEL_MIN_FILES", 8)
    assert main(["fix", "-j", "1", "--unsafe-fixes", str(serial_root)]) == 1
    serial_err = capsys.readouterr().err
    pools = []
    original = cli.ProcessPoolExecutor
    monkeypatch.setattr(cli, "ProcessPoolExecutor", lambda *a, **k: pools.append(a) or original(*a, **k))
    assert main(["fix", "-j", "2", "--unsafe-fixes", str(parallel_root)]) == 1
    assert pools == [(2,)]
    assert capsys.readouterr().err.replace(str(parallel_root), str(serial_root)) == serial_err
    for path in serial_root.rglob("*.py"):
        assert (parallel_root / path.relative_to(serial_root)).read_bytes() == path.read_bytes(), path
    assert "await database_sync_to_async" in (serial_root / "pkg0" / "m03.py").read_text()


def test_nothing_to_fix_costs_what_check_costs(tmp_path: Path) -> None:
    """A tree without a fixable finding never imports LibCST (no codemod per file)."""
    root = make_project(tmp_path, {"models.py": MODELS, **{f"m{i}.py": CLEAN for i in range(5)}, "c.py": "import json\n"})
    probe = (
        "import sys\nfrom channels_lint.cli import main\n"
        f"code = main(['fix', '-j', '1', {str(root)!r}])\n"
        "print(code, 'libcst' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False"], result.stderr


def test_progress_bar_only_on_a_terminal_for_large_trees(monkeypatch) -> None:
    assert cli._progress(500, disabled=False) is None  # pytest's stderr is not a terminal
    monkeypatch.setattr(sys, "stderr", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    assert cli._progress(10, disabled=False) is None  # a small tree
    assert cli._progress(500, disabled=True) is None  # --no-progress
    bar = cli._progress(500, disabled=False)
    assert bar is not None
    bar.update(250)
    bar.refresh()
    assert "250/500" in sys.stderr.getvalue()
