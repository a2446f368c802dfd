"""The OID library: numeric OIDs by name, grouped per MIB, and OID syntax checks.

We never load MIB files (Debian ships none), so every object we poll is listed here
with its numeric OID, taken from the MIB named beside it. Templates and items refer
to objects by name: `resolve("sysUpTime")` gives "1.3.6.1.2.1.1.3.0" (scalars are read
at instance .0), `resolve("ifHCInOctets")` the column to walk, and
`resolve("ifHCInOctets.3")` one row of it.

Adding an object: take its OID from the MIB text, add it to its MIB's group, and make
sure a snmpsim-data recording of that vendor holds it (snmp/tests/test_oids.py checks).
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from wardsite.text import quote

# RFC 2578 §7.1.3: at most 128 sub-identifiers, each at most 2^32-1.
MAX_ARCS = 128
MAX_ARC_VALUE = 2**32 - 1
_ARC = re.compile(r"0|[1-9][0-9]*")


class Kind(StrEnum):
    SCALAR = "scalar"
    COLUMN = "column"


class Syntax(StrEnum):
    """The SMI type the agent sends, which decides how a value is stored (a counter becomes a rate)."""

    COUNTER32 = "counter32"
    COUNTER64 = "counter64"
    GAUGE = "gauge"
    INTEGER = "integer"
    TIMETICKS = "timeticks"
    STRING = "string"
    OID = "oid"


@dataclass(frozen=True)
class MibObject:
    """One object of a MIB: `oid` is the object itself, without an instance suffix."""

    name: str
    oid: str
    kind: Kind
    syntax: Syntax
    units: str
    mib: str

    @property
    def poll_oid(self) -> str:
        """What to GET (a scalar's .0 instance) or to walk (a column)."""
        return f"{self.oid}.0" if self.kind is Kind.SCALAR else self.oid


_Row = tuple[int, str, Syntax, str]  # (arc under the group, name, syntax, units)


def _group(mib: str, kind: Kind, base: str, rows: list[_Row]) -> list[MibObject]:
    """Objects of one MIB under one OID: a scalar group, or a table entry's columns."""
    return [MibObject(name, f"{base}.{arc}", kind, syntax, units, mib) for arc, name, syntax, units in rows]


# sysUpTime and ifLastChange count hundredths of a second (TimeTicks).
TICKS_UNIT = "centiseconds"

SNMPV2_MIB = _group("SNMPv2-MIB", Kind.SCALAR, "1.3.6.1.2.1.1", [
    (1, "sysDescr", Syntax.STRING, ""),
    (2, "sysObjectID", Syntax.OID, ""),
    (3, "sysUpTime", Syntax.TIMETICKS, TICKS_UNIT),
    (4, "sysContact", Syntax.STRING, ""),
    (5, "sysName", Syntax.STRING, ""),
    (6, "sysLocation", Syntax.STRING, ""),
])

IF_MIB = _group("IF-MIB", Kind.COLUMN, "1.3.6.1.2.1.2.2.1", [  # ifTable
    (2, "ifDescr", Syntax.STRING, ""),
    (3, "ifType", Syntax.INTEGER, ""),
    (4, "ifMtu", Syntax.INTEGER, "bytes"),
    (5, "ifSpeed", Syntax.GAUGE, "bps"),  # saturates at 4294967295 above ~4.3 Gbit/s: use ifHighSpeed
    (6, "ifPhysAddress", Syntax.STRING, ""),
    (7, "ifAdminStatus", Syntax.INTEGER, ""),
    (8, "ifOperStatus", Syntax.INTEGER, ""),
    (9, "ifLastChange", Syntax.TIMETICKS, TICKS_UNIT),
    (10, "ifInOctets", Syntax.COUNTER32, "octets"),
    (11, "ifInUcastPkts", Syntax.COUNTER32, "packets"),
    (13, "ifInDiscards", Syntax.COUNTER32, "packets"),
    (14, "ifInErrors", Syntax.COUNTER32, "packets"),
    (16, "ifOutOctets", Syntax.COUNTER32, "octets"),
    (17, "ifOutUcastPkts", Syntax.COUNTER32, "packets"),
    (19, "ifOutDiscards", Syntax.COUNTER32, "packets"),
    (20, "ifOutErrors", Syntax.COUNTER32, "packets"),
]) + _group("IF-MIB", Kind.COLUMN, "1.3.6.1.2.1.31.1.1.1", [  # ifXTable
    (1, "ifName", Syntax.STRING, ""),
    (6, "ifHCInOctets", Syntax.COUNTER64, "octets"),
    (7, "ifHCInUcastPkts", Syntax.COUNTER64, "packets"),
    (10, "ifHCOutOctets", Syntax.COUNTER64, "octets"),
    (11, "ifHCOutUcastPkts", Syntax.COUNTER64, "packets"),
    (15, "ifHighSpeed", Syntax.GAUGE, "Mbps"),
    (18, "ifAlias", Syntax.STRING, ""),
])

HOST_RESOURCES_MIB = _group("HOST-RESOURCES-MIB", Kind.COLUMN, "1.3.6.1.2.1.25.2.3.1", [  # hrStorageTable
    (2, "hrStorageType", Syntax.OID, ""),
    (3, "hrStorageDescr", Syntax.STRING, ""),
    (4, "hrStorageAllocationUnits", Syntax.INTEGER, "bytes"),
    (5, "hrStorageSize", Syntax.INTEGER, "allocation units"),
    (6, "hrStorageUsed", Syntax.INTEGER, "allocation units"),
]) + _group("HOST-RESOURCES-MIB", Kind.COLUMN, "1.3.6.1.2.1.25.3.3.1", [  # hrProcessorTable
    (2, "hrProcessorLoad", Syntax.INTEGER, "%"),
])

ENTITY_MIB = _group("ENTITY-MIB", Kind.COLUMN, "1.3.6.1.2.1.47.1.1.1.1", [  # entPhysicalTable
    (2, "entPhysicalDescr", Syntax.STRING, ""),
    (5, "entPhysicalClass", Syntax.INTEGER, ""),  # 3 = chassis: the row whose serial is the device's
    (7, "entPhysicalName", Syntax.STRING, ""),
    (10, "entPhysicalSoftwareRev", Syntax.STRING, ""),
    (11, "entPhysicalSerialNum", Syntax.STRING, ""),
    (13, "entPhysicalModelName", Syntax.STRING, ""),
])

UCD_SNMP_MIB = _group("UCD-SNMP-MIB", Kind.SCALAR, "1.3.6.1.4.1.2021.4", [  # memory, in kB
    (3, "memTotalSwap", Syntax.INTEGER, "kB"),
    (4, "memAvailSwap", Syntax.INTEGER, "kB"),
    (5, "memTotalReal", Syntax.INTEGER, "kB"),
    (6, "memAvailReal", Syntax.INTEGER, "kB"),
    (14, "memBuffer", Syntax.INTEGER, "kB"),
    (15, "memCached", Syntax.INTEGER, "kB"),
]) + _group("UCD-SNMP-MIB", Kind.COLUMN, "1.3.6.1.4.1.2021.10.1", [  # laTable: rows 1, 5 and 15 minutes
    (3, "laLoad", Syntax.STRING, ""),  # text such as "0.42"
    (5, "laLoadInt", Syntax.INTEGER, "load x 100"),
]) + _group("UCD-SNMP-MIB", Kind.SCALAR, "1.3.6.1.4.1.2021.11", [  # systemStats
    (9, "ssCpuUser", Syntax.INTEGER, "%"),
    (10, "ssCpuSystem", Syntax.INTEGER, "%"),
    (11, "ssCpuIdle", Syntax.INTEGER, "%"),
    # The raw tick counters give an exact CPU share over the poll interval; the % above
    # are the agent's own averages.
    (50, "ssCpuRawUser", Syntax.COUNTER32, "ticks"),
    (52, "ssCpuRawSystem", Syntax.COUNTER32, "ticks"),
    (53, "ssCpuRawIdle", Syntax.COUNTER32, "ticks"),
    (54, "ssCpuRawWait", Syntax.COUNTER32, "ticks"),
])

CISCO = _group("OLD-CISCO-CPU-MIB", Kind.SCALAR, "1.3.6.1.4.1.9.2.1", [
    (56, "busyPer", Syntax.INTEGER, "%"),  # 5 s
    (57, "avgBusy1", Syntax.INTEGER, "%"),
    (58, "avgBusy5", Syntax.INTEGER, "%"),
]) + _group("OLD-CISCO-MEMORY-MIB", Kind.SCALAR, "1.3.6.1.4.1.9.2.1", [
    (8, "freeMem", Syntax.INTEGER, "bytes"),
    # The product plan calls .9 "memory used"; the MIB says free buffer elements (a count).
    # Used memory comes from ciscoMemoryPoolUsed.
    (9, "bufferElFree", Syntax.INTEGER, "buffers"),
]) + _group("CISCO-PROCESS-MIB", Kind.COLUMN, "1.3.6.1.4.1.9.9.109.1.1.1.1", [  # cpmCPUTotalTable
    (6, "cpmCPUTotal5secRev", Syntax.GAUGE, "%"),
    (7, "cpmCPUTotal1minRev", Syntax.GAUGE, "%"),
    (8, "cpmCPUTotal5minRev", Syntax.GAUGE, "%"),
]) + _group("CISCO-MEMORY-POOL-MIB", Kind.COLUMN, "1.3.6.1.4.1.9.9.48.1.1.1", [  # ciscoMemoryPoolTable
    (2, "ciscoMemoryPoolName", Syntax.STRING, ""),
    (5, "ciscoMemoryPoolUsed", Syntax.GAUGE, "bytes"),
    (6, "ciscoMemoryPoolFree", Syntax.GAUGE, "bytes"),
])

JUNIPER = _group("JUNIPER-MIB", Kind.COLUMN, "1.3.6.1.4.1.2636.3.1.13.1", [  # jnxOperatingTable
    (5, "jnxOperatingDescr", Syntax.STRING, ""),
    (7, "jnxOperatingTemp", Syntax.GAUGE, "°C"),
    (8, "jnxOperatingCPU", Syntax.GAUGE, "%"),
    (11, "jnxOperatingBuffer", Syntax.GAUGE, "%"),  # memory utilisation
])

FORTINET = _group("FORTINET-FORTIGATE-MIB", Kind.SCALAR, "1.3.6.1.4.1.12356.101.4.1", [  # fgSystemInfo
    (3, "fgSysCpuUsage", Syntax.GAUGE, "%"),
    (4, "fgSysMemUsage", Syntax.GAUGE, "%"),
    (8, "fgSysSesCount", Syntax.GAUGE, "sessions"),
])

# RouterOS reports CPU load in hrProcessorLoad; these are from mtxrHealth.
MIKROTIK = _group("MIKROTIK-MIB", Kind.SCALAR, "1.3.6.1.4.1.14988.1.1.3", [
    (8, "mtxrHlVoltage", Syntax.INTEGER, "0.1 V"),
    (10, "mtxrHlTemperature", Syntax.INTEGER, "0.1 °C"),
    (11, "mtxrHlProcessorTemperature", Syntax.INTEGER, "0.1 °C"),
])

HP = _group("STATISTICS-MIB", Kind.SCALAR, "1.3.6.1.4.1.11.2.14.11.5.1.9.6", [  # ProCurve / ArubaOS-Switch
    (1, "hpSwitchCpuStat", Syntax.INTEGER, "%"),
])

# hwEntityStateTable, indexed by entPhysicalIndex.
HUAWEI = _group("HUAWEI-ENTITY-EXTENT-MIB", Kind.COLUMN, "1.3.6.1.4.1.2011.5.25.31.1.1.1.1", [
    (5, "hwEntityCpuUsage", Syntax.INTEGER, "%"),
    (7, "hwEntityMemUsage", Syntax.INTEGER, "%"),
])

LIBRARY: tuple[MibObject, ...] = (
    *SNMPV2_MIB, *IF_MIB, *HOST_RESOURCES_MIB, *ENTITY_MIB, *UCD_SNMP_MIB,
    *CISCO, *JUNIPER, *FORTINET, *MIKROTIK, *HP, *HUAWEI,
)
BY_NAME = MappingProxyType({obj.name: obj for obj in LIBRARY})

# Common subtrees by name, for walks (`manage.py snmp_walk r1 system`).
SUBTREES = MappingProxyType({
    "mib-2": "1.3.6.1.2.1",
    "system": "1.3.6.1.2.1.1",
    "interfaces": "1.3.6.1.2.1.2",
    "ifTable": "1.3.6.1.2.1.2.2",
    "ifXTable": "1.3.6.1.2.1.31.1.1",
    "host": "1.3.6.1.2.1.25",
    "hrStorageTable": "1.3.6.1.2.1.25.2.3",
    "entPhysicalTable": "1.3.6.1.2.1.47.1.1.1",
    "enterprises": "1.3.6.1.4.1",
})

# Per RFC 2863 a 32-bit counter is its HC twin modulo 2^32: poll the HC one, fall back to this.
HC_FALLBACK = MappingProxyType({
    "ifHCInOctets": "ifInOctets",
    "ifHCOutOctets": "ifOutOctets",
    "ifHCInUcastPkts": "ifInUcastPkts",
    "ifHCOutUcastPkts": "ifOutUcastPkts",
})


class UnknownObjectName(KeyError):
    """A name that is not in the library; the message suggests close names."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0])


def lookup(name: str) -> MibObject:
    """The library object called `name` (case-sensitive, as in the MIB)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownObjectName(_unknown_name_message(name)) from None


def _unknown_name_message(name: str) -> str:
    by_lower = {known.lower(): known for known in BY_NAME}
    close = difflib.get_close_matches(name.lower(), by_lower, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""
    return f"unknown OID name {quote(name)}{hint}"


def resolve(name: str) -> str:
    """The numeric OID to poll for `name` or `name.index` (e.g. "ifOperStatus.3")."""
    base, dot, index = name.partition(".")
    obj = lookup(base)
    if not dot:
        return obj.poll_oid
    oid = f"{obj.oid}.{index}"
    parse_oid(oid)  # a malformed index raises ValueError
    return oid


def numeric_oid(text: str, *, subtree: bool = False) -> str:
    """`text` as a numeric OID: a numeric OID as given, or a library name with an optional index (`sysDescr.0`,
    `ifHCInOctets`, `ifOperStatus.3`), as a person types them at `snmpget`.

    For a walk (`subtree`) a scalar's bare name is the object itself (`sysDescr` walks to `sysDescr.0`) and the
    names of `SUBTREES` (`system`, `ifXTable`) are taken too. Raises ValueError or UnknownObjectName.
    """
    if text[:1].isdigit() or text.startswith("."):
        parse_oid(text)
        return text
    base, dot, index = text.partition(".")
    if subtree and base in SUBTREES:
        oid = SUBTREES[base] + dot + index
    elif subtree and not dot:
        oid = lookup(base).oid
    else:
        oid = resolve(text)
    parse_oid(oid)
    return oid


@functools.lru_cache(maxsize=4096)  # every poll checks its items' OIDs again
def parse_oid(text: str) -> tuple[int, ...]:
    """The arcs of a numeric OID such as "1.3.6.1.2.1.1.3.0" (a leading dot is allowed).

    Raises ValueError naming what is wrong: empty arcs, non-digits, leading zeros, a first
    arc above 2, a second arc above 39 under 0 or 1, or more arcs or larger values than SNMP allows.
    """
    body = text[1:] if text.startswith(".") else text
    if not body:
        raise ValueError("OID is empty")
    parts = body.split(".")
    for position, part in enumerate(parts, start=1):
        if not _ARC.fullmatch(part):
            raise ValueError(f"OID {quote(text)}: arc {position} {_why_bad_arc(part)}")
    arcs = tuple(int(part) for part in parts)
    _check_arcs(text, arcs)
    return arcs


def _why_bad_arc(part: str) -> str:
    if not part:
        return "is empty"
    if part.isascii() and part.isdigit():
        return f"{quote(part)} has a leading zero"
    return f"{quote(part)} is not a number"


def _check_arcs(text: str, arcs: tuple[int, ...]) -> None:
    if len(arcs) < 2:
        raise ValueError(f"OID {quote(text)}: needs at least two arcs")
    if len(arcs) > MAX_ARCS:
        raise ValueError(f"OID {quote(text)}: has {len(arcs)} arcs, SNMP allows at most {MAX_ARCS}")
    if arcs[0] > 2:
        raise ValueError(f"OID {quote(text)}: first arc must be 0, 1 or 2, not {arcs[0]}")
    if arcs[0] < 2 and arcs[1] > 39:
        raise ValueError(f"OID {quote(text)}: second arc must be at most 39 under {arcs[0]}, not {arcs[1]}")
    too_big = next((arc for arc in arcs if arc > MAX_ARC_VALUE), None)
    if too_big is not None:
        raise ValueError(f"OID {quote(text)}: arc {too_big} exceeds {MAX_ARC_VALUE}")


def is_valid_oid(text: str) -> bool:
    """Whether `text` is a well-formed numeric OID (see parse_oid)."""
    try:
        parse_oid(text)
    except ValueError:
        return False
    return True
