"""The rule model: a rule keeps its code, message, docs and examples in one class.

Docs are the class docstring in ruff's format (``## What it does``, ``## Why is this bad?``,
``## Example`` + ``Use instead:``, ``## Fix safety``, optional ``## Known problems``).
``valid`` and ``invalid`` examples feed the generated tests in ``tests/test_rule_examples.py``:
each line of an invalid example that must be reported ends with ``# error``, and
``Invalid.fixed`` is the exact output of ``channels-lint fix`` when the rule has a fix.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from channels_lint.analysis import QUERYSET_SQL_METHODS, DbOperation, ModuleAnalysis
from channels_lint.diagnostics import (
    Applicability,
    AwaitAsyncMethod,
    CallThrough,
    Edit,
    Fix,
    MakeAsync,
    Violation,
    WrapIn,
)

DB_SYNC_TO_ASYNC = ("channels.db", "database_sync_to_async")
SOO = "raises SynchronousOnlyOperation on the event loop"

#: Async twins and the Django version that added them (channels-semantics.md §4.1, §3.3).
QUERYSET_TWINS = dict.fromkeys(QUERYSET_SQL_METHODS, (4, 1))  # every one has an a* twin since 4.1
INSTANCE_TWINS = {"save": (4, 2), "delete": (4, 2), "refresh_from_db": (4, 2)}
RELATED_TWINS = {
    "add": (4, 2),
    "set": (4, 2),
    "remove": (4, 2),
    "clear": (4, 2),
    "create": (4, 1),
    "get_or_create": (4, 1),
    "update_or_create": (4, 1),
}
USER_TWINS = dict.fromkeys(
    ["has_perm", "has_perms", "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions"],
    (5, 2),
)
SESSION_TWINS = {"save": (5, 1), "flush": (5, 1), "cycle_key": (5, 1), "delete": (5, 1)}
FUNCTION_TWINS = {
    "django.contrib.auth.authenticate": (5, 0),
    "django.contrib.auth.login": (5, 0),
    "django.contrib.auth.logout": (5, 0),
    "django.contrib.auth.get_user": (5, 0),
    "django.contrib.auth.update_session_auth_hash": (5, 0),
}

REGISTRY: dict[str, type[Rule]] = {}


def _rename(edit: Edit, name: str, alias: str) -> Edit:
    """The edit with the identifier ``name`` replaced by ``alias`` in its code fields
    (``wrapper``, ``func``, ``decorator``, ``name``)."""
    changes = {
        field.name: re.sub(rf"\b{re.escape(name)}\b", alias, getattr(edit, field.name))
        for field in dataclasses.fields(edit)
        if isinstance(getattr(edit, field.name), str)
    }
    return dataclasses.replace(edit, **changes)


@dataclass(frozen=True)
class Invalid:
    """An example that must be reported on every line marked ``# error``."""

    source: str
    fixed: str | None = None


