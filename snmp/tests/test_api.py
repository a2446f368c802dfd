from __future__ import annotations

import pytest

from devices.models import Device
from snmp.models import Interface, MonitoringItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def device() -> Device:
    return Device.objects.create(name="sw1", address="127.0.0.2", snmp_enabled=True)


def test_it_creates_an_item_with_a_numeric_oid(api, device):
    response = api.post(
        "/api/v1/monitoring/snmp/items/",
        {"device": device.pk, "name": "uptime", "oid": ".1.3.6.1.2.1.1.3.0", "value_type": "integer"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert api.get(f"/api/v1/monitoring/snmp/items/?device={device.pk}").json()["count"] == 1


@pytest.mark.parametrize("oid", ["1.3.6.a.1", "1..3.6", "", "3.1.2", "sysUpTime"])
def test_it_rejects_a_malformed_oid(api, device, oid):
    response = api.post(
        "/api/v1/monitoring/snmp/items/", {"device": device.pk, "name": "x", "oid": oid}, format="json"
    )
    assert response.status_code == 400
    assert "oid" in response.json()
    assert not MonitoringItem.objects.exists()


def test_it_rejects_the_same_oid_twice_on_a_device(api, device):
    MonitoringItem.objects.create(device=device, name="uptime", oid="1.3.6.1.2.1.1.3.0")
    response = api.post(
        "/api/v1/monitoring/snmp/items/",
        {"device": device.pk, "name": "uptime2", "oid": "1.3.6.1.2.1.1.3.0"},
        format="json",
    )
    assert response.status_code == 400


def test_it_lists_interfaces_per_device_and_only_lets_enabled_change(api, device):
    other = Device.objects.create(name="sw2", address="127.0.0.3")
    port = Interface.objects.create(device=device, if_index=1, name="Gi0/1", speed_bps=1_000_000_000)
    Interface.objects.create(device=other, if_index=1, name="Gi0/1")
    body = api.get(f"/api/v1/monitoring/snmp/interfaces/?device={device.pk}").json()
    assert body["count"] == 1 and body["results"][0]["name"] == "Gi0/1"
    response = api.patch(f"/api/v1/monitoring/snmp/interfaces/{port.pk}/", {"enabled": False, "name": "x"}, format="json")
    assert response.status_code == 200
    port.refresh_from_db()
    assert (port.enabled, port.name) == (False, "Gi0/1")
    assert api.post("/api/v1/monitoring/snmp/interfaces/", {"device": device.pk, "if_index": 2}).status_code == 405
