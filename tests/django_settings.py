"""Django settings for the test suite (pytest-django's ``DJANGO_SETTINGS_MODULE``).

The example project's ``chat`` app (``fixtures/chat_project``, on ``pythonpath`` via
pyproject.toml) is installed so that behaviour tests run its consumers for real.
"""

SECRET_KEY = "test"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "channels",
    "chat",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
