"""ORM evidence: what an expression is, as far as Django's ORM goes.

A model class, a manager, a queryset, a model instance or evaluated rows, with the model, the
relations loaded by ``select_related``/``prefetch_related`` and, for a related manager, the
relation it came through.  Names are followed through the value-flow layer: a name has
evidence only when every binding that reaches the use agrees (the weaker evidence wins).
Facts: docs/semantics.md §4 (which methods build querysets, which run SQL, what a prefetch
cache answers).

:mod:`.evidence` holds the evidence values and how paths merge; :mod:`.expressions` the
analyzer (:class:`OrmEvidence`).  Every name is importable from
``channels_lint.analysis.orm``.
"""

from __future__ import annotations

from channels_lint.analysis.orm.evidence import Evidence, Orm, Strength, inferred_manager_call, merge
from channels_lint.analysis.orm.expressions import OrmEvidence

__all__ = ["Evidence", "Orm", "OrmEvidence", "Strength", "inferred_manager_call", "merge"]
