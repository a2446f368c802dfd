from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin, UpdateModelMixin
from rest_framework.permissions import BasePermission, DjangoModelPermissions, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet, ModelViewSet

from snmp import services
from snmp.api.serializers import (
    InterfaceSerializer, MonitoringItemSerializer, SNMPCredentialSerializer, SNMPPollSerializer, SNMPTestSerializer,
)
from snmp.client import SNMPAuthError, SNMPError, SNMPProtocolError, SNMPTimeout, Target
from snmp.filtersets import InterfaceFilterSet, MonitoringItemFilterSet
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
    filterset_class = MonitoringItemFilterSet
    search_fields = ["name", "oid"]


class InterfaceViewSet(ListModelMixin, RetrieveModelMixin, UpdateModelMixin, GenericViewSet):
    """Interfaces come from SNMP discovery; only `enabled` can be changed."""

    queryset = Interface.objects.select_related("device")
    serializer_class = InterfaceSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_class = InterfaceFilterSet
    search_fields = ["name", "descr", "alias"]


ERROR_TYPES = {SNMPTimeout: "timeout", SNMPAuthError: "auth", SNMPProtocolError: "protocol"}


class CanPoll(BasePermission):
    """Asking devices for data on demand is for users who may change devices."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.has_perm("devices.change_device")


def snmp_failure(exc: SNMPError) -> Response:
    """HTTP 502: the request was fine, the device (or network) did not give an answer."""
    return Response({"ok": False, "error": str(exc), "error_type": ERROR_TYPES.get(type(exc), "error")}, status=502)


class SNMPTestView(APIView):
    """Read sysDescr, sysObjectID, sysName and uptime from a device, or from an address with a credential."""

    permission_classes = [IsAuthenticated, CanPoll]

    @extend_schema(parameters=[SNMPTestSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        query = SNMPTestSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            if "device" in data:
                target = services.target_for(data["device"])
            else:
                target = Target.from_credential(data["credential"], data["address"], data["port"])
        except (services.SNMPConfigError, ValueError) as exc:
            raise ValidationError({"device" if "device" in data else "credential": [str(exc)]}) from None
        try:
            facts = services.test_connection(target)
        except SNMPError as exc:
            return snmp_failure(exc)
        return Response({"ok": True, "target": str(target), **facts})


class SNMPPollView(APIView):
    """Poll a device now: every enabled item and interface; the values are also written to VictoriaMetrics."""

    permission_classes = [IsAuthenticated, CanPoll]

    @extend_schema(request=SNMPPollSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        body = SNMPPollSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = body.validated_data["device"]
        try:
            result = services.poll_device(device)
        except services.SNMPConfigError as exc:
            raise ValidationError({"device": [str(exc)]}) from None
        if result.error:
            return Response({"ok": False, "device": device.name, "error": result.error}, status=502)
        return Response({
            "ok": True, "device": device.name, "uptime_seconds": result.uptime_seconds,
            "items": {name: {"value": item.value, "error": item.error} for name, item in result.items.items()},
            "interfaces": result.interfaces, "samples_written": result.samples_written,
        })
