"""Shared analysis (being split into analyzers; temporarily re-exports the old module)."""

from channels_lint.analysis._old import *  # noqa: F401,F403
from channels_lint.analysis._old import ModuleAnalysis, dotted, is_capitalized  # noqa: F401
