"""``channels-lint check``: finding files, stdin, the text options, exit codes, printing paths
that the terminal's encoding cannot hold, parallel runs, ``python -m channels_lint``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from channels_lint import cli
from channels_lint.cli import main

from .helpers import make_project

HEAD = "from channels.generic.websocket import AsyncWebsocketConsumer\nfrom .models import Note\n\n"
BUGGY = HEAD + "async def f():\n    Note.objects.count()\n"  # CHN101 at 5:5
MODELS = "from django.db import models\n\nclass Note(models.Model):\n    body = models.TextField()\n"


def paths_of(output: str) -> list[str]:
    return sorted(line.split(":", 1)[0] for line in output.splitlines() if ": CHN" in line)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "app/models.py": MODELS,
        "app/consumers.py": BUGGY,
        "app/migrations/0002_data.py": BUGGY,
        "build/lib/copy.py": BUGGY,
        "myenv/lib/python3.11/site-packages/pkg/mod.py": BUGGY,
        "myenv/pyvenv.cfg": "home = /usr/bin\n",
        "vendor/site-packages/other.py": BUGGY,
        "notes.txt": "not python",
    }
    return make_project(tmp_path, files)


def test_no_path_means_the_current_directory(tree: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tree)
    assert main(["check"]) == 1
    assert paths_of(capsys.readouterr().out) == ["app/consumers.py", "app/migrations/0002_data.py"]


def test_exclude_replaces_the_defaults_but_never_walks_environments(tree: Path, capsys, monkeypatch) -> None:
    """``--exclude migrations`` used to drop the default list silently, so ``.venv`` was
    scanned; now virtual environments (``pyvenv.cfg``) and ``site-packages`` are never walked."""
    assert main(["check", "--exclude", "migrations", str(tree)]) == 1
    found = paths_of(capsys.readouterr().out)
    assert found == sorted([str(tree / "app" / "consumers.py"), str(tree / "build" / "lib" / "copy.py")])
    assert main(["check", "--extend-exclude", "migrations", str(tree)]) == 1  # keeps the defaults (build)
    assert paths_of(capsys.readouterr().out) == [str(tree / "app" / "consumers.py")]
    monkeypatch.chdir(tree.parent)  # a pattern with a / is anchored at the current directory
    assert main(["check", "--extend-exclude", f"{tree.name}/app/c*.py", str(tree)]) == 1
    assert paths_of(capsys.readouterr().out) == [str(tree / "app" / "migrations" / "0002_data.py")]


def test_environments_can_still_be_checked_when_named(tree: Path, capsys) -> None:
    target = tree / "myenv" / "lib" / "python3.11" / "site-packages" / "pkg"
    assert main(["check", str(target)]) == 1
    assert paths_of(capsys.readouterr().out) == [str(target / "mod.py")]


def test_named_files_and_force_exclude(tree: Path, capsys) -> None:
    named = tree / "app" / "migrations" / "0002_data.py"
    (tree / "pyproject.toml").write_text('[tool.channels_lint]\nextend-exclude = ["migrations", "skip_*.py"]\n')
    assert main(["check", str(named)]) == 1  # a named file is checked unless its own name matches
    (tree / "app" / "skip_me.py").write_text(BUGGY)
    assert main(["check", str(tree / "app" / "skip_me.py")]) == 0
    capsys.readouterr()
    assert main(["check", "--force-exclude", str(named), str(tree / "app" / "consumers.py")]) == 1
    assert paths_of(capsys.readouterr().out) == [str(tree / "app" / "consumers.py")]


def test_a_named_path_must_be_python_or_a_directory(tree: Path, capsys) -> None:
    assert main(["check", str(tree / "notes.txt")]) == 2
    assert "not a Python file" in capsys.readouterr().err
    assert main(["check", str(tree / "missing.py")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_stdin_with_a_file_name(tree: Path, capsys, monkeypatch) -> None:
    (tree / "pyproject.toml").write_text('[tool.channels_lint.per-file-ignores]\n"legacy.py" = ["CHN101"]\n')

    def check(*arguments: str, data: bytes = BUGGY.encode()) -> int:
        monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": __import__("io").BytesIO(data)})())
        return main(["check", "-", *arguments])

    name = str(tree / "app" / "edited.py")
    assert check("--stdin-filename", name) == 1
    assert capsys.readouterr().out.startswith(f"{name}:5:5: CHN101 ")
    assert check("--stdin-filename", str(tree / "app" / "legacy.py")) == 0  # per-file-ignores by that name
    assert check() == 1 and capsys.readouterr().out.startswith("-:5:5: CHN101 ")
    assert check("--stdin-filename", "notes.txt") == 2
    assert main(["check", "-", str(tree)]) == 2


def test_exit_zero_statistics_and_show_source(tree: Path, capsys) -> None:
    path = tree / "app" / "consumers.py"
    assert main(["check", "--exit-zero", str(path)]) == 0
    assert "CHN101" in capsys.readouterr().out
    assert main(["check", "--statistics", "--show-source", str(tree / "app")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == ["    Note.objects.count()", "    ^"]  # flake8's --show-source layout
    assert lines[-1] == "2     CHN101 [*] sync-orm-query-in-async"
    assert main(["check", "--statistics", "--output-format", "json", str(path)]) == 2


def test_show_fixes_prints_each_fix_as_a_diff(tree: Path, capsys) -> None:
    assert main(["check", "--show-fixes", str(tree / "app" / "consumers.py")]) == 1
    out = capsys.readouterr().out
    assert "    fix (safe): " in out
    assert "    +from channels.db import database_sync_to_async" in out
    assert "    -    Note.objects.count()" in out and "    +    await database_sync_to_async(Note.objects.count)()" in out


def test_python_dash_m_runs_the_command(tree: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "channels_lint", "check", str(tree / "app")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1 and "CHN101" in result.stdout
    version = subprocess.run([sys.executable, "-m", "channels_lint", "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("channels-lint ")


def test_check_never_imports_libcst(tree: Path) -> None:
    """``check`` needs only the core install: LibCST is the ``fix`` extra."""
    probe = (
        "import sys; sys.modules['libcst'] = None\n"
        "from channels_lint.cli import main\n"
        f"code = main(['check', {str(tree / 'app')!r}])\n"
        "assert 'libcst' not in {m.split('.')[0] for m in sys.modules if sys.modules[m] is not None}\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "CHN101" in result.stdout, result.stderr
    probe = "import sys; sys.modules['libcst'] = None\nfrom channels_lint.cli import main\nsys.exit(main(['fix', '.']))\n"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tree, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "channels-lint[fix]" in result.stderr


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse non-UTF-8 names")
def test_non_utf8_file_names_print_with_a_strict_encoding(tmp_path: Path) -> None:
    """A file name that is not UTF-8 used to crash ``check`` and ``fix --diff`` with
    ``UnicodeEncodeError`` when stdout's encoding is strict."""
    make_project(tmp_path, {"models.py": MODELS})
    name = os.fsencode(tmp_path) + b"/caf\xe9.py"
    with open(name, "wb") as stream:
        stream.write(BUGGY.replace("from .models", "from models").encode())
    env = {**os.environ, "PYTHONIOENCODING": "ascii:strict"}
    for command in (["check", str(tmp_path)], ["fix", "--diff", str(tmp_path)]):
        result = subprocess.run([sys.executable, "-m", "channels_lint", *command], capture_output=True, env=env, check=False)
        assert result.returncode == 1, result.stderr
        assert b"Traceback" not in result.stderr
        assert b"caf\\udce9.py" in result.stdout  # the undecodable byte, escaped
    assert (
        subprocess.run(
            [sys.executable, "-m", "channels_lint", "check", str(tmp_path), "--output-format", "sarif"],
            capture_output=True,
            env=env,
            check=False,
        ).stdout.count(b"caf%E9.py")
        == 2
    )  # the URI keeps the byte


def test_parallel_check_gives_the_serial_result(tmp_path: Path, capsys, monkeypatch) -> None:
    files = {"models.py": MODELS}
    for index in range(40):
        body = BUGGY if index % 3 == 0 else "def f():\n    return 1\n"
        files[f"pkg{index % 4}/m{index:02}.py"] = body.replace("from .models", "from models")
    root = make_project(tmp_path, files)
    monkeypatch.setattr(cli, "PARALLEL_MIN_FILES", 8)
    assert main(["check", "-j", "1", "--output-format", "json", str(root)]) == 1
    serial = capsys.readouterr().out
    calls = []
    original = cli.ProcessPoolExecutor
    monkeypatch.setattr(cli, "ProcessPoolExecutor", lambda *a, **k: calls.append(a) or original(*a, **k))
    assert main(["check", "-j", "2", "--output-format", "json", str(root)]) == 1
    assert calls, "the pool was not used"
    assert capsys.readouterr().out == serial
    assert main(["check", "-j", "0", str(root)]) == 2
