"""Django system checks of the runtime app (registered on import by ``apps.ready``)."""
