"""The LibCST codemod entry point gives the same output as ``channels-lint fix``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import FIXTURES

CONFIG = """\
generated_code_marker: '@generated'
formatter: []
blacklist_patterns: []
modules:
  - 'channels_lint.codemods'
repo_root: '.'
"""


def test_libcst_tool_codemod_matches_fix_command(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "chat_project", tmp_path / "chat_project")
    (tmp_path / ".libcst.codemod.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "channels_lint_fix.ApplyChannelsLintFixes",
            "chat_project",
            "--jobs=1",
            "--no-format",
            "--select",
            "chn1,CHN2,CHN4",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for relative in ("chat/consumers.py", "chat/routing.py"):
        expected = (FIXTURES / "chat_project_fixed" / relative).read_text()
        assert (tmp_path / "chat_project" / relative).read_text() == expected
    assert (tmp_path / "chat_project" / "chat" / "models.py").read_bytes() == (
        FIXTURES / "chat_project" / "chat" / "models.py"
    ).read_bytes()


CONSUMER = """\
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Note


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        Note.objects.create(body=text_data)
        self.send(text_data="ok")
"""


def test_recipe_works_in_a_project_with_its_own_codemods_package(tmp_path: Path) -> None:
    """The README's recipe, in a project whose own top-level ``codemods`` package holds its
    own codemod: both are found, and the project's ``[tool.channels_lint]`` applies."""
    (tmp_path / "manage.py").touch()
    (tmp_path / "pyproject.toml").write_text('[tool.channels_lint]\nextend-ignore = ["CHN105"]\n')
    (tmp_path / "codemods").mkdir()
    (tmp_path / "codemods" / "__init__.py").write_text("")
    (tmp_path / "codemods" / "shout.py").write_text(
        "import libcst as cst\n"
        "from libcst.codemod import VisitorBasedCodemodCommand\n\n"
        "class Shout(VisitorBasedCodemodCommand):\n"
        "    DESCRIPTION = 'upper-case string literals'\n"
        "    def leave_SimpleString(self, original_node, updated_node):\n"
        "        return updated_node.with_changes(value=updated_node.value.upper())\n"
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(
        "from django.db import models\n\nclass Note(models.Model):\n    body = models.TextField()\n"
    )
    (tmp_path / "app" / "consumers.py").write_text(CONSUMER)
    (tmp_path / ".libcst.codemod.yaml").write_text(
        CONFIG.replace("  - 'channels_lint.codemods'", "  - 'codemods'\n  - 'channels_lint.codemods'")
    )

    def codemod(command: str, path: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "libcst.tool", "codemod", command, path, "--jobs=1", "--no-format"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    codemod("channels_lint_fix.ApplyChannelsLintFixes", "app")
    fixed = (tmp_path / "app" / "consumers.py").read_text()
    assert "await database_sync_to_async(Note.objects.create)(body=text_data)" in fixed
    assert '        self.send(text_data="ok")' in fixed  # CHN105 is ignored by the project's config
    codemod("shout.Shout", "app/consumers.py")  # the project's own codemods package still works
    assert 'self.send(text_data="OK")' in (tmp_path / "app" / "consumers.py").read_text()


def test_no_top_level_codemods_package_is_installed(tmp_path: Path) -> None:
    probe = "import importlib.util; print(importlib.util.find_spec('codemods'), importlib.util.find_spec('channels_lint.codemods') is not None)"
    result = subprocess.run([sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["None", "True"]
