"""Zabbix hosts -> our devices: made for a host, or one of ours linked to it; retired when the host is gone.

Which facts come from where (docs/zabbix.md): a device that only Zabbix knows follows Zabbix (name, address,
group, inventory, tags). A device in both keeps what our inventory says; Zabbix only fills its blank inventory
fields and adds its tags (and takes back the ones it removed). Rows are written in bulk and only when they
changed, so a sync of an unchanged server costs a few queries.
"""
from __future__ import annotations

import ipaddress
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal, InvalidOperation

from devices.choices import DeviceSource
from devices.models import Device, DeviceGroup, Tag
from zabbix_bridge.client import Host
from zabbix_bridge.models import ZabbixHost, ZabbixServer

# our Device field <- Zabbix inventory field
INVENTORY = {"vendor": "vendor", "model": "model", "serial_number": "serialno_a", "os_version": "os",
             "location": "location", "latitude": "location_lat", "longitude": "location_lon"}
DEVICE_FIELDS = ["name", "address", "group", "source", *INVENTORY]
COMPARED = [Device._meta.get_field(f).attname for f in DEVICE_FIELDS]  # group_id: no query per device
LINK_FIELDS = ["host", "visible_name", "enabled", "in_maintenance", "proxy", "groups", "interfaces", "templates",
               "inventory", "tags", "synced_at", "removed_at"]
MAX_TAG = Tag._meta.get_field("name").max_length
MAX_NAME = Device._meta.get_field("name").max_length


def main_address(host: Host) -> str:
    """The address of the host's main interface (agent first, then SNMP, IPMI, JMX); '' without one."""
    order = {"agent": 0, "snmp": 1, "ipmi": 2, "jmx": 3}
    mains = sorted((i for i in host.interfaces if i.main and i.address), key=lambda i: order.get(i.kind, 9))
    return mains[0].address if mains else ""


def free_name(host: Host, taken: set[str], server: ZabbixServer) -> str:
    """The host's visible name, or its technical name, or 'name (hostid)' when another device has those (not in
    `taken`); the name is added to `taken`."""
    for name in (host.name, host.host, f"{host.name} ({host.hostid})"[-MAX_NAME:]):
        if name and len(name) <= MAX_NAME and name not in taken:
            taken.add(name)
            return name
    return f"zabbix-{server.pk}-{host.hostid}"


def tag_names(host: Host) -> list[str]:
    """Zabbix tags as our tag names: 'tag:value', or 'tag' when it has no value."""
    return sorted({(f"{k}:{v}" if v else k)[:MAX_TAG] for k, v in host.tags.items()})


def inventory_values(host: Host) -> dict[str, object]:
    """Our inventory fields from the host's Zabbix inventory (coordinates only when they are numbers in range)."""
    values: dict[str, object] = {}
    for ours, theirs in INVENTORY.items():
        value = (host.inventory.get(theirs) or "").strip()
        if not value:
            continue
        if ours in ("latitude", "longitude"):
            try:
                number = round(Decimal(value), 6)
            except InvalidOperation:
                continue
            if abs(number) <= (90 if ours == "latitude" else 180):
                values[ours] = number
        else:
            values[ours] = value[:Device._meta.get_field(ours).max_length]
    return values


