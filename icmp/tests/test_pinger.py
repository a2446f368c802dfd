"""Behaviour of the ICMP engine against loopback and a private test namespace (no Django needed).

Run: .venv/bin/python -m pytest -p no:django -p no:cacheprovider icmp/tests/test_pinger.py -q
"""
from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import subprocess

import pytest

from icmp import pinger
from icmp.pinger import PingerError, PingResult, ping_many, sweep

pytestmark = pytest.mark.timeout(60)

FAST = {"interval": 0.05, "timeout": 0.5}


def loopback(n: int) -> list[str]:
    return [f"127.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}" for i in range(n)]


def ping_netns(net, addrs: list[str], **kwargs) -> dict[str, PingResult]:
    net.verify_route(*addrs)  # never let a packet take the default route
    return ping_many(addrs, **{**FAST, **kwargs})


def test_loopback_hosts_alive_with_rtts():
    results = ping_many(["127.0.0.1", "127.0.0.2"], count=1, **FAST)
    for result in results.values():
        assert result.is_alive and result.error is None
        assert len(result.rtts_ms) == 1 and result.min_ms == result.avg_ms == result.max_ms >= 0
        assert result.jitter_ms == 0.0


def test_count_three_gives_three_rtts_and_no_loss():
    result = ping_many(["127.0.0.1"], count=3, **FAST)["127.0.0.1"]
    assert (result.sent, result.received, len(result.rtts_ms)) == (3, 3, 3)
    assert result.loss_percent == 0.0
    assert result.min_ms <= result.avg_ms <= result.max_ms
    assert result.jitter_ms is not None and result.jitter_ms >= 0


def test_ipv6_loopback_alive():
    result = ping_many(["::1"], count=2, **FAST)["::1"]
    assert result.is_alive and result.received == 2


def test_raw_sockets_get_answers_to_the_echo_requests_we_build():
    """A raw IPv4 socket sends our checksum as is: the kernel drops an echo request whose checksum is wrong
    (datagram sockets: test_unprivileged_sockets_inside_namespace)."""
    results = ping_many(["127.0.0.1", "127.0.0.9", "::1"], count=2, privileged=True, **FAST)
    assert {address: result.received for address, result in results.items()} == {
        "127.0.0.1": 2, "127.0.0.9": 2, "::1": 2}


