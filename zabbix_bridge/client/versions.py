"""What differs between the Zabbix versions we support, in one table.

zabbix_utils already handles the login differences: `username` in user.login (5.4+), the session or API token
as `auth` in the body before 6.4 and as `Authorization: Bearer` from 6.4 on (7.2 refuses `auth` in the body).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

OLDEST, NEWEST = (6, 0), (7, 4)
CLOSE, ACKNOWLEDGE, MESSAGE = 1, 2, 4  # event.acknowledge action bits, the same in every version


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one Zabbix version names the parameters and fields we use."""

    host_groups: tuple[str, str]  # host.get parameter, and the key it fills in each host
    proxy_fields: tuple[str, ...]  # host.get output naming the host's proxy
    proxy_name: str  # proxy.get field holding the proxy's name
    event_acks: str  # event.get parameter returning acknowledges with the users' names
    ack_actions: int  # event.acknowledge action bits the version accepts


# Each row applies from its version on; a later row overrides the fields it names.
CHANGES: tuple[tuple[tuple[int, int], dict], ...] = (
    ((6, 0), {"host_groups": ("selectGroups", "groups"),  # 6.0 ignores selectHostGroups (no key, no error)
              "proxy_fields": ("proxy_hostid",), "proxy_name": "host",
              "event_acks": "select_acknowledges",  # 6.0 ignores selectAcknowledges in event.get
              "ack_actions": 1 | 2 | 4 | 8 | 16}),  # close, ack, message, severity, unack; 32 is refused
    ((6, 2), {"host_groups": ("selectHostGroups", "hostgroups"),  # template groups split off
              "ack_actions": 127}),  # + 32 suppress, 64 unsuppress
    ((6, 4), {"ack_actions": 511}),  # + 128 rank to cause, 256 rank to symptom
    ((7, 0), {"proxy_fields": ("proxyid", "monitored_by", "assigned_proxyid"),  # proxy_hostid renamed, proxy groups
              "proxy_name": "name"}),  # proxy.get `host` renamed
    ((7, 2), {"event_acks": "selectAcknowledges"}),  # select_acknowledges and host.get selectGroups removed
)


def dialect(version: tuple[int, int]) -> Dialect:
    """The names `version` (major, minor) uses."""
    fields: dict = {}
    for since, changes in CHANGES:
        if version >= since:
            fields.update(changes)
    return replace(Dialect(**CHANGES[0][1]), **fields)


def proxy_id(host: dict) -> str:
    """The id of the proxy polling a host.get row, "0" for the server: `proxy_hostid` before 7.0, then
    `monitored_by` 0 server, 1 a proxy (`proxyid`), 2 a proxy group (the proxy it assigned, `assigned_proxyid`)."""
    if "monitored_by" in host:
        return {"1": host.get("proxyid"), "2": host.get("assigned_proxyid")}.get(host["monitored_by"]) or "0"
    return host.get("proxy_hostid") or "0"


def parse(version: str) -> tuple[int, int, int] | None:
    """(7, 0, 3) from "7.0.3"; None if Zabbix answered something else."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version.strip())
    return tuple(map(int, match.groups())) if match else None  # type: ignore[return-value]


def is_supported(version: tuple[int, ...]) -> bool:
    return OLDEST <= version[:2] <= NEWEST
