from django.contrib import admin

from icmp.models import PingSettings, PingStatus


@admin.register(PingSettings)
class PingSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "interval_seconds", "packets", "packet_interval_ms", "timeout_ms", "down_after")
    list_select_related = ("device", "group")
    autocomplete_fields = ("device", "group")


@admin.register(PingStatus)
class PingStatusAdmin(admin.ModelAdmin):
    list_display = (
        "device", "checked_at", "rtt_avg_ms", "rtt_min_ms", "rtt_max_ms", "jitter_ms", "packet_loss",
        "consecutive_failures", "next_due_at", "error",
    )
    list_select_related = ("device",)
    search_fields = ("device__name", "device__address")
    list_filter = ("device__state",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
