"""The runtime app's models: error records, idempotency receipts and the notification inbox.

Imported by Django when the app registry loads (``INSTALLED_APPS += ["channels_lint.runtime"]``),
never by ``channels_lint.runtime`` itself: the helpers import these models inside functions.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ErrorCategory(models.TextChoices):
    """What kind of failure an error record describes (see ``errors.classify_error``)."""

    DATABASE = "database", "database"
    CHANNEL_LAYER = "channel_layer", "channel layer"
    NETWORK = "network", "network"
    VALIDATION = "validation", "validation"
    INTEGRITY = "integrity", "integrity"
    SERIALIZATION = "serialization", "serialization"
    ASYNC_CONTEXT = "async_context", "async context"
    CONFIGURATION = "configuration", "configuration"
    NOTIFICATION = "notification", "notification"
    INTERNAL = "internal", "internal"


class RecoveryAction(models.TextChoices):
    """What the runtime did about the failure."""

    NONE = "none", "none"
    RETRIED = "retried", "retried, then succeeded"
    GAVE_UP = "gave_up", "retried up to the bound, then reported"
    NOT_RETRIED = "not_retried", "permanent: reported without retry"
    ERROR_FRAME = "error_frame", "error frame sent, connection kept"
    CONNECTION_CLOSED = "connection_closed", "connection closed"
    QUEUED = "queued", "kept in the outbound queue for a later retry"
    NEXT_BACKEND = "next_backend", "next delivery backend tried"
    DROPPED = "dropped", "dropped"


class MessagingError(models.Model):
    """One failure in a consumer, the message handler, the outbound queue or a notification backend.

    Written by :func:`channels_lint.runtime.errors.record_error`; the same fields go to the
    ``channels_lint.runtime`` logger as ``extra``.
    """

    error_type = models.CharField(max_length=200, db_index=True, help_text="exception class, e.g. OperationalError")
    error_message = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=ErrorCategory.choices, default=ErrorCategory.INTERNAL, db_index=True)
    context_data = models.JSONField(default=dict, blank=True, help_text="operation, frame summary, attempt, ...")
    consumer = models.CharField(max_length=200, blank=True, help_text="dotted path of the consumer class")
    user_id = models.CharField(max_length=150, blank=True, db_index=True)
    channel_name = models.CharField(max_length=200, blank=True)
    recovery_action = models.CharField(max_length=32, choices=RecoveryAction.choices, default=RecoveryAction.NONE)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = "messaging error"

    def __str__(self) -> str:
        return f"{self.error_type} ({self.category}) at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class MessageReceipt(models.Model):
    """Idempotency record: one row per client message stored by ``AsyncSafeMessageHandler``.

    Written in the same transaction as the message, so a retry after an ambiguous failure (the
    commit may or may not have happened) finds it and does not store the message twice.
    """

    key = models.CharField(max_length=255, unique=True)
    model = models.CharField(max_length=200, help_text="app_label.ModelName of the stored message")
    object_pk = models.CharField(max_length=64)
    result = models.JSONField(default=dict, help_text="the success dict the handler returned")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "message receipt"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    INBOX = "inbox", "waiting in the inbox for the next connect"
    FAILED = "failed", "every backend failed"


class Notification(models.Model):
    """A notification and its delivery status (see :mod:`channels_lint.runtime.notifications`)."""

    user_id = models.CharField(max_length=150, db_index=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    backend = models.CharField(max_length=100, blank=True, help_text="the backend that delivered (or holds) it")
    attempts = models.JSONField(default=list, help_text="[{backend, ok, error}] in the order tried")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["user_id", "status"])]

    def __str__(self) -> str:
        return f"notification {self.pk} for {self.user_id}: {self.status}"
