import django_filters
from django.db.models import Q, QuerySet
from rest_framework.filters import search_smart_split

from alerts.models import Alert, AlertRule
from devices.filtersets import DeviceFilterSet
from devices.models import Device
from wardsite.api import NameOrIdFilter


class AlertFilterSet(django_filters.FilterSet):
    rule = NameOrIdFilter(queryset=AlertRule.objects.all(), help_text="Rule name or id.")
    device = NameOrIdFilter(queryset=Device.objects.all(), help_text="Device name or id.")

    class Meta:
        model = Alert
        fields = ["status", "severity", "source", "rule", "device"]


# The devices a report reads before its filters: with their group (a row per group), by name.
REPORTED = Device.objects.select_related("group").order_by("name")


class ReportDeviceFilterSet(DeviceFilterSet):
    """The devices an availability report covers (its API and admin page alike): the device list's filters, and
    `search` for words each found in a device's name or address."""

    search = django_filters.CharFilter(method="filter_search", label="Search",
                                       help_text="Words (or \"quoted phrases\"), each in the name or address.")

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for term in search_smart_split(value):  # split as the API's ?search= of lists
            queryset = queryset.filter(Q(name__icontains=term) | Q(address__icontains=term))
        return queryset
