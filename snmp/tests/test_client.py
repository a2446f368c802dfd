"""snmp.client against real agents: net-snmp snmpd and snmpsim serving recordings of real devices."""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.ber import encoder as ber_encoder
from pysnmp.proto.api import v2c

from snmp import client
from snmp.choices import AuthProtocol, PrivProtocol
from snmp.client import SNMPAuthError, SNMPProtocolError, SNMPTimeout, SNMPType, Target, Value, usm
from tests.snmp_agents import SnmpdAgent, V3User, free_udp_port, parse_net_snmp
from tests.snmpsim_agents import SnmpsimAgent

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYSTEM, IF_TABLE, IP_ADDR_TABLE = "1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2", "1.3.6.1.2.1.4.20"
IF_X_TABLE = "1.3.6.1.2.1.31.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
NET_SNMP_SCRIPTABLE = ("-On", "-Oe", "-Ox")  # numeric OIDs and enums, octet strings in hex: exact values
VENDOR_RECORDINGS = ("cisco-c3560", "juniper-mx960-12-3r6-6", "arista-dcs-7150s-52-cl", "huawei-s5720")
FAST_FAIL = {"timeout": 0.3, "retries": 0}


def community_target(agent: SnmpdAgent | SnmpsimAgent, community: str, version: str = "v2c", **options) -> Target:
    return Target(agent.host, agent.port, version=version, community=community, **options)


def user_target(agent: SnmpdAgent | SnmpsimAgent, user: V3User, **options) -> Target:
    return Target(agent.host, agent.port, version="v3", security_name=user.name, auth_protocol=user.auth_protocol,
                  auth_key=user.auth_key, priv_protocol=user.priv_protocol, priv_key=user.priv_key, **options)


def as_pairs(values: dict[str, Value] | list[tuple[str, Value]]) -> dict[str, tuple[str, object]]:
    items = values.items() if isinstance(values, dict) else values
    return {oid: (str(value.type), value.value) for oid, value in items}


def assert_system_group(values: dict[str, Value], agent: SnmpdAgent) -> None:
    assert values[SYS_NAME] == Value(SNMPType.OCTETS, agent.sys_name.encode())
    assert values[SYS_NAME].text == agent.sys_name
    assert values[SYS_DESCR].type == SNMPType.OCTETS and values[SYS_DESCR].text.startswith("Linux")
    assert values[SYS_UPTIME].type == SNMPType.TIMETICKS and isinstance(values[SYS_UPTIME].value, int)
    assert values[SYS_OBJECT_ID] == Value(SNMPType.OID, "1.3.6.1.4.1.8072.3.2.10")  # net-snmp on Linux


# --- reading values -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v2c"])
def test_it_gets_the_system_group_with_a_community(snmpd, version):
    values = client.get_sync(community_target(snmpd, snmpd.community, version), [SYS_NAME, SYS_DESCR, SYS_UPTIME,
                                                                                 SYS_OBJECT_ID])
    assert_system_group(values, snmpd)


@pytest.mark.parametrize("user", SnmpdAgent.users, ids=lambda user: f"{user.name}-{user.level}")
def test_it_gets_the_system_group_as_every_v3_user(snmpd, user):
    values = client.get_sync(user_target(snmpd, user), [SYS_NAME, SYS_DESCR, SYS_UPTIME, SYS_OBJECT_ID])
    assert_system_group(values, snmpd)


@pytest.mark.parametrize("subtree", [SYSTEM, IF_TABLE, IP_ADDR_TABLE])
def test_it_walks_the_same_values_net_snmp_reads(snmpd, subtree):
    """Interfaces and counters move (parallel tests add veths, our own packets count on lo), so compare with a
    net-snmp walk before and one after ours: what stayed still must match exactly, what moved must lie between."""

    def net_snmp_walk() -> dict:
        return parse_net_snmp(snmpd.net_snmp("snmpbulkwalk", *NET_SNMP_SCRIPTABLE, "-v2c", "-c", snmpd.community,
                                             snmpd.address, subtree))

    before = net_snmp_walk()
    ours = as_pairs(client.walk_sync(community_target(snmpd, snmpd.community), subtree))
    after = net_snmp_walk()

    stable = {oid: pair for oid, pair in before.items() if after.get(oid) == pair}
    assert len(stable) > len(before) / 2
    assert {oid: ours.get(oid) for oid in stable} == stable
    for oid in (before.keys() & after.keys()) - stable.keys():
        (kind, low), (_, high) = before[oid], after[oid]
        counting = kind in ("counter32", "counter64", "timeticks")
        counted = counting and ours[oid][0] == kind and low <= ours[oid][1] <= high
        assert counted or ours[oid] in (before[oid], after[oid]), oid
    assert before.keys() & after.keys() <= ours.keys() <= before.keys() | after.keys()
    assert list(ours) == sorted(ours, key=lambda oid: tuple(map(int, oid.split("."))))


