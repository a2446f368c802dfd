from typing import Any

from rest_framework import serializers

from alerts.models import Alert, AlertRule, MaintenanceWindow, NotificationChannel
from devices.models import Device, DeviceGroup, Tag
from templates_app.models import MonitoringTemplate
from wardsite.api import ModelValidationMixin, NameOrIdRelatedField, PageSerializer, SecretErrorField


class NotificationChannelSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """`secret` (SMTP password, SMS token, webhook bearer token) is write-only; `has_secret` tells if one is stored.
    Settings that carry tokens (`url` of chats, webhooks and SMS; webhook `headers`) are written in `settings` like
    the others but stored encrypted and never read back: `stored_secrets` shows the URL's scheme and host and the
    header names. A write that leaves them out keeps the stored ones."""

    has_secret = serializers.SerializerMethodField()
    stored_secrets = serializers.SerializerMethodField()
    secret_error = SecretErrorField()

    class Meta:
        model = NotificationChannel
        fields = ["id", "name", "kind", "enabled", "settings", "stored_secrets", "secret", "has_secret",
                  "secret_error"]
        extra_kwargs = {"secret": {"write_only": True, "required": False}}

    def get_has_secret(self, obj: NotificationChannel) -> bool:
        return bool(obj.secret)

    def get_stored_secrets(self, obj: NotificationChannel) -> dict[str, Any]:
        """e.g. {"url": "https://hooks.slack.com/…", "headers": {"X-Api-Key": "…"}}"""
        return obj.secrets_shown()


def _many(model, name_field: str = "name") -> serializers.ManyRelatedField:
    return NameOrIdRelatedField(name_field, queryset=model.objects.all(), many=True, required=False)


class AlertRuleSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Scope and channels by name or id (templates by key or id), shown by name; an unknown one is a 400 naming it."""

    devices = _many(Device)
    groups = _many(DeviceGroup)
    tags = _many(Tag)
    templates = _many(MonitoringTemplate, "key")
    channels = _many(NotificationChannel)
    escalation_channels = _many(NotificationChannel)

    class Meta:
        model = AlertRule
        fields = ["id", "name", "expression", "recovery_expression", "for_seconds", "severity", "enabled",
                  "description", "runbook_url", "devices", "groups", "tags", "templates", "channels",
                  "repeat_minutes", "escalate_after_minutes", "escalation_channels", "template_trigger",
                  "created_at", "updated_at"]
        read_only_fields = ["template_trigger"]


class AlertSerializer(serializers.ModelSerializer):
    """`source` says who raised it (our engine from `rule`, or Zabbix: `title` is the problem's name, `detail` its
    operational data, `external_url` the problem in Zabbix's frontend). `suppression` says why nobody is told
    (blank: they are), `suppression_detail` in words; `suppressed_by` is those words under their former name,
    kept for existing clients."""

    rule = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)  # null: from Zabbix
    title = serializers.CharField(read_only=True, help_text="The rule's name, or the Zabbix problem's name.")
    # annotated by the view (alerts/api/views.py), not read through the device's row
    device = serializers.CharField(source="device_name", read_only=True, allow_null=True,
                                   help_text="The device's name; null for an alert of no device.")
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    subject = serializers.CharField(read_only=True)
    suppressed_by = serializers.CharField(source="suppression_detail", read_only=True)

    class Meta:
        model = Alert
        list_serializer_class = PageSerializer
        fields = ["id", "source", "rule", "title", "detail", "external_url", "device", "subject", "labels", "status",
                  "severity", "value", "first_value",
                  "pending_since", "triggered_at", "suppression", "suppression_detail", "suppressed_by",
                  "acknowledged_at", "acknowledged_by", "acknowledgement", "resolved_at"]


class AcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MaintenanceWindowSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Scope by name or id, like rules; no scope covers every device."""

    devices = _many(Device)
    groups = _many(DeviceGroup)
    tags = _many(Tag)

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "name", "starts_at", "ends_at", "recurrence", "duration_minutes", "devices", "groups", "tags",
                  "suppress_evaluation", "comment"]
