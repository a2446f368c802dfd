"""What operators do with Zabbix servers: test the connection, sync now or on schedule, and act on problems."""
from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from alerts.models import Alert
from alerts.services import RemoteRefused
from devices import services as devices
from devices.choices import DeviceSource, MonitoringMode
from devices.models import Device, DeviceStateChange
from zabbix_bridge.client import ZabbixError
from zabbix_bridge.models import ZabbixHost, ZabbixProblem, ZabbixServer
from zabbix_bridge.sync import Summary, client_for, sync

logger = logging.getLogger(__name__)
SYNC_TASK = "zabbix.sync_server"


def bridge_enabled() -> bool:
    """The bridge reads Zabbix in zabbix and hybrid mode only."""
    return devices.monitoring_mode() in (MonitoringMode.ZABBIX, MonitoringMode.HYBRID)


def test_connection(server: ZabbixServer) -> str:
    """Connect and log in; the server's version, or ZabbixError saying exactly why not."""
    client = client_for(server)
    client.close()
    ZabbixServer.objects.filter(pk=server.pk).update(version=client.version)
    return client.version


def sync_server(server_id: int) -> Summary | None:
    """Sync one server if the mode and the server allow it (None when skipped); SyncFailed when it cannot be read."""
    server = ZabbixServer.objects.filter(pk=server_id, enabled=True).first()
    if server is None or not bridge_enabled():
        return None
    return sync(server)


def ensure_schedule(server: ZabbixServer) -> None:
    """The server's sync task in django-celery-beat: made with ZABBIX_SYNC_SECONDS, then the operator's to edit;
    it follows `enabled`."""
    task = server.schedule
    if task is None:
        every, _ = IntervalSchedule.objects.get_or_create(every=settings.ZABBIX_SYNC_SECONDS,
                                                          period=IntervalSchedule.SECONDS)
        task = PeriodicTask(task=SYNC_TASK, args=f"[{server.pk}]", interval=every,
                            expire_seconds=settings.ZABBIX_SYNC_SECONDS)  # never a pile of syncs after an outage
    task.name, task.enabled = f"Zabbix: sync {server.name}", server.enabled
    task.save()
    if server.schedule_id != task.pk:
        ZabbixServer.objects.filter(pk=server.pk).update(schedule=task)
        server.schedule = task


class ZabbixProblems:
    """Acknowledging and closing our alerts of Zabbix problems happens in Zabbix first (alerts.services calls
    this); a refusal or an unreachable server raises RemoteRefused with Zabbix's reason."""

    def acknowledge(self, alerts: list[Alert], user: User, comment: str) -> None:
        message = comment or f"Acknowledged in WARD FLUX by {user}"
        self._each_server(alerts, lambda client, ids: client.acknowledge(ids, message))

    def close(self, alerts: list[Alert], user: User | None) -> None:
        message = f"Closed in WARD FLUX by {user}" if user else "Closed in WARD FLUX"
        self._each_server(alerts, lambda client, ids: client.acknowledge(ids, message, close=True))

    @staticmethod
    def _each_server(alerts: list[Alert], act) -> None:
        by_server: dict[int, list[str]] = defaultdict(list)
        problems = ZabbixProblem.objects.filter(alert__in=alerts).select_related("server")
        servers = {}
        for problem in problems:
            by_server[problem.server_id].append(problem.eventid)
            servers[problem.server_id] = problem.server
        for pk, eventids in by_server.items():
            try:
                client = client_for(servers[pk])
                try:
                    act(client, eventids)
                finally:
                    client.close()
            except ZabbixError as exc:
                raise RemoteRefused(f"Zabbix {servers[pk].name}: {exc}") from exc


def link_by_hand(link: ZabbixHost, device: Device) -> None:
    """Make `device` (one of ours) the device of a Zabbix host, when addresses did not match them: the device
    made for the host goes, its alerts and history move to ours, which then says both sources."""
    if link.device_id == device.pk:
        return
    if other := ZabbixHost.objects.filter(device=device).exclude(pk=link.pk).first():
        raise ValueError(f"{device} is already Zabbix host {other.host}")
    made = link.device
    with transaction.atomic():
        if made.source == DeviceSource.ZABBIX:
            Alert.objects.filter(device=made).update(device=device)
            DeviceStateChange.objects.filter(device=made).update(device=device)
        ZabbixHost.objects.filter(pk=link.pk).update(device=device, linked_by_hand=True)
        Device.objects.filter(pk=device.pk).update(source=DeviceSource.BOTH)
        if made.source == DeviceSource.ZABBIX:
            made.delete()
        else:  # one of ours the sync had linked by address: ours alone again
            Device.objects.filter(pk=made.pk).update(source=DeviceSource.LOCAL)
    link.device = device
