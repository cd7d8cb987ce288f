"""What the payload rules (CHN201-CHN206) share: the words for a kind of value, the in-place
conversions and their safety, and which event handlers the project has (docs/semantics.md
§2.3, §5.3, §6.1).  Not a rule module: rules import it."""

from __future__ import annotations

import ast

from channels_lint.analysis import ModuleAnalysis, PayloadKind, UnsafeValue
from channels_lint.analysis.facts import BYTES_CALLS, CHANNELS_BASE_HANDLERS, CONSUMER_BASES
from channels_lint.diagnostics import CallMethod, Edit, GetAttribute, ReplaceWith, WrapIn
from channels_lint.project.index import runtime_methods

SAFE_SERIALIZE = ("channels_lint.runtime", "safe_serialize")
RUNTIME_NOTE = "`channels_lint.runtime` must then be installed where this code runs"

#: What each kind of value is called.
NOUNS: dict[PayloadKind, str] = {
    PayloadKind.DATETIME: "a datetime",
    PayloadKind.DATE: "a date",
    PayloadKind.TIME: "a time",
    PayloadKind.TIMEDELTA: "a timedelta",
    PayloadKind.UUID: "a UUID",
    PayloadKind.DECIMAL: "a Decimal",
    PayloadKind.SET: "a set",
    PayloadKind.FROZENSET: "a frozenset",
    PayloadKind.MODEL_INSTANCE: "a model instance",
    PayloadKind.QUERYSET: "a QuerySet",
    PayloadKind.NON_STR_KEY: "not a str",
    PayloadKind.ENUM: "a member of a plain Enum",
    PayloadKind.LAZY_TEXT: "a lazy translation string",
    PayloadKind.BIG_INT: "an int outside 64 bits",
    PayloadKind.BYTES: "bytes",
    PayloadKind.BYTES_KEY: "bytes",
    PayloadKind.TUPLE_KEY: "a tuple",
    PayloadKind.TYPE_KEY: 'the builtin `type`, not the string "type"',
}

#: What to send instead, when no conversion is written for the user.
INSTEAD: dict[PayloadKind, str] = {
    PayloadKind.DATETIME: "`.isoformat()`",
    PayloadKind.DATE: "`.isoformat()`",
    PayloadKind.TIME: "`.isoformat()`",
    PayloadKind.TIMEDELTA: "`.total_seconds()`",
    PayloadKind.UUID: "`str(...)`",
    PayloadKind.DECIMAL: "`str(...)`",
    PayloadKind.SET: "`sorted(...)`",
    PayloadKind.FROZENSET: "`sorted(...)`",
    PayloadKind.MODEL_INSTANCE: "its `.pk` or the fields the receiver needs",
    PayloadKind.QUERYSET: "a list of values evaluated in a thread",
    PayloadKind.NON_STR_KEY: "str keys",
    PayloadKind.ENUM: "its `.value`",
    PayloadKind.LAZY_TEXT: "`str(...)`",
    PayloadKind.BIG_INT: "the number as a str",
    PayloadKind.BYTES: "text (`.decode()`, or base64 text)",
    PayloadKind.BYTES_KEY: "str keys",
    PayloadKind.TUPLE_KEY: "str keys",
    PayloadKind.TYPE_KEY: 'the key "type"',
}

_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)


def quote(a: ModuleAnalysis, node: ast.AST, limit: int = 60) -> str:
    """The node's source on one line, cut at ``limit`` characters."""
    text = a.syntax.source(node)
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def subject(a: ModuleAnalysis, unsafe: UnsafeValue) -> str:
    """``"`timezone.now()` is a datetime"``, ``"the key `1` is not a str"``, with the model
    field when the models index gave the kind."""
    spelled = quote(a, unsafe.node)
    if unsafe.kind is PayloadKind.TYPE_KEY:
        return f"the key `{spelled}` is {NOUNS[unsafe.kind]}"
    what = NOUNS[unsafe.kind] if unsafe.kind is not PayloadKind.NON_STR_KEY or not unsafe.field else "an int"
    if unsafe.field:
        what += f" (a `{unsafe.field}`)"
    return f"the key `{spelled}` is {what}" if unsafe.is_key else f"`{spelled}` is {what}"