def test_it_gets_the_same_values_net_snmp_gets(snmpd):
    oids = [SYS_NAME, SYS_DESCR, SYS_OBJECT_ID, "1.3.6.1.2.1.1.7.0", "1.3.6.1.2.1.2.2.1.2.1", "1.3.6.1.2.1.2.2.1.5.1",
            "1.3.6.1.2.1.4.20.1.1.127.0.0.1", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.5.1"]
    user = snmpd.user("SHA-256", "AES")
    theirs = parse_net_snmp(snmpd.net_snmp("snmpget", *NET_SNMP_SCRIPTABLE, *user.net_snmp_args(), snmpd.address,
                                           *oids))
    ours = as_pairs(client.get_sync(user_target(snmpd, user), oids))
    assert ours == theirs
    assert ours["1.3.6.1.2.1.4.20.1.1.127.0.0.1"] == ("ipaddress", "127.0.0.1")


def test_it_splits_a_get_the_agent_answers_too_big(snmpd):
    oids = [oid for oid, _ in client.walk_sync(community_target(snmpd, snmpd.community), SYSTEM)]
    assert len(oids) < client.MAX_VARBINDS_PER_PDU  # one PDU of our own making...
    with pytest.raises(RuntimeError, match="tooBig"):  # ...that the agent refuses whole
        snmpd.net_snmp("snmpget", "-v2c", "-c", snmpd.community, snmpd.address, *oids)

    values = client.get_sync(community_target(snmpd, snmpd.community), oids)

    assert list(values) == oids
    assert not any(value.missing for value in values.values())
    assert values[SYS_NAME].text == snmpd.sys_name


def test_it_marks_oids_the_agent_does_not_have(snmpd):
    values = client.get_sync(community_target(snmpd, snmpd.community), [SYS_NAME, "1.3.6.1.2.1.1.99.0",
                                                                         "1.3.6.1.2.1.1.5.1"])
    assert values["1.3.6.1.2.1.1.99.0"] == Value(SNMPType.NO_SUCH_OBJECT, None)
    assert values["1.3.6.1.2.1.1.5.1"] == Value(SNMPType.NO_SUCH_INSTANCE, None)
    assert values["1.3.6.1.2.1.1.5.1"].missing and not values[SYS_NAME].missing
    assert values[SYS_NAME].text == snmpd.sys_name


def test_it_marks_missing_oids_over_v1_and_still_reads_the_others(snmpd):
    values = client.get_sync(community_target(snmpd, snmpd.community, "v1"), [SYS_NAME, "1.3.6.1.2.1.1.99.0",
                                                                               SYS_UPTIME])
    assert values["1.3.6.1.2.1.1.99.0"].missing
    assert values[SYS_NAME].text == snmpd.sys_name
    assert values[SYS_UPTIME].type == SNMPType.TIMETICKS


def test_it_walks_a_scalar_like_snmpbulkwalk(snmpd):
    assert client.walk_sync(community_target(snmpd, snmpd.community), SYS_NAME) == [
        (SYS_NAME, Value(SNMPType.OCTETS, snmpd.sys_name.encode()))]
    assert client.walk_sync(community_target(snmpd, snmpd.community), "1.3.6.1.2.1.1.99") == []


def test_it_keys_results_by_the_oids_as_given(snmpd):
    values = client.get_sync(community_target(snmpd, snmpd.community), ["." + SYS_NAME, SYS_NAME])
    assert list(values) == ["." + SYS_NAME, SYS_NAME]
    assert values["." + SYS_NAME] == values[SYS_NAME] == Value(SNMPType.OCTETS, snmpd.sys_name.encode())


# --- device recordings (snmpsim) ------------------------------------------------------------------------------

@pytest.mark.parametrize("community", VENDOR_RECORDINGS)
def test_it_walks_the_interface_tables_of_real_devices(snmpsim, community):
    for subtree in (IF_TABLE, IF_X_TABLE):
        rows = client.walk_sync(community_target(snmpsim, community), subtree, max_repetitions=50)
        assert as_pairs(rows) == snmpsim.recorded(community, subtree)
    counters = [value for oid, value in rows if oid.startswith(IF_HC_IN_OCTETS + ".")]
    assert counters and all(value.type == SNMPType.COUNTER64 and type(value.value) is int for value in counters)
    assert max(value.value for value in counters) > 2**32  # 64-bit values arrive whole


def test_it_walks_with_getnext_over_v1_what_getbulk_reads_over_v2c(snmpsim):
    v1 = client.walk_sync(community_target(snmpsim, "cisco-c3560", "v1"), IF_TABLE)
    v2c = client.walk_sync(community_target(snmpsim, "cisco-c3560"), IF_TABLE, max_repetitions=7)
    assert v1 == v2c
    assert len(v1) == len(snmpsim.recorded("cisco-c3560", IF_TABLE))


def test_it_picks_a_recording_by_v3_context_name(snmpsim):
    for community in ("unknown-006", "XP"):
        target = user_target(snmpsim, snmpsim.v3_user, context_name=community)
        values = client.get_sync(target, [SYS_DESCR])
        assert as_pairs(values)[SYS_DESCR] == snmpsim.recorded(community, "1.3.6.1.2.1.1.1")[SYS_DESCR]


# --- failures -------------------------------------------------------------------------------------------------

def test_it_reports_a_wrong_community_as_a_timeout_that_mentions_the_community(snmpd):
    with pytest.raises(SNMPTimeout, match="community") as caught:
        client.get_sync(community_target(snmpd, "not-the-community", **FAST_FAIL), [SYS_NAME])
    assert snmpd.address in str(caught.value)
    assert "not-the-community" not in str(caught.value)  # secrets stay out of messages and logs


def test_it_reports_an_agent_that_never_answers_as_a_timeout():
    silent = Target("127.0.0.1", free_udp_port(), version="v3", security_name="monitor", **FAST_FAIL)
    with pytest.raises(SNMPTimeout, match="reachable") as caught:
        client.get_sync(silent, [SYS_NAME])
    assert "community" not in str(caught.value)


@pytest.mark.parametrize("change, message", [
    ({"auth_key": "not-the-auth-key"}, r"usmStatsWrongDigests.*auth key"),
    ({"auth_protocol": "MD5"}, r"usmStatsWrongDigests.*auth protocol \(MD5\)"),
    ({"auth_protocol": "SHA-512"}, r"usmStatsWrongDigests.*auth protocol \(SHA-512\)"),
    ({"security_name": "nobody-here"}, r"has no user 'nobody-here' \(usmStatsUnknownUserNames\)"),
    ({"priv_key": "not-the-priv-key"}, r"privacy key and the privacy protocol \(AES\)"),
    ({"priv_protocol": "DES"}, r"privacy key and the privacy protocol \(DES\)"),
    ({"priv_protocol": "AES-256"}, r"privacy key and the privacy protocol \(AES-256\)"),
], ids=["auth-key", "auth-protocol-md5", "auth-protocol-sha512", "unknown-user", "priv-key", "priv-protocol-des",
        "priv-protocol-aes256"])
def test_it_names_what_is_wrong_with_v3_credentials(snmpd, change, message):
    target = dataclasses.replace(user_target(snmpd, snmpd.user("SHA", "AES"), **FAST_FAIL), **change)
    with pytest.raises(SNMPAuthError, match=message) as caught:
        client.get_sync(target, [SYS_NAME])
    assert snmpd.address in str(caught.value)


class LoopingAgent(asyncio.DatagramProtocol):
    """A broken v2c agent: it answers every GETBULK with the same OID, so a naive walk would never end."""

    def connection_made(self, transport: asyncio.DatagramTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, address: tuple[str, int]) -> None:
        request, _ = ber_decoder.decode(data, asn1Spec=v2c.Message())
        asked = v2c.apiBulkPDU.get_varbinds(v2c.apiMessage.get_pdu(request))[0][0]
        response = v2c.apiMessage.get_response(request)
        v2c.apiPDU.set_varbinds(v2c.apiMessage.get_pdu(response), [(asked + (1,), v2c.Integer(1))] * 2)
        self.transport.sendto(ber_encoder.encode(response), address)


def test_it_stops_a_walk_that_does_not_advance():
    async def walk_looping_agent() -> None:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            LoopingAgent, local_addr=("127.0.0.1", 0))
        try:
            agent = Target("127.0.0.1", transport.get_extra_info("sockname")[1], community="public", **FAST_FAIL)
            await client.walk(agent, IF_TABLE)
        finally:
            transport.close()

    with pytest.raises(SNMPProtocolError, match="does not advance") as caught:
        client.run(walk_looping_agent())
    assert f"{IF_TABLE}.1 after {IF_TABLE}.1" in str(caught.value)


