from rest_framework import serializers

from devices.models import Device
from wardsite.api import PageSerializer


class ICMPStatusSerializer(serializers.ModelSerializer):
    """A device's current reachability and its last ping cycle (null until its first)."""

    device_id = serializers.IntegerField(source="pk")
    device = serializers.CharField(source="name")
    checked_at = serializers.DateTimeField(source="ping_status.checked_at", allow_null=True)
    rtt_avg_ms = serializers.FloatField(source="ping_status.rtt_avg_ms", allow_null=True)
    rtt_min_ms = serializers.FloatField(source="ping_status.rtt_min_ms", allow_null=True)
    rtt_max_ms = serializers.FloatField(source="ping_status.rtt_max_ms", allow_null=True)
    jitter_ms = serializers.FloatField(source="ping_status.jitter_ms", allow_null=True)
    packet_loss = serializers.FloatField(source="ping_status.packet_loss", allow_null=True)
    consecutive_failures = serializers.IntegerField(source="ping_status.consecutive_failures", allow_null=True)
    error = serializers.CharField(source="ping_status.error", allow_null=True)
    flapping = serializers.SerializerMethodField()

    class Meta:
        model = Device
        list_serializer_class = PageSerializer
        fields = [
            "device_id", "device", "address", "state", "state_since", "last_seen", "flapping", "checked_at",
            "rtt_avg_ms", "rtt_min_ms", "rtt_max_ms", "jitter_ms", "packet_loss", "consecutive_failures", "error",
        ]

    def get_flapping(self, obj: Device) -> bool:
        return obj.flap_count >= self.context["flap_threshold"]
