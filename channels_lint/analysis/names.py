"""Names: imports, qualified names, module classes and functions, and what a call calls.

Conservative like django-upgrade: a name resolves through the module's imports only; a name
the module does not import resolves to itself, and a call is tied to a function only when
that function is defined in this module (or in the caller's class and its local bases).
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict

from channels_lint.analysis.syntax import Scope, Syntax, dotted, parameters

_BINDERS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.With, ast.AsyncWith)
FunctionDef = ast.FunctionDef | ast.AsyncFunctionDef


class Names:
    """Imports and bindings of one module (see the module docstring)."""

    def __init__(self, syntax: Syntax) -> None:
        self.syntax = syntax
        self.imports = self._collect_imports()
        #: Module-level classes by name.
        self.classes: dict[str, ast.ClassDef] = {
            node.name: node for node in syntax.nodes(ast.ClassDef) if isinstance(syntax.parents.get(node), ast.Module)
        }

    def _collect_imports(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for node in self.syntax.nodes(ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        for node in self.syntax.nodes(ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    continue
                prefix = module if module.endswith(".") else module + "."
                names[alias.asname or alias.name] = prefix + alias.name
        return names

    # ------------------------------------------------------------------ qualified names
    def qualname(self, node: ast.expr | None) -> str | None:
        """Resolve a Name/Attribute chain through the module's imports.

        ``from channels.db import database_sync_to_async as d; d`` gives
        ``"channels.db.database_sync_to_async"``; relative imports keep their dots
        (``".models.Note"``).  Names not imported resolve to themselves.
        """
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        resolved = self.imports.get(head, head)
        return f"{resolved}.{rest}" if rest else resolved

    def resolves_to(self, node: ast.expr | None, names: frozenset[str] | set[str] | str) -> bool:
        qualified = self.qualname(node)
        if isinstance(names, str):
            return qualified == names
        return qualified in names

    def call_name(self, call: ast.AST) -> str | None:
        """Qualified name of a call's callee, or ``None`` (also for non-calls)."""
        return self.qualname(call.func) if isinstance(call, ast.Call) else None

    def is_builtin(self, node: ast.expr | None, name: str) -> bool:
        """``node`` is the builtin ``name``: a bare name that the module neither imports nor binds."""
        return isinstance(node, ast.Name) and node.id == name and name not in self.imports and name not in self.bound_names

    # ------------------------------------------------------------------ bindings
    @functools.cached_property
    def binders(self) -> dict[Scope, list[ast.AST]]:
        """Statements and expressions that bind names, by scope, in source order."""
        found: dict[Scope, list[ast.AST]] = defaultdict(list)
        for kind in _BINDERS:
            for node in self.syntax.nodes(kind):
                found[self.syntax.enclosing_scope(node)].append(node)
        for nodes in found.values():
            nodes.sort(key=lambda n: (n.lineno, n.col_offset))
        return found

    @functools.cached_property
    def bound_names(self) -> frozenset[str]:
        """Every name the module binds other than by import: assignment and ``for``/``with``
        targets, parameters, ``def`` and ``class`` names."""
        names = {node.id for node in self.syntax.nodes(ast.Name) if not isinstance(node.ctx, ast.Load)}
        names.update(node.arg for node in self.syntax.nodes(ast.arg))
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            names.update(node.name for node in self.syntax.nodes(kind))
        return frozenset(names)

    def binds_elsewhere(self, name: str, qualified: str) -> bool:
        """Whether ``name`` means something other than an import of ``qualified`` anywhere in
        the module; a fix must then not add that import and use the name."""
        if name in self.imports:
            return self.imports[name] != qualified
        return name in self.bound_names

    def local_names(self, scope: Scope) -> frozenset[str]:
        """Names a function binds itself: parameters and assignment targets."""
        cache = self.__dict__.setdefault("_local_names", {})
        if scope not in cache:
            names: set[str] = set()
            if not isinstance(scope, ast.Module):
                names.update(a.arg for a in parameters(scope))
            for binder in self.binders.get(scope, ()):
                targets = binder.targets if isinstance(binder, ast.Assign) else [getattr(binder, "target", None)]
                for target in filter(None, targets):
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            cache[scope] = frozenset(names)
        return cache[scope]

    @functools.cached_property
    def loads_by_name(self) -> tuple[dict[str, list[ast.expr]], dict[str, list[ast.expr]]]:
        """Loads of each bare name (first) and of each attribute name (second)."""
        names: dict[str, list[ast.expr]] = defaultdict(list)
        attributes: dict[str, list[ast.expr]] = defaultdict(list)
        for node in self.syntax.nodes(ast.Name):
            if isinstance(node.ctx, ast.Load):
                names[node.id].append(node)
        for node in self.syntax.nodes(ast.Attribute):
            if isinstance(node.ctx, ast.Load):
                attributes[node.attr].append(node)
        return names, attributes

    # ------------------------------------------------------------------ classes and functions
    def local_mro(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """``cls`` and its bases defined in this module, breadth-first."""
        order, queue = [], [cls]
        while queue:
            klass = queue.pop(0)
            if klass in order:
                continue
            order.append(klass)
            queue.extend(self.classes[base.id] for base in klass.bases if isinstance(base, ast.Name) and base.id in self.classes)
        return order

    def class_methods(self, cls: ast.ClassDef) -> dict[str, FunctionDef]:
        """Methods of ``cls`` and its local bases (nearest definition wins)."""
        methods: dict[str, FunctionDef] = {}
        for klass in self.local_mro(cls):
            for stmt in klass.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    methods.setdefault(stmt.name, stmt)
        return methods

    @functools.cached_property
    def module_functions(self) -> dict[str, FunctionDef]:
        return {node.name: node for node in self.syntax.tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}

    @functools.cached_property
    def _functions_by_scope(self) -> dict[tuple[ast.AST, str], FunctionDef]:
        """Functions by the scope whose body defines them (module or enclosing function)."""
        found = {}
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            for function in self.syntax.nodes(kind):
                if not isinstance(self.syntax.parents.get(function), ast.ClassDef):
                    found[(self.syntax.enclosing_scope(function), function.name)] = function
        return found

    def local_function(self, call: ast.Call) -> FunctionDef | None:
        """The module function (``f(...)``), nested function, or method of the caller's class
        (``self.m(...)``) that ``call`` calls, if it is defined in this module."""
        func = call.func
        if isinstance(func, ast.Name) and func.id not in self.imports:
            for scope in (*self.syntax.scope_chain(call), self.syntax.tree):  # nested defs first, then the module
                function = self._functions_by_scope.get((scope, func.id))
                if function is not None:
                    return function
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            cls = self.syntax.enclosing_class(call)
            if cls is not None:
                return self.class_methods(cls).get(func.attr)
        return None

    def references(self, function: FunctionDef) -> list[ast.expr]:
        """Every load that may reach the function: ``name`` for a function, ``anything.name``
        for a method (reached through subclasses or other objects, so every attribute of that
        name counts)."""
        names, attributes = self.loads_by_name
        is_method = isinstance(self.syntax.parents.get(function), ast.ClassDef)
        return (attributes if is_method else names).get(function.name, [])