class Rule:
    """Base class of every rule; subclasses register themselves by ``code``."""

    code: ClassVar[str]
    name: ClassVar[str]
    #: Which fix the rule offers, if any (``None``: report only).
    fix_applicability: ClassVar[Applicability | None] = None
    #: Text that must occur in a file for the rule to find anything: any one of the markers,
    #: where a tuple marker needs all its parts.  The engine skips files that contain none
    #: of the enabled rules' markers, unparsed.
    markers: ClassVar[tuple[str | tuple[str, ...], ...]] = ()
    valid: ClassVar[tuple[str, ...]] = ()
    invalid: ClassVar[tuple[Invalid, ...]] = ()
    #: ``models.py`` of the project the examples (docs included) live in, for rules that
    #: need the models index; tests lint the examples as ``consumers.py`` beside it.
    example_models: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            if cls.code in REGISTRY:
                raise ValueError(f"duplicate rule code {cls.code}")
            REGISTRY[cls.code] = cls

    def __init__(self, analysis: ModuleAnalysis) -> None:
        self.analysis = analysis

    def check(self) -> Iterator[Violation]:  # pragma: no cover - every rule overrides it
        raise NotImplementedError

    def violation(
        self,
        node: ast.AST,
        message: str,
        edits: tuple[Edit, ...] = (),
        title: str = "",
        imports: tuple[tuple[str, str], ...] = (),
        unused_imports: tuple[tuple[str, str], ...] = (),
    ) -> Violation:
        """A violation at ``node``; with ``edits`` it carries this rule's fix.

        ``imports`` are ``(module, name)`` pairs the edits use by ``name``.  Where the module
        already imports it under an alias, the edits use the alias and nothing is imported;
        where ``name`` already means something else, the fix is dropped.
        """
        a = self.analysis
        line, col, _, _ = a.span(node)
        fix = None
        needed = []
        for module, name in imports:
            alias = next((local for local, target in a.imports.items() if target == f"{module}.{name}"), None)
            if alias is not None and alias != name:
                edits = tuple(_rename(edit, name, alias) for edit in edits)
            elif alias is None and a.binds_elsewhere(name, f"{module}.{name}"):
                edits = ()  # the name the fix would import already means something else here
            elif alias is None:
                needed.append((module, name))
        if edits:
            assert self.fix_applicability is not None, f"{self.code} has edits but no fix_applicability"
            fix = Fix(title, tuple(edits), self.fix_applicability, tuple(needed), unused_imports)
        return Violation(self.code, line, col, message, fix)

    def async_to_sync_violation(self, call: ast.Call, message: str, title: str) -> Violation:
        """A violation at ``call`` in sync code whose fix runs it as ``async_to_sync(f)(args)``."""
        return self.violation(
            call,
            message,
            (CallThrough(self.analysis.span(call), "async_to_sync", awaited=False),),
            title,
            (("asgiref.sync", "async_to_sync"),),
        )

    def operation_violation(self, operation: DbOperation) -> Violation:
        """A violation for a database operation on the event loop, with the fix the
        settings ask for: ``await database_sync_to_async(f)(args)`` (default), or the native
        ``a*`` method (``--orm-style=async-methods``) where the target Django has it."""
        a = self.analysis
        node = operation.node
        message = f"{operation.what}, which {SOO}"
        if not (a.can_await_here(node) and not a.is_awaited(node)) or operation.shape == "none":
            return self.violation(node, message + "; move it into a `@database_sync_to_async` function")
        twin = self._async_twin(operation)
        if twin is not None:
            name, imports = twin
            return self.violation(
                node,
                message + f"; use `await {self._twin_callee(node, name)}(...)`",
                (AwaitAsyncMethod(a.span(node), name),),
                f"Use the async method `{name}`",
                imports,
            )
        if operation.shape == "iterate":
            loop = a.parents.get(node)
            is_iterator = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "iterator"
            if (
                a.settings.orm_style == "async-methods"
                and a.settings.django_version >= (4, 1)
                and isinstance(loop, ast.For)
                and loop.iter is node
                and not is_iterator  # `async for` needs aiterator(), not iterator()
            ):
                return self.violation(node, message + "; use `async for`", (MakeAsync(a.span(loop)),), "Use `async for`")
            return self.violation(
                node,
                message + "; use `async for` or `await database_sync_to_async(list)(...)`",
                (WrapIn(a.span(node), "database_sync_to_async(list)", awaited=True),),
                "Evaluate the queryset with `database_sync_to_async(list)`",
                (DB_SYNC_TO_ASYNC,),
            )
        assert isinstance(node, ast.Call)
        return self.violation(
            node,
            message + f"; use `await database_sync_to_async({a.source(node.func)})(...)`",
            (CallThrough(a.span(node), "database_sync_to_async"),),
            "Run the call through `database_sync_to_async`",
            (DB_SYNC_TO_ASYNC,),
        )

    def _twin_callee(self, call: ast.expr, name: str) -> str:
        func = call.func if isinstance(call, ast.Call) else None
        if isinstance(func, ast.Attribute):
            return f"{self.analysis.source(func.value)}.{name}"
        return name

    def _async_twin(self, operation: DbOperation) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        """``(name, imports)`` of the native async method to call instead, if the settings
        ask for it and the target Django has it."""
        settings = self.analysis.settings
        if settings.orm_style != "async-methods" or operation.shape != "call":
            return None
        method, evidence = operation.method, operation.evidence
        if operation.func_name in FUNCTION_TWINS:
            module, _, name = operation.func_name.rpartition(".")
            if settings.django_version >= FUNCTION_TWINS[operation.func_name]:
                return "a" + name, ((module, "a" + name),)
            return None
        if evidence is None:
            table = SESSION_TWINS if operation.family == "api" else {}
        elif evidence.kind.name == "INSTANCE":
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

    @classmethod
    def docs(cls) -> str:
        """The rule's documentation (Markdown)."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_examples(cls) -> tuple[str, str]:
        """The ``## Example`` code and the ``Use instead:`` code from the docs."""
        blocks = re.findall(r"```python\n(.*?)```", cls.docs(), flags=re.S)
        if len(blocks) < 2:
            raise ValueError(f"{cls.code} docs need an Example and a Use instead block")
        return blocks[0], blocks[1]

    @classmethod
    def summary(cls) -> str:
        """First sentence of ``## What it does``, up to its first colon or full stop."""
        match = re.search(r"## What it does\n(.*?)(?:\n\n|$)", cls.docs(), flags=re.S)
        if match is None:
            return cls.name
        text = " ".join(match.group(1).split())
        return re.split(r"(?<=[a-z)`])(?::|\.)\s", text, maxsplit=1)[0].rstrip(".")
