import django_filters

from devices.choices import DeviceSource, DeviceState, DeviceType
from devices.models import Device


class DeviceFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=DeviceState.choices)
    device_type = django_filters.MultipleChoiceFilter(choices=DeviceType.choices)
    source = django_filters.ChoiceFilter(choices=DeviceSource.choices)
    group = django_filters.CharFilter(field_name="group__name", help_text="Group name.")
    tag = django_filters.CharFilter(field_name="tags__name", help_text="Tag name.")

    class Meta:
        model = Device
        fields = ["state", "device_type", "source", "group", "tag", "icmp_enabled", "snmp_enabled", "vendor", "parent"]
