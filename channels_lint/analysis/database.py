"""Database operations: every expression that runs SQL (or may), wherever it is.

Each comes back as a typed :class:`DbOperation`; rules filter by family and execution
context and choose their own words.  Facts: docs/semantics.md §3.3 (``channels.auth`` and
sessions), §4.1 (async twins), §4.2 (what raises ``SynchronousOnlyOperation``).
"""

from __future__ import annotations

import ast
import enum
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field

from channels_lint.analysis.context import Context, ExecutionContext
from channels_lint.analysis.facts import (
    EVALUATING_BUILTINS,
    LAZY_ITERATING_BUILTINS,
    QUERY_FUNCTIONS,
    FIELD_VALUE_ATTRIBUTES,
    INFERRED_MANAGER_CALLS,
    INSTANCE_DB_METHODS,
    QUERYSET_BUILDERS,
    QUERYSET_SQL_METHODS,
    RELATED_WRITE_METHODS,
    SYNC_ONLY_CALLS,
    TRANSACTION_ATOMIC,
    USER_ATTRIBUTES,
    USER_DB_METHODS,
    DbEffect,
)
from channels_lint.analysis.bindings import BindingKind
from channels_lint.analysis.flow import ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm import Evidence, Orm, OrmEvidence, inferred_manager_call
from channels_lint.analysis.syntax import Syntax

#: DRF's model serializer classes (rest_framework/serializers.py).
MODEL_SERIALIZERS = frozenset(
    {"rest_framework.serializers.ModelSerializer", "rest_framework.serializers.HyperlinkedModelSerializer"}
)

#: Method names that belong to managers and querysets.
MANAGER_CALL_NAMES = INFERRED_MANAGER_CALLS | QUERYSET_BUILDERS | QUERYSET_SQL_METHODS | RELATED_WRITE_METHODS


def _request_parameter(function: ast.AsyncFunctionDef) -> bool:
    """``request`` is the view's first parameter, or a method's (view class, middleware
    ``__call__``) second one."""
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return positional[:1] == ["request"] or (positional[:1] in (["self"], ["cls"]) and positional[1:2] == ["request"])


class Family(enum.Enum):
    """Which rule family an operation belongs to."""

    QUERY = "query"  # a manager or queryset runs SQL or is evaluated (CHN101)
    INSTANCE = "instance"  # a model instance's save()/delete()..., a related manager's add()/create()... (CHN102)
    RELATION = "relation"  # a lazy relation is loaded (CHN103)
    API = "api"  # other sync-only Django APIs (CHN109)


class OpKind(enum.Enum):
    """The shape of the code that runs SQL."""

    METHOD = "method"  # a queryset/manager/instance/user/session method call: `method`
    EVALUATE = "evaluate"  # a builtin evaluating a queryset: `builtin`
    ITERATE = "iterate"  # for / comprehension over a queryset
    MEMBERSHIP = "membership"  # `x in qs`
    INDEX = "index"  # qs[0], a step slice
    UNPACK = "unpack"  # [*qs], a, *b = qs
    FORMAT = "format"  # f"{qs}", "%s" % qs
    TRUTH = "truth"  # if qs:
    RELATED_WRITE = "related-write"  # room.members.add(...)
    USER_PERMISSION = "user-permission"  # user.has_perm(...)
    SESSION_WRITE = "session-write"  # scope["session"].save()
    CURSOR = "cursor"  # connections[alias].cursor()
    SYNC_ONLY_CALL = "sync-only-call"  # authenticate(), connection.cursor()...: `effect`
    QUERY_FUNCTION = "query-function"  # get_object_or_404(), serializers.serialize(): `func_name`
    LAZY_RELATION = "lazy-relation"  # obj.fk: `target` model
    ATOMIC_BLOCK = "atomic-block"  # with transaction.atomic():
    ATOMIC_DECORATOR = "atomic-decorator"  # @transaction.atomic on an async def
    REQUEST_USER = "request-user"  # request.user.<attr> in an async view or middleware
    SERIALIZER = "serializer"  # a DRF ModelSerializer's save(), or .data of many rows


class FixShape(enum.Enum):
    """How a fix may move the operation off the loop."""

    CALL = "call"  # `node` is a call that can go through database_sync_to_async
    ITERATE = "iterate"  # `node` is an iterable that database_sync_to_async(list) can evaluate
    NONE = "none"  # no fix can move just this expression


@dataclass(frozen=True, kw_only=True)
class DbOperation:
    """An expression that runs SQL.

    ``node`` is where it is reported; ``subject`` the queryset expression an evaluation
    evaluates; ``method`` the ORM method called; ``builtin`` the evaluating builtin;
    ``func_name`` the qualified name of a called function; ``effect`` what a sync-only API
    does; ``target`` the related model a lazy relation loads; ``scope`` is set when the
    operation runs in another scope than ``node`` (a decorator).
    """

    node: ast.expr
    family: Family
    kind: OpKind
    shape: FixShape
    method: str | None = None
    evidence: Evidence | None = field(default=None, compare=False)
    subject: ast.expr | None = field(default=None, compare=False)
    builtin: str | None = None
    func_name: str | None = None
    effect: DbEffect | None = None
    target: str | None = None
    scope: ast.AST | None = field(default=None, compare=False)
    #: Only the shape of the code says it (a model the index lacks, a relation of the user
    #: that is not one of Django's User fields): messages say "looks like".
    inferred: bool = False
    #: For an inferred lazy relation: the attribute read on the related object (the evidence).
    witness: str | None = None


