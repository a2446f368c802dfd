"""A Zabbix host's SNMP interface as our SNMP access settings: its details, with the user macros that fill them
resolved as Zabbix resolves them (host, then linked templates and their parents, then global).

Secret and vault macros cannot be read through the API: a host that needs one gets no credential, and says why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from snmp.choices import AuthProtocol, PrivProtocol, SNMPVersion
from snmp.validators import access_problems
from zabbix_bridge.client import Host, Interface, Macro, TemplateMacros, resolve_macro

# {$NAME} or {$NAME:context} ({$NAME:"quoted context"}, {$NAME:regex:"..."})
MACRO = re.compile(r'\{\$([A-Z0-9_.]+)(?::(?:"(?:[^"\\]|\\.)*"|[^}]*))?\}')
# Zabbix's codes (host interface `details`) -> ours
VERSIONS = {1: SNMPVersion.V1, 2: SNMPVersion.V2C, 3: SNMPVersion.V3}
AUTH_PROTOCOLS = {0: AuthProtocol.MD5, 1: AuthProtocol.SHA, 2: AuthProtocol.SHA224, 3: AuthProtocol.SHA256,
                  4: AuthProtocol.SHA384, 5: AuthProtocol.SHA512}
PRIV_PROTOCOLS = {0: PrivProtocol.DES, 1: PrivProtocol.AES, 2: PrivProtocol.AES192, 3: PrivProtocol.AES256,
                  4: PrivProtocol.AES192C, 5: PrivProtocol.AES256C}
AUTH_NO_PRIV, AUTH_PRIV = 1, 2  # securitylevel; 0 is noAuthNoPriv
MACRO_KINDS = {1: "a secret macro", 2: "a vault macro"}  # what the API does not give us the value of


class Unresolved(Exception):
    """The host's SNMP settings cannot become a credential here; `str()` says why."""


@dataclass(frozen=True)
class Access:
    """SNMP access settings in our vocabulary (snmp.models.SNMPCredential's fields), secrets in clear."""

    version: str
    community: str = ""
    security_name: str = ""
    auth_protocol: str = ""
    auth_key: str = ""
    priv_protocol: str = ""
    priv_key: str = ""
    context_name: str = ""

    def describe(self) -> str:
        """For people: the version, and for v3 the user and protocols; never a secret."""
        if self.version != SNMPVersion.V3:
            return f"SNMP{self.version}"
        level = "/".join(filter(None, (self.auth_protocol, self.priv_protocol))) or "noAuthNoPriv"
        context = f", context {self.context_name!r}" if self.context_name else ""
        return f"SNMPv3 user {self.security_name!r} ({level}{context})"


@dataclass(frozen=True)
class SnmpSettings:
    """What the host's SNMP interface becomes: access and port, or why not (`problem`)."""

    address: str
    access: Access | None = None
    port: int = 161
    sources: tuple[str, ...] = ()  # where each macro came from, e.g. "{$SNMP_COMMUNITY} from template 'X'"
    problem: str = ""


class Macros:
    """User macros as Zabbix resolves them for one host: `expand()` fills the macros in a text."""

    def __init__(self, host: Host, templates: dict[str, TemplateMacros], global_macros: list[Macro]) -> None:
        self.host, self.templates, self.global_macros = host, templates, global_macros
        self.sources: list[str] = []

    def expand(self, text: str) -> str:
        """The text with each {$MACRO} replaced by its value; Unresolved when one is unknown or unreadable."""
        return MACRO.sub(self._value, text)

    def _value(self, match: re.Match) -> str:
        token = match.group(0)
        plain = "{$" + match.group(1) + "}"  # a context macro falls back to the macro without context
        macro = self._find(token) or (self._find(plain) if plain != token else None)
        if macro is None:
            raise Unresolved(f"{token} is defined neither on the host, its templates nor globally")
        if macro.type in MACRO_KINDS:
            raise Unresolved(f"{token} is {MACRO_KINDS[macro.type]}: its value cannot be read through the API")
        self.sources.append(f"{token} from {self._origin(macro)}")
        return macro.value

    def _find(self, name: str) -> Macro | None:
        return resolve_macro(name, self.host, self.templates, self.global_macros)

    def _origin(self, macro: Macro) -> str:
        if any(m is macro for m in self.host.macros):
            return "the host"
        for template in self.templates.values():
            if any(m is macro for m in template.macros):
                return f"template {template.name!r}"
        return "the global macros"


def snmp_interface(host: Host) -> Interface | None:
    """The host's main SNMP interface, else its first one; None without any."""
    interfaces = [i for i in host.interfaces if i.kind == "snmp" and i.snmp is not None]
    return next((i for i in interfaces if i.main), interfaces[0] if interfaces else None)


def snmp_settings(host: Host, templates: dict[str, TemplateMacros],
                  global_macros: list[Macro]) -> SnmpSettings | None:
    """The host's SNMP settings in our terms (or why they cannot be had); None when it has no SNMP interface."""
    interface = snmp_interface(host)
    if interface is None:
        return None
    macros = Macros(host, templates, global_macros)
    try:
        port = _port(macros.expand(interface.port))
        access = _access(interface, macros)
    except Unresolved as exc:
        return SnmpSettings(interface.address, sources=tuple(macros.sources), problem=str(exc))
    return SnmpSettings(interface.address, access, port, tuple(macros.sources))


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise Unresolved(f"the SNMP port {text!r} is not a port number")
    return int(text)


def _access(interface: Interface, macros: Macros) -> Access:
    """Access settings from the interface's SNMP details; Unresolved when they have no counterpart here."""
    details = interface.snmp
    version = VERSIONS.get(details.version)
    if version is None:
        raise Unresolved(f"SNMP version code {details.version} is unknown here")
    if version != SNMPVersion.V3:
        access = Access(version, community=macros.expand(details.community))
    else:
        auth = priv = ""
        if details.securitylevel in (AUTH_NO_PRIV, AUTH_PRIV):
            auth = _protocol(AUTH_PROTOCOLS, details.authprotocol, "authentication")
        if details.securitylevel == AUTH_PRIV:
            priv = _protocol(PRIV_PROTOCOLS, details.privprotocol, "privacy")
        access = Access(version, security_name=macros.expand(details.securityname), auth_protocol=auth,
                        auth_key=macros.expand(details.authpassphrase) if auth else "", priv_protocol=priv,
                        priv_key=macros.expand(details.privpassphrase) if priv else "",
                        context_name=macros.expand(details.contextname))
    problems = access_problems(access)
    if problems:
        raise Unresolved("; ".join(problems.values()))
    return access


def _protocol(codes: dict[int, str], code: int, what: str) -> str:
    if code not in codes:
        raise Unresolved(f"SNMPv3 {what} protocol code {code} has no counterpart here")
    return codes[code]
