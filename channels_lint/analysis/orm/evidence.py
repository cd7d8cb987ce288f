"""ORM evidence as values: what an expression is (:class:`Orm`), how sure the analysis is
(:class:`Strength`), the model, the relations loaded and the relation a related manager came
through (:class:`Evidence`), and how evidence from several paths merges (:func:`merge`).
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, field

from channels_lint.analysis.facts import CACHING_METHODS, INFERRED_MANAGER_CALLS


def inferred_manager_call(call: ast.Call) -> bool:
    """A call only a manager or queryset answers (``.all()``, ``.filter(...)``, ``.count()``
    without arguments...); ``str.count(x)`` and ``dict.get(k)`` are not."""
    method = call.func.attr if isinstance(call.func, ast.Attribute) else None
    if method == "count":
        return not call.args and not call.keywords
    return method in INFERRED_MANAGER_CALLS


class Strength(enum.IntEnum):
    """How evidence was obtained; a merge keeps the weakest."""

    WEAK = 0  # only the shape says so, on an unknown receiver (x.members.all()): helpers only
    INFERRED = 1  # the shape on a proven model instance whose model the index lacks: reported as "looks like"
    PROVEN = 2  # the models index, a manager chain, a known constructor


class Orm(enum.Enum):
    """What ORM evidence says an expression is."""

    MODEL = "model class"
    MANAGER = "manager"
    QUERYSET = "queryset"
    INSTANCE = "model instance"
    ROWS = "evaluated rows"  # a list of instances, e.g. await database_sync_to_async(list)(qs)


@dataclass(frozen=True)
class Evidence:
    """What the analysis proved about an ORM expression.

    ``model`` is the model class name when known and ``info`` its models-index entry;
    ``loaded`` the relation paths loaded by ``select_related``/``prefetch_related`` (for an
    instance: loaded on it); ``relation`` is set when a manager or queryset was reached
    through ``instance.<relation>`` (a related manager), and ``prefetched`` when that
    relation was prefetched and the queryset is still its plain ``.all()``;
    ``relation_kind`` is the models index's kind of ``relation`` (``"m2m"``,
    ``"reverse-fk"``...).  ``strength`` says how it was obtained (:class:`Strength`); weak
    evidence is good enough to say a helper touches the database, not to report the
    expression itself.
    """

    kind: Orm
    model: str | None = None
    loaded: frozenset[str] = frozenset()
    relation: str | None = None
    prefetched: bool = False
    info: object | None = field(default=None, compare=False, hash=False, repr=False)
    relation_kind: str | None = None
    strength: Strength = Strength.PROVEN
    #: The bridged callee a still-lazy queryset came back from (``sync_to_async(qs.filter)``).
    hop: ast.expr | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def weak(self) -> bool:
        return self.strength is Strength.WEAK

    @property
    def inferred(self) -> bool:
        """Reportable, but only the shape of the code says it (the models index lacks the model)."""
        return self.strength is Strength.INFERRED

    def loads(self, relation: str) -> bool:
        """Whether ``relation`` was loaded by ``select_related``/``prefetch_related``."""
        return "*" in self.loaded or any(path.split("__", 1)[0] == relation for path in self.loaded)

    def instance(self, method: str | None = None, call: ast.Call | None = None) -> Evidence:
        """The evidence of one row of this queryset or manager.  When ``method`` creates the
        row (``create``, ``acreate``, the model class itself), the keyword arguments of
        ``call`` are cached on the instance: reading them back runs no query."""
        loaded = self.loaded
        if call is not None and method in CACHING_METHODS:
            loaded |= {keyword.arg for keyword in call.keywords if keyword.arg}
        return Evidence(Orm.INSTANCE, self.model, loaded, info=self.info, strength=self.strength)


def merge(found: list[Evidence | None]) -> Evidence | None:
    """Evidence that holds on every path: ``None`` if one path has none or the kinds differ;
    otherwise what all agree on (models, relations), the relations loaded on all paths, and
    the weakest strength of any path."""
    if not found or any(e is None for e in found):
        return None
    first = found[0]
    if any(e.kind is not first.kind for e in found):
        return None
    if all(e == first and e.info is first.info for e in found):
        return first
    same = lambda attribute: all(getattr(e, attribute) == getattr(first, attribute) for e in found)
    if not same("relation") or not same("relation_kind"):
        return None
    return Evidence(
        first.kind,
        first.model if same("model") else None,
        frozenset.intersection(*(e.loaded for e in found)),
        first.relation,
        all(e.prefetched for e in found),
        first.info if all(e.info is first.info for e in found) else None,
        first.relation_kind,
        min(e.strength for e in found),
    )
