"""The client's SNMP v1/v2c path on the wire (snmp/client/transport.py): scripted agents on loopback that answer
right, wrong, late or not at all, and snmpsim's recordings walked as snmpbulkwalk walks them."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.type import univ
from pysnmp.proto.api import v1, v2c

from snmp import client
from snmp.client import SNMPProtocolError, SNMPTimeout, SNMPType, Target, Value
from snmp.client.transport import endpoints
from snmp.tests.test_ber import pysnmp_response
from tests.snmp_agents import parse_net_snmp

IF_TABLE, IF_X_TABLE = "1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
FAST = {"timeout": 0.3, "retries": 0}


class ScriptedAgent(asyncio.DatagramProtocol):
    """A v2c agent on loopback that answers each request with the datagrams `script(request)` returns, as
    (datagram, socket to send it from: None for its own)."""

    def __init__(self, script: Callable[[univ.Sequence], list[tuple[bytes, socket.socket | None]]]) -> None:
        self.script = script
        self.requests: list[univ.Sequence] = []

    def connection_made(self, transport: asyncio.DatagramTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, address: tuple) -> None:
        request, _ = ber_decoder.decode(data, asn1Spec=v2c.Message())
        self.requests.append(request)
        for datagram, other in self.script(request):
            if other is None:
                self.transport.sendto(datagram, address)
            else:
                other.sendto(datagram, address)


def request_id(request: univ.Sequence) -> int:
    return int(v2c.apiPDU.get_request_id(v2c.apiMessage.get_pdu(request)))


def answer(request: univ.Sequence, text: bytes, **options) -> bytes:
    """A response to `request` with sysUpTime.0 = `text`, as pysnmp encodes it (options change the header)."""
    return pysnmp_response([((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.OctetString(text))],
                           **{"request_id": request_id(request), **options})


def run_against(script, call: Callable[[Target], object], host: str = "127.0.0.1", **target_options):
    """Run `call(target)` on the client against a ScriptedAgent; the result and the requests the agent got."""
    async def scenario():
        transport, agent = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: ScriptedAgent(script), local_addr=(host, 0))
        try:
            target = Target(host, transport.get_extra_info("sockname")[1], community="public",
                            **{**FAST, **target_options})
            return await call(target), agent.requests
        finally:
            transport.close()

    return client.run(scenario())


def get_uptime(target: Target):
    return client.get(target, [SYS_UPTIME])


def test_it_takes_only_the_answer_that_matches_its_request():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as elsewhere:
        elsewhere.bind(("127.0.0.1", 0))

        def decoys_then_the_answer(request):
            return [
                (b"\x30\x03\x02\x01", None),  # not even a header
                (answer(request, b"wrong request-id", request_id=request_id(request) + 1), None),
                (answer(request, b"wrong community", community=b"private"), None),
                (answer(request, b"wrong version", api=v1), None),
                (answer(request, b"wrong address"), elsewhere),
                (answer(request, b"the answer"), None),
                (answer(request, b"a second answer"), None),
            ]

        values, requests = run_against(decoys_then_the_answer, get_uptime)
    assert values[SYS_UPTIME] == Value(SNMPType.OCTETS, b"the answer")
    assert len(requests) == 1


def test_it_retries_with_the_same_request_and_takes_the_answer_to_any_try():
    tries = []

    def answer_the_second_try(request):
        tries.append(request)
        return [(answer(request, b"second try"), None)] if len(tries) == 2 else []

    values, requests = run_against(answer_the_second_try, get_uptime, retries=1, timeout=0.2)
    assert values[SYS_UPTIME] == Value(SNMPType.OCTETS, b"second try")
    assert len(requests) == 2 and request_id(requests[0]) == request_id(requests[1])


def test_it_times_out_after_its_retries():
    with pytest.raises(SNMPTimeout, match=r"2 tries of 0.1 s"):
        run_against(lambda request: [], get_uptime, retries=1, timeout=0.1)


def test_it_halves_max_repetitions_while_the_agent_answers_too_big():
    def too_big_above_five(request):
        pdu = v2c.apiMessage.get_pdu(request)
        if v2c.apiBulkPDU.get_max_repetitions(pdu) > 5:
            return [(pysnmp_response(v2c.apiBulkPDU.get_varbinds(pdu), request_id=request_id(request),
                                     error_status=1), None)]
        rows = [((1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 1), v2c.Integer(1)), ((1, 3, 6, 1, 2, 1, 3, 1), v2c.Integer(2))]
        return [(pysnmp_response(rows, request_id=request_id(request)), None)]

    rows, requests = run_against(too_big_above_five, lambda target: client.walk(target, IF_TABLE))
    assert rows == [(IF_TABLE + ".1.1.1", Value(SNMPType.INTEGER, 1))]
    assert [int(v2c.apiBulkPDU.get_max_repetitions(v2c.apiMessage.get_pdu(request))) for request in requests] == [
        25, 12, 6, 3]


def test_it_reports_a_malformed_answer_as_a_protocol_error_naming_the_target():
    def broken(request):
        return [(answer(request, b"xy").replace(b"\x04\x02xy", b"\x47\x02xy"), None)]

    with pytest.raises(SNMPProtocolError, match=r"127\.0\.0\.1:\d+ SNMPv2c: malformed answer: unknown value type"):
        run_against(broken, get_uptime)


def test_it_reports_endofmibview_in_a_get_as_a_protocol_error():
    def end_of_mib(request):
        return [(pysnmp_response([((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.EndOfMibView(""))],
                                 request_id=request_id(request)), None)]

    with pytest.raises(SNMPProtocolError, match=f"endOfMibView to a GET of {SYS_UPTIME}"):
        run_against(end_of_mib, get_uptime)


def test_it_polls_over_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    values, _ = run_against(lambda request: [(answer(request, b"over IPv6"), None)], get_uptime, host="::1")
    assert values[SYS_UPTIME] == Value(SNMPType.OCTETS, b"over IPv6")


def test_it_shares_one_socket_and_releases_it_on_close():
    async def two_gets(target: Target):
        await asyncio.gather(client.get(target, [SYS_UPTIME]), client.get(target, [SYS_UPTIME]))
        return endpoints()[socket.AF_INET].sock

    sock, requests = run_against(lambda request: [(answer(request, b"up"), None)], two_gets)
    assert len(requests) == 2 and len({request_id(request) for request in requests}) == 2
    assert sock.fileno() == -1 and endpoints() == {}  # client.run closed it


@pytest.mark.parametrize("community", ["cisco-c3560", "juniper-mx960-12-3r6-6"])
@pytest.mark.parametrize("subtree", [IF_TABLE, IF_X_TABLE])
def test_it_walks_what_snmpbulkwalk_reads_over_v2c(snmpsim, community, subtree):
    theirs = parse_net_snmp(snmpsim.net_snmp("snmpbulkwalk", "-On", "-Oe", "-Ox", "-v2c", "-c", community,
                                             snmpsim.address, subtree))
    rows = client.walk_sync(Target(snmpsim.host, snmpsim.port, community=community), subtree)
    assert {oid: (str(value.type), value.value) for oid, value in rows} == theirs
    assert [oid for oid, _ in rows] == list(theirs)
    if subtree == IF_X_TABLE:
        assert max(value.value for _, value in rows if value.type == SNMPType.COUNTER64) > 2**32
