"""The runtime's settings, in one place: ``CHANNELS_LINT_RUNTIME = {...}`` in Django settings.

Every key is optional; a missing key takes the default below. Values are read on every use
(``runtime_settings()``), so ``override_settings`` and ``settings`` fixtures take effect at once.
All durations are in **seconds**.

=========================  ===========================================  =======================================
Key                        Default                                      Meaning
=========================  ===========================================  =======================================
``MESSAGE_MODEL``          ``None``                                     ``"app_label.ModelName"`` of the chat
                                                                        message model the
                                                                        :class:`~channels_lint.runtime.handler.AsyncSafeMessageHandler`
                                                                        stores into. ``None``: pass ``model=``
                                                                        to the handler.
``MESSAGE_FIELDS``         ``{"content": "content", "user": "user",    logical name -> field name on the model.
                           "room": "room", "created_at": "created_at"}` ``user`` and ``room`` may be foreign keys
                                                                        (the handler sets ``<field>_id``) or
                                                                        plain fields; ``created_at`` may be
                                                                        ``None`` when the model has no such
                                                                        field.
``IDEMPOTENCY_KEY``        ``"client_id"``                              key of the client's message id in a
                                                                        frame / ``message_data``.
``MAX_CONTENT_LENGTH``     ``4000``                                     characters of message content accepted
                                                                        (the model field's ``max_length`` wins
                                                                        when smaller).
``MAX_FRAME_BYTES``        ``65536``                                    largest client frame the consumer mixins
                                                                        accept (UTF-8 bytes).
``RETRY``                  ``{"ATTEMPTS": 5, "BASE_DELAY": 0.05,        transient-error retries: total attempts,
                           "MAX_DELAY": 2.0, "MULTIPLIER": 2.0,         first delay, delay cap, growth factor,
                           "JITTER": 1.0}``                             jitter fraction (1.0 = "full jitter").
``OUTBOUND_RETRY_DELAY``   ``5.0``                                      largest pause (s) between two tries of a
                                                                        channel-layer send the outbound queue
                                                                        keeps retrying after ``RETRY`` ran out.
``OUTBOUND_QUEUE_SIZE``    ``1000``                                     per-connection outbound queue bound; a
                                                                        send beyond it is refused (recorded).
``CLOSE_CODE``             ``4000``                                     WebSocket close code sent when an
                                                                        unrecoverable error ends a connection
                                                                        (RFC 6455 §7.4.2: 4000-4999 are the
                                                                        application's own).
``SHUTDOWN_TIMEOUT``       ``10.0``                                     seconds a closing connection waits for its
                                                                        queued sends and group discards.
``ERROR_BUFFER_SIZE``      ``1000``                                     error records kept in memory while the
                                                                        database refuses them (oldest dropped).
``RECORD_ERRORS``          ``True``                                     write ``MessagingError`` rows (logging
                                                                        happens either way).
``LOGGER``                 ``"channels_lint.runtime"``                  stdlib logger name for error records.
``NOTIFICATION_BACKENDS``  ``["channels_lint.runtime.notifications.     ordered delivery backends (dotted paths
                           ChannelLayerBackend", "...InboxBackend"]``   of classes or callables); see
                                                                        :mod:`channels_lint.runtime.notifications`.
``NOTIFICATION_GROUP``     ``"notifications.user.{user_id}"``           group name template for per-user
                                                                        channel-layer delivery.
=========================  ===========================================  =======================================

System checks (registered by the app's ``ready()``) report bad values as
``channels_lint_runtime.E101`` ... ``E109`` and unknown keys as ``channels_lint_runtime.W101``.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["DEFAULTS", "SETTING_NAME", "check_runtime_settings", "runtime_settings", "setting"]

SETTING_NAME = "CHANNELS_LINT_RUNTIME"

DEFAULTS: dict[str, Any] = {
    "MESSAGE_MODEL": None,
    "MESSAGE_FIELDS": {"content": "content", "user": "user", "room": "room", "created_at": "created_at"},
    "IDEMPOTENCY_KEY": "client_id",
    "MAX_CONTENT_LENGTH": 4000,
    "MAX_FRAME_BYTES": 65536,
    "RETRY": {"ATTEMPTS": 5, "BASE_DELAY": 0.05, "MAX_DELAY": 2.0, "MULTIPLIER": 2.0, "JITTER": 1.0},
    "OUTBOUND_RETRY_DELAY": 5.0,
    "OUTBOUND_QUEUE_SIZE": 1000,
    "CLOSE_CODE": 4000,
    "SHUTDOWN_TIMEOUT": 10.0,
    "ERROR_BUFFER_SIZE": 1000,
    "RECORD_ERRORS": True,
    "LOGGER": "channels_lint.runtime",
    "NOTIFICATION_BACKENDS": [
        "channels_lint.runtime.notifications.ChannelLayerBackend",
        "channels_lint.runtime.notifications.InboxBackend",
    ],
    "NOTIFICATION_GROUP": "notifications.user.{user_id}",
}

_LOGICAL_FIELDS = ("content", "user", "room", "created_at")
_RETRY_KEYS = ("ATTEMPTS", "BASE_DELAY", "MAX_DELAY", "MULTIPLIER", "JITTER")


def runtime_settings() -> dict[str, Any]:
    """Return the effective settings: :data:`DEFAULTS` updated with ``settings.CHANNELS_LINT_RUNTIME``.

    ``MESSAGE_FIELDS`` and ``RETRY`` are merged key by key, so a project may override one entry.
    A malformed user value (not a dict) is ignored here and reported by the system check E101.

    Returns:
        A new ``dict`` (safe to mutate). Outside a configured Django project: the defaults.

    Raises:
        Nothing.
    """
    merged = copy.deepcopy(DEFAULTS)
    try:
        from django.conf import settings

        user = getattr(settings, SETTING_NAME, None) if settings.configured else None
    except Exception:  # Django missing or settings broken: defaults
        user = None
    if not isinstance(user, dict):
        return merged
    for key, value in user.items():
        if key in ("MESSAGE_FIELDS", "RETRY") and isinstance(value, dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def setting(name: str) -> Any:
    """Return one effective setting (see the table in the module docstring).

    Raises:
        KeyError: ``name`` is not a runtime setting.
    """
    settings = runtime_settings()
    if name not in DEFAULTS:
        raise KeyError(name)
    return settings[name]


# ------------------------------------------------------------------------------- system checks


def check_runtime_settings(app_configs=None, **kwargs) -> list:
    """Django system check of ``CHANNELS_LINT_RUNTIME`` (registered by ``apps.ready``).

    Returns:
        A list of ``django.core.checks.Error``/``Warning`` with ids
        ``channels_lint_runtime.E101``-``E109``/``W101``; empty when the settings are valid.
    """
    from django.conf import settings as django_settings
    from django.core.checks import Error, Warning

    def error(number: int, msg: str, hint: str | None = None) -> Error:
        return Error(msg, hint=hint, obj=SETTING_NAME, id=f"channels_lint_runtime.E{number}")

    user = getattr(django_settings, SETTING_NAME, {})
    if not isinstance(user, dict):
        return [error(101, f"{SETTING_NAME} must be a dict, not {type(user).__name__}.")]
    messages: list = []
    for key in sorted(set(user) - set(DEFAULTS)):
        messages.append(
            Warning(
                f"{SETTING_NAME} has an unknown key {key!r}.",
                hint="Known keys: " + ", ".join(sorted(DEFAULTS)),
                obj=SETTING_NAME,
                id="channels_lint_runtime.W101",
            )
        )
    conf = runtime_settings()
    messages += _check_model(conf, error)
    messages += _check_retry(conf.get("RETRY"), error)
    for key in ("MAX_CONTENT_LENGTH", "MAX_FRAME_BYTES", "OUTBOUND_QUEUE_SIZE", "ERROR_BUFFER_SIZE"):
        value = conf[key]
        if type(value) is not int or value < 1:
            messages.append(error(106, f"{SETTING_NAME}[{key!r}] must be a positive int, not {value!r}."))
    for key in ("OUTBOUND_RETRY_DELAY", "SHUTDOWN_TIMEOUT"):
        if not _number(conf[key]) or conf[key] <= 0:
            messages.append(error(106, f"{SETTING_NAME}[{key!r}] must be a positive number of seconds."))
    code = conf["CLOSE_CODE"]
    if type(code) is not int or not (code == 1000 or 1008 <= code <= 1011 or 3000 <= code <= 4999):
        messages.append(
            error(
                107,
                f"{SETTING_NAME}['CLOSE_CODE'] must be a WebSocket close code a server may send, not {code!r}.",
                hint="Use 4000-4999 (application codes, RFC 6455 §7.4.2), 1011 (internal error) or 1008 (policy).",
            )
        )
    for key in ("IDEMPOTENCY_KEY", "LOGGER", "NOTIFICATION_GROUP"):
        if not isinstance(conf[key], str) or not conf[key]:
            messages.append(error(108, f"{SETTING_NAME}[{key!r}] must be a non-empty str."))
    if not isinstance(conf["RECORD_ERRORS"], bool):
        messages.append(error(108, f"{SETTING_NAME}['RECORD_ERRORS'] must be True or False."))
    messages += _check_backends(conf["NOTIFICATION_BACKENDS"], error)
    return messages


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_model(conf: dict, error) -> list:
    from django.apps import apps

    messages = []
    fields = conf["MESSAGE_FIELDS"]
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and (isinstance(v, str) or (k == "created_at" and v is None)) for k, v in fields.items()
    ):
        return [error(104, f"{SETTING_NAME}['MESSAGE_FIELDS'] must map names to field-name strings.")]
    unknown = sorted(set(fields) - set(_LOGICAL_FIELDS))
    if unknown:
        messages.append(error(104, f"{SETTING_NAME}['MESSAGE_FIELDS'] has unknown names {unknown}."))
    label = conf["MESSAGE_MODEL"]
    if label is None:
        return messages
    if not isinstance(label, str) or label.count(".") != 1:
        return messages + [error(103, f"{SETTING_NAME}['MESSAGE_MODEL'] must be 'app_label.ModelName', not {label!r}.")]
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return messages + [error(103, f"{SETTING_NAME}['MESSAGE_MODEL'] names {label!r}, which is not an installed model.")]
    names = {f.name for f in model._meta.get_fields()}
    for logical in _LOGICAL_FIELDS:
        name = fields.get(logical)
        if name is not None and name not in names:
            messages.append(
                error(104, f"{SETTING_NAME}['MESSAGE_FIELDS'][{logical!r}] is {name!r}, which {label} does not have.")
            )
    return messages


def _check_retry(retry: object, error) -> list:
    if not isinstance(retry, dict):
        return [error(105, f"{SETTING_NAME}['RETRY'] must be a dict.")]
    messages = []
    unknown = sorted(set(retry) - set(_RETRY_KEYS))
    if unknown:
        messages.append(error(105, f"{SETTING_NAME}['RETRY'] has unknown keys {unknown}."))
    attempts = retry.get("ATTEMPTS")
    if type(attempts) is not int or not 1 <= attempts <= 100:
        messages.append(error(105, f"{SETTING_NAME}['RETRY']['ATTEMPTS'] must be an int from 1 to 100."))
    base, cap = retry.get("BASE_DELAY"), retry.get("MAX_DELAY")
    if not (_number(base) and _number(cap) and 0 <= base <= cap):
        messages.append(error(105, f"{SETTING_NAME}['RETRY'] needs 0 <= BASE_DELAY <= MAX_DELAY (seconds)."))
    if not _number(retry.get("MULTIPLIER")) or retry["MULTIPLIER"] < 1:
        messages.append(error(105, f"{SETTING_NAME}['RETRY']['MULTIPLIER'] must be a number >= 1."))
    if not _number(retry.get("JITTER")) or not 0 <= retry["JITTER"] <= 1:
        messages.append(error(105, f"{SETTING_NAME}['RETRY']['JITTER'] must be a number from 0 to 1."))
    return messages


def _check_backends(backends: object, error) -> list:
    from django.utils.module_loading import import_string

    if not isinstance(backends, (list, tuple)) or not backends:
        return [error(109, f"{SETTING_NAME}['NOTIFICATION_BACKENDS'] must be a non-empty list.")]
    messages = []
    for entry in backends:
        if callable(entry):
            continue
        try:
            import_string(entry)
        except Exception as exc:
            messages.append(error(109, f"{SETTING_NAME}['NOTIFICATION_BACKENDS'] entry {entry!r} cannot be imported: {exc}"))
    return messages


def _register() -> None:
    from django.core.checks import register

    register(check_runtime_settings, "channels_lint_runtime")


_register()
