"""The device page's graphs of the devices Zabbix watches, read from Zabbix (claimed in `devices.graphs` by
apps.py): the ICMP items the bridge maps (zabbix_bridge.history.ITEMS) drawn as icmp draws ours, `history.get`
or hourly `trend.get` beyond 7 days, averaged down to at most MAX_POINTS points (docs/zabbix.md "Graphs")."""
from __future__ import annotations

from datetime import datetime, timezone

from devices.graphs import MAX_POINTS, Claimed, GraphsUnavailable, Options, chart
from devices.models import Device
from icmp.history_sources import downsample
from zabbix_bridge.client import ZabbixError
from zabbix_bridge.history import deciding_link, missing_note, read_items, unreadable

# graph key, title and unit as icmp/graphs.py draws ours; the line's label, our metric and its factor to the unit
GRAPHS = (("rtt", "Round-trip time", "ms", "avg", "ping_rtt_ms", 1.0),
          ("loss", "Packet loss", "%", "loss", "ping_packet_loss", 1.0),
          ("availability", "Ping cycles answered", "%", "answered", "ping_up", 100.0))


def zabbix_graphs(device: Device, start: float, end: float, options: Options) -> Claimed | None:
    """The device's graphs from Zabbix if Zabbix decides its state (else None: not ours to draw), one per ICMP item
    the host has; GraphsUnavailable saying why when Zabbix cannot be read."""
    link = deciding_link(device)
    if link is None:
        return None
    if idle := unreadable(link):
        return Claimed([], idle)
    try:
        raw, missing = read_items(link, _utc(start), _utc(end))
    except ZabbixError as exc:
        raise GraphsUnavailable(f"Zabbix {link.server.name}: {exc}") from exc
    shown = []
    for key, title, unit, label, metric, factor in GRAPHS:
        if metric in raw:
            points = [[t, v * factor] for t, v in downsample(raw[metric], end, end - start, MAX_POINTS)]
            shown.append(chart(key, title, unit, [{"label": label, "points": points}] if points else []))
    return Claimed(shown, missing_note(link, missing))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
