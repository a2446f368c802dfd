"""snmp_get, snmp_walk and snmp_poll: what operators type, against a real snmpd."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from devices.models import Device
from snmp.models import MonitoringItem, SNMPCredential

pytestmark = pytest.mark.django_db

SYS_NAME = "1.3.6.1.2.1.1.5.0"


@pytest.fixture
def device(snmpd) -> Device:
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community=snmpd.community)
    return Device.objects.create(name="agent", address=snmpd.host, snmp_port=snmpd.port, snmp_enabled=True,
                                 snmp_credential=credential)


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_snmp_get_prints_typed_values_like_net_snmp(snmpd, device):
    out = run("snmp_get", "agent", SYS_NAME, "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.99.0")
    lines = out.splitlines()
    assert lines[0] == f"{SYS_NAME} = OCTETS: {snmpd.sys_name}"
    assert lines[1].startswith("1.3.6.1.2.1.1.3.0 = TIMETICKS: ")
    assert lines[2] == "1.3.6.1.2.1.1.99.0 = No Such Object at this OID"


def test_snmp_walk_by_device_id_matches_snmpbulkwalk(snmpd, device):
    out = run("snmp_walk", str(device.pk), "1.3.6.1.2.1.2.2.1.2")
    expected = snmpd.net_snmp("snmpbulkwalk", "-v2c", "-c", snmpd.community, "-On", snmpd.address,
                              "1.3.6.1.2.1.2.2.1.2")
    names = [line.split(": ", 1)[1] for line in out.splitlines()]
    assert names == [line.split(": ", 1)[1].strip('"') for line in expected.splitlines()]


def test_snmp_get_takes_mib_names_as_snmpget_does(snmpd, device):
    out = run("snmp_get", "agent", "sysName.0", "sysDescr.0", "ifDescr.1")
    lines = out.splitlines()
    assert lines[0] == f"{SYS_NAME} = OCTETS: {snmpd.sys_name}"
    assert lines[1].startswith("1.3.6.1.2.1.1.1.0 = OCTETS: ")
    assert lines[2] == "1.3.6.1.2.1.2.2.1.2.1 = OCTETS: lo"


@pytest.mark.parametrize("name, subtree", [
    ("ifDescr", "1.3.6.1.2.1.2.2.1.2"), ("ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6"), ("system", "1.3.6.1.2.1.1"),
])
def test_snmp_walk_takes_mib_and_subtree_names(snmpd, device, name, subtree):
    def oids(out: str) -> list[str]:  # the values may move between two walks (sysUpTime)
        return [line.split(" = ", 1)[0] for line in out.splitlines()]

    by_name = oids(run("snmp_walk", "agent", name))
    assert by_name == oids(run("snmp_walk", "agent", subtree))
    assert by_name and all(oid.startswith(subtree + ".") for oid in by_name)


def test_snmp_poll_prints_items_and_interfaces(snmpd, device, victoria_url, snmp_counter_state):
    MonitoringItem.objects.create(device=device, name="sys_name", oid=SYS_NAME, value_type="string")
    out = run("snmp_poll", "agent")
    assert f"sys_name = {snmpd.sys_name}" in out
    assert "lo [1]: " in out and "samples written" in out


@pytest.mark.parametrize("args, message", [
    (("snmp_get", "nosuchdevice", SYS_NAME), "no device named or numbered 'nosuchdevice'"),
    (("snmp_get", "agent", "1.3.6.x"), "1.3.6.x"),
    (("snmp_get", "agent", "sysDescrr.0"), "unknown OID name 'sysDescrr'; did you mean sysDescr"),
    (("snmp_get", "agent", "sysDescr.x"), "arc 9"),
    (("snmp_walk", "agent", "nosuchtable"), "unknown OID name 'nosuchtable'"),
    (("snmp_walk", "agent", "1.3.6.1", "--max-repetitions", "0"), "--max-repetitions must be at least 1"),
    (("snmp_poll", "plain"), "no SNMP credential"),
])
def test_bad_input_exits_2_with_a_message(device, args, message):
    Device.objects.create(name="plain", address="127.0.0.9")
    with pytest.raises(CommandError, match=message.replace(".", r"\.")) as raised:
        call_command(*args)
    assert raised.value.returncode == 2


def test_an_unreachable_device_exits_1_with_the_reason(snmpd, device):
    SNMPCredential.objects.filter(pk=device.snmp_credential_id).update(community="wrong", timeout_ms=200, retries=0)
    with pytest.raises(CommandError, match="no answer after 1 tries") as raised:
        call_command("snmp_get", "agent", SYS_NAME)
    assert raised.value.returncode == 1
