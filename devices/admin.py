"""Admin for the inventory: the main screen network staff work in.

This module holds the inventory only (devices, addresses, state history, groups, tags, profiles). The other apps add
their inlines, columns and actions to the device page from their own admin.py, through devices.admin_extensions.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from devices.admin_extensions import ExtendedModelAdmin, device_page, group_page
from devices.choices import DeviceState
from devices.models import Device, DeviceAddress, DeviceGroup, DeviceStateChange, MonitoringProfile, Tag
from wardsite.admin_inlines import CappedTabularInline, TabularInline

STATE_COLOURS = {DeviceState.UP: "#1a7f37", DeviceState.DOWN: "#cf222e", DeviceState.UNKNOWN: "#6e7781"}
FLAPPING_COLOUR = "#d4700a"


class DeviceAddressInline(TabularInline):
    model = DeviceAddress
    extra = 0
    verbose_name_plural = "other addresses (aliases; discovery adds those it finds)"


class StateChangeInline(CappedTabularInline):
    model = DeviceStateChange
    extra = 0
    max_num = 0
    can_delete = False
    readonly_fields = ("at", "previous", "new", "reason")
    ordering = ("-at",)
    verbose_name_plural = "state history"


class QuickFilter(admin.SimpleListFilter):
    """The lists an operator asks for first."""

    title = "quick"
    parameter_name = "quick"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("down", "Down now"), ("flapping", "Flapping"), ("unmonitored", "Not monitored")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "down":
                return queryset.filter(state=DeviceState.DOWN)
            case "flapping":  # the page's queryset counts each device's recent state changes
                return queryset.filter(flap_count__gte=settings.FLAP_THRESHOLD)
            case "unmonitored":
                return queryset.filter(icmp_enabled=False, snmp_enabled=False)
        return queryset


@admin.register(Device)
class DeviceAdmin(ExtendedModelAdmin):
    """Columns, inlines and actions of other apps come from `device_page`; see get_inlines for their place."""

    extensions = device_page
    list_display = ("name", "address", "device_type", "group", "state_badge", "state_since", "flapping", "last_seen")
    list_filter = (QuickFilter, "state", "device_type", "group", "source", "icmp_enabled", "snmp_enabled", "tags")
    search_fields = ("name", "address", "aliases__address", "vendor", "model", "serial_number", "location",
                     "description")
    list_select_related = ("group",)
    autocomplete_fields = ("parent",)
    filter_horizontal = ("tags",)
    readonly_fields = ("source", "state", "state_since", "last_seen", "created", "updated")
    list_per_page = 100
    own_actions = ("enable_icmp", "disable_icmp", "enable_snmp", "disable_snmp")
    fieldsets = (
        (None, {"fields": ("name", "address", "device_type", "group", "tags", "parent", "description")}),
        ("Hardware and location", {"fields": ("vendor", "model", "os_version", "serial_number", "location",
                                              ("latitude", "longitude"))}),
        ("Monitoring", {"fields": ("icmp_enabled", "snmp_enabled", "snmp_port", "snmp_credential", "source")}),
        ("State", {"fields": ("state", "state_since", "last_seen", "created", "updated")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_flap_count()

    def get_inlines(self, request: HttpRequest, obj: Device | None) -> list:
        """The addresses first, then what the other apps added, the state history last."""
        return [DeviceAddressInline, *device_page.inlines(), StateChangeInline]

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: Device) -> str:
        return format_html('<b style="color:{}">{}</b>', STATE_COLOURS[obj.state], obj.get_state_display())

    @admin.display(description="Flapping", ordering="flap_count", empty_value="")
    def flapping(self, obj: Device) -> str:
        """A badge while flapping; nothing otherwise (most devices are not, and need no mark)."""
        if obj.flap_count < settings.FLAP_THRESHOLD:
            return ""
        return format_html('<span style="background:{};color:#fff;border-radius:4px;padding:1px 6px" title="{} state '
                           'changes in the last {} min">flapping</span>', FLAPPING_COLOUR, obj.flap_count,
                           settings.FLAP_WINDOW_MINUTES)

    def _set_flag(self, request: HttpRequest, queryset: QuerySet, field: str, value: bool) -> None:
        count = queryset.update(**{field: value})
        self.message_user(request, f"{'Enabled' if value else 'Disabled'} {field.split('_')[0].upper()} on {count} devices.")

    @admin.action(description="Enable ICMP monitoring", permissions=["change"])
    def enable_icmp(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_flag(request, queryset, "icmp_enabled", True)

    @admin.action(description="Disable ICMP monitoring", permissions=["change"])
    def disable_icmp(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_flag(request, queryset, "icmp_enabled", False)

    @admin.action(description="Enable SNMP monitoring", permissions=["change"])
    def enable_snmp(self, request: HttpRequest, queryset: QuerySet) -> None:
        without = list(queryset.filter(snmp_credential__isnull=True).values_list("name", flat=True)[:20])
        if without:
            self.message_user(request, f"Not enabled without an SNMP credential: {', '.join(without)}", messages.WARNING)
        self._set_flag(request, queryset.filter(snmp_credential__isnull=False), "snmp_enabled", True)

    @admin.action(description="Disable SNMP monitoring", permissions=["change"])
    def disable_snmp(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_flag(request, queryset, "snmp_enabled", False)


@admin.register(DeviceStateChange)
class DeviceStateChangeAdmin(admin.ModelAdmin):
    """The full state history (the device page shows the newest changes); written only by devices.services."""

    list_display = ("at", "device", "previous", "new", "reason")
    list_filter = ("new",)
    list_select_related = ("device",)
    search_fields = ("device__name", "device__address", "reason")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DeviceStateChange | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DeviceStateChange | None = None) -> bool:
        return False


@admin.register(DeviceGroup)
class DeviceGroupAdmin(ExtendedModelAdmin):
    extensions = group_page
    list_display = ("name", "poller_queue", "description")
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(MonitoringProfile)
class MonitoringProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "mode", "is_active")
    list_editable = ("mode",)
