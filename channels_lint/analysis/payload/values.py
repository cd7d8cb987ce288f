"""Payload values: the values of known kind (:class:`~channels_lint.analysis.facts.PayloadKind`)
in a payload, reached through literals, comprehensions, names, ``self.<attr>``, helper returns
(the flow layer) and model fields the models index knows; dict keys that are not ``str``;
members of plain enums (docs/semantics.md §5.2, §5.3, §6.1).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, replace

from channels_lint.analysis.facts import (
    BYTES_CALLS,
    FIELD_PAYLOAD_KINDS,
    LAZY_TEXT_CALLS,
    MSGPACK_INT_RANGE,
    PLAIN_ENUM_BASES,
    UNSERIALIZABLE_CALLS,
    VALUE_ENUM_MIXINS,
    PayloadKind,
)
from channels_lint.analysis.flow import MAX_DEPTH, DictShape
from channels_lint.analysis.orm import Orm
from channels_lint.analysis.payload.types import PythonTypes

#: Model fields that hold ints (django/db/models/fields/__init__.py); the implicit ``id`` too.
_INT_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


@dataclass(frozen=True, kw_only=True)
class UnsafeValue:
    """A value of ``kind`` in a payload.

    ``node`` is where it is written in the payload (the key itself for a key kind),
    ``origin`` the expression that produces it (the same node, or a value a name in the
    payload holds).  ``definite``: every value ``node`` may hold is of this kind (a
    conversion written at ``node`` is right on every path).  ``field``: the class of the
    model field it reads (``"DateTimeField"`` for ``instance.created_at``), known from the
    models index; such a value may also be ``None`` (a nullable field).  ``is_key``: the value is a dict key.
    ``via``: the names (or ``self.<attr>``, helper calls) in the payload through which a
    value written elsewhere was reached, outermost first (``{"seats": seats}`` with
    ``seats = {0: "ann"}`` reaches the key ``0`` via ``seats``).
    """

    node: ast.expr
    kind: PayloadKind
    origin: ast.expr
    definite: bool = True
    field: str | None = None
    is_key: bool = False
    via: tuple[ast.expr, ...] = ()


class PayloadValues(PythonTypes):
    """Values of known kind in payloads (see the module docstring)."""

    # ------------------------------------------------------------------ values of known kind
    def in_shape(self, shape: DictShape, depth: int = 0) -> Iterator[UnsafeValue]:
        """Unsafe keys and values of a dict the flow layer has the shape of."""
        if depth > MAX_DEPTH:
            return
        seen: set[tuple[int, PayloadKind]] = set()
        for entry in shape.entries:
            if entry.key is not None:
                for unsafe in (*self._key(entry.key), *self.in_value(entry.value, depth + 1)):
                    if (id(unsafe.node), unsafe.kind) not in seen:
                        seen.add((id(unsafe.node), unsafe.kind))
                        yield unsafe

    def in_value(self, node: ast.expr, depth: int = 0, reference: ast.expr | None = None) -> Iterator[UnsafeValue]:
        """Unsafe values in ``node``, looking into literal containers and comprehensions and
        following names, ``self.<attr>`` and calls of this module's functions."""
        if depth > MAX_DEPTH:
            return
        where = reference or node
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None:
                    yield from self._key(key)
                    yield from self.in_value(value, depth + 1)
                else:
                    yield from self.in_value(value, depth + 1)
            return
        if isinstance(node, ast.DictComp):
            yield from self._key(node.key)
            yield from self.in_value(node.value, depth + 1)
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for element in node.elts:
                yield from self.in_value(element.value if isinstance(element, ast.Starred) else element, depth + 1)
            return
        if isinstance(node, ast.ListComp):
            yield from self.in_value(node.elt, depth + 1)
            return
        if isinstance(node, ast.Call) and self.names.is_builtin(node.func, "dict"):
            for argument in (*node.args, *(k.value for k in node.keywords)):
                yield from self.in_value(argument, depth + 1)
            return
        if isinstance(node, (ast.Set, ast.SetComp)):
            yield UnsafeValue(node=where, kind=PayloadKind.SET, origin=node)
            return
        kind, field = self._kind(node)
        if kind is not None:
            yield UnsafeValue(node=where, kind=kind, origin=node, field=field)
            return
        if reference is None and self._followable(node):
            yield from self._followed(node, depth)

    def _followed(self, node: ast.expr, depth: int) -> Iterator[UnsafeValue]:
        """What a name (or ``self.<attr>``, or a helper call) may hold, reported at ``node``;
        ``definite`` when every value it may hold is of the same kind."""
        if isinstance(node, ast.Name):
            shape = self.flow.dict_shape(node)
            if shape is not None:  # a dict built here: also what `d[k] = v`, `update` added
                for unsafe in self.in_shape(shape, depth + 1):
                    yield replace(unsafe, via=(node, *unsafe.via))
                return
        values = self.flow.values(node)
        if not values or values == (node,):
            return
        found: list[UnsafeValue] = []
        top_kinds: list[frozenset[PayloadKind]] = []
        for value in values:
            if isinstance(value, ast.Name):
                top_kinds.append(frozenset())
                continue
            inner = list(self.in_value(value, depth + 1, reference=node))
            found.extend(inner)
            top_kinds.append(frozenset(u.kind for u in inner if u.node is node))
        definite = len(set(top_kinds)) == 1 and len(top_kinds[0]) == 1
        seen: set[tuple[int, PayloadKind]] = set()
        for unsafe in found:
            if (id(unsafe.node), unsafe.kind) in seen:
                continue
            seen.add((id(unsafe.node), unsafe.kind))
            if unsafe.node is node:
                yield replace(unsafe, definite=unsafe.definite and definite)
            else:
                yield replace(unsafe, via=(node, *unsafe.via))

    def used_once(self, node: ast.expr) -> bool:
        """Whether ``node`` is a local name bound once in its scope and loaded only here: a
        change to the value it holds changes nothing else."""
        if not isinstance(node, ast.Name):
            return False
        scope = self.syntax.enclosing_scope(node)
        if len(self.flow.bindings.bindings_in(scope, node.id)) != 1:
            return False
        loads = [n for n in self.names.loads_by_name[0].get(node.id, ()) if self.syntax.enclosing_scope(n) is scope]
        return loads == [node]

    def _kind(self, node: ast.expr) -> tuple[PayloadKind | None, str | None]:
        """The kind of a single expression (no containers), with the model field it reads."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bytes):
                return PayloadKind.BYTES, None
            return (PayloadKind.BIG_INT, None) if self._big_int(node) else (None, None)
        if isinstance(node, (ast.UnaryOp, ast.BinOp)):
            return (PayloadKind.BIG_INT, None) if self._big_int(node) else (None, None)
        if isinstance(node, ast.Call):
            name = self.names.call_name(node)
            if name is not None:
                kind = UNSERIALIZABLE_CALLS.get(name)
                if kind is not None and not (name in ("set", "frozenset") and not self.names.is_builtin(node.func, name)):
                    return kind, None
                if name in LAZY_TEXT_CALLS:
                    return PayloadKind.LAZY_TEXT, None
                if name in BYTES_CALLS or any(self.names.is_builtin(node.func, b) for b in ("bytes", "bytearray")):
                    return PayloadKind.BYTES, None
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "encode" and self.value_type(func.value) is str:
                return PayloadKind.BYTES, None
        if isinstance(node, ast.Attribute):
            if self.enum_member(node) is not None:
                return PayloadKind.ENUM, None
            field = self._field(node)
            if field in FIELD_PAYLOAD_KINDS:
                return FIELD_PAYLOAD_KINDS[field], field
        evidence = self.orm.of(node)
        if evidence is Orm.INSTANCE:
            return PayloadKind.MODEL_INSTANCE, None
        if evidence in (Orm.QUERYSET, Orm.MANAGER):
            return PayloadKind.QUERYSET, None
        return None, None

    def _field(self, node: ast.Attribute) -> str | None:
        """The field class of ``instance.<field>`` for a model the index knows
        (``"DateTimeField"``); ``"AutoField"`` for the implicit ``id`` when every base of the
        model is one the index has read (a library base may declare ``id``); else ``None``."""
        evidence = self.orm.evidence(node.value)
        if evidence is None or evidence.weak or evidence.kind is not Orm.INSTANCE or evidence.info is None:
            return None
        fields = evidence.info.fields
        if node.attr == "id" and "id" not in fields:
            # the implicit primary key: DEFAULT_AUTO_FIELD must be an AutoField subclass
            return "AutoField" if self._fields_known(evidence.info, 0) else None
        return fields.get(node.attr)

    def _fields_known(self, info, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        for base in info.bases:
            if base == "Model":
                continue
            model = self.orm.models.lookup(base, info.path)
            if model is None or not self._fields_known(model, depth + 1):
                return False
        return True

    def _big_int(self, node: ast.expr) -> bool:
        value = self.constant_int(node)
        return value is not None and not MSGPACK_INT_RANGE[0] <= value <= MSGPACK_INT_RANGE[1]

    def _key(self, key: ast.expr) -> Iterator[UnsafeValue]:
        """A dict key that is not a str: a literal, a tuple, the builtin ``type``, a value of
        known kind (``uuid4()``), or a model's int field."""
        kind: PayloadKind | None = None
        field = None
        if isinstance(key, ast.Constant):
            if isinstance(key.value, bytes):
                kind = PayloadKind.BYTES_KEY
            elif not isinstance(key.value, str):
                kind = PayloadKind.NON_STR_KEY
        elif isinstance(key, ast.Tuple):
            kind = PayloadKind.TUPLE_KEY
        elif self.names.is_builtin(key, "type"):
            kind = PayloadKind.TYPE_KEY
        elif isinstance(key, ast.Attribute) and self._field(key) in _INT_FIELDS:
            kind, field = PayloadKind.NON_STR_KEY, self._field(key)
        else:
            value_kind, field = self._kind(key)
            if value_kind is PayloadKind.BYTES:
                kind = PayloadKind.BYTES_KEY
            elif value_kind is not None:
                kind = value_kind
        if kind is not None:
            yield UnsafeValue(node=key, kind=kind, origin=key, field=field, is_key=True)

    # ------------------------------------------------------------------ enums
    def enum_member(self, node: ast.Attribute) -> ast.expr | None:
        """The value assigned to ``Cls.MEMBER`` when ``Cls`` is an Enum of this module whose
        members are not str/int instances (a plain ``Enum``/``Flag`` without a mixin)."""
        if not isinstance(node.value, ast.Name) or node.value.id not in self.names.classes:
            return None
        cls = self.names.classes[node.value.id]
        if not self._plain_enum(cls, frozenset()):
            return None
        for statement in cls.body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.attr for t in statement.targets
            ):
                return statement.value
        return None

    def _plain_enum(self, cls: ast.ClassDef, seen: frozenset[str]) -> bool:
        plain = False
        for base in cls.bases:
            qualified = self.names.qualname(base)
            if qualified in VALUE_ENUM_MIXINS:
                return False
            if qualified in PLAIN_ENUM_BASES:
                plain = True
            elif isinstance(base, ast.Name) and base.id in self.names.classes and base.id not in seen:
                if not self._plain_enum(self.names.classes[base.id], seen | {cls.name}):
                    return False
                plain = True
            else:
                return False  # an unknown base may mix in str or int
        return plain
