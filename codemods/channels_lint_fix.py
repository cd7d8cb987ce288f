"""Checkout-only shim for :mod:`channels_lint.codemods.channels_lint_fix` (not installed)."""

from channels_lint.codemods.channels_lint_fix import ApplyChannelsLintFixes

__all__ = ["ApplyChannelsLintFixes"]
