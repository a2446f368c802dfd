"""A device's graphs at /api/v1/devices/{id}/graphs: the series the ICMP and SNMP apps register, read from a real
VictoriaMetrics, never more than 1,000 points a series."""
from __future__ import annotations

import time

import pytest

from devices.graphs import MAX_POINTS
from devices.models import Device
from snmp.models import MonitoringItem
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
    graphs = _graphs(api, device, range="1h")
    assert list(graphs)[:4] == ["rtt", "loss", "availability", "traffic"]  # reachability first
    traffic = _series(graphs["traffic"])
    assert {label for label in traffic if label.startswith("in ")} == {f"in Gi0/{n}" for n in range(3, 8)}
    assert {label for label in traffic if label.startswith("out ")} == {f"out Gi0/{n}" for n in range(1, 6)}
    [item] = [graph for key, graph in graphs.items() if key.startswith("item-")]  # the string item has no graph
    assert (item["title"], item["unit"], {v for _, v in _series(item)["cpu_usage"]}) == ("cpu_usage", "%", {42.0})
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
