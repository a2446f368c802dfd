"""The Zabbix test scaffolding (tests/zabbix_server.py) against the real Zabbix 6.0 it starts."""
from __future__ import annotations

import logging
import time

import pytest
import requests

from tests.zabbix_server import Zabbix, ZabbixAPIError

log = logging.getLogger(__name__)


def test_api_is_zabbix_6_0(zabbix: Zabbix) -> None:
    assert zabbix.call("apiinfo.version").startswith("6.0.")


def test_api_token_authenticates_as_admin(zabbix: Zabbix) -> None:
    users = zabbix.call("user.get", {"filter": {"username": "Admin"}, "output": ["userid"]}, auth=zabbix.api_token)
    assert [user["userid"] for user in users] == ["1"]
    with pytest.raises(ZabbixAPIError, match="Not authorized|Session terminated"):
        zabbix.call("user.get", {"output": ["userid"]}, auth="0" * 64)


def test_trapper_value_raises_and_resolves_a_real_problem(zabbix: Zabbix, zabbix_prefix: str) -> None:
    host = zabbix.host(f"{zabbix_prefix}router")
    trapper = zabbix.trapper(host, "icmpping", description="{HOST.NAME} is unreachable")
    started = time.monotonic()
    problems = zabbix.raise_problem(host)
    log.info("a new host's trapper value raised a problem in %.1f s", time.monotonic() - started)
    assert [(p["objectid"], p["name"], p["severity"]) for p in problems] == [
        (trapper.triggerid, f"{zabbix_prefix}router is unreachable", "4")]

    zabbix.send(host.host, "icmpping", 1)
    assert zabbix.wait_problem(host.hostid, present=False) == []


def test_manual_close_trigger_can_be_closed(zabbix: Zabbix, zabbix_prefix: str) -> None:
    host = zabbix.host(f"{zabbix_prefix}switch")
    zabbix.trapper(host, "linkdown", expression="last(/{host}/{key})>0", manual_close=True)
    [problem] = zabbix.raise_problem(host, "linkdown", 1)
    zabbix.call("event.acknowledge", {"eventids": [problem["eventid"]], "action": 1})  # 1: close
    assert zabbix.wait_problem(host.hostid, present=False) == []


def test_snmp_host_has_the_details_asked_for(zabbix: Zabbix, zabbix_prefix: str) -> None:
    v2 = zabbix.host(f"{zabbix_prefix}v2", interface="snmp", macros={"{$SNMP_COMMUNITY}": "public"})
    v3 = zabbix.host(f"{zabbix_prefix}v3", interface="snmp", ip="127.0.0.2", port=1161, snmp={
        "version": 3, "securityname": "monitor", "securitylevel": 2, "authprotocol": 1, "authpassphrase": "auth-pass",
        "privprotocol": 1, "privpassphrase": "priv-pass"})
    interfaces = {i["hostid"]: i for i in zabbix.call("hostinterface.get", {"hostids": [v2.hostid, v3.hostid]})}
    assert interfaces[v2.hostid]["details"]["community"] == "{$SNMP_COMMUNITY}"
    assert interfaces[v2.hostid]["details"]["version"] == "2"
    assert (interfaces[v3.hostid]["ip"], interfaces[v3.hostid]["port"]) == ("127.0.0.2", "1161")
    assert {key: interfaces[v3.hostid]["details"][key] for key in ("version", "securityname", "securitylevel")} == {
        "version": "3", "securityname": "monitor", "securitylevel": "2"}
    [macro] = zabbix.call("usermacro.get", {"hostids": [v2.hostid], "output": ["macro", "value"]})
    assert (macro["macro"], macro["value"]) == ("{$SNMP_COMMUNITY}", "public")


def test_api_stops_and_starts_again(zabbix: Zabbix) -> None:
    zabbix.stop_api()
    try:
        with pytest.raises(requests.ConnectionError):
            zabbix.call("apiinfo.version")
    finally:
        zabbix.start_api()
    assert zabbix.call("host.get", {"countOutput": True}, auth=zabbix.api_token)
