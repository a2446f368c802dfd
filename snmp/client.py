"""The one SNMP client: asyncio GET and walk for SNMP v1, v2c and v3 (USM), with typed values.

Callers see only `Target`, `Value`, `SNMPError` and the functions `get`, `walk`, `poll_many` (and their
`*_sync` twins, or `run()` for a batch of calls); pysnmp stays inside this module, so the engine underneath can
change without them noticing.

One pysnmp engine serves the whole process. Its localized v3 keys and discovered engine IDs survive between
event loops; only its socket belongs to a loop, and `close()` releases it (the sync wrappers do so themselves).

Missing OIDs are not errors: `get` maps them to a `Value` whose `type` is `nosuchobject` or `nosuchinstance`
(`Value.missing` is true); SNMPv1 agents cannot tell the two apart and are reported as `nosuchobject`.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import os
import socket
import string
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.error import StatusInformation

from snmp.oids import parse_oid

if TYPE_CHECKING:
    from snmp.models import SNMPCredential

T = TypeVar("T")

VERSIONS = ("v1", "v2c", "v3")
# Protocol names as net-snmp spells them (snmpget -a / -x). AES-192/AES-256 extend the key as net-snmp does
# (draft-blumenthal-aes-usm-04); the -C variants as Cisco does (Reeder), for devices that need it.
AUTH_PROTOCOLS = {
    "MD5": config.USM_AUTH_HMAC96_MD5,
    "SHA": config.USM_AUTH_HMAC96_SHA,
    "SHA-224": config.USM_AUTH_HMAC128_SHA224,
    "SHA-256": config.USM_AUTH_HMAC192_SHA256,
    "SHA-384": config.USM_AUTH_HMAC256_SHA384,
    "SHA-512": config.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "DES": config.USM_PRIV_CBC56_DES,
    "AES": config.USM_PRIV_CFB128_AES,
    "AES-192": config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES-256": config.USM_PRIV_CFB256_AES_BLUMENTHAL,
    "AES-192-C": config.USM_PRIV_CFB192_AES,
    "AES-256-C": config.USM_PRIV_CFB256_AES,
}
MAX_VARBINDS_PER_PDU = 40  # GETs are split into PDUs of at most this many OIDs, and further on tooBig
DEFAULT_CONCURRENCY = 200

_ERROR_STATUS = {  # RFC 3416 error-status names
    1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess", 7: "wrongType",
    8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue", 11: "noCreation", 12: "inconsistentValue",
    13: "resourceUnavailable", 14: "commitFailed", 15: "undoFailed", 16: "authorizationError",
    17: "notWritable", 18: "inconsistentName",
}
_TOO_BIG, _NO_SUCH_NAME = 1, 2


# --- errors ---------------------------------------------------------------------------------------------------

class SNMPError(Exception):
    """An SNMP request failed; the message names the target and what to check."""


class SNMPTimeout(SNMPError):
    """No (valid) answer within timeout × (retries + 1)."""


class SNMPAuthError(SNMPError):
    """The agent refused our SNMPv3 credentials (usmStats report)."""


class SNMPProtocolError(SNMPError):
    """The agent answered with an error status or broke the protocol (e.g. a walk that does not advance)."""


# --- values ---------------------------------------------------------------------------------------------------

class SNMPType(StrEnum):
    INTEGER = "integer"
    COUNTER32 = "counter32"
    COUNTER64 = "counter64"
    GAUGE32 = "gauge32"
    TIMETICKS = "timeticks"
    OCTETS = "octets"
    OID = "oid"
    IPADDRESS = "ipaddress"
    OPAQUE = "opaque"
    NULL = "null"
    NO_SUCH_OBJECT = "nosuchobject"
    NO_SUCH_INSTANCE = "nosuchinstance"


_PRINTABLE = frozenset(string.printable)


@dataclass(frozen=True, slots=True)
class Value:
    """One SNMP value: int for numeric types, bytes for octets/opaque, dotted str for oid/ipaddress, else None."""

    type: SNMPType
    value: int | bytes | str | None

    @property
    def missing(self) -> bool:
        """True for noSuchObject/noSuchInstance: the agent has no such OID."""
        return self.type in (SNMPType.NO_SUCH_OBJECT, SNMPType.NO_SUCH_INSTANCE)

    @property
    def text(self) -> str:
        """Human-readable: printable octets decoded as UTF-8, other octets as hex (00:1a:2b), numbers as digits."""
        if isinstance(self.value, bytes):
            try:
                decoded = self.value.decode().rstrip("\x00")  # some agents NUL-terminate their strings
            except UnicodeDecodeError:
                return self.value.hex(":")
            if all(ch in _PRINTABLE or ch.isprintable() for ch in decoded):
                return decoded
            return self.value.hex(":")
        return "" if self.value is None else str(self.value)


_NUMERIC = {
    rfc1902.Integer32.tagSet: SNMPType.INTEGER,
    rfc1902.Counter32.tagSet: SNMPType.COUNTER32,
    rfc1902.Counter64.tagSet: SNMPType.COUNTER64,
    rfc1902.Gauge32.tagSet: SNMPType.GAUGE32,  # also Unsigned32: same tag
    rfc1902.TimeTicks.tagSet: SNMPType.TIMETICKS,
}
_EMPTY = {
    rfc1902.Null.tagSet: SNMPType.NULL,
    rfc1905.NoSuchObject.tagSet: SNMPType.NO_SUCH_OBJECT,
    rfc1905.NoSuchInstance.tagSet: SNMPType.NO_SUCH_INSTANCE,
}
# endOfMibView ends a walk; noSuch* have no business in a GETNEXT/GETBULK answer, but some agents send them last.
_WALK_ENDS = (rfc1905.EndOfMibView.tagSet, rfc1905.NoSuchObject.tagSet, rfc1905.NoSuchInstance.tagSet)


def _to_value(asn1) -> Value:
    tag = asn1.tagSet
    if tag in _NUMERIC:
        return Value(_NUMERIC[tag], int(asn1))
    if tag == rfc1902.OctetString.tagSet:
        return Value(SNMPType.OCTETS, asn1.asOctets())
    if tag == rfc1902.ObjectIdentifier.tagSet:
        return Value(SNMPType.OID, _oid_str(asn1.asTuple()))
    if tag == rfc1902.IpAddress.tagSet:
        return Value(SNMPType.IPADDRESS, socket.inet_ntoa(asn1.asOctets()))
    if tag == rfc1902.Opaque.tagSet:
        return Value(SNMPType.OPAQUE, asn1.asOctets())
    if tag in _EMPTY:
        return Value(_EMPTY[tag], None)
    raise SNMPProtocolError(f"unexpected SNMP value type {asn1.__class__.__name__} ({tag})")


# --- OIDs -----------------------------------------------------------------------------------------------------

def _parse_oids(oids: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Each OID string with its arcs; ValueError (from snmp.oids.parse_oid) for a malformed one."""
    if isinstance(oids, str):
        raise TypeError("pass a sequence of OIDs, not a single OID string")
    return {oid: parse_oid(oid) for oid in oids}


