"""All rules.  Importing this package registers every rule in :data:`REGISTRY`."""

from channels_lint.rules import (  # noqa: F401 - imported to register the rules
    chn101_sync_orm_query,
    chn102_model_instance_query,
    chn103_lazy_relation_access,
    chn104_sync_database_helper,
    chn105_coroutine_not_awaited,
    chn106_async_to_sync_in_async,
    chn107_layer_call_without_async_to_sync,
    chn108_handler_kind_mismatch,
    chn109_sync_only_django_api,
    chn202_unserializable_event_value,
    chn301_unguarded_json_loads,
    chn403_missing_as_asgi,
    chn900_unanalysable_file,
)
from channels_lint.rules.base import REGISTRY, Invalid, Rule

__all__ = ["REGISTRY", "Invalid", "Rule"]
