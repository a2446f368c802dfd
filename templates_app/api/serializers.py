from rest_framework import serializers

from devices.models import Device
from templates_app.models import MonitoringTemplate, TemplateItem, TemplateTrigger
from wardsite.api import NameOrIdRelatedField


class TemplateItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateItem
        fields = ["key", "name", "oid", "interval_seconds", "value_type", "units", "value_map", "enabled", "discovery"]


class TemplateTriggerSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateTrigger
        fields = ["name", "expression", "recovery_expression", "for_seconds", "severity", "description"]


class MonitoringTemplateSerializer(serializers.ModelSerializer):
    """Read-only view of a template; templates are written as documents (import)."""

    items = TemplateItemSerializer(many=True, read_only=True)
    triggers = TemplateTriggerSerializer(many=True, read_only=True)
    devices = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringTemplate
        fields = ["id", "key", "name", "version", "vendor", "description", "device_types", "includes", "priority",
                  "match_sys_object_ids", "match_sys_descr", "origin", "available_version", "items", "triggers",
                  "devices"]
        read_only_fields = fields

    def get_devices(self, obj: MonitoringTemplate) -> list[str]:
        return [a.device.name for a in obj.assignments.all()]


class ImportSerializer(serializers.Serializer):
    document = serializers.JSONField(required=False, help_text="A wardflux-template/1 document.")
    text = serializers.CharField(required=False, trim_whitespace=False,
                                 help_text="A document as JSON or YAML text, or a Zabbix 6.0/7.0 export (YAML/XML).")

    def validate(self, attrs: dict) -> dict:
        if ("document" in attrs) == ("text" in attrs):
            raise serializers.ValidationError("Give exactly one of document, text.")
        return attrs


class DevicesSerializer(serializers.Serializer):
    devices = NameOrIdRelatedField(queryset=Device.objects.all(), many=True, allow_empty=False,
                                   help_text="Devices by name or id.")
    remove_items = serializers.BooleanField(default=False, help_text="unlink: remove the items (else keep them).")
