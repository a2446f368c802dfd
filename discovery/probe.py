"""The probe stage of discovery: what answers at an alive host, by SNMP (credentials tried in order) and TCP connect.

SNMP goes through the one client (snmp/client/). Whether a credential answers is asked once, without retries,
so that a list of wrong communities costs one timeout each; the rest is read with the credential's own timeout and
retries. Beyond the system group every read is optional: a table the agent lacks, or refuses, is simply empty.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from snmp import client, poller
from snmp.client import SNMPError, SNMPType, Target, Value
from snmp.models import SNMPCredential
from snmp.oids import resolve

logger = logging.getLogger(__name__)
T = TypeVar("T")

SYSTEM = {**poller.SYSTEM, "sys_uptime": poller.SYS_UPTIME, "sys_location": resolve("sysLocation"),
          "sys_contact": resolve("sysContact"), "engine_id": "1.3.6.1.6.3.10.2.1.1.0"}  # SNMP-FRAMEWORK-MIB
CHASSIS = 3  # ENTITY-MIB entPhysicalClass chassis(3)
ENTITY = {"class": resolve("entPhysicalClass"), "serial": resolve("entPhysicalSerialNum"),
          "model": resolve("entPhysicalModelName")}
# LLDP-MIB lldpRemTable, indexed by timeMark.localPortNum.remIndex; subtypes say how to read the ids.
_LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
LLDP_REMOTE = {"chassis_subtype": f"{_LLDP_REM}.4", "chassis": f"{_LLDP_REM}.5", "port_subtype": f"{_LLDP_REM}.6",
               "port": f"{_LLDP_REM}.7", "name": f"{_LLDP_REM}.9", "descr": f"{_LLDP_REM}.10"}
LLDP_LOCAL = {"port_subtype": "1.0.8802.1.1.2.1.3.7.1.2", "port": "1.0.8802.1.1.2.1.3.7.1.3"}  # lldpLocPortTable
LLDP_MAN_ADDR = {"if_subtype": "1.0.8802.1.1.2.1.4.2.1.3"}  # lldpRemManAddrTable: the address is in the index
LLDP_CHASSIS_MAC, LLDP_PORT_MAC, LLDP_PORT_NAME = 4, 3, 5
# CISCO-CDP-MIB cdpCacheTable, indexed by ifIndex.deviceIndex.
_CDP = "1.3.6.1.4.1.9.9.23.1.2.1.1"
CDP_CACHE = {"device_id": f"{_CDP}.6", "address": f"{_CDP}.4", "device_port": f"{_CDP}.7", "platform": f"{_CDP}.8"}
IF_NAME = {"name": resolve("ifName")}
IF_PHYS_ADDRESS = {"mac": resolve("ifPhysAddress")}

Rows = dict[str, dict[str, Value]]  # column -> row index -> value
_ABSENT = Value(SNMPType.NULL, None)  # a cell the agent has no row for


@dataclass(frozen=True)
class Neighbor:
    """One LLDP or CDP neighbour as the probed device sees it; for LLDP `remote_platform` is its sysDescr."""

    protocol: str  # "lldp" | "cdp"
    local_port: str
    remote_name: str
    remote_port: str
    remote_chassis: str
    remote_address: str
    remote_platform: str


@dataclass(frozen=True)
class SnmpFacts:
    """What SNMP told of a host, for classifying it and recognising it on another address."""

    sys_name: str
    sys_descr: str
    sys_object_id: str
    sys_uptime_seconds: int | None
    sys_location: str
    sys_contact: str
    engine_id: str  # snmpEngineID as lowercase hex, "" if absent
    serial: str
    model: str
    macs: frozenset[str]
    neighbors: tuple[Neighbor, ...]


@dataclass(frozen=True)
class SnmpProbe:
    """The credential that answered (its SNMPCredential id) and what it read."""

    credential_id: int
    facts: SnmpFacts


@dataclass(frozen=True)
class HostProbe:
    """One host's probe: SNMP (None if no credential answered) and the TCP ports that accepted a connection."""

    snmp: SnmpProbe | None
    open_ports: tuple[int, ...]


