"""Admin for the runtime's error records (filters by type and resolved, a "mark resolved" action)."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from .models import MessagingError, Notification


class MessagingErrorAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "error_type", "category", "consumer", "user_id", "recovery_action", "resolved")
    list_filter = ("resolved", "error_type", "category", "recovery_action")
    search_fields = ("error_type", "error_message", "consumer", "user_id", "channel_name")
    date_hierarchy = "occurred_at"
    readonly_fields = ("occurred_at",)
    actions = ("mark_resolved", "mark_unresolved")

    @admin.action(description="Mark selected errors as resolved")
    def mark_resolved(self, request, queryset):
        count = queryset.update(resolved=True)
        self.message_user(request, f"{count} error(s) marked resolved.")

    @admin.action(description="Mark selected errors as unresolved")
    def mark_unresolved(self, request, queryset):
        count = queryset.update(resolved=False)
        self.message_user(request, f"{count} error(s) marked unresolved.")


class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user_id", "status", "backend", "delivered_at")
    list_filter = ("status", "backend")
    search_fields = ("user_id",)


if apps.is_installed("django.contrib.admin"):  # admin.site needs the admin app; autodiscover imports us only then
    admin.site.register(MessagingError, MessagingErrorAdmin)
    admin.site.register(Notification, NotificationAdmin)
