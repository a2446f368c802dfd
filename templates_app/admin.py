"""Admin: the template library and its editor; applying to devices lives on the device list (devices.admin)."""
from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.db.models import QuerySet

from templates_app import applier
from templates_app.library import export_document
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem, TemplateTrigger


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    extra = 0
    fields = ("key", "name", "oid", "interval_seconds", "value_type", "units", "enabled", "discovery", "value_map")


class TemplateTriggerInline(admin.StackedInline):
    model = TemplateTrigger
    extra = 0
    fields = (("name", "severity", "for_seconds"), "expression", "recovery_expression", "description")


class AssignmentInline(admin.TabularInline):
    model = TemplateAssignment
    extra = 0
    can_delete = False
    fields = readonly_fields = ("device", "auto", "applied_version", "applied_at", "error")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # applied from the device list or the API


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

    @admin.action(description="Export as JSON documents")
    def export_json(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        documents = [export_document(template) for template in queryset]
        response = HttpResponse(json.dumps(documents, indent=2), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="wardflux-templates.json"'
        return response

    @admin.action(description="Apply again to the devices that have them", permissions=["change"])
    def reapply(self, request: HttpRequest, queryset: QuerySet) -> None:
        for assignment in TemplateAssignment.objects.filter(template__in=queryset).select_related("template",
                                                                                                    "device"):
            report = applier.apply(assignment.template, assignment.device, auto=assignment.auto)
            self.message_user(request, str(report), messages.WARNING if report.problems else messages.SUCCESS)
