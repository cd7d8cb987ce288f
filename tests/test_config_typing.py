"""The typed public API (``py.typed``): the modules of the configuration model and front ends
pass ``mypy --strict``, and a user's program calling ``channels_lint.engine.lint``,
``channels_lint.fixes.fix_bytes``, ``channels_lint.config`` and ``channels_lint.runtime``
type-checks under ``--strict`` with precise types (``assert_type``: nothing is ``Any``).

mypy is in the test extra; the tests skip where it is not installed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import channels_lint

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(channels_lint.__file__).parent
#: Modules of the configuration model, the CLI and the other front ends (strict, fully).
STRICT_MODULES = (
    "channels_lint.config",
    "channels_lint.project.settings",
    "channels_lint.cli",
    "channels_lint.output",
    "channels_lint.adoption",
    "channels_lint.docs",
    "channels_lint.plugin",
    "channels_lint.codemods.channels_lint_fix",
    "channels_lint.__main__",
    "channels_lint.runtime",
)
CLIENT = """
from __future__ import annotations

from typing import assert_type

from channels_lint.config import ConfigError, Layer, Options, Settings, parse_version
from channels_lint.diagnostics import Violation
from channels_lint.engine import Source, lint, lint_bytes
from channels_lint.fixes import FixResult, fix_bytes


def check(text: str) -> list[Violation]:
    options = Options.merge([Layer(select=("CHN1",))])
    assert_type(options.select, tuple[str, ...] | None)
    assert_type(parse_version("4.2"), tuple[int, int])
    found = lint(Source.from_text(text), settings=Settings(django_version=(4, 2)))
    assert_type(found, list[Violation])
    source, more = lint_bytes(text.encode())
    assert_type(source, Source | None)
    return found + more


def fix(data: bytes) -> bytes:
    result = fix_bytes(data, filename="app/consumers.py", options=Options.of(select=["CHN101"]))
    assert_type(result, FixResult)
    assert_type(result.changed, bool)
    return result.fixed


def configuration_error(error: ConfigError) -> ValueError:
    return error
"""
RUNTIME_CLIENT = """
from __future__ import annotations

from typing import assert_type

from channels_lint.runtime import dumps, safe_serialize, validate_serializable

assert_type(dumps({"a": 1}), str)
assert_type(safe_serialize({"a": 1}), object)
assert_type(validate_serializable({"a": 1}), bool)
"""


def mypy(*arguments: str, cache: Path) -> tuple[int, str]:
    out, err, status = mypy_api.run(
        [
            "--strict",
            "--follow-imports=silent",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache),
            *arguments,
        ]
    )
    return status, out + err


def test_package_is_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert 'channels_lint = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()


def test_front_end_modules_pass_mypy_strict(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(PACKAGE.parent)
    arguments = [part for module in STRICT_MODULES for part in ("-m", module)]
    status, output = mypy(*arguments, cache=tmp_path / "cache")
    assert status == 0, output


def client_check(tmp_path: Path, monkeypatch, source: str) -> tuple[int, str]:
    (tmp_path / "client.py").write_text(textwrap.dedent(source))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MYPYPATH", str(PACKAGE.parent))  # an editable install is an import hook mypy cannot follow
    return mypy("client.py", cache=tmp_path / "cache")


def test_public_api_type_checks_in_a_user_program(tmp_path: Path, monkeypatch) -> None:
    status, output = client_check(tmp_path, monkeypatch, CLIENT)
    assert status == 0, output


@pytest.mark.xfail(
    strict=True,
    reason="channels_lint.runtime exports its names lazily (PEP 562 __getattr__), so type checkers see Any: "
    "it needs an `if TYPE_CHECKING:` import block in channels_lint/runtime/__init__.py (runtime package)",
)
def test_runtime_exports_have_their_types(tmp_path: Path, monkeypatch) -> None:
    status, output = client_check(tmp_path, monkeypatch, RUNTIME_CLIENT)
    assert status == 0, output
