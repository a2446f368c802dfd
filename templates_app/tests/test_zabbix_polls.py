"""A real Zabbix 6.0 export, imported, applied to a recording of the device it is for, and polled for real."""
from __future__ import annotations

from pathlib import Path

import pytest

from devices.models import Device
from snmp import services as snmp_services
from snmp.models import MonitoringItem, SNMPCredential
from templates_app import applier
from templates_app.library import import_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("snmp_counter_state", "victoria_url")]

EXPORTS = Path(__file__).parent / "data" / "zabbix"


@pytest.mark.parametrize("export, community", [
    ("cisco_ios_by_snmp.yaml", "cisco-c3560"),
    ("linux_by_snmp.yaml", "unknown-006"),
])
def test_an_imported_zabbix_template_polls_a_device_it_is_for(snmpsim, export, community):
    (template,) = import_text((EXPORTS / export).read_text(), filename=export).templates
    credential = SNMPCredential.objects.create(name=community, version="v2c", community=community)
    device = Device.objects.create(name=community, address=snmpsim.host, snmp_port=snmpsim.port,
                                   snmp_enabled=True, snmp_credential=credential)
    snmp_services.poll_device(device)  # the interfaces, which interface items expand over

    report = applier.apply(template, device)

    assert report.problems == [] and report.created > 0
    result = snmp_services.poll_device(device)
    assert result.error == ""
    recorded = snmpsim.recorded(community, "1.3.6.1")
    failing = {item.oid: result.items[item.name].error for item in MonitoringItem.objects.filter(device=device)
               if result.items[item.name].error}
    assert [oid for oid in failing if oid in recorded] == []  # only what the recording lacks fails
    answered = [name for name, item in result.items.items() if not item.error]
    assert any("[" in name for name in answered) and len(answered) > len(failing)  # table or interface rows too
