"""SNMP v1/v2c on the wire: one UDP socket per thread's event loop and address family, shared by every target.

The PDUs are encoded and decoded by snmp/ber.py (pysnmp's pyasn1 decoding cost ~80 µs per varbind, the codec
~1 µs). Sockets belong to a loop, and each thread runs its own loop (the SNMP worker polls a batch per thread);
`close_endpoints()` releases the calling thread's.
"""
from __future__ import annotations

import asyncio
import functools
import os
import random
import socket
import threading
from collections.abc import Callable

from snmp import ber
from snmp.client.errors import SNMPError, SNMPProtocolError, SNMPTimeout, timeout_message
from snmp.client.target import Agent

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


class Datagrams:
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
        """Stop reading and close the socket."""
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


class _Endpoints(threading.local):
    def __init__(self) -> None:
        self.by_family: dict[int, Datagrams] = {}  # address family -> the socket of this thread's loop


_ENDPOINTS = _Endpoints()


def endpoints() -> dict[int, Datagrams]:
    """The calling thread's sockets, by address family."""
    return _ENDPOINTS.by_family


def _endpoint(family: int) -> Datagrams:
    """This thread's socket for `family` on the running loop (one of an earlier loop is closed first)."""
    loop, mine = asyncio.get_running_loop(), endpoints()
    endpoint = mine.get(family)
    if endpoint is not None and endpoint.loop is loop and endpoint.pid == os.getpid():
        return endpoint
    if endpoint is not None and endpoint.pid == os.getpid():
        endpoint.close()
    endpoint = mine[family] = Datagrams(loop, family)
    return endpoint


def close_endpoints() -> None:
    """Close this thread's sockets (a forked child leaves its parent's alone)."""
    mine = endpoints()
    for endpoint in mine.values():
        if endpoint.pid == os.getpid():
            endpoint.close()
    mine.clear()


async def community_request(agent: Agent, pdu_type: int, names: list[bytes], max_repetitions: int) -> ber.Body:
    """Send one v1/v2c PDU, encoded by snmp.ber, through the loop's shared socket and wait for the answer."""
    target = agent.target
    auth = (ber.V1 if target.version == "v1" else ber.V2C, target.community.encode())
    encode = functools.partial(ber.encode_request, *auth, pdu_type, names=names, max_repetitions=max_repetitions)
    try:
        answer = await _endpoint(agent.family).exchange(encode, agent.address, auth, target.timeout, target.retries)
    except OSError as exc:  # no route, no IPv6 here, out of file descriptors…
        raise SNMPError(f"{target}: cannot send to {agent.address[0]} ({exc.strerror or exc})") from None
    if answer is None:
        raise SNMPTimeout(timeout_message(target))
    try:
        return ber.decode_body(*answer)
    except ber.BERError as exc:
        raise SNMPProtocolError(f"{target}: malformed answer: {exc}") from None
