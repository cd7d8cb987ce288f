"""flake8 plugin: a thin adapter over :func:`channels_lint.engine.lint`.

flake8 applies ``# noqa``, ``--select``, ``--ignore`` and ``--extend-select`` itself; the
plugin runs every rule on the tree flake8 already parsed and yields what the engine finds.
Options (command line or flake8 config): ``--django-version``, ``--channels-version``,
``--orm-style``; when absent, ``[tool.channels_lint]`` and the project's pins decide.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

from channels_lint import __version__
from channels_lint.config import ORM_STYLES, Options, parse_version
from channels_lint.engine import UNANALYSABLE, Source, lint, may_contain_findings, selected_rules
from channels_lint.project import ProjectIndex, find_root, project_settings

_RULES = selected_rules()


def version_option(value: str) -> str:
    """argparse ``type`` for the version options: ``"4.2"`` passes, ``"abc"`` is a usage error."""
    try:
        parse_version(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


class ChannelsLintPlugin:
    """flake8 ``tree`` plugin registered for the ``CHN`` prefix (see pyproject.toml)."""

    name = "channels-lint"
    version = __version__
    options: Options = Options()

    def __init__(self, tree: ast.Module, lines: list[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @staticmethod
    def add_options(manager) -> None:
        """The target-version and fix-style options; a bad value, on the command line or in
        flake8's config, is an ordinary argparse usage error."""
        manager.add_option(
            "--django-version",
            parse_from_config=True,
            default=None,
            type=version_option,
            help="channels-lint: target Django version, e.g. 4.2 (default: from the project's pins)",
        )
        manager.add_option(
            "--channels-version",
            parse_from_config=True,
            default=None,
            type=version_option,
            help="channels-lint: target Channels version (default: from the project's pins)",
        )
        manager.add_option(
            "--orm-style",
            parse_from_config=True,
            default=None,
            choices=ORM_STYLES,
            help="channels-lint: how ORM fixes are written (database_sync_to_async or async-methods)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        # flake8 applies --select/--ignore itself: only the target versions and style matter here
        cls.options = Options.of(
            django_version=getattr(options, "django_version", None),
            channels_version=getattr(options, "channels_version", None),
            orm_style=getattr(options, "orm_style", None),
        )

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if not may_contain_findings(text, _RULES):
            return
        path = None if self.filename in ("-", "stdin", None) else self.filename
        try:
            options = self.options
            settings = project_settings(
                find_root(Path(path or ".")), options.django_version, options.channels_version, options.orm_style
            )
        except ValueError as error:  # a bad [tool.channels_lint] table in pyproject.toml
            yield 1, 0, f"{UNANALYSABLE} invalid channels-lint configuration: {error}", type(self)
            return
        source = Source(text, self.lines)
        project = ProjectIndex.for_path(path)
        for violation in lint(source, _RULES, tree=self.tree, noqa=False, path=path, settings=settings, project=project):
            yield violation.line, violation.col, f"{violation.code} {violation.message}", type(self)
