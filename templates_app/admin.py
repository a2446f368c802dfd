"""Admin: the template library and its editor, and the device list's template actions (devices.admin_extensions)."""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.db.models import QuerySet

from devices.admin_extensions import device_page
from templates_app import applier, bulk_actions
from templates_app.library import export_document
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem, TemplateTrigger
from wardsite.admin_inlines import StackedInline, TabularInline
from wardsite.job_views import bulk_action


class TemplateItemInline(TabularInline):
    model = TemplateItem
    extra = 0
    fields = ("key", "name", "oid", "interval_seconds", "value_type", "units", "enabled", "discovery", "value_map")


class TemplateTriggerInline(StackedInline):
    model = TemplateTrigger
    extra = 0
    fields = (("name", "severity", "for_seconds"), "expression", "recovery_expression", "description")


class AssignmentInline(TabularInline):
    """The devices a template is applied to, on the template's page."""

    model = TemplateAssignment
    extra = 0
    can_delete = False
    fields = readonly_fields = ("device", "auto", "applied_version", "applied_at", "error")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("device", "template")  # both in each row's title

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # applied from the device list or the API


def _show_report(modeladmin: admin.ModelAdmin, request: HttpRequest, report: applier.ApplyReport) -> None:
    modeladmin.message_user(request, str(report), messages.WARNING if report.problems else messages.SUCCESS)


@admin.register(MonitoringTemplate)
class MonitoringTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "vendor", "version", "priority", "origin", "available_version")
    list_filter = ("origin", "vendor")
    search_fields = ("name", "key", "vendor", "description")
    readonly_fields = ("origin", "available_version", "updated")
    inlines = (TemplateItemInline, TemplateTriggerInline, AssignmentInline)
    actions = ("export_json", "reapply")
    fieldsets = (
        (None, {"fields": ("name", "key", "version", "vendor", "description", "device_types", "includes")}),
        ("Auto-selection", {"fields": ("priority", "match_sys_object_ids", "match_sys_descr")}),
        ("Origin", {"fields": ("origin", "available_version", "updated")}),
    )

    @admin.action(description="Export as JSON documents", permissions=["view"])
    def export_json(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        documents = [export_document(template) for template in queryset]
        response = HttpResponse(json.dumps(documents, indent=2), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="wardflux-templates.json"'
        return response

    @admin.action(description="Apply again to the devices that have them", permissions=["change"])
    def reapply(self, request: HttpRequest, queryset: QuerySet) -> None:
        for assignment in TemplateAssignment.objects.filter(template__in=queryset).select_related("template",
                                                                                                    "device"):
            _show_report(self, request, applier.apply(assignment.template, assignment.device, auto=assignment.auto))


# --- on the device page ---

class TemplateAssignmentInline(AssignmentInline):
    """The templates applied to a device, on the device's page."""

    fields = readonly_fields = ("template", "auto", "applied_version", "applied_at", "error")
    verbose_name_plural = "templates (apply or unlink from the device list)"


def _chosen_template(modeladmin: admin.ModelAdmin, request: HttpRequest) -> MonitoringTemplate | None:
    template = MonitoringTemplate.objects.filter(pk=request.POST.get("template") or None).first()
    if template is None:
        modeladmin.message_user(request, "Choose a template next to the action.", messages.ERROR)
    return template


@admin.action(description="Apply the chosen template", permissions=["change"])
def apply_template(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
                   ) -> HttpResponseRedirect | None:
    template = _chosen_template(modeladmin, request)
    if template is None:
        return None
    return bulk_action(modeladmin, request, queryset, bulk_actions.APPLY.name, {"template": template.pk})


@admin.action(description="Pick and apply the matching template (by sysObjectID/sysDescr)", permissions=["change"])
def auto_template(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
                  ) -> HttpResponseRedirect | None:
    return bulk_action(modeladmin, request, queryset, bulk_actions.AUTO.name)


@admin.action(description="Unlink the chosen template (keep its items as the device's own)", permissions=["change"])
def unlink_template(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    template = _chosen_template(modeladmin, request)
    for device in queryset if template else ():
        kept = applier.unlink(template, device, remove_items=False)
        modeladmin.message_user(request, f"{template} unlinked from {device}; {kept} items kept")


device_page.add_inlines(TemplateAssignmentInline, order=30)
device_page.add_actions(apply_template, auto_template, unlink_template, order=30, fields={
    "template": forms.ModelChoiceField(MonitoringTemplate.objects.all(), required=False,
                                       help_text="for the template actions"),
})
