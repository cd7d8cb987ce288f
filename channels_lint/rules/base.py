"""The rule model: a rule keeps its code, message, docs and examples in one class.

Docs are the class docstring in ruff's format (``## What it does``, ``## Why is this bad?``,
``## Example`` + ``Use instead:``, ``## Fix safety``, optional ``## Known problems``).
``valid`` and ``invalid`` examples feed the generated tests in ``tests/test_rule_examples.py``:
each line of an invalid example that must be reported ends with ``# error`` (``# error: COL``
pins the column), ``Invalid.fixed`` is the exact output of ``channels-lint fix`` when the rule
has a fix, and ``Invalid.messages`` pins the messages.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from channels_lint.analysis import ModuleAnalysis
from channels_lint.diagnostics import Applicability, CallThrough, Edit, Fix, Violation

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
    """An example that must be reported on every line marked ``# error`` (or ``# error: COL``,
    the 1-based column flake8 prints, when the column matters).

    ``fixed`` is the exact output of ``channels-lint fix --unsafe-fixes --select CODE``;
    ``messages``, when given, the exact messages of the rule's findings in report order.
    """

    source: str
    fixed: str | None = None
    messages: tuple[str, ...] = ()


class Rule:
    """Base class of every rule; subclasses register themselves by ``code``."""

    code: ClassVar[str]
    name: ClassVar[str]
    #: Which fix the rule offers, if any (``None``: report only).  A rule declaring
    #: ``UNSAFE`` may mark single fixes ``SAFE`` where it proves them (``violation(...,
    #: applicability=...)``); the declared value is the least safe fix it offers.
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
        applicability: Applicability | None = None,
    ) -> Violation:
        """A violation at ``node``; with ``edits`` it carries this rule's fix, marked
        ``applicability`` (default: the rule's ``fix_applicability``; only a rule declaring
        ``UNSAFE`` may mark a fix it proved ``SAFE``).

        ``imports`` are ``(module, name)`` pairs the edits use by ``name``.  Where the module
        already imports it under an alias, the edits use the alias and nothing is imported;
        where ``name`` already means something else, the fix is dropped.
        """
        names = self.analysis.names
        line, col, _, _ = self.analysis.syntax.span(node)
        fix = None
        needed = []
        for module, name in imports:
            alias = next((local for local, target in names.imports.items() if target == f"{module}.{name}"), None)
            if alias is not None and alias != name:
                edits = tuple(_rename(edit, name, alias) for edit in edits)
            elif alias is None and names.binds_elsewhere(name, f"{module}.{name}"):
                edits = ()  # the name the fix would import already means something else here
            elif alias is None:
                needed.append((module, name))
        if edits:
            assert self.fix_applicability is not None, f"{self.code} has edits but no fix_applicability"
            assert applicability in (None, self.fix_applicability) or self.fix_applicability is Applicability.UNSAFE
            fix = Fix(title, tuple(edits), applicability or self.fix_applicability, tuple(needed), unused_imports)
        return Violation(self.code, line, col, message, fix)

    def async_to_sync_violation(self, call: ast.Call, message: str, title: str) -> Violation:
        """A violation at ``call`` in sync code whose fix runs it as ``async_to_sync(f)(args)``."""
        return self.violation(
            call,
            message,
            (CallThrough(self.analysis.syntax.span(call), "async_to_sync", awaited=False),),
            title,
            (("asgiref.sync", "async_to_sync"),),
        )

    @classmethod
    def docs(cls) -> str:
        """The rule's documentation (Markdown)."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_examples(cls) -> tuple[str, str]:
        """The ``## Example`` code and the ``Use instead:`` code from the docs."""
        blocks = re.findall(r"```python\n(.*?)```", cls.docs(), flags=re.DOTALL)
        if len(blocks) < 2:
            raise ValueError(f"{cls.code} docs need an Example and a Use instead block")
        return blocks[0], blocks[1]

    @classmethod
    def summary(cls) -> str:
        """First sentence of ``## What it does``, up to its first colon or full stop."""
        match = re.search(r"## What it does\n(.*?)(?:\n\n|$)", cls.docs(), flags=re.DOTALL)
        if match is None:
            return cls.name
        text = " ".join(match.group(1).split())
        return re.split(r"(?<=[a-z)`])(?::|\.)\s", text, maxsplit=1)[0].rstrip(".")