def _oid_str(arcs: tuple[int, ...]) -> str:
    return ".".join(map(str, arcs))


# --- targets --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where and how to ask: address, SNMP version and credentials, timeout (seconds per try) and retries."""

    host: str
    port: int = 161
    version: str = "v2c"
    community: str = field(default="", repr=False)
    security_name: str = ""
    auth_protocol: str = ""
    auth_key: str = field(default="", repr=False)
    priv_protocol: str = ""
    priv_key: str = field(default="", repr=False)
    context_name: str = ""
    timeout: float = 2.0
    retries: int = 1

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"SNMP target {self.host}:{self.port}: {problem}")

    def _problem(self) -> str | None:
        if not self.host:
            return "a host is required"
        if not 0 < self.port < 65536:
            return f"port {self.port} is not between 1 and 65535"
        if self.version not in VERSIONS:
            return f"version {self.version!r} is not one of {', '.join(VERSIONS)}"
        if self.timeout <= 0 or self.retries < 0:
            return "timeout must be > 0 seconds and retries >= 0"
        if self.version != "v3":
            return None if self.community else f"a community is required for SNMP{self.version}"
        if not self.security_name:
            return "a security name (user) is required for SNMPv3"
        if self.auth_protocol and self.auth_protocol not in AUTH_PROTOCOLS:
            return f"unknown auth protocol {self.auth_protocol!r} (one of {', '.join(AUTH_PROTOCOLS)})"
        if self.priv_protocol and self.priv_protocol not in PRIV_PROTOCOLS:
            return f"unknown privacy protocol {self.priv_protocol!r} (one of {', '.join(PRIV_PROTOCOLS)})"
        if self.priv_protocol and not self.auth_protocol:
            return "privacy needs an auth protocol too (authPriv)"
        if self.auth_protocol and len(self.auth_key) < 8:
            return "the SNMPv3 auth key must have at least 8 characters"
        if self.priv_protocol and len(self.priv_key) < 8:
            return "the SNMPv3 privacy key must have at least 8 characters"
        return None

    @classmethod
    def from_credential(cls, credential: SNMPCredential, host: str, port: int = 161) -> Target:
        """The target for `host`:`port` with an snmp.models.SNMPCredential's settings."""
        from snmp.models import SNMPCredential

        if not isinstance(credential, SNMPCredential):
            raise TypeError(f"expected an SNMPCredential, got {type(credential).__name__}")
        return cls(
            host=host, port=port, version=credential.version, community=credential.community or "",
            security_name=credential.security_name, auth_protocol=credential.auth_protocol,
            auth_key=credential.auth_key or "", priv_protocol=credential.priv_protocol,
            priv_key=credential.priv_key or "", context_name=credential.context_name,
            timeout=credential.timeout_ms / 1000, retries=credential.retries,
        )

    @property
    def security_level(self) -> str:
        if self.version != "v3":
            return "noAuthNoPriv"
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    def __str__(self) -> str:
        """For messages: address and version, with the v3 user; never a secret."""
        who = f"SNMPv3 user {self.security_name!r} ({self.security_level})" if self.version == "v3" else (
            f"SNMP{self.version}")
        return f"{self.host}:{self.port} {who}"


