"""The one SNMP client: asyncio GET and walk for SNMP v1, v2c and v3 (USM), with typed values.

Callers see only `Target`, `Value`, `SNMPError` and the functions `get`, `walk`, `poll_many` (and their
`*_sync` twins, or `run()` for a batch of calls); what is underneath stays inside this module (and snmp/ber.py),
so it can change without them noticing.

Two paths, one interface. SNMP v1 and v2c, the polling hot path, go through our own BER codec (snmp/ber.py)
and one UDP socket per event loop and address family, shared by every target: pysnmp's pyasn1 decoding cost
~80 µs per varbind, the codec ~1 µs. SNMPv3 goes through one pysnmp engine for the whole process: its localized
keys and discovered engine IDs survive between event loops. Sockets belong to a loop, and `close()` releases
them (the sync wrappers do so themselves).

Missing OIDs are not errors: `get` maps them to a `Value` whose `type` is `nosuchobject` or `nosuchinstance`
(`Value.missing` is true); SNMPv1 agents cannot tell the two apart and are reported as `nosuchobject`.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import os
import random
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.error import StatusInformation

from snmp import ber
from snmp.oids import parse_oid
from snmp.values import SNMPType, Value

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


# --- values (Value and SNMPType live in snmp/values.py, shared with the codec) --------------------------------

# pysnmp's value types, for SNMPv3 answers.
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
    rfc1905.EndOfMibView.tagSet: SNMPType.END_OF_MIB_VIEW,
}
# endOfMibView ends a walk; noSuch* have no business in a GETNEXT/GETBULK answer, but some agents send them last.
_WALK_ENDS = frozenset((SNMPType.END_OF_MIB_VIEW, SNMPType.NO_SUCH_OBJECT, SNMPType.NO_SUCH_INSTANCE))


def _to_value(asn1) -> Value:
    """A pysnmp value as a Value."""
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

# Inside this module an OID travels as its *name*, the BER encoding snmp/ber.py describes: what goes on the wire,
# and what equality and subtree tests work on directly.

def _parse_oids(oids: Sequence[str]) -> dict[str, bytes]:
    """Each OID string with its name; ValueError (from snmp.oids.parse_oid) for a malformed one."""
    if isinstance(oids, str):
        raise TypeError("pass a sequence of OIDs, not a single OID string")
    return {oid: ber.encode_oid(parse_oid(oid)) for oid in oids}


def _oid_str(arcs: tuple[int, ...]) -> str:
    return ".".join(map(str, arcs))


def _name_str(name: bytes) -> str:
    """A name as dotted text for a message, even a malformed one."""
    try:
        return ber.oid_text(name)
    except ber.BERError:
        return f"a malformed OID (0x{name.hex()})"


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


# --- SNMPv3: the pysnmp engine --------------------------------------------------------------------------------

_GET = cmdgen.GetCommandGenerator()
_NEXT = cmdgen.NextCommandGeneratorSingleRun()
_BULK = cmdgen.BulkCommandGeneratorSingleRun()
_COMMANDS = {ber.GET: _GET, ber.GET_NEXT: _NEXT, ber.GET_BULK: _BULK}
_PROBE_USER = "wardflux-engine-id-probe"  # never configured on agents: only used to learn their engine ID


class _Engine:
    """The process's pysnmp engine (SNMPv3 only) plus the configuration rows we added to it, each added once."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.snmp = SnmpEngine()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._domains: set[tuple[int, ...]] = set()  # transports open on self.loop
        self._rows: set[str] = set()  # target parameter / address rows, by name
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
        self._configure_user(target, engine_id)
        name = _row_name("p", target.security_name, target.security_level)
        if name not in self._rows:
            config.add_target_parameters(self.snmp, name, target.security_name, target.security_level, 3)
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
    """A short stable row name; hashing keeps secrets (keys) out of the engine's tables' names."""
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
    """Release this process's sockets (call before the event loop ends; the sync wrappers do). Keys stay cached."""
    if _ENGINE is not None and _ENGINE.pid == os.getpid():
        _ENGINE.detach()
    for endpoint in _ENDPOINTS.values():
        if endpoint.pid == os.getpid():  # a forked child leaves its parent's socket alone
            endpoint.close()
    _ENDPOINTS.clear()


# --- SNMP v1/v2c: one UDP socket per loop and address family ---------------------------------------------------

