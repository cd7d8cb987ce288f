"""Route lists and routers: what a ``URLRouter(...)`` routes and how routes nest.

A route list is followed through lists bound to any name, ``+=``, ``.extend()``/``.append()``/
``.insert()``, ``+``, ``list()``/``tuple()`` and functions returning lists; lists of other
modules are named by their qualified name (:class:`~.model.Entries`).  Nested routers give
the prefix routes a route sits under (docs/semantics.md §1.3, §1.4).
"""

from __future__ import annotations

import ast
import functools

from channels_lint.analysis.facts import URL_ROUTER
from channels_lint.analysis.routes.calls import RouteCalls
from channels_lint.analysis.routes.model import MAX_DEPTH, Entries, Route, Router
from channels_lint.analysis.syntax import dotted


class RouterLists(RouteCalls):
    """Route lists, ``URLRouter`` calls and the nesting of routes in this module."""

    # ------------------------------------------------------------------ lists and routers
    def entries(self, node: ast.expr | None, _depth: int = 0) -> Entries:
        """What the route-list expression ``node`` holds (see :class:`Entries`)."""
        if node is None or _depth > MAX_DEPTH:
            return Entries((), (), False)
        if isinstance(node, (ast.List, ast.Tuple)):
            items: list[ast.expr] = []
            references: list[str] = []
            complete = True
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    inner = self.entries(element.value, _depth + 1)
                    items.extend(inner.items)
                    references.extend(inner.references)
                    complete &= inner.complete
                else:
                    items.append(element)
            return Entries(tuple(items), tuple(references), complete)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _join(self.entries(node.left, _depth + 1), self.entries(node.right, _depth + 1))
        if isinstance(node, ast.Name):
            return self._name_entries(node, _depth)
        if isinstance(node, ast.Attribute):
            qualified = self.names.qualname(node)
            name = dotted(node)
            if qualified and name and name.split(".")[0] in self.names.imports:
                return Entries((), (qualified,), True)
            return Entries((), (), False)
        if isinstance(node, ast.Call):
            if (self.names.is_builtin(node.func, "list") or self.names.is_builtin(node.func, "tuple")) and len(node.args) == 1:
                return self.entries(node.args[0], _depth + 1)
            function = self.names.local_function(node)
            if function is not None and not isinstance(self.syntax.parents.get(function), ast.ClassDef):
                returned = self.flow.returns(function)
                if returned is None:
                    return Entries((), (), False)
                result = Entries((), (), True)
                for value in returned:
                    result = _join(result, self.entries(value, _depth + 1))
                return result
        return Entries((), (), False)

    def _name_entries(self, name: ast.Name, depth: int) -> Entries:
        """Everything any binding or in-place extension of ``name`` in its scope puts in the list."""
        if name.id in self.names.imports:
            return Entries((), (self.names.qualname(name) or name.id,), True)
        scope = self.syntax.enclosing_scope(name)
        if name.id not in self.names.local_names(scope) and scope is not self.syntax.tree:
            scope = self.syntax.tree  # a module-level list read in a function
        result = Entries((), (), True)
        bound = False
        for binder in self.names.binders.get(scope, ()):
            if isinstance(binder, ast.Assign):
                if any(isinstance(t, ast.Name) and t.id == name.id for t in binder.targets):
                    bound = True
                    result = _join(result, self.entries(binder.value, depth + 1))
                elif any(name.id in {n.id for n in ast.walk(t) if isinstance(n, ast.Name)} for t in binder.targets):
                    result = Entries(result.items, result.references, False)  # unpacked: unknown
            elif isinstance(binder, (ast.AnnAssign, ast.AugAssign)) and isinstance(binder.target, ast.Name):
                if binder.target.id == name.id and binder.value is not None:
                    bound = True
                    result = _join(result, self.entries(binder.value, depth + 1))
            elif isinstance(binder, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.NamedExpr)):
                targets = [getattr(binder, "target", None)] + [
                    getattr(i, "optional_vars", None) for i in getattr(binder, "items", [])
                ]
                if any(t is not None and name.id in {n.id for n in ast.walk(t) if isinstance(n, ast.Name)} for t in targets):
                    result = Entries(result.items, result.references, False)
        for load in self.names.loads_by_name[0].get(name.id, ()):
            if self.syntax.enclosing_scope(load) is not scope and scope is not self.syntax.tree:
                continue
            parent = self.syntax.parents.get(load)
            if not isinstance(parent, ast.Attribute):
                continue
            call = self.syntax.parents.get(parent)
            if not isinstance(call, ast.Call) or call.func is not parent:
                continue
            if parent.attr == "extend" and len(call.args) == 1:
                result = _join(result, self.entries(call.args[0], depth + 1))
            elif parent.attr == "append" and len(call.args) == 1:
                result = _join(result, Entries((call.args[0],), (), True))
            elif parent.attr == "insert" and len(call.args) == 2:
                result = _join(result, Entries((call.args[1],), (), True))
        if not bound:
            return Entries(result.items, result.references, False)
        return result

    @functools.cached_property
    def routers(self) -> list[Router]:
        found = []
        for call in self.syntax.nodes(ast.Call):
            if self.names.resolves_to(call.func, URL_ROUTER) and len(call.args) == 1:
                found.append(Router(call, self.entries(call.args[0])))
        found.sort(key=lambda r: (r.call.lineno, r.call.col_offset))
        return found

    @functools.cached_property
    def _routers_of(self) -> dict[ast.Call, list[Router]]:
        """Route call -> the routers that route it."""
        found: dict[ast.Call, list[Router]] = {}
        for router in self.routers:
            for item in router.entries.items:
                if item in self.by_call:
                    found.setdefault(item, []).append(router)
        return found

    @functools.cached_property
    def _routes_to(self) -> dict[ast.Call, list[Route]]:
        """``URLRouter(...)`` call -> the routes whose target it is (through middleware and names)."""
        found: dict[ast.Call, list[Route]] = {}
        for route in self.routes:
            if route.target is not None and route.target.router is not None:
                found.setdefault(route.target.router, []).append(route)
        return found

    def enclosing(self, route: Route) -> list[list[Route]]:
        """The chains of prefix routes (outermost first) ``route`` is nested under in this
        module; ``[[]]`` when it is routed at the top (or its list is used elsewhere)."""
        chains: list[list[Route]] = []

        def walk(call: ast.Call, chain: list[Route], depth: int) -> None:
            outer = [p for router in self._routers_of.get(call, []) for p in self._routes_to.get(router.call, [])]
            if not outer or depth > MAX_DEPTH:
                chains.append(chain)
                return
            for prefix in outer:
                if prefix in chain:
                    continue
                walk(prefix.call, [prefix, *chain], depth + 1)

        walk(route.call, [], 0)
        return chains or [[]]

    def routed_lists(self) -> dict[str, Entries]:
        """Module-level names bound to lists that hold routes (any name, not only
        ``websocket_urlpatterns``)."""
        found = {}
        for statement in self.syntax.tree.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in found:
                    entries = self.entries(target)
                    if any(item in self.by_call for item in entries.items):
                        found[target.id] = entries
        return found

    def in_router(self, route: Route) -> bool:
        """Whether ``route`` is provably routed by a ``URLRouter``: a router of this module
        holds it, or its list is named for websocket routes, or the project index knows its
        list is routed by a router of another module."""
        if route.call in self._routers_of:
            return True
        for name, entries in self.routed_lists().items():
            if route.call in entries.items and ("websocket" in name.lower() or self._routed_elsewhere(name)):
                return True
        return False

    def _routed_elsewhere(self, name: str) -> bool:
        if self.project is None or self.project.root is None:
            return False
        return self.project.routes.routed_list(self.path, name)


def _join(first: Entries, second: Entries) -> Entries:
    return Entries(first.items + second.items, first.references + second.references, first.complete and second.complete)
