"""Django settings for the test suite (pytest-django's ``DJANGO_SETTINGS_MODULE``).

The example project's ``chat`` app (``fixtures/chat_project``, on ``pythonpath`` via
pyproject.toml) is installed so that behaviour tests run its consumers for real.
"""

import os

SECRET_KEY = "test"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "channels",
    "chat",
    "channels_lint.runtime",
]
if os.environ.get("CHANNELS_LINT_TEST_DATABASE", "sqlite") == "postgres":
    # PostgreSQL on 127.0.0.1:5432 with trust auth (CI runs the behaviour tests on it too)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": 5432,
            "USER": "postgres",
            "NAME": "postgres",
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
