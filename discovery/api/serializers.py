from __future__ import annotations

from django.db import transaction
from rest_framework import serializers

from devices.models import DeviceGroup
from discovery import schedules, targets
from discovery.models import DiscoveryResult, DiscoveryRule, DiscoveryRun, RuleCredential
from snmp.models import SNMPCredential
from wardsite.api import ModelValidationMixin, NameOrIdRelatedField


class CredentialsInOrderMixin:
    """`credentials`, by name or id, are tried in the order given; each once."""

    def validate_credentials(self, credentials: list[SNMPCredential]) -> list[SNMPCredential]:
        return list(dict.fromkeys(credentials))


class DiscoveryRuleSerializer(CredentialsInOrderMixin, ModelValidationMixin, serializers.ModelSerializer):
    """Credentials and group by name or id; `schedule` is daily, weekly, a cron expression or ''."""

    # both shown too (to_representation): credentials in the order they are tried, schedule as a cron expression
    credentials = NameOrIdRelatedField(queryset=SNMPCredential.objects.all(), many=True, required=False)
    schedule = serializers.CharField(required=False, allow_blank=True)
    device_group = NameOrIdRelatedField(queryset=DeviceGroup.objects.all(), required=False, allow_null=True)

    class Meta:
        model = DiscoveryRule
        fields = ["id", "name", "enabled", "targets", "exclusions", "credentials", "icmp", "snmp_silent_hosts",
                  "tcp_ports", "rate_limit", "auto_add", "device_group", "schedule", "last_run_at"]
        read_only_fields = ["last_run_at"]

    def validate_schedule(self, value: str) -> str:
        try:
            return schedules.cron_of(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict) -> dict:
        own = {key: attrs.pop(key) for key in ("credentials", "schedule") if key in attrs}  # not model fields
        return {**super().validate(attrs), **own}

    def to_representation(self, rule: DiscoveryRule) -> dict:
        data = super().to_representation(rule)
        data["credentials"] = [rc.credential.name for rc in rule.rule_credentials.all()]  # prefetched by the view
        data["schedule"] = schedules.current_cron(rule)
        return data

    @transaction.atomic
    def save(self, **kwargs) -> DiscoveryRule:
        credentials = self.validated_data.pop("credentials", None)
        cron = self.validated_data.pop("schedule", None)
        rule = super().save(**kwargs)
        if credentials is not None:
            rule.rule_credentials.all().delete()
            RuleCredential.objects.bulk_create(RuleCredential(rule=rule, credential=c, position=i)
                                               for i, c in enumerate(credentials))
        schedules.set_schedule(rule, schedules.current_cron(rule) if cron is None else cron)
        return rule


class DiscoveryRunSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)  # null: ad-hoc
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)  # null until it has finished

    class Meta:
        model = DiscoveryRun
        fields = ["id", "rule", "targets", "exclusions", "state", "progress", "addresses", "alive", "snmp", "new",
                  "updated", "errors", "created", "started_at", "finished_at", "duration_seconds"]


class DiscoveryResultSerializer(serializers.ModelSerializer):
    credential = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    matched_device = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = DiscoveryResult
        fields = ["id", "run", "ip", "hostname", "alive", "rtt_ms", "open_ports", "snmp_reachable", "credential",
                  "sys_name", "sys_descr", "sys_object_id", "sys_location", "uptime_seconds", "engine_id", "serial",
                  "model", "macs", "neighbors", "vendor", "device_type", "os", "os_version", "matched_device",
                  "added_to_monitoring"]


class ScanSerializer(CredentialsInOrderMixin, serializers.Serializer):
    """A rule to run now (by name or id), or ad-hoc targets with the credentials to try (by name or id, in order)."""

    rule = NameOrIdRelatedField(queryset=DiscoveryRule.objects.all(), required=False)
    targets = serializers.CharField(required=False, allow_blank=True)
    exclusions = serializers.CharField(required=False, allow_blank=True, default="")
    credentials = NameOrIdRelatedField(queryset=SNMPCredential.objects.all(), many=True, required=False, default=list)

    def validate(self, attrs: dict) -> dict:
        rule = attrs.get("rule")
        if rule is None and not attrs.get("targets", "").strip():
            raise serializers.ValidationError({"targets": "give the targets to scan, or a rule"})
        for field in ("targets", "exclusions"):
            try:
                networks = targets.parse(rule.targets if rule and field == "targets" else attrs.get(field, ""))
                if field == "targets":
                    targets.check_scan(networks)
            except (targets.TargetError, targets.ScanRefused) as exc:
                raise serializers.ValidationError({field: str(exc)}) from None
        return attrs


class AddDevicesSerializer(serializers.Serializer):
    results = serializers.PrimaryKeyRelatedField(queryset=DiscoveryResult.objects.select_related("run__rule"),
                                                 many=True, allow_empty=False)
    apply_template = serializers.BooleanField(default=True)
