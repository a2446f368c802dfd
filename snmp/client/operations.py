"""What callers ask of the client: GET and walk of one target, many calls at once, and the sync wrappers.

Inside the client an OID travels as its *name*, the BER encoding snmp/ber.py describes: what goes on the wire,
and what equality and subtree tests work on directly.
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from snmp import ber
from snmp.client import transport, usm
from snmp.client.errors import NO_SUCH_NAME, TOO_BIG, SNMPError, SNMPProtocolError, name_str, status_error
from snmp.client.target import Agent, Target, resolve
from snmp.oids import parse_oid
from snmp.values import SNMPType, Value

T = TypeVar("T")

MAX_VARBINDS_PER_PDU = 40  # GETs are split into PDUs of at most this many OIDs, and further on tooBig
DEFAULT_CONCURRENCY = 200
# endOfMibView ends a walk; noSuch* have no business in a GETNEXT/GETBULK answer, but some agents send them last.
_WALK_ENDS = frozenset((SNMPType.END_OF_MIB_VIEW, SNMPType.NO_SUCH_OBJECT, SNMPType.NO_SUCH_INSTANCE))


def _parse_oids(oids: Sequence[str]) -> dict[str, bytes]:
    """Each OID string with its name; ValueError (from snmp.oids.parse_oid) for a malformed one."""
    if isinstance(oids, str):
        raise TypeError("pass a sequence of OIDs, not a single OID string")
    return {oid: _name(oid) for oid in oids}


@functools.lru_cache(maxsize=16384)  # polls ask for the same OIDs again and again (ifIndex numbers repeat)
def _name(oid: str) -> bytes:
    return ber.encode_oid(parse_oid(oid))


def _oid_str(arcs: tuple[int, ...]) -> str:
    return ".".join(map(str, arcs))


async def _request(agent: Agent, pdu_type: int, names: list[bytes], max_repetitions: int = 0) -> ber.Body:
    """Send one GET, GETNEXT or GETBULK (ber.GET…) PDU for `names` and wait for the answer."""
    if agent.target.version == "v3":
        return await usm.v3_request(agent, pdu_type, names, max_repetitions)
    return await transport.community_request(agent, pdu_type, names, max_repetitions)


# --- GET ------------------------------------------------------------------------------------------------------

async def get(target: Target, oids: Sequence[str]) -> dict[str, Value]:
    """GET `oids` (several per PDU); the result is keyed by the OID strings as given.

    OIDs the agent does not have come back as `Value.missing` markers. Raises ValueError for a malformed OID
    (before any I/O) and SNMPError subclasses for timeouts, refused credentials and error answers.
    """
    parsed = _parse_oids(oids)
    agent = await resolve(target)
    values: dict[bytes, Value] = {}
    unique = list(dict.fromkeys(parsed.values()))
    for start in range(0, len(unique), MAX_VARBINDS_PER_PDU):
        await _get_into(agent, unique[start:start + MAX_VARBINDS_PER_PDU], values)
    return {oid: values[name] for oid, name in parsed.items()}


async def _get_into(agent: Agent, names: list[bytes], values: dict[bytes, Value]) -> None:
    """GET `names` in one PDU into `values`: halved on tooBig, asked again without the OID an SNMPv1 agent lacks."""
    target = agent.target
    response = await _request(agent, ber.GET, names)
    if response.error_status == TOO_BIG and len(names) > 1:
        middle = len(names) // 2
        await _get_into(agent, names[:middle], values)
        await _get_into(agent, names[middle:], values)
        return
    if response.error_status == NO_SUCH_NAME and 0 < response.error_index <= len(names):
        # SNMPv1 fails the whole PDU for one missing OID: mark it and ask again for the others.
        missing = names[response.error_index - 1]
        values[missing] = Value(SNMPType.NO_SUCH_OBJECT, None)
        rest = [name for name in names if name != missing]
        if rest:
            await _get_into(agent, rest, values)
        return
    if response.error_status:
        raise status_error(target, response, names)
    if len(response.var_binds) != len(names):
        raise SNMPProtocolError(f"{target}: asked for {len(names)} OIDs, the agent answered {len(response.var_binds)}")
    for name, (answered, value) in zip(names, response.var_binds):
        if answered != name:
            raise SNMPProtocolError(f"{target}: asked for {name_str(name)}, the agent answered {name_str(answered)}")
        if value.type is SNMPType.END_OF_MIB_VIEW:
            raise SNMPProtocolError(f"{target}: the agent answered endOfMibView to a GET of {name_str(name)}")
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
    agent = await resolve(target)
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


async def _next_batch(agent: Agent, after: bytes, max_repetitions: int) -> tuple[list[ber.Varbind], int]:
    """The varbinds following `after` (empty at the end of the MIB), and the max-repetitions to go on with."""
    while True:
        if agent.target.version == "v1":
            response = await _request(agent, ber.GET_NEXT, [after])
        else:
            response = await _request(agent, ber.GET_BULK, [after], max_repetitions)
        if response.error_status == TOO_BIG and max_repetitions > 1:
            max_repetitions = max(1, max_repetitions // 2)
            continue
        if response.error_status == NO_SUCH_NAME:  # SNMPv1's end of the MIB view
            return [], max_repetitions
        if response.error_status:
            raise status_error(agent.target, response, [after])
        return response.var_binds, max_repetitions


# --- many calls, and code without an event loop ---------------------------------------------------------------

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


def close() -> None:
    """Release this process's sockets (call before the event loop ends; the sync wrappers do). Keys stay cached."""
    usm.detach_engine()
    transport.close_endpoints()


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