# --- the engine -----------------------------------------------------------------------------------------------

_GET = cmdgen.GetCommandGenerator()
_NEXT = cmdgen.NextCommandGeneratorSingleRun()
_BULK = cmdgen.BulkCommandGeneratorSingleRun()
_PROBE_USER = "wardflux-engine-id-probe"  # never configured on agents: only used to learn their engine ID


class _Engine:
    """The process's pysnmp engine plus the configuration rows we added to it, each added once."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.snmp = SnmpEngine()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._domains: set[tuple[int, ...]] = set()  # transports open on self.loop
        self._rows: set[str] = set()  # target parameter / address rows, by name
        self._communities: set[str] = set()
        self._users: dict[tuple[bytes, str], str] = {}  # (engine ID, user) -> fingerprint of its keys
        self._engine_ids: dict[tuple[str, int], bytes] = {}  # agent address -> its snmpEngineID

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve requests on `loop` (the sockets of an earlier loop are dropped)."""
        if self.loop is loop and self.snmp.transport_dispatcher is not None:
            return
        self.detach()
        self.snmp.register_transport_dispatcher(AsyncioDispatcher(loop=loop))
        self.loop = loop

    def detach(self) -> None:
        dispatcher = self.snmp.transport_dispatcher
        if dispatcher is not None:
            try:
                self.snmp.close_dispatcher()
            except RuntimeError:  # the loop it was bound to is closed already: nothing left to release
                self.snmp.unregister_transport_dispatcher()
        self.loop = None
        self._domains.clear()

    def address_row(self, target: Target, address: tuple[str, int], family: int, engine_id: bytes | None) -> str:
        """The name of the target address row (address, timeout, retries, credentials) to send requests by."""
        domain = udp6.DOMAIN_NAME if family == socket.AF_INET6 else udp.DOMAIN_NAME
        if domain not in self._domains:
            transport = (udp6.Udp6AsyncioTransport if family == socket.AF_INET6 else udp.UdpAsyncioTransport)(
                loop=self.loop)
            config.add_transport(self.snmp, domain, transport.open_client_mode())
            self._domains.add(domain)
        params = self._params_row(target, engine_id)
        name = _row_name("a", params, domain, address, target.timeout, target.retries)
        if name not in self._rows:
            config.add_target_address(self.snmp, name, domain, address, params,
                                      timeout=target.timeout * 100, retryCount=target.retries)  # 1/100 s
            self._rows.add(name)
        return name

    def _params_row(self, target: Target, engine_id: bytes | None) -> str:
        if target.version == "v3":
            security_name, model = target.security_name, 3
            self._configure_user(target, engine_id)
        else:
            security_name, model = _row_name("c", target.community), 0 if target.version == "v1" else 1
            if security_name not in self._communities:
                config.add_v1_system(self.snmp, security_name, target.community)
                self._communities.add(security_name)
        name = _row_name("p", security_name, target.security_level, model)
        if name not in self._rows:
            config.add_target_parameters(self.snmp, name, security_name, target.security_level, model)
            self._rows.add(name)
        return name

    def _configure_user(self, target: Target, engine_id: bytes | None) -> None:
        """Add the v3 user for this agent's engine ID, with keys localized to it (again if the keys changed).

        One row per (engine ID, user) rather than pysnmp's default of cloning a template row per agent: devices
        that share a user name but not its keys can then be polled at the same time.
        """
        key = (engine_id or b"", target.security_name)
        fingerprint = _row_name("k", target.auth_protocol, target.auth_key, target.priv_protocol, target.priv_key)
        if self._users.get(key) == fingerprint:
            return
        config.add_v3_user(
            self.snmp, target.security_name,
            AUTH_PROTOCOLS.get(target.auth_protocol, config.USM_AUTH_NONE), target.auth_key or None,
            PRIV_PROTOCOLS.get(target.priv_protocol, config.USM_PRIV_NONE), target.priv_key or None,
            securityEngineId=engine_id,
        )
        self._users[key] = fingerprint

    def known_engine_id(self, address: tuple[str, int]) -> bytes | None:
        return self._engine_ids.get(address)

    def remember_engine_id(self, address: tuple[str, int], family: int) -> bytes | None:
        """The engine ID pysnmp learnt for `address` during its discovery exchange, if any."""
        domain = udp6.DOMAIN_NAME if family == socket.AF_INET6 else udp.DOMAIN_NAME
        engine_id, _, _ = self.snmp.message_processing_subsystems[3].get_peer_engine_info(domain, address)
        if engine_id:
            self._engine_ids[address] = bytes(engine_id)
        return self._engine_ids.get(address)

    def forget_engine_id(self, address: tuple[str, int]) -> None:
        self._engine_ids.pop(address, None)