_READS_PER_WAKEUP = 64  # datagrams read per readiness callback, so a flood cannot hold the loop
# The answers to every request in flight may arrive at once (200 bulk answers ≈ 0.5 MB with kernel overhead):
# ask for room, or the kernel drops them and they are asked again after a timeout. Capped at net.core.rmem_max.
_RECEIVE_BUFFER = 4 * 1024 * 1024


class _Exchange:
    """One v1/v2c request in flight: its datagram, who may answer it, and the tries left."""

    __slots__ = ("address", "auth", "future", "message", "timeout", "timer", "tries_left")

    def __init__(self, future: asyncio.Future, message: bytes, address: tuple[str, int], auth: tuple[int, bytes],
                 timeout: float, tries: int) -> None:
        self.future = future
        self.message = message
        self.address = address
        self.auth = auth  # (version, community) the answer must carry
        self.timeout = timeout
        self.tries_left = tries
        self.timer: asyncio.TimerHandle | None = None


class _Datagrams:
    """A non-blocking UDP socket read by the event loop, shared by every v1/v2c request to one address family.

    Answers are matched to requests by request-id and accepted only from the address asked, with the version and
    community sent; anything else (a late answer to a finished request, a stray or forged datagram, one whose
    header does not even decode) is dropped, and the request it might have answered times out.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, family: int) -> None:
        self.loop = loop
        self.pid = os.getpid()
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        loop.add_reader(self.sock.fileno(), self._read)
        self._pending: dict[int, _Exchange] = {}
        self._last_id = random.randrange(1, 2**31 - 1)

    def close(self) -> None:
        if not self.loop.is_closed():  # a closed loop's selector is gone, and the registration with it
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()

    async def exchange(self, encode: Callable[[int], bytes], address: tuple[str, int], auth: tuple[int, bytes],
                       timeout: float, retries: int) -> tuple[bytes, ber.Header] | None:
        """Send `encode(request_id)` to `address` until its answer comes (None after `retries` + 1 timeouts).

        Retries resend the same message, so a late answer to an earlier try is as good as any.
        """
        request_id = self._new_request_id()
        exchange = _Exchange(self.loop.create_future(), encode(request_id), address, auth, timeout, retries + 1)
        self._pending[request_id] = exchange
        try:
            self._send(exchange)
            return await exchange.future
        finally:
            del self._pending[request_id]
            exchange.timer.cancel()

    def _new_request_id(self) -> int:
        request_id = self._last_id
        while request_id == self._last_id or request_id in self._pending:
            request_id = request_id % (2**31 - 1) + 1  # 1 … 2^31-1: a positive Integer32
        self._last_id = request_id
        return request_id

    def _send(self, exchange: _Exchange) -> None:
        exchange.tries_left -= 1
        exchange.timer = self.loop.call_later(exchange.timeout, self._expire, exchange)
        try:
            self.sock.sendto(exchange.message, exchange.address)
        except (BlockingIOError, InterruptedError):
            pass  # send buffer full: as if the datagram were lost on the way, the timer tries again
        except OSError as exc:  # no route, address not allowed…: no use trying again
            exchange.future.set_exception(exc)

    def _expire(self, exchange: _Exchange) -> None:
        if exchange.future.done():
            return
        if exchange.tries_left:
            self._send(exchange)
        else:
            exchange.future.set_result(None)

    def _read(self) -> None:
        for _ in range(_READS_PER_WAKEUP):
            try:
                data, address = self.sock.recvfrom(65535)
            except OSError:  # nothing more to read (or an error the socket reported: the request will time out)
                return
            try:
                header = ber.decode_header(data)
            except ber.BERError:
                continue
            exchange = self._pending.get(header.request_id)
            if (exchange is not None and not exchange.future.done() and address[:2] == exchange.address
                    and (header.version, header.community) == exchange.auth):
                exchange.future.set_result((data, header))


_ENDPOINTS: dict[int, _Datagrams] = {}  # address family -> the socket of the loop in use


def _endpoint(family: int) -> _Datagrams:
    """This process's socket for `family` on the running loop (one of an earlier loop is closed first)."""
    loop = asyncio.get_running_loop()
    endpoint = _ENDPOINTS.get(family)
    if endpoint is not None and endpoint.loop is loop and endpoint.pid == os.getpid():
        return endpoint
    if endpoint is not None and endpoint.pid == os.getpid():
        endpoint.close()
    endpoint = _ENDPOINTS[family] = _Datagrams(loop, family)
    return endpoint


# --- one request ----------------------------------------------------------------------------------------------

