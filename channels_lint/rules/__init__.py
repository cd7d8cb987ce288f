"""All rules, found by module name: every ``chnNNN_<name>.py`` module of this package defines
one rule.  Adding a rule touches one file: its module (``tests/test_rule_registry.py`` checks
that each module defines exactly one rule whose code matches its file name)."""

from __future__ import annotations

import importlib
import pkgutil
import re

from channels_lint.rules.base import REGISTRY, Invalid, Rule

RULE_MODULE = re.compile(r"chn(\d{3})_[a-z0-9_]+")

#: The rule modules, in code order.
RULE_MODULES = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if RULE_MODULE.fullmatch(info.name)
)

__all__ = ["REGISTRY", "RULE_MODULES", "Invalid", "Rule"]
