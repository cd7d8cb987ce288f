"""URL kwargs: what this module contributes to the project's routes, the kwargs the routes
give a consumer, and the ones consumers read from ``self.scope["url_route"]["kwargs"]``.

:meth:`UrlKwargs.summary` is this module's :class:`ModuleRouting`, which
:class:`channels_lint.project.routes.ProjectRoutes` joins across modules; nested routes merge
their kwargs, inner values winning (docs/semantics.md §1.3).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from channels_lint.analysis.routes.calls import _last
from channels_lint.analysis.routes.model import KwargDefinition, KwargFact, KwargRead, Router
from channels_lint.analysis.routes.routers import RouterLists
from channels_lint.analysis.syntax import dotted


class UrlKwargs(RouterLists):
    """The module's routing summary, the URL kwargs of a consumer and the kwargs consumers read."""

    # ------------------------------------------------------------------ summary for the project
    def summary(self, module: str | None, test_module: bool = False) -> ModuleRouting:
        """This module's part of the project's routes (see :class:`ModuleRouting`)."""

        def with_path(kwargs):
            if kwargs is None:
                return None
            return tuple(sorted((k, KwargDefinition(d.converter, d.regex, self.path, d.line)) for k, d in kwargs.items()))

        lists = self.routed_lists()
        consumer_routes = []
        prefix_kwargs: set[str] = set()
        prefix_open = False
        for route in self.routes:
            target = route.target
            if target is None or not target.is_consumer or not target.consumer:
                own = route.own_kwargs()
                if own is None:
                    prefix_open = True
                else:
                    prefix_kwargs.update(own)
                continue
            for chain in self.enclosing(route):
                kwargs = merge_kwargs([r.own_kwargs() for r in chain] + [route.own_kwargs()])
                outermost = (chain[0] if chain else route).call
                holding = tuple(name for name, entries in lists.items() if outermost in entries.items)
                consumer_routes.append(ConsumerRoute(target.consumer, with_path(kwargs), route.call.lineno, holding))
        references = []
        for router in self.routers:
            if not router.entries.references:
                continue
            prefixes = self._router_prefixes(router)
            for reference in router.entries.references:
                for prefix in prefixes:
                    references.append(ListReference(reference, with_path(prefix)))
        routed_inners = {id(route.target.inner) for route in self.routes if route.target is not None}
        unrouted = set()
        if not test_module:
            for node in self.syntax.nodes(ast.Attribute):
                if node.attr != "as_asgi":
                    continue
                parent = self.syntax.parents.get(node)
                use = parent if isinstance(parent, ast.Call) and parent.func is node else node
                name = _last(node.value)
                if name and id(use) not in routed_inners:
                    unrouted.add(name)
        subclassed = {base for cls in self.syntax.nodes(ast.ClassDef) for base in filter(None, (_last(b) for b in cls.bases))}
        return ModuleRouting(
            path=self.path,
            module=module,
            consumer_routes=tuple(consumer_routes),
            references=tuple(references),
            prefix_kwargs=frozenset(prefix_kwargs),
            prefix_open=prefix_open,
            unrouted=frozenset(unrouted),
            subclassed=frozenset(subclassed),
        )

    def _router_prefixes(self, router: Router) -> list[dict[str, KwargDefinition] | None]:
        """Kwargs of the prefix chains a router of this module sits under (``[{}]`` at the top)."""
        outer = self._routes_to.get(router.call, [])
        if not outer:
            return [{}]
        found = []
        for prefix in outer:
            for chain in self.enclosing(prefix):
                found.append(merge_kwargs([r.own_kwargs() for r in [*chain, prefix]]))
        return found

    def route_kwargs(self, consumer: str) -> dict[str, KwargFact] | None:
        """The URL kwargs routes define for ``consumer`` (by class name), across the project
        and this module as it is now; ``None`` when the consumer has no known route, or one
        of its routes (or a use of its ``as_asgi()`` outside routes) leaves them unknown."""
        if self.project is None:
            return None
        return self.project.routes.route_kwargs(consumer, live=self.live_summary)

    def routed(self, consumer: str) -> bool:
        """Whether some route or ``as_asgi()`` use names ``consumer`` (see
        :meth:`ProjectRoutes.mentions`), across the project and this module."""
        return self.project is not None and self.project.routes.mentions(consumer, live=self.live_summary)

    @functools.cached_property
    def live_summary(self) -> ModuleRouting:
        module = self.project.routes.module_name(self.path) if self.project is not None and self.path else None
        return self.summary(module, test_module=_is_test_path(self.path))

    # ------------------------------------------------------------------ URL kwargs read by consumers
    @functools.cached_property
    def url_kwarg_reads(self) -> list[KwargRead]:
        """``self.scope["url_route"]["kwargs"]["key"]`` (directly or through names) loaded in a
        method of a consumer class of this module; ``.get(...)`` is not a read that raises."""
        found = []
        for node in self.syntax.nodes(ast.Subscript):
            if not isinstance(node.ctx, ast.Load):
                continue
            key = _constant_key(node)
            if key is None:
                continue
            consumer = self.consumers.of(node)
            if consumer is None or not self._is_url_kwargs(node.value):
                continue
            found.append(KwargRead(node, key, consumer.node))
        found.sort(key=lambda r: (r.node.lineno, r.node.col_offset))
        return found

    def _is_url_kwargs(self, node: ast.expr) -> bool:
        value = self.flow.definite(node) if isinstance(node, ast.Name) else node
        if not isinstance(value, ast.Subscript) or _constant_key(value) != "kwargs":
            return False
        route = self.flow.definite(value.value) if isinstance(value.value, ast.Name) else value.value
        if not isinstance(route, ast.Subscript) or _constant_key(route) != "url_route":
            return False
        scope = route.value
        return dotted(scope) == "self.scope"


