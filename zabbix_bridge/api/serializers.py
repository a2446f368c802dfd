from rest_framework import serializers

from wardsite.api import ModelValidationMixin, SecretErrorField
from zabbix_bridge.models import ZabbixHost, ZabbixProblem, ZabbixServer

SECRETS = ("api_token", "password")


class ZabbixServerSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """`api_token` and `password` are write-only (stored encrypted); `has_api_token`/`has_password` tell whether
    one is stored. `last_sync_summary` has the last good sync's counts, API calls and seconds."""

    has_api_token = serializers.SerializerMethodField()
    has_password = serializers.SerializerMethodField()
    secret_error = SecretErrorField()
    host_groups = serializers.ListField(child=serializers.CharField(max_length=255), required=False,
                                        help_text="Host group names to take; empty: all.")

    class Meta:
        model = ZabbixServer
        fields = ["id", "name", "url", "api_token", "username", "password", "verify_tls", "ca_file",
                  "timeout_seconds", "host_groups", "enabled", "has_api_token", "has_password", "secret_error",
                  "version", "last_sync_at", "last_attempt_at", "last_error", "last_sync_summary"]
        read_only_fields = ["version", "last_sync_at", "last_attempt_at", "last_error", "last_sync_summary"]
        extra_kwargs = {name: {"write_only": True, "required": False} for name in SECRETS}

    def get_has_api_token(self, obj: ZabbixServer) -> bool:
        return bool(obj.api_token)

    def get_has_password(self, obj: ZabbixServer) -> bool:
        return bool(obj.password)


class ZabbixHostSerializer(serializers.ModelSerializer):
    server = serializers.SlugRelatedField(slug_field="name", read_only=True)
    device = serializers.SlugRelatedField(slug_field="name", read_only=True)
    link = serializers.CharField(read_only=True, help_text="The host in Zabbix's frontend.")

    class Meta:
        model = ZabbixHost
        fields = ["id", "server", "hostid", "device", "host", "visible_name", "enabled", "in_maintenance",
                  "available", "groups", "interfaces", "templates", "inventory", "tags", "proxy", "synced_at",
                  "removed_at", "link"]


class ImportRequestSerializer(serializers.Serializer):
    """`POST /api/v1/zabbix/import`: which server and host groups to import; a dry run unless told otherwise."""

    server = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                   help_text="The Zabbix server's name (optional when there is only one).")
    groups = serializers.ListField(child=serializers.CharField(max_length=255), required=False, default=list,
                                   help_text="Host group names; empty: the server's host groups, else all.")
    dry_run = serializers.BooleanField(default=True, help_text="Only say what would be done (the default).")
    activate_standalone = serializers.BooleanField(
        default=False, help_text="After the import, set the active monitoring profile to standalone.")


class ZabbixProblemSerializer(serializers.ModelSerializer):
    """The Zabbix event behind an alert (source zabbix), with every acknowledgement and message made in Zabbix."""

    server = serializers.SlugRelatedField(slug_field="name", read_only=True)
    link = serializers.CharField(read_only=True, help_text="The problem in Zabbix's frontend.")

    class Meta:
        model = ZabbixProblem
        fields = ["id", "server", "eventid", "triggerid", "alert", "acknowledges", "link"]