def conversion(a: ModuleAnalysis, unsafe: UnsafeValue) -> tuple[tuple[Edit, ...], str] | None:
    """The in-place conversion of a value of known kind, with the fix's title, or ``None``:
    ``.isoformat()`` for datetimes, dates and times, ``str()`` for UUIDs, Decimals, lazy text
    and such keys, ``sorted()`` for sets, ``.pk`` for a model instance, ``.value`` for a plain
    Enum member with a literal value, ``"1"`` for the key ``1``, ``"type"`` for the builtin
    ``type``, ``.decode()`` for base64 bytes.  Only where every value the expression may
    hold is of the kind (a conversion must not meet ``None`` or another type)."""
    if not unsafe.definite:
        return None
    node, kind = unsafe.node, unsafe.kind
    span = a.syntax.span(node)
    if kind is PayloadKind.TYPE_KEY:
        return (ReplaceWith(span, '"type"'),), 'Write the key "type"'
    if unsafe.is_key:
        if kind is PayloadKind.NON_STR_KEY and isinstance(node, ast.Constant) and type(node.value) is int:
            return (ReplaceWith(span, f'"{node.value}"'),), f'Write the key as "{node.value}"'
        if kind in (PayloadKind.NON_STR_KEY, PayloadKind.UUID, PayloadKind.DECIMAL) and isinstance(node, _ATOMS):
            return (WrapIn(span, "str"),), "Convert the key with `str()`"
        return None
    if kind in (PayloadKind.DATETIME, PayloadKind.DATE, PayloadKind.TIME) and isinstance(node, _ATOMS):
        return (CallMethod(span, "isoformat"),), "Send `.isoformat()`"
    if kind in (PayloadKind.UUID, PayloadKind.DECIMAL, PayloadKind.LAZY_TEXT):
        return (WrapIn(span, "str"),), "Send `str(...)`"
    if kind in (PayloadKind.SET, PayloadKind.FROZENSET):
        return (WrapIn(span, "sorted"),), "Send `sorted(...)`"
    if kind is PayloadKind.MODEL_INSTANCE and isinstance(node, _ATOMS):
        return (GetAttribute(span, "pk"),), "Send the instance's `.pk`"
    if kind is PayloadKind.ENUM and isinstance(node, ast.Attribute):
        value = a.payloads.enum_member(node)
        if isinstance(value, ast.Constant) and isinstance(value.value, (str, int, float)) and not isinstance(value.value, bool):
            return (GetAttribute(span, "value"),), "Send the member's `.value`"
        return None
    if (
        kind is PayloadKind.BYTES
        and isinstance(unsafe.origin, ast.Call)
        and a.names.call_name(unsafe.origin) in BYTES_CALLS
        and isinstance(node, _ATOMS)
    ):
        return (CallMethod(span, "decode"),), "Send the base64 text (`.decode()`)"
    return None


def keeps_meaning(unsafe: UnsafeValue) -> bool:
    """Whether a conversion of this value can keep the code's meaning at all: not for a
    model field (it may be ``None``), a model instance (the receiver gets a key instead of
    the object) or an Enum member (``.value`` or ``.name``: the code must say)."""
    return unsafe.field is None and unsafe.kind not in (PayloadKind.MODEL_INSTANCE, PayloadKind.ENUM)


# ---------------------------------------------------------------------------- event handlers
def handler_name(event_type: str) -> str:
    """Channels' mapping of a ``"type"`` to a method name (consumer.py ``get_handler_name``)."""
    return event_type.replace(".", "_")


def dispatchable(event_type: str) -> bool:
    """Whether ``dispatch`` can ever call a method for this type: the name must not start
    with ``_`` (Channels refuses it) and must be an identifier (a ``def`` can define it)."""
    name = handler_name(event_type)
    return name.isidentifier() and not name.startswith("_")


