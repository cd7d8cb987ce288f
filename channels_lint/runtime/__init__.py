"""Runtime helpers for Django Channels projects.

Imported by user consumers; depends on Django/Channels at most (the ``channels-lint[runtime]``
extra) and never imports LibCST or flake8.
"""

from channels_lint.runtime.serializer import (
    MAX_DEPTH,
    JSONSerializer,
    dumps,
    safe_serialize,
    serialize_datetime,
    serialize_message,
    validate_serializable,
)

__all__ = [
    "MAX_DEPTH",
    "JSONSerializer",
    "dumps",
    "safe_serialize",
    "serialize_datetime",
    "serialize_message",
    "validate_serializable",
]
