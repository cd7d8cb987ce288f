"""The flake8 plugin, run through flake8 itself as users do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import make_project

SOURCE = """\
from .models import Note


async def handler(layer):
    Note.objects.create(body="x")
    layer_call = Note.objects.get(pk=1)  # noqa: CHN101
    await other()


async def other():
    pass


async def caller():
    other()
"""


def run_flake8(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *arguments], capture_output=True, text=True, check=False)


def flake8(path: Path, *options: str) -> list[str]:
    """``row:code`` of each finding; flake8 must exit 0 or 1 (not a usage error or crash)."""
    result = run_flake8("--format=%(row)d:%(code)s", *options, str(path))
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.split()


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "consumers.py"
    path.write_text(SOURCE)
    return path


def test_plugin_reports_and_honours_noqa(module: Path) -> None:
    assert flake8(module, "--select", "CHN") == ["5:CHN101", "15:CHN105"]


def test_select_ignore_and_extend_select(module: Path) -> None:
    assert flake8(module, "--select", "CHN105") == ["15:CHN105"]
    assert flake8(module, "--select", "CHN", "--ignore", "CHN101") == ["15:CHN105"]
    assert "5:CHN101" in flake8(module, "--extend-select", "CHN")


def test_plugin_is_registered_with_its_version() -> None:
    result = run_flake8("--version")
    assert result.returncode == 0 and "channels-lint" in result.stdout


def test_syntax_error_is_flake8s_e999(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("async def f(:\n    pass\n")
    assert flake8(path, "--select", "CHN,E999") == ["1:E999"]


def test_options_and_models_index_under_flake8(tmp_path: Path) -> None:
    models = (
        "from django.db import models\n\n"
        "class Shelf(models.Model):\n    label = models.CharField(max_length=9)\n\n"
        "class Gadget(models.Model):\n    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)\n"
    )
    consumers = "from .models import Gadget\n\nasync def f():\n    gadget = await Gadget.objects.aget(pk=1)\n    return gadget.shelf.label\n"
    path = make_project(tmp_path, {"models.py": models, "consumers.py": consumers}) / "consumers.py"
    assert flake8(path, "--select", "CHN", "--django-version", "4.2", "--orm-style", "async-methods") == ["5:CHN103"]
    (tmp_path / ".flake8").write_text("[flake8]\ndjango-version = 4.2\norm-style = async-methods\n")
    assert flake8(path, "--select", "CHN", "--config", str(tmp_path / ".flake8")) == ["5:CHN103"]
    bad = run_flake8("--select", "CHN", "--orm-style", "fast", str(path))
    assert bad.returncode != 0 and "orm-style" in bad.stderr


def test_bad_settings_are_usage_errors_not_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "consumers.py"
    path.write_text("async def f(layer):\n    await layer.send('x', {})\n")
    for options in (["--django-version", "abc"], ["--orm-style", "bogus"]):
        result = run_flake8("--select", "CHN", *options, str(path))
        assert result.returncode != 0 and "Traceback" not in result.stderr and "usage:" in result.stderr
    (tmp_path / ".flake8").write_text("[flake8]\ndjango-version = abc\n")
    result = run_flake8("--select", "CHN", "--config", str(tmp_path / ".flake8"), str(path))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    (tmp_path / ".flake8").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.channels_lint]\ndjango-version = "abc"\n')
    assert flake8(path, "--select", "CHN") == ["1:CHN900"]
    (tmp_path / "pyproject.toml").write_text('[tool.channels_lint]\ndjango-vesrion = "4.2"\n')
    assert flake8(path, "--select", "CHN") == ["1:CHN900"]
