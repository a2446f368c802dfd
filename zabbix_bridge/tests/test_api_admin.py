"""Zabbix servers through the API and the admin: secrets write-only, bad input a 400 naming the field, the
schedule in django-celery-beat, and the source shown (with a link into Zabbix) on the device and alert lists.
The Zabbix side is the stand-in answering as 7.0 (zabbix_bridge/tests/standin.py)."""
from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from alerts.models import Alert
from devices.choices import DeviceSource, MonitoringMode
from devices.models import Device, MonitoringProfile
from zabbix_bridge.models import ZabbixHost, ZabbixServer
from zabbix_bridge.services import sync_server
from tests.fixtures import api_client_for
from zabbix_bridge.tests.standin import TOKEN, StandIn

pytestmark = pytest.mark.django_db
URL = "/api/v1/zabbix/servers/"


def test_a_server_is_added_with_its_token_write_only_and_gets_a_schedule(api, settings):
    answer = api.post(URL, {"name": "zbx", "url": "https://zabbix.example.com", "api_token": "a" * 64,
                            "host_groups": ["Routers"]}, format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert "api_token" not in body and body["has_api_token"] is True and body["has_password"] is False
    assert body["url"] == "https://zabbix.example.com/api_jsonrpc.php"
    server = ZabbixServer.objects.get(name="zbx")
    assert server.api_token == "a" * 64
    task = PeriodicTask.objects.get(pk=server.schedule_id)
    assert (task.task, task.args, task.interval.every, task.enabled) == (
        "zabbix.sync_server", f"[{server.pk}]", settings.ZABBIX_SYNC_SECONDS, True)
    api.patch(f"{URL}{server.pk}/", {"enabled": False}, format="json")
    assert PeriodicTask.objects.get(pk=task.pk).enabled is False
    api.delete(f"{URL}{server.pk}/")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("body, field", [
    ({"name": "a", "url": "https://z.example.com"}, "api_token"),
    ({"name": "a", "url": "https://z.example.com", "api_token": "t", "username": "u", "password": "p"}, "username"),
    ({"name": "a", "url": "not a url", "api_token": "t"}, "url"),
    ({"name": "a", "url": "https://z.example.com", "api_token": "t", "host_groups": "Routers"}, "host_groups"),
    ({"name": "a", "url": "https://z.example.com", "api_token": "t", "timeout_seconds": 0}, "timeout_seconds"),
])
def test_bad_input_is_a_400_naming_the_field(api, body, field):
    answer = api.post(URL, body, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    assert not ZabbixServer.objects.exists()


def test_a_viewer_cannot_test_or_sync(viewer):
    server = ZabbixServer.objects.create(name="zbx", url="http://127.0.0.1:1/api_jsonrpc.php", api_token="t")
    client = api_client_for(viewer)
    assert client.post(f"{URL}{server.pk}/test").status_code == 403
    assert client.post(f"{URL}{server.pk}/sync").status_code == 403


def test_the_lists_show_the_source_and_link_into_zabbix(admin_client):
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    with StandIn("7.0.13") as standin:
        server = ZabbixServer.objects.create(name="Lab", url=standin.url, api_token=TOKEN)
        test = admin_client.post("/admin/zabbix_bridge/zabbixserver/", {
            "action": "test_connection", "_selected_action": [server.pk]}, follow=True)
        sync = admin_client.post("/admin/zabbix_bridge/zabbixserver/", {
            "action": "sync_now", "_selected_action": [server.pk]}, follow=True)

    assert "Lab: connected, Zabbix 7.0.13." in test.content.decode()
    assert "Lab: 3 hosts (3 new, 0 linked, 0 retired)" in sync.content.decode()
    devices = admin_client.get("/admin/devices/device/").content.decode()
    assert devices.count(f'href="{server.frontend_url}zabbix.php?action=host.edit&amp;hostid=') == 3
    alerts = admin_client.get("/admin/alerts/alert/?source=zabbix").content.decode()
    alert = Alert.objects.filter(source="zabbix").first()
    assert alert.name in alerts and alert.external_url.replace("&", "&amp;") in alerts
    device_page = admin_client.get(f"/admin/devices/device/{alert.device_id}/change/").content.decode()
    assert "Zabbix host" in device_page and alert.device.zabbix_host.host in device_page


def test_a_host_is_linked_by_hand_to_one_of_our_devices(admin_client):
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    ours = Device.objects.create(name="core-sw-1", address="198.18.0.99")  # Zabbix knows it by another address
    with StandIn("7.0.13") as standin:
        server = ZabbixServer.objects.create(name="Lab", url=standin.url, api_token=TOKEN)
        sync_server(server.pk)
        alert = Alert.objects.filter(source="zabbix").select_related("device__zabbix_host").first()
        link, made = alert.device.zabbix_host, alert.device
        page = admin_client.post(f"/admin/zabbix_bridge/zabbixhost/{link.pk}/change/", {"device": ours.pk})
        assert page.status_code == 302
        again = sync_server(server.pk)

    ours.refresh_from_db()
    assert ours.source == DeviceSource.BOTH and ours.zabbix_host.pk == link.pk and ours.zabbix_host.linked_by_hand
    assert not Device.objects.filter(pk=made.pk).exists()  # the device made for the host went
    assert Alert.objects.get(pk=alert.pk).device == ours  # its alerts came along
    assert (again.created, again.linked) == (0, 0) and ours.name == "core-sw-1"  # our name is kept
    taken = admin_client.post(f"/admin/zabbix_bridge/zabbixhost/{ZabbixHost.objects.exclude(pk=link.pk).first().pk}"
                              "/change/", {"device": ours.pk})
    assert taken.status_code == 200 and "Zabbix host with this Device already exists." in taken.content.decode()