def _row_name(prefix: str, *parts: object) -> str:
    """A short stable row name; hashing keeps secrets (communities, keys) out of the engine's tables' names."""
    return prefix + hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """The process's engine, attached to the running loop (a forked child gets a fresh one)."""
    global _ENGINE
    if _ENGINE is None or _ENGINE.pid != os.getpid():
        _ENGINE = _Engine()
    _ENGINE.attach(asyncio.get_running_loop())
    return _ENGINE


def close() -> None:
    """Release the engine's sockets (call before the event loop ends; the sync wrappers do). Keys stay cached."""
    if _ENGINE is not None and _ENGINE.pid == os.getpid():
        _ENGINE.detach()


# --- one request ----------------------------------------------------------------------------------------------

@dataclass
class _Response:
    error_status: int
    error_index: int
    var_binds: list  # [(ObjectName, value), ...]


async def _resolve(target: Target) -> tuple[tuple[str, int], int]:
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise SNMPError(f"{target}: cannot resolve {target.host!r} ({exc.strerror}): check the device's address")
        family, _, _, _, sockaddr = min(infos, key=lambda info: info[0] != socket.AF_INET)  # IPv4 first
        return (sockaddr[0], target.port), family
    return (str(ip), target.port), socket.AF_INET6 if ip.version == 6 else socket.AF_INET


async def _request(target: Target, send: Callable[..., object], *args) -> _Response:
    """Send one PDU through a pysnmp command generator's send_varbinds and wait for the answer."""
    engine = _engine()
    address, family = await _resolve(target)
    engine_id = None
    if target.version == "v3":
        engine_id = engine.known_engine_id(address) or await _discover_engine_id(engine, target, address, family)
    try:
        return await _send(engine, target, address, family, engine_id, send, *args)
    except SNMPTimeout:
        if target.priv_protocol and await _agent_answers(engine, target, address, family):
            raise SNMPAuthError(f"{target}: the agent answers SNMP but not our encrypted requests: check the privacy "
                                f"key and the privacy protocol ({target.priv_protocol}); agents such as net-snmp drop "
                                f"what they cannot decrypt instead of reporting usmStatsDecryptionErrors") from None
        raise
    except _UnknownSecurityName:
        # The agent's engine ID changed (replaced or reconfigured device): learn the new one, try once more.
        engine.forget_engine_id(address)
        engine_id = await _discover_engine_id(engine, target, address, family)
        try:
            return await _send(engine, target, address, family, engine_id, send, *args)
        except _UnknownSecurityName:
            raise SNMPProtocolError(f"{target}: the agent's SNMP engine ID keeps changing") from None


