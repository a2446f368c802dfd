import django_filters

from devices.models import Device
from discovery.models import DiscoveryResult, DiscoveryRule, DiscoveryRun
from wardsite.api import NameOrIdFilter


class DiscoveryRunFilterSet(django_filters.FilterSet):
    rule = NameOrIdFilter(queryset=DiscoveryRule.objects.all(), help_text="Rule name or id.")

    class Meta:
        model = DiscoveryRun
        fields = ["rule", "state"]


class DiscoveryResultFilterSet(django_filters.FilterSet):
    matched_device = NameOrIdFilter(queryset=Device.objects.all(), help_text="Device name or id.")

    class Meta:
        model = DiscoveryResult
        fields = ["run", "snmp_reachable", "device_type", "vendor", "added_to_monitoring", "matched_device"]
