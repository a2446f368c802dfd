"""The discovery probe against real agents: net-snmp snmpd and snmpsim serving recordings of real devices."""
from __future__ import annotations

import asyncio
import socket

import pytest

from discovery import probe
from snmp import client
from snmp.client import SNMPType, Value
from snmp.models import SNMPCredential
from tests.snmp_agents import free_udp_port, parse_net_snmp

pytestmark = pytest.mark.django_db

SYSTEM = "1.3.6.1.2.1.1"
ENGINE_ID = "1.3.6.1.6.3.10.2.1.1.0"
ENT_CLASS, ENT_SERIAL, ENT_MODEL = "1.3.6.1.2.1.47.1.1.1.1.5", "1.3.6.1.2.1.47.1.1.1.1.11", "1.3.6.1.2.1.47.1.1.1.1.13"
IF_PHYS_ADDRESS, IF_NAME = "1.3.6.1.2.1.2.2.1.6", "1.3.6.1.2.1.31.1.1.1.1"
LLDP_REM, LLDP_LOC_PORT_ID, LLDP_MAN_ADDR = "1.0.8802.1.1.2.1.4.1.1", "1.0.8802.1.1.2.1.3.7.1.3", "1.0.8802.1.1.2.1.4.2.1.3"
CDP_CACHE = "1.3.6.1.4.1.9.9.23.1.2.1.1"


def v2c(name: str, community: str, timeout_ms: int = 3000) -> SNMPCredential:
    return SNMPCredential.objects.create(name=name, version="v2c", community=community, timeout_ms=timeout_ms,
                                         retries=1)


def wrong(name: str) -> SNMPCredential:
    return v2c(name, f"not-{name}", timeout_ms=300)


def probe_snmp(agent, *credentials: SNMPCredential) -> probe.SnmpProbe | None:
    return client.run(probe.probe_snmp(agent.host, credentials, port=agent.port))


def text(raw: bytes) -> str:
    """Octets as the client's values show them (UTF-8 text, else hex): some neighbours' names are GBK."""
    return Value(SNMPType.OCTETS, raw).text


def column(recorded: dict, root: str) -> dict[str, object]:
    """{row index: value} of one column of a recording."""
    return {oid[len(root) + 1:]: value for oid, (_, value) in recorded.items() if oid.startswith(root + ".")}


# --- credentials ----------------------------------------------------------------------------------------------

def test_it_tries_credentials_in_order_and_keeps_the_first_that_answers(snmpd):
    right, later = v2c("right", snmpd.community), v2c("later", snmpd.community)

    found = probe_snmp(snmpd, wrong("first"), right, later)

    assert found.credential_id == right.pk
    facts = found.facts
    assert (facts.sys_name, facts.sys_location, facts.sys_contact) == (
        snmpd.sys_name, snmpd.sys_location, snmpd.sys_contact)
    assert facts.sys_descr.startswith("Linux") and facts.sys_object_id == "1.3.6.1.4.1.8072.3.2.10"
    assert facts.sys_uptime_seconds is not None and facts.sys_uptime_seconds >= 0
    assert (facts.serial, facts.model, facts.neighbors) == ("", "", ())  # net-snmp has no ENTITY, LLDP or CDP tables


def test_it_gives_none_when_no_credential_answers(snmpd):
    user = snmpd.user("SHA", "AES")
    bad_key = SNMPCredential.objects.create(name="bad-key", version="v3", security_name=user.name,
                                            auth_protocol="SHA", auth_key="wrong-auth-key", priv_protocol="AES",
                                            priv_key=user.priv_key, timeout_ms=300, retries=0)

    assert probe_snmp(snmpd, wrong("one"), bad_key, wrong("two")) is None


def test_it_probes_with_a_v3_credential(snmpd):
    user = snmpd.user("SHA-256", "AES")
    v3 = SNMPCredential.objects.create(name="v3", version="v3", security_name=user.name,
                                       auth_protocol=user.auth_protocol, auth_key=user.auth_key,
                                       priv_protocol=user.priv_protocol, priv_key=user.priv_key)

    found = probe_snmp(snmpd, wrong("v2c"), v3)

    assert found.credential_id == v3.pk and found.facts.sys_name == snmpd.sys_name