def test_it_uses_changed_v3_keys_at_once(snmpd):
    """The engine caches keys per agent and user: a credential edited to the right keys must work next call."""
    good = user_target(snmpd, snmpd.user("SHA-256", "AES-256"), **FAST_FAIL)
    with pytest.raises(SNMPAuthError):
        client.get_sync(dataclasses.replace(good, auth_key="an-old-auth-key"), [SYS_NAME])
    assert client.get_sync(good, [SYS_NAME])[SYS_NAME].text == snmpd.sys_name


def test_it_rejects_a_malformed_oid_before_sending_anything():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.setblocking(False)
        target = Target("127.0.0.1", listener.getsockname()[1], community="public")
        for bad in (["1.3.6.1.2.1.1.5.0", "1.3.6.x.1"], ["iso.3.6"], [""]):
            with pytest.raises(ValueError, match="OID"):
                client.get_sync(target, bad)
        with pytest.raises(ValueError, match="OID"):
            client.walk_sync(target, "1.3.6.1.2.1.2.2.1.2.")
        with pytest.raises(ValueError, match="OID"):  # many calls at once: raised, not kept as a failed call
            client.run(client.gather_limited([functools.partial(client.get, target, ["not.an.oid"])]))
        with pytest.raises(BlockingIOError):
            listener.recv(2048)  # nothing arrived


