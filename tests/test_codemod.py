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
  - 'codemods'
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
