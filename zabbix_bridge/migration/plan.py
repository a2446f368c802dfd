"""What an import of a Zabbix server's hosts would do, host by host, computed from what Zabbix and our database
hold now and changing nothing: a dry run shows it, a real run carries it out (`apply.py`).

One device per host: the device the bridge made for it (ZabbixHost link), else one of ours at its main address,
else a new one. An existing device keeps what it has (name, SNMP credential, group, inventory); it gains what it
lacks. Applied twice, the second plan finds nothing to do.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from devices.choices import DeviceSource
from devices.models import Device, DeviceAddress, DeviceGroup
from templates_app.models import TemplateAssignment
from zabbix_bridge.client import Host, Macro, TemplateMacros
from zabbix_bridge.hosts import is_ip, free_name, inventory_values, main_address, tag_names
from zabbix_bridge.migration.credentials import CredentialChoice, CredentialPool, access_of
from zabbix_bridge.migration.snmp_access import SnmpSettings, snmp_settings
from zabbix_bridge.migration.templates import TemplatePlan, TemplatePlanner
from zabbix_bridge.models import ZabbixHost, ZabbixServer

CREATE, CONVERT, UPDATE, UNCHANGED, SKIP = "create", "convert", "update", "unchanged", "skip"


@dataclass
class HostPlan:
    """One host: what its device becomes (`action`), the fields to set, and why."""

    hostid: str
    host: str  # Zabbix's visible name
    action: str = UNCHANGED
    address: str = ""
    device: Device | None = None  # the existing device, or (after a real run) the one created
    device_name: str = ""
    fields: dict[str, object] = field(default_factory=dict)  # Device field -> value (group: its name)
    tags: list[str] = field(default_factory=list)  # tags to add
    source_both: bool = False  # the bridge's device becomes ours too while the link exists
    credential: CredentialChoice | None = None  # what it is polled with (set on it if "snmp_credential" in fields)
    snmp: SnmpSettings | None = None
    needs_credential: str = ""  # why SNMP is not set up although the host has an SNMP interface
    templates: TemplatePlan = field(default_factory=TemplatePlan)
    notes: list[str] = field(default_factory=list)

    @property
    def snmp_polled(self) -> bool:
        """Whether the device is polled by SNMP after the import."""
        return self.credential is not None or bool(self.device and self.device.snmp_enabled
                                                   and self.device.snmp_credential_id)


@dataclass
class Plan:
    """The whole import: hosts, credentials, groups to create."""

    server: ZabbixServer
    group_filter: list[str] | None
    hosts: list[HostPlan] = field(default_factory=list)
    credentials: list[CredentialChoice] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    group_names: list[str] = field(default_factory=list)  # every host group of the imported hosts
    dry_run: bool = True
    monitoring: str = ""  # what --activate-standalone did (or would do), or why our engines stay idle
    seconds: float = 0.0
    calls: int = 0

    def count(self) -> dict[str, int]:
        counts = dict.fromkeys((CREATE, CONVERT, UPDATE, UNCHANGED, SKIP), 0)
        for host in self.hosts:
            counts[host.action] += 1
        return counts


class Planner:
    """Builds the plan for hosts read from `server`; reads our database once, writes nothing."""

    def __init__(self, server: ZabbixServer, hosts: list[Host], templates: dict[str, TemplateMacros],
                 global_macros: list[Macro]) -> None:
        self.server, self.zabbix_hosts = server, hosts
        self.macros = (templates, global_macros)
        links = ZabbixHost.objects.filter(server=server, removed_at__isnull=True)
        self.links = {zh.hostid: zh.device for zh in links.select_related("device__snmp_credential")}
        self.by_address = self._devices_at({main_address(h) for h in hosts} - {""})
        self.names = set(Device.objects.values_list("name", flat=True))
        self.claimed: dict[object, str] = {}  # device pk (or a new device's address) -> the host taking it
        self.pool = CredentialPool(server.name)
        self.template_planner = TemplatePlanner()
        candidates = [*self.links.values(), *self.by_address.values()]
        self.tags, self.assigned = _tags_and_templates([d.pk for d in candidates])

    def plan(self, group_filter: list[str] | None) -> Plan:
        plan = Plan(self.server, group_filter)
        # hosts the bridge linked first: another host at the same address must not take their device
        for host in sorted(self.zabbix_hosts, key=lambda h: (h.hostid not in self.links, h.name, h.hostid)):
            plan.hosts.append(self._host(host))
        plan.hosts.sort(key=lambda h: (h.host, h.hostid))
        plan.credentials = sorted(self.pool.choices.values(), key=lambda c: c.name)
        hosts = {h.hostid: h for h in self.zabbix_hosts}
        plan.group_names = sorted({name for hp in plan.hosts if hp.action != SKIP
                                   for _, name in hosts[hp.hostid].groups})
        existing = set(DeviceGroup.objects.filter(name__in=plan.group_names).values_list("name", flat=True))
        plan.new_groups = [name for name in plan.group_names if name not in existing]
        return plan

    def _devices_at(self, addresses: set[str]) -> dict[str, Device]:
        """Our devices by main address, then by their other addresses."""
        found = {d.address: d for d in Device.objects.filter(address__in=addresses).select_related("snmp_credential")}
        aliases = DeviceAddress.objects.filter(address__in=[a for a in addresses - set(found) if is_ip(a)])
        for alias in aliases.select_related("device__snmp_credential"):
            found.setdefault(alias.address, alias.device)
        return found

    def _host(self, host: Host) -> HostPlan:
        hp = HostPlan(host.hostid, host.name, address=main_address(host))
        if not host.enabled:
            return _skip(hp, "disabled in Zabbix (not monitored there either)")
        if not hp.address:
            return _skip(hp, "no interface with an address")
        hp.device = self.links.get(host.hostid) or self.by_address.get(hp.address)
        claim = hp.device.pk if hp.device else hp.address
        if claim in self.claimed:
            return _skip(hp, f"same device as host {self.claimed[claim]!r} ({hp.address}): one device per address")
        self.claimed[claim] = host.name
        hp.snmp = snmp_settings(host, *self.macros)
        if hp.device is None:
            self._new_device(hp, host)
        else:
            self._existing_device(hp, host)
        self._credential(hp)
        assigned = self.assigned.get(hp.device.pk, set()) if hp.device else set()
        hp.templates = self.template_planner.plan(host.templates, hp.snmp_polled, assigned)
        if hp.action != CREATE:
            changed = hp.fields or hp.tags or hp.source_both or hp.templates.pending
            hp.action = (CONVERT if host.hostid in self.links else UPDATE) if changed else UNCHANGED
        return hp

    def _new_device(self, hp: HostPlan, host: Host) -> None:
        hp.action, hp.device_name = CREATE, free_name(host, self.names, self.server)
        groups = sorted(name for _, name in host.groups)
        hp.fields = {"name": hp.device_name, "address": hp.address, "icmp_enabled": True,
                     "group": groups[0] if groups else None, **inventory_values(host),
                     "description": f"Imported from Zabbix host {host.host} on {self.server.name}."}
        hp.tags = tag_names(host)

    def _existing_device(self, hp: HostPlan, host: Host) -> None:
        """What an existing device lacks: ICMP, a group, blank inventory fields, tags; ours is kept."""
        device = hp.device
        hp.device_name = device.name
        if not device.icmp_enabled:
            hp.fields["icmp_enabled"] = True
        groups = sorted(name for _, name in host.groups)
        if device.group_id is None and groups:
            hp.fields["group"] = groups[0]
        hp.fields.update({name: value for name, value in inventory_values(host).items()
                          if getattr(device, name) in ("", None)})
        hp.tags = [tag for tag in tag_names(host) if tag not in self.tags.get(device.pk, set())]
        hp.source_both = host.hostid in self.links and device.source != DeviceSource.BOTH
        if hp.address != device.address:
            hp.notes.append(f"the host's address {hp.address} is another address of {device.name}")

    def _credential(self, hp: HostPlan) -> None:
        """SNMP for the device: the credential the host's interface and macros give, unless it has its own."""
        settings, device = hp.snmp, hp.device
        if settings is None:
            return
        polled_at = device.address if device is not None else hp.address
        if settings.address != polled_at:
            hp.notes.append(f"its SNMP interface is at {settings.address}: SNMP is polled at {polled_at}")
        if device is not None and device.snmp_enabled and device.snmp_credential_id:
            if settings.access is None or access_of(device.snmp_credential) != settings.access:
                hp.notes.append(f"keeps its own SNMP credential {device.snmp_credential.name!r}")
            else:
                hp.credential = self.pool.choose(settings.access, hp.host)
            return
        if settings.access is None:
            hp.needs_credential = settings.problem
            return
        hp.credential = self.pool.choose(settings.access, hp.host)
        hp.fields.update({"snmp_enabled": True, "snmp_credential": hp.credential, "snmp_port": settings.port})


def _skip(hp: HostPlan, why: str) -> HostPlan:
    hp.action = SKIP
    hp.notes.append(why)
    return hp


def _tags_and_templates(device_ids: list[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Tag names and assigned template keys of these devices, by device id."""
    tags, assigned = defaultdict(set), defaultdict(set)
    for pk, name in Device.tags.through.objects.filter(device_id__in=device_ids).values_list("device_id",
                                                                                             "tag__name"):
        tags[pk].add(name)
    for pk, key in TemplateAssignment.objects.filter(device_id__in=device_ids).values_list("device_id",
                                                                                          "template__key"):
        assigned[pk].add(key)
    return tags, assigned

