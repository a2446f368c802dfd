from django.db.models import Prefetch
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ModelViewSet, ReadOnlyModelViewSet

from discovery import inventory, limits, scanner, targets, tasks
from discovery.api.serializers import (
    AddDevicesSerializer, DiscoveryResultSerializer, DiscoveryRuleSerializer, DiscoveryRunSerializer, ScanSerializer)
from discovery.filtersets import DiscoveryResultFilterSet, DiscoveryRunFilterSet
from discovery.models import DiscoveryResult, DiscoveryRule, DiscoveryRun, RuleCredential
from wardsite.permissions import needs


class DiscoveryRuleViewSet(ModelViewSet):
    queryset = DiscoveryRule.objects.select_related("device_group", "schedule__crontab").prefetch_related(
        "credentials", Prefetch("rule_credentials", RuleCredential.objects.select_related("credential")))
    serializer_class = DiscoveryRuleSerializer
    filterset_fields = ["enabled", "auto_add"]
    search_fields = ["name", "targets"]


class DiscoveryRunViewSet(ReadOnlyModelViewSet):
    """Runs with their live progress (percent) and counts."""

    queryset = DiscoveryRun.objects.select_related("rule")
    serializer_class = DiscoveryRunSerializer
    filterset_class = DiscoveryRunFilterSet


class DiscoveryResultViewSet(ReadOnlyModelViewSet):
    """What each address answered: `?run=` for one run's."""

    queryset = DiscoveryResult.objects.select_related("credential", "matched_device")
    serializer_class = DiscoveryResultSerializer
    filterset_class = DiscoveryResultFilterSet
    search_fields = ["ip", "hostname", "sys_name", "sys_descr"]


class ScanView(APIView):
    """POST a rule, or targets (+ exclusions) and credentials, each by name or id: the run is queued and its id
    returned at once; the scan runs on a worker (follow it at runs/{id})."""

    permission_classes = [needs("discovery.add_discoveryrun")]
    serializer_class = ScanSerializer

    def post(self, request):
        body = ScanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["credentials"] and not request.user.has_perm("snmp.use_snmpcredential"):
            raise PermissionDenied("A scan with stored credentials needs the permission snmp.use_snmpcredential "
                                   "(Can use credentials in tests and scans); a rule's scan uses the rule's.")
        try:
            run = scanner.start(data.get("rule"), target_text=data.get("targets", ""), exclusions=data["exclusions"],
                                credential_ids=[c.pk for c in data["credentials"]], user=request.user)
        except limits.TooManyScans as exc:
            raise Throttled(detail=str(exc)) from None
        except targets.ScanRefused as exc:
            raise ValidationError({"rule" if "rule" in data else "targets": [str(exc)]}) from None
        tasks.run.delay(run.pk)
        return Response({"run": run.pk, "state": run.state}, status=status.HTTP_202_ACCEPTED)


class AddDevicesView(APIView):
    """POST result ids: each becomes a monitored device with the credential that worked and the auto-selected
    template (or is matched to the device it already is); `skipped` says which could not be monitored, and why."""

    permission_classes = [needs("devices.add_device")]
    serializer_class = AddDevicesSerializer

    def post(self, request):
        body = AddDevicesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        devices, skipped = inventory.add_results(body.validated_data["results"],
                                                 apply_template=body.validated_data["apply_template"])
        return Response({"devices": [{"id": d.pk, "name": d.name, "address": d.address} for d in devices],
                         "skipped": skipped}, status=status.HTTP_201_CREATED if devices else status.HTTP_200_OK)