async def probe_snmp(host: str, credentials: Sequence[SNMPCredential], *, port: int = 161) -> SnmpProbe | None:
    """The first credential the agent answers, with the facts read with it; None if none answers."""
    for credential in credentials:
        try:
            target = Target.from_credential(credential, host, port)
            system = await client.get(replace(target, retries=0), list(SYSTEM.values()))
        except ValueError as exc:  # an unusable credential: the next may do
            logger.warning("discovery: credential %s skipped: %s", credential, exc)
            continue
        except SNMPError:
            continue
        return SnmpProbe(credential.pk, await _facts(target, {name: system[oid] for name, oid in SYSTEM.items()}))
    return None


async def probe_tcp(host: str, ports: Sequence[int], *, timeout: float = 1.0) -> tuple[int, ...]:
    """The ports of `host` that accept a TCP connection within `timeout` seconds (closed again at once)."""
    async def accepts(port: int) -> bool:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    ports = list(dict.fromkeys(ports))
    return tuple(port for port, open_ in zip(ports, await asyncio.gather(*map(accepts, ports))) if open_)


async def probe_many(hosts: Sequence[str], credentials: Sequence[SNMPCredential], *, port: int = 161,
                     tcp_ports: Sequence[int] = (), limit: int = 200) -> dict[str, HostProbe]:
    """Probe each host by SNMP and TCP, at most `limit` hosts at once; one host's failure leaves the others be."""
    async def snmp(host: str) -> SnmpProbe | None:
        try:
            return await probe_snmp(host, credentials, port=port) if credentials else None
        except (SNMPError, OSError) as exc:
            logger.warning("discovery: SNMP probe of %s failed: %s", host, exc)
            return None

    async def one(host: str) -> HostProbe:
        return HostProbe(*await asyncio.gather(snmp(host), probe_tcp(host, tcp_ports)))

    hosts = list(dict.fromkeys(hosts))
    return dict(zip(hosts, await client.gather_limited([functools.partial(one, host) for host in hosts], limit)))


async def _facts(target: Target, system: dict[str, Value]) -> SnmpFacts:
    entity = await _optional(_columns(target, ENTITY), {})
    phys = await _optional(_columns(target, IF_PHYS_ADDRESS), {})
    if_names = _once(functools.partial(_if_names, target))  # LLDP and CDP both name ports by it: one walk
    neighbors = (await _optional(_lldp_neighbors(target, if_names), [])
                 + await _optional(_cdp_neighbors(target, if_names), []))
    uptime, engine_id = system["sys_uptime"], system["engine_id"]
    return SnmpFacts(
        sys_name=_text(system["sys_name"]), sys_descr=_text(system["sys_descr"]),
        sys_object_id=_text(system["sys_object_id"]),
        sys_uptime_seconds=uptime.value // 100 if uptime.type is SNMPType.TIMETICKS else None,
        sys_location=_text(system["sys_location"]), sys_contact=_text(system["sys_contact"]),
        engine_id=engine_id.value.hex() if isinstance(engine_id.value, bytes) else "",
        serial=_chassis_value(entity, "serial"), model=_chassis_value(entity, "model"),
        macs=frozenset(filter(None, map(_mac, phys.get("mac", {}).values()))), neighbors=tuple(neighbors))


async def _optional(read: Awaitable[T], empty: T) -> T:
    """What `read` returns, or `empty` if the agent fails it (a table it refuses, a walk that times out)."""
    try:
        return await read
    except SNMPError as exc:
        logger.info("discovery: %s (taken as empty)", exc)
        return empty


async def _columns(target: Target, columns: dict[str, str]) -> Rows:
    """{column: {row index: value}}, walked a column at a time; {} at once if the first column has no rows."""
    found: Rows = {}
    for name, oid in columns.items():
        found[name] = {row[len(oid) + 1:]: value for row, value in await client.walk(target, oid)}
        if not found[name] and len(found) == 1:
            return {}
    return found


def _cell(rows: Rows, column: str, index: str) -> Value:
    return rows.get(column, {}).get(index, _ABSENT)


def _chassis_value(entity: Rows, column: str) -> str:
    """The chassis row's value of `column` if not empty, else the first non-empty value of any row."""
    values = {index: _text(value) for index, value in entity.get(column, {}).items()}
    chassis = [index for index, value in entity.get("class", {}).items() if value.value == CHASSIS]
    return next((values[index] for index in chassis if values.get(index)), next(filter(None, values.values()), ""))


