"""Applying templates to a device served by a real recording: expansion, idempotence, overrides, unlinking."""
from __future__ import annotations

import copy

import pytest

from devices.models import Device
from snmp import services as snmp_services
from snmp.models import Interface, MonitoringItem, SNMPCredential
from templates_app import applier
from templates_app.document import parse_document
from templates_app.library import save_spec
from templates_app.models import MonitoringTemplate, TemplateAssignment
from templates_app.tests.test_document import GOOD

pytestmark = pytest.mark.django_db

HR_STORAGE_DESCR = "1.3.6.1.2.1.25.2.3.1.3"
HR_STORAGE_TYPE = "1.3.6.1.2.1.25.2.3.1.2"
FIXED_DISK = "1.3.6.1.2.1.25.2.1.4"


@pytest.fixture
def linux(snmpsim) -> Device:
    credential = SNMPCredential.objects.create(name="sim", version="v2c", community="unknown-006")
    return Device.objects.create(name="linux", address=snmpsim.host, snmp_port=snmpsim.port, snmp_enabled=True,
                                 snmp_credential=credential)


@pytest.fixture
def template(db) -> MonitoringTemplate:
    return save_spec(parse_document(GOOD))


def fixed_disks(snmpsim) -> dict[str, str]:
    """{hrStorageIndex: mount point} of the recording's fixed disks: what the table item must expand to."""
    types = snmpsim.recorded("unknown-006", HR_STORAGE_TYPE)
    names = snmpsim.recorded("unknown-006", HR_STORAGE_DESCR)
    return {oid.rsplit(".", 1)[1]: names[f"{HR_STORAGE_DESCR}.{oid.rsplit('.', 1)[1]}"][1].decode()
            for oid, (_, value) in types.items() if value == FIXED_DISK}


def test_it_expands_table_and_interface_items_and_polls_them(snmpsim, linux, template, victoria_url,
                                                              snmp_counter_state):
    snmp_services.poll_device(linux)  # discovers the interfaces the interface items expand over
    report = applier.apply(template, linux)

    disks = fixed_disks(snmpsim)
    storage = {i.labels["storage"]: i for i in MonitoringItem.objects.filter(device=linux, metric="storage_used_units")}
    assert set(storage) == set(disks.values()) and "/" in storage
    assert all(storage[name].oid == f"1.3.6.1.2.1.25.2.3.1.6.{index}" for index, name in disks.items())
    assert storage["/"].name == "storage_used_units[/]" and storage["/"].labels["index"] in disks
    interfaces = Interface.objects.filter(device=linux).exclude(if_type=24)
    mtu = MonitoringItem.objects.filter(device=linux, metric="if_mtu")
    assert {i.labels["ifIndex"] for i in mtu} == {str(i.if_index) for i in interfaces} and mtu
    assert report.created == 1 + len(disks) + len(mtu) and not report.problems

    result = snmp_services.poll_device(linux)
    assert not [name for name, item in result.items.items() if item.error], result.items
    assert result.items["storage_used_units[/]"].value.isdigit()


def test_reapplying_changes_nothing_and_keeps_overrides(snmpsim, linux, template):
    applier.apply(template, linux)
    load = MonitoringItem.objects.get(device=linux, metric="load_1m")
    snmp_services.record_overrides(load, {"interval_seconds": 5, "enabled": False})
    count = MonitoringItem.objects.filter(device=linux).count()

    again = applier.apply(template, linux)

    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert MonitoringItem.objects.filter(device=linux).count() == count
    load.refresh_from_db()
    assert (load.interval_seconds, load.enabled, sorted(load.overrides)) == (5, False, ["enabled", "interval_seconds"])

    # the template changes: what was not overridden follows, the overrides stay
    changed = copy.deepcopy(GOOD)
    changed["items"][0].update(interval=120, units="load")
    save_spec(parse_document(changed))
    report = applier.apply(template, linux)
    load.refresh_from_db()
    assert (load.interval_seconds, load.enabled, load.units) == (5, False, "load") and report.updated == 1


def test_a_local_item_with_the_same_oid_is_adopted_not_duplicated(linux, template):
    local = MonitoringItem.objects.create(device=linux, name="my_load", metric="my_load",
                                          oid="1.3.6.1.4.1.2021.10.1.3.1")
    applier.apply(template, linux)
    local.refresh_from_db()
    assert local.template_item.key == "load_1m" and local.metric == "load_1m"
    assert MonitoringItem.objects.filter(device=linux, oid=local.oid).count() == 1


def test_removed_rows_and_items_go_when_the_template_changes(linux, template):
    applier.apply(template, linux)
    narrower = copy.deepcopy(GOOD)
    narrower["items"][1]["discovery"]["filters"].append({"oid": HR_STORAGE_DESCR, "equals": "/"})
    save_spec(parse_document(narrower))
    report = applier.apply(template, linux)
    assert [i.labels["storage"] for i in MonitoringItem.objects.filter(device=linux, metric="storage_used_units")] == ["/"]
    assert report.removed >= 1


def test_an_unreachable_device_keeps_its_table_rows(linux, template):
    applier.apply(template, linux)
    rows = MonitoringItem.objects.filter(device=linux, metric="storage_used_units").count()
    SNMPCredential.objects.filter(pk=linux.snmp_credential_id).update(community="wrong", timeout_ms=200, retries=0)
    linux.refresh_from_db()
    report = applier.apply(template, linux)
    assert "table discovery failed" in report.problems[0]
    assert MonitoringItem.objects.filter(device=linux, metric="storage_used_units").count() == rows


@pytest.mark.parametrize("remove, left", [(True, 0), (False, None)])
def test_unlinking_removes_or_keeps_the_items(linux, template, remove, left):
    applier.apply(template, linux)
    made = MonitoringItem.objects.filter(device=linux).count()
    assert applier.unlink(template, linux, remove_items=remove) == made
    assert not TemplateAssignment.objects.filter(device=linux).exists()
    items = MonitoringItem.objects.filter(device=linux)
    assert items.count() == (made if left is None else left)
    assert not items.filter(template_item__isnull=False).exists()


def test_auto_selection_reads_the_facts_and_picks_the_highest_priority(linux, template):
    MonitoringTemplate.objects.filter(origin="builtin").delete()  # only this test's templates compete
    generic = copy.deepcopy(GOOD)
    generic.update(key="anything", name="Anything", priority=0, match={"sys_object_ids": ["1.3.6.1"]}, items=[],
                   triggers=[])
    save_spec(parse_document(generic))
    chosen, report = applier.auto_apply(linux)
    assert chosen == template and report.created > 0
    assert TemplateAssignment.objects.get(device=linux).auto is True
    assert applier.select_template("1.3.6.1.4.1.9.1.1", "Cisco IOS").key == "anything"
    assert applier.select_template("1.3.6.1.4.1.8072.3.2.10", "FreeBSD") .key == "anything"  # descr must match too