def handler_exists(a: ModuleAnalysis, name: str) -> bool | None:
    """Whether some consumer of the project defines method ``name``: ``True``/``False``, or
    ``None`` when the project cannot tell (no project, an incomplete index, consumers or
    bases the index cannot read)."""
    if name in CHANNELS_BASE_HANDLERS:
        return True
    for consumer in a.consumers.by_class.values():
        if name in a.names.class_methods(consumer.node) or name in consumer.inherited:
            return True
        if name in _assigned(a, consumer.node):
            return True
    project = a.project
    if project.root is None or not project.complete:
        return None
    if not a.consumers.by_class and not project.consumers:
        return None  # no consumer in sight: the receivers live where the index cannot see
    handlers = project.consumer_handlers
    if not handlers.readable or not _module_readable(a):
        return None
    return name in handlers.defined_in


def _module_readable(a: ModuleAnalysis) -> bool:
    """This module's classes, as the text being linted has them, hide no handler: no
    consumer defines ``dispatch``/``__getattr__``, derives from a class neither Channels,
    this module nor the project index knows, and no class derives from an unknown
    ``*Consumer`` (a library's consumer)."""
    for cls in a.syntax.nodes(ast.ClassDef):
        consumer = a.consumers.by_class.get(cls)
        bases = [a.names.qualname(base) or "?" for base in cls.bases]
        if consumer is None:
            if any(b.rsplit(".", 1)[-1].endswith("Consumer") and not _known_base(a, b) for b in bases):
                return False
            continue
        if a.names.class_methods(cls).keys() & {"dispatch", "__getattr__", "__getattribute__"}:
            return False
        if not all(_known_base(a, b) for b in bases):
            return False
    return True


def _known_base(a: ModuleAnalysis, qualified: str) -> bool:
    if qualified in CONSUMER_BASES or qualified in ("object", "typing.Generic") or qualified in a.names.classes:
        return True
    if qualified.startswith("channels_lint.runtime."):
        return runtime_methods(qualified.rsplit(".", 1)[-1]) is not None
    return a.project.consumer(qualified.rsplit(".", 1)[-1]) is not None


def project_handlers(
    a: ModuleAnalysis, event_type: str | None
) -> list[tuple[ModuleAnalysis, ast.FunctionDef | ast.AsyncFunctionDef]] | None:
    """Every handler of ``event_type`` in the project, each with the analysis of its module
    (this module as linted, other modules as the project index read them); ``None`` when
    that cannot be known (no project, an incomplete or unreadable index, Channels' own
    method, a runtime mixin's) or no consumer handles the type."""
    if event_type is None:
        return None
    name = handler_name(event_type)
    project = a.project
    if name in CHANNELS_BASE_HANDLERS or project.root is None or not project.complete:
        return None
    handlers = project.consumer_handlers
    if not handlers.readable or not _module_readable(a):
        return None
    found: list[tuple[ModuleAnalysis, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for consumer in a.consumers.by_class.values():
        if name in _assigned(a, consumer.node):
            return None  # `handler = function`: not a method whose code is read here
        method = a.names.class_methods(consumer.node).get(name)
        if method is not None and all(method is not m for _, m in found):
            found.append((a, method))
    elsewhere = handlers.defined_in.get(name, frozenset()) - {a.path}
    definitions = [(path, node) for path, node in handlers.definitions.get(name, ()) if path != a.path]
    if {path for path, _ in definitions} != elsewhere:
        return None  # defined where the index keeps no code (channels_lint.runtime)
    for path, node in definitions:
        analysis = project.module_analysis(path)
        if analysis is None:
            return None
        found.append((analysis, node))
    return found or None


def _assigned(a: ModuleAnalysis, cls: ast.ClassDef) -> frozenset[str]:
    """Names the class and its local bases assign in their bodies (``chat_message = f``)."""
    return frozenset(
        target.id
        for klass in a.names.local_mro(cls)
        for statement in klass.body
        if isinstance(statement, (ast.Assign, ast.AnnAssign))
        for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
        if isinstance(target, ast.Name)
    )
