import django_filters

from devices.models import Device
from snmp.models import Interface, MonitoringItem
from wardsite.api import NameOrIdFilter


class MonitoringItemFilterSet(django_filters.FilterSet):
    device = NameOrIdFilter(queryset=Device.objects.all(), help_text="Device name or id.")

    class Meta:
        model = MonitoringItem
        fields = ["device", "enabled", "value_type"]


class InterfaceFilterSet(django_filters.FilterSet):
    device = NameOrIdFilter(queryset=Device.objects.all(), help_text="Device name or id.")

    class Meta:
        model = Interface
        fields = ["device", "enabled", "oper_status", "admin_status"]
