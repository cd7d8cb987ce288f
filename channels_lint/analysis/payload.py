"""Payloads: values that msgpack (channels_redis), ``json.dumps`` or the ASGI server reject.

Facts (docs/semantics.md §5.2, §5.3, §6.1, §6.2): the channel layer spec allows only str,
bytes, 64-bit ints, floats, bools, ``None``, lists and dicts with str keys; msgpack rejects
datetimes, UUIDs, Decimals, sets, plain Enum members, lazy translation strings, model
instances, querysets and ints past 64 bits, and a non-str key is sent but breaks every
receiver; ``json.dumps`` rejects the same values (ints of any size and int/None/bool keys
excepted) plus bytes.  Which serializer rejects which :class:`PayloadKind` is data in
:mod:`.facts` (``MSGPACK_REJECTS``, ``JSON_REJECTS``).

The analyzer answers:

* :meth:`Payloads.in_value` / :meth:`Payloads.in_shape`: the values of known kind in a
  payload, reached through literals, comprehensions, names, ``self.<attr>``, helper returns
  (the flow layer) and model fields the models index knows;
* :meth:`Payloads.value_type`: the Python type an expression certainly has (``str``,
  ``dict``...), for the frame and HTTP checks;
* :attr:`Payloads.json_sinks`: where consumer code hands a value to a JSON encoder;
* :meth:`Payloads.passes_on`: whether an event handler only hands a key's value on to a
  plain JSON encoder (what makes converting it in the sender keep the meaning).
"""

from __future__ import annotations

import ast
import enum
import functools
import operator
from collections.abc import Iterator
from dataclasses import dataclass, replace

from channels_lint.analysis.facts import (
    BYTES_CALLS,
    CONSUMER_BASES,
    FIELD_PAYLOAD_KINDS,
    JSON_CONSUMER_BASES,
    JSON_ENCODER_KEYWORDS,
    LAZY_TEXT_CALLS,
    MSGPACK_INT_RANGE,
    PLAIN_ENUM_BASES,
    UNSERIALIZABLE_CALLS,
    VALUE_ENUM_MIXINS,
    WEBSOCKET_SEND_BASES,
    PayloadKind,
)
from channels_lint.analysis.flow import MAX_DEPTH, DictShape, ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm import Orm, OrmEvidence

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
_BUILTIN_TYPES = (str, bytes, dict, list, tuple, set, int, float)
_CONSTANT_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
}


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


class SinkKind(enum.Enum):
    """How a value reaches a JSON encoder."""

    SEND_JSON = "send_json"  # self.send_json(value) on a JSON consumer, plain encode_json
    JSON_DUMPS = "json.dumps"  # json.dumps(value) without cls=/default=
    JSON_RESPONSE = "JsonResponse"  # JsonResponse(value) without encoder= (DjangoJSONEncoder)


@dataclass(frozen=True, kw_only=True)
class JsonSink:
    """A call in consumer code that encodes ``value`` as JSON.

    ``to_client``: the encoded text goes straight to the client (``send_json``, or
    ``json.dumps`` passed as ``text_data``); ``call`` the encoding call.
    """

    call: ast.Call
    value: ast.expr
    kind: SinkKind
    to_client: bool


