"""Database access beyond ORM calls: ``transaction.atomic`` blocks and decorators, the lazy
``request.user`` of an async view or middleware, and DRF ``ModelSerializer`` saves and
``.data`` of many rows (docs/semantics.md §4.2).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis.bindings import BindingKind
from channels_lint.analysis.database.model import DbOperation, Family, FixShape, OpKind
from channels_lint.analysis.database.queries import QueryOperations
from channels_lint.analysis.facts import TRANSACTION_ATOMIC
from channels_lint.analysis.orm import Orm

#: DRF's model serializer classes (rest_framework/serializers.py).
MODEL_SERIALIZERS = frozenset(
    {"rest_framework.serializers.ModelSerializer", "rest_framework.serializers.HyperlinkedModelSerializer"}
)


def _request_parameter(function: ast.AsyncFunctionDef) -> bool:
    """``request`` is the view's first parameter, or a method's (view class, middleware
    ``__call__``) second one."""
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return positional[:1] == ["request"] or (positional[:1] in (["self"], ["cls"]) and positional[1:2] == ["request"])


class ExtraOperations(QueryOperations):
    """Atomic blocks, ``request.user`` and DRF serializers (see the module docstring)."""

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
            if not self._wanted(attribute):
                continue
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
            if not self._wanted(attribute):
                continue
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
