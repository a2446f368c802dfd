from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from devices.models import Device
from devices.validators import normalize_address
from snmp import services
from snmp.models import SECRET_FIELDS, Interface, MonitoringItem, SNMPCredential
from wardsite.api import ModelValidationMixin, NameOrIdRelatedField, PageSerializer, SecretErrorField


class SNMPCredentialSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Secrets are write-only; `has_<secret>` tells whether one is stored (and can be decrypted: `secret_error`
    says which cannot)."""

    has_community = serializers.SerializerMethodField()
    has_auth_key = serializers.SerializerMethodField()
    has_priv_key = serializers.SerializerMethodField()
    secret_error = SecretErrorField()

    class Meta:
        model = SNMPCredential
        fields = [
            "id", "name", "version", "community", "security_name", "auth_protocol", "auth_key", "priv_protocol",
            "priv_key", "context_name", "timeout_ms", "retries", "has_community", "has_auth_key", "has_priv_key", "secret_error",
        ]
        extra_kwargs = {name: {"write_only": True, "required": False} for name in SECRET_FIELDS}

    def get_has_community(self, obj: SNMPCredential) -> bool:
        return bool(obj.community)

    def get_has_auth_key(self, obj: SNMPCredential) -> bool:
        return bool(obj.auth_key)

    def get_has_priv_key(self, obj: SNMPCredential) -> bool:
        return bool(obj.priv_key)


class MonitoringItemSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Changes to a template-made item's interval, enabled flag or units become overrides the template keeps."""

    device = NameOrIdRelatedField(queryset=Device.objects.all())

    class Meta:
        model = MonitoringItem
        fields = ["id", "device", "name", "metric", "labels", "oid", "interval_seconds", "value_type", "units",
                  "value_map", "enabled", "template_item", "overrides", "last_value", "last_error", "last_polled_at"]
        read_only_fields = ["template_item", "overrides", "last_value", "last_error", "last_polled_at"]
        extra_kwargs = {"metric": {"required": False}}

    def update(self, instance: MonitoringItem, validated_data: dict) -> MonitoringItem:
        changed = {name: value for name, value in validated_data.items() if getattr(instance, name) != value}
        services.record_overrides(instance, changed)
        return instance


class InterfaceSerializer(serializers.ModelSerializer):
    device = NameOrIdRelatedField(read_only=True)

    class Meta:
        model = Interface
        list_serializer_class = PageSerializer
        fields = [
            "id", "device", "if_index", "name", "descr", "alias", "if_type", "speed_bps", "admin_status",
            "oper_status", "last_change_ticks", "enabled", "updated",
        ]
        read_only_fields = [f for f in fields if f not in ("id", "enabled")]


class SNMPTestSerializer(serializers.Serializer):
    """Test a device's SNMP settings, or an address with a stored credential."""

    device = NameOrIdRelatedField(queryset=Device.objects.select_related("snmp_credential"), required=False)
    address = serializers.CharField(required=False, help_text="IPv4/IPv6 address or DNS name (with credential).")
    credential = NameOrIdRelatedField(queryset=SNMPCredential.objects.all(), required=False)
    port = serializers.IntegerField(required=False, default=161, min_value=1, max_value=65535)

    def validate_address(self, value: str) -> str:
        try:
            return normalize_address(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, attrs: dict) -> dict:
        if "device" in attrs:
            if "address" in attrs or "credential" in attrs:
                raise serializers.ValidationError("Give either device, or address and credential, not both.")
            return attrs
        missing = {name: ["Required unless device is given."] for name in ("address", "credential")
                   if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class SNMPPollSerializer(serializers.Serializer):
    device = NameOrIdRelatedField(queryset=Device.objects.select_related("snmp_credential"))
