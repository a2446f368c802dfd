"""/api/v1/reports/availability: the availability report (alerts.availability) as JSON or CSV."""
from __future__ import annotations

import csv
import io

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import availability
from alerts.filtersets import REPORTED, ReportDeviceFilterSet


class ReportQuerySerializer(serializers.Serializer):
    """What the report covers: the last `period`, or from `start` to `end` (both, ISO 8601)."""

    period = serializers.ChoiceField(choices=list(availability.PERIODS), default="day",
                                     help_text="day, week (7 days) or month (30 days) up to now.")
    start = serializers.DateTimeField(required=False, help_text="Custom period: its start (with `end`).")
    end = serializers.DateTimeField(required=False, help_text="Custom period: its end (with `start`).")
    by = serializers.ChoiceField(choices=["device", "group"], default="device", help_text="A row per device or group.")
    exclude_maintenance = serializers.BooleanField(
        default=False, help_text="Leave the devices' maintenance windows out of the monitored time and downtime.")

    def validate(self, attrs: dict) -> dict:
        try:
            attrs["span"] = availability.report_span(attrs["period"], attrs.get("start"), attrs.get("end"))
        except availability.BadPeriod as exc:
            raise serializers.ValidationError({exc.field: str(exc)}) from None
        return attrs


class AvailabilityRowSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The device, or the group (blank: devices without a group).")
    devices = serializers.IntegerField()
    availability_percent = serializers.FloatField(allow_null=True, help_text="Null: never monitored in the period.")
    downtime_minutes = serializers.FloatField()
    incidents = serializers.IntegerField(help_text="Outages in the period (one going on at its start included).")
    mttr_minutes = serializers.FloatField(allow_null=True, help_text="Mean time to repair of the outages that ended "
                                                                     "in the period, each from its first failed ping.")
    monitored_minutes = serializers.FloatField(help_text="Time up or down (not unknown) in the period.")

    def to_representation(self, row: availability.Availability) -> dict:
        return {"name": row.name, "devices": row.devices, "availability_percent": _rounded(row.availability_percent, 4),
                "downtime_minutes": _rounded(row.downtime_minutes, 2), "incidents": row.incidents,
                "mttr_minutes": _rounded(row.mttr_minutes, 2), "monitored_minutes": _rounded(row.monitored_minutes, 2)}


class AvailabilityReportSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    by = serializers.ChoiceField(choices=["device", "group"])
    exclude_maintenance = serializers.BooleanField()
    results = AvailabilityRowSerializer(many=True)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class CSVRenderer(BaseRenderer):
    """The report's rows as CSV (`?format=csv`), one header line with the field names."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: dict, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> str:
        rows = data.get("results") if isinstance(data, dict) else None
        if rows is None:  # an error: its fields and messages
            rows = [{"field": name, "error": " ".join(map(str, messages)) if isinstance(messages, list) else messages}
                    for name, messages in data.items()]
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue()


class AvailabilityReportView(GenericAPIView):
    """Availability per device or per group over a period: availability %, downtime, incidents and MTTR, from the
    devices' state history with each outage dated from its first failed ping cycle (VictoriaMetrics). The devices
    are chosen with the device list's filters (`group`, `tag`, `state`, `search`...); `?format=csv` for a
    spreadsheet."""

    queryset = REPORTED
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReportDeviceFilterSet
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    pagination_class = None

    @extend_schema(parameters=[ReportQuerySerializer], responses=AvailabilityReportSerializer, filters=True)
    def get(self, request: Request) -> Response:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        rows = availability.report(list(self.filter_queryset(self.get_queryset())), asked["span"], asked["by"],
                                   asked["exclude_maintenance"])
        response = Response(AvailabilityReportSerializer({
            "start": asked["span"][0], "end": asked["span"][1], "by": asked["by"],
            "exclude_maintenance": asked["exclude_maintenance"], "results": rows}).data)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = 'attachment; filename="availability.csv"'
        return response