def test_it_reads_the_engine_id_net_snmp_reports_the_same_on_every_probe(snmpd):
    credential = v2c("lab", snmpd.community)
    printed = parse_net_snmp(snmpd.net_snmp("snmpget", "-v2c", "-c", snmpd.community, "-On", "-Ox", snmpd.address,
                                            ENGINE_ID))

    first, second = probe_snmp(snmpd, credential).facts, probe_snmp(snmpd, credential).facts

    assert first.engine_id == printed[ENGINE_ID][1].hex() and first.engine_id == first.engine_id.lower()
    assert len(first.engine_id) >= 10 and first.engine_id == second.engine_id


# --- facts from recordings of real devices --------------------------------------------------------------------

@pytest.mark.parametrize("community", ["cisco-c3560", "huawei-s5720", "arista-dcs-7150s-52-cl", "juniper-mx960-12-3r6-6"])
def test_it_reads_the_facts_a_recording_holds(snmpsim, community):
    facts = probe_snmp(snmpsim, v2c(community, community)).facts

    system = column(snmpsim.recorded(community, SYSTEM), SYSTEM)
    assert facts.sys_descr == system["1.0"].decode() and facts.sys_object_id == system["2.0"]
    assert facts.sys_name == system["5.0"].decode() and facts.sys_uptime_seconds == system["3.0"] // 100
    assert facts.sys_location == system["6.0"].decode() and facts.sys_contact == system["4.0"].decode()
    assert facts.engine_id == snmpsim.recorded(community, "1.3.6.1.6.3.10.2.1")[ENGINE_ID][1].hex()
    macs = {raw.hex(":") for raw in column(snmpsim.recorded(community, IF_PHYS_ADDRESS), IF_PHYS_ADDRESS).values()
            if len(raw) == 6 and any(raw)}
    assert macs and facts.macs == macs


def entity_values(snmpsim, community: str, root: str) -> list[tuple[bool, str]]:
    """(on a chassis row?, value) of the non-empty values of an entPhysicalTable column, in entPhysicalIndex order."""
    classes = column(snmpsim.recorded(community, ENT_CLASS), ENT_CLASS)
    rows = sorted(column(snmpsim.recorded(community, root), root).items(), key=lambda row: int(row[0]))
    return [(classes.get(index) == 3, text(raw)) for index, raw in rows if raw]


@pytest.mark.parametrize("community", ["cisco-c3560", "huawei-s5720", "h3c-comware-7-1-075", "aruba-7210"])
def test_it_takes_serial_and_model_from_entity_mib_preferring_the_chassis_row(snmpsim, community):
    facts = probe_snmp(snmpsim, v2c(community, community)).facts

    for field, root in (("serial", ENT_SERIAL), ("model", ENT_MODEL)):
        values = entity_values(snmpsim, community, root)
        chassis = [value for on_chassis, value in values if on_chassis]
        assert getattr(facts, field) == (chassis or [value for _, value in values] or [""])[0]
    assert facts.serial


def test_the_chassis_row_wins_over_rows_before_it(snmpsim):
    facts = probe_snmp(snmpsim, v2c("h3c", "h3c-comware-7-1-075")).facts

    values = entity_values(snmpsim, "h3c-comware-7-1-075", ENT_SERIAL)
    assert not values[0][0] and facts.serial != values[0][1]  # a stack member's serial comes first in the table
    assert facts.serial == next(value for on_chassis, value in values if on_chassis)


def test_serial_and_model_are_empty_without_entity_mib(snmpsim):
    assert not snmpsim.recorded("juniper-mx960-12-3r6-6", ENT_SERIAL)

    facts = probe_snmp(snmpsim, v2c("juniper", "juniper-mx960-12-3r6-6")).facts

    assert (facts.serial, facts.model) == ("", "")


