"""What Django's ORM and its sync-only APIs do to the database, as data.

Manager and queryset methods (which build, which run SQL, which return one instance), model
instance, related-manager and user methods that query, other sync-only calls and their
effect, the builtins that evaluate a queryset, the async twins and the Django version that
added each; and what tells a relation from a field value on a model the index lacks
(docs/semantics.md §3.3, §4, §4.1, §4.2).
"""

from __future__ import annotations

import enum


class DbEffect(enum.Enum):
    """What a sync-only Django API does to the database (docs/semantics.md §3.3, §4.2)."""

    QUERIES_USERS = enum.auto()
    WRITES_SESSION_AND_LAST_LOGIN = enum.auto()
    FLUSHES_SESSION = enum.auto()
    QUERIES_SESSION_AND_USER = enum.auto()
    WRITES_SESSION = enum.auto()
    OPENS_CURSOR = enum.auto()


MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})

#: QuerySet methods that return a new, unevaluated QuerySet (no SQL).
QUERYSET_BUILDERS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "select_related",
        "prefetch_related",
        "values",
        "values_list",
        "only",
        "defer",
        "distinct",
        "none",
        "using",
        "union",
        "intersection",
        "difference",
        "select_for_update",
        "annotate",
        "alias",
        "reverse",
        "complex_filter",
        "extra",
        "dates",
        "datetimes",
        "raw",
        "fetch_mode",
    }
)

#: Sync QuerySet/Manager methods that run SQL, and the ones among them returning one instance.
QUERYSET_INSTANCE_METHODS = frozenset({"get", "first", "last", "earliest", "latest", "create"})
QUERYSET_SQL_METHODS = QUERYSET_INSTANCE_METHODS | frozenset(
    {
        "count",
        "exists",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "aggregate",
        "in_bulk",
        "contains",
        "explain",
    }
)
#: Calls whose keyword arguments end up cached on the instance they return.
CACHING_METHODS = frozenset({"create", "acreate", "__init__"})
#: Async twins (Django 4.1+) that return one instance once awaited.
ASYNC_INSTANCE_METHODS = frozenset({"a" + name for name in QUERYSET_INSTANCE_METHODS})

#: Model instance methods that run SQL (django/db/models/base.py); full_clean runs
#: validate_unique, which queries.
INSTANCE_DB_METHODS = frozenset({"save", "delete", "refresh_from_db", "full_clean", "validate_unique"})
#: Related-manager methods that write (django/db/models/fields/related_descriptors.py).
RELATED_WRITE_METHODS = frozenset({"add", "remove", "clear", "set", "create", "get_or_create", "update_or_create"})
#: User methods that query permissions (django/contrib/auth/models.py); §4.2 of the reference.
USER_DB_METHODS = frozenset(
    {"has_perm", "has_perms", "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions"}
)
TRANSACTION_ATOMIC = frozenset({"django.db.transaction.atomic"})
#: Other sync-only Django calls (docs/semantics.md §3.3, §4.2): what each does to the database.
SYNC_ONLY_CALLS: dict[str, DbEffect] = {
    "django.contrib.auth.authenticate": DbEffect.QUERIES_USERS,
    "django.contrib.auth.login": DbEffect.WRITES_SESSION_AND_LAST_LOGIN,
    "django.contrib.auth.logout": DbEffect.FLUSHES_SESSION,
    "django.contrib.auth.get_user": DbEffect.QUERIES_SESSION_AND_USER,
    "django.contrib.auth.update_session_auth_hash": DbEffect.WRITES_SESSION,
    "django.db.connection.cursor": DbEffect.OPENS_CURSOR,
}

#: ``x.<relation>.<builder>()`` on an unknown ``x`` is taken as a related manager (weakly).
WEAK_RELATION_BUILDERS = frozenset({"all", "filter", "exclude", "order_by", "select_related", "prefetch_related"})

#: Builtins that evaluate (iterate) their first argument.
EVALUATING_BUILTINS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "len",
        "bool",
        "sorted",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "dict",
        "next",
        "print",
        "str",
        "repr",
    }
)

#: Builtins that return a lazy iterator over some of their arguments (which iterating it
#: evaluates): the positions of those arguments, ``None`` for all of them.
LAZY_ITERATING_BUILTINS: dict[str, tuple[int, ...] | None] = {
    "enumerate": (0,),
    "reversed": (0,),
    "zip": None,
    "map": None,  # every argument after the function
    "filter": (1,),
}

