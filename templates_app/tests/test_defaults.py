"""Every default template on real recordings of the devices it targets: auto-selected, applied, polled, answered.

The recordings (snmpsim-data, served by snmpsim) are listed in templates_app/tests/recordings.py and in the table
of templates_app/README.md.
"""
from __future__ import annotations

from pathlib import PurePath

import pytest

from devices.models import Device
from snmp import services as snmp_services
from snmp.models import MonitoringItem, SNMPCredential
from templates_app import applier
from templates_app.models import MonitoringTemplate, TemplateItem
from templates_app.tests.recordings import ITEMS_ABSENT, VERIFIED_BY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("snmp_counter_state", "victoria_url")]

CASES = [(key, recording) for key, recordings in VERIFIED_BY.items() for recording in recordings]


def test_every_default_template_is_verified_by_a_recording():
    assert set(VERIFIED_BY) == set(MonitoringTemplate.objects.filter(origin="builtin").values_list("key", flat=True))


@pytest.mark.parametrize("key, recording", CASES, ids=[f"{k}@{PurePath(r).name}" for k, r in CASES])
def test_the_template_is_chosen_and_its_items_answer(snmpsim, key, recording):
    community = PurePath(recording).name
    credential = SNMPCredential.objects.create(name=community, version="v2c", community=community)
    device = Device.objects.create(name=community, address=snmpsim.host, snmp_port=snmpsim.port,
                                   snmp_enabled=True, snmp_credential=credential)
    snmp_services.poll_device(device)  # learns sysObjectID/sysDescr and the interfaces, as the scheduler would

    template = MonitoringTemplate.objects.get(key=key)
    if template.match_sys_object_ids or template.match_sys_descr:
        chosen, report = applier.auto_apply(device)
        assert chosen == template, f"{recording} chose {chosen}"
    else:  # included by others or applied by hand: never auto-selected
        report = applier.apply(template, device)
    assert report.problems == []
    result = snmp_services.poll_device(device)
    assert result.error == ""
    absent = ITEMS_ABSENT.get((key, recording), frozenset())
    failing = {name: item.error for name, item in result.items.items()
               if item.error and MonitoringItem.objects.get(device=device, name=name).metric not in absent}
    assert failing == {}
    expected = {item.key for item in TemplateItem.objects.filter(template__in=applier.closure(template), enabled=True)}
    made = set(MonitoringItem.objects.filter(device=device).values_list("metric", flat=True))
    assert expected - absent <= made, f"no items made for {sorted(expected - absent - made)}"
