"""``CHANNELS_LINT_RUNTIME`` settings: defaults, merging, the system checks for bad values, and
importing the runtime's helpers before Django is set up (as ``asgi.py`` does)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from channels_lint.runtime.conf import DEFAULTS, check_runtime_settings, runtime_settings

from .conftest import ROOT


def ids(settings_value, settings) -> list[str]:
    settings.CHANNELS_LINT_RUNTIME = settings_value
    return sorted(message.id for message in check_runtime_settings())


def test_defaults_are_valid(settings) -> None:
    assert ids({}, settings) == []
    del settings.CHANNELS_LINT_RUNTIME
    assert runtime_settings() == DEFAULTS
    assert check_runtime_settings() == []


def test_nested_values_merge_key_by_key(settings) -> None:
    settings.CHANNELS_LINT_RUNTIME = {"RETRY": {"ATTEMPTS": 9}, "MESSAGE_FIELDS": {"content": "body"}}
    conf = runtime_settings()
    assert conf["RETRY"] == {**DEFAULTS["RETRY"], "ATTEMPTS": 9}
    assert conf["MESSAGE_FIELDS"] == {**DEFAULTS["MESSAGE_FIELDS"], "content": "body"}


def test_a_valid_model_configuration_passes(settings) -> None:
    value = {
        "MESSAGE_MODEL": "chat.Message",
        "MESSAGE_FIELDS": {"content": "body", "user": "author", "room": "room", "created_at": "sent_at"},
    }
    assert ids(value, settings) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], ["channels_lint_runtime.E101"]),
        ({"RETRYS": {}}, ["channels_lint_runtime.W101"]),
        ({"MESSAGE_MODEL": "Message"}, ["channels_lint_runtime.E103"]),
        ({"MESSAGE_MODEL": "chat.Nope"}, ["channels_lint_runtime.E103"]),
        (
            {"MESSAGE_MODEL": "chat.Message"},
            ["channels_lint_runtime.E104", "channels_lint_runtime.E104", "channels_lint_runtime.E104"],
        ),
        ({"MESSAGE_FIELDS": {"content": 5}}, ["channels_lint_runtime.E104"]),
        ({"MESSAGE_FIELDS": {"colour": "c"}}, ["channels_lint_runtime.E104"]),
        ({"RETRY": {"ATTEMPTS": 0}}, ["channels_lint_runtime.E105"]),
        ({"RETRY": {"BASE_DELAY": 5, "MAX_DELAY": 1}}, ["channels_lint_runtime.E105"]),
        ({"RETRY": {"MULTIPLIER": 0.5, "JITTER": 2}}, ["channels_lint_runtime.E105", "channels_lint_runtime.E105"]),
        ({"RETRY": {"TRIES": 3}}, ["channels_lint_runtime.E105"]),
        ({"RETRY": "fast"}, ["channels_lint_runtime.E105"]),
        ({"MAX_FRAME_BYTES": 0}, ["channels_lint_runtime.E106"]),
        ({"ERROR_BUFFER_SIZE": "100"}, ["channels_lint_runtime.E106"]),
        ({"SHUTDOWN_TIMEOUT": -1}, ["channels_lint_runtime.E106"]),
        ({"CLOSE_CODE": 1006}, ["channels_lint_runtime.E107"]),
        ({"CLOSE_CODE": 5000}, ["channels_lint_runtime.E107"]),
        ({"LOGGER": ""}, ["channels_lint_runtime.E108"]),
        ({"RECORD_ERRORS": "yes"}, ["channels_lint_runtime.E108"]),
        ({"NOTIFICATION_BACKENDS": []}, ["channels_lint_runtime.E109"]),
        ({"NOTIFICATION_BACKENDS": ["no.such.Backend"]}, ["channels_lint_runtime.E109"]),
    ],
)
def test_bad_values_are_reported(value, expected, settings) -> None:
    assert ids(value, settings) == expected


def test_the_check_is_registered_with_django(settings) -> None:
    from django.core import checks

    settings.CHANNELS_LINT_RUNTIME = {"CLOSE_CODE": "x"}
    assert "channels_lint_runtime.E107" in {message.id for message in checks.run_checks()}


def test_helpers_import_before_django_is_set_up() -> None:
    """``asgi.py`` imports helpers before ``django.setup()``: no model may be imported then."""
    code = (
        "import channels_lint.runtime as r\n"
        "from channels_lint.runtime import AsyncSafeMessageHandler, ResilientAsyncJsonConsumerMixin, "
        "ResilientJsonConsumerMixin, NotificationService, record_error, runtime_settings\n"
        "import sys\n"
        "AsyncSafeMessageHandler('chat.Message')\n"  # built at import time, resolved on first use
        "assert not any(m.endswith('runtime.models') for m in sys.modules), 'models imported'\n"
        "assert 'libcst' not in sys.modules and 'flake8' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={"PATH": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
