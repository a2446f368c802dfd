"""Item labels and value maps are checked when saved (API, admin, template import), and one malformed item that got
into the database anyway fails alone, not its device's whole poll batch."""
from __future__ import annotations

import json

import pytest

from devices.models import Device
from snmp import services
from snmp.models import MonitoringItem, SNMPCredential
from templates_app.models import MonitoringTemplate, TemplateItem
from tests.worker import wait_for
from wardsite.victoria import get_client

pytestmark = pytest.mark.django_db
ITEMS = "/api/v1/monitoring/snmp/items/"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


@pytest.fixture
def device(db) -> Device:
    return Device.objects.create(name="core-1", address="127.0.0.1")


@pytest.mark.parametrize("field, value, problem", [
    ("labels", ["cpu", "1"], "expected an object of label names to texts"),
    ("labels", {"cpu-1": "x"}, "'cpu-1' is not a label name"),
    ("labels", {"1cpu": "x"}, "'1cpu' is not a label name"),
    ("labels", {"device": "x"}, "'device' is a label the poller sets itself"),
    ("labels", {"__name__": "x"}, "'__name__' is a label the poller sets itself"),
    ("labels", {"cpu": 1}, "cpu: a label value is text, not 1"),
    ("labels", {"cpu": {"nested": "x"}}, "cpu: a label value is text, not {'nested': 'x'}"),
    ("labels", {f"l{n}": "x" for n in range(21)}, "21 labels: 20 at most"),
    ("labels", {"cpu": "x" * 1025}, "cpu: a label value has 1,024 characters at most"),
    ("value_map", [1, 2], "expected an object of raw values to numbers"),
    ("value_map", {"on": "one"}, "'on': expected a number, not 'one'"),
    ("value_map", {"on": True}, "'on': expected a number, not True"),
    ("value_map", {str(n): n for n in range(1001)}, "1,001 entries: 1,000 at most"),
])
def test_a_malformed_label_or_value_map_is_a_400_naming_the_field(api, device, field, value, problem):
    answer = api.post(ITEMS, {"device": device.pk, "name": "cpu_usage", "oid": "1.3.6.1.4.1.9.1.0", field: value},
                      format="json")
    assert answer.status_code == 400 and problem in answer.json()[field][0], answer.json()
    assert not MonitoringItem.objects.exists()


def test_good_labels_and_value_maps_are_taken(api, device):
    answer = api.post(ITEMS, {"device": device.pk, "name": "fan_state", "oid": "1.3.6.1.4.1.9.1.0",
                              "labels": {"fan": "1", "ifName": "Gi0/1"}, "value_map": {"on": 1, "off": 0.5}},
                      format="json")
    assert answer.status_code == 201, answer.json()


def test_the_admin_form_names_the_field(admin_client, device):
    answer = admin_client.post("/admin/snmp/monitoringitem/add/", {
        "device": device.pk, "name": "cpu_usage", "metric": "", "oid": "1.3.6.1.4.1.9.1.0", "interval_seconds": 60,
        "value_type": "float", "units": "", "enabled": "on", "labels": json.dumps({"device_id": "7"}),
        "value_map": json.dumps({"on": "yes"})})
    errors = answer.context["adminform"].form.errors
    assert errors["labels"] == ["'device_id' is a label the poller sets itself: choose another name"]
    assert errors["value_map"] == ["'on': expected a number, not 'yes'"] and not MonitoringItem.objects.exists()


def test_a_template_item_value_map_is_checked_too(api):
    template = MonitoringTemplate.objects.create(key="lab", name="Lab")
    item = TemplateItem(template=template, key="fan_state", oid="1.3.6.1.4.1.9.1", value_map={"on": [1]})
    with pytest.raises(Exception, match="expected a number") as refused:
        item.full_clean()
    assert "value_map" in refused.value.message_dict
    document = {"format": "wardflux-template/1", "key": "lab-2", "name": "Lab 2", "items": [
        {"key": "fan_state", "oid": "1.3.6.1.4.1.9.1.0", "value_map": {str(n): n for n in range(1001)}}]}
    answer = api.post("/api/v1/templates/import", {"document": document}, format="json")
    assert answer.status_code == 400 and "items[0].value_map: 1,001 entries: 1,000 at most" in str(answer.json())


def test_a_malformed_item_saved_anyway_fails_alone_not_the_batch(snmpd, victoria_url, snmp_counter_state):
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community=snmpd.community, timeout_ms=1000)
    device = Device.objects.create(name="lab-1", address=snmpd.host, snmp_port=snmpd.port, snmp_enabled=True,
                                   snmp_credential=credential)
    MonitoringItem.objects.bulk_create([  # bulk_create skips clean(): as rows saved before it checked them
        MonitoringItem(device=device, name="uptime_ticks", metric="uptime_ticks", oid=SYS_UPTIME, value_type="integer"),
        MonitoringItem(device=device, name="bad_labels", metric="bad_labels", oid="1.3.6.1.2.1.1.7.0",
                       labels={"cpu": 1}),
        MonitoringItem(device=device, name="bad_map", metric="bad_map", oid="1.3.6.1.2.1.1.8.0", value_map=[1])])

    result = services.poll_device(device)

    assert result.error == "" and result.items["uptime_ticks"].value.isdigit()
    assert result.items["bad_labels"].error.startswith("not written: label cpu on metric bad_labels: a value must be")
    assert result.items["bad_map"].error.startswith("not written:")
    get_client().flush()
    wait_for(lambda: get_client().query(f'uptime_ticks{{device_id="{device.pk}"}}'), 10, "the good item's series")
    assert MonitoringItem.objects.get(name="bad_labels").last_error.startswith("not written:")
