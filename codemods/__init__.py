"""LibCST codemod commands (``python -m libcst.tool codemod channels_lint_fix.ApplyChannelsLintFixes``)."""