@pytest.mark.parametrize(("community", "local_names"), [
    ("juniper-mx960-12-3r6-6", IF_NAME),  # local ports numbered by ifIndex, their port ids are numbers
    ("arista-dcs-7150s-52-cl", LLDP_LOC_PORT_ID),  # local port ids are interface names
])
def test_it_reads_lldp_neighbours(snmpsim, community, local_names):
    facts = probe_snmp(snmpsim, v2c(community, community)).facts

    rem = snmpsim.recorded(community, LLDP_REM)
    chassis, ports, names = (column(rem, f"{LLDP_REM}.{arc}") for arc in (5, 7, 9))
    local = column(snmpsim.recorded(community, local_names), local_names)
    addresses = {}
    for index in column(snmpsim.recorded(community, LLDP_MAN_ADDR), LLDP_MAN_ADDR):
        arcs = index.split(".")
        if arcs[3] == "1":  # ipv4
            addresses.setdefault(".".join(arcs[1:3]), ".".join(arcs[5:]))
    expected = {("lldp", text(local[index.split(".")[1]]), text(names[index]), text(ports[index]),
                 chassis[index].hex(":"), addresses.get(index.split(".", 1)[1], "")) for index in chassis}
    assert expected and {(n.protocol, n.local_port, n.remote_name, n.remote_port, n.remote_chassis,
                          n.remote_address) for n in facts.neighbors} == expected
    assert all(n.remote_platform for n in facts.neighbors)


def test_it_reads_cdp_neighbours(snmpsim):
    facts = probe_snmp(snmpsim, v2c("c3560", "cisco-c3560")).facts

    cache = snmpsim.recorded("cisco-c3560", CDP_CACHE)
    addresses, ids, ports, platforms = (column(cache, f"{CDP_CACHE}.{arc}") for arc in (4, 6, 7, 8))
    if_names = column(snmpsim.recorded("cisco-c3560", IF_NAME), IF_NAME)
    expected = {("cdp", if_names[index.split(".")[0]].decode(), ids[index].decode(), ports[index].decode(), "",
                 socket.inet_ntoa(addresses[index]), platforms[index].decode()) for index in ids}
    assert len(expected) == len(ids) == 9
    assert {(n.protocol, n.local_port, n.remote_name, n.remote_port, n.remote_chassis, n.remote_address,
             n.remote_platform) for n in facts.neighbors} == expected


# --- TCP and many hosts ---------------------------------------------------------------------------------------

def closed_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_reports_the_tcp_ports_that_accept_and_closes_its_connections():
    async def scenario() -> tuple[tuple[int, ...], list[bytes], int]:
        seen: list[bytes] = []

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(await reader.read())  # b"" once the prober has closed its end
            writer.close()

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        listening = server.sockets[0].getsockname()[1]
        async with server:
            found = await probe.probe_tcp("127.0.0.1", [closed_tcp_port(), listening], timeout=1.0)
            await asyncio.sleep(0.1)
        return found, seen, listening

    found, seen, listening = asyncio.run(scenario())

    assert found == (listening,) and seen == [b""]


def test_it_probes_many_hosts_and_a_silent_one_gives_no_snmp(snmpsim):
    credentials = [wrong("first"), v2c("c3560", "cisco-c3560", timeout_ms=1000)]
    hosts = [snmpsim.host, "127.0.0.2", "127.0.0.3"]  # snmpsim listens on 127.0.0.1 only

    with socket.socket() as listener:
        listener.bind((snmpsim.host, 0))
        listener.listen()
        open_port = listener.getsockname()[1]
        found = client.run(probe.probe_many(hosts, credentials, port=snmpsim.port,
                                            tcp_ports=(open_port, closed_tcp_port()), limit=2))

    assert set(found) == set(hosts)
    assert found[snmpsim.host].snmp.credential_id == credentials[1].pk
    assert found[snmpsim.host].snmp.facts.sys_object_id.startswith("1.3.6.1.4.1.9.")
    assert found[snmpsim.host].open_ports == (open_port,)
    assert found["127.0.0.2"] == found["127.0.0.3"] == probe.HostProbe(snmp=None, open_ports=())


def test_a_host_without_an_agent_gives_none():
    found = client.run(probe.probe_snmp("127.0.0.1", [wrong("only")], port=free_udp_port()))

    assert found is None
