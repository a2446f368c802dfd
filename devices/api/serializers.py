from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from devices.models import Device, DeviceGroup, MonitoringProfile, Tag
from devices.validators import normalize_address
from wardsite.api import ModelValidationMixin


class DeviceSerializer(ModelValidationMixin, serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(many=True, slug_field="name", queryset=Tag.objects.all(), required=False)
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=DeviceGroup.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Device
        fields = [
            "id", "url", "name", "address", "device_type", "vendor", "model", "os_version", "description", "group",
            "tags", "parent", "icmp_enabled", "snmp_enabled", "snmp_port", "snmp_credential", "source", "state",
            "state_since", "last_seen", "created", "updated",
        ]
        read_only_fields = ["state", "state_since", "last_seen", "created", "updated"]
        extra_kwargs = {"url": {"view_name": "devices-api:device-detail"}}

    def validate_address(self, value: str) -> str:
        try:
            return normalize_address(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class DeviceGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceGroup
        fields = ["id", "name", "description", "poller_queue"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class MonitoringProfileSerializer(ModelValidationMixin, serializers.ModelSerializer):
    class Meta:
        model = MonitoringProfile
        fields = ["id", "name", "mode", "is_active"]
