"""Database operations: every expression that runs SQL (or may), wherever it is.

Each comes back as a typed :class:`DbOperation`; rules filter by family and execution
context and choose their own words.  Facts: docs/semantics.md §3.3 (``channels.auth`` and
sessions), §4.1 (async twins), §4.2 (what raises ``SynchronousOnlyOperation``).

The analyzer is one class built in layers: :mod:`.queries` (ORM and sync-only calls, queryset
evaluations, lazy relation loads), :mod:`.extras` (``transaction.atomic``, ``request.user``,
DRF serializers) and, here, every operation at once and the sync helpers that reach one;
:mod:`.model` holds the types.  Every public name is importable from
``channels_lint.analysis.database``.
"""

from __future__ import annotations

import ast
import functools

from channels_lint.analysis.context import Context
from channels_lint.analysis.database.extras import MODEL_SERIALIZERS, ExtraOperations
from channels_lint.analysis.database.model import DbOperation, Family, FixShape, OpKind
from channels_lint.analysis.database.queries import MANAGER_CALL_NAMES, QueryOperations


class DatabaseOperations(ExtraOperations):
    """Database operations of one module, and the sync helpers that reach them."""

    @functools.cached_property
    def operations(self) -> list[DbOperation]:
        """Every expression that runs SQL (or may), wherever it is; rules filter by context."""
        return self._collect(lambda node: True)

    @functools.cached_property
    def loop_operations(self) -> list[DbOperation]:
        """The operations in code that runs on the event loop (what CHN101-CHN103 and CHN109
        report): only those scopes are examined, so a module whose ORM code is sync costs
        almost nothing (Django itself: thousands of sync calls beside a few ``async def``)."""
        if "operations" in self.__dict__:
            return [op for op in self.operations if self.context_of(op).on_event_loop]
        loop_scopes = {scope: self.context.of(scope).on_event_loop for scope in self._scopes()}
        # (`@transaction.atomic` on an `async def` is found from the function itself, whatever
        # the scope of the decorator expression)
        found = self._collect(lambda node: loop_scopes.get(self.syntax.enclosing_scope(node), True))
        return [op for op in found if self.context_of(op).on_event_loop]

    def _scopes(self):
        yield self.syntax.tree
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
            yield from self.syntax.nodes(kind)

    def _collect(self, wanted) -> list[DbOperation]:
        self._wanted = wanted
        try:
            found: list[DbOperation] = []
            for call in self.syntax.nodes(ast.Call):
                if wanted(call):
                    operation = self._call_operation(call)
                    if operation is not None:
                        found.append(operation)
            found.extend(self._evaluations())
            found.extend(self._lazy_relation_loads())
            found.extend(self._atomic_blocks())
            found.extend(self._request_users())
            found.extend(self._serializers())
            return found
        finally:
            del self._wanted

    def context_of(self, operation: DbOperation) -> Context:
        return self.context.of(operation.scope if operation.scope is not None else operation.node)

    # ------------------------------------------------------------------ helpers
    @functools.cached_property
    def helpers(self) -> dict[ast.FunctionDef, tuple[ast.expr, bool]]:
        """Plain sync functions (:meth:`ExecutionContext.sync_helpers`) that touch the
        database, in their own body or through another such function of this module."""
        seeds: dict[ast.AST, ast.expr] = {}
        for operation in self.operations:
            seeds.setdefault(operation.scope or self.syntax.enclosing_scope(operation.node), operation.node)
        return self.context.sync_helpers(seeds)


__all__ = [
    "MANAGER_CALL_NAMES",
    "MODEL_SERIALIZERS",
    "DatabaseOperations",
    "DbOperation",
    "ExtraOperations",
    "Family",
    "FixShape",
    "OpKind",
    "QueryOperations",
]