async def _lldp_neighbors(target: Target, if_names: Callable[[], Awaitable[dict[str, str]]]
                          ) -> list[Neighbor]:
    remote = await _columns(target, LLDP_REMOTE)
    if not remote:
        return []
    local, names = await _columns(target, LLDP_LOCAL), await if_names()
    addresses = _lldp_addresses(await _columns(target, LLDP_MAN_ADDR))
    neighbors = []
    for index in remote["chassis_subtype"]:
        if index.count(".") != 2:  # not timeMark.localPortNum.remIndex: a broken agent
            continue
        port_num = index.split(".")[1]
        neighbors.append(Neighbor(
            protocol="lldp", local_port=_lldp_local_port(local, names, port_num),
            remote_name=_text(_cell(remote, "name", index)),
            remote_port=_lldp_id(remote, "port", index, LLDP_PORT_MAC),
            remote_chassis=_lldp_id(remote, "chassis", index, LLDP_CHASSIS_MAC),
            remote_address=addresses.get(index.split(".", 1)[1], ""),
            remote_platform=_text(_cell(remote, "descr", index))))
    return neighbors


def _lldp_local_port(local: Rows, if_names: dict[str, str], port_num: str) -> str:
    """A local LLDP port's name: its port id if that is an interface name, else the ifName of the same number
    (agents number LLDP ports by ifIndex, except some that name them), else its port id or number."""
    port_id = _text(_cell(local, "port", port_num))
    if _cell(local, "port_subtype", port_num).value == LLDP_PORT_NAME:
        return port_id
    return if_names.get(port_num) or port_id or port_num


def _lldp_id(rows: Rows, column: str, index: str, mac_subtype: int) -> str:
    """An LLDP chassis or port id: a MAC (as its subtype says) as aa:bb:…, anything else as the agent wrote it."""
    value = _cell(rows, column, index)
    return (_mac(value) if _cell(rows, f"{column}_subtype", index).value == mac_subtype else "") or _text(value)


def _lldp_addresses(rows: Rows) -> dict[str, str]:
    """"localPortNum.remIndex" -> the neighbour's first IP management address, read from lldpRemManAddrTable's
    index (timeMark.localPortNum.remIndex.addrSubtype.addrLength.address; the timeMark differs from lldpRemTable's)."""
    found: dict[str, str] = {}
    for index in rows.get("if_subtype", {}):
        arcs = [int(arc) for arc in index.split(".")]
        if len(arcs) > 5 and arcs[3] in (1, 2) and max(arcs[5:]) < 256 and (address := _address(bytes(arcs[5:]))):
            found.setdefault(f"{arcs[1]}.{arcs[2]}", address)
    return found


async def _cdp_neighbors(target: Target, if_names: Callable[[], Awaitable[dict[str, str]]]
                         ) -> list[Neighbor]:
    cache = await _columns(target, CDP_CACHE)
    if not cache:
        return []
    names = await if_names()
    neighbors = []
    for index, device_id in cache["device_id"].items():
        if_index, address = index.split(".")[0], _cell(cache, "address", index).value
        neighbors.append(Neighbor(
            protocol="cdp", local_port=names.get(if_index, if_index), remote_name=_text(device_id),
            remote_port=_text(_cell(cache, "device_port", index)), remote_chassis="",
            remote_address=_address(address) if isinstance(address, bytes) else "",
            remote_platform=_text(_cell(cache, "platform", index))))
    return neighbors


def _once(read: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """`read`, started the first time it is asked for and shared after."""
    task: asyncio.Future[T] | None = None

    def get() -> Awaitable[T]:
        nonlocal task
        if task is None:
            task = asyncio.ensure_future(read())
        return task

    return get


async def _if_names(target: Target) -> dict[str, str]:
    """ifIndex -> ifName, to name the local ports of neighbours."""
    return {index: _text(value) for index, value in (await _columns(target, IF_NAME)).get("name", {}).items()}


def _text(value: Value) -> str:
    return "" if value.missing else value.text


def _mac(value: Value) -> str:
    """aa:bb:cc:dd:ee:ff for a 6-byte, not all-zero address; "" for anything else."""
    raw = value.value
    return raw.hex(":") if isinstance(raw, bytes) and len(raw) == 6 and any(raw) else ""


def _address(raw: bytes) -> str:
    """An IPv4 or IPv6 address from its 4 or 16 octets; "" for anything else."""
    return str(ipaddress.ip_address(raw)) if len(raw) in (4, 16) else ""
