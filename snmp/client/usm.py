"""SNMPv3 (USM) through one pysnmp engine per thread (each thread runs its own event loop: the SNMP worker polls
a batch per thread).

Its localized keys and the agents' discovered engine IDs survive between event loops; `detach_engine()`
releases its sockets when a loop ends.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
from collections.abc import Callable

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.error import StatusInformation

from snmp import ber
from snmp.choices import AuthProtocol, PrivProtocol
from snmp.client.errors import SNMPAuthError, SNMPError, SNMPProtocolError, SNMPTimeout, timeout_message, usm_error
from snmp.client.target import Agent, Target
from snmp.values import SNMPType, Value

# pysnmp's names for the protocols of snmp.choices (a test checks that every choice has one).
AUTH_KEYS = {
    AuthProtocol.MD5: config.USM_AUTH_HMAC96_MD5,
    AuthProtocol.SHA: config.USM_AUTH_HMAC96_SHA,
    AuthProtocol.SHA224: config.USM_AUTH_HMAC128_SHA224,
    AuthProtocol.SHA256: config.USM_AUTH_HMAC192_SHA256,
    AuthProtocol.SHA384: config.USM_AUTH_HMAC256_SHA384,
    AuthProtocol.SHA512: config.USM_AUTH_HMAC384_SHA512,
}
PRIV_KEYS = {
    PrivProtocol.DES: config.USM_PRIV_CBC56_DES,
    PrivProtocol.AES: config.USM_PRIV_CFB128_AES,
    PrivProtocol.AES192: config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    PrivProtocol.AES256: config.USM_PRIV_CFB256_AES_BLUMENTHAL,
    PrivProtocol.AES192C: config.USM_PRIV_CFB192_AES,
    PrivProtocol.AES256C: config.USM_PRIV_CFB256_AES,
}
_PROBE_USER = "wardflux-engine-id-probe"  # never configured on agents: only used to learn their engine ID


# --- values ---------------------------------------------------------------------------------------------------

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


def _to_value(asn1) -> Value:
    """A pysnmp value as a Value."""
    tag = asn1.tagSet
    if tag in _NUMERIC:
        return Value(_NUMERIC[tag], int(asn1))
    if tag == rfc1902.OctetString.tagSet:
        return Value(SNMPType.OCTETS, asn1.asOctets())
    if tag == rfc1902.ObjectIdentifier.tagSet:
        return Value(SNMPType.OID, ".".join(map(str, asn1.asTuple())))
    if tag == rfc1902.IpAddress.tagSet:
        return Value(SNMPType.IPADDRESS, socket.inet_ntoa(asn1.asOctets()))
    if tag == rfc1902.Opaque.tagSet:
        return Value(SNMPType.OPAQUE, asn1.asOctets())
    if tag in _EMPTY:
        return Value(_EMPTY[tag], None)
    raise SNMPProtocolError(f"unexpected SNMP value type {asn1.__class__.__name__} ({tag})")


def _varbind(arcs: tuple[int, ...]) -> tuple[rfc1902.ObjectName, rfc1902.Null]:
    return rfc1902.ObjectName(arcs), rfc1902.Null("")


# --- the engine -----------------------------------------------------------------------------------------------

class Engine:
    """The process's pysnmp engine (SNMPv3 only) plus the configuration rows we added to it, each added once."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.snmp = SnmpEngine()
        self.commands = {ber.GET: cmdgen.GetCommandGenerator(), ber.GET_NEXT: cmdgen.NextCommandGeneratorSingleRun(),
                         ber.GET_BULK: cmdgen.BulkCommandGeneratorSingleRun()}
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
        """Release the sockets of the loop it serves."""
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
            AUTH_KEYS.get(target.auth_protocol, config.USM_AUTH_NONE), target.auth_key or None,
            PRIV_KEYS.get(target.priv_protocol, config.USM_PRIV_NONE), target.priv_key or None,
            securityEngineId=engine_id,
        )
        self._users[key] = fingerprint

    def known_engine_id(self, address: tuple[str, int]) -> bytes | None:
        """The engine ID learnt earlier for the agent at `address`, if any."""
        return self._engine_ids.get(address)

    def remember_engine_id(self, address: tuple[str, int], family: int) -> bytes | None:
        """The engine ID pysnmp learnt for `address` during its discovery exchange, if any."""
        domain = udp6.DOMAIN_NAME if family == socket.AF_INET6 else udp.DOMAIN_NAME
        engine_id, _, _ = self.snmp.message_processing_subsystems[3].get_peer_engine_info(domain, address)
        if engine_id:
            self._engine_ids[address] = bytes(engine_id)
        return self._engine_ids.get(address)

    def forget_engine_id(self, address: tuple[str, int]) -> None:
        """Drop what was learnt of the agent at `address` (it reported another engine ID)."""
        self._engine_ids.pop(address, None)


