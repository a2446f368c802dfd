"""The availability report in the admin (Reports on the admin's front page): the same rows as
/api/v1/reports/availability, the devices chosen with the same filters, with a link to them as CSV."""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from alerts import availability
from alerts.filtersets import REPORTED, ReportDeviceFilterSet

CUSTOM = "custom"
LISTED = ("group", "tag")  # filters offered as a list to choose from (few rows), the others typed


class ReportForm(forms.Form):
    period = forms.ChoiceField(choices=[("day", "Last 24 hours"), ("week", "Last 7 days"),
                                        ("month", "Last 30 days"), (CUSTOM, "From … to …")], initial="day",
                               required=False)
    start = forms.DateTimeField(required=False, help_text="For “From … to …”, e.g. 2026-11-01 00:00 (TIME_ZONE).")
    end = forms.DateTimeField(required=False)
    by = forms.ChoiceField(choices=[("device", "Device"), ("group", "Group")], initial="device",
                           label="A row per", required=False)
    exclude_maintenance = forms.BooleanField(required=False, label="Leave maintenance windows out")

    def clean(self) -> dict:
        data = super().clean()
        data["by"] = data.get("by") or "device"
        custom = data.get("period") == CUSTOM
        try:
            data["span"] = availability.report_span("day" if custom else data.get("period") or "day",
                                                    data.get("start") if custom else None,
                                                    data.get("end") if custom else None)
        except availability.BadPeriod as exc:
            self.add_error(exc.field, str(exc))
        return data

    def api_query(self, filters: ReportDeviceFilterSet) -> str:
        """The same report's query string for /api/v1/reports/availability (as CSV), with the same filters."""
        data = self.cleaned_data
        query = {"start": data["span"][0].isoformat(), "end": data["span"][1].isoformat(), "by": data["by"],
                 "exclude_maintenance": str(data["exclude_maintenance"]).lower(), "format": "csv"}
        given = {name: filters.data.getlist(name) for name in filters.filters if any(filters.data.getlist(name))}
        return urlencode({**query, **given}, doseq=True)


def device_filters(request: HttpRequest) -> ReportDeviceFilterSet:
    """The report's device filters from the query string; groups and tags offered as lists."""
    filters = ReportDeviceFilterSet(request.GET or None, queryset=REPORTED)
    for name in LISTED:
        field = filters.form.fields[name]
        field.empty_label = "Any"
        field.widget = forms.Select(choices=field.choices)
    return filters


def availability_report(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm("devices.view_device"):
        raise PermissionDenied
    form, filters = ReportForm(request.GET or None), device_filters(request)
    rows, csv_url = None, None
    if form.is_bound and all([form.is_valid(), filters.is_valid()]):  # both, for the errors of both
        rows = availability.report(list(filters.qs), form.cleaned_data["span"], form.cleaned_data["by"],
                                   form.cleaned_data["exclude_maintenance"])
        csv_url = f"{reverse('reports-api:availability')}?{form.api_query(filters)}"
    return TemplateResponse(request, "alerts/availability_report.html", {
        **admin.site.each_context(request), "title": "Availability report", "form": form, "filters": filters.form,
        "rows": rows, "csv_url": csv_url, "span": form.cleaned_data.get("span") if rows is not None else None})
