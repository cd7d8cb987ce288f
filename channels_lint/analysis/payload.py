"""Payloads: values in a message that msgpack (channels_redis) or ``json.dumps`` reject.

Facts (docs/semantics.md §5.2, §5.3, §6.1): the channel layer spec allows only str, bytes,
64-bit ints, floats, bools, ``None``, lists and dicts with str keys; msgpack rejects
datetimes, UUIDs, Decimals, sets, model instances and querysets, and a non-str key is sent
but breaks every receiver; ``json.dumps`` rejects the same values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from channels_lint.analysis.facts import UNSERIALIZABLE_CALLS, PayloadKind
from channels_lint.analysis.flow import MAX_DEPTH, DictShape, ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm import Orm, OrmEvidence


@dataclass(frozen=True, kw_only=True)
class UnsafeValue:
    """A value of ``kind`` in a payload: ``node`` is where it is written in the payload
    (a key for ``NON_STR_KEY``), ``origin`` the expression that produces it (the same node,
    or the value a name in the payload holds)."""

    node: ast.expr
    kind: PayloadKind
    origin: ast.expr


class Payloads:
    """Classifies payload values (see the module docstring)."""

    def __init__(self, names: Names, flow: ValueFlow, orm: OrmEvidence) -> None:
        self.names = names
        self.flow = flow
        self.orm = orm

    def in_shape(self, shape: DictShape) -> Iterator[UnsafeValue]:
        """Unsafe keys and values of a dict the flow layer has the shape of."""
        for entry in shape.entries:
            if entry.key is not None:
                yield from self._key(entry.key)
                yield from self.in_value(entry.value)

    def in_value(self, node: ast.expr, depth: int = 0, reference: ast.expr | None = None) -> Iterator[UnsafeValue]:
        """Unsafe values in ``node``, looking into literal containers and following names."""
        if depth > MAX_DEPTH:
            return
        where = reference or node
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None:
                    yield from self._key(key)
                    yield from self.in_value(value, depth + 1)
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for element in node.elts:
                yield from self.in_value(element, depth + 1)
            return
        if isinstance(node, ast.Call) and self.names.is_builtin(node.func, "dict"):
            for argument in (*node.args, *(k.value for k in node.keywords)):
                yield from self.in_value(argument, depth + 1)
            return
        if isinstance(node, (ast.Set, ast.SetComp)):
            yield UnsafeValue(node=where, kind=PayloadKind.SET, origin=node)
            return
        if isinstance(node, ast.Call):
            name = self.names.call_name(node)
            kind = UNSERIALIZABLE_CALLS.get(name) if name is not None else None
            if kind is not None and not (name in ("set", "frozenset") and not self.names.is_builtin(node.func, name)):
                yield UnsafeValue(node=where, kind=kind, origin=node)
                return
        evidence = self.orm.of(node)
        if evidence is Orm.INSTANCE:
            yield UnsafeValue(node=where, kind=PayloadKind.MODEL_INSTANCE, origin=node)
            return
        if evidence in (Orm.QUERYSET, Orm.MANAGER):
            yield UnsafeValue(node=where, kind=PayloadKind.QUERYSET, origin=node)
            return
        if isinstance(node, ast.Name) and reference is None:
            for value in self.flow.values(node) or ():
                if not isinstance(value, ast.Name):
                    yield from self.in_value(value, depth + 1, reference=node)

    @staticmethod
    def _key(key: ast.expr) -> Iterator[UnsafeValue]:
        if (isinstance(key, ast.Constant) and not isinstance(key.value, (str, bytes))) or isinstance(key, ast.Tuple):
            yield UnsafeValue(node=key, kind=PayloadKind.NON_STR_KEY, origin=key)
