"""flake8 plugin: a thin adapter over :func:`channels_lint.engine.lint`.

flake8 applies ``# noqa``, ``--select``, ``--ignore`` and ``--extend-select`` itself; the
plugin runs every rule on the tree flake8 already parsed and yields what the engine finds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint import __version__
from channels_lint.engine import Source, lint, may_contain_findings, selected_rules

_RULES = selected_rules()


class ChannelsLintPlugin:
    """flake8 ``tree`` plugin registered for the ``CHN`` prefix (see pyproject.toml)."""

    name = "channels-lint"
    version = __version__

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.tree = tree
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if not may_contain_findings(text, _RULES):
            return
        source = Source(text, self.lines)
        for violation in lint(source, _RULES, tree=self.tree, noqa=False):
            yield violation.line, violation.col, f"{violation.code} {violation.message}", type(self)
