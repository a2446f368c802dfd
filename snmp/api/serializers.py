from rest_framework import serializers

from snmp.models import SECRET_FIELDS, SNMPCredential
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
