"""Zabbix template exports -> our documents: real 6.0 exports and a hand-written 7.0 one, every skip explained."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from templates_app.document import parse_document
from templates_app.zabbix import ZabbixImport, ZabbixImportError, convert

EXPORTS = Path(__file__).parent / "data" / "zabbix"
REAL_EXPORTS = sorted(p.name for p in EXPORTS.glob("*.yaml") if "handwritten" not in p.name) + ["cisco_ios_by_snmp.xml"]
CPM_CPU_TOTAL_5MIN = "1.3.6.1.4.1.9.9.109.1.1.1.1.5"
CPM_CPU_TOTAL_5MIN_REV = "1.3.6.1.4.1.9.9.109.1.1.1.1.8"
CPM_CPU_TOTAL_PHYSICAL_INDEX = "1.3.6.1.4.1.9.9.109.1.1.1.1.2"
SKIP_LINE = (r"((item|item prototype|LLD rule|value map|web scenario) \S.*"  # "what: why"
             r"|(trigger|trigger prototype) \".*\"|\d+ .+): .+")


def imported(name: str) -> list[ZabbixImport]:
    return convert((EXPORTS / name).read_text(), filename=name)


def only(name: str) -> ZabbixImport:
    [result] = imported(name)
    return result


def item(result: ZabbixImport, key: str) -> dict:
    return next(i for i in result.document["items"] if i["key"] == key)


def triggers(result: ZabbixImport) -> dict[str, dict]:
    return {t["name"]: {k: v for k, v in t.items() if k not in ("name", "description")}
            for t in result.document.get("triggers", [])}


def raw_template(name: str, template: str) -> tuple[dict, dict]:
    text = (EXPORTS / name).read_text()
    export = yaml.safe_load(text)["zabbix_export"]
    return export, next(t for t in export["templates"] if t["template"] == template)


# --- every export -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", REAL_EXPORTS + ["cisco_walk_7_0_handwritten.yaml"])
def test_it_converts_every_export_into_valid_documents(name):
    results = imported(name)
    assert results
    for result in results:
        spec = parse_document(result.document)  # the validator the importer's callers use
        assert spec.key.startswith("zabbix-") and spec.version == 1
        assert result.document["format"] == "wardflux-template/1"
        assert all(re.fullmatch(SKIP_LINE, line, re.DOTALL) for line in result.skipped), "each skip is 'what: why'"
        assert sorted(result.keys.values()) == sorted(i["key"] for i in result.document["items"])


@pytest.mark.parametrize("name", REAL_EXPORTS)
def test_it_accounts_for_every_item_and_trigger_of_a_real_export(name):
    """Each Zabbix item, item prototype and trigger is either in the document or named in `skipped`."""
    for result in imported(name):
        export, template = raw_template(name.replace(".xml", ".yaml"), result.template)
        rules = template.get("discovery_rules", [])
        keys = [i["key"] for i in template.get("items", [])]
        keys += [p["key"] for r in rules for p in r.get("item_prototypes", [])]
        for key in keys:
            assert key in result.keys or any(line.startswith((f"item {key}: ", f"item prototype {key}: "))
                                             for line in result.skipped) or _in_skipped_rule(result, rules, key), key
        expected = sum(len(i.get("triggers", [])) for i in template.get("items", []))
        expected += sum(len(p.get("trigger_prototypes", [])) for r in rules for p in r.get("item_prototypes", []))
        expected += sum(len(r.get("trigger_prototypes", [])) for r in rules)
        expected += sum(f"/{result.template}/" in t["expression"] for t in export.get("triggers", []))
        skipped = [line for line in result.skipped
                   if re.match(r'trigger( prototype)? "', line) and ": its dependency on " not in line]
        with_rules = sum(int(m[1]) for line in result.skipped
                         if (m := re.search(r"and (\d+) trigger prototypes? are left out", line)))
        assert len(result.document.get("triggers", [])) + len(skipped) + with_rules == expected


def _in_skipped_rule(result: ZabbixImport, rules: list[dict], key: str) -> bool:
    return any(f"LLD rule {r['key']}: " in " ".join(result.skipped)
               for r in rules if key in [p["key"] for p in r.get("item_prototypes", [])])


def test_it_gives_the_same_document_for_the_xml_and_the_yaml_export_of_a_template():
    from_yaml, from_xml = only("cisco_ios_by_snmp.yaml"), only("cisco_ios_by_snmp.xml")
    assert from_xml.document == from_yaml.document
    assert from_xml.skipped == from_yaml.skipped


def test_it_is_deterministic():
    assert only("mikrotik_by_snmp.yaml") == only("mikrotik_by_snmp.yaml")


# --- Cisco IOS by SNMP (real 6.0 export) ------------------------------------------------------------------------

def test_it_imports_cisco_ios_cpu_as_a_table_item_of_cpmCPUTotal5minRev():
    cisco = only("cisco_ios_by_snmp.yaml")
    assert cisco.document["key"] == "zabbix-cisco-ios-by-snmp"
    assert cisco.document["name"] == "Cisco IOS by SNMP"
    cpu = item(cisco, cisco.keys["system.cpu.util[cpmCPUTotal5minRev.{#SNMPINDEX}]"])
    # The real 6.0 export walks cpmCPUTotal5min for the rows and names them "#{#SNMPINDEX}": the row index is the
    # label (no entPhysicalName lookup in this Zabbix template).
    assert cpu == {"key": "system_cpu_util", "name": "CPU utilization", "oid": CPM_CPU_TOTAL_5MIN_REV,
                   "interval": 300, "value_type": "float", "units": "%",
                   "discovery": {"table": CPM_CPU_TOTAL_5MIN, "label": "cpu"}}


def test_it_labels_cisco_table_rows_by_the_column_their_names_come_from():
    cisco = only("cisco_ios_by_snmp.yaml")
    fan = item(cisco, "sensor_fan_status")
    assert fan["oid"] == "1.3.6.1.4.1.9.9.13.1.4.1.3" and fan["value_type"] == "integer"
    assert fan["discovery"] == {"table": "1.3.6.1.4.1.9.9.13.1.4.1.2", "label": "fan",
                                "label_oid": "1.3.6.1.4.1.9.9.13.1.4.1.2"}  # ciscoEnvMonFanStatusDescr
    serial = item(cisco, cisco.keys["system.hw.serialnumber[entPhysicalSerialNum.{#SNMPINDEX}]"])
    assert serial["key"] == "system_hw_serialnumber_ent_physical_serial_num"  # system.hw.serialnumber is taken
    assert serial["discovery"] == {
        "table": "1.3.6.1.2.1.47.1.1.1.1.5", "label": "entity_sn", "label_oid": "1.3.6.1.2.1.47.1.1.1.1.7",
        "filters": [{"oid": "1.3.6.1.2.1.47.1.1.1.1.11", "matches": ".+"},  # {#ENT_SN} present
                    {"oid": "1.3.6.1.2.1.47.1.1.1.1.5", "matches": "^3$"}],  # {#ENT_CLASS} chassis
    }
    assert item(cisco, "vm_memory_used")["discovery"]["label_oid"] == "1.3.6.1.4.1.9.9.48.1.1.1.2"  # pool name


def test_it_turns_interface_discovery_into_interface_items_with_their_filters():
    cisco = only("cisco_ios_by_snmp.yaml")
    bits_in = item(cisco, "net_if_in")
    assert bits_in["oid"] == "1.3.6.1.2.1.31.1.1.1.6" and bits_in["value_type"] == "counter"
    assert "units" not in bits_in  # bps would be wrong: the multiplier 8 is not applied
    assert bits_in["discovery"] == {"interfaces": True, "filters": [
        {"field": "admin_status", "not_matches": "^2$"},
        {"field": "oper_status", "not_matches": "^6$"},
        {"field": "name", "not_matches": "(^Software Loopback Interface|^NULL[0-9.]*$|^[Ll]o[0-9.]*$|^[Ss]ystem$"
                                         "|^Nu[0-9.]*$|^veth[0-9a-z]+$|docker[0-9]+|br-[a-z0-9]{12})"},
    ]}  # the ".*" and CHANGE_IF_NEEDED filters keep every row and are left out
    assert not any(i["key"].startswith(("snmp_if_", "ping_")) for i in cisco.document["items"])


def test_it_translates_the_cisco_triggers_that_fit_our_language():
    assert triggers(only("cisco_ios_by_snmp.yaml")) == {
        "High CPU utilization": {"expression": "last(system_cpu_util) > 90", "for": "5m", "severity": "low"},
        "High error rate": {
            "expression": "min(net_if_in_errors, 5m) > 2 or min(net_if_out_errors, 5m) > 2",
            "recovery_expression": "max(net_if_in_errors, 5m) < 1.6 and max(net_if_out_errors, 5m) < 1.6",
            "severity": "low"},
        "In half-duplex mode": {"expression": "last(net_if_duplex) == 2", "severity": "low"},
        "Temperature is too low": {"expression": "avg(sensor_temp_value, 5m) < 5",
                                   "recovery_expression": "min(sensor_temp_value, 5m) > 8", "severity": "medium"},
        # uptime is stored in timeticks (the 0.01 multiplier is not applied): 10m = 60000 ticks
        "Host has been restarted": {
            "expression": "(last(system_hw_uptime) > 0 and last(system_hw_uptime) < 60000) or "
                          "(last(system_hw_uptime) == 0 and last(system_net_uptime) < 60000)",
            "severity": "low"},
    }


def test_it_lists_what_it_could_not_translate_from_cisco_and_why():
    skipped = only("cisco_ios_by_snmp.yaml").skipped
    for line in [
        "item icmpping: not an SNMP item (type SIMPLE)",
        "item zabbix[host,snmp,available]: not an SNMP item (type INTERNAL)",
        "item system.sw.os[sysDescr.0]: preprocessing REGEX has no equivalent",
        "item prototype vm.memory.util[vm.memory.util.{#SNMPINDEX}]: not an SNMP item (type CALCULATED)",
        'item prototype net.if.in[ifHCInOctets.{#SNMPINDEX}]: multiplier 8 has no equivalent: raw values are stored, '
        'and without the units "bps"; trigger thresholds on it are divided by 8',
        'value map "IF-MIB::ifOperStatus": maps raw values to names for display (no equivalent); '
        "the raw values are stored",
        "LLD rule net.if.duplex.discovery: preprocessing JAVASCRIPT has no equivalent (rows and macros are taken "
        "as walked)",
        'trigger "Unavailable by ICMP ping": refers to item icmpping, which was not imported: not an SNMP item '
        "(type SIMPLE)",
        'trigger "Device has been replaced": last() of an older value (#2) has no equivalent',
        'trigger prototype "{#SENSOR_INFO}: Fan is in critical state": count() with an operator or pattern has no '
        "equivalent",
        'trigger prototype "Interface {#IFNAME}({#IFALIAS}): High bandwidth usage": arithmetic on item values has '
        "no equivalent",
        'trigger prototype "Interface {#IFNAME}({#IFALIAS}): Ethernet has changed to lower speed than it was '
        'before": function change() has no equivalent',
        'trigger prototype "{#SNMPVALUE}: Temperature is above critical threshold": {$TEMP_CRIT:"{#SNMPVALUE}"} '
        "has its own value for some discovered rows",
        'trigger "Host has been restarted": its dependency on "No SNMP data collection" has no equivalent',
        "1 dashboard, 3 graph prototypes: presentation in Zabbix, not imported",
    ]:
        assert line in skipped


# --- other real exports -----------------------------------------------------------------------------------------

def test_it_converts_each_template_of_a_multi_template_export():
    results = imported("host_resources_mib_by_snmp.yaml")
    assert [r.document["key"] for r in results] == [
        "zabbix-host-resources-mib-cpu-by-snmp", "zabbix-host-resources-mib-memory-by-snmp",
        "zabbix-host-resources-mib-storage-by-snmp"]
    cpu, _, storage = results
    assert cpu.document["items"] == []
    assert "item system.cpu.util: discovery[] as an item (its value is the discovery's JSON) has no equivalent" \
        in cpu.skipped
    used = item(storage, "vfs_fs_used")
    assert used["oid"] == "1.3.6.1.2.1.25.2.3.1.6" and "units" not in used
    assert used["discovery"]["table"] == "1.3.6.1.2.1.25.2.3.1.3"  # hrStorageDescr
    assert used["discovery"]["filters"] == [  # hrStorageType: fixed disks and flash; hrStorageDescr: not /dev...
        {"oid": "1.3.6.1.2.1.25.2.3.1.2", "matches": ".*(\\.4|\\.9|hrStorageFixedDisk|hrStorageFlashMemory)$"},
        {"oid": "1.3.6.1.2.1.25.2.3.1.3", "matches": ".+"},
        {"oid": "1.3.6.1.2.1.25.2.3.1.3", "not_matches": "^(/dev|/sys|/run|/proc|.+/shm$)"},
    ]
    assert ("item prototype vfs.fs.used[hrStorageUsed.{#SNMPINDEX}]: multiplier {#ALLOC_UNITS} (per discovered row) "
            'has no equivalent: raw values are stored, and without the units "B"; triggers on it are left out'
            in storage.skipped)


def test_it_divides_thresholds_by_the_multiplier_it_does_not_apply():
    apc = triggers(only("apc_ups_by_snmp.yaml"))
    # upsHighPrecBatteryCapacity is in tenths of a percent; Zabbix multiplies by 0.1 and warns below 50 %
    assert apc["Battery has low capacity"] == {"expression": "last(battery_capacity) < 500", "severity": "high"}
    assert apc["Unacceptable input voltage"]["expression"] == (
        "min(input_voltage, 15m) > 0 and (min(input_voltage, 15m) > 2430 or max(input_voltage, 15m) < 1970)")


def test_it_explains_linux_parts_without_an_equivalent():
    linux = only("linux_by_snmp.yaml")
    assert ('item system.cpu.load.avg1[laLoad.1]: SNMP OID 1.3.6.1.4.1.2021.10.1.3["index","1.3.6.1.4.1.2021.10.1.2", '
            '"Load-1"] (dynamic index or several OIDs) has no equivalent') in linux.skipped
    assert ("LLD rule cpu.discovery[snmp]: depends on item system.cpu.num[snmp], which is not an SNMP walk[] (no "
            "equivalent); its 11 item prototypes and 1 trigger prototype are left out with it") in linux.skipped
    assert item(linux, "vm_memory_total")["oid"] == "1.3.6.1.4.1.2021.4.5.0"


# --- the 6.4+/7.0 forms (hand-written 7.0 export) ---------------------------------------------------------------

def test_it_reads_walk_master_items_and_their_dependent_items():
    walk = only("cisco_walk_7_0_handwritten.yaml")
    doc = walk.document
    assert (doc["key"], doc["name"], doc["vendor"]) == (
        "zabbix-cisco-walk-by-snmp", "Cisco walk by SNMP (hand-written 7.0)", "Zabbix")
    assert doc["includes"] == ["zabbix-generic-by-snmp"]
    assert item(walk, "system_cpu_util") == {
        "key": "system_cpu_util", "name": "CPU utilization", "oid": CPM_CPU_TOTAL_5MIN_REV,
        "interval": 300,  # the walk[] master's delay, {$CPU.INTERVAL}
        "value_type": "float", "units": "%",
        "discovery": {"table": CPM_CPU_TOTAL_PHYSICAL_INDEX, "label": "system_cpu"}}
    assert item(walk, "system_name") == {"key": "system_name", "name": "System name", "oid": "1.3.6.1.2.1.1.5.0",
                                         "interval": 900, "value_type": "string"}
    assert item(walk, "system_hw_fru") == {  # get[OID], and a value map whose values are numbers
        "key": "system_hw_fru", "name": "Chassis is a field-replaceable unit", "oid": "1.3.6.1.2.1.47.1.1.1.1.16.1",
        "interval": 3600, "value_type": "integer", "value_map": {"1": 1.0, "2": 0.0}}
    assert item(walk, "vm_memory_free")["discovery"] == {
        "table": "1.3.6.1.4.1.9.9.48.1.1.1.2", "label": "vm_memory", "label_oid": "1.3.6.1.4.1.9.9.48.1.1.1.2",
        "filters": [{"oid": "1.3.6.1.4.1.9.9.48.1.1.1.2", "not_matches": "^(reserved|image)$"}]}
    assert item(walk, "net_if_status")["discovery"] == {"interfaces": True, "filters": [
        {"field": "admin_status", "matches": "^1$"}, {"field": "if_type", "not_matches": "^24$"}]}
    assert not any(key.endswith(".walk") for key in walk.keys)


def test_it_translates_7_0_triggers_with_macros_windows_and_recovery():
    assert triggers(only("cisco_walk_7_0_handwritten.yaml")) == {
        "Cisco: Host has been restarted": {"expression": "last(system_net_uptime) < 60000", "severity": "low"},
        "Cisco: High CPU utilization": {"expression": "last(system_cpu_util) > 90", "for": "5m",
                                        "recovery_expression": "max(system_cpu_util, 5m) < 80", "severity": "high"},
        "Cisco: No CPU data": {"expression": "nodata(system_cpu_util, 10m)", "severity": "medium"},
        "Cisco: Memory pool almost full": {"expression": "last(vm_memory_used) > 0 and last(vm_memory_free) < 1048576",
                                           "severity": "critical"},
        # 800M bit/s (Zabbix: M = 1024²) on an octet counter whose multiplier 8 is not applied
        "Cisco: High inbound traffic": {"expression": "avg(net_if_in, 15m) > 104857600", "severity": "low"},
        # {$IFCONTROL:"{#IFNAME}"}=1 is always true with the template's value: folded away
        "Cisco: Link down": {"expression": "last(net_if_status) == 2",
                             "recovery_expression": "last(net_if_status) != 2", "severity": "medium"},
        "Cisco: Restarted, or the system walk went silent": {
            "expression": "last(system_net_uptime) < 60000 or nodata(system_name, 30m)", "severity": "high"},
    }


def test_it_lists_what_the_7_0_export_has_without_an_equivalent():
    assert only("cisco_walk_7_0_handwritten.yaml").skipped == [
        'item system.net.uptime[sysUpTime.0]: multiplier 0.01 has no equivalent: raw values are stored, and without '
        'the units "uptime"; trigger thresholds on it are divided by 0.01',
        "item prototype vm.memory.util[vm.memory.util.{#SNMPINDEX}]: not an SNMP item (type CALCULATED)",
        'item prototype net.if.in[ifHCInOctets.{#SNMPINDEX}]: multiplier 8 has no equivalent: raw values are stored, '
        'and without the units "bps"; trigger thresholds on it are divided by 8',
        'value map "IF-MIB::ifOperStatus": maps raw values to names for display (no equivalent); '
        "the raw values are stored",
        "LLD rule vfs.fs.discovery: not an SNMP discovery (type ZABBIX_ACTIVE); its 1 item prototype and "
        "1 trigger prototype are left out with it",
        "item sensor.fans.walk: walk[] item that no imported item reads",
        'trigger prototype "Cisco: #{#SNMPINDEX}: CPU will be saturated within an hour": function forecast() has '
        "no equivalent",
        'trigger prototype "Cisco: {#SNMPVALUE}: High memory utilization": refers to item '
        "vm.memory.util[vm.memory.util.{#SNMPINDEX}], which was not imported: not an SNMP item (type CALCULATED)",
    ]


# --- trigger expressions, one at a time -------------------------------------------------------------------------

def export_with_trigger(expression: str, **template) -> str:
    """A JSON export (JSON is YAML) of template T with items k (a gauge) and b (octets x 8) and one trigger."""
    data = {"zabbix_export": {"version": "6.0", "templates": [{
        "template": "T", "name": "T",
        "items": [{"name": "k", "type": "SNMP_AGENT", "snmp_oid": "1.3.6.1.4.1.99.1.0", "key": "k"},
                  {"name": "b", "type": "SNMP_AGENT", "snmp_oid": "1.3.6.1.4.1.99.2.0", "key": "b[x]",
                   "preprocessing": [{"type": "CHANGE_PER_SECOND"}, {"type": "MULTIPLIER", "parameters": ["8"]}]}],
        "macros": [{"macro": "{$HIGH}", "value": "90"}, {"macro": "{$WINDOW}", "value": "15m"},
                   {"macro": "{$HIGH:\"special\"}", "value": "95"}],
        **template,
    }], "triggers": [{"expression": expression, "name": "t", "priority": "AVERAGE"}]}}
    return json.dumps(data)


@pytest.mark.parametrize("expression, ours, held_for", [
    ("last(/T/k)>90", "last(k) > 90", None),
    ("last(/T/k,#1)>={$HIGH}", "last(k) >= 90", None),
    ("90<last(/T/k)", "last(k) > 90", None),
    ("min(/T/k,5m)>{$HIGH}", "last(k) > 90", "5m"),
    ("max(/T/k,{$WINDOW})<10", "last(k) < 10", "15m"),
    ("min(/T/k,5m)>90 and max(/T/k,5m)<95", "last(k) > 90 and last(k) < 95", "5m"),
    ("min(/T/k,5m)>90 or min(/T/k,5m)<5", "min(k, 5m) > 90 or min(k, 5m) < 5", None),
    ("min(/T/k,5m)>90 and min(/T/k,10m)>80", "min(k, 5m) > 90 and min(k, 10m) > 80", None),
    ("avg(/T/k,300)>=1K", "avg(k, 5m) >= 1024", None),
    ("sum(/T/k,1h)>{$HIGH}*2-{$HIGH:\"special\"}", "sum(k, 1h) > 85", None),
    ("count(/T/k,10m)>3", "count(k, 10m) > 3", None),
    ("rate(/T/k,1m)>1", "rate(k, 1m) > 1", None),
    ("nodata(/T/k,5m)=1", "nodata(k, 5m)", None),
    ("nodata(/T/k,5m)<>0 and last(/T/k)=0", "nodata(k, 5m) and last(k) == 0", None),
    ("last(/T/k)=1 or (last(/T/k)=2 and avg(/T/k,5m)>1)", "last(k) == 1 or (last(k) == 2 and avg(k, 5m) > 1)", None),
    ("(last(/T/k)=1 or last(/T/k)=2) and avg(/T/k,5m)>1", "(last(k) == 1 or last(k) == 2) and avg(k, 5m) > 1", None),
    ("{$HIGH}=90 and last(/T/k)<>3", "last(k) != 3", None),
    ("avg(/T/b[x],5m)>800", "avg(b, 5m) > 100", None),  # b is stored without its multiplier 8
    ("count(/T/b[x],5m)>800", "count(b, 5m) > 800", None),  # a count does not scale
])
def test_it_translates_trigger_expressions(expression, ours, held_for):
    [result] = convert(export_with_trigger(expression))
    [trigger] = result.document["triggers"]
    assert (trigger["expression"], trigger.get("for")) == (ours, held_for)
    assert trigger["severity"] == "medium"


@pytest.mark.parametrize("expression, why", [
    ("nodata(/T/k,5m)=0", "nodata() is translated only as nodata(...)=1"),
    ("nodata(/T/k,5m,\"strict\")=1", 'nodata() mode "strict" has no equivalent'),
    ("last(/T/k,#2)>1", "last() of an older value (#2) has no equivalent"),
    ("avg(/T/k,#5)>1", "a window of the last 5 values (#5) has no equivalent"),
    ("avg(/T/k,1h:now-1d)>1", "the time shift in 1h:now-1d has no equivalent"),
    ("last(/T/k)-last(/T/b[x])>1", "arithmetic on item values has no equivalent"),
    ("last(/T/k)>last(/T/b[x])", "compares two item values"),
    ("not last(/T/k)=1", "not(...) has no equivalent"),
    ('last(/T/k)="up"', 'compares with the text "up" (only numbers are compared)'),
    ("forecast(/T/k,1h,,1h)>1", "function forecast() has no equivalent"),
    ("abs(last(/T/k))>1", "function abs() has no equivalent"),
    ("count(/T/k,5m,\"gt\",\"1\")>1", "count() with an operator or pattern has no equivalent"),
    ("last(/Other/k)>1", "refers to item k of another template (Other)"),
    ("last(/T/missing)>1", "refers to item missing, which the template does not have"),
    ("last(/T/k)>{$NOPE}", "macro {$NOPE} has no value in the template"),
    ("last(/T/k)>{$HIGH:\"{#NAME}\"}", '{$HIGH:"{#NAME}"} has its own value for some discovered rows'),
    ("{$HIGH}>1", "always true once macros are resolved"),
    ("last(/T/k)", "uses last(k) as a condition (no equivalent)"),
    ("last(/T/k)>1 and", "cannot read the expression at ''"),
])
def test_it_says_why_a_trigger_expression_was_not_translated(expression, why):
    [result] = convert(export_with_trigger(expression))
    assert "triggers" not in result.document
    assert f'trigger "t": {why}' in result.skipped


def test_it_combines_filters_or_explains_why_not():
    rule = {"name": "r", "type": "SNMP_AGENT", "key": "r.discovery",
            "snmp_oid": "discovery[{#NAME},1.3.6.1.4.1.99.3.1.2,{#KIND},1.3.6.1.4.1.99.3.1.3]",
            "filter": {"conditions": [
                {"macro": "{#NAME}", "value": "^eth"}, {"macro": "{#NAME}", "value": "^wlan"},
                {"macro": "{#KIND}", "value": "@Global regexp", "operator": "NOT_MATCHES_REGEX"},
                {"macro": "{#OTHER}", "value": "x", "operator": "EXISTS"}]},
            "item_prototypes": [{"name": "{#NAME}: v", "type": "SNMP_AGENT", "key": "v[{#SNMPINDEX}]",
                                 "snmp_oid": "1.3.6.1.4.1.99.3.1.4.{#SNMPINDEX}", "delay": "1m;50s/1-5,09:00-18:00"}]}
    [result] = convert(export_with_trigger("last(/T/k)>1", discovery_rules=[rule]))
    assert item(result, "v") == {"key": "v", "name": "v", "oid": "1.3.6.1.4.1.99.3.1.4", "interval": 60,
                                 "value_type": "integer", "discovery": {
                                     "table": "1.3.6.1.4.1.99.3.1.2", "label": "r", "label_oid": "1.3.6.1.4.1.99.3.1.2",
                                     "filters": [{"oid": "1.3.6.1.4.1.99.3.1.2", "matches": "(?:^eth)|(?:^wlan)"}]}}
    assert [line for line in result.skipped if not line.startswith("item b[x]")] == [
        "LLD rule r.discovery: filter {#KIND} not_matches_regex '@Global regexp': global regular expression "
        "@Global regexp has no equivalent; rows are not filtered on it",
        "LLD rule r.discovery: filter {#OTHER} exists 'x': operator EXISTS has no equivalent; rows are not "
        "filtered on it",
        "item prototype v[{#SNMPINDEX}]: custom intervals '50s/1-5,09:00-18:00' have no equivalent; polled every 1m",
    ]


# --- bad input ---

# Entities b..h each ten times the previous one: 10^8 characters if expanded.
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE z [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {name} "{f"&{prev};" * 10}">' for prev, name in zip("abcdefg", "bcdefgh"))
                  + "]><zabbix_export>&h;</zabbix_export>")


@pytest.mark.parametrize("text, message", [
    ("", "empty input: expected a Zabbix template export (YAML, XML or JSON)"),
    ("name: not an export\n", "not a Zabbix export: no zabbix_export at the top"),
    ("zabbix_export: [unclosed\n", "malformed YAML: "),
    ("<zabbix_export><version>6.0</version>", "malformed XML: "),
    (BILLION_LAUGHS, "malformed XML: limit on input amplification factor"),  # expat refuses to expand it
    ("<?xml version='1.0'?><zabbix_export><version>5.0</version><templates/></zabbix_export>",
     "Zabbix export format 5.0 is not supported: export from Zabbix 6.0, 6.2, 6.4, 7.0, 7.2, 7.4"),
    ("zabbix_export:\n  templates: []\n", "Zabbix export format (none) is not supported"),
    ("zabbix_export:\n  version: '6.0'\n  hosts:\n    - host: router1\n",
     "the export holds no templates (export templates, not hosts)"),
    ("zabbix_export:\n  version: '7.0'\n  templates:\n    - name: no technical name\n",
     "templates[0] has no template name"),
    ("zabbix_export:\n  version: '6.0'\n  templates:\n    - template: T\n      items: [system.name]\n",
     "the export is not laid out as Zabbix exports are ("),
])
def test_it_refuses_what_is_not_a_zabbix_template_export_with_a_clear_message(text, message):
    with pytest.raises(ZabbixImportError) as raised:
        convert(text, filename="upload.yaml")
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(f"upload.yaml: {message}")
