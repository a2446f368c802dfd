"""The device classifier: real devices' sysObjectID and sysDescr (snmpsim-data recordings), rules, bad input."""
from __future__ import annotations

import bz2
from pathlib import Path

import pytest
import snmpsim_data
import yaml

from devices.choices import DeviceType
from discovery.classifier import (
    DATA,
    Rule,
    classify,
    enterprise_name,
    enterprise_number,
    parse_oid,
    shipped_rules,
    vendor_name,
)
from tests.snmpsim_agents import _snmprec_value

SYS_DESCR, SYS_OBJECT_ID = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"
RECORDINGS = Path(snmpsim_data.__file__).parent / "data"


def recorded_facts(recording: str) -> tuple[str, str]:
    """(sysObjectID, sysDescr) as a snmpsim-data recording (path without extension) holds them."""
    (path,) = RECORDINGS.glob(f"{recording}.snmprec*")
    facts: dict[str, str] = {}
    with (bz2.open if path.suffix == ".bz2" else open)(path, "rt", encoding="latin-1") as lines:
        for line in lines:
            oid, _, rest = line.rstrip("\n").partition("|")
            if oid in (SYS_DESCR, SYS_OBJECT_ID):
                value = _snmprec_value(*rest.split("|", 1))[1]
                facts[oid] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                if len(facts) == 2:  # recordings are sorted by OID: sysDescr, sysObjectID come first
                    break
    return facts[SYS_OBJECT_ID], facts[SYS_DESCR]


# Expectations written from each recording's sysDescr (and, where sysDescr is mute, what its sysObjectID is).
REAL_DEVICES = [  # recording, vendor, device_type, os, os_version, model
    ("network/switch/cisco-c3560", "Cisco", "switch", "Cisco IOS", "12.2(55)SE3", ""),
    ("network/switch/cisco-c3750", "Cisco", "switch", "Cisco IOS", "12.2(50)SE5", ""),
    ("network/router/cisco-unmarked-0", "Cisco", "router", "Cisco IOS", "", ""),
    ("network/switch/cisco-n5000", "Cisco", "switch", "NX-OS", "6.0(2)N2(3)", ""),
    ("network/appliance/cisco-ucs-6100", "Cisco", "switch", "NX-OS", "5.2(3)N2(2.28g)", ""),
    ("network/appliance/cisco-controller", "Cisco", "access_point", "AireOS", "", ""),
    ("network/router/juniper-mx960-12-3r6-6", "Juniper", "router", "Junos", "12.3R6.6", "mx960"),
    ("network/router/juniper-mx960-16-1r6-7-a", "Juniper", "router", "Junos", "16.1R6.7", "mx960"),
    ("cloud/arista-dcs-7150s-52-cl", "Arista", "switch", "EOS", "4.20.5F", "DCS-7150S-52-CL"),
    ("network/router/huawei-s5720", "Huawei", "switch", "VRP", "V200R007C00SPC500", "S5720-36C-EI-AC"),
    ("network/switch/huawei-s12704", "Huawei", "switch", "VRP", "", "S12704"),
    ("network/router/huawei-acu2", "Huawei", "access_point", "VRP", "V200R007C20SPC200", ""),
    ("network/switch/h3c-comware-7-1-075", "H3C", "switch", "Comware", "7.1.075", ""),
    ("network/switch/h3c-e528-2", "H3C", "switch", "Comware", "5.20", ""),
    ("network/switch/h3c-wx6103", "H3C", "access_point", "Comware", "", ""),
    ("network/switch/hpe-procurve-516733-b21", "HP", "switch", "ProCurve", "Z.14.31", ""),
    ("network/wifi/aruba-7210", "Aruba", "access_point", "ArubaOS", "6.5.1.6", "Aruba7210"),
    ("network/firewall/fortinet-xcu", "Fortinet", "firewall", "FortiOS", "", ""),
    ("network/firewall/paloalto-pa-5000", "Palo Alto Networks", "firewall", "PAN-OS", "", "PA-5000"),
    ("network/firewall/clavister-amaranten", "Clavister AB", "firewall", "", "", ""),
    ("network/switch/brocade-ds-5100b", "Brocade", "switch", "FOS", "", ""),
    ("network/switch/brocade-icx6430-24", "Brocade", "switch", "IronWare", "08.0.30tT311", "ICX6430-24"),
    ("network/switch/dlink-des3038", "D-Link", "switch", "", "", ""),
    ("network/switch/ruijie-s5750-24gt12sfp", "Ruijie", "switch", "", "", ""),
    ("network/wifi/ruijie-m18000", "Ruijie", "access_point", "", "", ""),
    ("network/wifi/juniper-wlc2800", "Trapeze Networks, Inc", "access_point", "", "", ""),
    ("network/wifi/ubiquiti-m5", "Ubiquiti", "access_point", "Linux", "2.6.32.61", ""),
    ("os/linux/unknown-006", "net-snmp", "server", "Linux", "3.10.0-514.el7.x86_64", ""),
    ("os/linux/slackware", "net-snmp", "server", "Linux", "2.6.21.5-smp", ""),
    ("network/appliance/ucdavis-sic", "net-snmp", "server", "Linux", "2.4.20_mvl31-integrator", ""),
    ("network/firewall/sangfor-vad1", "Sangfor", "other", "Linux", "2.6.30", ""),
    ("os/windows/XP", "Microsoft", "server", "Windows", "5.1", ""),
    ("os/windows/server-2003-5-2", "Microsoft", "server", "Windows", "5.2", ""),
    ("UPS/apc-7902b", "APC", "other", "AOS", "6.7.2", "AP7902B"),
    ("UPS/eaton-93e-80", "Eaton", "ups", "", "", ""),
    ("UPS/phoenixtec-power", "Phoenixtec Power Co., Ltd.", "ups", "", "", ""),
    ("storage/netapp-fas3270", "NetApp", "other", "Data ONTAP", "8.2.3", ""),
]


