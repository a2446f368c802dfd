"""Admin for the inventory: the main screen network staff work in."""
from __future__ import annotations

from django.conf import settings
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from devices.choices import DeviceState
from devices.models import Device, DeviceAddress, DeviceGroup, DeviceStateChange, MonitoringProfile, Tag
from icmp import services as icmp_services
from icmp.models import PingSettings
from snmp import services as snmp_services
from snmp.client import SNMPError
from snmp.admin import save_item_form
from snmp.models import Interface, MonitoringItem, SNMPStatus
from templates_app import applier
from templates_app.models import MonitoringTemplate, TemplateAssignment
from wardsite.numbers import AVAILABILITY_DECIMALS, LOSS_DECIMALS, RTT_DECIMALS, readable
from wardsite.victoria import VictoriaError

STATE_COLOURS = {DeviceState.UP: "#1a7f37", DeviceState.DOWN: "#cf222e", DeviceState.UNKNOWN: "#6e7781"}
FLAPPING_COLOUR = "#d4700a"
PING_NOW_LIMIT = 1000
SNMP_NOW_LIMIT = 50  # test/poll run while the admin page waits


class PingSettingsInline(admin.StackedInline):
    model = PingSettings
    fk_name = "device"
    extra = 0
    max_num = 1
    verbose_name = "ping settings (overrides group and global defaults)"


class GroupPingSettingsInline(PingSettingsInline):
    fk_name = "group"
    verbose_name = "ping settings for the group's devices"


class DeviceAddressInline(admin.TabularInline):
    model = DeviceAddress
    extra = 0
    verbose_name_plural = "other addresses (aliases; discovery adds those it finds)"


class StateChangeInline(admin.TabularInline):
    model = DeviceStateChange
    extra = 0
    max_num = 0
    can_delete = False
    readonly_fields = ("at", "previous", "new", "reason")
    ordering = ("-at",)
    verbose_name_plural = "state history"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-at")


class MonitoringItemInline(admin.TabularInline):
    model = MonitoringItem
    extra = 0
    fields = ("name", "oid", "interval_seconds", "value_type", "units", "enabled", "last_value", "last_error",
              "last_polled_at")
    readonly_fields = ("last_value", "last_error", "last_polled_at")


class TemplateAssignmentInline(admin.TabularInline):
    model = TemplateAssignment
    extra = 0
    can_delete = False
    fields = readonly_fields = ("template", "auto", "applied_version", "applied_at", "error")
    verbose_name_plural = "templates (apply or unlink from the device list)"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SNMPStatusInline(admin.StackedInline):
    model = SNMPStatus
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "SNMP status"
    fields = readonly_fields = (
        "reachable", "error", "checked_at", "next_due_at", "consecutive_failures", "sys_name", "sys_object_id",
        "sys_descr", "uptime_seconds", "discovered_at",
    )


class InterfaceInline(admin.TabularInline):
    model = Interface
    extra = 0
    can_delete = False
    fields = ("if_index", "name", "alias", "speed_bps", "admin_status", "oper_status", "enabled")
    readonly_fields = ("if_index", "name", "alias", "speed_bps", "admin_status", "oper_status")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # interfaces come from SNMP discovery


