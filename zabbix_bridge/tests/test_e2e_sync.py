"""The sync on its schedule: beat (DatabaseScheduler) and a real Celery worker read a real Zabbix 6.0 in hybrid
mode; a problem raised in Zabbix becomes an alert here without anyone asking."""
from __future__ import annotations

import pytest
from django_celery_beat.models import IntervalSchedule

from alerts.models import Alert
from devices.choices import MonitoringMode
from devices.models import Device, MonitoringProfile
from tests.worker import wait_for
from zabbix_bridge.models import ZabbixServer


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_keep_the_zabbix_side_in_step(zabbix, zabbix_prefix, celery_stack):
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    group = f"{zabbix_prefix}g"
    host = zabbix.host(f"{zabbix_prefix}sw", groupids=(zabbix.group(group),), ip="127.0.0.30")
    server = ZabbixServer.objects.create(name="zbx", url=zabbix.url, api_token=zabbix.api_token, host_groups=[group])
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    server.schedule.interval = every_second  # as an operator would edit it in Periodic tasks
    server.schedule.save()

    wait_for(lambda: Device.objects.filter(zabbix_host__hostid=host.hostid).exists(), 60, "the host to be synced")
    zabbix.trapper(host)
    zabbix.raise_problem(host)
    wait_for(lambda: Alert.objects.filter(zabbix_problem__server=server, status="firing").exists(), 60,
             "the problem to arrive as an alert")
    assert ZabbixServer.objects.get(pk=server.pk).last_error == ""