class _UnknownSecurityName(Exception):
    """pysnmp has no user row for the engine ID the agent now reports."""


async def _send(engine: _Engine, target: Target, address, family, engine_id, send, *args) -> _Response:
    row = engine.address_row(target, address, family, engine_id)
    future = engine.loop.create_future()

    def on_response(_engine, _handle, error_indication, error_status, error_index, var_binds, _ctx):
        if not future.done() and not future.get_loop().is_closed():
            future.set_result((error_indication, error_status, error_index, var_binds))

    try:
        send(engine.snmp, row, None, target.context_name.encode(), *args, on_response)
    except StatusInformation as exc:
        future.set_result((exc.get("errorIndication"), 0, 0, ()))
    except PySnmpError as exc:
        raise SNMPError(f"{target}: {exc}") from None
    error_indication, error_status, error_index, var_binds = await future
    if error_indication:
        if isinstance(error_indication, errind.UnknownSecurityName) and target.version == "v3":
            raise _UnknownSecurityName()
        raise _error_for(target, error_indication)
    return _Response(int(error_status), int(error_index), list(var_binds))


async def _discover_engine_id(engine: _Engine, target: Target, address, family) -> bytes:
    """The agent's snmpEngineID, learnt by the RFC 3414 discovery exchange that precedes a probe."""
    if not await _probe(engine, target, address, family, target.retries):
        raise SNMPTimeout(_timeout_message(target))
    engine_id = engine.remember_engine_id(address, family)
    if not engine_id:
        raise SNMPProtocolError(f"{target}: the agent did not reveal its SNMP engine ID (RFC 3414 discovery)")
    return engine_id


async def _agent_answers(engine: _Engine, target: Target, address, family) -> bool:
    """Whether the agent answers an unencrypted request right now (to tell a bad privacy key from a dead agent)."""
    return await _probe(engine, target, address, family, retries=0)


async def _probe(engine: _Engine, target: Target, address, family, retries: int) -> bool:
    """Ask as a v3 user no agent has: whether the agent answered at all (usmStatsUnknownUserNames is an answer).

    If the agent's engine ID is not known yet, pysnmp first runs RFC 3414 discovery and keeps what it learns.
    """
    probe = Target(host=address[0], port=address[1], version="v3", security_name=_PROBE_USER,
                   timeout=target.timeout, retries=retries)
    try:
        await _send(engine, probe, address, family, None, _GET.send_varbinds, [_varbind((1, 3, 6, 1, 2, 1, 1, 3, 0))])
    except SNMPTimeout:
        return False
    except SNMPError:
        pass
    return True


def _varbind(arcs: tuple[int, ...]):
    return rfc1902.ObjectName(arcs), rfc1902.Null("")


def _timeout_message(target: Target) -> str:
    tries = f"{target.retries + 1} tries of {target.timeout:g} s"
    if target.version == "v3":
        return (f"{target}: no answer after {tries}: check that the device is reachable, SNMP is enabled on UDP "
                f"{target.port} and this manager is allowed (ACL)")
    return (f"{target}: no answer after {tries}: check the community (a wrong community looks exactly like a "
            f"timeout for v1/v2c), that the device is reachable, SNMP is enabled on UDP {target.port} and this "
            f"manager is allowed (ACL)")


_AUTH_MESSAGES = {
    errind.UnknownUserName: "the agent has no user {user} (usmStatsUnknownUserNames): check the security name",
    errind.WrongDigest: "wrong authentication key or protocol for user {user} (usmStatsWrongDigests): "
                        "check the auth key and the auth protocol ({auth})",
    errind.DecryptionError: "the agent could not decrypt our request for user {user} (usmStatsDecryptionErrors): "
                            "check the privacy key and the privacy protocol ({priv})",
    errind.UnsupportedSecurityLevel: "user {user} does not support {level} on this agent "
                                     "(usmStatsUnsupportedSecLevels): check which auth/privacy protocols it has",
    errind.AuthenticationFailure: "the agent's answer failed authentication for user {user}: "
                                  "check the auth key and the auth protocol ({auth})",
}


