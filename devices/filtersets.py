import django_filters
from django.db.models import QuerySet

from devices.choices import DeviceSource, DeviceState, DeviceType
from devices.models import Device, DeviceGroup, Tag
from wardsite.api import NameOrIdFilter


class DeviceFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=DeviceState.choices)
    device_type = django_filters.MultipleChoiceFilter(choices=DeviceType.choices)
    source = django_filters.ChoiceFilter(
        choices=DeviceSource.choices, method="filter_source",
        help_text="local: in our inventory, zabbix: known to a Zabbix server; a device known to both (source 'both') "
                  "matches either.")
    group = NameOrIdFilter(queryset=DeviceGroup.objects.all(), help_text="Group name or id.")
    tag = NameOrIdFilter(field_name="tags", queryset=Tag.objects.all(), help_text="Tag name or id.")
    parent = NameOrIdFilter(queryset=Device.objects.all(), help_text="Parent device name or id.")

    class Meta:
        model = Device
        fields = ["state", "device_type", "source", "group", "tag", "icmp_enabled", "snmp_enabled", "vendor", "parent"]

    def filter_source(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(source__in={value, DeviceSource.BOTH})
