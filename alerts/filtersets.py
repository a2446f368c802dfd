import django_filters

from alerts.models import Alert, AlertRule
from devices.models import Device
from wardsite.api import NameOrIdFilter


class AlertFilterSet(django_filters.FilterSet):
    rule = NameOrIdFilter(queryset=AlertRule.objects.all(), help_text="Rule name or id.")
    device = NameOrIdFilter(queryset=Device.objects.all(), help_text="Device name or id.")

    class Meta:
        model = Alert
        fields = ["status", "severity", "source", "rule", "device"]
