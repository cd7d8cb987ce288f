"""flake8 plugin: a thin adapter over :func:`channels_lint.engine.lint`.

flake8 applies ``# noqa``, ``--select``, ``--ignore``, ``--extend-select`` and
``per-file-ignores`` itself.  The plugin reads the same configuration as ``channels-lint
check`` (``docs/configuration.md``), so the two never disagree: its own options
(``--django-version``, ``--channels-version``, ``--orm-style``, ``--extra-consumer-bases``,
``--extra-model-managers``, ``--safe-serializers``, on flake8's command line or in its config)
and ``[tool.channels_lint]`` of the project, ranked command line > ``[tool.channels_lint]`` >
flake8's config.  A rule that configuration disables does not run, so its findings never
reach flake8; a file that ``[tool.channels_lint]`` excludes gets no finding.  A configuration error is one CHN900 finding per checked file.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from channels_lint import __version__
from channels_lint.config import KEYS, ORM_STYLES, ConfigError, Excluder, Layer, Options, Settings
from channels_lint.engine import UNANALYSABLE, Source, lint, may_contain_findings, selected_rules
from channels_lint.project import ProjectIndex, find_root
from channels_lint.project.settings import project_layers, settings_from
from channels_lint.rules import Rule

_RULES = selected_rules()
#: The plugin's own options: flake8 option name -> help.
_OPTIONS = {
    "django-version": "target Django version, e.g. 4.2 (default: from the project's pins)",
    "channels-version": "target Channels version (default: from the project's pins)",
    "orm-style": "how ORM fixes are written (database_sync_to_async or async-methods)",
    "extra-consumer-bases": "consumer base classes outside the project, as module.Class:async or :sync",
    "extra-model-managers": "model manager attribute names besides objects",
    "safe-serializers": "qualified names of functions whose result is a safe channel-layer payload",
}
#: flake8's own selection options the plugin reads from flake8's namespace.
_SELECTION = ("select", "extend_select", "ignore", "extend_ignore", "per_file_ignores")


def _option_type(key: str) -> Any:
    """argparse ``type`` for one option: a bad value is an ordinary usage error."""

    def parse(value: str) -> str:
        try:
            KEYS[key].from_flake8(value, f"--{key}", ".")
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    parse.__name__ = key
    return parse


def version_option(value: str) -> str:
    """argparse ``type`` for the version options: ``"4.2"`` passes, ``"abc"`` is a usage error."""
    return str(_option_type("django-version")(value))


class ChannelsLintPlugin:
    """flake8 ``tree`` plugin registered for the ``CHN`` prefix (see pyproject.toml)."""

    name = "channels-lint"
    version = __version__
    #: What flake8's config said (lowest layer) and what its command line changed (highest).
    config_layer: ClassVar[Layer] = Layer(source="flake8 config")
    command_line_layer: ClassVar[Layer] = Layer(source="flake8 command line")
    #: Per project root: its merged options and settings, the excludes of
    #: ``[tool.channels_lint]`` (flake8 applies its own), or the configuration error.
    _projects: ClassVar[dict[Path, tuple[Options, Settings, Excluder | None] | ConfigError]] = {}
    _rules: ClassVar[dict[tuple[str, ...] | None, list[type[Rule]]]] = {}

    def __init__(self, tree: ast.Module, lines: list[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @staticmethod
    def add_options(manager: Any) -> None:
        """The plugin's options; a bad value, on the command line or in flake8's config, is an
        ordinary argparse usage error."""
        for key, help_text in _OPTIONS.items():
            extra: dict[str, Any] = {"choices": ORM_STYLES} if key == "orm-style" else {"type": _option_type(key)}
            manager.add_option(f"--{key}", parse_from_config=True, default=None, help=f"channels-lint: {help_text}", **extra)

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """Split flake8's merged options into what its config said and what the command line
        changed (a value that differs from the config's came from the command line)."""
        cls._projects = {}
        cls._rules = {}
        try:
            section, cfg_dir = _flake8_config_section(options)
            config = Layer.from_flake8(section, "flake8 config", cfg_dir)
            # the same text read as the command line reads it, to compare like with like
            as_given = Layer.from_flake8(section, "flake8 config", ".")
        except (ConfigError, OSError, ValueError):
            config = as_given = Layer(source="flake8 config")
        changed = {name: value for name, value in _namespace_layer(options).given().items() if value != getattr(as_given, name)}
        cls.config_layer = config
        cls.command_line_layer = Layer(source="flake8 command line", **changed)

    def _project(self, path: str | None) -> tuple[Path, Options, Settings, Excluder | None]:
        """Raises: ConfigError: the project's configuration is wrong."""
        root = find_root(Path(path or "."))
        cached = self._projects.get(root)
        if cached is None:
            try:
                layers = project_layers(root, flake8=False)
                options = Options.merge([self.config_layer, *layers, self.command_line_layer])
                patterns = tuple(p for layer in layers for p in (*(layer.exclude or ()), *layer.extend_exclude))
                cached = (options, settings_from(root, options), Excluder.of(patterns) if patterns else None)
            except ConfigError as error:
                cached = error
            self._projects[root] = cached
        if isinstance(cached, ConfigError):
            raise cached
        return (root, *cached)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if not may_contain_findings(text, _RULES):
            return
        path = None if self.filename in ("-", "stdin", None) else self.filename
        try:
            root, options, settings, excluder = self._project(path)
        except ConfigError as error:  # a bad [tool.channels_lint] table or pyproject.toml
            yield 1, 0, f"{UNANALYSABLE} invalid channels-lint configuration: {error}", type(self)
            return
        if excluder is not None and path is not None and excluder.excludes(path, str(root)):
            return  # excluded by [tool.channels_lint], as check and fix exclude it
        select = options.for_path(path).select
        rules = self._rules.get(select)
        if rules is None:
            rules = self._rules[select] = selected_rules(select)
        source = Source(text, self.lines)
        project = ProjectIndex.for_path(path)
        for violation in lint(source, rules, tree=self.tree, noqa=False, path=path, settings=settings, project=project):
            yield violation.line, violation.col, f"{violation.code} {violation.message}", type(self)


def _namespace_layer(options: argparse.Namespace) -> Layer:
    """flake8's merged option values, in the shape of a layer."""
    section: dict[str, str] = {}
    for key in _OPTIONS:
        value = getattr(options, key.replace("-", "_"), None)
        if value:
            section[key] = value
    for name in _SELECTION:
        value = getattr(options, name, None)
        if value:
            section[name] = value if isinstance(value, str) else ",".join(value)
    return Layer.from_flake8(section, "flake8 options", ".")


def _flake8_config_section(options: argparse.Namespace) -> tuple[dict[str, str], str]:
    """The ``[flake8]`` section flake8 loaded (``--config``, ``--append-config`` and
    ``--isolated`` honoured) and its directory."""
    from flake8.options.config import load_config

    cfg, cfg_dir = load_config(
        getattr(options, "config", None),
        list(getattr(options, "append_config", None) or ()),
        isolated=bool(getattr(options, "isolated", False)),
    )
    return (dict(cfg["flake8"]) if "flake8" in cfg else {}), cfg_dir