@pytest.mark.parametrize(("ident", "seq"), [(0, 0), (1, 2), (0xFFFF, 0xFFFF), (0x1234, 0xFEDC)])
def test_an_echo_request_sums_to_all_ones_with_its_checksum(ident, seq):
    packet = pinger._echo_request(8, ident, seq)
    total = sum(int.from_bytes(packet[i:i + 2], "big") for i in range(0, len(packet), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF and packet[:2] == b"\x08\x00" and packet[4:8] == bytes([ident >> 8, ident & 255, seq >> 8, seq & 255])


def test_unresolvable_name_is_dead_with_error():
    result = ping_many(["no-such-host.invalid", "127.0.0.1"], count=1, **FAST)["no-such-host.invalid"]
    assert not result.is_alive
    assert result.error.startswith("cannot resolve 'no-such-host.invalid'")
    assert result.loss_percent == 100.0 and result.avg_ms is None and result.jitter_ms is None


def test_names_and_duplicates_get_one_result_per_input_string():
    results = ping_many(["127.0.0.1", "localhost", "127.0.0.1", "127.0.0.3"], count=2, **FAST)
    assert list(results) == ["127.0.0.1", "localhost", "127.0.0.3"]
    assert all(r.is_alive and r.received == 2 for r in results.values())
    assert results["localhost"].address == "localhost"


def test_empty_input():
    assert ping_many([]) == {}


def test_bad_arguments_rejected():
    with pytest.raises(ValueError):
        ping_many(["127.0.0.1"], count=0)


def test_2000_loopback_hosts_all_alive():
    addrs = loopback(2000)
    results = ping_many(addrs, count=1, timeout=1.0)
    assert [a for a, r in results.items() if not r.is_alive] == []


def test_concurrent_sweeps_in_one_loop_do_not_steal_replies():
    async def both():
        return await asyncio.gather(sweep(loopback(500), count=2, **FAST), sweep(loopback(500), count=1, **FAST))

    twice, once = asyncio.run(both())
    assert all(r.received == 2 for r in twice.values())
    assert all(r.received == 1 for r in once.values())


@pytest.mark.parametrize("family, others", [(socket.AF_INET, [f"127.0.0.{n}" for n in range(1, 41)]),
                                             (socket.AF_INET6, ["::1"] * 5)])
def test_a_raw_socket_receives_only_the_echo_replies_of_its_own_sweep(family, others):
    """Every raw ICMP socket gets a copy of every echo reply on the host; the kernel filter keeps another sweep's
    replies (a worker runs several at once) out of this one's socket, while its own still arrive."""
    replies = []
    channel = pinger._Channel(family, True, 0x5A5A, lambda *reply: replies.append(reply[:2]))
    try:
        ping_many(others, count=1, privileged=True, **FAST)  # its own random identifier (0x5A5A by 1 in 65,535)
        foreign = 0
        with contextlib.suppress(BlockingIOError):
            while channel.icmp.sock.recv(128):
                foreign += 1
        assert foreign == 0
        own = others[0]
        channel.send(own, 7)
        wait = select.select([channel.icmp.sock], [], [], 2)[0]
        channel.drain()
        assert wait and replies == [(own, 7)]
    finally:
        channel.close()


def test_result_statistics():
    result = PingResult("192.0.2.7", sent=4, received=3, rtts_ms=(1.0, 3.0, 2.0))
    assert result.loss_percent == 25.0
    assert (result.min_ms, result.avg_ms, result.max_ms) == (1.0, 2.0, 3.0)
    assert result.jitter_ms == 1.5
    assert not PingResult("x", sent=0, received=0, rtts_ms=()).is_alive


def test_unprivileged_mode_refused_clearly_when_not_allowed():
    with open("/proc/sys/net/ipv4/ping_group_range") as f:
        low, high = map(int, f.read().split())
    if low <= 0 <= high:
        pytest.skip("datagram ICMP sockets are allowed here for gid 0")
    with pytest.raises(PingerError, match="ping_group_range"):
        ping_many(["127.0.0.1"], privileged=False, **FAST)


def test_namespace_answering_silent_and_dropping_hosts(netns):
    results = ping_netns(netns, netns.answering + netns.silent + netns.dropping, count=2)
    assert all(results[a].is_alive and results[a].received == 2 for a in netns.answering)
    for addr in netns.silent + netns.dropping:
        assert not results[addr].is_alive
        assert results[addr].loss_percent == 100.0 and results[addr].sent == 2


def test_silenced_host_goes_dead_then_alive_after_restore(netns):
    addr, others = netns.answering[0], netns.answering[1:]
    assert ping_netns(netns, [addr], count=1)[addr].is_alive
    netns.silence(addr)
    try:
        results = ping_netns(netns, netns.answering, count=1)
        assert not results[addr].is_alive
        assert all(results[a].is_alive for a in others)
    finally:
        netns.restore(addr)
    assert ping_netns(netns, [addr], count=1)[addr].is_alive


def test_unprivileged_sockets_inside_namespace(netns):
    addrs = netns.answering + netns.dropping + ["127.0.0.1", "::1"]
    for privileged in (False, None):
        results = netns.run_inside(lambda: ping_many(addrs, count=2, privileged=privileged, **FAST))
        answering = netns.answering + ["127.0.0.1", "::1"]
        assert {a: results[a].received for a in answering} == dict.fromkeys(answering, 2)
        assert not any(results[a].is_alive for a in netns.dropping)


def test_send_error_marks_host_and_sweep_goes_on(netns):
    # The namespace has no default route: sendto fails locally and no packet is ever built.
    unroutable = "203.0.113.5"
    check = subprocess.run(["ip", "-n", netns.name, "route", "get", unroutable], capture_output=True, text=True)
    assert check.returncode != 0, "namespace unexpectedly routes 203.0.113.5"
    addrs = [unroutable, netns.answering[0]]
    results = netns.run_inside(lambda: ping_many(addrs, count=2, **FAST))
    assert not results[unroutable].is_alive and results[unroutable].error == "network is unreachable"
    assert results[netns.answering[0]].received == 2


def test_full_send_buffer_delays_but_never_reports_live_hosts_dead(netns, monkeypatch):
    # Probes to silent on-link hosts wait in the ARP queue charged to our send buffer; with a
    # tiny buffer the sends behind them hit EAGAIN and must wait, not be counted as lost.
    monkeypatch.setattr(pinger, "_BUFFER_BYTES", 4096)
    results = ping_netns(netns, netns.silent + netns.answering, count=3)
    assert {a: results[a].received for a in netns.answering} == dict.fromkeys(netns.answering, 3)
    assert all(r.error is None for r in results.values())
