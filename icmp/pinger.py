"""ICMP echo engine: ping thousands of hosts at once from one socket per address family.

icmplib's multiping opens a raw socket per host, and the kernel copies every ICMP packet to
every raw socket: at ~4,000 hosts in flight those copies overflowed the socket buffers and
15-50 % of live hosts were reported dead. Here one icmplib socket per address family carries
every probe of a sweep; replies are matched by (source address, identifier, sequence), sending
is paced, and replies are drained from the event loop while sending goes on.

Linux only (socket options below, datagram ICMP sockets). No Django imports.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import random
import socket
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from icmplib import ICMPv4Socket, ICMPv6Socket
from icmplib.exceptions import ICMPSocketError, SocketPermissionError

from icmp import raw_filters

__all__ = ["DEFAULT_RATE", "PingResult", "PingerError", "ping_many", "sweep"]

DEFAULT_RATE = 5000
"""Packets per second of one sweep: ~3 Mbit/s of 84-byte packets, 5x fping -i1."""

# Linux (asm-generic) option numbers that Python's socket module does not export.
_SO_SNDBUFFORCE, _SO_RCVBUFFORCE, _SO_TIMESTAMPNS = 32, 33, 35
_ECHO_REPLY = {socket.AF_INET: 0, socket.AF_INET6: 129}
_ECHO_REQUEST = {socket.AF_INET: 8, socket.AF_INET6: 128}
_WILDCARD = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}

_BUFFER_BYTES = 8 << 20  # a whole large sweep's replies fit even if the loop stalls
_RECV_BYTES = 128  # IPv4 header with options (60) + ICMP header (8): all we parse
_CMSG_BYTES = socket.CMSG_SPACE(16)  # one struct timespec
_PAYLOAD = b"WARD FLUX icmp probe".ljust(56, b".")  # fixed: icmplib would draw 56 random bytes per packet
_PAYLOAD_SUM = sum(struct.unpack(f"!{len(_PAYLOAD) // 2}H", _PAYLOAD))  # its part of every checksum, once
_DRAIN_BATCH = 512  # replies read per readable event, so sending is never starved either
_YIELD_EVERY = 64  # sends between forced loop turns, in case sending cannot even keep up with `rate`
_RETRYABLE = frozenset({errno.EAGAIN, errno.ENOBUFS})  # send buffer or qdisc full: wait, not the host's fault
# Probes to silent on-link hosts sit in ARP/ND queues, still charged to our send buffer, until
# resolution fails (~3 s: 3 probes 1 s apart). A buffer full for much longer is something else.
_STALL_LIMIT = 10.0


class PingerError(Exception):
    """The sweep cannot run at all (e.g. no permission to open any kind of ICMP socket)."""


@dataclass(frozen=True)
class PingResult:
    """What one address did during one sweep."""

    address: str
    sent: int
    received: int
    rtts_ms: tuple[float, ...]
    error: str | None = None

    @property
    def is_alive(self) -> bool:
        return self.received > 0

    @property
    def loss_percent(self) -> float:
        return 100.0 if self.sent == 0 else 100.0 * (self.sent - self.received) / self.sent

    @property
    def min_ms(self) -> float | None:
        return min(self.rtts_ms, default=None)

    @property
    def avg_ms(self) -> float | None:
        return fmean(self.rtts_ms) if self.rtts_ms else None

    @property
    def max_ms(self) -> float | None:
        return max(self.rtts_ms, default=None)

    @property
    def jitter_ms(self) -> float | None:
        """Mean absolute difference of consecutive RTTs (RFC 3550 idea, unsmoothed)."""
        if len(self.rtts_ms) < 2:
            return 0.0 if self.rtts_ms else None
        return fmean(abs(b - a) for a, b in zip(self.rtts_ms, self.rtts_ms[1:]))


@dataclass(eq=False)
class _Host:
    """One distinct IP of a sweep, shared by every input string that resolves to it."""

    ip: str
    family: socket.AddressFamily
    count: int
    sent: int = 0
    error: str | None = None
    sent_at: list[float | None] = field(init=False)  # wall clock, comparable with kernel receive stamps
    rtts: list[float | None] = field(init=False)  # ms, indexed by sequence number

    def __post_init__(self) -> None:
        self.sent_at = [None] * self.count
        self.rtts = [None] * self.count

    def result(self, address: str) -> PingResult:
        rtts = tuple(r for r in self.rtts if r is not None)
        return PingResult(address, self.sent, len(rtts), rtts, self.error)


class _Channel:
    """One ICMP socket of one address family; reports the echo replies addressed to this sweep."""

    def __init__(self, family: socket.AddressFamily, privileged: bool | None, ident: int,
                 on_reply: Callable[[str, int, float], None]) -> None:
        self.icmp = _open_icmp_socket(family, privileged)
        raw = self.icmp.is_privileged
        # Datagram sockets: the kernel replaces the identifier by the socket's port and only
        # delivers replies carrying it. Raw sockets see all ICMP on the host: we filter ourselves.
        self.ident = ident if raw else self.icmp.sock.getsockname()[1]
        self.has_ip_header = raw and family == socket.AF_INET
        self.echo_reply = _ECHO_REPLY[family]
        self.echo_request = _ECHO_REQUEST[family]
        self.on_reply = on_reply
        _tune(self.icmp.sock, family, self.ident if raw else None)

    def send(self, ip: str, seq: int) -> float:
        """Send one echo request; returns its wall-clock send time. Raises ICMPSocketError (the OSError as its
        context).

        Built and sent here: icmplib's send() costs two setsockopt calls and a getaddrinfo per packet, which was a
        fifth of a ping batch's CPU. The kernel fills in the checksum of ICMPv6 and of datagram ICMP sockets; a raw
        IPv4 socket sends ours.
        """
        packet = _echo_request(self.echo_request, self.ident, seq)
        try:
            sent_at = time.time()
            self.icmp.sock.sendto(packet, (ip, 0))
        except OSError as exc:
            raise ICMPSocketError(str(exc)) from exc
        return sent_at

    def drain(self, limit: int = _DRAIN_BATCH) -> None:
        """Read up to `limit` queued packets without blocking.

        We recvmsg the fd ourselves instead of icmplib's receive(): that toggles the socket's
        blocking mode on every call, drops every packet when called with timeout 0, and gives
        neither the source of async replies nor kernel receive timestamps.
        """
        sock = self.icmp.sock
        for _ in range(limit):
            try:
                data, ancdata, _flags, source = sock.recvmsg(_RECV_BYTES, _CMSG_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            seq = self._our_reply_seq(data)
            if seq is not None:
                self.on_reply(source[0], seq, _receive_time(ancdata))

    def _our_reply_seq(self, data: bytes) -> int | None:
        """Sequence number of an echo reply carrying our identifier, else None."""
        offset = (data[0] & 0x0F) * 4 if self.has_ip_header and data else 0
        if len(data) < offset + 8:
            return None
        icmp_type, _code, _checksum, ident, seq = struct.unpack_from("!BBHHH", data, offset)
        return seq if icmp_type == self.echo_reply and ident == self.ident else None

    def close(self) -> None:
        self.icmp.close()


def _echo_request(icmp_type: int, ident: int, seq: int) -> bytes:
    """An echo request with our payload and its Internet checksum (RFC 1071)."""
    total = (icmp_type << 8) + ident + seq + _PAYLOAD_SUM
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return struct.pack("!BBHHH", icmp_type, 0, ~total & 0xFFFF, ident, seq) + _PAYLOAD


def _open_icmp_socket(family: socket.AddressFamily, privileged: bool | None) -> ICMPv4Socket | ICMPv6Socket:
    """Datagram ICMP socket if the kernel lets us (net.ipv4.ping_group_range), else raw."""
    cls = ICMPv4Socket if family == socket.AF_INET else ICMPv6Socket
    # Trying is the exact test: the kernel checks the egid and every supplementary group.
    for raw in (False, True) if privileged is None else (privileged,):
        with contextlib.suppress(SocketPermissionError):
            # binding a datagram socket assigns its identifier now rather than at first send
            return cls(address=_WILDCARD[family], privileged=raw)
    raise PingerError(_permission_help(privileged))


def _permission_help(privileged: bool | None) -> str:
    groups = sorted({os.getegid(), *os.getgroups()})
    unprivileged = (f"datagram ICMP sockets are not allowed for groups {groups}: allow them with "
                    "sysctl -w net.ipv4.ping_group_range='0 2147483647' (or a range holding one of these gids)")
    raw = ("raw ICMP sockets need root or CAP_NET_RAW "
           "(e.g. setcap cap_net_raw+ep on the Python binary)")
    if privileged is None:
        return f"cannot open any ICMP socket: {unprivileged}; or {raw}"
    return f"cannot open an ICMP socket: {raw if privileged else unprivileged}"


def _tune(sock: socket.socket, family: socket.AddressFamily, raw_ident: int | None) -> None:
    """Non-blocking, large buffers, kernel receive timestamps, and (a raw socket, `raw_ident` its sweep's
    identifier) only the echo replies of its own sweep."""
    sock.setblocking(False)
    for force, plain in ((_SO_RCVBUFFORCE, socket.SO_RCVBUF), (_SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:  # FORCE ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN
            sock.setsockopt(socket.SOL_SOCKET, force, _BUFFER_BYTES)
        except PermissionError:
            sock.setsockopt(socket.SOL_SOCKET, plain, _BUFFER_BYTES)
    # RTTs and timeouts judged on arrival time, not on when a busy loop got round to reading
    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    if raw_ident is not None:
        raw_filters.echo_replies_only(sock, family)
        raw_filters.identifier_only(sock, family, raw_ident)


def _receive_time(ancdata: list[tuple[int, int, bytes]]) -> float:
    """Kernel arrival time (SO_TIMESTAMPNS, 64-bit timespec); now if the kernel gave none."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack_from("=qq", data)
            return seconds + nanoseconds / 1e9
    return time.time()