@dataclass
class _Response:
    error_status: int
    error_index: int
    var_binds: list[ber.Varbind]  # [(name, value), ...]


@dataclass(frozen=True)
class _Agent:
    """A target with its address resolved: what the requests of one get or walk go to."""

    target: Target
    address: tuple[str, int]
    family: int


async def _agent(target: Target) -> _Agent:
    """The target with its address resolved: an IP address as it is, a name through DNS (IPv4 first)."""
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise SNMPError(f"{target}: cannot resolve {target.host!r} ({exc.strerror}): check the device's address")
        family, _, _, _, sockaddr = min(infos, key=lambda info: info[0] != socket.AF_INET)  # IPv4 first
        return _Agent(target, (sockaddr[0], target.port), family)
    return _Agent(target, (str(ip), target.port), socket.AF_INET6 if ip.version == 6 else socket.AF_INET)


async def _request(agent: _Agent, pdu_type: int, names: list[bytes], max_repetitions: int = 0) -> _Response:
    """Send one GET, GETNEXT or GETBULK (ber.GET…) PDU for `names` and wait for the answer."""
    if agent.target.version == "v3":
        return await _v3_request(agent, pdu_type, names, max_repetitions)
    return await _community_request(agent, pdu_type, names, max_repetitions)


async def _community_request(agent: _Agent, pdu_type: int, names: list[bytes], max_repetitions: int) -> _Response:
    """Send one v1/v2c PDU, encoded by snmp.ber, through the loop's shared socket and wait for the answer."""
    target = agent.target
    auth = (ber.V1 if target.version == "v1" else ber.V2C, target.community.encode())
    encode = functools.partial(ber.encode_request, *auth, pdu_type, names=names, max_repetitions=max_repetitions)
    try:
        answer = await _endpoint(agent.family).exchange(encode, agent.address, auth, target.timeout, target.retries)
    except OSError as exc:  # no route, no IPv6 here, out of file descriptors…
        raise SNMPError(f"{target}: cannot send to {agent.address[0]} ({exc.strerror or exc})") from None
    if answer is None:
        raise SNMPTimeout(_timeout_message(target))
    try:
        return _Response(*ber.decode_body(*answer))
    except ber.BERError as exc:
        raise SNMPProtocolError(f"{target}: malformed answer: {exc}") from None


async def _v3_request(agent: _Agent, pdu_type: int, names: list[bytes], max_repetitions: int) -> _Response:
    """Send one PDU through pysnmp (learning the agent's engine ID first if need be) and wait for the answer."""
    target, address, family = agent.target, agent.address, agent.family
    varbinds = [_varbind(ber.decode_oid(name)) for name in names]
    args = (0, max_repetitions, varbinds) if pdu_type == ber.GET_BULK else (varbinds,)
    send = _COMMANDS[pdu_type].send_varbinds
    engine = _engine()
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
        if isinstance(error_indication, errind.UnknownSecurityName):
            raise _UnknownSecurityName()
        raise _error_for(target, error_indication)
    return _Response(int(error_status), int(error_index),
                     [(ber.encode_oid(tuple(name)), _to_value(value)) for name, value in var_binds])


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


def _status_error(target: Target, response: _Response, names: Sequence[bytes]) -> SNMPProtocolError:
    status = _ERROR_STATUS.get(response.error_status, str(response.error_status))
    where = ""
    if 0 < response.error_index <= len(names):
        where = f" for {_name_str(names[response.error_index - 1])}"
    return SNMPProtocolError(f"{target}: the agent answered {status}{where}{_STATUS_HINTS.get(status, '')}")


# --- GET ------------------------------------------------------------------------------------------------------

async def get(target: Target, oids: Sequence[str]) -> dict[str, Value]:
    """GET `oids` (several per PDU); the result is keyed by the OID strings as given.

    OIDs the agent does not have come back as `Value.missing` markers. Raises ValueError for a malformed OID
    (before any I/O) and SNMPError subclasses for timeouts, refused credentials and error answers.
    """
    parsed = _parse_oids(oids)
    agent = await _agent(target)
    values: dict[bytes, Value] = {}
    unique = list(dict.fromkeys(parsed.values()))
    for start in range(0, len(unique), MAX_VARBINDS_PER_PDU):
        await _get_into(agent, unique[start:start + MAX_VARBINDS_PER_PDU], values)
    return {oid: values[name] for oid, name in parsed.items()}


