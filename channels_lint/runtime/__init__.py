"""Runtime helpers for Django Channels projects.

Imported by user consumers; depends on Django/Channels at most (the ``channels-lint[runtime]``
extra) and never imports LibCST or flake8.

``channels_lint.runtime`` is also a Django app (``INSTALLED_APPS += ["channels_lint.runtime"]``,
label ``channels_lint_runtime``): it registers the system checks and the error-record model.
Every public name below is imported lazily (PEP 562), so ``from channels_lint.runtime import
safe_serialize`` in ``asgi.py`` never imports a model before the app registry is ready.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> submodule of ``channels_lint.runtime`` that defines it.
_EXPORTS: dict[str, str] = {
    "MAX_DEPTH": "serializer",
    "JSONSerializer": "serializer",
    "dumps": "serializer",
    "safe_serialize": "serializer",
    "serialize_datetime": "serializer",
    "serialize_message": "serializer",
    "validate_serializable": "serializer",
    "encode_or_fallback": "serializer",
    "SafeJsonConsumerMixin": "consumers",
    "AsyncSafeJsonConsumerMixin": "consumers",
    "StrictInMemoryChannelLayer": "layers",
    "SerializableModelMixin": "models_mixin",
    "error_frame": "frames",
    "ConnectionValidator": "validation",
    "MessageCheck": "validation",
    "check_message_data": "validation",
    "extract_message_data": "validation",
    "safe_get_attribute": "validation",
    "validate_connection_data": "validation",
    "safe_group_name": "groups",
    "safe_query_params": "groups",
    "RoutingValidator": "routing",
    # resilient messaging runtime (issue 11)
    "AsyncSafeMessageHandler": "handler",
    "RetriesExhausted": "handler",
    "RetryPolicy": "handler",
    "retry_async": "handler",
    "ErrorRecord": "errors",
    "UnrecoverableError": "errors",
    "arecord_error": "errors",
    "classify_error": "errors",
    "flush_error_buffer": "errors",
    "record_error": "errors",
    "OutboundQueue": "mixins",
    "ResilientAsyncJsonConsumerMixin": "mixins",
    "ResilientJsonConsumerMixin": "mixins",
    "runtime_settings": "conf",
    "NotificationService": "notifications",
    "ChannelLayerBackend": "notifications",
    "InboxBackend": "notifications",
    "HookBackend": "notifications",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
