"""Ping history of the devices Zabbix watches, read from Zabbix for the ICMP history endpoint (registered in
`icmp.history_sources` by apps.py): `history.get`, hourly `trend.get` beyond 7 days (ZabbixClient.history), in
our metric names and units, averaged down to the endpoint's number of points (docs/zabbix.md "History")."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from devices import services as devices
from devices.choices import MonitoringMode
from devices.models import Device
from icmp.history_sources import History, HistoryUnavailable, Series, downsample
from zabbix_bridge.client import ErrorKind, ZabbixError
from zabbix_bridge.models import ZabbixHost
from zabbix_bridge.state import zabbix_decides
from zabbix_bridge.sync import client_for

SOURCE = "zabbix"
# Zabbix simple-check key -> (our metric, factor to our unit): icmpping is 1/0 like ping_up, icmppingsec is in
# seconds (ours in ms), icmppingloss in percent like ping_packet_loss.
ITEMS = {"icmpping": ("ping_up", 1.0), "icmppingsec": ("ping_rtt_ms", 1000.0),
         "icmppingloss": ("ping_packet_loss", 1.0)}


def zabbix_history(device: Device, seconds: int, points: int) -> History | None:
    """The device's ping history from Zabbix if Zabbix decides its state (else None: not ours to answer);
    HistoryUnavailable saying why when Zabbix cannot be read."""
    link = deciding_link(device)
    if link is None:
        return None
    if idle := unreadable(link):
        return History({}, None, SOURCE, idle)
    till = timezone.now()
    try:
        raw, missing = read_items(link, till - timedelta(seconds=seconds), till)
    except ZabbixError as exc:
        raise HistoryUnavailable(f"Zabbix {link.server.name}: {exc}") from exc
    up = raw.get("ping_up", [])
    availability = 100 * sum(v for _, v in up) / len(up) if up else None
    series = {metric: downsample(samples, till.timestamp(), seconds, points) for metric, samples in raw.items()}
    return History(series, availability, SOURCE, missing_note(link, missing))


def unreadable(link: ZabbixHost) -> str | None:
    """Why the host's items are not read (it left Zabbix, or its server is disabled), or None."""
    if link.removed_at is not None:
        return f"host {link.host} was removed from Zabbix server {link.server.name}"
    if not link.server.enabled:
        return f"Zabbix server {link.server.name} is disabled"
    return None


def missing_note(link: ZabbixHost, missing: list[str]) -> str | None:
    """Which ICMP items the host lacks, said for a reader; None when it has them all."""
    return f"host {link.host} on Zabbix {link.server.name} has no item {', '.join(missing)}" if missing else None


def deciding_link(device: Device) -> ZabbixHost | None:
    """The device's Zabbix host when the bridge runs and Zabbix, not our collectors, decides its state."""
    mode = devices.monitoring_mode()
    if mode not in (MonitoringMode.ZABBIX, MonitoringMode.HYBRID):
        return None
    link = ZabbixHost.objects.filter(device=device).select_related("server").first()
    return link if link is not None and zabbix_decides(device, mode) else None


def read_items(link: ZabbixHost, since: datetime, till: datetime) -> tuple[dict[str, Series], list[str]]:
    """{our metric: [(unix time, value in our unit)]} of the host's ICMP items, and the keys it has no item for."""
    found: dict[str, Series] = {}
    missing: list[str] = []
    client = client_for(link.server)
    try:
        for key, (metric, factor) in ITEMS.items():
            try:
                rows = client.history(link.hostid, key, since, till)
            except ZabbixError as exc:
                if not _no_such_item(exc, link.hostid, key):
                    raise
                missing.append(key)
                continue
            # a text item has no numbers to show; icmppingsec is 0 when the host did not answer (Zabbix stores at
            # least 0.0001 s otherwise), and we keep no RTT for an unanswered cycle either
            found[metric] = [(float(t), v * factor) for t, v in rows
                             if isinstance(v, float) and not (key == "icmppingsec" and v == 0)]
    finally:
        client.close()
    return found, missing


def _no_such_item(exc: ZabbixError, hostid: str, key: str) -> bool:
    """Whether ZabbixClient.history refused because the host has no such item (its one ZabbixError that is no
    failure; the client gives it no kind of its own, so its message is matched)."""
    return exc.kind == ErrorKind.API and str(exc) == f"Zabbix has no item {key} on host {hostid}"