def _error_for(target: Target, indication) -> SNMPError:
    if isinstance(indication, errind.RequestTimedOut):
        return SNMPTimeout(_timeout_message(target))
    for kind, template in _AUTH_MESSAGES.items():
        if isinstance(indication, kind):
            detail = template.format(user=repr(target.security_name), auth=target.auth_protocol or "none",
                                     priv=target.priv_protocol or "none", level=target.security_level)
            return SNMPAuthError(f"{target}: {detail}")
    if isinstance(indication, errind.UnknownEngineID):
        return SNMPProtocolError(f"{target}: the agent keeps reporting an unknown engine ID (usmStatsUnknownEngineIDs):"
                                 f" its engine ID changed or is shared with another device; it is re-learnt within "
                                 f"5 minutes, check that engine IDs are unique")
    if isinstance(indication, errind.NotInTimeWindow):
        return SNMPAuthError(f"{target}: our requests stay outside the agent's time window (usmStatsNotInTimeWindows)"
                             f": check that the agent's engine boots/time is sane and its engine ID is unique")
    return SNMPProtocolError(f"{target}: {indication}")


_STATUS_HINTS = {
    "authorizationError": ": check the agent's access rules (VACM view, group, security level) for this user",
    "noAccess": ": check the agent's access rules (view) for this community or user",
    "tooBig": ": the answer to a single OID does not fit the agent's maximum message size",
}


def _status_error(target: Target, response: _Response, oids: Sequence[tuple[int, ...]]) -> SNMPProtocolError:
    status = _ERROR_STATUS.get(response.error_status, str(response.error_status))
    where = ""
    if 0 < response.error_index <= len(oids):
        where = f" for {_oid_str(oids[response.error_index - 1])}"
    return SNMPProtocolError(f"{target}: the agent answered {status}{where}{_STATUS_HINTS.get(status, '')}")


# --- GET ------------------------------------------------------------------------------------------------------

async def get(target: Target, oids: Sequence[str]) -> dict[str, Value]:
    """GET `oids` (several per PDU); the result is keyed by the OID strings as given.

    OIDs the agent does not have come back as `Value.missing` markers. Raises ValueError for a malformed OID
    (before any I/O) and SNMPError subclasses for timeouts, refused credentials and error answers.
    """
    parsed = _parse_oids(oids)
    values: dict[tuple[int, ...], Value] = {}
    unique = list(dict.fromkeys(parsed.values()))
    for start in range(0, len(unique), MAX_VARBINDS_PER_PDU):
        await _get_into(target, unique[start:start + MAX_VARBINDS_PER_PDU], values)
    return {oid: values[arcs] for oid, arcs in parsed.items()}


async def _get_into(target: Target, oids: list[tuple[int, ...]], values: dict[tuple[int, ...], Value]) -> None:
    response = await _request(target, _GET.send_varbinds, [_varbind(arcs) for arcs in oids])
    if response.error_status == _TOO_BIG and len(oids) > 1:
        middle = len(oids) // 2
        await _get_into(target, oids[:middle], values)
        await _get_into(target, oids[middle:], values)
        return
    if response.error_status == _NO_SUCH_NAME and 0 < response.error_index <= len(oids):
        # SNMPv1 fails the whole PDU for one missing OID: mark it and ask again for the others.
        missing = oids[response.error_index - 1]
        values[missing] = Value(SNMPType.NO_SUCH_OBJECT, None)
        rest = [arcs for arcs in oids if arcs != missing]
        if rest:
            await _get_into(target, rest, values)
        return
    if response.error_status:
        raise _status_error(target, response, oids)
    if len(response.var_binds) != len(oids):
        raise SNMPProtocolError(f"{target}: asked for {len(oids)} OIDs, the agent answered {len(response.var_binds)}")
    for arcs, (name, asn1) in zip(oids, response.var_binds):
        if tuple(name) != arcs:
            raise SNMPProtocolError(f"{target}: asked for {_oid_str(arcs)}, the agent answered {_oid_str(tuple(name))}")
        values[arcs] = _to_value(asn1)


# --- walk -----------------------------------------------------------------------------------------------------

