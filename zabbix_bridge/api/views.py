from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ModelViewSet, ReadOnlyModelViewSet

from wardsite.api import NoBodySerializer
from wardsite.permissions import needs
from zabbix_bridge import migration, services
from zabbix_bridge.api.serializers import (
    ImportRequestSerializer, ZabbixHostSerializer, ZabbixProblemSerializer, ZabbixServerSerializer)
from zabbix_bridge.client import ZabbixError
from zabbix_bridge.migration import report
from zabbix_bridge.models import ZabbixHost, ZabbixProblem, ZabbixServer
from zabbix_bridge.sync import SyncFailed


class ZabbixServerViewSet(ModelViewSet):
    """Zabbix servers the bridge reads; `test` connects and says the version or why not, `sync` syncs now."""

    queryset = ZabbixServer.objects.all()
    serializer_class = ZabbixServerSerializer
    filterset_fields = ["enabled"]
    search_fields = ["name", "url"]

    @action(detail=True, methods=["post"], serializer_class=NoBodySerializer,
            permission_classes=[needs("zabbix_bridge.change_zabbixserver")])
    def test(self, request, pk=None):
        """Connect and log in: `{"ok": true, "version": "6.0.14"}`, or `ok` false with the reason and its kind
        (unreachable, tls, auth, unsupported, timeout, api)."""
        server = self.get_object()
        try:
            version = services.test_connection(server)
        except ZabbixError as exc:
            return Response({"ok": False, "kind": exc.kind, "error": str(exc)})
        return Response({"ok": True, "version": version})

    @action(detail=True, methods=["post"], serializer_class=NoBodySerializer,
            permission_classes=[needs("zabbix_bridge.change_zabbixserver")])
    def sync(self, request, pk=None):
        """Sync now, in this request: the summary, or 502 with the reason (the last good sync is kept); 409 in
        standalone mode or for a disabled server."""
        server = self.get_object()
        try:
            summary = services.sync_server(server.pk)
        except SyncFailed as exc:
            return Response({"detail": f"sync of {server.name} failed: {exc}"}, status=status.HTTP_502_BAD_GATEWAY)
        if summary is None:
            why = "it is disabled" if not server.enabled else "the monitoring mode is standalone"
            return Response({"detail": f"{server.name} is not synced: {why}"}, status=status.HTTP_409_CONFLICT)
        return Response(summary.as_dict())


class ZabbixHostViewSet(ReadOnlyModelViewSet):
    """Zabbix hosts as last synced, each with the device it is."""

    queryset = ZabbixHost.objects.select_related("server", "device")
    serializer_class = ZabbixHostSerializer
    filterset_fields = ["server", "enabled", "in_maintenance", "available"]
    search_fields = ["host", "visible_name"]


class ImportView(APIView):
    """Move a Zabbix server's hosts to our own monitoring (docs/zabbix.md, "Moving off Zabbix"): the plan (dry run,
    the default) or what was done, host by host; 400 naming `server` or `groups` when unknown, 502 when Zabbix
    cannot be read."""

    # importing hosts changes a server's devices
    permission_classes = [needs("zabbix_bridge.change_zabbixserver", "devices.add_device", "devices.change_device")]

    @extend_schema(request=ImportRequestSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        body = ImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        asked = body.validated_data
        try:
            plan = migration.run_import(migration.find_server(asked.get("server")), asked["groups"],
                                        dry_run=asked["dry_run"],
                                        activate_standalone_mode=asked["activate_standalone"])
        except migration.BadRequest as exc:
            return Response({exc.field: [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        except ZabbixError as exc:
            return Response({"detail": f"Zabbix cannot be read, nothing was imported: {exc}", "kind": exc.kind},
                            status=status.HTTP_502_BAD_GATEWAY)
        return Response(report.as_dict(plan))


class ZabbixProblemViewSet(ReadOnlyModelViewSet):
    """The Zabbix events behind alerts: `?alert=` for one alert's, with who acknowledged or commented in Zabbix."""

    queryset = ZabbixProblem.objects.select_related("server")
    serializer_class = ZabbixProblemSerializer
    filterset_fields = ["server", "alert", "eventid"]
