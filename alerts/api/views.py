from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet, ReadOnlyModelViewSet

from alerts import services
from alerts.api.serializers import (
    AcknowledgeSerializer, AlertRuleSerializer, AlertSerializer, MaintenanceWindowSerializer,
    NotificationChannelSerializer)
from alerts.choices import AlertStatus
from alerts.filtersets import AlertFilterSet
from alerts.models import Alert, AlertRule, MaintenanceWindow, NotificationChannel
from devices.models import Device
from wardsite.api import NoBodySerializer
from wardsite.permissions import needs


class AlertRuleViewSet(ModelViewSet):
    queryset = AlertRule.objects.prefetch_related("devices", "groups", "tags", "templates", "channels",
                                                  "escalation_channels")
    serializer_class = AlertRuleSerializer
    filterset_fields = ["severity", "enabled"]
    search_fields = ["name", "expression"]


class NotificationChannelViewSet(ModelViewSet):
    queryset = NotificationChannel.objects.all()
    serializer_class = NotificationChannelSerializer
    filterset_fields = ["kind", "enabled"]
    search_fields = ["name"]


class MaintenanceWindowViewSet(ModelViewSet):
    """Maintenance windows (silences): one-off or recurring, per device, group or tag."""

    queryset = MaintenanceWindow.objects.prefetch_related("devices", "groups", "tags")
    serializer_class = MaintenanceWindowSerializer
    search_fields = ["name", "comment"]


class AlertViewSet(ReadOnlyModelViewSet):
    """Alerts: `active` (firing now), `history` (every alert, newest first), `acknowledge` and `resolve`."""

    # the device's name by a subquery that PostgreSQL runs for the page's rows only: joined, every page hashed all
    # devices (4-6 ms at 10,000) and made a Device per alert
    queryset = Alert.objects.select_related("rule", "acknowledged_by").annotate(
        device_name=Subquery(Device.objects.filter(pk=OuterRef("device_id")).order_by().values("name")))
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    lookup_value_regex = r"\d+"

    @extend_schema(responses=AlertSerializer(many=True))  # a page of alerts, like the list
    @action(detail=False)
    def active(self, request):
        """Alerts firing now, most severe first, then newest; paginated like every list."""
        firing = self.filter_queryset(self.get_queryset().filter(status=AlertStatus.FIRING))
        page = self.paginate_queryset(services.most_severe_first(firing))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=AlertSerializer(many=True))  # a page of alerts, like the list
    @action(detail=False)
    def history(self, request):
        return self.list(request)

    @action(detail=True, methods=["post"], serializer_class=AcknowledgeSerializer,
            permission_classes=[needs("alerts.change_alert")])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            done = services.acknowledge(Alert.objects.filter(pk=alert.pk), request.user, body.validated_data["comment"])
        except services.RemoteRefused as exc:
            return _refused(alert, "acknowledged", exc)
        if not done:
            return _conflict(alert, "acknowledged")
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)

    @action(detail=True, methods=["post"], serializer_class=NoBodySerializer,
            permission_classes=[needs("alerts.change_alert")])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        try:
            done = services.resolve(Alert.objects.filter(pk=alert.pk), request.user)
        except services.RemoteRefused as exc:
            return _refused(alert, "resolved", exc)
        if not done:
            return _conflict(alert, "resolved")
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)


def _conflict(alert: Alert, what: str) -> Response:
    reason = ("it is resolved" if alert.status == AlertStatus.RESOLVED else
              f"it was acknowledged by {alert.acknowledged_by} at {alert.acknowledged_at:%Y-%m-%d %H:%M:%S}"
              if alert.acknowledged_at else f"it is {alert.status}")
    return Response({"detail": f"alert {alert.pk} cannot be {what}: {reason}"}, status=status.HTTP_409_CONFLICT)


def _refused(alert: Alert, what: str, exc: services.RemoteRefused) -> Response:
    """The alert's source refused (or could not be asked): its reason, and nothing changed here."""
    return Response({"detail": f"alert {alert.pk} cannot be {what}: {exc}"}, status=status.HTTP_409_CONFLICT)
