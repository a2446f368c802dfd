from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet

from devices.api import serializers
from devices.filtersets import DeviceFilterSet
from devices import graphs
from devices.models import Device, DeviceGroup, MonitoringProfile, Tag
from wardsite.api import ListPrefetchMixin, unavailable
from wardsite.victoria import VictoriaError


class DeviceViewSet(ListPrefetchMixin, ModelViewSet):
    # the parent by a query of its own: joining the devices table to itself made PostgreSQL hash all of it (6 ms)
    queryset = Device.objects.select_related("group", "snmp_credential").prefetch_related("parent")
    list_prefetch = ("tags",)
    serializer_class = serializers.DeviceSerializer
    filterset_class = DeviceFilterSet
    search_fields = ["name", "address", "vendor", "model", "description"]
    ordering_fields = ["name", "address", "state", "state_since", "last_seen"]

    @extend_schema(parameters=[serializers.GraphQuerySerializer],
                   responses={200: serializers.GraphsSerializer, **unavailable(503)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def graphs(self, request: Request, pk: str) -> Response:
        """The device's graphs over a range (what its admin page draws): each graph's series from VictoriaMetrics
        (or from the app owning the device's graphs, e.g. Zabbix) as [time, value] points, at most 1,000 per
        series, and the interfaces the page may pick."""
        query = serializers.GraphQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            shown = graphs.render(self.get_object(), *query.validated_data["span"],
                                  graphs.Options(interface=query.validated_data["interface"]))
        except VictoriaError as exc:
            return Response({"detail": f"VictoriaMetrics: {exc}"}, status=503)
        except graphs.GraphsUnavailable as exc:
            return Response({"detail": str(exc)}, status=503)
        return Response(shown)  # plain floats already: GraphsSerializer documents it (per value, it cost 40 ms)


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