async def walk(target: Target, oid: str, *, max_repetitions: int = 25) -> list[tuple[str, Value]]:
    """All (OID, value) pairs under `oid`, in order: GETBULK for v2c/v3, GETNEXT for v1.

    Like snmpbulkwalk, an OID with nothing under it is tried as a scalar with GET. Raises SNMPProtocolError
    if the agent returns OIDs that do not increase (it would loop forever).
    """
    root = parse_oid(oid)
    if max_repetitions < 1:
        raise ValueError("max_repetitions must be at least 1")
    rows: list[tuple[str, Value]] = []
    last = root
    while True:
        batch, max_repetitions = await _next_batch(target, last, max_repetitions)
        if not batch:
            break
        ended = False
        for name, asn1 in batch:
            arcs = tuple(name)
            if asn1.tagSet in _WALK_ENDS or arcs[:len(root)] != root:
                ended = True
                break
            if arcs <= last:
                raise SNMPProtocolError(f"{target}: walk of {_oid_str(root)} does not advance: the agent answered "
                                        f"{_oid_str(arcs)} after {_oid_str(last)}")
            rows.append((_oid_str(arcs), _to_value(asn1)))
            last = arcs
        if ended:
            break
    if not rows:
        scalar = (await get(target, [_oid_str(root)]))[_oid_str(root)]
        if not scalar.missing:
            rows.append((_oid_str(root), scalar))
    return rows


async def _next_batch(target: Target, after: tuple[int, ...], max_repetitions: int) -> tuple[list, int]:
    """The var-binds following `after` (empty at the end of the MIB), and the max-repetitions to go on with."""
    while True:
        if target.version == "v1":
            response = await _request(target, _NEXT.send_varbinds, [_varbind(after)])
        else:
            response = await _request(target, _BULK.send_varbinds, 0, max_repetitions, [_varbind(after)])
        if response.error_status == _TOO_BIG and max_repetitions > 1:
            max_repetitions = max(1, max_repetitions // 2)
            continue
        if response.error_status == _NO_SUCH_NAME:  # SNMPv1's end of the MIB view
            return [], max_repetitions
        if response.error_status:
            raise _status_error(target, response, [after])
        return response.var_binds, max_repetitions


# --- many targets ---------------------------------------------------------------------------------------------

async def gather_limited(calls: Iterable[Callable[[], Awaitable[T]]], limit: int = DEFAULT_CONCURRENCY
                         ) -> list[T | SNMPError]:
    """Run the calls with at most `limit` in flight; results in order, an SNMPError in place of a failed call."""
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T | SNMPError:
        async with semaphore:
            try:
                return await call()
            except SNMPError as exc:
                return exc

    return await asyncio.gather(*(one(call) for call in calls))


async def poll_many(requests: Iterable[tuple[Target, Sequence[str]]], *, limit: int = DEFAULT_CONCURRENCY
                    ) -> list[dict[str, Value] | SNMPError]:
    """GET each (target, oids) pair, at most `limit` at once; one result per pair, in order.

    A failing device yields its SNMPError in its place and does not disturb the others; a malformed OID raises
    ValueError before anything is sent.
    """
    requests = list(requests)
    for _, oids in requests:
        _parse_oids(oids)
    return await gather_limited([functools.partial(get, target, oids) for target, oids in requests], limit)


# --- sync wrappers (commands, admin actions, tests) ----------------------------------------------------------

def run(awaitable: Awaitable[T]) -> T:
    """asyncio.run(awaitable), then release the engine's socket: the way for sync code (tasks, commands) to run
    its own batch of client calls on one loop."""

    async def run_then_close() -> T:
        try:
            return await awaitable
        finally:
            close()

    return asyncio.run(run_then_close())


def get_sync(target: Target, oids: Sequence[str]) -> dict[str, Value]:
    """`get` for code without an event loop."""
    return run(get(target, oids))


def walk_sync(target: Target, oid: str, *, max_repetitions: int = 25) -> list[tuple[str, Value]]:
    """`walk` for code without an event loop."""
    return run(walk(target, oid, max_repetitions=max_repetitions))


def poll_many_sync(requests: Iterable[tuple[Target, Sequence[str]]], *, limit: int = DEFAULT_CONCURRENCY
                   ) -> list[dict[str, Value] | SNMPError]:
    """`poll_many` for code without an event loop."""
    return run(poll_many(requests, limit=limit))
