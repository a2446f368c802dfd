from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from devices.models import Device, DeviceGroup, MonitoringProfile, Tag
from tests.fixtures import api_client_for

pytestmark = pytest.mark.django_db


def test_it_requires_login():
    assert APIClient().get("/api/v1/devices/").status_code in (401, 403)


def test_it_creates_a_device_with_group_and_tags(api):
    DeviceGroup.objects.create(name="dc1")
    Tag.objects.create(name="core")
    response = api.post(
        "/api/v1/devices/",
        {"name": "r1", "address": "127.0.0.2", "device_type": "router", "group": "dc1", "tags": ["core"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["group"], body["tags"]) == ("unknown", "dc1", ["core"])


def test_it_creates_a_device_from_only_an_address_named_by_reverse_dns(api, settings):
    settings.DEVICE_NAME_FROM_DNS = True  # only 127.0.0.1 is looked up: /etc/hosts answers it
    response = api.post("/api/v1/devices/", {"address": "127.0.0.1"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "localhost"  # from /etc/hosts


def test_it_names_a_device_by_its_address_when_its_reverse_dns_name_is_taken(api):
    Device.objects.create(name="localhost", address="127.0.0.2")
    response = api.post("/api/v1/devices/", {"address": "127.0.0.1", "name": ""}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "127.0.0.1"


@pytest.mark.parametrize("address", ["999.1.1.1", "not an address", "-bad-.example", "", "1.2.3"])
def test_it_rejects_an_invalid_address(api, address):
    response = api.post("/api/v1/devices/", {"name": "x", "address": address}, format="json")
    assert response.status_code == 400
    assert "address" in response.json()
    assert not Device.objects.exists()


@pytest.mark.parametrize(("given", "kept"), [("2001:DB8::0001", "2001:db8::1"), ("Core-SW1.Example.NET.", "core-sw1.example.net")])
def test_it_normalizes_addresses(api, given, kept):
    response = api.post("/api/v1/devices/", {"name": "x", "address": given}, format="json")
    assert response.status_code == 201, response.json()
    assert Device.objects.get().address == kept


def test_it_rejects_a_dependency_loop(api):
    a = Device.objects.create(name="a", address="127.0.0.2")
    b = Device.objects.create(name="b", address="127.0.0.3", parent=a)
    response = api.patch(f"/api/v1/devices/{a.pk}/", {"parent": b.pk}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()
    a.refresh_from_db()
    assert a.parent is None


def test_it_filters_by_state_group_and_tag(api):
    group = DeviceGroup.objects.create(name="dc1")
    Device.objects.create(name="a", address="127.0.0.2", state="up", group=group)
    Device.objects.create(name="b", address="127.0.0.3", state="down")
    names = lambda q: [d["name"] for d in api.get(f"/api/v1/devices/?{q}").json()["results"]]  # noqa: E731
    assert names("state=down") == ["b"]
    assert names("group=dc1") == ["a"]
    assert names("search=127.0.0.3") == ["b"]


def test_it_lets_a_viewer_read_but_not_write(viewer):
    client = api_client_for(viewer)
    assert client.get("/api/v1/devices/").status_code == 200
    assert client.post("/api/v1/devices/", {"name": "x", "address": "127.0.0.2"}).status_code == 403


def test_it_lets_an_operator_add_devices(operator):
    response = api_client_for(operator).post("/api/v1/devices/", {"name": "x", "address": "127.0.0.2"})
    assert response.status_code == 201


def test_it_rejects_an_unknown_monitoring_mode(api):
    response = api.post("/api/v1/monitoring-profiles/", {"name": "p", "mode": "turbo"}, format="json")
    assert response.status_code == 400
    assert "mode" in response.json()
    assert not MonitoringProfile.objects.exists()


def test_it_allows_only_one_active_profile(api):
    MonitoringProfile.objects.create(name="main", mode="hybrid")
    response = api.post("/api/v1/monitoring-profiles/", {"name": "second", "mode": "zabbix"}, format="json")
    assert response.status_code == 400
    assert MonitoringProfile.objects.count() == 1


def test_it_accepts_a_token_from_create_api_token(admin_user, capsys):
    from django.core.management import call_command

    call_command("create_api_token", admin_user.username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {capsys.readouterr().out.strip()}")
    assert client.get("/api/v1/devices/").status_code == 200


def test_it_serves_the_browsable_api_and_the_schema(admin_client):
    page = admin_client.get("/api/v1/devices/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"Device List" in page.content
    schema = admin_client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/monitoring/icmp/status" in schema.content


def test_the_schema_says_a_device_links_to_itself_and_names_its_group_by_name_or_id(admin_client):
    device = admin_client.get("/api/v1/schema/?format=json").json()["components"]["schemas"]["Device"]["properties"]
    assert device["url"] == {"type": "string", "format": "uri", "readOnly": True}
    assert device["group"]["description"].startswith("A name, or an id")


def test_each_listed_device_links_to_its_own_page(api):
    devices = [Device.objects.create(name=f"d{i}", address=f"127.0.3.{i}") for i in (1, 2, 11)]
    listed = {row["name"]: row["url"] for row in api.get("/api/v1/devices/").json()["results"]}
    for device in devices:  # one URL is reversed, the others made from it: each must still be the device's own
        assert listed[device.name] == f"http://testserver/api/v1/devices/{device.pk}"
        assert api.get(listed[device.name]).json()["name"] == device.name
