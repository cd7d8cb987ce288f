"""``python -m libcst.tool codemod channels_lint_fix.ApplyChannelsLintFixes PATH``.

The same fixes as ``channels-lint fix``, with the same configuration: LibCST's tool builds
the command once per file, and the command merges its own options (``--select``,
``--ignore``, ``--unsafe-fixes``, the versions and ``--orm-style``) over the project's
``[tool.channels_lint]`` and flake8 config, with the file's ``per-file-ignores`` applied.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from libcst.codemod import CodemodContext

from channels_lint import fixes
from channels_lint.config import Layer, Options
from channels_lint.project import find_root
from channels_lint.project.settings import resolve

__all__ = ["ApplyChannelsLintFixes"]


class ApplyChannelsLintFixes(fixes.ApplyChannelsLintFixes):
    """Apply channels-lint's fixes (:class:`channels_lint.fixes.ApplyChannelsLintFixes`) with
    the file's project configuration.

    Raises:
        channels_lint.config.ConfigError: (when built) the project's configuration is wrong;
            LibCST's runner reports the file as failed and leaves it alone.
    """

    def __init__(
        self,
        context: CodemodContext,
        select: Collection[str] | None = None,
        ignore: Collection[str] = (),
        unsafe_fixes: bool = False,
        django_version: str | None = None,
        channels_version: str | None = None,
        orm_style: str | None = None,
        options: Options | None = None,
    ) -> None:
        if options is None:
            command_line = Layer(
                source="codemod options",
                select=None if select is None else tuple(code.upper() for code in select),
                ignore=tuple(code.upper() for code in ignore) or None,
                django_version=django_version,
                channels_version=channels_version,
                orm_style=orm_style,
            )
            path = context.filename
            root = find_root(Path(path)) if path else Path.cwd()
            merged, _ = resolve(root, command_line, unsafe_fixes)
            options = merged.for_path(path)
        super().__init__(context, options=options)
