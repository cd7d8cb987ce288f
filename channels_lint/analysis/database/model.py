"""Database operations as values: the rule family (:class:`Family`), the shape of the code
(:class:`OpKind`), how a fix may move it (:class:`FixShape`) and the operation itself
(:class:`DbOperation`).
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, field

from channels_lint.analysis.facts import DbEffect
from channels_lint.analysis.orm import Evidence


class Family(enum.Enum):
    """Which rule family an operation belongs to."""

    QUERY = "query"  # a manager or queryset runs SQL or is evaluated (CHN101)
    INSTANCE = "instance"  # a model instance's save()/delete()..., a related manager's add()/create()... (CHN102)
    RELATION = "relation"  # a lazy relation is loaded (CHN103)
    API = "api"  # other sync-only Django APIs (CHN109)


class OpKind(enum.Enum):
    """The shape of the code that runs SQL."""

    METHOD = "method"  # a queryset/manager/instance/user/session method call: `method`
    EVALUATE = "evaluate"  # a builtin evaluating a queryset: `builtin`
    ITERATE = "iterate"  # for / comprehension over a queryset
    MEMBERSHIP = "membership"  # `x in qs`
    INDEX = "index"  # qs[0], a step slice
    UNPACK = "unpack"  # [*qs], a, *b = qs
    FORMAT = "format"  # f"{qs}", "%s" % qs
    TRUTH = "truth"  # if qs:
    RELATED_WRITE = "related-write"  # room.members.add(...)
    USER_PERMISSION = "user-permission"  # user.has_perm(...)
    SESSION_WRITE = "session-write"  # scope["session"].save()
    CURSOR = "cursor"  # connections[alias].cursor()
    SYNC_ONLY_CALL = "sync-only-call"  # authenticate(), connection.cursor()...: `effect`
    QUERY_FUNCTION = "query-function"  # get_object_or_404(), serializers.serialize(): `func_name`
    LAZY_RELATION = "lazy-relation"  # obj.fk: `target` model
    ATOMIC_BLOCK = "atomic-block"  # with transaction.atomic():
    ATOMIC_DECORATOR = "atomic-decorator"  # @transaction.atomic on an async def
    REQUEST_USER = "request-user"  # request.user.<attr> in an async view or middleware
    SERIALIZER = "serializer"  # a DRF ModelSerializer's save(), or .data of many rows


class FixShape(enum.Enum):
    """How a fix may move the operation off the loop."""

    CALL = "call"  # `node` is a call that can go through database_sync_to_async
    ITERATE = "iterate"  # `node` is an iterable that database_sync_to_async(list) can evaluate
    NONE = "none"  # no fix can move just this expression


@dataclass(frozen=True, kw_only=True)
class DbOperation:
    """An expression that runs SQL.

    ``node`` is where it is reported; ``subject`` the queryset expression an evaluation
    evaluates; ``method`` the ORM method called; ``builtin`` the evaluating builtin;
    ``func_name`` the qualified name of a called function; ``effect`` what a sync-only API
    does; ``target`` the related model a lazy relation loads; ``scope`` is set when the
    operation runs in another scope than ``node`` (a decorator).
    """

    node: ast.expr
    family: Family
    kind: OpKind
    shape: FixShape
    method: str | None = None
    evidence: Evidence | None = field(default=None, compare=False)
    subject: ast.expr | None = field(default=None, compare=False)
    builtin: str | None = None
    func_name: str | None = None
    effect: DbEffect | None = None
    target: str | None = None
    scope: ast.AST | None = field(default=None, compare=False)
    #: Only the shape of the code says it (a model the index lacks, a relation of the user
    #: that is not one of Django's User fields): messages say "looks like".
    inferred: bool = False
    #: For an inferred lazy relation: the attribute read on the related object (the evidence).
    witness: str | None = None
