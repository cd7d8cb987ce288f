"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by pre-commit on a temporary repository.

pre-commit installs a ``language: python`` hook by building a virtualenv and pip-installing
the hook's repository into it, which needs the package index.  The tests run offline: each
hook of the manifest is run as a ``repo: local`` hook with the manifest's own id, entry,
arguments and file types, and ``language: system`` pointing at the ``channels-lint`` of the
environment running the tests.  The manifest itself is validated with pre-commit's own schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pre_commit_clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is in the test extra")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("channels-lint")

MODELS = "from django.db import models\n\n\nclass Note(models.Model):\n    body = models.TextField()\n"
CONSUMER = """\
from channels.generic.websocket import AsyncWebsocketConsumer

from .models import Note


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        Note.objects.create(body=text_data)
"""


def manifest() -> list[dict]:
    return pre_commit_clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))


def local_hook(hook: dict) -> dict:
    """The manifest's hook as a local ``language: system`` hook (same id, entry, args, types)."""
    command, _, arguments = hook["entry"].partition(" ")
    assert command == "channels-lint"
    local = {key: hook[key] for key in ("id", "name", "types_or", "require_serial", "pass_filenames", "args")}
    return {**local, "entry": f"{SCRIPT} {arguments}", "language": "system"}


def git(repo: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    files = {
        "manage.py": "",
        "pyproject.toml": '[tool.channels_lint]\nextend-exclude = ["migrations"]\n',
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/consumers.py": CONSUMER,
        "app/migrations/__init__.py": "",
        "app/migrations/0002_data.py": CONSUMER,
        "README.md": "not python\n",
    }
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text)
    config = {"repos": [{"repo": "local", "hooks": [local_hook(hook) for hook in manifest()]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    return repo


def pre_commit(repo: Path, hook: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "cache"), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--color", "never"]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False)


def test_manifest_is_valid_and_declares_both_hooks() -> None:
    hooks = {hook["id"]: hook for hook in manifest()}
    assert set(hooks) == {"channels-lint", "channels-lint-fix"}
    assert hooks["channels-lint"]["entry"].startswith("channels-lint check")
    assert hooks["channels-lint-fix"]["entry"].startswith("channels-lint fix")
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types_or"] == ["python"]
        assert "--force-exclude" in hook["entry"]  # the project's excludes apply to named files
    assert any(dep.startswith("libcst") for dep in hooks["channels-lint-fix"]["additional_dependencies"])


def test_check_hook_reports_findings_and_honours_excludes(repo: Path) -> None:
    result = pre_commit(repo, "channels-lint")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/consumers.py:8:9: CHN101" in result.stdout
    assert "migrations" not in result.stdout  # excluded by [tool.channels_lint], named by pre-commit
    assert "README.md" not in result.stdout  # only Python files are passed


def test_fix_hook_fixes_then_check_passes(repo: Path) -> None:
    result = pre_commit(repo, "channels-lint-fix")
    assert result.returncode == 1, result.stdout + result.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in result.stdout
    assert "await database_sync_to_async(Note.objects.create)(body=text_data)" in (repo / "app/consumers.py").read_text()
    assert (repo / "app/migrations/0002_data.py").read_text() == CONSUMER
    git(repo, "add", ".")
    assert pre_commit(repo, "channels-lint-fix").returncode == 0
    assert pre_commit(repo, "channels-lint").returncode == 0
