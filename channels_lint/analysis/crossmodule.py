"""Calls that cross a module boundary: project functions imported from other modules, and
methods inherited from project base classes and mixins defined elsewhere.

What they are (coroutine function, database helper, ``async_to_sync`` helper) comes from the
project index (:mod:`channels_lint.project.modules`); this analyzer only ties a call of this
module to the fact.  Names from libraries (Django, Channels, asgiref, DRF) are never looked up.
"""

from __future__ import annotations

import ast

from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax, dotted

#: Packages whose functions are not the project's.
LIBRARIES = ("django.", "channels.", "asgiref.", "rest_framework.", "celery.", "daphne.", "channels_redis.")


class CrossModule:
    """Ties calls to project functions defined in other modules (see the module docstring).

    Args:
        project: the project index; ``path`` this module's resolved path.
    """

    def __init__(self, syntax: Syntax, names: Names, project, path: str | None) -> None:
        self.syntax = syntax
        self.names = names
        self.modules = getattr(project, "modules", None) if project is not None and project.root is not None else None
        self.path = path

    def function(self, call: ast.Call):
        """The :class:`~channels_lint.project.modules.FunctionFact` of an imported project
        function called here (``notify(...)``, ``utils.notify(...)``), else ``None``."""
        if self.modules is None:
            return None
        name = dotted(call.func)
        if name is None or name.split(".", 1)[0] not in self.names.imports:
            return None
        qualified = self.names.qualname(call.func)
        if not qualified or qualified.startswith(LIBRARIES) or "." not in qualified:
            return None
        return self.modules.function(qualified, self.path)

    def method(self, call: ast.Call):
        """The fact of ``self.m(...)`` when ``m`` is not defined in this module's class (or its
        local bases) but in a project base class or mixin of another module."""
        func = call.func
        if self.modules is None or not (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
        ):
            return None
        cls = self.syntax.enclosing_class(call)
        if cls is None or func.attr in self.names.class_methods(cls):
            return None
        for klass in self.names.local_mro(cls):
            for base in klass.bases:
                if isinstance(base, ast.Name) and base.id in self.names.classes:
                    continue
                qualified = self.names.qualname(base)
                if not qualified or "." not in qualified or qualified.startswith(LIBRARIES):
                    continue
                fact = self.modules.cls(qualified, self.path)
                if fact is not None and func.attr in fact.methods:
                    return fact.methods[func.attr]
        return None

    def callee(self, call: ast.Call):
        """:meth:`function` or :meth:`method`, whichever applies."""
        return self.function(call) or self.method(call)

    def class_ancestors(self, node: ast.expr) -> frozenset[str]:
        """Qualified names of the bases of the class ``node`` names, through this module's
        classes and project classes of other modules (empty when unknown)."""
        if isinstance(node, ast.Name) and node.id in self.names.classes:
            found: set[str] = set()
            for klass in self.names.local_mro(self.names.classes[node.id]):
                for base in klass.bases:
                    qualified = self.names.qualname(base)
                    if not qualified:
                        continue
                    found.add(qualified)
                    if self.modules is not None and "." in qualified and not qualified.startswith(LIBRARIES):
                        fact = self.modules.cls(qualified, self.path)
                        if fact is not None:
                            found |= fact.ancestors
            return frozenset(found)
        qualified = self.names.qualname(node)
        if self.modules is None or not qualified or "." not in qualified or qualified.startswith(LIBRARIES):
            return frozenset()
        fact = self.modules.cls(qualified, self.path)
        return fact.ancestors if fact is not None else frozenset()
