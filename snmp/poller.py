"""What one poll of one device asks and what came back: SNMP I/O only, no database, no VictoriaMetrics.

A `PollPlan` says what is due (items, interface counters, interface discovery); `collect` sends as few PDUs as
it can for it (one GET set for sysUpTime, the items and every interface counter, split only where the PDU size
limits it; column walks for discovery) and returns a `Reading`.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from snmp import client
from snmp.client import SNMPError, SNMPType, Target, Value
from snmp.counters import CounterSample, prefer_hc
from snmp.oids import resolve

logger = logging.getLogger(__name__)

SYS_UPTIME = resolve("sysUpTime")
SYSTEM = {"sys_descr": resolve("sysDescr"), "sys_object_id": resolve("sysObjectID"), "sys_name": resolve("sysName")}

# Counter columns polled per interface: (series stem, HC column, 32-bit column). The HC column is used where the
# interface has usable HC counters (Interface.hc_counters); errors and discards exist only as 32-bit columns.
COUNTER_COLUMNS = (
    ("in_octets", "ifHCInOctets", "ifInOctets"),
    ("out_octets", "ifHCOutOctets", "ifOutOctets"),
    ("in_ucast_pkts", "ifHCInUcastPkts", "ifInUcastPkts"),
    ("out_ucast_pkts", "ifHCOutUcastPkts", "ifOutUcastPkts"),
    ("in_errors", None, "ifInErrors"),
    ("out_errors", None, "ifOutErrors"),
    ("in_discards", None, "ifInDiscards"),
    ("out_discards", None, "ifOutDiscards"),
)
STATUS_COLUMNS = (("oper_status", "ifOperStatus"), ("admin_status", "ifAdminStatus"))

# Interface discovery: one walk per column, fact name -> column.
DISCOVERY_COLUMNS = {
    "descr": "ifDescr", "if_type": "ifType", "speed": "ifSpeed", "admin_status": "ifAdminStatus",
    "oper_status": "ifOperStatus", "last_change": "ifLastChange", "name": "ifName", "high_speed": "ifHighSpeed",
    "alias": "ifAlias", "hc_in_octets": "ifHCInOctets", "in_octets": "ifInOctets",
}
IF_SPEED_SATURATED = 2**32 - 1  # ifSpeed of links faster than ~4.3 Gbit/s: read ifHighSpeed instead


@dataclass(frozen=True)
class ItemPlan:
    id: int
    oid: str


@dataclass(frozen=True)
class InterfacePlan:
    if_index: int
    hc: bool


@dataclass(frozen=True)
class PollPlan:
    """What to ask one device now; `interfaces` is None when its interface counters are not due."""

    device_id: int
    target: Target
    items: tuple[ItemPlan, ...] = ()
    interfaces: tuple[InterfacePlan, ...] | None = None
    discover: bool = False
    disabled_interfaces: frozenset[int] = frozenset()  # ifIndexes not to poll after discovery


@dataclass(frozen=True)
class InterfaceFacts:
    """One ifTable/ifXTable row as discovery read it."""

    if_index: int
    name: str = ""
    descr: str = ""
    alias: str = ""
    if_type: int | None = None
    speed_bps: int | None = None
    admin_status: int | None = None
    oper_status: int | None = None
    last_change_ticks: int | None = None
    hc_counters: bool = False


@dataclass
class Reading:
    """What one poll got: values by what asked for them, or the error that ended it."""

    device_id: int
    started: float  # time.time() when the poll began
    at: float = 0.0  # time.time() when the GET answer arrived (counter samples are stamped with it)
    duration: float = 0.0
    uptime_ticks: int | None = None
    items: dict[int, Value] = field(default_factory=dict)
    counters: dict[tuple[int, str], Value] = field(default_factory=dict)  # (ifIndex, stem) -> value
    statuses: dict[tuple[int, str], int] = field(default_factory=dict)  # (ifIndex, oper_status|admin_status)
    system: dict[str, str] = field(default_factory=dict)
    interfaces: list[InterfaceFacts] | None = None  # discovery's rows, when discovery ran
    error: SNMPError | None = None


@functools.lru_cache(maxsize=8192)  # ifIndex numbers repeat across devices: every poll asks for the same few
def interface_oids(plan: InterfacePlan) -> tuple[tuple[str, str, tuple[int, str]], ...]:
    """(OID, kind, (ifIndex, stem or status)) of each counter and status polled for one interface."""
    counters = [(f"{resolve(hc if plan.hc and hc else legacy)}.{plan.if_index}", "counter", (plan.if_index, stem))
                for stem, hc, legacy in COUNTER_COLUMNS]
    statuses = [(f"{resolve(column)}.{plan.if_index}", "status", (plan.if_index, status))
                for status, column in STATUS_COLUMNS]
    return tuple(counters + statuses)


def _get_set(plan: PollPlan) -> dict[str, list[tuple[str, object]]]:
    """Every OID of the poll's GET set -> what its value answers: (kind, key) pairs (an item may ask for sysUpTime)."""
    wanted: dict[str, list[tuple[str, object]]] = defaultdict(list)
    wanted[SYS_UPTIME].append(("uptime", None))
    if plan.discover:
        for name, oid in SYSTEM.items():
            wanted[oid].append(("system", name))
    for item in plan.items:
        wanted[item.oid].append(("item", item.id))
    for interface in plan.interfaces or ():
        for oid, kind, key in interface_oids(interface):
            wanted[oid].append((kind, key))
    return wanted