@pytest.mark.parametrize("options, message", [
    ({"version": "v2c"}, "community is required"),
    ({"version": "v4", "community": "public"}, "version 'v4'"),
    ({"version": "v3"}, "security name"),
    ({"version": "v3", "security_name": "u", "auth_protocol": "SHA"}, "auth key"),
    ({"version": "v3", "security_name": "u", "auth_protocol": "SHA", "auth_key": "12345678", "priv_protocol": "AES"},
     "privacy key"),
    ({"version": "v3", "security_name": "u", "priv_protocol": "AES", "priv_key": "12345678"}, "needs an auth"),
    ({"version": "v3", "security_name": "u", "auth_protocol": "SHA1", "auth_key": "12345678"}, "unknown auth"),
    ({"community": "public", "port": 0}, "port 0"),
])
def test_it_rejects_incomplete_or_impossible_targets(options, message):
    with pytest.raises(ValueError, match=message):
        Target("127.0.0.1", **{"port": 161, **options})


def test_it_checks_a_credential_by_the_same_rules_and_words_as_a_target():
    from django.core.exceptions import ValidationError

    from snmp.models import SNMPCredential

    options = {"version": "v3", "security_name": "u", "auth_protocol": "SHA", "auth_key": "short",
               "priv_protocol": "AES"}
    with pytest.raises(ValueError) as refused_target:
        Target("127.0.0.1", **options)
    with pytest.raises(ValidationError) as refused_credential:
        SNMPCredential(name="lab", **options).clean()
    problems = refused_credential.value.message_dict
    assert list(problems) == ["auth_key", "priv_key"]
    assert str(refused_target.value) == f"SNMP target 127.0.0.1:161: {problems['auth_key'][0]}"


def test_it_speaks_every_protocol_a_credential_offers():
    assert set(usm.AUTH_KEYS) == set(AuthProtocol.values) - {""}
    assert set(usm.PRIV_KEYS) == set(PrivProtocol.values) - {""}


