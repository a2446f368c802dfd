"""The Zabbix client against the real Zabbix 6.0 that tests/zabbix_server.py starts (fixture `zabbix`)."""
from __future__ import annotations


import pytest

from tests.zabbix_server import Zabbix
from zabbix_bridge.client import Group, Interface, Macro, SnmpDetails, ZabbixClient, ZabbixError


def clients(zabbix: Zabbix) -> list[ZabbixClient]:
    return [ZabbixClient(zabbix.url, token=zabbix.api_token),
            ZabbixClient(zabbix.url, username=zabbix.username, password=zabbix.password)]


def test_it_reads_groups_hosts_and_problems_from_zabbix_6_0(zabbix: Zabbix, zabbix_prefix: str) -> None:
    groupid = zabbix.group(f"{zabbix_prefix}switches")
    host = zabbix.host(f"{zabbix_prefix}sw", groupids=(groupid,), interface="snmp", ip="127.0.0.3",
                       macros={"{$SNMP_COMMUNITY}": "public"}, tags=[{"tag": "site", "value": "lab"}],
                       inventory_mode=0, inventory={"location": "Rack 1", "vendor": "Cisco"})
    trapper = zabbix.trapper(host, "icmpping")
    zabbix.raise_problem(host)
    for client in clients(zabbix):
        with client:
            assert client.version.startswith("6.0.")
            assert client.host_groups([f"{zabbix_prefix}switches"]) == [Group(groupid, f"{zabbix_prefix}switches")]
            [found] = client.hosts([groupid])
            [problem] = client.problems([groupid])
            pings = client.icmp_ping([host.hostid])
        assert (found.hostid, found.host, found.enabled, found.groups) == (
            host.hostid, host.host, True, (Group(groupid, f"{zabbix_prefix}switches"),))
        [interface] = found.interfaces
        assert interface == Interface(interface.interfaceid, "snmp", True, "127.0.0.3", "161", None, "",
                                      SnmpDetails(version=2, community="{$SNMP_COMMUNITY}", bulk=True))
        assert (found.tags, found.inventory, found.macros, found.proxy) == (
            {"site": "lab"}, {"location": "Rack 1", "vendor": "Cisco"}, (Macro("{$SNMP_COMMUNITY}", "public", 0),), "")
        assert (problem.triggerid, problem.name, problem.severity, problem.hostids, problem.acknowledged) == (
            trapper.triggerid, f"{host.host} is unreachable", 4, (host.hostid,), False)
        assert pings[host.hostid][0] == 0.0


def test_it_acknowledges_in_zabbix_6_0_and_passes_on_its_refusal(zabbix: Zabbix, zabbix_prefix: str) -> None:
    host = zabbix.host(f"{zabbix_prefix}rtr")
    zabbix.trapper(host, "icmpping")
    [raw] = zabbix.raise_problem(host)
    with ZabbixClient(zabbix.url, token=zabbix.api_token) as client:
        client.acknowledge([raw["eventid"]], "Looking at it")
        with pytest.raises(ZabbixError) as refused:
            client.acknowledge([raw["eventid"]], "Done", close=True)
        [problem] = client.problems(list(host.groupids))
    assert (refused.value.kind, str(refused.value)) == (
        "api", "Zabbix API error in event.acknowledge: Cannot close problem: trigger does not allow manual closing.")
    assert problem.acknowledged
    assert [(a.username, a.message, a.action) for a in problem.acknowledges] == [("Admin", "Looking at it", 6)]


def test_it_says_what_zabbix_6_0_refused(zabbix: Zabbix) -> None:
    with pytest.raises(ZabbixError) as token:
        ZabbixClient(zabbix.url, token="0" * 64).connect()
    with pytest.raises(ZabbixError) as password:
        ZabbixClient(zabbix.url, username="Admin", password="wrong").connect()
    assert (token.value.kind, str(token.value)) == ("auth", "Zabbix refused the API token: Not authorized.")
    assert (password.value.kind, str(password.value)) == (
        "auth", "Zabbix refused user Admin: Incorrect user name or password or account is temporarily blocked.")


def test_it_says_when_zabbix_6_0_goes_away(zabbix: Zabbix) -> None:
    client = ZabbixClient(zabbix.url, token=zabbix.api_token).connect()
    zabbix.stop_api()
    try:
        with pytest.raises(ZabbixError) as gone:
            client.hosts()
    finally:
        zabbix.start_api()
    assert (gone.value.kind, str(gone.value)) == ("unreachable", f"cannot reach {zabbix.url}: connection refused")
    assert client.host_groups(["Linux servers"])[0].name == "Linux servers"  # the token still works