def _row_name(prefix: str, *parts: object) -> str:
    """A short stable row name; hashing keeps secrets (keys) out of the engine's tables' names."""
    return prefix + hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()


class _Engines(threading.local):
    def __init__(self) -> None:
        self.engine: Engine | None = None  # this thread's: each thread runs its own event loop


_ENGINES = _Engines()


def current_engine() -> Engine | None:
    """The calling thread's engine, if it has made one."""
    return _ENGINES.engine


def _engine() -> Engine:
    """The thread's engine, attached to the running loop (a forked child gets a fresh one)."""
    engine = _ENGINES.engine
    if engine is None or engine.pid != os.getpid():
        engine = _ENGINES.engine = Engine()
    engine.attach(asyncio.get_running_loop())
    return engine


def detach_engine() -> None:
    """Release this thread's engine's sockets (its keys stay cached)."""
    engine = _ENGINES.engine
    if engine is not None and engine.pid == os.getpid():
        engine.detach()


# --- requests -------------------------------------------------------------------------------------------------

class _UnknownSecurityName(Exception):
    """pysnmp has no user row for the engine ID the agent now reports."""


async def v3_request(agent: Agent, pdu_type: int, names: list[bytes], max_repetitions: int) -> ber.Body:
    """Send one PDU through pysnmp (learning the agent's engine ID first if need be) and wait for the answer."""
    target, address = agent.target, agent.address
    varbinds = [_varbind(ber.decode_oid(name)) for name in names]
    args = (0, max_repetitions, varbinds) if pdu_type == ber.GET_BULK else (varbinds,)
    engine = _engine()
    send = engine.commands[pdu_type].send_varbinds
    engine_id = engine.known_engine_id(address) or await _discover_engine_id(engine, agent)
    try:
        return await _send(engine, agent, engine_id, send, *args)
    except SNMPTimeout:
        if target.priv_protocol and await _probe(engine, agent, retries=0):
            raise SNMPAuthError(f"{target}: the agent answers SNMP but not our encrypted requests: check the privacy "
                                f"key and the privacy protocol ({target.priv_protocol}); agents such as net-snmp drop "
                                f"what they cannot decrypt instead of reporting usmStatsDecryptionErrors") from None
        raise
    except _UnknownSecurityName:
        # The agent's engine ID changed (replaced or reconfigured device): learn the new one, try once more.
        engine.forget_engine_id(address)
        engine_id = await _discover_engine_id(engine, agent)
        try:
            return await _send(engine, agent, engine_id, send, *args)
        except _UnknownSecurityName:
            raise SNMPProtocolError(f"{target}: the agent's SNMP engine ID keeps changing") from None


async def _send(engine: Engine, agent: Agent, engine_id: bytes | None, send: Callable, *args) -> ber.Body:
    """One request as `agent.target` through the engine; the answer, or the error pysnmp reported."""
    target = agent.target
    row = engine.address_row(target, agent.address, agent.family, engine_id)
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
        raise usm_error(target, error_indication)
    return ber.Body(int(error_status), int(error_index),
                    [(ber.encode_oid(tuple(name)), _to_value(value)) for name, value in var_binds])


async def _discover_engine_id(engine: Engine, agent: Agent) -> bytes:
    """The agent's snmpEngineID, learnt by the RFC 3414 discovery exchange that precedes a probe."""
    target = agent.target
    if not await _probe(engine, agent, target.retries):
        raise SNMPTimeout(timeout_message(target))
    engine_id = engine.remember_engine_id(agent.address, agent.family)
    if not engine_id:
        raise SNMPProtocolError(f"{target}: the agent did not reveal its SNMP engine ID (RFC 3414 discovery)")
    return engine_id


async def _probe(engine: Engine, agent: Agent, retries: int) -> bool:
    """Ask as a v3 user no agent has: whether the agent answered at all (usmStatsUnknownUserNames is an answer).

    If the agent's engine ID is not known yet, pysnmp first runs RFC 3414 discovery and keeps what it learns.
    With no retries, it tells a bad privacy key (the agent answers this) from a dead agent.
    """
    address = agent.address
    probe = Target(host=address[0], port=address[1], version="v3", security_name=_PROBE_USER,
                   timeout=agent.target.timeout, retries=retries)
    try:
        await _send(engine, Agent(probe, address, agent.family), None, engine.commands[ber.GET].send_varbinds,
                    [_varbind((1, 3, 6, 1, 2, 1, 1, 3, 0))])
    except SNMPTimeout:
        return False
    except SNMPError:
        pass
    return True
