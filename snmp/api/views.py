from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin, UpdateModelMixin
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
from wardsite.permissions import needs
from wardsite.target_policy import TargetRefused


class SNMPCredentialViewSet(ModelViewSet):
    queryset = SNMPCredential.objects.all()
    serializer_class = SNMPCredentialSerializer
    filterset_fields = ["version"]
    search_fields = ["name", "security_name"]


class MonitoringItemViewSet(ModelViewSet):
    queryset = MonitoringItem.objects.select_related("device")
    serializer_class = MonitoringItemSerializer
    filterset_class = MonitoringItemFilterSet
    search_fields = ["name", "oid"]


class InterfaceViewSet(ListModelMixin, RetrieveModelMixin, UpdateModelMixin, GenericViewSet):
    """Interfaces come from SNMP discovery; only `enabled` can be changed."""

    queryset = Interface.objects.select_related("device")
    serializer_class = InterfaceSerializer
    filterset_class = InterfaceFilterSet
    search_fields = ["name", "descr", "alias"]


ERROR_TYPES = {SNMPTimeout: "timeout", SNMPAuthError: "auth", SNMPProtocolError: "protocol"}


def snmp_failure(exc: SNMPError) -> Response:
    """HTTP 502: the request was fine, the device (or network) did not give an answer."""
    return Response({"ok": False, "error": str(exc), "error_type": ERROR_TYPES.get(type(exc), "error")}, status=502)


def target_to_test(request: Request, data: dict) -> Target:
    """A device's own target; or a stored credential sent to an address, for who may use credentials and only
    inside the allow-list (403 / 400 naming `address`, before anything is sent)."""
    if "device" in data:
        try:
            return services.target_for(data["device"])
        except services.SNMPConfigError as exc:
            raise ValidationError({"device": [str(exc)]}) from None
    if not request.user.has_perm("snmp.use_snmpcredential"):
        raise PermissionDenied("Testing an address with a stored credential needs the permission "
                               "snmp.use_snmpcredential (Can use credentials in tests and scans).")
    try:
        return services.target_for_address(data["credential"], data["address"], data["port"])
    except TargetRefused as exc:
        raise ValidationError({"address": [str(exc)]}) from None
    except ValueError as exc:
        raise ValidationError({"credential": [str(exc)]}) from None


class SNMPTestView(APIView):
    """Read sysDescr, sysObjectID, sysName and uptime from a device, or from an address with a credential."""

    permission_classes = [needs("devices.change_device")]  # asking devices now: for who may change them

    @extend_schema(parameters=[SNMPTestSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        query = SNMPTestSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = target_to_test(request, query.validated_data)
        try:
            facts = services.test_connection(target)
        except SNMPError as exc:
            return snmp_failure(exc)
        return Response({"ok": True, "target": str(target), **facts})


class SNMPPollView(APIView):
    """Poll a device now: every enabled item and interface; the values are also written to VictoriaMetrics."""

    permission_classes = [needs("devices.change_device")]  # asking devices now: for who may change them

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
