from rest_framework import serializers

from snmp.models import SECRET_FIELDS, Interface, MonitoringItem, SNMPCredential
from wardsite.api import ModelValidationMixin


class SNMPCredentialSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Secrets are write-only; `has_<secret>` tells whether one is stored."""

    has_community = serializers.SerializerMethodField()
    has_auth_key = serializers.SerializerMethodField()
    has_priv_key = serializers.SerializerMethodField()

    class Meta:
        model = SNMPCredential
        fields = [
            "id", "name", "version", "community", "security_name", "auth_protocol", "auth_key", "priv_protocol",
            "priv_key", "context_name", "timeout_ms", "retries", "has_community", "has_auth_key", "has_priv_key",
        ]
        extra_kwargs = {name: {"write_only": True, "required": False} for name in SECRET_FIELDS}

    def get_has_community(self, obj: SNMPCredential) -> bool:
        return bool(obj.community)

    def get_has_auth_key(self, obj: SNMPCredential) -> bool:
        return bool(obj.auth_key)

    def get_has_priv_key(self, obj: SNMPCredential) -> bool:
        return bool(obj.priv_key)


class MonitoringItemSerializer(ModelValidationMixin, serializers.ModelSerializer):
    class Meta:
        model = MonitoringItem
        fields = ["id", "device", "name", "oid", "interval_seconds", "value_type", "units", "enabled"]


class InterfaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interface
        fields = [
            "id", "device", "if_index", "name", "descr", "alias", "if_type", "speed_bps", "admin_status",
            "oper_status", "last_change_ticks", "enabled", "updated",
        ]
        read_only_fields = [f for f in fields if f not in ("id", "enabled")]
