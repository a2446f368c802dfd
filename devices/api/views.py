from rest_framework.viewsets import ModelViewSet

from devices.api import serializers
from devices.filtersets import DeviceFilterSet
from devices.models import Device, DeviceGroup, MonitoringProfile, Tag


class DeviceViewSet(ModelViewSet):
    # the parent by a query of its own: joining the devices table to itself made PostgreSQL hash all of it (6 ms)
    queryset = Device.objects.select_related("group", "snmp_credential").prefetch_related("tags", "parent")
    serializer_class = serializers.DeviceSerializer
    filterset_class = DeviceFilterSet
    search_fields = ["name", "address", "vendor", "model", "description"]
    ordering_fields = ["name", "address", "state", "state_since", "last_seen"]


class DeviceGroupViewSet(ModelViewSet):
    queryset = DeviceGroup.objects.all()
    serializer_class = serializers.DeviceGroupSerializer
    search_fields = ["name"]


class TagViewSet(ModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = serializers.TagSerializer
    search_fields = ["name"]


class MonitoringProfileViewSet(ModelViewSet):
    queryset = MonitoringProfile.objects.all()
    serializer_class = serializers.MonitoringProfileSerializer
