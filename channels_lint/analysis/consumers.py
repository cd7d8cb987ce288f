"""Consumers: the classes that derive from a Channels consumer, and their methods.

The kind is decided by the resolved Channels base (docs/semantics.md §2.1), through base
classes of this module and, via the project index, project base classes and mixins defined
in other modules, never by the class name.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from channels_lint.analysis.facts import CONSUMER_BASES, CONSUMER_METHODS
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax


@dataclass(frozen=True)
class Consumer:
    """A class the analysis proved to be a Channels consumer.

    ``base`` is the qualified name of the Channels class it derives from; ``inherited`` the
    method names its project bases in other modules define (from the project index).
    """

    node: ast.ClassDef
    is_async: bool
    base: str
    inherited: frozenset[str] = frozenset()

    @property
    def channels_methods(self) -> frozenset[str]:
        """The methods Channels defines on the base (coroutines on the async bases)."""
        return CONSUMER_METHODS[self.base]


class Consumers:
    """Consumer classes of one module (see the module docstring).

    Args:
        project: the project index, or ``None`` to resolve bases within the module only.
    """

    def __init__(self, syntax: Syntax, names: Names, project=None) -> None:
        self.syntax = syntax
        self.names = names
        self.project = project

    @functools.cached_property
    def by_class(self) -> dict[ast.ClassDef, Consumer]:
        """Module-level and nested classes that derive from a Channels consumer."""
        found: dict[ast.ClassDef, Consumer] = {}
        local: dict[str, list[ast.ClassDef]] = {}
        for node in self.syntax.nodes(ast.ClassDef):
            local.setdefault(node.name, []).append(node)

        # memoised per class: many same-named classes (``class C(B)`` again and again, as
        # test modules write them) made the search exponential; a cycle resolves to nothing
        resolved: dict[ast.ClassDef, Consumer | None] = {}

        def resolve(cls: ast.ClassDef, seen: frozenset[str]) -> Consumer | None:
            if cls not in resolved:
                resolved[cls] = None
                resolved[cls] = resolve_bases(cls, seen)
            return resolved[cls]

        def resolve_bases(cls: ast.ClassDef, seen: frozenset[str]) -> Consumer | None:
            for base in cls.bases:
                qualified = self.names.qualname(base)
                if qualified in CONSUMER_BASES:
                    return Consumer(cls, CONSUMER_BASES[qualified], qualified)
                if isinstance(base, ast.Name) and base.id in local and base.id not in self.names.imports:
                    if base.id in seen:
                        continue
                    for candidate in local[base.id]:
                        inherited = resolve(candidate, seen | {base.id})
                        if inherited is not None:
                            return Consumer(cls, inherited.is_async, inherited.base, inherited.inherited)
                    continue
                fact = self._project_consumer(qualified)
                if fact is not None:
                    return Consumer(cls, fact.is_async, fact.base, fact.methods)
            return None

        for node in self.syntax.nodes(ast.ClassDef):
            consumer = resolve(node, frozenset({node.name}))
            if consumer is not None:
                found[node] = consumer
        return found

    def _project_consumer(self, qualified: str | None):
        """A base imported from another module of the project (``from .base import
        BaseConsumer``), when the project index knows exactly one consumer of that name."""
        if self.project is None or not qualified or qualified.startswith(("channels.", "django.")):
            return None
        if not self._may_use_channels:
            return None  # a module that never names a consumer nor Channels defines none: skip the index
        return self.project.consumer(qualified.rsplit(".", 1)[-1])

    @functools.cached_property
    def _may_use_channels(self) -> bool:
        """Cheap gate before the project index is read: the module's text names a consumer
        (``...Consumer``, ``consumers``) or Channels somewhere."""
        return any("onsumer" in line or "channels" in line for line in self.syntax.lines)

    def of(self, node: ast.AST) -> Consumer | None:
        """The consumer whose method contains ``node`` (directly), else ``None``."""
        cls = self.syntax.enclosing_class(node)
        return self.by_class.get(cls) if cls is not None else None

    def defines(self, consumer: Consumer, name: str) -> bool:
        """Whether the consumer, its local bases or its project bases define method ``name``."""
        return name in self.names.class_methods(consumer.node) or name in consumer.inherited
