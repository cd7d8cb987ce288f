"""Value flow: what may an expression hold here?

Every rule asks this one layer, the same way:

* :meth:`ValueFlow.values` follows names through their reaching bindings
  (:mod:`channels_lint.analysis.bindings`), ``x or y``, ``a if c else b``, calls of local
  functions and ``self.<attr>`` to the expressions they may hold; ``None`` means unknown, and
  one unknown reaching binding makes the whole answer unknown (the weaker evidence wins).
* :meth:`ValueFlow.dict_shape` gives the entries of a dict built by a literal, ``dict(...)``,
  ``{**a, "k": v}``, ``d["k"] = v`` or ``d.update(...)`` before the use.

Unknown stays unknown: a rule reports only what this layer proves.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from channels_lint.analysis.bindings import Binding, BindingKind, Bindings
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax

#: How deep :meth:`ValueFlow.values` follows names, calls and attributes.
MAX_DEPTH = 8


@dataclass(frozen=True)
class DictEntry:
    """One ``key: value`` of a dict being built; ``key`` is ``None`` for ``**value``."""

    key: ast.expr | None
    value: ast.expr


@dataclass(frozen=True)
class DictShape:
    """What a dict expression holds when it is used.

    ``entries`` lists every entry any path may put in it; ``always`` the constant keys
    every path puts in it; ``open`` is true when entries may come from somewhere the
    analysis cannot see (``**unknown``, ``d.update(unknown)``, the dict passed to a call
    before the use).
    """

    entries: tuple[DictEntry, ...]
    always: frozenset[object]
    open: bool
    builders: tuple[ast.expr, ...]

    def values_of(self, key: object) -> list[ast.expr]:
        """The values any path may store under the constant ``key``."""
        return [e.value for e in self.entries if isinstance(e.key, ast.Constant) and e.key.value == key]


class ValueFlow:
    """Possible values of expressions (see the module docstring)."""

    def __init__(self, syntax: Syntax, names: Names, bindings: Bindings) -> None:
        self.syntax = syntax
        self.names = names
        self.bindings = bindings

    def reaching(self, name: ast.Name) -> frozenset[Binding] | None:
        """:meth:`Bindings.reaching` (the bindings of ``name`` that may reach this load)."""
        return self.bindings.reaching(name)

    # ------------------------------------------------------------------ values
    def values(self, node: ast.expr | None, _depth: int = 0) -> tuple[ast.expr, ...] | None:
        """The expressions ``node`` may evaluate to here, ``None`` when any is unknown.

        Follows: names through their reaching ``ASSIGN``/``ANNOTATED``/``WALRUS`` bindings,
        ``x or y``/``x and y`` (either operand), ``a if c else b`` (either branch), calls of
        functions of this module (their ``return`` values, ``await f()`` for an
        ``async def``), and ``self.<attr>`` (every value the class assigns to it).  Any other
        expression is its own value."""
        if node is None or _depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            bindings = self.reaching(node)
            if not bindings:
                return None
            found: list[ast.expr] = []
            for binding in sorted(bindings, key=_position):
                if binding.value is None or binding.kind not in (BindingKind.ASSIGN, BindingKind.ANNOTATED, BindingKind.WALRUS):
                    return None
                more = self.values(binding.value, _depth + 1)
                if more is None:
                    return None
                found.extend(more)
            return tuple(dict.fromkeys(found))
        if isinstance(node, ast.BoolOp):
            return self._union(node.values, _depth)
        if isinstance(node, ast.IfExp):
            return self._union([node.body, node.orelse], _depth)
        call = node.value if isinstance(node, ast.Await) else node
        if isinstance(call, ast.Call):
            function = self.names.local_function(call)
            if (
                function is not None
                and not isinstance(self.syntax.parents.get(function), ast.ClassDef)
                and not function.decorator_list
            ):
                if isinstance(function, ast.AsyncFunctionDef) != isinstance(node, ast.Await):
                    return (node,)  # a coroutine (or awaiting a plain call): the call itself
                returned = self.returns(function)
                if returned is None:
                    return None
                return self._union(returned, _depth)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            assigned = self.self_attribute(node)
            if assigned is None:
                return None
            return self._union(assigned, _depth)
        return (node,)

    def _union(self, nodes, depth: int) -> tuple[ast.expr, ...] | None:
        found: list[ast.expr] = []
        for node in nodes:
            more = self.values(node, depth + 1)
            if more is None:
                return None
            found.extend(more)
        return tuple(dict.fromkeys(found))

    def definite(self, node: ast.expr | None) -> ast.expr | None:
        """The single expression ``node`` holds here, when there is exactly one."""
        found = self.values(node)
        return found[0] if found is not None and len(found) == 1 else None

    def returns(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr] | None:
        """The values a function of this module returns; ``None`` when one is unknown (a
        bare ``return``, falling off the end, a generator)."""
        cache = self.__dict__.setdefault("_returns", {})
        if function not in cache:
            found: list[ast.expr] | None = []
            for node in _own_nodes(function):
                if isinstance(node, (ast.Yield, ast.YieldFrom)):
                    found = None
                    break
                if isinstance(node, ast.Return):
                    if node.value is None:
                        found = None
                        break
                    found.append(node.value)
            if found is not None and (not found or not isinstance(function.body[-1], (ast.Return, ast.Raise))):
                found = None  # may fall off the end and return None
            cache[function] = found
        return cache[function]

    def self_attribute(self, node: ast.Attribute) -> list[ast.expr] | None:
        """Every value the class of the method holding ``node`` (and its local bases)
        assigns to ``self.<attr>`` in any method, or as a class attribute; ``None`` when
        one assignment is not a plain ``=`` (augmented, unpacked, ``setattr``) or the class
        is unknown."""
        cls = self.syntax.enclosing_class(node)
        if cls is None:
            return None
        return self.class_attribute(cls, node.attr)

    def class_attribute(self, cls: ast.ClassDef, attr: str) -> list[ast.expr] | None:
        cache = self.__dict__.setdefault("_class_attributes", {})
        key = (cls, attr)
        if key not in cache:
            cache[key] = self._class_attribute(cls, attr)
        return cache[key]

    def _class_attribute(self, cls: ast.ClassDef, attr: str) -> list[ast.expr] | None:
        found: list[ast.expr] = []
        for klass in self.names.local_mro(cls):
            stores, opaque = self._class_stores(klass)
            if opaque:
                return None  # setattr(...): any attribute may be set
            for value in stores.get(attr, ()):
                if value is None:
                    return None  # augmented, unpacked or annotated without a value
                found.append(value)
        return found or None

    def _class_stores(self, klass: ast.ClassDef) -> tuple[dict[str, list[ast.expr | None]], bool]:
        """Every value ``klass`` assigns to a class attribute or to ``self.<attr>`` in its
        methods, by attribute (``None`` for a store whose value is unknown), and whether it
        calls ``setattr``; built once per class."""
        cache = self.__dict__.setdefault("_stores", {})
        if klass not in cache:
            stores: dict[str, list[ast.expr | None]] = {}
            opaque = False
            for statement in klass.body:
                if isinstance(statement, ast.Assign):
                    for target in statement.targets:
                        if isinstance(target, ast.Name):
                            stores.setdefault(target.id, []).append(statement.value)
            for node in _class_nodes(klass):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "self"
                    and not isinstance(node.ctx, ast.Load)
                ):
                    parent = self.syntax.parents.get(node)
                    if isinstance(parent, ast.Assign) and node in parent.targets:
                        value = parent.value
                    elif isinstance(parent, ast.AnnAssign) and parent.value is not None:
                        value = parent.value
                    else:
                        value = None
                    stores.setdefault(node.attr, []).append(value)
                elif isinstance(node, ast.Call) and self.names.is_builtin(node.func, "setattr"):
                    opaque = True
            cache[klass] = (stores, opaque)
        return cache[klass]

    # ------------------------------------------------------------------ dicts
    def dict_shape(self, node: ast.expr | None) -> DictShape | None:
        """The entries of the dict ``node`` holds here (see :class:`DictShape`); ``None`` when
        it is not provably a dict built in this module."""
        values = self.values(node)
        if not values:
            return None
        shapes = []
        for value in values:
            shape = self._builder_shape(value)
            if shape is None:
                return None
            shapes.append(shape)
        entries = [entry for shape in shapes for entry in shape.entries]
        always = frozenset.intersection(*(shape.always for shape in shapes))
        open_ = any(shape.open for shape in shapes)
        if isinstance(node, ast.Name):
            extra, always_extra, escaped = self._mutations(node, values)
            entries.extend(extra)
            always |= always_extra
            open_ |= escaped
        return DictShape(tuple(entries), always, open_, tuple(values))

    def _builder_shape(self, value: ast.expr, depth: int = 0) -> DictShape | None:
        entries: list[DictEntry] = []
        always: set[object] = set()
        open_ = False
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                entries.append(DictEntry(key, item))
                if key is None:
                    inner = self.dict_shape(item) if depth < MAX_DEPTH else None
                    if inner is None:
                        open_ = True
                    else:
                        entries.extend(inner.entries)
                        always |= inner.always
                        open_ |= inner.open
                elif isinstance(key, ast.Constant):
                    always.add(key.value)
        elif isinstance(value, ast.Call) and self.names.is_builtin(value.func, "dict"):
            for argument in value.args:
                inner = self.dict_shape(argument) if depth < MAX_DEPTH else None
                if inner is None:
                    open_ = True
                else:
                    entries.extend(inner.entries)
                    always |= inner.always
                    open_ |= inner.open
            for keyword in value.keywords:
                if keyword.arg is None:
                    open_ = True
                    continue
                key = ast.copy_location(ast.Constant(keyword.arg), keyword)
                entries.append(DictEntry(key, keyword.value))
                always.add(keyword.arg)
        else:
            return None
        return DictShape(tuple(entries), frozenset(always), open_, (value,))

    def _mutations(self, name: ast.Name, builders) -> tuple[list[DictEntry], frozenset[object], bool]:
        """Entries added to the dict named ``name`` between its binding and this use:
        ``name[k] = v``, ``name.update(...)``, ``name.setdefault(k, v)``; and whether it was
        passed anywhere else (then anything may have been added)."""
        scope = self.syntax.enclosing_scope(name)
        start = min((b.lineno, b.col_offset) for b in builders)
        end = (name.lineno, name.col_offset)
        entries: list[DictEntry] = []
        always: set[object] = set()
        escaped = False
        for load in self.names.loads_by_name[0].get(name.id, ()):
            if load is name or self.syntax.enclosing_scope(load) is not scope or not start < (load.lineno, load.col_offset) < end:
                continue
            parent = self.syntax.parents.get(load)
            statement = self.syntax.statement_of(load)
            unconditional = self.syntax.parents.get(statement) is self.syntax.parents.get(self.syntax.statement_of(name))
            if isinstance(parent, ast.Subscript) and parent.value is load:
                grand = self.syntax.parents.get(parent)
                if isinstance(parent.ctx, ast.Store) and isinstance(grand, ast.Assign):
                    entries.append(DictEntry(parent.slice, grand.value))
                    if isinstance(parent.slice, ast.Constant) and unconditional:
                        always.add(parent.slice.value)
                continue
            if isinstance(parent, ast.Attribute) and isinstance(self.syntax.parents.get(parent), ast.Call):
                call = self.syntax.parents[parent]
                if parent.attr == "update" and call.func is parent:
                    for argument in call.args:
                        inner = self.dict_shape(argument)
                        if inner is None:
                            escaped = True
                        else:
                            entries.extend(inner.entries)
                    for keyword in call.keywords:
                        if keyword.arg is None:
                            escaped = True
                        else:
                            entries.append(DictEntry(ast.copy_location(ast.Constant(keyword.arg), keyword), keyword.value))
                    continue
                if parent.attr == "setdefault" and call.func is parent and len(call.args) == 2:
                    entries.append(DictEntry(call.args[0], call.args[1]))
                    continue
                if parent.attr in ("get", "items", "keys", "values", "copy", "pop"):
                    continue
            if isinstance(parent, (ast.Call, ast.keyword, ast.Starred, ast.Return, ast.Yield, ast.Attribute)):
                escaped = True
        return entries, frozenset(always), escaped


def _position(binding: Binding) -> tuple[int, int]:
    return getattr(binding.node, "lineno", 0), getattr(binding.node, "col_offset", 0)


def _own_nodes(function: ast.AST):
    """Nodes of a function's body, not entering nested functions, lambdas or classes."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _class_nodes(cls: ast.ClassDef):
    """Nodes of a class's methods (one level: methods and their nested code)."""
    for statement in cls.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from ast.walk(statement)


__all__ = ["Binding", "BindingKind", "DictEntry", "DictShape", "ValueFlow"]
