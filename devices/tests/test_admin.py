from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from devices.admin import DeviceAddressInline, StateChangeInline
from devices.admin_extensions import PageExtensions
from devices.models import Device, DeviceStateChange
from devices.services import set_state
from icmp.models import PingStatus
from wardsite.admin_inlines import SHOWN
from wardsite.victoria import Sample, get_client

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


def add_form(admin_client, **fields: str) -> dict[str, str]:
    """What a browser posts from the add form: its hidden inputs (the inlines' management forms) and `fields`."""
    page = admin_client.get("/admin/devices/device/add/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {**hidden, "device_type": "other", "source": "local", "snmp_port": "161", "icmp_enabled": "on", **fields}


def test_it_adds_a_device_given_only_its_address_named_by_reverse_dns(admin_client, settings):
    settings.DEVICE_NAME_FROM_DNS = True  # only 127.0.0.1 is looked up: /etc/hosts answers it
    response = admin_client.post("/admin/devices/device/add/", add_form(admin_client, address="127.0.0.1"))
    assert response.status_code == 302, response.content.decode()
    assert Device.objects.values_list("name", "address").get() == ("localhost", "127.0.0.1")  # from /etc/hosts


def test_it_names_a_device_by_its_address_when_its_reverse_dns_name_is_taken(admin_client):
    Device.objects.create(name="localhost", address="127.0.0.2")
    response = admin_client.post("/admin/devices/device/add/", add_form(admin_client, address="127.0.0.1"))
    assert response.status_code == 302, response.content.decode()
    assert Device.objects.get(address="127.0.0.1").name == "127.0.0.1"


def test_it_shows_each_field_error_once(admin_client):
    response = admin_client.post("/admin/devices/device/add/",
                                 add_form(admin_client, address="300.1.1.1", snmp_port="0", snmp_enabled="on"))
    page = response.content.decode()
    assert page.count("300.1.1.1 is neither an IPv4/IPv6 address nor a valid DNS name.") == 1
    assert page.count("Ensure this value is greater than or equal to 1.") == 1
    assert page.count("Choose the SNMP credential to poll this device with") == 1
    assert "Constraint" not in page  # the port's error is the field's, not a violated constraint's
    assert not Device.objects.exists()


def test_it_rounds_rtt_loss_and_availability_as_a_person_reads_them(admin_client, victoria_url):
    device = Device.objects.create(name="r1", address="127.0.0.2")
    PingStatus.objects.create(device=device, rtt_avg_ms=0.04363059997558594, packet_loss=33.33333333333333)
    now_ms = int(time.time() * 1000)
    get_client().write(Sample("ping_up", {"device_id": str(device.pk)}, value, now_ms - 20_000 * (k + 1))
                       for k, value in enumerate((1.0, 1.0, 0.0)))
    get_client().flush()
    page = admin_client.get("/admin/devices/device/").content.decode()
    cells = dict(re.findall(r'<td class="field-(rtt|loss|availability_24h)">([^<]*)</td>', page))
    assert cells == {"rtt": "0.04", "loss": "33.3", "availability_24h": "66.67 %"}


def test_it_marks_only_flapping_devices(admin_client, victoria_url, settings):
    steady, flapping = (Device.objects.create(name=name, address="127.0.0.2") for name in ("steady", "flappy"))
    for state in ["up", "down"] * settings.FLAP_THRESHOLD:
        set_state(flapping.pk, state)
    page = admin_client.get("/admin/devices/device/").content.decode()
    cells = dict(re.findall(r'<th class="field-name"><a href="[^"]+">(\w+)</a>.*?<td class="field-flapping">(.*?)</td>',
                            page, re.S))
    assert cells["steady"].strip() in ("", "&nbsp;")
    assert ">flapping</span>" in cells["flappy"]
    assert "icon-no" not in page and "icon-yes" not in page  # no boolean ✖/✔ in that column


def test_the_device_list_shows_every_apps_columns_and_actions_in_their_places(admin_client):
    Device.objects.create(name="r1", address="127.0.0.2")
    page = admin_client.get("/admin/devices/device/").content.decode()
    assert re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page) == [
        "name", "address", "device_type", "group", "source", "state_badge", "open_alerts", "state_since", "rtt", "loss",
        "availability_24h",
        "flapping", "snmp", "last_seen"]
    actions = page[page.index('name="action"'):]
    assert re.findall(r'<option value="(\w+)"', actions[:actions.index("</select>")]) == [
        "delete_selected", "enable_icmp", "disable_icmp", "enable_snmp", "disable_snmp", "ping_now", "test_snmp",
        "poll_snmp", "apply_template", "auto_template", "unlink_template"]
    assert '<select name="template"' in page  # the template actions' field in the action bar


def test_the_device_page_shows_every_apps_inlines_in_their_places(admin_client):
    device = Device.objects.create(name="r1", address="127.0.0.2")
    page = admin_client.get(f"/admin/devices/device/{device.pk}/change/").content.decode()
    assert re.findall(r'class="js-inline-admin-formset inline-group"\s+id="(\w+)-group"', page) == [
        "aliases", "ping_settings", "snmp_status", "template_assignments", "snmp_items", "interfaces", "state_changes"]


def test_a_long_state_history_shows_the_newest_changes_and_links_to_all_of_them(admin_client):
    device, other = (Device.objects.create(name=name, address="127.0.0.2") for name in ("r1", "r2"))
    now = timezone.now()
    DeviceStateChange.objects.bulk_create(
        DeviceStateChange(device=d, previous="up", new="down", at=now - timedelta(minutes=k), reason=f"change #{k}.")
        for d in (device, other) for k in range(SHOWN + 5))
    page = admin_client.get(f"/admin/devices/device/{device.pk}/change/").content.decode()
    assert sorted(int(k) for k in re.findall(r"<p>change #(\d+)\.</p>", page)) == list(range(SHOWN))
    url = f"/admin/devices/devicestatechange/?device__id__exact={device.pk}"
    assert f'{SHOWN} of {SHOWN + 5} shown: <a href="{url}">see them all</a>' in page
    listing = admin_client.get(url).content.decode()
    assert listing.count('<td class="field-reason">') == SHOWN + 5
    assert ">r2<" not in listing


def test_page_extensions_put_what_an_app_adds_where_it_asks():
    page = PageExtensions()

    @admin.display(description="Extra")
    def extra(obj: Device) -> str:
        return "x"

    page.add_columns(extra, after="state", select_related=("ping_status",))
    page.add_inlines(StateChangeInline, order=20)
    page.add_inlines(DeviceAddressInline, order=10)
    assert page.list_display(("name", "state", "last_seen")) == ["name", "state", extra, "last_seen"]
    assert page.inlines() == [DeviceAddressInline, StateChangeInline]
    assert page.select_related == ["ping_status"]
    page.add_columns(extra, after="no_such_column")
    with pytest.raises(ImproperlyConfigured, match="no column 'no_such_column'"):
        page.list_display(("name", "state"))
