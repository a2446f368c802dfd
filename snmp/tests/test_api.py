from __future__ import annotations

import pytest

from devices.models import Device
from snmp.models import Interface, MonitoringItem, SNMPCredential

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


class TestTestAndPoll:
    """GET test and POST poll against real agents; bad input is a 400 naming the field."""

    @pytest.fixture(autouse=True)
    def allow_loopback(self, settings) -> None:
        settings.DISCOVERY_ALLOWED_NETWORKS = "127.0.0.0/24"  # explicit addresses are tested inside the allow-list

    @pytest.fixture
    def credential(self, snmpd) -> SNMPCredential:
        return SNMPCredential.objects.create(name="lab", version="v2c", community=snmpd.community)

    @pytest.fixture
    def agent_device(self, snmpd, credential) -> Device:
        return Device.objects.create(name="agent", address=snmpd.host, snmp_port=snmpd.port, snmp_enabled=True,
                                     snmp_credential=credential)

    def test_it_reads_the_system_group_of_a_device(self, api, snmpd, agent_device):
        body = api.get(f"/api/v1/monitoring/snmp/test?device={agent_device.pk}").json()
        assert body["ok"] is True
        assert body["sys_name"] == snmpd.sys_name
        assert body["sys_object_id"].startswith("1.3.6.1.4.1.8072.")
        assert body["sys_descr"] and body["uptime_seconds"] >= 0

    def test_it_tests_an_address_with_a_credential(self, api, snmpd, credential):
        response = api.get("/api/v1/monitoring/snmp/test",
                           {"address": snmpd.host, "credential": credential.pk, "port": snmpd.port})
        assert response.status_code == 200 and response.json()["sys_name"] == snmpd.sys_name

    def test_it_gives_the_exact_error_of_a_failed_test(self, api, snmpd):
        user = snmpd.user("SHA", "AES")
        wrong = SNMPCredential.objects.create(name="wrong", version="v3", security_name=user.name,
                                              auth_protocol="SHA", auth_key="not-the-key", priv_protocol="AES",
                                              priv_key=user.priv_key, timeout_ms=500, retries=0)
        response = api.get("/api/v1/monitoring/snmp/test",
                           {"address": snmpd.host, "credential": wrong.pk, "port": snmpd.port})
        assert response.status_code == 502
        assert response.json()["error_type"] == "auth" and "auth key" in response.json()["error"]

    @pytest.mark.parametrize("query, field", [
        ({}, "address"),
        ({"address": "127.0.0.1"}, "credential"),
        ({"device": 999999}, "device"),
        ({"address": "not an address!", "credential": 1}, "address"),
        ({"address": "127.0.0.1", "credential": 1, "port": 70000}, "port"),
    ])
    def test_bad_test_input_is_a_400_naming_the_field(self, api, credential, query, field):
        response = api.get("/api/v1/monitoring/snmp/test", query)
        assert response.status_code == 400
        assert field in response.json()

    def test_a_device_without_a_credential_cannot_be_tested_or_polled(self, api, device):
        assert "no SNMP credential" in api.get(f"/api/v1/monitoring/snmp/test?device={device.pk}").json()["device"][0]
        response = api.post("/api/v1/monitoring/snmp/poll", {"device": device.pk}, format="json")
        assert response.status_code == 400 and "no SNMP credential" in response.json()["device"][0]

    def test_it_polls_a_device_now_and_returns_the_values(self, api, snmpd, agent_device, victoria_url,
                                                          snmp_counter_state):
        MonitoringItem.objects.create(device=agent_device, name="sys_name", oid="1.3.6.1.2.1.1.5.0",
                                      value_type="string")
        response = api.post("/api/v1/monitoring/snmp/poll", {"device": agent_device.pk}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["items"] == {"sys_name": {"value": snmpd.sys_name, "error": ""}}
        assert body["interfaces"]["lo"]["oper_status"] == 1  # snmpd reports this machine's interfaces
        assert body["samples_written"] > 0
        assert Interface.objects.filter(device=agent_device, name="lo").exists()

    def test_polling_a_device_with_snmp_off_is_refused(self, api, agent_device):
        Device.objects.filter(pk=agent_device.pk).update(snmp_enabled=False)
        response = api.post("/api/v1/monitoring/snmp/poll", {"device": agent_device.pk}, format="json")
        assert response.status_code == 400 and "SNMP monitoring is off" in response.json()["device"][0]

    def test_a_viewer_may_not_poll(self, viewer, agent_device):
        from tests.fixtures import api_client_for

        client = api_client_for(viewer)
        assert client.post("/api/v1/monitoring/snmp/poll", {"device": agent_device.pk}).status_code == 403
        assert client.get(f"/api/v1/monitoring/snmp/test?device={agent_device.pk}").status_code == 403


class TestBadSNMPInput:
    """What a script may get wrong: each is a 400 naming the field, and nothing is saved."""

    def test_a_device_with_an_unknown_credential_is_refused(self, api):
        response = api.post("/api/v1/devices/", {"name": "r9", "address": "127.0.0.9", "snmp_enabled": True,
                                                 "snmp_credential": 999999}, format="json")
        assert response.status_code == 400 and "snmp_credential" in response.json()
        assert not Device.objects.filter(name="r9").exists()

    def test_snmp_monitoring_needs_a_credential(self, api):
        response = api.post("/api/v1/devices/", {"name": "r9", "address": "127.0.0.9", "snmp_enabled": True},
                            format="json")
        assert response.status_code == 400
        assert "Choose the SNMP credential" in response.json()["snmp_credential"][0]
        assert not Device.objects.filter(name="r9").exists()

    @pytest.mark.parametrize("name, message", [
        ("CPU load", "is not a metric name"),
        ("snmp_up", "series the poller writes itself"),
        ("snmp_if_in_bps", "series the poller writes itself"),
    ])
    def test_an_item_name_must_be_a_free_metric_name(self, api, device, name, message):
        response = api.post("/api/v1/monitoring/snmp/items/",
                            {"device": device.pk, "name": name, "oid": "1.3.6.1.2.1.1.3.0"}, format="json")
        assert response.status_code == 400 and message in response.json()["name"][0]
        assert not MonitoringItem.objects.exists()


def test_the_bulk_action_enables_snmp_only_where_a_credential_is_set(admin_client):
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community="public")
    ready = Device.objects.create(name="ready", address="127.0.0.2", snmp_credential=credential)
    bare = Device.objects.create(name="bare", address="127.0.0.3")
    response = admin_client.post("/admin/devices/device/", {"action": "enable_snmp",
                                                            "_selected_action": [ready.pk, bare.pk]}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert "Not enabled without an SNMP credential: bare" in messages
    assert list(Device.objects.filter(snmp_enabled=True).values_list("name", flat=True)) == ["ready"]


def test_an_item_made_without_a_metric_is_named_like_its_series_and_edits_of_template_items_are_overrides(api, device):
    response = api.post("/api/v1/monitoring/snmp/items/", {"device": device.pk, "name": "uptime",
                                                           "oid": "1.3.6.1.2.1.1.3.0"}, format="json")
    assert response.status_code == 201 and response.json()["metric"] == "uptime"
    item = MonitoringItem.objects.get(pk=response.json()["id"])
    assert item.metric == "uptime"

    from templates_app.document import parse_document
    from templates_app.library import save_spec
    from templates_app.tests.test_document import GOOD

    template_item = save_spec(parse_document(GOOD)).items.get(key="load_1m")
    MonitoringItem.objects.filter(pk=item.pk).update(template_item=template_item)
    response = api.patch(f"/api/v1/monitoring/snmp/items/{item.pk}/", {"interval_seconds": 15, "name": "up"},
                         format="json")
    assert response.status_code == 200 and response.json()["overrides"] == ["interval_seconds"]