class Payloads:
    """Classifies payload values (see the module docstring)."""

    def __init__(self, names: Names, flow: ValueFlow, orm: OrmEvidence, consumers=None) -> None:
        self.names = names
        self.flow = flow
        self.orm = orm
        self.consumers = consumers
        self.syntax = flow.syntax

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

    def _followable(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return True
        call = node.value if isinstance(node, ast.Await) else node
        return isinstance(call, ast.Call) and self.names.local_function(call) is not None

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

    @staticmethod
    def constant_int(node: ast.expr, depth: int = 0) -> int | None:
        """The value of an int literal, ``-literal`` or a small constant expression of them."""
        if depth > 4:
            return None
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = Payloads.constant_int(node.operand, depth + 1)
            return -value if value is not None else None
        if isinstance(node, ast.BinOp) and type(node.op) in _CONSTANT_OPERATORS:
            left, right = Payloads.constant_int(node.left, depth + 1), Payloads.constant_int(node.right, depth + 1)
            if left is None or right is None or not (0 <= right <= 4096 and abs(left) <= 2**4096):
                return None
            return _CONSTANT_OPERATORS[type(node.op)](left, right)
        return None

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

    # ------------------------------------------------------------------ python types
    def value_type(self, node: ast.expr | None, depth: int = 0) -> type | None:
        """The Python type ``node`` certainly has here (``str``, ``bytes``, ``int``, ``float``,
        ``bool``, ``NoneType``, ``dict``, ``list``, ``tuple``, ``set``), else ``None``."""
        if node is None or depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return type(node.value)
        if isinstance(node, ast.JoinedStr):
            return str
        if isinstance(node, (ast.Dict, ast.DictComp)):
            return dict
        if isinstance(node, (ast.List, ast.ListComp)):
            return list
        if isinstance(node, ast.Tuple):
            return tuple
        if isinstance(node, (ast.Set, ast.SetComp)):
            return set
        if isinstance(node, ast.BinOp):
            left = self.value_type(node.left, depth + 1)
            if isinstance(node.op, ast.Mod) and left is str:
                return str
            if isinstance(node.op, ast.Add) and left in (str, bytes) and self.value_type(node.right, depth + 1) is left:
                return left
            return None
        if isinstance(node, ast.Call):
            for builtin in _BUILTIN_TYPES:
                if self.names.is_builtin(node.func, builtin.__name__):
                    return builtin
            name = self.names.call_name(node)
            if name == "json.dumps":
                return str
            if name in BYTES_CALLS:
                return bytes
            func = node.func
            if isinstance(func, ast.Attribute):
                receiver = self.value_type(func.value, depth + 1)
                if receiver is str and func.attr == "encode":
                    return bytes
                if receiver is bytes and func.attr == "decode":
                    return str
                if receiver is str and func.attr in ("format", "join", "upper", "lower", "strip", "replace", "title"):
                    return str
        if isinstance(node, ast.Name) or (isinstance(node, (ast.Attribute, ast.Call, ast.Await)) and self._followable(node)):
            values = self.flow.values(node)
            if not values or values == (node,):
                return None
            types = {self.value_type(v, depth + 1) if not isinstance(v, ast.Name) else None for v in values}
            return types.pop() if len(types) == 1 else None
        return None

    # ------------------------------------------------------------------ consumers
    def consumer_methods(self, consumer) -> frozenset[str] | None:
        """Every method the consumer's classes define above Channels: its own and its local
        bases', its project bases' (from the project index, when the index can read every
        consumer base) and ``channels_lint.runtime`` mixins' (read from that package);
        ``None`` when a base is unknown (a library's mixin may define anything)."""
        from channels_lint.project.index import runtime_methods  # the project package imports analysis

        cache = self.__dict__.setdefault("_consumer_methods", {})
        if consumer.node in cache:
            return cache[consumer.node]
        methods: set[str] | None = set(self.names.class_methods(consumer.node))
        project = self.consumers.project if self.consumers is not None else None
        for klass in self.names.local_mro(consumer.node):
            for base in klass.bases:
                qualified = self.names.qualname(base) or "?"
                last = qualified.rsplit(".", 1)[-1]
                if (
                    qualified in CONSUMER_BASES
                    or qualified == "object"
                    or (isinstance(base, ast.Name) and base.id in self.names.classes)
                ):
                    continue
                if qualified.startswith("channels_lint.runtime."):
                    inherited = runtime_methods(last)
                elif project is not None and project.root is not None and not qualified.startswith(("channels.", "django.")):
                    fact = project.consumer(last)
                    readable = project.consumer_handlers.readable if fact is not None else False
                    inherited = fact.methods if fact is not None and readable else None
                else:
                    inherited = None
                if inherited is None:
                    methods = None
                    break
                methods |= inherited
            if methods is None:
                break
        cache[consumer.node] = frozenset(methods) if methods is not None else None
        return cache[consumer.node]

    def json_base(self, consumer) -> str | None:
        """The Channels JSON consumer class in the consumer's bases (``consumer.base`` names
        the first Channels base found, which for ``class C(Base, AsyncJsonWebsocketConsumer)``
        with ``Base`` a websocket consumer is not the JSON one), else ``None``."""
        if consumer.base in JSON_CONSUMER_BASES:
            return consumer.base
        for klass in self.names.local_mro(consumer.node):
            for base in klass.bases:
                if self.names.qualname(base) in JSON_CONSUMER_BASES:
                    return self.names.qualname(base)
        return None

    # ------------------------------------------------------------------ JSON encoders
    def encodes_plainly(self, consumer) -> bool:
        """Whether ``send_json`` of this consumer encodes with Channels' plain
        ``json.dumps``: a JSON consumer whose classes, all known, define neither
        ``encode_json`` nor ``send_json`` (docs/semantics.md §2.4)."""
        if self.json_base(consumer) is None:
            return False
        methods = self.consumer_methods(consumer)
        return methods is not None and not methods & {"encode_json", "send_json"}

    @functools.cached_property
    def json_sinks(self) -> list[JsonSink]:
        """Calls in consumer code that encode a value as JSON: ``self.send_json(value)`` on a
        JSON consumer encoding plainly, ``json.dumps(value)`` without ``cls=``/``default=`` and
        ``JsonResponse(value)`` without ``encoder=``, in a consumer class or in a module
        function of a module that defines consumers."""
        found: list[JsonSink] = []
        if self.consumers is None or not self.consumers.by_class:
            return found
        for call in self.syntax.nodes(ast.Call):
            if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            value = call.args[0] if call.args else None
            name = self.names.call_name(call)
            if name == "json.dumps":
                value = value or _keyword(call, "obj")
                if value is None or any(k.arg in JSON_ENCODER_KEYWORDS for k in call.keywords) or not self._consumer_code(call):
                    continue
                found.append(JsonSink(call=call, value=value, kind=SinkKind.JSON_DUMPS, to_client=self.is_text_frame(call)))
            elif name in ("django.http.JsonResponse", "django.http.response.JsonResponse"):
                value = value or _keyword(call, "data")
                if value is None or _keyword(call, "encoder") is not None or not self._consumer_code(call):
                    continue
                found.append(JsonSink(call=call, value=value, kind=SinkKind.JSON_RESPONSE, to_client=True))
            elif self._is_send_json(call):
                value = value or _keyword(call, "content")
                if value is not None:
                    found.append(JsonSink(call=call, value=value, kind=SinkKind.SEND_JSON, to_client=True))
        return found

    def _consumer_code(self, node: ast.AST) -> bool:
        if self.consumers.of(node) is not None:
            return True
        return self.syntax.enclosing_class(node) is None and not isinstance(self.syntax.enclosing_scope(node), ast.Module)

    def _is_send_json(self, call: ast.Call) -> bool:
        """``self.send_json(...)``/``super().send_json(...)`` in a JSON consumer whose
        ``send_json`` encodes with plain ``json.dumps``."""
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != "send_json":
            return False
        receiver = func.value
        is_self = isinstance(receiver, ast.Name) and receiver.id == "self"
        is_super = isinstance(receiver, ast.Call) and self.names.is_builtin(receiver.func, "super")
        if not (is_self or is_super):
            return False
        consumer = self.consumers.of(call)
        return consumer is not None and self.encodes_plainly(consumer)

    def websocket_send(self, call: ast.Call) -> bool:
        """``self.send(...)`` of a websocket consumer (``send(text_data=None, bytes_data=None,
        close=False)``, websocket.py)."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "send" and isinstance(func.value, ast.Name)):
            return False
        if func.value.id != "self" or self.consumers is None:
            return False
        consumer = self.consumers.of(call)
        if consumer is None or consumer.base not in WEBSOCKET_SEND_BASES:
            return False
        methods = self.consumer_methods(consumer)
        return methods is not None and "send" not in methods

    def is_text_frame(self, node: ast.expr) -> bool:
        """Whether ``node`` is passed as ``text_data`` (by keyword or first position) to a
        websocket consumer's ``self.send``."""
        parent = self.syntax.parents.get(node)
        if isinstance(parent, ast.keyword) and parent.arg == "text_data":
            call = self.syntax.parents.get(parent)
            return isinstance(call, ast.Call) and self.websocket_send(call)
        return isinstance(parent, ast.Call) and parent.args[:1] == [node] and self.websocket_send(parent)

    # ------------------------------------------------------------------ event types
    def type_values(self, shape: DictShape) -> tuple[ast.expr, ...] | None:
        """What the ``"type"`` of an event may be: the values any path stores under
        ``"type"``, followed through names (``{"type": EVENT}`` with ``EVENT = "chat.message"``);
        ``None`` when one is unknown, or the dict may get entries the analysis cannot see."""
        if shape.open:
            return None
        found: list[ast.expr] = []
        for value in shape.values_of("type"):
            values = self.flow.values(value)
            if values is None:
                return None
            found.extend(values)
        return tuple(dict.fromkeys(found))

    # ------------------------------------------------------------------ event handlers
    def passes_on(self, handler: ast.FunctionDef | ast.AsyncFunctionDef, key: object, renamed: bool = False) -> bool:
        """Whether the event handler only hands ``event[key]`` on to a plain JSON encoder.

        Every use of the handler's event parameter must be: ``event[k]``/``event.get(k)`` for
        another constant ``k``; ``event[key]``/``event.get(key)`` (not when the key itself is
        ``renamed``) or the whole event, reaching ``json.dumps`` (no ``cls=``/``default=``)
        or ``self.send_json`` of a consumer that encodes plainly, directly, inside dict/list
        literals, or through a local name used only that way.  The encoder rejects the
        original value, so the sender converting it gives the receiver's output the only
        meaning it could have."""
        positional = [*handler.args.posonlyargs, *handler.args.args]
        if len(positional) != 2 or handler.decorator_list or handler.args.vararg or handler.args.kwarg:
            return False
        name = positional[1].arg
        loads = [n for n in ast.walk(handler) if isinstance(n, ast.Name) and n.id == name]
        for load in loads:
            if not isinstance(load.ctx, ast.Load) or not self._passes_on(load, key, renamed):
                return False
        return True

    def _passes_on(self, load: ast.Name, key: object, renamed: bool) -> bool:
        parent = self.syntax.parents.get(load)
        accessed: tuple[bool, object] | None = None
        if isinstance(parent, ast.Subscript) and parent.value is load:
            if not isinstance(parent.slice, ast.Constant) or not isinstance(parent.ctx, ast.Load):
                return False
            accessed, expression = (True, parent.slice.value), parent
        elif isinstance(parent, ast.Attribute) and parent.value is load:
            call = self.syntax.parents.get(parent)
            if parent.attr != "get" or not isinstance(call, ast.Call) or call.func is not parent:
                return False
            if not call.args or not isinstance(call.args[0], ast.Constant):
                return False
            accessed, expression = (True, call.args[0].value), call
        if accessed is not None:
            value = accessed[1]
            if type(value) is not type(key) or value != key:
                return True  # another key: untouched by the conversion
            return not renamed and self._reaches_json(expression, 0)
        return self._reaches_json(load, 0)

    def _reaches_json(self, node: ast.expr, depth: int) -> bool:
        parents = self.syntax.parents
        while True:
            parent = parents.get(node)
            inside_dict = isinstance(parent, ast.Dict) and any(v is node for v in parent.values)
            if inside_dict or isinstance(parent, (ast.List, ast.Tuple)) and isinstance(parent.ctx, ast.Load):
                node = parent
            elif (
                isinstance(parent, ast.keyword)
                and isinstance(parents.get(parent), ast.Call)
                and self.names.is_builtin(parents[parent].func, "dict")
            ):
                node = parents[parent]
            else:
                break
        if isinstance(parent, (ast.Call, ast.keyword)):
            call = parent if isinstance(parent, ast.Call) else parents.get(parent)
            if not isinstance(call, ast.Call):
                return False
            first = call.args[:1] == [node] or (isinstance(parent, ast.keyword) and parent.arg in ("obj", "content"))
            if not first:
                return False
            if self.names.call_name(call) == "json.dumps":
                return not any(k.arg in JSON_ENCODER_KEYWORDS or k.arg is None for k in call.keywords)
            return self._is_send_json(call)
        if (
            isinstance(parent, ast.Assign)
            and parent.value is node
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
            and depth < 3
        ):
            variable = parent.targets[0].id
            scope = self.syntax.enclosing_scope(parent)
            if len(self.flow.bindings.bindings_in(scope, variable)) != 1:
                return False
            loads = [n for n in self.names.loads_by_name[0].get(variable, ()) if self.syntax.enclosing_scope(n) is scope]
            return all(self._reaches_json(n, depth + 1) for n in loads)
        return False


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


__all__ = ["JsonSink", "Payloads", "SinkKind", "UnsafeValue"]
