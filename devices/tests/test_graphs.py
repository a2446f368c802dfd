"""A device's graphs at /api/v1/devices/{id}/graphs: the series the ICMP and SNMP apps register, read from a real
VictoriaMetrics (several queries at once, in the page's order), never more than 1,000 points a series; the
interfaces the page may pick; a device an app above claims drawn from that app alone."""
from __future__ import annotations

import time

import pytest

from devices import graphs as device_graphs
from devices.graphs import MAX_POINTS, Claimed, GraphsUnavailable, chart
from devices.models import Device
from snmp.models import Interface, MonitoringItem
from tests.openapi import assert_conforms
from wardsite.victoria import Sample, get_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("victoria_url")]
NOW = int(time.time())


def _write(device: Device, metric: str, value_at, seconds: int, every: int = 30, **labels: str) -> None:
    """`metric` of `device` every `every` seconds over the last `seconds`, value_at(t) at t seconds ago."""
    base = {"device_id": str(device.pk), "device": device.name, **labels}
    get_client().write([Sample(metric, base, float(value_at(ago)), (NOW - ago) * 1000)
                        for ago in range(seconds, -1, -every)])


def _graphs(api, device: Device, **params) -> dict[str, dict]:
    get_client().flush()
    response = api.get(f"/api/v1/devices/{device.pk}/graphs/", params)
    assert response.status_code == 200, response.content
    return {graph["key"]: graph for graph in response.json()["graphs"]}


def _series(graph: dict) -> dict[str, list]:
    return {series["label"]: series["points"] for series in graph["series"]}


def test_a_pinged_device_shows_its_round_trip_times_loss_and_answered_cycles(api):
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    for metric, value in (("ping_rtt_min_ms", 1.0), ("ping_rtt_ms", 2.0), ("ping_rtt_max_ms", 4.0),
                          ("ping_packet_loss", 0.0)):
        _write(device, metric, lambda ago, v=value: v, 3600)
    _write(device, "ping_up", lambda ago: 0 if ago < 600 else 1, 3600)  # silent for the last 10 minutes
    graphs = _graphs(api, device, range="1h")
    assert list(graphs)[:3] == ["rtt", "loss", "availability"] and graphs["rtt"]["unit"] == "ms"
    rtt = _series(graphs["rtt"])
    assert set(rtt) == {"min", "avg", "max"} and {v for _, v in rtt["max"]} == {4.0}
    answered = [v for _, v in _series(graphs["availability"])["answered"]]
    assert answered[0] == 100.0 and answered[-1] == 0.0


def test_a_graph_never_asks_for_more_than_a_thousand_points(api):
    device = Device.objects.create(name="core-2", address="127.0.0.2")
    _write(device, "ping_rtt_ms", lambda ago: ago % 7, 2 * 86400, every=60)
    for asked in ({"range": "2d"}, {"range": "30d"}, {"range": "6h"}):
        points = _series(_graphs(api, device, **asked)["rtt"])["avg"]
        assert 0 < len(points) <= MAX_POINTS, asked
    assert len(_series(_graphs(api, device, range="2d")["rtt"])["avg"]) > 0.9 * MAX_POINTS  # and uses them


def test_the_busiest_interfaces_or_the_one_asked_for_and_each_numeric_item(api):
    device = Device.objects.create(name="sw-1", address="127.0.0.3", snmp_enabled=True)
    for n in range(1, 8):
        _write(device, "snmp_if_in_bps", lambda ago, n=n: n * 1000, 1800, ifName=f"Gi0/{n}", ifIndex=str(n))
        _write(device, "snmp_if_out_bps", lambda ago, n=n: 10_000 - n, 1800, ifName=f"Gi0/{n}", ifIndex=str(n))
    MonitoringItem.objects.create(device=device, name="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1",
                                  units="%")
    MonitoringItem.objects.create(device=device, name="sys_descr", oid="1.3.6.1.2.1.1.1.0", value_type="string")
    _write(device, "cpu_usage", lambda ago: 42, 1800)
    for n in range(1, 8):
        MonitoringItem.objects.create(device=device, name=f"temp_{n}", oid=f"1.3.6.1.4.1.9.9.13.1.3.1.3.{n}")
        _write(device, f"temp_{n}", lambda ago, n=n: n, 1800)
    graphs = _graphs(api, device, range="1h")
    assert list(graphs)[:4] == ["rtt", "loss", "availability", "traffic"]  # reachability first
    traffic = _series(graphs["traffic"])
    assert {label for label in traffic if label.startswith("in ")} == {f"in Gi0/{n}" for n in range(3, 8)}
    assert {label for label in traffic if label.startswith("out ")} == {f"out Gi0/{n}" for n in range(1, 6)}
    # the string item has no graph; the others by name, each with its own series (asked several at a time)
    items = [graph for key, graph in graphs.items() if key.startswith("item-")]
    assert [(item["title"], item["unit"]) for item in items] == [("cpu_usage", "%"),
                                                                *((f"temp_{n}", "") for n in range(1, 8))]
    assert [{v for series in item["series"] for _, v in series["points"]} for item in items] == [
        {42.0}, *({float(n)} for n in range(1, 8))]
    one = _series(_graphs(api, device, range="1h", interface="Gi0/1")["traffic"])
    assert set(one) == {"in Gi0/1", "out Gi0/1"} and {v for _, v in one["in Gi0/1"]} == {1000.0}


