"""What a device's page draws of ICMP (devices.graphs): round-trip times, packet loss, the share of cycles
answered."""
from __future__ import annotations

from devices.graphs import Graph, Line, Options, selector
from devices.models import Device


def device_graphs(device: Device, options: Options) -> list[Graph]:
    if not device.icmp_enabled:
        return []
    rtt = (Line("min", f"min_over_time({selector('ping_rtt_min_ms', device)})"),
           Line("avg", f"avg_over_time({selector('ping_rtt_ms', device)})"),
           Line("max", f"max_over_time({selector('ping_rtt_max_ms', device)})"))
    return [Graph("rtt", "Round-trip time", "ms", rtt),
            Graph("loss", "Packet loss", "%", (Line("loss", f"avg_over_time({selector('ping_packet_loss', device)})"),)),
            Graph("availability", "Ping cycles answered", "%",
                  (Line("answered", f"avg_over_time({selector('ping_up', device)}) * 100"),))]
