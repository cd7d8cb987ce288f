"""What the ORM rules (CHN101, CHN102, CHN103, CHN109) share: the words for a database
operation and the one fix policy (``database_sync_to_async``, or the native ``a*`` method the
target Django has, docs/semantics.md §4.1).  Not a rule module: rules import it."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from channels_lint.analysis import DbEffect, DbOperation, Family, FixShape, ModuleAnalysis, OpKind, Orm
from channels_lint.analysis.facts import (
    FUNCTION_TWINS,
    INSTANCE_TWINS,
    QUERYSET_TWINS,
    RELATED_TWINS,
    SESSION_TWINS,
    USER_TWINS,
)
from channels_lint.diagnostics import AwaitAsyncMethod, CallThrough, MakeAsync, Violation, WrapIn

DB_SYNC_TO_ASYNC = ("channels.db", "database_sync_to_async")
SOO = "raises SynchronousOnlyOperation on the event loop"

_EFFECTS = {
    DbEffect.QUERIES_USERS: "queries the user table",
    DbEffect.WRITES_SESSION_AND_LAST_LOGIN: "writes the session and the user's last_login",
    DbEffect.FLUSHES_SESSION: "flushes the session in the database",
    DbEffect.QUERIES_SESSION_AND_USER: "queries the session and the user",
    DbEffect.WRITES_SESSION: "writes the session",
    DbEffect.OPENS_CURSOR: "opens a database cursor",
}


def operations_on_loop(a: ModuleAnalysis, family: Family) -> Iterator[DbOperation]:
    """The database operations of ``family`` that run on the event loop, unless the project
    runs this file with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set (then Django raises nothing)."""
    if a.async_unsafe_allowed:
        return
    for operation in a.db.loop_operations:
        if operation.family is family:
            yield operation


def describe(a: ModuleAnalysis, operation: DbOperation) -> str:
    """``"`Note.objects.get()` runs a database query"``: what the operation does, quoting the
    user's own spelling, and the evidence where only the code's shape gives it."""
    text = _describe(a, operation)
    evidence = operation.evidence
    source = a.syntax.source
    if evidence is not None and evidence.hop is not None:
        text += f" (`{source(evidence.hop)}` returned the queryset unevaluated: only the thread hop ran there)"
    elif operation.inferred and operation.kind is not OpKind.LAZY_RELATION and evidence is not None and evidence.relation:
        text += f" (`.{evidence.relation}` looks like a related manager: the models index does not know its model)"
    return text


def _describe(a: ModuleAnalysis, operation: DbOperation) -> str:
    source = a.syntax.source
    node, kind = operation.node, operation.kind
    subject = f"`{source(operation.subject)}`" if operation.subject is not None else ""
    if kind is OpKind.SYNC_ONLY_CALL:
        return f"`{source(node.func)}()` {_EFFECTS[operation.effect]}"
    if kind is OpKind.QUERY_FUNCTION:
        return f"`{source(node.func)}()` runs a database query"
    if kind is OpKind.SESSION_WRITE:
        return f"`{source(node.func)}()` writes the session to the database"
    if kind is OpKind.CURSOR:
        return f"`{source(node.func)}()` opens a database cursor"
    if kind is OpKind.RELATED_WRITE:
        return f"`{source(node.func)}()` writes through a related manager"
    if kind is OpKind.USER_PERMISSION:
        return f"`{source(node.func)}()` reads permissions from the database"
    if kind is OpKind.METHOD:
        return f"`{source(node.func)}()` runs a database query"
    if kind is OpKind.EVALUATE:
        return f"`{operation.builtin}()` evaluates the queryset {subject}"
    if kind is OpKind.ITERATE:
        return f"iterating the queryset {subject} runs a query"
    if kind is OpKind.MEMBERSHIP:
        return f"`in` evaluates the queryset {subject}"
    if kind is OpKind.INDEX:
        return f"indexing the queryset `{source(operation.subject)}` runs a query"
    if kind is OpKind.UNPACK:
        return f"unpacking the queryset {subject} runs a query"
    if kind is OpKind.FORMAT:
        return f"formatting the queryset {subject} runs a query"
    if kind is OpKind.TRUTH:
        return f"testing the truth of the queryset {subject} runs a query"
    if kind is OpKind.LAZY_RELATION and operation.witness is not None:
        return (
            f"`{source(node)}` looks like a relation (`.{operation.witness}` is read on it, and no field value has "
            "that attribute) and loads the related object with a query"
        )
    if kind is OpKind.LAZY_RELATION:
        return f"`{source(node)}` loads the related {operation.target} with a query"
    if kind is OpKind.ATOMIC_BLOCK:
        return f"`{source(node)}` opens a database transaction"
    if kind is OpKind.REQUEST_USER:
        return (
            f"`{source(node)}` is a lazy object: its first use loads the session and the user from the database"
        )
    if kind is OpKind.SERIALIZER and operation.method == "data":
        return f"`{source(node)}` serializes every row of a queryset with database queries"
    if kind is OpKind.SERIALIZER:
        return f"`{source(node.func)}()` of a DRF ModelSerializer writes to the database"
    if kind is OpKind.ATOMIC_DECORATOR:
        return f"`@{source(node)}` on a coroutine function opens a database transaction"
    raise AssertionError(f"no words for {kind}")  # pragma: no cover - every kind is handled


def operation_violation(rule, operation: DbOperation) -> Violation:
    """A violation of ``rule`` for a database operation on the event loop, with the fix the
    settings ask for: ``await database_sync_to_async(f)(args)`` (default), or the native
    ``a*`` method (``--orm-style=async-methods``) where the target Django has it."""
    a = rule.analysis
    node = operation.node
    span = a.syntax.span
    message = f"{describe(a, operation)}, which {SOO}"
    if operation.kind is OpKind.REQUEST_USER:
        advice = "use `user = await request.auser()`" if a.settings.django_version >= (5, 0) else "read it in `sync_to_async`"
        return rule.violation(node, f"{message}; {advice}")
    if not (a.context.can_await_here(node) and not a.syntax.is_awaited(node)) or operation.shape is FixShape.NONE:
        return rule.violation(node, message + "; move it into a `@database_sync_to_async` function")
    twin = _async_twin(a, operation)
    if twin is not None:
        name, imports = twin
        return rule.violation(
            node,
            message + f"; use `await {_twin_callee(a, node, name)}(...)`",
            (AwaitAsyncMethod(span(node), name),),
            f"Use the async method `{name}`",
            imports,
        )
    if operation.shape is FixShape.ITERATE:
        loop = a.syntax.parents.get(node)
        is_iterator = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "iterator"
        if (
            a.settings.orm_style == "async-methods"
            and a.settings.django_version >= (4, 1)
            and isinstance(loop, ast.For)
            and loop.iter is node
            and not is_iterator  # `async for` needs aiterator(), not iterator()
        ):
            return rule.violation(node, message + "; use `async for`", (MakeAsync(span(loop)),), "Use `async for`")
        return rule.violation(
            node,
            message + "; use `async for` or `await database_sync_to_async(list)(...)`",
            (WrapIn(span(node), "database_sync_to_async(list)", awaited=True),),
            "Evaluate the queryset with `database_sync_to_async(list)`",
            (DB_SYNC_TO_ASYNC,),
        )
    return rule.violation(
        node,
        message + f"; use `await database_sync_to_async({a.syntax.source(node.func)})(...)`",
        (CallThrough(span(node), "database_sync_to_async"),),
        "Run the call through `database_sync_to_async`",
        (DB_SYNC_TO_ASYNC,),
    )


def _twin_callee(a: ModuleAnalysis, call, name: str) -> str:
    func = call.func if isinstance(call, ast.Call) else None
    if isinstance(func, ast.Attribute):
        return f"{a.syntax.source(func.value)}.{name}"
    return name


def _async_twin(a: ModuleAnalysis, operation: DbOperation) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """``(name, imports)`` of the native async method to call instead, if the settings ask
    for it and the target Django has it (docs/semantics.md §4.1, §3.3)."""
    settings = a.settings
    if settings.orm_style != "async-methods" or operation.shape is not FixShape.CALL:
        return None
    method, evidence = operation.method, operation.evidence
    if operation.func_name in FUNCTION_TWINS:
        module, _, name = operation.func_name.rpartition(".")
        if settings.django_version >= FUNCTION_TWINS[operation.func_name]:
            return "a" + name, ((module, "a" + name),)
        return None
    if evidence is None:
        table = SESSION_TWINS if operation.kind is OpKind.SESSION_WRITE else {}
    elif evidence.kind is Orm.INSTANCE:
        table = USER_TWINS if method in USER_TWINS else INSTANCE_TWINS
    elif evidence.relation is not None:
        table = RELATED_TWINS
        if method in ("remove", "clear") and evidence.relation_kind not in ("m2m", "reverse-m2m"):
            # aremove/aclear exist on a reverse-FK manager only when the FK is nullable
            return None
    else:
        table = QUERYSET_TWINS
    if method in table and settings.django_version >= table[method]:
        return "a" + method, ()
    return None