@pytest.mark.parametrize(("recording", "vendor", "device_type", "os", "os_version", "model"), REAL_DEVICES,
                         ids=[row[0] for row in REAL_DEVICES])
def test_it_classifies_real_devices(recording, vendor, device_type, os, os_version, model):
    sys_object_id, sys_descr = recorded_facts(recording)
    found = classify(sys_object_id, sys_descr)
    assert (found.vendor, found.device_type, found.os, found.os_version, found.model) == (
        vendor, device_type, os, os_version, model), (sys_object_id, sys_descr, found.matched)
    assert found.enterprise == enterprise_number(sys_object_id)


def rule(name: str = "r", **fields: str) -> Rule:
    return Rule.from_dict({"name": name, **fields}, "test")


def test_it_matches_prefixes_on_whole_arcs():
    cisco = [rule(sys_object_id="1.3.6.1.4.1.9", vendor="Cisco!")]
    assert classify("1.3.6.1.4.1.94.1.2", "", cisco).vendor == enterprise_name(94) != "Cisco!"
    assert classify("1.3.6.1.4.1.9", "", cisco).vendor == "Cisco!"
    assert classify(".1.3.6.1.4.1.9.1.617", "", cisco).vendor == "Cisco!"
    assert classify("1.3.6.1.4.1", "", cisco).vendor == ""


def test_each_field_comes_from_the_first_rule_that_gives_one():
    rules = [
        rule("specific", sys_object_id="1.3.6.1.4.1.9.1", sys_descr="C3560", device_type="switch"),
        rule("no-version-here", sys_object_id="1.3.6.1.4.1.9", os_version=r"Build (?P<version>\S+)"),
        rule("vendor-wide", sys_object_id="1.3.6.1.4.1.9", device_type="router", os="Cisco IOS",
             os_version=r"Version (?P<version>[^,\s]+)"),
        rule("late", sys_descr="IOS", os="something else", model=r"\((?P<model>C\d+)-"),
        rule("not-applying", sys_object_id="1.3.6.1.4.1.2636", os="Junos"),
    ]
    found = classify("1.3.6.1.4.1.9.1.617", "Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), "
                                            "Version 12.2(55)SE3, RELEASE SOFTWARE (fc1)", rules)
    assert (found.vendor, found.device_type, found.os, found.os_version, found.model) == (
        "Cisco", "switch", "Cisco IOS", "12.2(55)SE3", "C3560")
    assert found.matched == ("specific", "vendor-wide", "late")


