"""``python -m libcst.tool codemod channels_lint_fix.ApplyChannelsLintFixes PATH``.

The command is :class:`channels_lint.fixes.ApplyChannelsLintFixes`, the same code that
``channels-lint fix`` runs; this module only exposes it where LibCST's tool looks for
codemods (list ``codemods`` under ``modules:`` in ``.libcst.codemod.yaml``).
"""

from channels_lint.fixes import ApplyChannelsLintFixes

__all__ = ["ApplyChannelsLintFixes"]
