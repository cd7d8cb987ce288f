"""Shared analysis of one module: small analyzers composed behind :class:`ModuleAnalysis`.

Each analyzer owns one kind of fact and is built on first use:

==================  =============================================================
``a.syntax``        parents, scopes, spans, source text (:mod:`.syntax`)
``a.names``         imports, qualified names, module classes/functions (:mod:`.names`)
``a.bindings``      reaching bindings of every name load (:mod:`.bindings`)
``a.flow``          what an expression may hold; dict shapes (:mod:`.flow`)
``a.consumers``     consumer classes, also through project bases (:mod:`.consumers`)
``a.context``       where code runs: module, sync, thread, event loop (:mod:`.context`)
``a.orm``           ORM evidence of expressions (:mod:`.orm`: evidence values, expressions)
``a.db``            database operations and sync DB helpers (:mod:`.database`: queries, extras)
``a.layer``         channel-layer calls and events (:mod:`.layer`)
``a.cross``         calls of functions/methods defined in other project modules (:mod:`.crossmodule`)
``a.helpers``       calls on the loop of loop-unsafe sync helpers, local or imported (:mod:`.helpers`)
``a.coroutines``    calls that return coroutines (:mod:`.coroutines`)
``a.payloads``      values msgpack/json reject (:mod:`.payload`: types, values, sinks, handlers)
``a.routes``        routes, routers, ASGI wiring, URL kwargs (:mod:`.routes`: calls, routers, wiring, kwargs;
                    patterns in :mod:`.regexes`: text, paths, redos)
``a.client``        client data and what checked it (:mod:`.client`: sources, checks, groups, route_kwargs)
==================  =============================================================

What Django and Channels do is data in :mod:`.facts` (one module per family).  An analyzer
too big for one module (~400 lines) is a package: its class composes one layer per module and
the package re-exports every public name.  No analyzer imports a rule, writes message text,
imports the analysed code or does file I/O: cross-module facts come from the
:class:`~channels_lint.project.ProjectIndex` the engine passes in.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from channels_lint.analysis.bindings import Binding, BindingKind, Bindings
from channels_lint.analysis.client import ClientData
from channels_lint.analysis.consumers import Consumer, Consumers
from channels_lint.analysis.context import Context, ExecutionContext
from channels_lint.analysis.coroutines import CoroutineCall, CoroutineKind, Coroutines
from channels_lint.analysis.crossmodule import CrossModule
from channels_lint.analysis.database import DatabaseOperations, DbOperation, Family, FixShape, OpKind
from channels_lint.analysis.facts import ASYNC_TO_SYNC, CONSUMER_METHODS, QUERYSET_SQL_METHODS, DbEffect, PayloadKind
from channels_lint.analysis.flow import DictEntry, DictShape, ValueFlow
from channels_lint.analysis.helpers import HelperCall, HelperCalls
from channels_lint.analysis.layer import ChannelLayer, Event, LayerCall
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm import Evidence, Orm, OrmEvidence
from channels_lint.analysis.payload import Payloads, UnsafeValue
from channels_lint.analysis.routes import Routes
from channels_lint.analysis.syntax import Syntax, dotted, is_capitalized
from channels_lint.config import Settings

__all__ = [
    "ASYNC_TO_SYNC",
    "CONSUMER_METHODS",
    "QUERYSET_SQL_METHODS",
    "Binding",
    "BindingKind",
    "Consumer",
    "Context",
    "CoroutineCall",
    "CoroutineKind",
    "DbEffect",
    "DbOperation",
    "DictEntry",
    "DictShape",
    "Event",
    "Evidence",
    "Family",
    "FixShape",
    "HelperCall",
    "LayerCall",
    "ModuleAnalysis",
    "OpKind",
    "Orm",
    "PayloadKind",
    "UnsafeValue",
    "dotted",
    "is_capitalized",
]


class ModuleAnalysis:
    """Everything rules may know about one module, each part built on first use.

    Args:
        tree: the module's :class:`ast.Module` (flake8 hands this over; the engine parses it
            otherwise).
        lines: the module's source lines (``str``, with line endings).
        path: the file's path (``None`` for text without a file).
        settings: target versions and fix style (default: the newest versions).
        project: the project index (:class:`channels_lint.project.ProjectIndex`); ``None``
            gives one for ``path``'s project, or an empty one without a path.

    Building it never imports the analysed code and never raises on a well-formed module.
    """

    def __init__(
        self, tree: ast.Module, lines: list[str], path: str | None = None, settings: Settings | None = None, project=None
    ) -> None:
        from channels_lint.project import ProjectIndex

        self.tree = tree
        self.lines = lines
        self.path = str(Path(path).resolve()) if path else None
        self.settings = settings or Settings()
        self.project = project if project is not None else ProjectIndex.for_path(self.path)
        self.syntax = Syntax(tree, lines)

    def relative(self, path: str) -> str:
        """``path`` relative to the project root when it is under it (for messages)."""
        root = self.project.root
        try:
            return str(Path(path).relative_to(root)) if root is not None else path
        except ValueError:
            return path

    @functools.cached_property
    def names(self) -> Names:
        return Names(self.syntax)

    @functools.cached_property
    def bindings(self) -> Bindings:
        return Bindings(self.syntax)

    @functools.cached_property
    def flow(self) -> ValueFlow:
        return ValueFlow(self.syntax, self.names, self.bindings)

    @functools.cached_property
    def consumers(self) -> Consumers:
        return Consumers(self.syntax, self.names, self.project)

    @functools.cached_property
    def context(self) -> ExecutionContext:
        # a sync def named after an event type sent here or elsewhere in the project is an
        # event handler, which an async consumer awaits on the loop
        return ExecutionContext(self.syntax, self.names, self.consumers, lambda: self.event_handler_names)

    @functools.cached_property
    def event_handler_names(self) -> frozenset[str]:
        """Handler names of the event types this module and the project send."""
        project = frozenset(t.replace(".", "_") for t in self.project.event_types) if self.project.root else frozenset()
        return self.layer.handler_names | project

    @functools.cached_property
    def async_unsafe_allowed(self) -> bool:
        """The project runs this file with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set (a test suite on
        purpose): Django raises no ``SynchronousOnlyOperation`` here."""
        return self.project.async_unsafe_allowed(self.path)

    @functools.cached_property
    def models(self):
        """The project's models index, with this module's own models."""
        from channels_lint.project.models import models_in_module

        index = self.project.models
        own = models_in_module(self.tree, self.path or "<module>")
        if not own:
            return index
        classes = frozenset(node.name for node in self.tree.body if isinstance(node, ast.ClassDef))
        return index.with_module(own, self.path or "<module>", classes)

    @functools.cached_property
    def orm(self) -> OrmEvidence:
        return OrmEvidence(self.syntax, self.names, self.flow, self.models, self.path)

    @functools.cached_property
    def db(self) -> DatabaseOperations:
        return DatabaseOperations(self.syntax, self.names, self.flow, self.orm, self.context, self.cross)

    @functools.cached_property
    def layer(self) -> ChannelLayer:
        return ChannelLayer(self.syntax, self.names, self.flow)

    @functools.cached_property
    def cross(self) -> CrossModule:
        return CrossModule(self.syntax, self.names, self.project, self.path)

    @functools.cached_property
    def helpers(self) -> HelperCalls:
        return HelperCalls(self.syntax, self.names, self.context, self.cross)

    @functools.cached_property
    def coroutines(self) -> Coroutines:
        return Coroutines(self.syntax, self.names, self.context, self.consumers, self.layer, self.cross, self.flow)

    @functools.cached_property
    def payloads(self) -> Payloads:
        return Payloads(self.names, self.flow, self.orm, self.consumers)

    @functools.cached_property
    def client(self) -> ClientData:
        # URL kwargs by consumer: the routes analyzer also sees this module's own routes
        lookup = getattr(self, "routes", None) or self.project
        return ClientData(
            self.syntax,
            self.names,
            self.flow,
            self.consumers,
            getattr(lookup, "route_kwargs", None),
            getattr(lookup, "routed", None),
        )

    @functools.cached_property
    def routes(self) -> Routes:
        """Routes, routers, ASGI wiring and URL kwargs read by consumers (:mod:`.routes`)."""
        return Routes(self.syntax, self.names, self.flow, self.consumers, self.project, self.path)
