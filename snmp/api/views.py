from rest_framework.permissions import DjangoModelPermissions
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin, UpdateModelMixin
from rest_framework.viewsets import GenericViewSet, ModelViewSet

from snmp.api.serializers import InterfaceSerializer, MonitoringItemSerializer, SNMPCredentialSerializer
from snmp.models import Interface, MonitoringItem, SNMPCredential


class SNMPCredentialViewSet(ModelViewSet):
    queryset = SNMPCredential.objects.all()
    serializer_class = SNMPCredentialSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_fields = ["version"]
    search_fields = ["name", "security_name"]


class MonitoringItemViewSet(ModelViewSet):
    queryset = MonitoringItem.objects.select_related("device")
    serializer_class = MonitoringItemSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_fields = ["device", "enabled", "value_type"]
    search_fields = ["name", "oid"]


class InterfaceViewSet(ListModelMixin, RetrieveModelMixin, UpdateModelMixin, GenericViewSet):
    """Interfaces come from SNMP discovery; only `enabled` can be changed."""

    queryset = Interface.objects.all()
    serializer_class = InterfaceSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_fields = ["device", "enabled", "oper_status", "admin_status"]
    search_fields = ["name", "descr", "alias"]
