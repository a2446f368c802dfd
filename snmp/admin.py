"""SNMP in the admin: credentials, items, interfaces, and what SNMP adds to the device page."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.html import format_html

from devices.admin import STATE_COLOURS
from devices.admin_extensions import device_page
from devices.choices import DeviceState
from devices.models import Device
from snmp import bulk_actions, services
from snmp.models import SECRET_FIELDS, Interface, MonitoringItem, SNMPCredential, SNMPStatus
from wardsite.admin_inlines import CappedTabularInline, StackedInline
from wardsite.forms import WriteOnlySecretsForm
from wardsite.job_views import bulk_action


class SNMPCredentialForm(WriteOnlySecretsForm):
    secret_fields = SECRET_FIELDS

    class Meta:
        model = SNMPCredential
        fields = "__all__"


@admin.register(SNMPCredential)
class SNMPCredentialAdmin(admin.ModelAdmin):
    form = SNMPCredentialForm
    list_display = ("name", "version", "security_name", "auth_protocol", "priv_protocol")
    list_filter = ("version",)
    search_fields = ("name", "security_name")

    def get_queryset(self, request):
        # the list never needs the secrets: don't decrypt them
        return super().get_queryset(request).defer(*SECRET_FIELDS)


def save_item_form(form: forms.ModelForm) -> None:
    """Save an item form; what the operator changed on a template-made item is kept as an override."""
    item = form.save(commit=False)
    if item.pk is None:
        item.save()
    else:
        services.record_overrides(item, {name: form.cleaned_data[name] for name in form.changed_data})


def save_item_formset(formset: BaseInlineFormSet) -> None:
    """Save the device page's items as save_item_form does, each changed one on its own."""
    formset.save(commit=False)  # fills new/changed/deleted_objects, which the change message reads
    for item in formset.deleted_objects:
        item.delete()
    for item_form in formset.forms:
        if item_form.has_changed() and item_form not in formset.deleted_forms:
            save_item_form(item_form)


@admin.register(MonitoringItem)
class MonitoringItemAdmin(admin.ModelAdmin):
    list_display = ("name", "device", "metric", "oid", "interval_seconds", "value_type", "enabled", "last_value",
                    "template_item")
    list_filter = ("enabled", "value_type", "template_item__template")
    list_select_related = ("device", "template_item__template")
    search_fields = ("name", "metric", "oid", "device__name")
    autocomplete_fields = ("device",)
    readonly_fields = ("template_item", "overrides", "last_value", "last_error", "last_polled_at")
    actions = ("reset_overrides",)

    def save_model(self, request, obj, form, change) -> None:
        save_item_form(form)

    @admin.action(description="Forget overrides (the template's values apply at its next application)",
                  permissions=["change"])
    def reset_overrides(self, request, queryset) -> None:
        self.message_user(request, f"Overrides forgotten on {queryset.update(overrides=[])} items.")


@admin.register(Interface)
class InterfaceAdmin(admin.ModelAdmin):
    list_display = ("device", "if_index", "name", "alias", "speed_bps", "admin_status", "oper_status", "enabled")
    list_filter = ("enabled", "oper_status", "admin_status")
    list_select_related = ("device",)
    search_fields = ("name", "descr", "alias", "device__name")
    list_editable = ("enabled",)
    readonly_fields = ("updated",)


# --- on the device page (devices.admin_extensions) ---

class SNMPStatusInline(StackedInline):
    model = SNMPStatus
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "SNMP status"
    fields = readonly_fields = (
        "reachable", "error", "checked_at", "next_due_at", "consecutive_failures", "sys_name", "sys_object_id",
        "sys_descr", "uptime_seconds", "discovered_at",
    )


class MonitoringItemInline(CappedTabularInline):
    model = MonitoringItem
    extra = 0
    fields = ("name", "oid", "interval_seconds", "value_type", "units", "enabled", "last_value", "last_error",
              "last_polled_at")
    readonly_fields = ("last_value", "last_error", "last_polled_at")


class InterfaceInline(CappedTabularInline):
    model = Interface
    extra = 0
    can_delete = False
    fields = ("if_index", "name", "alias", "speed_bps", "admin_status", "oper_status", "enabled")
    readonly_fields = ("if_index", "name", "alias", "speed_bps", "admin_status", "oper_status")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # interfaces come from SNMP discovery


@admin.display(description="SNMP")
def snmp(obj: Device) -> str:
    status = getattr(obj, "snmp_status", None) if obj.snmp_enabled else None
    if status is None or status.reachable is None:
        return "–"
    if status.reachable:
        return format_html('<span style="color:{}">ok</span>', STATE_COLOURS[DeviceState.UP])
    return format_html('<span style="color:{}" title="{}">unreachable</span>', STATE_COLOURS[DeviceState.DOWN],
                       status.error)


@admin.action(description="Test SNMP (read the system group)", permissions=["change"])
def test_snmp(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
    return bulk_action(modeladmin, request, queryset, bulk_actions.TEST.name)


@admin.action(description="Poll SNMP now", permissions=["change"])
def poll_snmp(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
    return bulk_action(modeladmin, request, queryset, bulk_actions.POLL.name)


device_page.add_inlines(SNMPStatusInline, order=20)
device_page.add_inlines(MonitoringItemInline, InterfaceInline, order=40)  # after the templates that make items
device_page.add_columns(snmp, after="flapping", select_related=("snmp_status",))
device_page.add_actions(test_snmp, poll_snmp, order=20)
device_page.add_formset_saver(MonitoringItem, save_item_formset)
