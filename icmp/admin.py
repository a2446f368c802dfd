from django.contrib import admin

from icmp.models import PingSettings, PingStatus
from wardsite.admin_display import rounded_column
from wardsite.numbers import LOSS_DECIMALS, RTT_DECIMALS


@admin.register(PingSettings)
class PingSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "interval_seconds", "packets", "packet_interval_ms", "timeout_ms", "down_after")
    list_select_related = ("device", "group")
    autocomplete_fields = ("device", "group")


@admin.register(PingStatus)
class PingStatusAdmin(admin.ModelAdmin):
    list_display = fields = (
        "device", "checked_at", rounded_column("rtt_avg_ms", "RTT avg ms", RTT_DECIMALS),
        rounded_column("rtt_min_ms", "RTT min ms", RTT_DECIMALS),
        rounded_column("rtt_max_ms", "RTT max ms", RTT_DECIMALS),
        rounded_column("jitter_ms", "jitter ms", RTT_DECIMALS),
        rounded_column("packet_loss", "loss %", LOSS_DECIMALS),
        "consecutive_failures", "next_due_at", "error",
    )
    readonly_fields = fields
    list_select_related = ("device",)
    search_fields = ("device__name", "device__address")
    list_filter = ("device__state",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
