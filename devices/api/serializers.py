from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from devices.models import Device, DeviceGroup, MonitoringProfile, Tag
from devices.validators import normalize_address
from wardsite.durations import parse_duration
from wardsite.api import ModelValidationMixin, NameOrIdRelatedField, ObjectURLField, PageSerializer


class DeviceSerializer(ModelValidationMixin, serializers.ModelSerializer):
    """Group, tags, parent and SNMP credential by name or id; shown by name."""

    serializer_url_field = ObjectURLField

    group = NameOrIdRelatedField(queryset=DeviceGroup.objects.all(), required=False, allow_null=True)
    tags = NameOrIdRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    parent = NameOrIdRelatedField(queryset=Device.objects.all(), required=False, allow_null=True)
    # snmp's model, reached through the foreign key (which names it as a string): devices does not import snmp
    snmp_credential = NameOrIdRelatedField(
        queryset=Device._meta.get_field("snmp_credential").related_model.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Device
        list_serializer_class = PageSerializer
        fields = [
            "id", "url", "name", "address", "device_type", "vendor", "model", "os_version", "serial_number",
            "location", "latitude", "longitude", "description", "group",
            "tags", "parent", "icmp_enabled", "snmp_enabled", "snmp_port", "snmp_credential", "source", "state",
            "state_since", "last_seen", "created", "updated",
        ]
        read_only_fields = ["source", "state", "state_since", "last_seen", "created", "updated"]
        extra_kwargs = {"url": {"view_name": "devices-api:device-detail"}}

    def validate_address(self, value: str) -> str:
        try:
            return normalize_address(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, attrs: dict) -> dict:
        # a device without a name gets the model's default one here, so the model's checks see it and the
        # reverse DNS lookup runs once
        if not attrs.get("name", self.instance.name if self.instance else ""):
            named = Device(pk=getattr(self.instance, "pk", None),
                           address=attrs.get("address") or self.instance.address)
            named.fill_default_name()
            attrs["name"] = named.name
        return super().validate(attrs)


class DeviceGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceGroup
        fields = ["id", "name", "description", "poller_queue"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class MonitoringProfileSerializer(ModelValidationMixin, serializers.ModelSerializer):
    class Meta:
        model = MonitoringProfile
        fields = ["id", "name", "mode", "is_active"]


class GraphQuerySerializer(serializers.Serializer):
    """The time range of a device's graphs: the last `range`, or from `start` to `end`."""

    MAX_SECONDS = 400 * 86400

    range = serializers.CharField(default="1h", max_length=10,
                                  help_text="The last so long: 1h, 6h, 24h, 7d, 30d… (at most 400d).")
    start = serializers.DateTimeField(required=False, help_text="A range of your own: its start (with `end`).")
    end = serializers.DateTimeField(required=False, help_text="A range of your own: its end (with `start`).")
    interface = serializers.CharField(required=False, default="", max_length=255,
                                      help_text="One interface (ifName) instead of the busiest ones.")

    def validate_range(self, value: str) -> int:
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if seconds > self.MAX_SECONDS:
            raise serializers.ValidationError("at most 400d")
        return seconds

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("start"), attrs.get("end")
        if start is None and end is None:
            now = timezone.now().timestamp()
            attrs["span"] = (now - attrs["range"], now)
        elif start is None or end is None:
            raise serializers.ValidationError({"end" if start else "start": "a range of your own needs start and end"})
        elif end <= start or (end - start).total_seconds() > self.MAX_SECONDS:
            raise serializers.ValidationError({"end": "after the start, and at most 400 days after it"})
        else:
            attrs["span"] = (start.timestamp(), end.timestamp())
        return attrs


class GraphSeriesSerializer(serializers.Serializer):
    label = serializers.CharField()
    points = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(), min_length=2,
                                                               max_length=2), help_text="[unix time, value] pairs")


class GraphSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    series = GraphSeriesSerializer(many=True)


class GraphInterfaceSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="ifName: what `interface` takes.")
    descr = serializers.CharField(allow_blank=True)
    alias = serializers.CharField(allow_blank=True)


class GraphsSerializer(serializers.Serializer):
    start = serializers.FloatField()
    end = serializers.FloatField()
    step = serializers.IntegerField(help_text="Seconds between points: at most 1,000 points per series.")
    source = serializers.CharField(help_text="Where the series come from: victoriametrics, or zabbix for a device "
                                             "whose state Zabbix decides.")
    note = serializers.CharField(allow_null=True, help_text="What a reader should know, e.g. which items the "
                                                            "Zabbix host lacks; null if nothing.")
    interfaces = GraphInterfaceSerializer(many=True, help_text="The interfaces the page may draw alone.")
    graphs = GraphSerializer(many=True)
