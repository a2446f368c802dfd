"""ICMP in the admin: ping settings and results, and what ICMP adds to the device and group pages."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from devices.admin_extensions import device_page, group_page
from devices.models import Device
from icmp import services
from icmp.bulk_actions import PING_NOW
from icmp.models import PingSettings, PingStatus
from wardsite.admin_display import rounded_column
from wardsite.admin_inlines import StackedInline
from wardsite.job_views import bulk_action
from wardsite.numbers import AVAILABILITY_DECIMALS, LOSS_DECIMALS, RTT_DECIMALS, readable
from wardsite.victoria import VictoriaError


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


# --- on the device and group pages (devices.admin_extensions) ---

class PingSettingsInline(StackedInline):
    model = PingSettings
    fk_name = "device"
    extra = 0
    max_num = 1
    verbose_name = "ping settings (overrides group and global defaults)"


class GroupPingSettingsInline(PingSettingsInline):
    fk_name = "group"
    verbose_name = "ping settings for the group's devices"


@admin.display(description="RTT ms", ordering="ping_status__rtt_avg_ms")
def rtt(obj: Device) -> str:
    status = getattr(obj, "ping_status", None)
    return "—" if status is None or status.rtt_avg_ms is None else readable(status.rtt_avg_ms, RTT_DECIMALS)


@admin.display(description="Loss %", ordering="ping_status__packet_loss")
def loss(obj: Device) -> str:
    status = getattr(obj, "ping_status", None)
    return "—" if status is None or status.packet_loss is None else readable(status.packet_loss, LOSS_DECIMALS)


@admin.display(description="Avail. 24h")
def availability_24h(obj: Device) -> str:
    value = getattr(obj, "availability", None)
    return "—" if value is None else f"{readable(value, AVAILABILITY_DECIMALS)} %"


def load_availability(modeladmin: admin.ModelAdmin, request: HttpRequest, devices: list[Device]) -> None:
    """Each device's 24 h availability from VictoriaMetrics, in one query for the page."""
    try:
        availability = services.availability([d.pk for d in devices])
    except VictoriaError as exc:
        modeladmin.message_user(request, f"Availability unavailable: {exc}", messages.WARNING)
        availability = {}
    for device in devices:
        device.availability = availability.get(device.pk)


@admin.action(description="Ping now", permissions=["change"])
def ping_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
    return bulk_action(modeladmin, request, queryset, PING_NOW.name)


device_page.add_inlines(PingSettingsInline, order=10)
device_page.add_columns(rtt, loss, availability_24h, after="state_since", select_related=("ping_status",),
                        loader=load_availability)
device_page.add_actions(ping_now, order=10)
group_page.add_inlines(GroupPingSettingsInline, order=10)