def test_it_builds_a_target_from_a_credential(snmpd):
    from snmp.models import SNMPCredential

    user = snmpd.user("SHA-384", "AES-192")
    credential = SNMPCredential(name="lab", version="v3", security_name=user.name, auth_protocol=user.auth_protocol,
                                auth_key=user.auth_key, priv_protocol=user.priv_protocol, priv_key=user.priv_key,
                                timeout_ms=1500, retries=2)
    target = Target.from_credential(credential, snmpd.host, snmpd.port)
    assert (target.timeout, target.retries) == (1.5, 2)
    assert client.get_sync(target, [SYS_NAME])[SYS_NAME].text == snmpd.sys_name

    v2c_credential = SNMPCredential(name="lab-v2c", version="v2c", community=snmpd.community)
    assert Target.from_credential(v2c_credential, snmpd.host, snmpd.port) == community_target(snmpd, snmpd.community)


def test_it_keeps_secrets_out_of_a_targets_repr():
    target = Target("127.0.0.1", version="v3", security_name="u", auth_protocol="SHA", auth_key="secret-auth",
                    priv_protocol="AES", priv_key="secret-priv")
    assert "secret" not in repr(target) and "secret" not in str(target)


# --- engine lifecycle and concurrency -------------------------------------------------------------------------

def test_it_serves_consecutive_sync_calls_on_one_engine(snmpd):
    target = user_target(snmpd, snmpd.user("SHA", "AES"))
    first = client.get_sync(target, [SYS_NAME])
    engine = usm.current_engine().snmp
    second = client.get_sync(target, [SYS_NAME])
    assert first == second
    assert usm.current_engine().snmp is engine and engine.transport_dispatcher is None  # closed after each


def test_threads_poll_at_once_each_on_its_own_loop(snmpd):
    """The SNMP worker runs a batch per thread: v1/v2c and v3 requests of several threads in flight together all
    get their own answers, and each thread has an engine of its own."""
    targets = [community_target(snmpd, snmpd.community), user_target(snmpd, snmpd.user("SHA", "AES")),
               user_target(snmpd, snmpd.user("SHA"))]

    async def together() -> list[dict[str, Value]]:
        return await asyncio.gather(*(client.get(t, [SYS_NAME, SYS_UPTIME]) for t in targets))

    def poll_rounds() -> tuple[list[str], int]:
        names = [values[SYS_NAME].text for _ in range(6) for values in client.run(together())]
        return names, id(usm.current_engine())

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = [future.result() for future in [pool.submit(poll_rounds) for _ in range(4)]]
    assert all(names == [snmpd.sys_name] * 18 for names, _ in outcomes)
    assert len({engine for _, engine in outcomes}) == 4


def test_it_recovers_when_a_loop_ended_without_close(snmpd):
    target = community_target(snmpd, snmpd.community)
    assert asyncio.run(client.get(target, [SYS_NAME]))[SYS_NAME].text == snmpd.sys_name  # no close() here
    assert asyncio.run(client.get(target, [SYS_NAME]))[SYS_NAME].text == snmpd.sys_name
    client.close()


def test_it_polls_many_agents_at_once_and_reports_each_failure_in_its_place(snmpd, snmpsim):
    requests = [(community_target(snmpsim, community), [SYS_NAME, SYS_UPTIME]) for community in snmpsim.communities]
    requests.append((community_target(snmpd, "wrong-community", **FAST_FAIL), [SYS_NAME]))
    requests += [(user_target(snmpd, user), [SYS_NAME]) for user in snmpd.users[::4]]

    results = client.run(client.gather_limited(
        [functools.partial(client.get, target, oids) for target, oids in requests], limit=5))

    assert len(results) == len(requests)
    for (target, _), result in zip(requests[:len(snmpsim.communities)], results):
        assert as_pairs(result)[SYS_NAME] == snmpsim.recorded(target.community, "1.3.6.1.2.1.1.5")[SYS_NAME]
    assert isinstance(results[len(snmpsim.communities)], SNMPTimeout)
    assert all(result[SYS_NAME].text == snmpd.sys_name for result in results[len(snmpsim.communities) + 1:])