def _describe(exc: ICMPSocketError) -> str:
    """'network is unreachable' rather than icmplib's wrapper text."""
    code = getattr(exc.__context__, "errno", None)
    return os.strerror(code).lower() if code else str(exc)


class _Pacer:
    """Token bucket: `rate` sends per second on average, bursts of at most ~5 ms worth
    (asyncio sleeps last at least ~1 ms, so a smaller bucket would undershoot the rate)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.burst = max(1.0, rate * 0.005)
        self.tokens = self.burst
        self.stamp = time.monotonic()

    def delay(self) -> float:
        """Seconds until the next send is allowed; 0 when it is allowed now."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class _Sweep:
    """Sends every probe of one sweep, paced, and collects the replies."""

    def __init__(self, hosts: dict[str, _Host], count: int, interval: float, timeout: float, rate: int) -> None:
        self.hosts, self.count, self.interval, self.timeout, self.rate = hosts, count, interval, timeout, rate
        self.channels: dict[socket.AddressFamily, _Channel] = {}
        self.pending: set[tuple[str, int]] = set()  # (ip, seq) sent and neither answered nor late
        self.sending = True
        self.answered = asyncio.Event()
        self.stalled_since: float | None = None

    async def run(self, privileged: bool | None) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.ExitStack() as stack:
            self._open_channels(privileged, stack)
            for channel in self.channels.values():
                fd = channel.icmp.sock.fileno()
                loop.add_reader(fd, channel.drain)  # level-triggered: re-fires while replies are queued
                stack.callback(loop.remove_reader, fd)
            last_send = await self._send_all()
            await self._wait_for_replies(last_send)

    def _open_channels(self, privileged: bool | None, stack: contextlib.ExitStack) -> None:
        ident = random.randrange(1, 0x10000)  # per sweep: raw sockets also see other sweeps' replies
        for family in {host.family for host in self.hosts.values()}:
            try:
                channel = _Channel(family, privileged, ident, self._on_reply)
            except ICMPSocketError as exc:  # e.g. IPv6 disabled: only that family's hosts fail
                for host in self.hosts.values():
                    if host.family == family:
                        host.error = str(exc)
                continue
            self.channels[family] = channel
            stack.callback(channel.close)

    async def _send_all(self) -> float:
        """Send every probe; returns the monotonic time of the last one."""
        queue = deque((0.0, host, 0) for host in self.hosts.values() if host.family in self.channels)
        pacer, burst = _Pacer(self.rate), 0
        # Follow-up probes are appended `interval` after their predecessor went out, so the
        # queue stays sorted by due time and every host gets at least `interval` between probes.
        while queue:
            due, host, seq = queue[0]
            wait = max(due - time.monotonic(), pacer.delay())
            if wait > 0 or burst >= _YIELD_EVERY:
                await asyncio.sleep(wait)  # also lets the readers drain replies
                burst = 0
                continue
            if not self._send(host, seq):
                await asyncio.sleep(0.001)  # send buffer full: give the kernel a moment
                continue
            pacer.take()
            burst += 1
            queue.popleft()
            if seq + 1 < self.count:
                queue.append((time.monotonic() + self.interval, host, seq + 1))
        self.sending = False
        return time.monotonic()

    def _send(self, host: _Host, seq: int) -> bool:
        """Send one probe; False when the socket buffer is full and it should be retried."""
        try:
            sent_at = self.channels[host.family].send(host.ip, seq)
        except ICMPSocketError as exc:
            if getattr(exc.__context__, "errno", None) in _RETRYABLE:
                self._check_stall()  # giving up on this probe would report a live host dead
                return False
            host.error = _describe(exc)  # this host's probe is lost; the sweep goes on
        else:
            host.sent_at[seq] = sent_at
            self.pending.add((host.ip, seq))
        host.sent += 1
        self.stalled_since = None
        return True

    def _check_stall(self) -> None:
        now = time.monotonic()
        self.stalled_since = self.stalled_since or now
        if now - self.stalled_since > _STALL_LIMIT:
            raise PingerError(f"the ICMP send buffer stayed full for {_STALL_LIMIT:.0f} s; raise "
                              "net.core.wmem_max, or give the process CAP_NET_ADMIN so it can enlarge it itself")

    def _on_reply(self, source: str, seq: int, received_at: float) -> None:
        key = (source, seq)
        if key not in self.pending:  # duplicate, foreign, or not ours
            return
        self.pending.discard(key)
        host = self.hosts[source]
        rtt = received_at - host.sent_at[seq]
        if rtt <= self.timeout:
            host.rtts[seq] = max(rtt, 0.0) * 1000  # clamp: a wall-clock step must not give negative RTTs
        if not self.pending and not self.sending:
            self.answered.set()

    async def _wait_for_replies(self, last_send: float) -> None:
        """Until every probe is answered or the last one timed out."""
        remaining = last_send + self.timeout - time.monotonic()
        if self.pending and remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.answered.wait(), remaining)
        for channel in self.channels.values():  # replies that arrived in time but are still queued
            channel.drain(limit=sys.maxsize)