class DatabaseOperations:
    """Database operations of one module, and the sync helpers that reach them."""

    def __init__(
        self, syntax: Syntax, names: Names, flow: ValueFlow, orm: OrmEvidence, context: ExecutionContext, cross=None
    ) -> None:
        self.cross = cross
        self.syntax = syntax
        self.names = names
        self.flow = flow
        self.orm = orm
        self.context = context

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
            if isinstance(call.func, ast.Name) and call.func.id in LAZY_ITERATING_BUILTINS and self.names.is_builtin(call.func, call.func.id):
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
            evidence = self._queryset(subject)
            if evidence is not None:
                operation = self._evaluation(node, evidence, kind, shape, subject)
                if operation is not None:
                    yield operation

    def _lazy_relation_loads(self) -> Iterator[DbOperation]:
        lazy: dict[ast.Attribute, tuple[Evidence, str | None]] = {}
        for attribute in self.syntax.nodes(ast.Attribute):
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

    def _atomic_blocks(self) -> Iterator[DbOperation]:
        """``with transaction.atomic():`` and ``@transaction.atomic`` (Django: transactions are
        not supported in async code, docs/semantics.md §4.2)."""
        for statement in self.syntax.nodes(ast.With):
            for item in statement.items:
                manager = item.context_expr.func if isinstance(item.context_expr, ast.Call) else item.context_expr
                if self.names.resolves_to(manager, TRANSACTION_ATOMIC):
                    yield DbOperation(node=item.context_expr, family=Family.API, kind=OpKind.ATOMIC_BLOCK, shape=FixShape.NONE)
        for function in self.syntax.nodes(ast.AsyncFunctionDef):
            for decorator in function.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if self.names.resolves_to(target, TRANSACTION_ATOMIC):
                    yield DbOperation(
                        node=decorator, family=Family.API, kind=OpKind.ATOMIC_DECORATOR, shape=FixShape.NONE, scope=function
                    )

    def _request_users(self) -> Iterator[DbOperation]:
        """``request.user.<attr>`` where ``request`` is the request parameter of an ``async
        def`` view or middleware ``__call__``: ``AuthenticationMiddleware`` makes
        ``request.user`` a lazy object whose first use loads the session and the user
        (django/contrib/auth/middleware.py, docs/semantics.md §4.2)."""
        for attribute in self.syntax.nodes(ast.Attribute):
            user = attribute.value
            if not (
                isinstance(attribute.ctx, ast.Load)
                and isinstance(user, ast.Attribute)
                and user.attr == "user"
                and isinstance(user.value, ast.Name)
                and user.value.id == "request"
            ):
                continue
            function = self.syntax.enclosing_scope(attribute)
            if not isinstance(function, ast.AsyncFunctionDef) or not _request_parameter(function):
                continue
            bindings = self.flow.reaching(user.value)
            if not bindings or any(b.kind is not BindingKind.PARAMETER for b in bindings):
                continue
            yield DbOperation(node=user, family=Family.API, kind=OpKind.REQUEST_USER, shape=FixShape.NONE)

    def _serializers(self) -> Iterator[DbOperation]:
        """DRF ``ModelSerializer``s: ``save()`` writes, and ``.data`` of ``many=True`` or of a
        queryset evaluates it (rest_framework/serializers.py, docs/semantics.md §4.2).
        ``is_valid()`` queries only for unique or related fields, which the models index does
        not record, so it is left alone."""
        if self.cross is None:
            return
        for attribute in self.syntax.nodes(ast.Attribute):
            if attribute.attr not in ("save", "data") or not isinstance(attribute.ctx, ast.Load):
                continue
            parent = self.syntax.parents.get(attribute)
            called = isinstance(parent, ast.Call) and parent.func is attribute
            if attribute.attr != "data" and not called:
                continue
            constructor = self._serializer_constructor(attribute.value)
            if constructor is None:
                continue
            if attribute.attr == "data" and not self._many(constructor):
                continue
            node = parent if called else attribute
            yield DbOperation(
                node=node,
                family=Family.API,
                kind=OpKind.SERIALIZER,
                shape=FixShape.CALL if called else FixShape.NONE,
                method=attribute.attr,
            )

    def _serializer_constructor(self, node: ast.expr) -> ast.Call | None:
        """The ``SomeModelSerializer(...)`` call every reaching value of ``node`` is."""
        values = self.flow.values(node)
        if not values or not all(isinstance(v, ast.Call) for v in values):
            return None
        for call in values:
            if not (MODEL_SERIALIZERS & self.cross.class_ancestors(call.func)):
                return None
        return values[0] if len(values) == 1 else None

    def _many(self, call: ast.Call) -> bool:
        if any(k.arg == "many" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords):
            return True
        instance = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "instance"), None)
        evidence = self.orm.evidence(instance) if instance is not None else None
        return evidence is not None and evidence.kind is Orm.QUERYSET and not evidence.weak

    # ------------------------------------------------------------------ helpers
    @functools.cached_property
    def helpers(self) -> dict[ast.FunctionDef, tuple[ast.expr, bool]]:
        """Plain sync functions (:meth:`ExecutionContext.sync_helpers`) that touch the
        database, in their own body or through another such function of this module."""
        seeds: dict[ast.AST, ast.expr] = {}
        for operation in self.operations:
            seeds.setdefault(operation.scope or self.syntax.enclosing_scope(operation.node), operation.node)
        return self.context.sync_helpers(seeds)
