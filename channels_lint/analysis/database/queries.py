"""What the ORM and Django's sync-only calls run: calls (queryset, manager, instance,
related-manager, user-permission, session and cursor methods, sync-only functions, query
functions), evaluations of querysets (iteration, builtins, membership, indexing, unpacking,
formatting, truth tests) and lazy relation loads, also of relations the models index lacks
(docs/semantics.md §3.3, §4.1, §4.2).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.context import ExecutionContext
from channels_lint.analysis.database.model import DbOperation, Family, FixShape, OpKind
from channels_lint.analysis.facts import (
    EVALUATING_BUILTINS,
    FIELD_VALUE_ATTRIBUTES,
    INFERRED_MANAGER_CALLS,
    INSTANCE_DB_METHODS,
    LAZY_ITERATING_BUILTINS,
    QUERY_FUNCTIONS,
    QUERYSET_BUILDERS,
    QUERYSET_SQL_METHODS,
    RELATED_WRITE_METHODS,
    SYNC_ONLY_CALLS,
    USER_ATTRIBUTES,
    USER_DB_METHODS,
    DbEffect,
)
from channels_lint.analysis.flow import ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm import Evidence, Orm, OrmEvidence, inferred_manager_call
from channels_lint.analysis.syntax import Syntax

#: Method names that belong to managers and querysets.
MANAGER_CALL_NAMES = INFERRED_MANAGER_CALLS | QUERYSET_BUILDERS | QUERYSET_SQL_METHODS | RELATED_WRITE_METHODS


class QueryOperations:
    #: Which nodes to examine (see :meth:`DatabaseOperations.loop_operations`); all by default.
    _wanted = staticmethod(lambda node: True)

    """Calls, queryset evaluations and lazy relation loads (the base of
    :class:`~channels_lint.analysis.database.DatabaseOperations`)."""

    def __init__(
        self, syntax: Syntax, names: Names, flow: ValueFlow, orm: OrmEvidence, context: ExecutionContext, cross=None
    ) -> None:
        self.cross = cross
        self.syntax = syntax
        self.names = names
        self.flow = flow
        self.orm = orm
        self.context = context

    # ------------------------------------------------------------------ calls
    def _call_operation(self, call: ast.Call) -> DbOperation | None:
        func = call.func
        name = self.names.call_name(call)
        if name in SYNC_ONLY_CALLS:
            # a cursor is bound to the thread that opened it: no fix can move just the call
            effect = SYNC_ONLY_CALLS[name]
            shape = FixShape.NONE if effect is DbEffect.OPENS_CURSOR else FixShape.CALL
            return DbOperation(
                node=call, family=Family.API, kind=OpKind.SYNC_ONLY_CALL, shape=shape, func_name=name, effect=effect
            )
        if name in QUERY_FUNCTIONS:
            return DbOperation(node=call, family=Family.QUERY, kind=OpKind.QUERY_FUNCTION, shape=FixShape.CALL, func_name=name)
        if isinstance(func, ast.Name) and func.id in EVALUATING_BUILTINS and func.id not in self.names.imports and call.args:
            evaluated = self.orm.evidence(call.args[0])
            if evaluated is not None and evaluated.kind is Orm.QUERYSET:
                return self._evaluation(call, evaluated, OpKind.EVALUATE, FixShape.CALL, call.args[0], builtin=func.id)
            return None
        if not isinstance(func, ast.Attribute):
            return None
        receiver = self.orm.evidence(func.value)
        if receiver is None:
            if func.attr in ("save", "flush", "cycle_key", "delete") and self._is_session(func.value):
                return DbOperation(node=call, family=Family.API, kind=OpKind.SESSION_WRITE, shape=FixShape.CALL, method=func.attr)
            if (
                func.attr == "cursor"
                and isinstance(func.value, ast.Subscript)
                and self.names.resolves_to(func.value.value, "django.db.connections")
            ):
                return DbOperation(node=call, family=Family.API, kind=OpKind.CURSOR, shape=FixShape.NONE)
            return None
        if receiver.inferred and receiver.kind is Orm.MANAGER and not inferred_manager_call(call):
            return None  # `instance.data.clear()` may be a JSONField dict
        if receiver.kind is Orm.MANAGER and receiver.weak and receiver.model is None:
            if func.attr in ("add", "create"):
                return self._method(call, Family.INSTANCE, OpKind.RELATED_WRITE, receiver)
            return None
        if receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
            if receiver.relation is not None and func.attr in RELATED_WRITE_METHODS:
                return self._method(call, Family.INSTANCE, OpKind.RELATED_WRITE, receiver)
            if func.attr in QUERYSET_SQL_METHODS:
                if receiver.prefetched and func.attr in ("count", "exists"):
                    return None  # answered from the prefetch cache (related_descriptors.py)
                family = Family.QUERY if receiver.relation is None else Family.RELATION
                return self._method(call, family, OpKind.METHOD, receiver)
        elif receiver.kind is Orm.INSTANCE and func.attr in INSTANCE_DB_METHODS:
            return self._method(call, Family.INSTANCE, OpKind.METHOD, receiver)
        elif receiver.kind is Orm.INSTANCE and func.attr in USER_DB_METHODS and receiver.model == "User":
            return self._method(call, Family.API, OpKind.USER_PERMISSION, receiver)
        return None

    @staticmethod
    def _method(call: ast.Call, family: Family, kind: OpKind, receiver: Evidence) -> DbOperation:
        return DbOperation(
            node=call,
            family=family,
            kind=kind,
            shape=FixShape.CALL,
            method=call.func.attr,
            evidence=receiver,
            inferred=receiver.inferred,
        )

    def _is_session(self, node: ast.expr) -> bool:
        """``self.scope["session"]``, or a name whose every reaching value is it."""
        values = self.flow.values(node) if isinstance(node, ast.Name) else (node,)
        return bool(values) and all(self.orm.is_scope_key(value, "session") for value in values)

    # ------------------------------------------------------------------ evaluations
    def _evaluation(
        self, node: ast.expr, evidence: Evidence, kind: OpKind, shape: FixShape, subject: ast.expr, builtin: str | None = None
    ) -> DbOperation | None:
        """An evaluation of a queryset: a query, or a relation load unless it was prefetched."""
        if evidence.relation is not None and evidence.prefetched:
            return None
        family = Family.QUERY if evidence.relation is None else Family.RELATION
        return DbOperation(
            node=node,
            family=family,
            kind=kind,
            shape=shape,
            evidence=evidence,
            subject=subject,
            builtin=builtin,
            inferred=evidence.inferred,
        )

    def _queryset(self, node: ast.expr) -> Evidence | None:
        evidence = self.orm.evidence(node)
        return evidence if evidence is not None and evidence.kind is Orm.QUERYSET else None

    def _evaluations(self) -> Iterator[DbOperation]:
        nodes = self.syntax.nodes
        iterables = [loop.iter for loop in nodes(ast.For)]
        for kind in (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp):
            iterables.extend(g.iter for comp in nodes(kind) for g in comp.generators if not g.is_async)
        for call in nodes(ast.Call):  # enumerate(qs), zip(a, qs), reversed(qs)...: iterating them iterates qs
            if (
                isinstance(call.func, ast.Name)
                and call.func.id in LAZY_ITERATING_BUILTINS
                and self.names.is_builtin(call.func, call.func.id)
            ):
                positions = LAZY_ITERATING_BUILTINS[call.func.id]
                arguments = call.args[1:] if call.func.id == "map" else call.args
                iterables.extend(
                    a for i, a in enumerate(arguments) if not isinstance(a, ast.Starred) and (positions is None or i in positions)
                )
        candidates: list[tuple[ast.expr, ast.expr, OpKind, FixShape]] = [
            (iterable, iterable, OpKind.ITERATE, FixShape.ITERATE) for iterable in iterables
        ]
        for compare in nodes(ast.Compare):
            for op, right in zip(compare.ops, compare.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)):
                    candidates.append((compare, right, OpKind.MEMBERSHIP, FixShape.NONE))
        for subscript in nodes(ast.Subscript):
            if not isinstance(subscript.slice, ast.Slice) or subscript.slice.step is not None:
                candidates.append((subscript, subscript.value, OpKind.INDEX, FixShape.NONE))
        unpacked = [node.value for node in nodes(ast.Starred) if isinstance(node.ctx, ast.Load)]
        unpacked += [node.value for node in nodes(ast.Assign) if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets)]
        candidates.extend((node, node, OpKind.UNPACK, FixShape.NONE) for node in unpacked)
        formatted = [value.value for value in nodes(ast.FormattedValue)]
        for operation in nodes(ast.BinOp):
            if (
                isinstance(operation.op, ast.Mod)
                and isinstance(operation.left, ast.Constant)
                and isinstance(operation.left.value, str)
            ):
                formatted.extend(operation.right.elts if isinstance(operation.right, ast.Tuple) else [operation.right])
        candidates.extend((node, node, OpKind.FORMAT, FixShape.NONE) for node in formatted)
        candidates.extend((test, test, OpKind.TRUTH, FixShape.NONE) for test in self.syntax.truth_tests())
        for node, subject, kind, shape in candidates:
            if not self._wanted(node):
                continue
            evidence = self._queryset(subject)
            if evidence is not None:
                operation = self._evaluation(node, evidence, kind, shape, subject)
                if operation is not None:
                    yield operation

    def _lazy_relation_loads(self) -> Iterator[DbOperation]:
        lazy: dict[ast.Attribute, tuple[Evidence, str | None]] = {}
        for attribute in self.syntax.nodes(ast.Attribute):
            if not self._wanted(attribute):
                continue
            if not isinstance(attribute.ctx, ast.Load):
                continue
            base = self.orm.evidence(attribute.value)
            if base is None or base.kind is not Orm.INSTANCE or base.weak or base.loads(attribute.attr):
                continue
            if base.info is not None and base.info.is_object_relation(attribute.attr):
                lazy[attribute] = (base, None)
            elif self._looks_like_relation(attribute, base):
                lazy[attribute] = (base, self.syntax.parents[attribute].attr)
        for attribute, (owner, witness) in lazy.items():
            if attribute.value in lazy:
                continue  # report the first lazy hop of a chain only
            target = owner.info.relations[attribute.attr][1] if witness is None else None
            yield DbOperation(
                node=attribute,
                family=Family.RELATION,
                kind=OpKind.LAZY_RELATION,
                shape=FixShape.NONE,
                evidence=owner,
                target=target,
                inferred=witness is not None,
                witness=witness,
            )

    def _looks_like_relation(self, attribute: ast.Attribute, owner: Evidence) -> bool:
        """``instance.shelf.label``: an attribute read on ``instance.shelf`` that no field
        value has, where the models index cannot say what ``shelf`` is (the model is not
        indexed), or the instance is Django's own User and ``shelf`` is none of its
        attributes (docs/semantics.md §4.2)."""
        name = attribute.attr
        if name.endswith("_id") or name.startswith("__") or name in ("pk", "id", "_meta", "_state", "objects"):
            return False
        if owner.info is None:
            unknown = True
        else:
            unknown = (
                owner.info is self.orm.models.builtin_user
                and name not in USER_ATTRIBUTES
                and name not in owner.info.relations
                and name not in owner.info.fields
            )
        if not unknown:
            return False
        parent = self.syntax.parents.get(attribute)
        if not (isinstance(parent, ast.Attribute) and parent.value is attribute and isinstance(parent.ctx, ast.Load)):
            return False
        # manager calls (`x.rooms.all()`) are the related-manager evidence's to judge
        return parent.attr not in FIELD_VALUE_ATTRIBUTES and parent.attr not in MANAGER_CALL_NAMES
