"""What the client returns: plain records, the same for every Zabbix version, and how raw API objects become them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

INTERFACE_KINDS = {"1": "agent", "2": "snmp", "3": "ipmi", "4": "jmx"}
AVAILABILITY = {"0": None, "1": True, "2": False}  # unknown, available, unavailable (per interface since 5.4)
SECRET_MACRO = 1


@dataclass(frozen=True, slots=True)
class Group:
    groupid: str
    name: str

    def __iter__(self) -> Iterator[str]:  # unpacks as (groupid, name)
        return iter((self.groupid, self.name))


@dataclass(frozen=True, slots=True)
class SnmpDetails:
    version: int  # 1, 2 (v2c) or 3
    community: str = ""
    bulk: bool = True
    securityname: str = ""
    securitylevel: int = 0  # 0 noAuthNoPriv, 1 authNoPriv, 2 authPriv
    authprotocol: int = 0  # Zabbix codes: 0 MD5, 1 SHA1, 2 SHA224, 3 SHA256, 4 SHA384, 5 SHA512
    authpassphrase: str = ""
    privprotocol: int = 0  # 0 DES, 1 AES128, 2 AES192, 3 AES256, 4 AES192C, 5 AES256C
    privpassphrase: str = ""
    contextname: str = ""


@dataclass(frozen=True, slots=True)
class Interface:
    interfaceid: str
    kind: str  # agent, snmp, ipmi, jmx
    main: bool
    address: str  # the IP if the interface connects by IP, else the DNS name
    port: str  # may hold a macro, e.g. {$SNMP_PORT}
    available: bool | None
    error: str
    snmp: SnmpDetails | None


@dataclass(frozen=True, slots=True)
class Macro:
    macro: str
    value: str  # empty for secret macros: Zabbix never returns their value
    type: int  # 0 text, 1 secret, 2 vault

    def __iter__(self) -> Iterator[str | int]:  # unpacks as (macro, value, type)
        return iter((self.macro, self.value, self.type))

    @property
    def secret(self) -> bool:
        return self.type == SECRET_MACRO


@dataclass(frozen=True, slots=True)
class Host:
    hostid: str
    host: str  # technical name
    name: str  # visible name
    enabled: bool
    in_maintenance: bool
    groups: tuple[Group, ...]
    interfaces: tuple[Interface, ...]
    tags: dict[str, str]  # a tag given twice keeps its last value
    inventory: dict[str, str]  # non-empty fields only; empty when inventory is disabled
    templates: tuple[str, ...]  # names of the templates linked to the host
    templateids: tuple[str, ...]
    proxy: str  # name of the proxy that polls the host, "" for the server
    macros: tuple[Macro, ...]


@dataclass(frozen=True, slots=True)
class TemplateMacros:
    templateid: str
    name: str
    parentids: tuple[str, ...]  # templates this template is linked to
    macros: tuple[Macro, ...]


@dataclass(frozen=True, slots=True)
class Ack:
    username: str  # "" when Zabbix does not show this user to us
    clock: int  # epoch seconds
    message: str
    action: int  # event.acknowledge bits: 1 close, 2 ack, 4 message, 8 severity, 16 unack, 32/64 (un)suppress
    userid: str


@dataclass(frozen=True, slots=True)
class Problem:
    eventid: str
    triggerid: str
    name: str
    severity: int  # 0 not classified … 5 disaster
    started: datetime
    opdata: str
    acknowledged: bool
    suppressed: bool
    hostids: tuple[str, ...]
    acknowledges: tuple[Ack, ...]


def utc(clock: str | int) -> datetime:
    return datetime.fromtimestamp(int(clock), UTC)


def group(raw: dict) -> Group:
    return Group(raw["groupid"], raw["name"])


def macro(raw: dict) -> Macro:
    return Macro(raw["macro"], raw.get("value", ""), int(raw.get("type", 0)))


def interface(raw: dict) -> Interface:
    kind = INTERFACE_KINDS.get(str(raw["type"]), str(raw["type"]))
    details = raw.get("details") or {}  # PHP sends [] for "no details"
    return Interface(
        interfaceid=raw["interfaceid"], kind=kind, main=raw["main"] == "1",
        address=raw["ip"] if raw["useip"] == "1" else raw["dns"], port=raw["port"],
        available=AVAILABILITY.get(str(raw.get("available", "0"))), error=raw.get("error", ""),
        snmp=snmp_details(details) if kind == "snmp" else None,
    )


def snmp_details(raw: dict) -> SnmpDetails:
    return SnmpDetails(
        version=int(raw.get("version", 2)), community=raw.get("community", ""), bulk=raw.get("bulk", "1") == "1",
        securityname=raw.get("securityname", ""), securitylevel=int(raw.get("securitylevel", 0)),
        authprotocol=int(raw.get("authprotocol", 0)), authpassphrase=raw.get("authpassphrase", ""),
        privprotocol=int(raw.get("privprotocol", 0)), privpassphrase=raw.get("privpassphrase", ""),
        contextname=raw.get("contextname", ""),
    )


def host(raw: dict, groups_key: str, proxy: str) -> Host:
    templates = raw.get("parentTemplates", [])
    inventory = raw.get("inventory") or {}
    return Host(
        hostid=raw["hostid"], host=raw["host"], name=raw["name"], enabled=raw["status"] == "0",
        in_maintenance=raw.get("maintenance_status") == "1",
        groups=tuple(group(g) for g in raw[groups_key]),
        interfaces=tuple(interface(i) for i in raw.get("interfaces", [])),
        tags={t["tag"]: t["value"] for t in raw.get("tags", [])},
        inventory={} if raw.get("inventory_mode") == "-1" else {k: v for k, v in inventory.items() if v},
        templates=tuple(t["name"] for t in templates), templateids=tuple(t["templateid"] for t in templates),
        proxy=proxy, macros=tuple(macro(m) for m in raw.get("macros", [])),
    )


def template_macros(raw: dict) -> TemplateMacros:
    parents = tuple(t["templateid"] for t in raw.get("parentTemplates", []))
    return TemplateMacros(raw["templateid"], raw["name"], parents, tuple(macro(m) for m in raw.get("macros", [])))


def ack(raw: dict) -> Ack:
    return Ack(raw.get("username", ""), int(raw["clock"]), raw.get("message", ""), int(raw.get("action", 0)),
               raw.get("userid", ""))


def problem(raw: dict, event: dict, acks_key: str = "acknowledges") -> Problem:
    """A problem.get row joined with its event.get row (hosts and acknowledges with user names)."""
    return Problem(
        eventid=raw["eventid"], triggerid=raw["objectid"], name=raw["name"], severity=int(raw["severity"]),
        started=utc(raw["clock"]), opdata=raw.get("opdata", ""), acknowledged=raw.get("acknowledged") == "1",
        suppressed=raw.get("suppressed") == "1", hostids=tuple(h["hostid"] for h in event.get("hosts", [])),
        acknowledges=tuple(ack(a) for a in event.get(acks_key, [])),
    )


def resolve_macro(name: str, host: Host, templates: dict[str, TemplateMacros],
                  global_macros: list[Macro]) -> Macro | None:
    """The macro Zabbix would use for `host`: its own, then its templates level by level (by id), then global."""
    level, seen = sorted(host.templateids, key=int), set()
    found = _find(name, host.macros)
    while found is None and level:
        seen.update(level)
        for templateid in level:
            found = found or (_find(name, templates[templateid].macros) if templateid in templates else None)
        parents = {p for t in level if t in templates for p in templates[t].parentids} - seen
        level = sorted(parents, key=int)
    return found or _find(name, global_macros)


def _find(name: str, macros: tuple[Macro, ...] | list[Macro]) -> Macro | None:
    return next((m for m in macros if m.macro == name), None)
