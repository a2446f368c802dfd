"""Device state from Zabbix, through devices.services.set_state (the one state owner, with its history).

Who decides a device's state (docs/zabbix.md): Zabbix, for a device only Zabbix knows, and for every Zabbix
host in zabbix mode (our collectors are idle then). For a device in both, our own collectors decide as long as
they run for it (hybrid mode, ICMP or SNMP monitoring on); Zabbix's view is kept beside it (`available`).
"""
from __future__ import annotations

from datetime import datetime

from devices import services as devices
from devices.choices import DeviceSource, DeviceState, MonitoringMode
from devices.models import Device
from zabbix_bridge.client import Host
from zabbix_bridge.models import ZabbixHost, ZabbixServer

def zabbix_decides(device: Device, mode: str) -> bool:
    """Whether Zabbix, not our collectors, decides this device's state."""
    if device.source == DeviceSource.ZABBIX or mode == MonitoringMode.ZABBIX:
        return True
    return not (device.icmp_enabled or device.snmp_enabled)


def zabbix_view(host: Host, pings: dict[str, tuple[float, int]]) -> tuple[bool | None, str]:
    """Zabbix's answer on the host: reachable, not, or unknown (None), and why."""
    if not host.enabled:
        return None, "disabled in Zabbix"
    if host.hostid in pings:
        value, _ = pings[host.hostid]
        return (True, "Zabbix icmpping answered") if value >= 1 else (False, "Zabbix icmpping failed")
    main = next((i for i in host.interfaces if i.main and i.available is not None), None)
    if main is None:
        return None, "Zabbix knows no availability for it"
    if main.available:
        return True, f"Zabbix {main.kind} interface available"
    return False, f"Zabbix {main.kind} interface unavailable" + (f": {main.error}" if main.error else "")


def apply(server: ZabbixServer, links: dict[str, ZabbixHost], hosts: list[Host], pings: dict[str, tuple[float, int]],
          now: datetime) -> int:
    """Record Zabbix's view on each host and move the devices Zabbix decides; returns how many changed state.
    `links` are the server's hosts by host id, with their devices, as the sync left them."""
    mode, changes, seen, changed_links = devices.monitoring_mode(), [], [], []
    for host in hosts:
        zh = links.get(host.hostid)
        if zh is None:
            continue
        available, reason = zabbix_view(host, pings)
        if zh.available != available:
            zh.available = available
            changed_links.append(zh)
        if not zabbix_decides(zh.device, mode):
            continue
        new = {True: DeviceState.UP, False: DeviceState.DOWN, None: DeviceState.UNKNOWN}[available]
        if zh.device.state != new:
            changes.append((zh.device.pk, new, reason))
        if available:
            seen.append(zh.device.pk)
    changes += [(zh.device.pk, DeviceState.UNKNOWN, f"removed from Zabbix server {server.name}")
                for zh in links.values() if zh.removed_at is not None and zh.device.source == DeviceSource.ZABBIX
                and zh.device.state != DeviceState.UNKNOWN]
    ZabbixHost.objects.bulk_update(changed_links, ["available"], batch_size=500)
    devices.mark_seen(seen, now)
    return devices.set_states(changes, at=now)