async def collect(plan: PollPlan) -> Reading:
    """Poll one device as planned; SNMP errors end up in `Reading.error`, never raised (nor any other error: one
    device's surprise must not end its batch)."""
    reading = Reading(plan.device_id, started=time.time())
    started = time.perf_counter()
    try:
        if plan.discover:
            reading.interfaces = await discover_interfaces(plan.target)
            if plan.interfaces is not None:  # poll what discovery found, not what the database knew
                plan = replace(plan, interfaces=tuple(
                    InterfacePlan(facts.if_index, facts.hc_counters) for facts in reading.interfaces
                    if facts.if_index not in plan.disabled_interfaces))
        wanted = _get_set(plan)
        values = await client.get(plan.target, list(wanted))
        reading.at = time.time()
        for oid, value in values.items():
            for kind, key in wanted[oid]:
                _file(reading, kind, key, value)
    except SNMPError as exc:
        reading.error = exc
    except Exception as exc:  # a bug or an answer nobody foresaw: this device fails, with the traceback logged
        logger.exception("SNMP poll of device %s failed unexpectedly", plan.device_id)
        reading.error = SNMPError(f"{plan.target}: poll failed unexpectedly: {type(exc).__name__}: {exc}")
    reading.duration = time.perf_counter() - started
    return reading


def _file(reading: Reading, kind: str, key, value: Value) -> None:
    if kind == "uptime":
        reading.uptime_ticks = value.value if value.type == SNMPType.TIMETICKS else None
    elif kind == "system":
        reading.system[key] = "" if value.missing else value.text
    elif kind == "item":
        reading.items[key] = value
    elif kind == "counter":
        if not value.missing:
            reading.counters[key] = value
    elif kind == "status" and isinstance(value.value, int):
        reading.statuses[key] = value.value


class BatchDeadline(SNMPError):
    """The device's poll had not ended when its batch's deadline passed: it was given up, the rest kept."""


async def collect_many(plans: Sequence[PollPlan], limit: int, deadline: float | None = None) -> list[Reading]:
    """`collect` for many devices, at most `limit` in flight; a device not done `deadline` seconds after the start
    gets a reading with a BatchDeadline error instead."""
    semaphore = asyncio.Semaphore(limit)

    async def one(plan: PollPlan) -> Reading:
        async with semaphore:
            return await collect(plan)

    tasks = [asyncio.ensure_future(one(plan)) for plan in plans]
    if not tasks:
        return []
    await asyncio.wait(tasks, timeout=deadline)
    return [_reading_or_deadline(task, plan) for task, plan in zip(tasks, plans)]


def _reading_or_deadline(task: asyncio.Future, plan: PollPlan) -> Reading:
    if task.done():
        return task.result()
    task.cancel()
    return Reading(device_id=plan.device_id, started=time.time(), error=BatchDeadline("not polled: batch deadline"))


async def discover_interfaces(target: Target) -> list[InterfaceFacts]:
    """Read the interfaces from ifTable/ifXTable, one walk per column (SNMPv1 skips the 64-bit column)."""
    columns: dict[str, dict[int, Value]] = {}
    for fact, column in DISCOVERY_COLUMNS.items():
        if target.version == "v1" and fact == "hc_in_octets":
            continue
        root = resolve(column)
        rows = await client.walk(target, root)
        columns[fact] = {int(oid[len(root) + 1:]): value for oid, value in rows if "." not in oid[len(root) + 1:]}
    indexes = sorted(set().union(*(rows.keys() for rows in columns.values())))
    return [_facts(index, {fact: rows.get(index) for fact, rows in columns.items()}) for index in indexes]


def _facts(if_index: int, row: dict[str, Value | None]) -> InterfaceFacts:
    def number(fact: str) -> int | None:
        value = row.get(fact)
        return value.value if value is not None and isinstance(value.value, int) else None

    def text(fact: str) -> str:
        value = row.get(fact)
        return value.text[:255] if value is not None and not value.missing else ""

    return InterfaceFacts(
        if_index=if_index, name=text("name"), descr=text("descr"), alias=text("alias"), if_type=number("if_type"),
        speed_bps=_speed_bps(number("speed"), number("high_speed")), admin_status=number("admin_status"),
        oper_status=number("oper_status"), last_change_ticks=number("last_change"),
        hc_counters=_has_hc(row.get("hc_in_octets"), row.get("in_octets")),
    )


def _speed_bps(speed: int | None, high_speed_mbps: int | None) -> int | None:
    """ifHighSpeed (Mbit/s) where the agent has it and ifSpeed is saturated or absent, else ifSpeed."""
    if high_speed_mbps and (speed is None or speed >= IF_SPEED_SATURATED or high_speed_mbps * 1_000_000 > speed):
        return high_speed_mbps * 1_000_000
    return speed


def _has_hc(hc: Value | None, legacy: Value | None) -> bool:
    """Whether to poll the HC columns: present, and not stuck at 0 while the 32-bit twin moves."""
    def sample(value: Value | None, bits: int) -> CounterSample | None:
        if value is None or not isinstance(value.value, int) or not 0 <= value.value < 2**bits:
            return None
        return CounterSample(value.value, bits, None, 0.0)

    hc_sample = sample(hc, 64)
    return hc_sample is not None and prefer_hc(hc_sample, sample(legacy, 32)) is hc_sample
