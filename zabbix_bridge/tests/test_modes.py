"""Switching the monitoring mode zabbix -> hybrid -> standalone starts and stops the right collection at the next
dispatch and sync, without a restart; nothing is lost. The Zabbix side is the stand-in answering as 7.0."""
from __future__ import annotations

import pytest
from django.utils import timezone

from devices.choices import DeviceSource, MonitoringMode
from devices.models import Device, MonitoringProfile
from icmp import services as icmp
from snmp import services as snmp
from snmp.models import SNMPCredential
from zabbix_bridge.models import ZabbixServer
from zabbix_bridge.services import sync_server
from zabbix_bridge.tests.standin import TOKEN, StandIn

pytestmark = pytest.mark.django_db


def collection(server: ZabbixServer, hours: int) -> tuple[bool, bool, bool]:
    """(ICMP claimed devices, SNMP claimed devices, the bridge synced) `hours` from now, when all is due again."""
    later = timezone.now() + timezone.timedelta(hours=hours)
    return bool(icmp.due_batches(later)), bool(snmp.due_batches(later)), sync_server(server.pk) is not None


def test_switching_modes_starts_and_stops_the_right_collection(db):
    profile = MonitoringProfile.objects.create(name="default", mode=MonitoringMode.ZABBIX)
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community="public")
    Device.objects.create(name="ours", address="127.0.0.20", snmp_enabled=True, snmp_credential=credential)
    with StandIn("7.0.13") as standin:
        server = ZabbixServer.objects.create(name="zbx", url=standin.url, api_token=TOKEN)
        seen = {}
        for hours, mode in enumerate((MonitoringMode.ZABBIX, MonitoringMode.HYBRID, MonitoringMode.STANDALONE)):
            profile.mode = mode
            profile.save()
            seen[mode] = collection(server, hours + 1)

    assert seen == {"zabbix": (False, False, True), "hybrid": (True, True, True), "standalone": (True, True, False)}
    # nothing was lost on the way: the Zabbix hosts and our device are all still here
    assert Device.objects.filter(source=DeviceSource.ZABBIX).count() == 3
    assert Device.objects.filter(name="ours", source=DeviceSource.LOCAL).exists()