def test_operator_rules_in_front_override_the_shipped_ones():
    facts = recorded_facts("network/switch/cisco-c3560")
    mine = rule("lab-router", sys_object_id="1.3.6.1.4.1.9.1.617", device_type="router", vendor="Cisco Systems")
    found = classify(*facts, [mine, *shipped_rules()])
    assert (found.vendor, found.device_type, found.os, found.os_version) == (
        "Cisco Systems", "router", "Cisco IOS", "12.2(55)SE3")
    assert found.matched[0] == "lab-router"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"sys_object_id": "1.3.6.x", "device_type": "router"}, "sys_object_id", "arc 4"),
    ({"sys_object_id": 1.3, "device_type": "router"}, "sys_object_id", "quote the OID"),
    ({"sys_descr": "Cisco (IOS", "device_type": "router"}, "sys_descr", "bad regex"),
    ({"sys_descr": "IOS", "os_version": r"Version (\S+)"}, "os_version", "(?P<version>"),
    ({"sys_descr": "IOS", "model": r"(?P<version>\S+)"}, "model", "(?P<model>"),
    ({"sys_descr": "IOS", "device_type": "toaster"}, "device_type", "'toaster' is not one of"),
    ({"sys_descr": "IOS", "devicetype": "router"}, "devicetype", "unknown field"),
    ({"device_type": "router"}, "sys_object_id", "needs a condition"),
    ({"sys_descr": "IOS"}, "vendor", "must set at least one of"),
])
def test_a_bad_rule_is_refused_naming_the_rule_and_field(fields, field, message):
    with pytest.raises(ValueError) as error:
        Rule.from_dict({"name": "my-rule", **fields}, "operator rules")
    assert str(error.value).startswith(f"operator rules: rule 'my-rule': {field}: ")
    assert message in str(error.value)


def test_a_rule_needs_a_name():
    with pytest.raises(ValueError, match="operator rules: a rule needs a name"):
        Rule.from_dict({"sys_descr": "IOS", "os": "IOS"}, "operator rules")


@pytest.mark.parametrize(("sys_object_id", "sys_descr"), [
    ("", ""), ("not an oid", "\x00\xff garbage ((["), ("1.3.6.1.4.1", "x" * 100_000), (".", None),
    ("1.3.6.1.4.1.99999999999.1", "Linux"), (None, "Cisco IOS Software, Version 15.0"), ("1..3", "é"),
])
def test_garbage_gives_other_without_raising(sys_object_id, sys_descr):
    found = classify(sys_object_id, sys_descr)
    assert found.device_type == DeviceType.OTHER and found.vendor == "" and found.enterprise is None


def test_unknown_devices_keep_the_registered_vendor():
    found = classify("1.3.6.1.4.1.21239.42.1.31", "Data Center 01 Temp Sensor")  # a Geist sensor
    assert (found.vendor, found.enterprise, found.device_type, found.matched) == ("Vertiv", 21239, "other", ())


def test_enterprise_numbers_and_names():
    assert "cisco" in enterprise_name(9).lower()
    assert enterprise_name(2636) == "Juniper Networks, Inc." and enterprise_name(-1) == ""
    assert enterprise_number("1.3.6.1.4.1.2636.1.1.1.2.21") == 2636
    assert enterprise_number(".1.3.6.1.4.1.9") == 9
    assert enterprise_number("1.3.6.1.2.1.33") is None and enterprise_number("garbage") is None
    assert parse_oid(".1.3.6.1.4.1.9") == (1, 3, 6, 1, 4, 1, 9)


def test_friendly_vendor_names_are_for_registered_numbers():
    vendors = yaml.safe_load((DATA / "classifier.yaml").read_text(encoding="utf-8"))["vendors"]
    assert [number for number in vendors if not enterprise_name(number)] == []
    assert vendor_name(9) == "Cisco" and vendor_name(21239) == "Vertiv" and vendor_name(None) == ""


def test_shipped_rules_put_sys_object_id_rules_first():
    kinds = [rule.sys_object_id is not None for rule in shipped_rules()]
    assert kinds == sorted(kinds, reverse=True)
    assert len({rule.name for rule in shipped_rules()}) == len(kinds), "rule names must be unique"