def _literal_ip(address: str) -> tuple[socket.AddressFamily, str] | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return (socket.AF_INET if ip.version == 4 else socket.AF_INET6), str(ip)


async def _resolve(addresses: Sequence[str]) -> dict[str, tuple[socket.AddressFamily, str] | str]:
    """Each distinct input -> (family, canonical IP), or an error message. Names resolve concurrently."""
    loop = asyncio.get_running_loop()
    resolved: dict[str, tuple[socket.AddressFamily, str] | str] = {}
    names = []
    for address in dict.fromkeys(addresses):
        literal = _literal_ip(address)  # skip the resolver: thousands of executor round trips
        if literal:
            resolved[address] = literal
        else:
            names.append(address)
    answers = await asyncio.gather(
        *(loop.getaddrinfo(name, None, type=socket.SOCK_DGRAM) for name in names), return_exceptions=True
    )
    for name, answer in zip(names, answers):
        if isinstance(answer, BaseException):
            reason = getattr(answer, "strerror", None) or str(answer)
            resolved[name] = f"cannot resolve {name!r}: {reason}"
        else:  # first address, in the system's preference order, as ping does
            family, _type, _proto, _canonical, sockaddr = answer[0]
            resolved[name] = family, sockaddr[0]
    return resolved


def _check_arguments(count: int, interval: float, timeout: float, rate: int) -> None:
    if not 1 <= count <= 0x10000:  # the sequence number is 16 bits
        raise ValueError(f"count must be 1..65536, got {count}")
    if interval < 0 or timeout <= 0 or rate < 1:
        raise ValueError(f"need interval >= 0, timeout > 0, rate >= 1; got {interval}, {timeout}, {rate}")