# ---------------------------------------------------------------------------- module summary
Kwargs = tuple[tuple[str, KwargDefinition], ...]


@dataclass(frozen=True)
class ConsumerRoute:
    """A route (with the prefixes it is nested under in its module) that reaches a consumer.

    ``kwargs`` are the URL kwargs the consumer then gets (``None``: not all known); ``lists``
    the module-level names of the lists holding the outermost route, through which other
    modules may nest it under more prefixes."""

    consumer: str
    kwargs: Kwargs | None
    line: int
    lists: tuple[str, ...]


@dataclass(frozen=True)
class ListReference:
    """A ``URLRouter`` of this module routing a list of another module (``reference`` as this
    module spells it, leading dots kept), under prefixes defining ``prefix`` (``None``: not
    all known)."""

    reference: str
    prefix: Kwargs | None


@dataclass(frozen=True)
class ModuleRouting:
    """What one module contributes to the project's routes (built by :meth:`Routes.summary`).

    ``prefix_kwargs`` are the kwargs routes to anything other than a consumer define (nested
    routers, unknown applications): they may reach any consumer; ``prefix_open`` is true
    when one such route's kwargs are unknown.  ``unrouted`` names consumers whose
    ``as_asgi()`` is used outside a route (then their kwargs are not known)."""

    path: str | None
    module: str | None
    consumer_routes: tuple[ConsumerRoute, ...]
    references: tuple[ListReference, ...]
    prefix_kwargs: frozenset[str]
    prefix_open: bool
    unrouted: frozenset[str]
    subclassed: frozenset[str]


def merge_kwargs(chain: list[dict[str, KwargDefinition] | None]) -> dict[str, KwargDefinition] | None:
    """Kwargs of nested routes, outermost first: inner values win (routing.py L119-123, §1.3)."""
    merged: dict[str, KwargDefinition] = {}
    for kwargs in chain:
        if kwargs is None:
            return None
        merged.update(kwargs)
    return merged


# ---------------------------------------------------------------------------- helpers
def _is_test_path(path: str | None) -> bool:
    if not path:
        return False
    parts = path.replace("\\", "/").split("/")
    return (
        any(p in ("tests", "test") for p in parts[:-1])
        or parts[-1].startswith("test")
        or parts[-1] in ("conftest.py", "tests.py")
    )


def _constant_key(node: ast.Subscript) -> str | None:
    key = node.slice
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