class DeviceActionForm(ActionForm):
    """The action bar, with the template the template actions use."""

    template = forms.ModelChoiceField(MonitoringTemplate.objects.all(), required=False,
                                      help_text="for the template actions")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    action_form = DeviceActionForm
    list_display = (
        "name", "address", "device_type", "group", "state_badge", "state_since", "rtt", "loss", "availability_24h",
        "flapping", "snmp", "last_seen",
    )
    list_filter = ("state", "device_type", "group", "source", "icmp_enabled", "snmp_enabled", "tags")
    search_fields = ("name", "address", "aliases__address", "vendor", "model", "description")
    list_select_related = ("group", "ping_status", "snmp_status")
    autocomplete_fields = ("parent",)
    filter_horizontal = ("tags",)
    readonly_fields = ("state", "state_since", "last_seen", "created", "updated")
    list_per_page = 100
    inlines = (DeviceAddressInline, PingSettingsInline, SNMPStatusInline, TemplateAssignmentInline,
               MonitoringItemInline, InterfaceInline, StateChangeInline)
    actions = ("enable_icmp", "disable_icmp", "enable_snmp", "disable_snmp", "ping_now", "test_snmp", "poll_snmp",
               "apply_template", "auto_template", "unlink_template")
    fieldsets = (
        (None, {"fields": ("name", "address", "device_type", "group", "tags", "parent", "description")}),
        ("Hardware", {"fields": ("vendor", "model", "os_version")}),
        ("Monitoring", {"fields": ("icmp_enabled", "snmp_enabled", "snmp_port", "snmp_credential", "source")}),
        ("State", {"fields": ("state", "state_since", "last_seen", "created", "updated")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_flap_count()

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not MonitoringItem:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # fills new/changed/deleted_objects, which the change message reads
        for item in formset.deleted_objects:
            item.delete()
        for item_form in formset.forms:
            if item_form.has_changed() and item_form not in formset.deleted_forms:
                save_item_form(item_form)

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        devices = list(changelist.result_list)  # evaluates the page once; the template reuses the cache
        availability = self._load_availability([d.pk for d in devices], request)
        for device in devices:
            device.availability = availability.get(device.pk)
        return changelist

    def _load_availability(self, device_ids: list[int], request: HttpRequest) -> dict[int, float]:
        try:
            return icmp_services.availability(device_ids)
        except VictoriaError as exc:
            self.message_user(request, f"Availability unavailable: {exc}", messages.WARNING)
            return {}

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: Device) -> str:
        return format_html('<b style="color:{}">{}</b>', STATE_COLOURS[obj.state], obj.get_state_display())

    @admin.display(description="RTT ms", ordering="ping_status__rtt_avg_ms")
    def rtt(self, obj: Device) -> str:
        status = getattr(obj, "ping_status", None)
        return "—" if status is None or status.rtt_avg_ms is None else readable(status.rtt_avg_ms, RTT_DECIMALS)

    @admin.display(description="Loss %", ordering="ping_status__packet_loss")
    def loss(self, obj: Device) -> str:
        status = getattr(obj, "ping_status", None)
        return "—" if status is None or status.packet_loss is None else readable(status.packet_loss, LOSS_DECIMALS)

    @admin.display(description="Avail. 24h")
    def availability_24h(self, obj: Device) -> str:
        value = getattr(obj, "availability", None)
        return "—" if value is None else f"{readable(value, AVAILABILITY_DECIMALS)} %"

    @admin.display(description="Flapping", ordering="flap_count", empty_value="")
    def flapping(self, obj: Device) -> str:
        """A badge while flapping; nothing otherwise (most devices are not, and need no mark)."""
        if obj.flap_count < settings.FLAP_THRESHOLD:
            return ""
        return format_html('<span style="background:{};color:#fff;border-radius:4px;padding:1px 6px" title="{} state '
                           'changes in the last {} min">flapping</span>', FLAPPING_COLOUR, obj.flap_count,
                           settings.FLAP_WINDOW_MINUTES)

    @admin.display(description="SNMP")
    def snmp(self, obj: Device) -> str:
        status = getattr(obj, "snmp_status", None) if obj.snmp_enabled else None
        if status is None or status.reachable is None:
            return "–"
        if status.reachable:
            return format_html('<span style="color:{}">ok</span>', STATE_COLOURS[DeviceState.UP])
        return format_html('<span style="color:{}" title="{}">unreachable</span>', STATE_COLOURS[DeviceState.DOWN],
                           status.error)

    def _set_flag(self, request: HttpRequest, queryset: QuerySet, field: str, value: bool) -> None:
        count = queryset.update(**{field: value})
        self.message_user(request, f"{'Enabled' if value else 'Disabled'} {field.split('_')[0].upper()} on {count} devices.")

    @admin.action(description="Enable ICMP monitoring", permissions=["change"])
    def enable_icmp(self, request, queryset):
        self._set_flag(request, queryset, "icmp_enabled", True)

    @admin.action(description="Disable ICMP monitoring", permissions=["change"])
    def disable_icmp(self, request, queryset):
        self._set_flag(request, queryset, "icmp_enabled", False)

    @admin.action(description="Enable SNMP monitoring", permissions=["change"])
    def enable_snmp(self, request, queryset):
        without = list(queryset.filter(snmp_credential__isnull=True).values_list("name", flat=True)[:20])
        if without:
            self.message_user(request, f"Not enabled without an SNMP credential: {', '.join(without)}", messages.WARNING)
        self._set_flag(request, queryset.filter(snmp_credential__isnull=False), "snmp_enabled", True)

    @admin.action(description="Disable SNMP monitoring", permissions=["change"])
    def disable_snmp(self, request, queryset):
        self._set_flag(request, queryset, "snmp_enabled", False)

    @admin.action(description="Ping now", permissions=["change"])
    def ping_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[: PING_NOW_LIMIT + 1])
        if len(ids) > PING_NOW_LIMIT:
            self.message_user(request, f"Select at most {PING_NOW_LIMIT} devices to ping at once.", messages.ERROR)
            return
        names = dict(queryset.values_list("pk", "name"))
        for outcome in icmp_services.run_cycle(ids):
            result = outcome.result
            level = messages.SUCCESS if result.is_alive else messages.WARNING
            rtt = f"rtt {readable(result.avg_ms, RTT_DECIMALS)} ms, " if result.is_alive else ""
            loss = readable(result.loss_percent, LOSS_DECIMALS)
            detail = f" ({result.error})" if result.error else ""
            self.message_user(request, f"{names[outcome.device_id]}: {rtt}loss {loss} %, {outcome.state}{detail}", level)


    def _snmp_selection(self, request: HttpRequest, queryset: QuerySet) -> list[Device]:
        devices = list(queryset.select_related("snmp_credential")[: SNMP_NOW_LIMIT + 1])
        if len(devices) > SNMP_NOW_LIMIT:
            self.message_user(request, f"Select at most {SNMP_NOW_LIMIT} devices at once.", messages.ERROR)
            return []
        return devices

    @admin.action(description="Test SNMP (read the system group)", permissions=["change"])
    def test_snmp(self, request, queryset):
        for device in self._snmp_selection(request, queryset):
            try:
                facts = snmp_services.test_connection(snmp_services.target_for(device))
            except (snmp_services.SNMPConfigError, SNMPError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"{device}: {facts['sys_name']} ({facts['sys_object_id']}), up "
                                       f"{facts['uptime_seconds']} s: {facts['sys_descr'][:120]}", messages.SUCCESS)

    @admin.action(description="Poll SNMP now", permissions=["change"])
    def poll_snmp(self, request, queryset):
        pollable = []
        for device in self._snmp_selection(request, queryset):
            try:
                snmp_services.check_pollable(device)
                pollable.append(device.pk)
            except snmp_services.SNMPConfigError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        for result in snmp_services.run_batch(pollable, force=True) if pollable else ():
            if result.error:
                self.message_user(request, result.error, messages.ERROR)
            else:
                self.message_user(request, f"{result.device}: {len(result.items)} items, {len(result.interfaces)} "
                                           f"interfaces, {result.samples_written} samples written", messages.SUCCESS)

    def _chosen_template(self, request: HttpRequest) -> MonitoringTemplate | None:
        template = MonitoringTemplate.objects.filter(pk=request.POST.get("template") or None).first()
        if template is None:
            self.message_user(request, "Choose a template next to the action.", messages.ERROR)
        return template

    @admin.action(description="Apply the chosen template", permissions=["change"])
    def apply_template(self, request, queryset):
        template = self._chosen_template(request)
        for device in self._snmp_selection(request, queryset) if template else ():
            report = applier.apply(template, device)
            self.message_user(request, str(report), messages.WARNING if report.problems else messages.SUCCESS)

    @admin.action(description="Pick and apply the matching template (by sysObjectID/sysDescr)", permissions=["change"])
    def auto_template(self, request, queryset):
        for device in self._snmp_selection(request, queryset):
            try:
                template, report = applier.auto_apply(device)
            except (snmp_services.SNMPConfigError, SNMPError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            if template is None:
                self.message_user(request, f"{device}: no template matches its sysObjectID/sysDescr", messages.WARNING)
            else:
                self.message_user(request, str(report), messages.WARNING if report.problems else messages.SUCCESS)

    @admin.action(description="Unlink the chosen template (keep its items as the device's own)",
                  permissions=["change"])
    def unlink_template(self, request, queryset):
        template = self._chosen_template(request)
        for device in queryset if template else ():
            kept = applier.unlink(template, device, remove_items=False)
            self.message_user(request, f"{template} unlinked from {device}; {kept} items kept")

@admin.register(DeviceGroup)
class DeviceGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "poller_queue", "description")
    search_fields = ("name",)
    inlines = (GroupPingSettingsInline,)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(MonitoringProfile)
class MonitoringProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "mode", "is_active")
    list_editable = ("mode",)

