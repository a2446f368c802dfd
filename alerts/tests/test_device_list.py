"""What the alerts app adds to the admin's device list, and the list's quick filters: seen through the admin as an
operator opens it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRule, MaintenanceWindow
from devices.choices import DeviceState
from devices.models import Device, DeviceGroup, DeviceStateChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet() -> dict[str, Device]:
    works = DeviceGroup.objects.create(name="works")
    made = {
        "up": Device.objects.create(name="up-1", address="127.0.4.1", state=DeviceState.UP),
        "down": Device.objects.create(name="down-1", address="127.0.4.2", state=DeviceState.DOWN, group=works),
        "flapping": Device.objects.create(name="flap-1", address="127.0.4.3", state=DeviceState.UP),
        "spare": Device.objects.create(name="spare-1", address="127.0.4.4", icmp_enabled=False, snmp_enabled=False),
    }
    now = timezone.now()
    DeviceStateChange.objects.bulk_create(
        DeviceStateChange(device=made["flapping"], previous=DeviceState.UP, new=DeviceState.DOWN,
                          at=now - timedelta(minutes=n)) for n in range(8))
    rule = AlertRule.objects.get(builtin="device-down")
    for n, (severity, status) in enumerate([("high", "firing"), ("critical", "firing"), ("info", "resolved")]):
        Alert.objects.create(rule=rule, device=made["down"], fingerprint=f"t-{n}", severity=severity, status=status,
                             value=0, pending_since=now, triggered_at=now, last_seen_at=now, labels={})
    return made


def _listed(admin_client, **params) -> list[str]:
    response = admin_client.get("/admin/devices/device/", params)
    assert response.status_code == 200
    return sorted(re.findall(r'<th class="field-name"><a href="[^"]+">([^<]+)</a>', response.content.decode()))


def test_quick_filters_list_down_flapping_and_unmonitored_devices(admin_client, fleet):
    assert _listed(admin_client, quick="down") == ["down-1"]
    assert _listed(admin_client, quick="flapping") == ["flap-1"]
    assert _listed(admin_client, quick="unmonitored") == ["spare-1"]
    assert len(_listed(admin_client)) == 4


def test_each_device_shows_its_firing_alerts_and_the_worst_severity(admin_client, fleet):
    page = admin_client.get("/admin/devices/device/").content.decode()
    cells = dict(re.findall(r'<th class="field-name"><a href="[^"]+">([^<]+)</a></th>.*?<td class="field-open_alerts">'
                            r'(.*?)</td>', page, re.S))
    assert re.search(r">2 critical</span>", cells["down-1"]) and "2 firing" in cells["down-1"]
    assert cells["up-1"] == ""  # nothing firing: nothing to read


def test_the_maintenance_filter_follows_the_windows_active_now(admin_client, fleet):
    now = timezone.now()
    window = MaintenanceWindow.objects.create(name="works", starts_at=now - timedelta(hours=1),
                                              ends_at=now + timedelta(hours=1))
    window.groups.add(DeviceGroup.objects.get(name="works"))
    MaintenanceWindow.objects.create(name="past", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    assert _listed(admin_client, maintenance="now") == ["down-1"]
    assert _listed(admin_client, maintenance="no") == ["flap-1", "spare-1", "up-1"]
    MaintenanceWindow.objects.create(name="everything", starts_at=now - timedelta(hours=1),
                                     ends_at=now + timedelta(hours=1))  # no scope: every device
    assert len(_listed(admin_client, maintenance="now")) == 4 and _listed(admin_client, maintenance="no") == []