class HostSync:
    """One sync's work on hosts: `run()` returns {hostid: device id} of the hosts read; `known` then holds every
    link of the server, as saved."""

    def __init__(self, server: ZabbixServer, hosts: list[Host], group_names: list[str], summary, now: datetime):
        self.server, self.hosts, self.summary, self.now = server, hosts, summary, now
        self.groups = device_groups({name for host in hosts for _, name in host.groups} | set(group_names))
        self.known = {zh.hostid: zh for zh in ZabbixHost.objects.filter(server=server).select_related("device")}
        self.taken = set(Device.objects.values_list("name", flat=True))

    def run(self) -> dict[str, int]:
        devices = {h.hostid: self.known[h.hostid].device for h in self.hosts if h.hostid in self.known}
        new = self._devices_for([h for h in self.hosts if h.hostid not in self.known])
        devices.update(new)
        changed = [devices[h.hostid] for h in self.hosts if self._update_device(devices[h.hostid], h)]
        changed = [d for d in changed if d.pk is not None]  # before the new ones get theirs: created whole
        Device.objects.bulk_create([d for d in new.values() if d.pk is None], batch_size=500)
        Device.objects.bulk_update(changed, DEVICE_FIELDS, batch_size=500)
        old_tags = {h.hostid: list(self.known[h.hostid].tags) if h.hostid in self.known else [] for h in self.hosts}
        self._save_links(devices)
        sync_tags({devices[h.hostid].pk: (old_tags[h.hostid], tag_names(h)) for h in self.hosts})
        self.summary.retired = self._retire()
        return {hostid: device.pk for hostid, device in devices.items()}

    def _devices_for(self, hosts: list[Host]) -> dict[str, Device]:
        """Devices for hosts new to us: ours with the host's address not linked yet, else new ones (not saved
        yet: they are created in bulk once filled in)."""
        addresses = {main_address(h) for h in hosts} - {""}
        mine = {d.address: d for d in Device.objects.filter(address__in=addresses, zabbix_host__isnull=True)}
        ips = [a for a in addresses - set(mine) if is_ip(a)]
        for device in Device.objects.filter(aliases__address__in=ips, zabbix_host__isnull=True).prefetch_related(
                "aliases"):
            mine.update({alias.address: device for alias in device.aliases.all()})
        found, new = {}, []
        for host in hosts:
            device = mine.pop(main_address(host), None)
            if device is not None:  # _update_device makes it say both
                self.summary.linked += 1
            else:
                device = Device(address=main_address(host) or host.host, name=self._free_name(host),
                                source=DeviceSource.ZABBIX, icmp_enabled=False, snmp_enabled=False,
                                description=f"Zabbix host {host.host} on {self.server.name}.")
                new.append(device)
            found[host.hostid] = device
        self.summary.created += len(new)
        return found

    def _free_name(self, host: Host) -> str:
        return free_name(host, self.taken, self.server)

    def _update_device(self, device: Device, host: Host) -> bool:
        """A Zabbix-only device follows the host; a device in both only takes blank inventory fields. Whether
        anything changed."""
        before = [getattr(device, f) for f in COMPARED]
        if device.source == DeviceSource.LOCAL:  # ours, now linked (or retired and back)
            device.source = DeviceSource.BOTH
        zabbix_only = device.source == DeviceSource.ZABBIX
        if zabbix_only:
            if device.name not in (host.name, host.host):
                self.taken.discard(device.name)
                device.name = self._free_name(host)
            device.address = main_address(host) or device.address
            first = sorted(name for _, name in host.groups)
            device.group = self.groups.get(first[0]) if first else None
        for ours, value in inventory_values(host).items():
            if zabbix_only or not getattr(device, ours):
                setattr(device, ours, value)
        return before != [getattr(device, f) for f in COMPARED]

    def _retire(self) -> int:
        """Hosts no longer read from the server are retired: marked removed, their devices kept (a device in both
        becomes ours alone); returns how many were retired now."""
        present = {h.hostid for h in self.hosts}
        gone = [zh for zh in self.known.values() if zh.hostid not in present and zh.removed_at is None]
        ours = [zh.device for zh in gone if zh.device.source == DeviceSource.BOTH]
        Device.objects.filter(pk__in=[d.pk for d in ours]).update(source=DeviceSource.LOCAL)
        ZabbixHost.objects.filter(pk__in=[zh.pk for zh in gone]).update(removed_at=self.now)
        for device in ours:
            device.source = DeviceSource.LOCAL
        for zh in gone:
            zh.removed_at = self.now
        return len(gone)

    def _save_links(self, devices: dict[str, Device]) -> None:
        new, changed = [], []
        for host in self.hosts:
            zh = self.known.get(host.hostid) or ZabbixHost(server=self.server, hostid=host.hostid,
                                                           device=devices[host.hostid])
            before = [getattr(zh, f) for f in LINK_FIELDS if f != "synced_at"]
            _fill_link(zh, host, self.now)
            if zh.pk is None:
                new.append(zh)
                self.known[host.hostid] = zh
            elif before != [getattr(zh, f) for f in LINK_FIELDS if f != "synced_at"]:
                changed.append(zh)
        ZabbixHost.objects.bulk_create(new, batch_size=500)
        ZabbixHost.objects.bulk_update(changed, LINK_FIELDS, batch_size=500)
        ZabbixHost.objects.filter(server=self.server, hostid__in=[h.hostid for h in self.hosts]).update(
            synced_at=self.now)


def device_groups(names: set[str]) -> dict[str, DeviceGroup]:
    """Our device groups of these names, made where missing."""
    existing = {g.name: g for g in DeviceGroup.objects.filter(name__in=names)}
    if missing := names - set(existing):
        DeviceGroup.objects.bulk_create([DeviceGroup(name=n, description="From Zabbix.") for n in missing],
                                        ignore_conflicts=True)
        existing = {g.name: g for g in DeviceGroup.objects.filter(name__in=names)}
    return existing


def is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _fill_link(zh: ZabbixHost, host: Host, now: datetime) -> None:
    zh.host, zh.visible_name = host.host, host.name
    zh.enabled, zh.in_maintenance, zh.proxy = host.enabled, host.in_maintenance, host.proxy
    zh.groups = sorted(name for _, name in host.groups)
    zh.interfaces = [_without_secrets(asdict(i)) for i in host.interfaces]
    zh.templates, zh.inventory, zh.tags = sorted(host.templates), dict(host.inventory), tag_names(host)
    zh.synced_at, zh.removed_at = now, None


def _without_secrets(interface: dict) -> dict:
    """An interface as stored: SNMP communities and passphrases only when they are macros ({$SNMP_COMMUNITY});
    a literal secret is not kept in clear here (a migration reads it from Zabbix into an encrypted credential)."""
    snmp = interface.get("snmp") or {}
    for key in ("community", "authpassphrase", "privpassphrase"):
        if snmp.get(key) and not snmp[key].startswith("{$"):
            snmp[key] = "(set)"
    return interface


def sync_tags(changes: dict[int, tuple[list[str], list[str]]]) -> None:
    """Per device (old Zabbix tags, new ones): take off the tags Zabbix removed, add its new ones; the device's
    other tags are left alone."""
    changes = {pk: (set(old), set(new)) for pk, (old, new) in changes.items() if set(old) != set(new)}
    if not changes:
        return
    names = set().union(*(old | new for old, new in changes.values()))
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Device.tags.through
    for pk, (old, new) in changes.items():
        if old - new:
            through.objects.filter(device_id=pk, tag_id__in=[ids[n] for n in old - new]).delete()
    through.objects.bulk_create([through(device_id=pk, tag_id=ids[n]) for pk, (old, new) in changes.items()
                                 for n in new - old], ignore_conflicts=True, batch_size=1000)
