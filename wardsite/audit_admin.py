"""The audit trail in the admin: django-auditlog's read-only log entry screens, with who and from where."""
from __future__ import annotations

from auditlog.admin import LogEntryAdmin as AuditlogEntryAdmin
from auditlog.filters import ResourceTypeFilter
from auditlog.models import LogEntry
from django.contrib import admin

from wardsite.audit import actor_label


class AuditEntryAdmin(AuditlogEntryAdmin):
    """Nobody adds, changes or deletes entries here (the daily retention job deletes old ones)."""

    list_display = ["created", "resource_url", "action", "msg_short", "who", "remote_addr", "via"]
    list_filter = ["action", ResourceTypeFilter, "timestamp"]
    search_fields = ["object_repr", "object_pk", "actor__username", "remote_addr"]
    readonly_fields = ["created", "who", "remote_addr", "via", "resource_url", "action", "msg"]
    fieldsets = [
        (None, {"fields": ["created", "who", "remote_addr", "via", "resource_url"]}),
        ("Changes", {"fields": ["action", "msg"]}),
    ]
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over a year of entries on every page

    @admin.display(description="Who")
    def who(self, entry: LogEntry) -> str:
        return actor_label(entry)

    @admin.display(description="Via")
    def via(self, entry: LogEntry) -> str:
        data = entry.additional_data or {}
        return data.get("request") or data.get("via", "")


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditEntryAdmin)
