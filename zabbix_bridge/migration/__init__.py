"""Moving off Zabbix: a server's hosts become devices our own ICMP and SNMP engines monitor (docs/zabbix.md,
"Moving off Zabbix"). `run_import` reads the server, plans (`plan.py`) and, unless it is a dry run, carries the
plan out (`apply.py`); `report.lines`/`report.as_dict` tell what was (or would be) done. The command
`zabbix_import`, the admin action on Zabbix servers and `POST /api/v1/zabbix/import` all call `run_import`.
"""
from __future__ import annotations

import time

from devices.choices import MonitoringMode
from devices.services import monitoring_mode
from wardsite.text import quote
from zabbix_bridge.client import Host, Macro, TemplateMacros, ZabbixClient
from zabbix_bridge.migration.apply import activate_standalone, apply_plan
from zabbix_bridge.migration.plan import Plan, Planner
from zabbix_bridge.models import ZabbixServer
from zabbix_bridge.sync import client_for

__all__ = ["BadRequest", "Plan", "find_server", "run_import"]


class BadRequest(ValueError):
    """An unknown server or host group; `field` names what was asked ("server" or "groups")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def find_server(name: str | None) -> ZabbixServer:
    """The server of that name; without a name, the only one there is."""
    servers = list(ZabbixServer.objects.order_by("name"))
    known = ", ".join(s.name for s in servers) or "none"
    if name:
        found = next((s for s in servers if s.name == name), None)
        if found is None:
            raise BadRequest("server", f"no Zabbix server named {quote(name)} (known: {known})")
        return found
    if len(servers) != 1:
        raise BadRequest("server", f"name the Zabbix server to import from (known: {known})")
    return servers[0]


def run_import(server: ZabbixServer, groups: list[str] | None = None, *, dry_run: bool = True,
               activate_standalone_mode: bool = False) -> Plan:
    """Import the hosts of `groups` (default: the server's host groups, else all) as our own devices, or with
    `dry_run` only say what that would do. ZabbixError when Zabbix cannot be read, BadRequest for an unknown
    group; nothing changes then."""
    started = time.monotonic()
    group_filter = list(groups or server.host_groups or []) or None
    hosts, templates, global_macros, calls = _read(server, group_filter)
    plan = Planner(server, hosts, templates, global_macros).plan(group_filter)
    plan.dry_run, plan.calls = dry_run, calls
    if not dry_run:
        apply_plan(plan)
    if activate_standalone_mode:
        plan.monitoring = activate_standalone(dry_run)
    elif monitoring_mode() == MonitoringMode.ZABBIX:
        plan.monitoring = ("the mode is zabbix: our ICMP and SNMP engines stay idle until it is hybrid or "
                           "standalone (--activate-standalone)")
    plan.seconds = time.monotonic() - started
    return plan


def _read(server: ZabbixServer,
          group_filter: list[str] | None) -> tuple[list[Host], dict[str, TemplateMacros], list[Macro], int]:
    """The hosts of the groups with their macros, their templates' macros (parents included) and the global
    macros, and how many API calls that took."""
    client = client_for(server)
    try:
        groupids = _groupids(client, server, group_filter)
        hosts = client.hosts(groupids)
        templates = client.template_macros(sorted({t for h in hosts for t in h.templateids}, key=int))
        return hosts, templates, client.global_macros(), client.calls
    finally:
        client.close()


def _groupids(client: ZabbixClient, server: ZabbixServer, names: list[str] | None) -> list[str] | None:
    if names is None:
        return None
    groups = client.host_groups(names)
    missing = sorted(set(names) - {g.name for g in groups})
    if missing:
        raise BadRequest("groups", f"no host group named {', '.join(map(repr, missing))} on {server.name}")
    return [g.groupid for g in groups]
