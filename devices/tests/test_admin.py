from __future__ import annotations

import re

import pytest

from devices.models import Device

pytestmark = pytest.mark.django_db


def test_it_shows_an_admin_form_error_for_an_invalid_address(admin_client):
    response = admin_client.post(
        "/admin/devices/device/add/",
        {"name": "r1", "address": "300.1.1.1", "device_type": "router", "source": "local", "snmp_port": 161,
         "icmp_enabled": "on", "ping_settings-TOTAL_FORMS": 0, "ping_settings-INITIAL_FORMS": 0,
         "state_changes-TOTAL_FORMS": 0, "state_changes-INITIAL_FORMS": 0},
    )
    assert response.status_code == 200
    assert "neither an IPv4/IPv6 address nor a valid DNS name" in response.content.decode()
    assert not Device.objects.exists()


def test_it_lists_devices_with_state_columns(admin_client, victoria_url):
    Device.objects.create(name="r1", address="127.0.0.2")
    page = admin_client.get("/admin/devices/device/").content.decode()
    assert "r1" in page and "Avail. 24h" in page and "RTT ms" in page


def test_it_pings_selected_devices_now_from_the_admin(admin_client, victoria_url):
    device = Device.objects.create(name="r1", address="127.0.0.2")
    response = admin_client.post(
        "/admin/devices/device/", {"action": "ping_now", "_selected_action": [device.pk]}, follow=True
    )
    assert re.search(r"r1: rtt [\d.]+ ms, loss 0 %, up", response.content.decode(), re.I)
    device.refresh_from_db()
    assert device.state == "up"


def test_it_disables_icmp_in_bulk(admin_client):
    devices = [Device.objects.create(name=f"r{i}", address=f"127.0.0.{i + 2}") for i in range(3)]
    admin_client.post("/admin/devices/device/", {"action": "disable_icmp", "_selected_action": [d.pk for d in devices[:2]]})
    assert list(Device.objects.order_by("name").values_list("icmp_enabled", flat=True)) == [False, False, True]