def test_a_device_that_is_not_monitored_has_no_graphs(api):
    device = Device.objects.create(name="spare", address="127.0.0.4", icmp_enabled=False)
    assert _graphs(api, device) == {}


@pytest.mark.parametrize("params, field", [
    ({"range": "soon"}, "range"), ({"range": "500d"}, "range"),
    ({"start": "2026-11-01T00:00:00Z"}, "end"), ({"end": "2026-11-01T00:00:00Z"}, "start"),
    ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "end"),
    ({"interface": "x" * 300}, "interface"),
])
def test_a_bad_range_is_refused_naming_the_field(api, params, field):
    device = Device.objects.create(name="core-3", address="127.0.0.5")
    response = api.get(f"/api/v1/devices/{device.pk}/graphs/", params)
    assert response.status_code == 400 and field in response.json(), response.content


def test_the_answer_lists_the_named_polled_interfaces_to_pick_from(api):
    device = Device.objects.create(name="sw-2", address="127.0.0.6", snmp_enabled=True)
    Interface.objects.create(device=device, if_index=2, name="Gi0/2", descr="GigabitEthernet0/2", alias="uplink")
    Interface.objects.create(device=device, if_index=1, name="Gi0/1", descr="GigabitEthernet0/1")
    Interface.objects.create(device=device, if_index=3, name="Gi0/3", enabled=False)  # not polled: no series
    Interface.objects.create(device=device, if_index=4, descr="no ifName")  # its series carry no name to ask by
    body = api.get(f"/api/v1/devices/{device.pk}/graphs/").json()
    assert (body["source"], body["note"]) == ("victoriametrics", None)
    assert body["interfaces"] == [{"name": "Gi0/1", "descr": "GigabitEthernet0/1", "alias": ""},
                                  {"name": "Gi0/2", "descr": "GigabitEthernet0/2", "alias": "uplink"}]
    Device.objects.filter(pk=device.pk).update(snmp_enabled=False)
    assert api.get(f"/api/v1/devices/{device.pk}/graphs/").json()["interfaces"] == []


def test_unreachable_victoriametrics_answers_503_with_the_reason(api, settings):
    device = Device.objects.create(name="sw-3", address="127.0.0.7", snmp_enabled=True)
    settings.VICTORIA_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = api.get(f"/api/v1/devices/{device.pk}/graphs/")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("VictoriaMetrics: ") and "127.0.0.1:9" in response.json()["detail"]
    assert_conforms(response, "get", "/api/v1/devices/{id}/graphs/")  # the schema says what a 503 holds


@pytest.fixture
def claims(monkeypatch) -> dict:
    """The claims emptied for the test (zabbix_bridge claims at start-up)."""
    monkeypatch.setattr(device_graphs, "_claims", {})
    return device_graphs._claims


def test_a_claimed_device_is_drawn_by_its_owner_alone(api, claims, settings):
    ours, theirs = (Device.objects.create(name=name, address=address, snmp_enabled=True)
                    for name, address in (("ours", "127.0.0.8"), ("theirs", "127.0.0.9")))
    Interface.objects.create(device=theirs, if_index=1, name="Gi0/1")

    def elsewhere(device: Device, start: float, end: float, options) -> Claimed | None:
        if device.name != "theirs":
            return None
        return Claimed([chart("rtt", "Round-trip time", "ms", [{"label": "avg", "points": [[end, 2.0]]}])],
                       f"from elsewhere, {end - start:.0f} s, interface {options.interface!r}")

    device_graphs.claim("nobody", lambda *args: None)
    device_graphs.claim("elsewhere", elsewhere)
    body = _graphs(api, theirs, range="2h", interface="Gi0/1")
    assert list(body) == ["rtt"] and body["rtt"]["series"][0]["points"][0][1] == 2.0
    answer = api.get(f"/api/v1/devices/{theirs.pk}/graphs/", {"range": "2h", "interface": "Gi0/1"}).json()
    assert (answer["source"], answer["note"], answer["interfaces"]) == (
        "elsewhere", "from elsewhere, 7200 s, interface 'Gi0/1'", [])
    settings.VICTORIA_URL = "http://127.0.0.1:9"  # asked for ours only: it answers 503
    assert api.get(f"/api/v1/devices/{ours.pk}/graphs/").status_code == 503
    assert api.get(f"/api/v1/devices/{theirs.pk}/graphs/").status_code == 200


def test_an_owner_that_cannot_read_answers_503_with_its_reason(api, claims):
    device = Device.objects.create(name="theirs", address="127.0.0.10")

    def unreachable(device: Device, start: float, end: float, options) -> Claimed:
        raise GraphsUnavailable("Zabbix zbx: cannot reach http://zbx/api_jsonrpc.php: connection refused")

    device_graphs.claim("elsewhere", unreachable)
    response = api.get(f"/api/v1/devices/{device.pk}/graphs/")
    assert (response.status_code, response.json()) == (
        503, {"detail": "Zabbix zbx: cannot reach http://zbx/api_jsonrpc.php: connection refused"})