async def _get_into(agent: _Agent, names: list[bytes], values: dict[bytes, Value]) -> None:
    target = agent.target
    response = await _request(agent, ber.GET, names)
    if response.error_status == _TOO_BIG and len(names) > 1:
        middle = len(names) // 2
        await _get_into(agent, names[:middle], values)
        await _get_into(agent, names[middle:], values)
        return
    if response.error_status == _NO_SUCH_NAME and 0 < response.error_index <= len(names):
        # SNMPv1 fails the whole PDU for one missing OID: mark it and ask again for the others.
        missing = names[response.error_index - 1]
        values[missing] = Value(SNMPType.NO_SUCH_OBJECT, None)
        rest = [name for name in names if name != missing]
        if rest:
            await _get_into(agent, rest, values)
        return
    if response.error_status:
        raise _status_error(target, response, names)
    if len(response.var_binds) != len(names):
        raise SNMPProtocolError(f"{target}: asked for {len(names)} OIDs, the agent answered {len(response.var_binds)}")
    for name, (answered, value) in zip(names, response.var_binds):
        if answered != name:
            raise SNMPProtocolError(f"{target}: asked for {_name_str(name)}, the agent answered {_name_str(answered)}")
        if value.type is SNMPType.END_OF_MIB_VIEW:
            raise SNMPProtocolError(f"{target}: the agent answered endOfMibView to a GET of {_name_str(name)}")
        values[name] = value


# --- walk -----------------------------------------------------------------------------------------------------

async def walk(target: Target, oid: str, *, max_repetitions: int = 25) -> list[tuple[str, Value]]:
    """All (OID, value) pairs under `oid`, in order: GETBULK for v2c/v3, GETNEXT for v1.

    Like snmpbulkwalk, an OID with nothing under it is tried as a scalar with GET. Raises SNMPProtocolError
    if the agent returns OIDs that do not increase (it would loop forever).
    """
    root = parse_oid(oid)
    if max_repetitions < 1:
        raise ValueError("max_repetitions must be at least 1")
    agent = await _agent(target)
    prefix = ber.encode_oid(root)
    rows: list[tuple[str, Value]] = []
    after = prefix
    while True:
        batch, max_repetitions = await _next_batch(agent, after, max_repetitions)
        if _take_rows(target, root, prefix, after, batch, rows):
            break
        after = batch[-1][0]
    if not rows:
        scalar = (await get(target, [_oid_str(root)]))[_oid_str(root)]
        if not scalar.missing:
            rows.append((_oid_str(root), scalar))
    return rows


def _take_rows(target: Target, root: tuple[int, ...], prefix: bytes, after: bytes, batch: list[ber.Varbind],
               rows: list[tuple[str, Value]]) -> bool:
    """Append the rows of one answer to a walk of `root` (name `prefix`) that asked for what follows `after`;
    whether the walk is over: the MIB ended or the answer left the subtree.

    Names under the root start with its name, so only the arcs past it are decoded, to check they increase.
    """
    if not batch:
        return True
    base = _oid_str(root) + "."
    size = len(prefix)
    try:
        last = ber.decode_subidentifiers(after[size:])
        for name, value in batch:
            if value.type in _WALK_ENDS or not name.startswith(prefix):
                return True
            arcs = ber.decode_subidentifiers(name[size:])
            if arcs <= last:
                raise SNMPProtocolError(f"{target}: walk of {_oid_str(root)} does not advance: the agent answered "
                                        f"{_oid_str(root + arcs)} after {_oid_str(root + last)}")
            rows.append((base + ".".join(map(str, arcs)), value))
            last = arcs
    except ber.BERError as exc:
        raise SNMPProtocolError(f"{target}: malformed answer to a walk of {_oid_str(root)}: {exc}") from None
    return False


async def _next_batch(agent: _Agent, after: bytes, max_repetitions: int) -> tuple[list[ber.Varbind], int]:
    """The varbinds following `after` (empty at the end of the MIB), and the max-repetitions to go on with."""
    while True:
        if agent.target.version == "v1":
            response = await _request(agent, ber.GET_NEXT, [after])
        else:
            response = await _request(agent, ber.GET_BULK, [after], max_repetitions)
        if response.error_status == _TOO_BIG and max_repetitions > 1:
            max_repetitions = max(1, max_repetitions // 2)
            continue
        if response.error_status == _NO_SUCH_NAME:  # SNMPv1's end of the MIB view
            return [], max_repetitions
        if response.error_status:
            raise _status_error(agent.target, response, [after])
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