#: Django functions that run a query, by qualified name (django/shortcuts.py,
#: django/core/serializers/__init__.py; docs/semantics.md §4.2).
QUERY_FUNCTIONS = frozenset(
    {
        "django.shortcuts.get_object_or_404",
        "django.shortcuts.get_list_or_404",
        "django.core.serializers.serialize",
    }
)
GET_USER_MODEL = "django.contrib.auth.get_user_model"

#: Async twins and the Django version that added them (docs/semantics.md §4.1, §3.3).
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
    "django.shortcuts.get_object_or_404": (5, 0),
    "django.shortcuts.get_list_or_404": (5, 0),
}


# --------------------------------------------------------------------------- relations of unknown models (issue 7)
#: Attributes and methods of ``django.contrib.auth.models.User`` itself (AbstractUser,
#: AbstractBaseUser, PermissionsMixin, Model; django/contrib/auth/models.py and
#: base_user.py @ 5.2): anything else read on the user goes through a relation
#: (docs/semantics.md §4.2).
USER_ATTRIBUTES = frozenset(
    {
        "id", "pk", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
        "is_staff", "is_active", "date_joined", "groups", "user_permissions", "is_authenticated", "is_anonymous",
        "get_username", "get_full_name", "get_short_name", "email_user", "has_perm", "has_perms",
        "has_module_perms", "get_all_permissions", "get_group_permissions", "get_user_permissions",
        "ahas_perm", "ahas_perms", "ahas_module_perms", "aget_all_permissions", "aget_group_permissions",
        "aget_user_permissions", "check_password", "acheck_password", "set_password", "set_unusable_password",
        "has_usable_password", "natural_key", "get_session_auth_hash", "get_session_auth_fallback_hash",
        "get_email_field_name", "normalize_username", "clean", "save", "asave", "delete", "adelete",
        "refresh_from_db", "arefresh_from_db", "full_clean", "clean_fields", "validate_unique",
        "validate_constraints", "serializable_value", "objects", "DoesNotExist", "MultipleObjectsReturned",
        "EMAIL_FIELD", "USERNAME_FIELD", "REQUIRED_FIELDS", "backend", "_meta", "_state",
    }
)  # fmt: skip

#: Calls that only a manager or queryset answers: on ``instance.<attr>`` of a proven model
#: instance whose model the index does not know, they show ``<attr>`` is a related manager.
#: (``get``, ``remove``, ``clear``, ``pop``... are left out: a JSONField dict or list has them.)
INFERRED_MANAGER_CALLS = frozenset(
    {
        "all", "filter", "exclude", "order_by", "values", "values_list", "select_related", "prefetch_related",
        "annotate", "only", "defer", "distinct", "first", "last", "exists", "aggregate", "create", "add",
        "get_or_create", "update_or_create", "latest", "earliest", "in_bulk", "bulk_create", "iterator",
    }
)  # fmt: skip

#: Names of attributes and methods of the values Django fields hold (str, numbers, dates,
#: Decimal, UUID, dict/list from JSONField, files): reading one of these on
#: ``instance.<attr>`` says nothing about ``<attr>`` being a relation.
FIELD_VALUE_ATTRIBUTES = frozenset().union(
    *(dir(kind) for kind in (str, int, float, bool, bytes, list, dict, tuple, set, complex)),
    (
        "year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo", "fold", "date", "time",
        "timetz", "isoformat", "strftime", "timestamp", "weekday", "isoweekday", "isocalendar", "replace",
        "astimezone", "utcoffset", "dst", "tzname", "days", "seconds", "microseconds", "total_seconds",
        "quantize", "normalize", "is_nan", "is_zero", "to_integral_value", "adjusted", "as_tuple",
        "hex", "urn", "version", "variant", "fields", "node", "bytes_le",
        "url", "path", "size", "file", "width", "height", "open", "close", "read", "chunks", "save",
        "delete", "storage", "field", "instance", "closed", "multiple_chunks", "seek", "tell",
        "amount", "currency", "as_e164", "as_international", "as_national", "national_number", "country_code",
    ),
)  # fmt: skip
