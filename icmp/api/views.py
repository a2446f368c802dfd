from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.filtersets import DeviceFilterSet
from devices.models import Device
from icmp import services
from icmp.api.serializers import ICMPStatusSerializer
from icmp.history_sources import HistoryUnavailable
from wardsite.api import unavailable
from wardsite.durations import parse_duration
from wardsite.permissions import needs
from wardsite.victoria import VictoriaError


class ICMPStatusView(ListAPIView):
    """Every ICMP-monitored device's current state, RTT and loss."""

    queryset = Device.objects.filter(icmp_enabled=True).select_related("ping_status").with_flap_count()
    serializer_class = ICMPStatusSerializer
    filterset_class = DeviceFilterSet
    search_fields = ["name", "address"]

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "flap_threshold": settings.FLAP_THRESHOLD}


class ICMPHistoryView(APIView):
    """A device's ping series, plus its availability over the range: from VictoriaMetrics, or from the app that
    claims the device (a Zabbix device: from Zabbix); `source` says which, `note` what is missing."""

    permission_classes = [needs("devices.view_device")]

    @extend_schema(
        parameters=[OpenApiParameter("device_id", int, OpenApiParameter.PATH),
                    OpenApiParameter("range", str, description="e.g. 15m, 1h (default), 7d")],
        responses={200: OpenApiTypes.OBJECT, **unavailable(503, 502)},
    )
    def get(self, request: Request, device_id: str) -> Response:
        device = get_object_or_404(Device, pk=device_id)
        window = request.query_params.get("range", "1h")
        try:
            parse_duration(window)
        except ValueError as exc:
            raise ValidationError({"range": [str(exc)]}) from None
        try:
            found = services.device_history(device, window)
        except VictoriaError as exc:
            return Response({"detail": f"VictoriaMetrics: {exc}"}, status=503)
        except HistoryUnavailable as exc:  # the source is another system (e.g. Zabbix) and it failed: a bad gateway
            return Response({"detail": str(exc)}, status=502)
        return Response(
            {"device_id": device.pk, "device": device.name, "range": window, "availability": found.availability,
             "source": found.source, "note": found.note,
             "series": {name: [[t, v] for t, v in points] for name, points in found.series.items()}}
        )
