"""The runtime's Django app: ``INSTALLED_APPS += ["channels_lint.runtime"]``."""

from __future__ import annotations

from django.apps import AppConfig


class ChannelsLintRuntimeConfig(AppConfig):
    """Registers the runtime's system checks (``channels_lint.runtime.checks``) when Django starts."""

    name = "channels_lint.runtime"
    label = "channels_lint_runtime"
    verbose_name = "channels-lint runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from channels_lint.runtime import checks  # noqa: F401  (registers the checks on import)
        from channels_lint.runtime import conf  # noqa: F401  (registers the CHANNELS_LINT_RUNTIME checks)
