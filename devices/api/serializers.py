from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from devices.models import Device, DeviceGroup, MonitoringProfile, Tag
from devices.validators import normalize_address
from wardsite.api import ModelValidationMixin, NameOrIdRelatedField, ObjectURLField, PageSerializer


class DeviceSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Group, tags, parent and SNMP credential by name or id; shown by name."""

    serializer_url_field = ObjectURLField

    group = NameOrIdRelatedField(queryset=DeviceGroup.objects.all(), required=False, allow_null=True)
    tags = NameOrIdRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    parent = NameOrIdRelatedField(queryset=Device.objects.all(), required=False, allow_null=True)
    # snmp's model, reached through the foreign key (which names it as a string): devices does not import snmp
    snmp_credential = NameOrIdRelatedField(
        queryset=Device._meta.get_field("snmp_credential").related_model.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Device
        list_serializer_class = PageSerializer
        fields = [
            "id", "url", "name", "address", "device_type", "vendor", "model", "os_version", "serial_number",
            "location", "latitude", "longitude", "description", "group",
            "tags", "parent", "icmp_enabled", "snmp_enabled", "snmp_port", "snmp_credential", "source", "state",
            "state_since", "last_seen", "created", "updated",
        ]
        read_only_fields = ["source", "state", "state_since", "last_seen", "created", "updated"]
        extra_kwargs = {"url": {"view_name": "devices-api:device-detail"}}

    def validate_address(self, value: str) -> str:
        try:
            return normalize_address(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, attrs: dict) -> dict:
        # a device without a name gets the model's default one here, so the model's checks see it and the
        # reverse DNS lookup runs once
        if not attrs.get("name", self.instance.name if self.instance else ""):
            named = Device(pk=getattr(self.instance, "pk", None),
                           address=attrs.get("address") or self.instance.address)
            named.fill_default_name()
            attrs["name"] = named.name
        return super().validate(attrs)


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
