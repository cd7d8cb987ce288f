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
        found: list[DbOperation] = []
        for call in self.syntax.nodes(ast.Call):
            operation = self._call_operation(call)
            if operation is not None:
                found.append(operation)
        found.extend(self._evaluations())
        found.extend(self._lazy_relation_loads())
        found.extend(self._atomic_blocks())
        found.extend(self._request_users())
        found.extend(self._serializers())
        return found

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
