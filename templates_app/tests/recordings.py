"""Which snmpsim-data recordings verify which default template (see templates_app/README.md).

Paths are relative to snmpsim_data/data, without the .snmprec[.bz2] extension, as in tests/snmpsim_agents.py's
SNMPSIM_RECORDINGS; served by snmpsim, each answers to its basename as community.

- VERIFIED_BY: template key -> recordings of devices it targets. Templates with match rules must be the one
  auto-selection picks for each of their recordings. Templates without match rules (host-resources,
  host-resources-storage, entity-sensor: included by others; h3c-comware-compatible: applied by hand) are
  never auto-selected and are verified by applying them directly. An empty tuple: snmpsim-data has no
  recording of such a device (the README says where the template's OIDs come from).
- ITEMS_ABSENT: (template key, recording) -> keys of items (of the template or what it includes) that the
  recording has no value for, scalar or no table row; every other item must return a value.
"""
from __future__ import annotations

VERIFIED_BY: dict[str, tuple[str, ...]] = {
    "generic-snmp": ("network/switch/dlink-des3038", "network/switch/ruijie-s5750-24gt12sfp"),
    "host-resources-storage": ("network/router/juniper-mx960-12-3r6-6", "os/linux/unknown-006"),
    "host-resources": ("os/linux/unknown-006", "os/windows/XP"),
    "entity-sensor": ("cloud/arista-dcs-7150s-52-cl", "network/firewall/paloalto-pa-5000"),
    "linux": ("os/linux/unknown-006", "os/linux/unknown-002", "os/linux/slackware"),
    "windows": ("os/windows/XP", "os/windows/server-2003-5-2"),
    "cisco-ios": ("network/switch/cisco-c3560", "network/switch/cisco-c3750"),
    "cisco-nxos": ("network/switch/cisco-n5000", "network/switch/cisco-n5000-uk9"),
    "juniper-junos": ("network/router/juniper-mx960-12-3r6-6",),
    "arista-eos": ("cloud/arista-dcs-7150s-52-cl",),
    "huawei-vrp": ("network/router/huawei-s5720", "network/switch/huawei-s12704"),
    "h3c-comware": ("network/switch/h3c-comware-7-1-075", "network/switch/h3c-e528-2"),
    "h3c-comware-compatible": ("network/switch/h3c-e528-1",),
    "hpe-procurve": ("network/switch/hpe-procurve-516733-b21",),
    "fortinet-fortigate": ("network/firewall/fortinet-xcu",),
    "paloalto-panos": ("network/firewall/paloalto-pa-5000",),
    "mikrotik-routeros": (),
    "apc-ups": (),
    "ups-mib": ("UPS/eaton-93e-80", "UPS/phoenixtec-power", "UPS/eastpower-istars-swv053", "UPS/ingrasys-power-switch"),
    "apc-rack-pdu": ("UPS/apc-7902b", "UPS/apc-8641", "UPS/apc-8932"),
    "aruba-controller": ("network/wifi/aruba-7210",),
    "netapp-ontap-7mode": ("storage/netapp-fas3270", "storage/netapp-ontap-8-2-3"),
    "brocade-fos": ("network/switch/brocade-ds-5100b", "network/switch/brocade-fiber-channel"),
}

ITEMS_ABSENT: dict[tuple[str, str], frozenset[str]] = {
    # Arista reports temperatures in tenths (precision 1) and its fans as unavailable; PAN-OS in whole degrees.
    ("entity-sensor", "cloud/arista-dcs-7150s-52-cl"): frozenset({"temperature_celsius", "fan_speed_rpm"}),
    ("arista-eos", "cloud/arista-dcs-7150s-52-cl"): frozenset({"temperature_celsius", "fan_speed_rpm"}),
    ("entity-sensor", "network/firewall/paloalto-pa-5000"): frozenset({"temperature_decicelsius"}),
    # PAN-OS implements hrProcessorTable and hrStorageTable but not hrMemorySize or hrSystemProcesses.
    ("paloalto-panos", "network/firewall/paloalto-pa-5000"): frozenset(
        {"temperature_decicelsius", "memory_total_kilobytes", "processes"}),
    # dskTable exists only for paths listed with "disk" in snmpd.conf.
    ("linux", "os/linux/unknown-006"): frozenset({"storage_usage"}),
    ("linux", "os/linux/slackware"): frozenset({"storage_usage"}),
    # A 3750 has no ciscoEnvMonTemperatureStatusTable (its temperatures are in CISCO-ENTITY-SENSOR-MIB only).
    ("cisco-ios", "network/switch/cisco-c3750"): frozenset({"temperature_celsius", "temperature_status"}),
}
