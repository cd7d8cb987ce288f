"""One configuration model for ``check``, ``fix``, flake8 and the codemod (docs/configuration.md).

* command line > ``[tool.channels_lint]`` > flake8's config > pins > defaults, for every option;
* ``select``/``ignore`` replace, ``extend-*`` add, the most specific prefix decides;
* ``per-file-ignores`` and ``exclude`` read from both files, applied by ``check``, ``fix`` and flake8;
* unknown keys and wrong types are errors with a suggestion (exit 2; one CHN900 under flake8),
  and so is every ``pyproject.toml`` of the wrong shape found when the tool was attacked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from channels_lint.cli import main
from channels_lint.config import ConfigError, Layer, Options, known_codes
from channels_lint.project.settings import resolve

from .helpers import make_project

HEAD = "from channels.generic.websocket import AsyncWebsocketConsumer\nfrom .models import Note\n\n"
CONSUMER = HEAD + (
    "class C(AsyncWebsocketConsumer):\n"
    "    async def receive(self, text_data=None, bytes_data=None):\n"
    "        Note.objects.create(body=text_data)\n"  # line 6: CHN101
    "        self.send(text_data='ok')\n"  # line 7: CHN105
)
MODELS = "from django.db import models\n\nclass Note(models.Model):\n    body = models.TextField()\n"


def codes_of(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if ": CHN" in line]


def flake8(project: Path, *options: str) -> subprocess.CompletedProcess:
    """flake8 on ``options`` (the last ones name the paths; ``.`` when none is given)."""
    if not options or options[-1].startswith("-") or options[-1] == "CHN105":
        options = (*options, ".")
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--format=%(path)s:%(row)d:%(code)s", "--select", "CHN", *options],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def flake8_codes(project: Path, *options: str) -> list[str]:
    result = flake8(project, *options)
    assert result.returncode in (0, 1), result.stderr
    return sorted(line.rsplit(":", 1)[1] for line in result.stdout.split())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, {"app/models.py": MODELS, "app/consumers.py": CONSUMER, "tests/test_c.py": CONSUMER})


# ---------------------------------------------------------------------------- shapes that used to crash

WRONG_SHAPES = {
    "tool channels_lint is a string": ('[tool]\nchannels_lint = "yes"\n', "[tool.channels_lint] must be a table"),
    "array of tables": ('[[tool.channels_lint]]\nselect = ["CHN1"]\n', "array of tables"),
    "tool is a string": ('tool = "x"\n', "`tool` must be a table"),
    "project is a string": ('project = "x"\n', "[project] must be a table"),
    "dependencies of numbers": (
        "[project]\ndependencies = [1, 2]\n",
        "project.dependencies must be an array of requirement strings",
    ),
    "optional-dependencies as a list": (
        '[project]\noptional-dependencies = ["django"]\n',
        "project.optional-dependencies must be a table",
    ),
    "poetry dependencies as a string": ('[tool.poetry]\ndependencies = "django"\n', "[tool.poetry.dependencies] must be a table"),
    "TOML syntax error": ('[tool.channels_lint\nselect = ["CHN1"]\n', "invalid TOML"),
    "version as a TOML float": ("[tool.channels_lint]\ndjango-version = 4.10\n", 'write "4.10" with the quotes'),
    "version as a TOML integer": ("[tool.channels_lint]\nchannels-version = 4\n", "channels-version must be a string"),
    "underscore key": ('[tool.channels_lint]\norm_style = "async-methods"\n', "did you mean 'orm-style'?"),
    "misspelt key": ('[tool.channels_lint]\ndjango-vesrion = "4.2"\n', "did you mean 'django-version'?"),
    "codes as a string": ('[tool.channels_lint]\nselect = "CHN1"\n', "select must be a list of strings"),
    "unknown code": ('[tool.channels_lint]\nextend-ignore = ["CHN1011"]\n', "did you mean 'CHN101'?"),
    "bad orm-style": ('[tool.channels_lint]\norm-style = "async-method"\n', "did you mean 'async-methods'?"),
    "per-file-ignores as a list": ('[tool.channels_lint]\nper-file-ignores = ["tests/*"]\n', "per-file-ignores must be a table"),
    "bad consumer base kind": (
        '[tool.channels_lint]\nextra-consumer-bases = {"lib.Base" = "asnyc"}\n',
        "did you mean 'async'?",
    ),
}


@pytest.mark.parametrize("name", WRONG_SHAPES)
def test_wrong_configuration_is_a_clear_error_everywhere(project: Path, name: str, capsys) -> None:
    text, message = WRONG_SHAPES[name]
    (project / "pyproject.toml").write_text(text)
    for command in (["check"], ["fix"], ["fix", "--diff"]):
        assert main([*command, str(project)]) == 2, command
        err = capsys.readouterr().err
        assert message in err and "pyproject.toml" in err and "Traceback" not in err
    assert (project / "app" / "consumers.py").read_text() == CONSUMER  # fix wrote nothing
    result = flake8(project, "app/consumers.py")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].endswith(":1:CHN900"), lines  # one CHN900 for the file


def test_flake8_message_names_the_problem(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.channels_lint]\ndjango-version = 4.10\n")
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "CHN", "app/consumers.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "CHN900 invalid channels-lint configuration" in result.stdout and '"4.10"' in result.stdout


def test_a_fifo_named_pyproject_toml_is_an_error_not_a_hang(project: Path, capsys) -> None:
    import os

    os.mkfifo(project / "pyproject.toml")
    assert main(["check", str(project)]) == 2
    assert "not a regular readable file" in capsys.readouterr().err


# ---------------------------------------------------------------------------- precedence


def test_one_precedence_for_every_source(tmp_path: Path) -> None:
    """command line > [tool.channels_lint] > flake8 config > pins > defaults."""
    root = make_project(tmp_path, {})
    versions = lambda **kw: resolve(root, Layer(**kw))[1].django_version
    assert versions() == (6, 1)  # default: the newest known
    (root / "requirements.txt").write_text("Django>=4.0,<5\n")
    assert versions() == (4, 0)  # pins
    (root / "setup.cfg").write_text("[flake8]\ndjango-version = 4.1\norm_style = async-methods\n")
    assert versions() == (4, 1)  # flake8's config beats the pins (underscores allowed there, as in flake8)
    (root / "pyproject.toml").write_text('[tool.channels_lint]\ndjango-version = "4.2"\n')
    assert versions() == (4, 2)  # [tool.channels_lint] beats flake8's config
    assert versions(django_version="5.0") == (5, 0)  # the command line beats everything
    options, settings = resolve(root)
    assert settings.orm_style == "async-methods"  # a key only flake8's config sets still applies
    assert (options.django_version, options.orm_style) == ("4.2", "async-methods")  # pinned for fix_bytes
    assert resolve(root, isolated=True)[1].django_version == (4, 0)  # --isolated: pins only


def test_config_is_found_above_the_project_root(tmp_path: Path) -> None:
    """A src layout: manage.py in src/, the configuration at the repository top."""
    (tmp_path / "pyproject.toml").write_text('[tool.channels_lint]\norm-style = "async-methods"\n')
    (tmp_path / "tox.ini").write_text("[flake8]\nchannels-version = 3.0\n")
    (tmp_path / "src").mkdir()
    root = make_project(tmp_path / "src", {})
    _, settings = resolve(root)
    assert (settings.orm_style, settings.channels_version) == ("async-methods", (3, 0))


def test_precedence_end_to_end_through_fix(project: Path, capsys) -> None:
    """flake8's config asks for async methods, [tool.channels_lint] for the thread bridge, and
    the command line wins over both."""
    (project / "setup.cfg").write_text("[flake8]\norm-style = async-methods\ndjango-version = 5.0\n")

    def fixed(*options: str) -> str:
        assert main(["fix", "--diff", "--select", "CHN101", *options, str(project / "app")]) == 1
        return capsys.readouterr().out

    assert "await Note.objects.acreate(body=text_data)" in fixed()
    (project / "pyproject.toml").write_text('[tool.channels_lint]\norm-style = "database_sync_to_async"\n')
    assert "await database_sync_to_async(Note.objects.create)(body=text_data)" in fixed()
    assert "await Note.objects.acreate(body=text_data)" in fixed("--orm-style", "async-methods")


# ---------------------------------------------------------------------------- selection


def merged(*layers: Layer) -> set[str]:
    return set(Options.merge(list(layers)).select or ())


def test_selection_rules() -> None:
    every = set(known_codes())
    chn1 = {code for code in every if code.startswith("CHN1")}
    assert merged() == every
    assert merged(Layer(select=("CHN1",), ignore=("CHN105",))) == chn1 - {"CHN105"}
    assert merged(Layer(ignore=("CHN1",), extend_select=("CHN105",))) == every - chn1 | {"CHN105"}
    # a higher source's select replaces a lower one's; extend-select adds across sources
    assert merged(Layer(select=("CHN1",)), Layer(select=("CHN3",))) == {c for c in every if c.startswith("CHN3")}
    assert merged(Layer(select=("CHN3",)), Layer(extend_select=("CHN101",))) == {c for c in every if c.startswith("CHN3")} | {
        "CHN101"
    }
    # equally specific: the higher source wins; within one source ignore wins
    assert "CHN105" in merged(Layer(extend_ignore=("CHN105",)), Layer(extend_select=("CHN105",)))
    assert "CHN105" not in merged(Layer(extend_select=("CHN105",)), Layer(extend_ignore=("CHN105",)))
    assert "CHN105" not in merged(Layer(extend_select=("CHN105",), extend_ignore=("CHN105",)))


def test_flake8_selection_entries_about_other_tools_are_ignored(project: Path, capsys) -> None:
    (project / "setup.cfg").write_text("[flake8]\nselect = E,W,F\nextend-ignore = E501,CHN105\n")
    assert main(["check", str(project / "app")]) == 1
    assert codes_of(capsys.readouterr().out) == ["CHN101"]  # select names no CHN code: not given


def test_check_fix_and_flake8_agree_on_selection_and_per_file_ignores(project: Path, capsys) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.channels_lint]\nextend-ignore = ["CHN105"]\n[tool.channels_lint.per-file-ignores]\n"tests/*" = ["CHN1"]\n'
    )
    assert main(["check", str(project)]) == 1
    out = capsys.readouterr().out
    assert codes_of(out) == ["CHN101"] and "tests" not in out
    assert flake8_codes(project) == ["CHN101"]
    # flake8's own command line outranks [tool.channels_lint], as check's does; and CHN105 is
    # more specific than the per-file CHN1, so tests/ reports it too (flake8's own rule)
    assert flake8_codes(project, "--extend-select", "CHN105") == ["CHN101", "CHN105", "CHN105"]
    assert main(["check", "--extend-select", "CHN105", str(project)]) == 1
    assert sorted(codes_of(capsys.readouterr().out)) == ["CHN101", "CHN105", "CHN105"]
    assert main(["fix", str(project)]) == 1
    assert "await database_sync_to_async" in (project / "app" / "consumers.py").read_text()
    assert "        self.send(text_data='ok')" in (project / "app" / "consumers.py").read_text()  # CHN105 ignored
    assert (project / "tests" / "test_c.py").read_text() == CONSUMER  # per-file-ignores hold for fix too


def test_per_file_ignores_from_flake8_config_and_command_line(project: Path, capsys) -> None:
    (project / ".flake8").write_text("[flake8]\nper-file-ignores =\n    tests/*: CHN1\n    consumers.py: CHN105\n")
    assert main(["check", str(project)]) == 1
    assert codes_of(capsys.readouterr().out) == ["CHN101"]
    assert flake8_codes(project) == ["CHN101"]
    assert main(["check", "--per-file-ignores", "consumers.py:CHN101", str(project)]) == 1
    assert sorted(codes_of(capsys.readouterr().out)) == ["CHN101", "CHN105", "CHN105"]  # the command line replaces


def test_project_knowledge_keys_are_accepted_and_validated(project: Path, capsys) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.channels_lint]\n"
        'extra-consumer-bases = {"djangochannelsrestframework.generic.GenericAsyncAPIConsumer" = "async"}\n'
        'extra-model-managers = ["published"]\n'
        'safe-serializers = ["app.events.to_payload"]\n'
    )
    _, settings = resolve(project)
    assert settings.extra_consumer_bases == (("djangochannelsrestframework.generic.GenericAsyncAPIConsumer", True),)
    assert settings.extra_model_managers == ("published",) and settings.safe_serializers == ("app.events.to_payload",)
    (project / "setup.cfg").write_text("[flake8]\nextra-consumer-bases = lib.Base:sync\nextra-model-managers = live\n")
    (project / "pyproject.toml").unlink()
    assert resolve(project)[1].extra_consumer_bases == (("lib.Base", False),)
    (project / "setup.cfg").write_text("[flake8]\nextra-model-managers = not a name\n")
    with pytest.raises(ConfigError, match="is not a name"):
        resolve(project)
    assert main(["check", str(project)]) == 2
    assert "extra-model-managers" in capsys.readouterr().err


def test_bad_values_on_the_command_line_are_usage_errors(project: Path, capsys) -> None:
    for arguments in (["--django-version", "four"], ["--select", "CHN1011"], ["--per-file-ignores", "x.py:CHN999"]):
        assert main(["check", *arguments, str(project)]) == 2
        assert "channels-lint:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "--orm-style", "fast", str(project)])


def test_flake8_honours_the_excludes_of_tool_channels_lint(project: Path, capsys) -> None:
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(CONSUMER)
    (project / "pyproject.toml").write_text('[tool.channels_lint]\nextend-exclude = ["legacy", "test_*.py"]\n')
    assert main(["check", str(project)]) == 1
    assert "legacy" not in capsys.readouterr().out
    result = flake8(project)
    assert sorted({line.split(":")[0] for line in result.stdout.split()}) == ["./app/consumers.py"]
