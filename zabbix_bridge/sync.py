"""A sync: read a Zabbix server's groups, hosts and open problems, then bring our devices and alerts in line.

Everything is read first; only a complete read changes anything, in one transaction, so a server that fails (or
goes away) in the middle leaves the last good sync as it was. The number of API calls grows with paging only.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from devices.choices import DeviceSource
from devices.models import Device
from wardsite.secrets import SecretDecryptionError, require_readable
from zabbix_bridge.client import ErrorKind, Host, Problem, ZabbixClient, ZabbixError
from zabbix_bridge.models import ZabbixHost, ZabbixServer
from zabbix_bridge import problems as problem_sync, state
from zabbix_bridge.hosts import HostSync

logger = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """What one sync read from Zabbix, before anything here changed."""

    version: str
    groups: list[str]
    hosts: list[Host]
    problems: list[Problem]
    pings: dict[str, tuple[float, int]]
    calls: int = 0


@dataclass
class Summary:
    """What a sync did, for the admin, the API and the logs."""

    hosts: int = 0
    created: int = 0
    linked: int = 0
    retired: int = 0
    problems: int = 0
    opened: int = 0
    resolved: int = 0
    state_changes: int = 0
    calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in self.__dict__.items()}


class SyncFailed(Exception):
    """The server could not be read; the last good sync is kept. `str()` says why, as Zabbix or the network did."""


def client_for(server: ZabbixServer) -> ZabbixClient:
    """A connected client for the server (ZabbixError when it cannot connect or log in, or its stored token or
    password cannot be decrypted)."""
    try:
        require_readable(server)
    except SecretDecryptionError as exc:
        raise ZabbixError(ErrorKind.AUTH, str(exc)) from None
    client = ZabbixClient(server.url, token=server.api_token, username=server.username, password=server.password,
                          verify_tls=server.verify_tls, ca_file=server.ca_file, timeout=server.timeout_seconds)
    client.connect()
    return client


def read(server: ZabbixServer) -> Snapshot:
    """Everything a sync needs, read from the server in a handful of paged calls."""
    client = client_for(server)
    try:
        groups = client.host_groups(server.host_groups or None)
        if server.host_groups:
            missing = sorted(set(server.host_groups) - {g.name for g in groups})
            if missing:
                raise ZabbixError("api", f"no host group named {', '.join(map(repr, missing))} on the server")
        groupids = [g.groupid for g in groups] if server.host_groups else None
        with ThreadPoolExecutor(max_workers=3) as pool:  # three independent reads, side by side
            hosts, problems, pings = (pool.submit(client.hosts, groupids), pool.submit(client.problems, groupids),
                                      pool.submit(client.icmp_ping, groupids=groupids))
            hosts, problems, pings = hosts.result(), problems.result(), pings.result()
        return Snapshot(client.version, [g.name for g in groups], hosts, problems, pings, client.calls)
    finally:
        client.close()


def sync(server: ZabbixServer) -> Summary:
    """Read the server, then apply what was read; on failure record why and raise SyncFailed (nothing changed)."""
    started, now = time.monotonic(), timezone.now()
    try:
        snapshot = read(server)
    except ZabbixError as exc:
        ZabbixServer.objects.filter(pk=server.pk).update(last_attempt_at=now, last_error=str(exc))
        logger.warning("Zabbix %s: sync failed: %s", server.name, exc)
        raise SyncFailed(str(exc)) from exc
    summary = Summary(hosts=len(snapshot.hosts), problems=len(snapshot.problems), calls=snapshot.calls)
    with transaction.atomic():
        links = apply(server, snapshot, summary, now)
    summary.state_changes = state.apply(server, links, snapshot.hosts, snapshot.pings, now)
    summary.seconds = time.monotonic() - started
    ZabbixServer.objects.filter(pk=server.pk).update(
        version=snapshot.version, last_sync_at=timezone.now(), last_attempt_at=now, last_error="",
        last_sync_summary=summary.as_dict())
    logger.info("Zabbix %s: %d hosts (%d new, %d linked, %d retired), %d problems (%d new, %d resolved), %d API "
                "calls, %.1f s", server.name, summary.hosts, summary.created, summary.linked, summary.retired,
                summary.problems, summary.opened, summary.resolved, summary.calls, summary.seconds)
    return summary


def apply(server: ZabbixServer, snapshot: Snapshot, summary: Summary, now: datetime) -> dict[str, ZabbixHost]:
    """Bring groups, devices and alerts in line with the snapshot (inside the caller's transaction); the server's
    links to devices by host id, as saved. Syncs of one
    server take turns here (a scheduled one and "Sync now"), so a host is never made a device twice."""
    ZabbixServer.objects.select_for_update().filter(pk=server.pk).first()
    hosts = HostSync(server, snapshot.hosts, snapshot.groups, summary, now)
    problem_sync.apply(server, snapshot.problems, hosts.run(), summary, now)
    return hosts.known


def retire_all(server: ZabbixServer) -> None:
    """The server is deleted: its hosts' devices stay (as local ones if they were both), its alerts resolve."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(ZabbixHost.objects.filter(server=server).values_list("device_id", flat=True))
        Device.objects.filter(pk__in=ids, source=DeviceSource.BOTH).update(source=DeviceSource.LOCAL)
        problem_sync.resolve_missing(server, set(), now)