async def sweep(addresses: Sequence[str], *, count: int = 3, interval: float = 0.2, timeout: float = 1.0,
                privileged: bool | None = None, rate: int = DEFAULT_RATE) -> dict[str, PingResult]:
    """Ping every address `count` times, all hosts in flight at once; one result per input string.

    `interval`: seconds between probes to the same host; `timeout`: seconds to wait for each reply;
    `rate`: packets per second over the whole sweep; `privileged`: True raw sockets, False datagram
    ICMP sockets, None the datagram kind if net.ipv4.ping_group_range allows it, else raw.
    Raises PingerError when no ICMP socket can be opened, or the send buffer stays full for
    _STALL_LIMIT seconds (reporting the hosts behind it as dead would be a lie).
    """
    _check_arguments(count, interval, timeout, rate)
    resolved = await _resolve(addresses)
    hosts = {
        ip: _Host(ip, family, count) for family, ip in (r for r in resolved.values() if isinstance(r, tuple))
    }
    if hosts:
        await _Sweep(hosts, count, interval, timeout, rate).run(privileged)
    results = {}
    for address in addresses:
        outcome = resolved[address]
        if isinstance(outcome, tuple):
            results[address] = hosts[outcome[1]].result(address)
        else:
            results[address] = PingResult(address, 0, 0, (), error=outcome)
    return results


def ping_many(addresses: Sequence[str], **kwargs) -> dict[str, PingResult]:
    """Blocking sweep() for Celery tasks and the CLI; not callable from inside a running event loop."""
    return asyncio.run(sweep(addresses, **kwargs))
