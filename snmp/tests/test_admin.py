"""The device admin's SNMP actions and the item/interface screens, against a real snmpd."""
from __future__ import annotations

import pytest

from devices.models import Device
from snmp.models import Interface, MonitoringItem, SNMPCredential
from wardsite.admin_inlines import SHOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(snmpd) -> Device:
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community=snmpd.community)
    return Device.objects.create(name="agent", address=snmpd.host, snmp_port=snmpd.port, snmp_enabled=True,
                                 snmp_credential=credential)


def run_action(admin_client, action: str, *devices: Device) -> list[str]:
    response = admin_client.post("/admin/devices/device/",
                                 {"action": action, "_selected_action": [d.pk for d in devices]}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_test_snmp_shows_the_system_group_or_the_reason(admin_client, snmpd, device):
    plain = Device.objects.create(name="plain", address="127.0.0.9")
    messages = run_action(admin_client, "test_snmp", device, plain)
    assert any(m.startswith(f"agent: {snmpd.sys_name} (1.3.6.1.4.1.8072.") for m in messages)
    assert "plain: no SNMP credential: choose one on the device" in messages


def test_poll_snmp_now_discovers_interfaces_and_shows_them_inline(admin_client, device, victoria_url,
                                                                  snmp_counter_state):
    messages = run_action(admin_client, "poll_snmp", device)
    assert len(messages) == 1 and "samples written" in messages[0]
    assert Interface.objects.filter(device=device, name="lo").exists()
    page = admin_client.get(f"/admin/devices/device/{device.pk}/change/").content.decode()
    assert "SNMP status" in page and "<p>lo</p>" in page  # the interface inline, read-only
    listing = admin_client.get("/admin/devices/device/").content.decode()
    assert ">ok</span>" in listing


def test_an_item_with_a_bad_name_or_oid_is_a_form_error(admin_client, device):
    response = admin_client.post("/admin/snmp/monitoringitem/add/", {
        "device": device.pk, "name": "CPU load", "oid": "1.3.6.x", "interval_seconds": 60, "value_type": "float",
        "enabled": "on"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "name" in errors and "oid" in errors


def management_forms(admin_client, url: str) -> dict[str, str]:
    """The hidden inputs of an admin form (CSRF aside, the inlines' management forms), as a browser sends them."""
    import re

    page = admin_client.get(url).content.decode()
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def test_a_device_with_an_item_is_added_and_an_edit_of_a_template_item_becomes_an_override(admin_client, device):
    data = {**management_forms(admin_client, "/admin/devices/device/add/"), "name": "r2", "address": "127.0.0.3",
            "device_type": "router", "source": "local", "snmp_port": "161", "icmp_enabled": "on",
            "snmp_items-TOTAL_FORMS": "1", "snmp_items-0-name": "uptime", "snmp_items-0-oid": "1.3.6.1.2.1.1.3.0",
            "snmp_items-0-interval_seconds": "60", "snmp_items-0-value_type": "integer", "snmp_items-0-enabled": "on"}
    response = admin_client.post("/admin/devices/device/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    item = MonitoringItem.objects.get(device__name="r2")
    assert item.metric == "uptime"

    from templates_app.document import parse_document
    from templates_app.library import save_spec
    from templates_app.tests.test_document import GOOD

    MonitoringItem.objects.filter(pk=item.pk).update(
        template_item=save_spec(parse_document(GOOD)).items.get(key="load_1m"))
    url = f"/admin/devices/device/{item.device_id}/change/"
    data = {**management_forms(admin_client, url), "name": "r2", "address": "127.0.0.3", "device_type": "router",
            "source": "local", "snmp_port": "161", "icmp_enabled": "on", "snmp_items-0-name": "uptime",
            "snmp_items-0-oid": "1.3.6.1.2.1.1.3.0", "snmp_items-0-interval_seconds": "300",
            "snmp_items-0-value_type": "integer", "snmp_items-0-enabled": "on"}
    assert admin_client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.interval_seconds, item.overrides) == (300, ["interval_seconds"])


def test_a_device_with_many_items_shows_the_first_ones_and_saves_without_touching_the_rest(admin_client, device):
    total = SHOWN + 3
    MonitoringItem.objects.bulk_create(
        MonitoringItem(device=device, name=f"item_{k:02}", metric=f"item_{k:02}", oid=f"1.3.6.1.4.1.99.{k}",
                       interval_seconds=60, value_type="integer") for k in range(total))
    url = f"/admin/devices/device/{device.pk}/change/"
    shown = {**management_forms(admin_client, url), "name": "agent", "address": device.address,
             "device_type": "other", "source": "local", "snmp_port": str(device.snmp_port), "icmp_enabled": "on",
             "snmp_enabled": "on", "snmp_credential": str(device.snmp_credential_id)}
    assert (shown["snmp_items-INITIAL_FORMS"], shown["snmp_items-TOTAL_FORMS"]) == (str(SHOWN), str(SHOWN))
    for k in range(SHOWN):  # the form as shown: the first items by name
        shown.update({f"snmp_items-{k}-name": f"item_{k:02}", f"snmp_items-{k}-oid": f"1.3.6.1.4.1.99.{k}",
                      f"snmp_items-{k}-interval_seconds": "60", f"snmp_items-{k}-value_type": "integer",
                      f"snmp_items-{k}-enabled": "on"})
    shown["snmp_items-3-interval_seconds"] = "300"
    response = admin_client.post(url, shown)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert dict(MonitoringItem.objects.filter(device=device).values_list("name", "interval_seconds")) == {
        f"item_{k:02}": 300 if k == 3 else 60 for k in range(total)}
    page = admin_client.get(url).content.decode()
    assert f'{SHOWN} of {total} shown: <a href="/admin/snmp/monitoringitem/?device__id__exact={device.pk}">' in page
