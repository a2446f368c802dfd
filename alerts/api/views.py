from rest_framework.permissions import DjangoModelPermissions
from rest_framework.viewsets import ModelViewSet

from alerts.api.serializers import AlertRuleSerializer, NotificationChannelSerializer
from alerts.models import AlertRule, NotificationChannel


class AlertRuleViewSet(ModelViewSet):
    queryset = AlertRule.objects.prefetch_related("devices", "groups", "tags", "templates", "channels",
                                                  "escalation_channels")
    serializer_class = AlertRuleSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_fields = ["severity", "enabled"]
    search_fields = ["name", "expression"]


class NotificationChannelViewSet(ModelViewSet):
    queryset = NotificationChannel.objects.all()
    serializer_class = NotificationChannelSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_fields = ["kind", "enabled"]
    search_fields = ["name"]
