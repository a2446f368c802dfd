"""The Zabbix client against stand-ins of every version it supports (6.0 to 7.4), and how it fails."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zabbix_bridge.client import (Ack, Group, Host, Interface, Macro, Problem, SnmpDetails, ZabbixClient,
                                  ZabbixError, resolve_macro, versions)
from zabbix_bridge.tests.standin import HOST_FIELDS, TOKEN, StandIn, self_signed

VERSIONS = ["6.0.14", "6.2.9", "6.4.21", "7.0.13", "7.2.7", "7.4.2"]
CREDENTIALS = {"token": {"token": TOKEN}, "password": {"username": "Admin", "password": "zabbix"}}
UNAUTHENTICATED = {"apiinfo.version", "user.login", "user.checkAuthentication"}

SWITCH = Host(
    hostid="10601", host="sw-core-1", name="Core switch 1", enabled=True, in_maintenance=False,
    groups=(Group("22", "Switches"),),
    interfaces=(Interface("31", "snmp", True, "192.0.2.10", "161", True, "",
                          SnmpDetails(version=2, community="{$SNMP_COMMUNITY}", bulk=True)),),
    tags={"site": "dc1", "role": "core"},
    inventory={"location": "DC1 row 3", "location_lat": "52.5200", "location_lon": "13.4050", "vendor": "Cisco",
               "model": "C9300-48P", "serialno_a": "FOC2233X0AB"},
    templates=("Cisco IOS by SNMP",), templateids=("10218",), proxy="proxy-dc1",
    macros=(Macro("{$SNMP_COMMUNITY}", "", 1), Macro("{$IF.UTIL.MAX}", "90", 0)))
ROUTER = Host(
    hostid="10602", host="rtr-edge-1", name="rtr-edge-1", enabled=False, in_maintenance=True,
    groups=(Group("23", "Routers"),),
    interfaces=(Interface("32", "snmp", True, "198.51.100.1", "1161", False,
                          'Timeout while connecting to "198.51.100.1:1161".',
                          SnmpDetails(version=3, bulk=False, securityname="monitor", securitylevel=2, authprotocol=1,
                                      authpassphrase="auth-pass", privprotocol=1, privpassphrase="priv-pass")),),
    tags={}, inventory={}, templates=(), templateids=(), proxy="", macros=())
WEB = Host(
    hostid="10603", host="web-1", name="web-1", enabled=True, in_maintenance=False,
    groups=(Group("2", "Linux servers"), Group("22", "Switches")),
    interfaces=(Interface("33", "agent", True, "web-1.example.net", "10050", None, "", None),
                Interface("34", "jmx", True, "203.0.113.7", "12345", None, "", None)),
    tags={"service": ""}, inventory={"os": "Linux"}, templates=(), templateids=(),
    proxy="proxy-dc1",  # 7.0+: through a proxy group (monitored_by 2, assigned_proxyid)
    macros=())
PROBLEMS = [
    Problem("5003", "30003", "Web service slow behind core switch", 3, datetime.fromtimestamp(1760000200, UTC),
            "2.3 s", False, False, ("10601", "10603"), ()),
    Problem("5002", "30002", "rtr-edge-1: high ICMP ping loss", 2, datetime.fromtimestamp(1760000100, UTC),
            "", False, True, ("10602",), ()),
    Problem("5001", "30001", "Core switch 1 is unreachable", 4, datetime.fromtimestamp(1760000000, UTC),
            "Loss: 100 %", True, False, ("10601",), (Ack("Admin", 1760000300, "On it", 6, "1"),)),
]


@pytest.fixture
def standin(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    with StandIn(getattr(request, "param", "7.0.13")) as zabbix:
        yield zabbix


def connect(standin: StandIn, how: str = "token", **options: object) -> ZabbixClient:
    return ZabbixClient(standin.url, **CREDENTIALS[how], **options).connect()  # type: ignore[arg-type]


def refusal(action, *args: object, **kwargs: object) -> ZabbixError:
    with pytest.raises(ZabbixError) as caught:
        action(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("how", CREDENTIALS)
@pytest.mark.parametrize("standin", VERSIONS, indirect=True)
def test_it_reads_the_same_groups_hosts_and_problems_from_every_version(standin: StandIn, how: str) -> None:
    client = connect(standin, how)
    assert (client.version, client.calls) == (standin.version_text, 2)  # apiinfo.version + login or token check

    assert sorted(client.host_groups(), key=lambda g: g.name) == [
        Group("2", "Linux servers"), Group("23", "Routers"), Group("22", "Switches")]
    assert client.host_groups(["Switches", "Nope"]) == [Group("22", "Switches")]
    assert client.hosts() == [SWITCH, ROUTER, WEB]
    assert client.hosts(["23"]) == [ROUTER]
    assert client.problems() == PROBLEMS
    assert client.problems(["23"]) == [PROBLEMS[1]]
    assert client.calls == 2 + 2 + 3 + 2 + 2 + 2  # groups 1+1, hosts 3+2 (ids, details, proxies), problems 2+2

    client.close()
    assert standin.methods()[-1:] == (["user.logout"] if how == "password" else ["event.get"])
    assert standin.sessions == {}


@pytest.mark.parametrize("standin", VERSIONS, indirect=True)
def test_it_sends_credentials_and_parameters_as_the_version_wants(standin: StandIn) -> None:
    client = connect(standin)
    client.hosts()
    client.problems()
    authenticated = [r for r in standin.received if r.method not in UNAUTHENTICATED]
    if standin.version < (6, 4):
        assert all(r.body_auth == TOKEN and r.bearer is None for r in authenticated)
    else:
        assert all(r.bearer == TOKEN and r.body_auth is None for r in authenticated)
    details = next(r.params for r in standin.received if r.method == "host.get" and "hostids" in r.params)
    proxy = next(r.params for r in standin.received if r.method == "proxy.get")
    event = next(r.params for r in standin.received if r.method == "event.get")
    sent = ({"selectGroups", "selectHostGroups"} & set(details), set(details["output"]) - set(HOST_FIELDS),
            set(proxy["output"]) - {"proxyid"}, {"select_acknowledges", "selectAcknowledges"} & set(event))
    expected = {
        (6, 0): ({"selectGroups"}, {"proxy_hostid"}, {"host"}, {"select_acknowledges"}),
        (6, 2): ({"selectHostGroups"}, {"proxy_hostid"}, {"host"}, {"select_acknowledges"}),
        (7, 0): ({"selectHostGroups"}, {"proxyid", "monitored_by", "assigned_proxyid"}, {"name"},
                 {"select_acknowledges"}),
        (7, 2): ({"selectHostGroups"}, {"proxyid", "monitored_by", "assigned_proxyid"}, {"name"},
                 {"selectAcknowledges"}),
    }
    assert sent == expected[max(v for v in expected if v <= standin.version)]


@pytest.mark.parametrize("standin", VERSIONS, indirect=True)
def test_it_acknowledges_and_closes_with_the_action_bits(standin: StandIn) -> None:
    client = connect(standin, "password")
    client.acknowledge(["5003"], "Looking at it")
    client.acknowledge(["5002"], "Fixed the uplink", close=True)
    assert [r.params for r in standin.received if r.method == "event.acknowledge"] == [
        {"eventids": ["5003"], "action": 2 | 4, "message": "Looking at it"},
        {"eventids": ["5002"], "action": 1 | 2 | 4, "message": "Fixed the uplink"}]
    by_id = {p.eventid: p for p in client.problems()}
    assert set(by_id) == {"5003", "5001"}  # 5002 closed
    [ack] = by_id["5003"].acknowledges
    assert (by_id["5003"].acknowledged, ack.username, ack.message, ack.action) == (True, "Admin", "Looking at it", 6)


@pytest.mark.parametrize("standin", ["6.0.14", "7.4.2"], indirect=True)
def test_it_passes_on_zabbix_refusing_to_close(standin: StandIn) -> None:
    client = connect(standin)
    error = refusal(client.acknowledge, ["5001"], "Done", close=True)
    assert (error.kind, str(error)) == (
        "api", "Zabbix API error in event.acknowledge: Cannot close problem: trigger does not allow manual closing.")
    error = refusal(client.acknowledge, ["999"], "Done")
    assert str(error).endswith("No permissions to referred object or it does not exist!")


@pytest.mark.parametrize("standin", ["6.0.14"], indirect=True)
def test_it_never_sends_6_0_a_bit_it_refuses(standin: StandIn) -> None:
    assert versions.dialect((6, 0)).ack_actions == 31
    error = refusal(connect(standin)._call, "event.acknowledge", {"eventids": ["5003"], "action": 32})
    assert str(error) == ('Zabbix API error in event.acknowledge: Incorrect value for field "action": '
                          'unexpected value "32".')


@pytest.mark.parametrize(("version", "wrong_as", "error"), [
    ("6.0.14", (6, 2), "Zabbix 6.0.14 ignored selectHostGroups in host.get: no hostgroups in its answer"),
    ("7.2.7", (6, 0), 'Zabbix API error in host.get: Invalid parameter "/": unexpected parameter "selectGroups".'),
    ("7.0.13", (6, 4), 'Zabbix API error in host.get: Invalid parameter "/output/7": value must be one of "hostid"'),
    ("6.4.21", (7, 2), "Zabbix 6.4.21 ignored selectAcknowledges in event.get: no acknowledges in its answer"),
    ("7.4.2", (7, 0), 'Zabbix API error in event.get: Invalid parameter "/": unexpected parameter '
                      '"select_acknowledges"'),
])
def test_the_standins_refuse_what_their_version_refuses(version: str, wrong_as: tuple[int, int], error: str) -> None:
    with StandIn(version) as standin:
        client = connect(standin)
        client._dialect = versions.dialect(wrong_as)  # what a client ignoring the version differences would send
        read = client.problems if "event.get" in error or "acknowledges" in error else client.hosts
        assert str(refusal(read)).startswith(error)


@pytest.mark.parametrize(("version", "header", "body", "answer"), [
    ("6.0.14", True, False, "Not authorized."),  # 6.0 reads only `auth` in the body
    ("7.2.7", False, True, 'Invalid parameter "/": unexpected parameter "auth".'),
    ("7.4.2", True, False, None),
    ("6.4.21", False, True, None),
])
def test_the_standins_take_credentials_where_their_version_does(version: str, header: bool, body: bool,
                                                               answer: str | None) -> None:
    with StandIn(version) as standin:
        request = {"jsonrpc": "2.0", "method": "hostgroup.get", "params": {}, "id": 1}
        request.update({"auth": TOKEN} if body else {})
        reply = standin.answer(request, TOKEN if header else None)
        assert reply.get("error", {}).get("data") == answer


def test_it_pages_so_calls_do_not_grow_with_hosts(standin: StandIn) -> None:
    client = ZabbixClient(standin.url, token=TOKEN, chunk=500).connect()
    few = calls_of(client, client.hosts)
    standin.add_hosts(1200)
    many = calls_of(client, client.hosts)
    assert (few, many) == (3, 5)  # ids, details in chunks of 500 (1 for 3 hosts, 3 for 1203), proxy names
    assert len(client.hosts(["22"])) == 1202
    assert calls_of(client, client.problems) == 2  # problems, then their events in one chunk


def calls_of(client: ZabbixClient, read) -> int:
    before = client.calls
    read()
    return client.calls - before


@pytest.mark.parametrize("version", ["5.0.1", "8.0.0", "7.6.0", "5.4.0"])
def test_it_refuses_unsupported_versions_before_logging_in(version: str) -> None:
    with StandIn(version) as standin:
        client = ZabbixClient(standin.url, username="Admin", password="zabbix")
        error = refusal(client.connect)
        assert (error.kind, str(error)) == ("unsupported", f"Zabbix {version} is not supported (6.0 to 7.4)")
        assert standin.methods() == ["apiinfo.version"] and client.calls == 1


@pytest.mark.parametrize("standin", ["6.0.14", "7.4.2"], indirect=True)
def test_it_says_which_credential_zabbix_refused(standin: StandIn) -> None:
    error = refusal(ZabbixClient(standin.url, token="f" * 64).connect)
    assert (error.kind, str(error)) == ("auth", "Zabbix refused the API token: Not authorized.")
    error = refusal(ZabbixClient(standin.url, username="Admin", password="wrong").connect)
    assert (error.kind, str(error)) == (
        "auth", "Zabbix refused user Admin: Incorrect user name or password or account is temporarily blocked.")
    client = connect(standin, "password")
    standin.sessions.clear()  # the session expired in Zabbix
    error = refusal(client.hosts)
    assert (error.kind, str(error)) == ("auth", "Zabbix refused user Admin: Session terminated, re-login, please.")


def test_it_names_a_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = refusal(ZabbixClient(f"http://127.0.0.1:{port}", token=TOKEN).connect)
    assert (error.kind, str(error)) == ("unreachable", f"cannot reach http://127.0.0.1:{port}/api_jsonrpc.php: "
                                                       "connection refused")


def test_it_names_a_url_without_zabbix(standin: StandIn) -> None:
    wrong = standin.url.replace("/api_jsonrpc.php", "/zabbix/")
    error = refusal(ZabbixClient(wrong, token=TOKEN).connect)
    assert (error.kind, str(error)) == ("unreachable", f"no Zabbix API at {wrong}api_jsonrpc.php: HTTP 404 Not Found")
    standin.garbage = True
    error = refusal(ZabbixClient(standin.url, token=TOKEN).connect)
    assert error.kind == "unreachable"
    assert str(error).startswith(f"no Zabbix API at {standin.url}: the answer is not JSON (Expecting value")


def test_it_gives_up_after_the_timeout(standin: StandIn) -> None:
    standin.delay = 1.5
    started = datetime.now()
    error = refusal(ZabbixClient(standin.url, token=TOKEN, timeout=1).connect)
    assert (error.kind, str(error)) == ("timeout", f"{standin.url} did not answer apiinfo.version within 1 s")
    assert datetime.now() - started < timedelta(seconds=1.4)


def test_it_says_when_zabbix_goes_away_in_the_middle(standin: StandIn) -> None:
    client = connect(standin)
    standin.answer_only = len(standin.received) + 1  # the ids, then nothing
    error = refusal(client.hosts)
    assert (error.kind, str(error)) == (
        "unreachable",
        f"connection to {standin.url} lost during host.get: remote end closed connection without response")
    assert client.calls == 4


def test_it_checks_tls_certificates(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with StandIn("7.0.13", tls=(cert, key)) as standin:
        assert standin.url.startswith("https://")
        error = refusal(ZabbixClient(standin.url, token=TOKEN).connect)
        assert (error.kind, str(error)) == (
            "tls", f"TLS certificate of {standin.url} not trusted: self-signed certificate")
        assert ZabbixClient(standin.url, token=TOKEN, ca_file=str(cert)).connect().version == "7.0.13"
        assert ZabbixClient(standin.url, token=TOKEN, verify_tls=False).connect().version == "7.0.13"
        error = refusal(ZabbixClient(standin.url, token=TOKEN, ca_file=str(tmp_path / "missing.pem")).connect)
        assert error.kind == "tls" and str(error).startswith(f"cannot use CA file {tmp_path / 'missing.pem'}: ")
        error = refusal(ZabbixClient(standin.url.replace("https", "http"), token=TOKEN, timeout=2).connect)
        assert error.kind == "unreachable"  # plain HTTP to a TLS port: the server drops it
    with StandIn("7.0.13") as plain:
        error = refusal(ZabbixClient(plain.url.replace("http", "https"), token=TOKEN).connect)
        assert (error.kind, str(error)) == ("tls", f"TLS with {plain.url.replace('http', 'https')} failed: "
                                                   "WRONG_VERSION_NUMBER (it does not speak TLS there: plain HTTP?)")


def test_it_logs_in_with_what_it_is_given_not_the_environment(standin: StandIn,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZABBIX_USER", "intruder")  # zabbix_utils would log in with these from its constructor
    monkeypatch.setenv("ZABBIX_PASSWORD", "x")
    monkeypatch.setenv("ZABBIX_TOKEN", "e" * 64)
    assert connect(standin, "token").calls == connect(standin, "password").calls == 2
    assert [r.params for r in standin.received if r.method == "user.login"] == [
        {"username": "Admin", "password": "zabbix"}]
    error = refusal(ZabbixClient, standin.url)
    assert (error.kind, str(error)) == ("auth", "no credentials: give an API token, or a username and password")


@pytest.mark.parametrize("standin", ["6.0.14", "7.2.7"], indirect=True)
def test_it_reads_pings_and_history(standin: StandIn) -> None:
    client = connect(standin)
    assert client.icmp_ping(["10601", "10602", "10603", "10604"]) == {"10601": (1.0, 1760000600),
                                                                       "10602": (0.0, 1760000590)}
    day = datetime.fromtimestamp(1760000000, UTC)
    assert client.history("10601", "icmppingsec", day, day + timedelta(minutes=1)) == [
        (1760000000, 0.0011), (1760000060, 0.0013)]
    assert client.history("10601", "system.descr", day, day) == [
        (1760000000, "Cisco IOS XE Software, Version 17.9.4")]
    assert client.history("10601", "icmppingsec", day - timedelta(days=8), day) == [
        (1759392000, 0.0010), (1759996800, 0.0012)]
    assert [m for m in standin.methods() if m.endswith((".get",)) and m[0] in "ht"] == [
        "history.get", "history.get", "trend.get"]
    error = refusal(client.history, "10602", "nope", day, day)
    assert (error.kind, str(error)) == ("api", "Zabbix has no item nope on host 10602")


def test_it_resolves_macros_host_then_templates_then_global(standin: StandIn) -> None:
    client = connect(standin)
    switch, router = (h for h in client.hosts() if h.hostid in ("10601", "10602"))
    templates = client.template_macros(list(switch.templateids))
    assert sorted(templates) == ["10204", "10218"] and templates["10218"].parentids == ("10204",)
    globals_ = client.global_macros()
    assert resolve_macro("{$SNMP_COMMUNITY}", switch, templates, globals_) == Macro("{$SNMP_COMMUNITY}", "", 1)
    assert resolve_macro("{$SNMP.TIMEOUT}", switch, templates, globals_) == Macro("{$SNMP.TIMEOUT}", "3m", 0)
    assert resolve_macro("{$SNMP_COMMUNITY}", router, templates, globals_) == Macro("{$SNMP_COMMUNITY}", "public", 0)
    assert resolve_macro("{$NONE}", router, templates, globals_) is None
    assert tuple(switch.groups[0]) == ("22", "Switches")
