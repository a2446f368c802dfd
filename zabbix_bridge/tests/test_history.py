"""The ping history and the device page's graphs of Zabbix devices, read from a real Zabbix 6.0
(tests/zabbix_server.py) through the same endpoints as our own devices: our metric names and units, trends beyond
7 days; 502 (history) and 503 (graphs) when Zabbix is away."""
from __future__ import annotations

import time

import pytest

from devices.choices import DeviceSource, MonitoringMode
from devices.models import Device, MonitoringProfile
from icmp.services import HISTORY_METRICS
from tests.worker import wait_for
from zabbix_bridge.client.session import _CountingAPI
from zabbix_bridge.models import ZabbixServer
from zabbix_bridge.services import sync_server

pytestmark = pytest.mark.django_db
HOUR = 3600
# what Zabbix's ICMP items said 30, 20 and 10 minutes ago: answered, answered, not
SENT = {"icmpping": (1, 1, 0), "icmppingsec": (0.0123, 0.015, 0), "icmppingloss": (0, 20, 100)}
VALUE_TYPES = {"icmpping": 3, "icmppingsec": 0, "icmppingloss": 0}  # as in Zabbix's "ICMP Ping" template
TRENDS = {"icmppingsec": (0.01, 0.03), "icmppingloss": (0, 50)}  # two values in one hour 9 days ago


@pytest.fixture
def watched(zabbix, zabbix_prefix):
    """Hybrid mode, a Zabbix group with a host whose ICMP items have history and a host with none, synced."""
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    group = f"{zabbix_prefix}g"
    gid = zabbix.group(group)
    pinged = zabbix.host(f"{zabbix_prefix}pinged", groupids=(gid,), ip="127.0.0.10")
    silent = zabbix.host(f"{zabbix_prefix}silent", groupids=(gid,), ip="127.0.0.11")
    for key, value_type in VALUE_TYPES.items():
        zabbix.trapper(pinged, key, value_type=value_type, expression="last(/{host}/{key})<0")
    now = time.time()
    hour = (int(now) // HOUR - 9 * 24) * HOUR
    for key, values in TRENDS.items():
        for minute, value in zip((10, 20), values):
            zabbix.send(pinged.host, key, value, clock=hour + minute * 60)
        zabbix.send(pinged.host, key, values[0], clock=hour + HOUR + 60)  # a later hour: the first one's trend
    for key, values in SENT.items():
        for minutes, value in zip((30, 20, 10), values):
            zabbix.send(pinged.host, key, value, clock=now - minutes * 60)
    server = ZabbixServer.objects.create(name=f"{zabbix_prefix}zbx", url=zabbix.url, api_token=zabbix.api_token,
                                         host_groups=[group])
    sync_server(server.pk)
    return {"server": server, "now": now, "hour": hour, "pinged": Device.objects.get(zabbix_host__hostid=pinged.hostid),
            "silent": Device.objects.get(zabbix_host__hostid=silent.hostid)}


def _history(api, device: Device, window: str, ready=lambda body: True, path: str = "monitoring/icmp/history/{}"):
    """The endpoint's answer once Zabbix's history syncer has written what `ready` waits for."""
    def answer() -> dict | None:
        response = api.get(f"/api/v1/{path.format(device.pk)}?range={window}")
        assert response.status_code == 200, response.content
        body = response.json()
        return body if ready(body) else None

    return wait_for(answer, 30, f"Zabbix history of {device.name} over {window}")


def _graphs(api, device: Device, window: str, counts: dict[str, int] | None = None) -> dict:
    """The device's graphs once each graph named in `counts` has at least that many points."""
    def ready(body: dict) -> bool:
        drawn = {g["key"]: sum(len(s["points"]) for s in g["series"]) for g in body["graphs"]}
        return all(drawn.get(key, 0) >= n for key, n in (counts or {}).items())

    return _history(api, device, window, ready, path="devices/{}/graphs/")


def _values(body: dict) -> dict[str, dict[str, list[float]]]:
    return {g["key"]: {s["label"]: [v for _, v in s["points"]] for s in g["series"]} for g in body["graphs"]}


def test_it_reads_a_zabbix_devices_ping_history_from_zabbix_in_our_units(api, watched):
    counts = ("ping_up", 3), ("ping_rtt_ms", 2), ("ping_packet_loss", 3)  # once the history syncer wrote them all
    body = _history(api, watched["pinged"], "1h", lambda b: all(len(b["series"][m]) == n for m, n in counts))

    assert (body["source"], body["note"]) == ("zabbix", None)
    assert body["availability"] == pytest.approx(200 / 3)
    series = body["series"]
    assert set(series) == set(HISTORY_METRICS)
    assert [v for _, v in series["ping_up"]] == [1, 1, 0]
    assert [v for _, v in series["ping_rtt_ms"]] == pytest.approx([12.3, 15.0])  # s -> ms; 0 (no answer) left out
    assert [v for _, v in series["ping_packet_loss"]] == [0, 20, 100]  # percent, as ours
    assert series["ping_rtt_min_ms"] == series["ping_rtt_max_ms"] == series["ping_jitter_ms"] == []
    step = 3600 / 300  # each point is stamped with the end of its step
    assert all(0 <= t - (watched["now"] - m * 60) < step for (t, _), m in zip(series["ping_up"], (30, 20, 10)))


def test_it_reads_hourly_trends_beyond_7_days(api, watched, monkeypatch):
    methods = []
    send = _CountingAPI.send_api_request
    monkeypatch.setattr(_CountingAPI, "send_api_request",
                        lambda client, method, *args: methods.append(method) or send(client, method, *args))
    # the trends of the hour 9 days ago and of the next, once the history syncer wrote them
    body = _history(api, watched["pinged"], "10d",
                    lambda b: all(len(b["series"][m]) >= 2 for m in ("ping_rtt_ms", "ping_packet_loss")))

    assert "trend.get" in methods and "history.get" not in methods
    series = body["series"]
    assert len(series["ping_rtt_ms"]) <= 300
    # the hour 9 days ago: Zabbix's hourly average (of 10 and 30 ms, 0 and 50 %), the only value in its step
    assert series["ping_rtt_ms"][0][1] == pytest.approx(20.0)
    assert series["ping_packet_loss"][0][1] == 25.0
    assert watched["hour"] <= series["ping_packet_loss"][0][0] < watched["hour"] + 10 * 24 * HOUR / 300


def test_a_zabbix_host_without_icmp_items_answers_empty_series_and_says_so(api, watched):
    body = _history(api, watched["silent"], "1h")

    assert body["source"] == "zabbix" and body["availability"] is None
    assert body["series"] == {name: [] for name in HISTORY_METRICS}
    assert body["note"] == (f"host {watched['silent'].zabbix_host.host} on Zabbix {watched['server'].name} has no "
                            "item icmpping, icmppingsec, icmppingloss")


def test_a_device_our_collectors_watch_still_reads_victoriametrics(api, watched, victoria_url):
    Device.objects.filter(pk=watched["pinged"].pk).update(icmp_enabled=True, source=DeviceSource.BOTH)

    body = api.get(f"/api/v1/monitoring/icmp/history/{watched['pinged'].pk}?range=1h").json()
    assert (body["source"], body["note"], body["series"]["ping_up"]) == ("victoriametrics", None, [])


@pytest.mark.parametrize("path, status", [("monitoring/icmp/history/{}", 502), ("devices/{}/graphs/", 503)])
def test_unreachable_zabbix_answers_502_or_503_with_the_reason(api, watched, zabbix, path, status):
    zabbix.stop_api()
    try:
        response = api.get(f"/api/v1/{path.format(watched['pinged'].pk)}?range=1h")
    finally:
        zabbix.start_api()
    assert response.status_code == status
    assert response.json() == {"detail": f"Zabbix {watched['server'].name}: cannot reach {zabbix.url}: "
                                         "connection refused"}


def test_a_zabbix_devices_graphs_are_drawn_from_zabbix_as_ours_are(api, watched):
    body = _graphs(api, watched["pinged"], "1h", {"rtt": 2, "loss": 3, "availability": 3})

    assert (body["source"], body["note"], body["interfaces"], body["step"]) == ("zabbix", None, [], 4)
    assert [(g["key"], g["title"], g["unit"]) for g in body["graphs"]] == [
        ("rtt", "Round-trip time", "ms"), ("loss", "Packet loss", "%"), ("availability", "Ping cycles answered", "%")]
    values = _values(body)
    assert values["rtt"]["avg"] == pytest.approx([12.3, 15.0])  # s -> ms; 0 (no answer) left out
    assert values["loss"] == {"loss": [0, 20, 100]} and values["availability"] == {"answered": [100, 100, 0]}
    times = [t for t, _ in body["graphs"][2]["series"][0]["points"]]
    assert all(0 <= t - (watched["now"] - m * 60) < 4 for t, m in zip(times, (30, 20, 10)))  # stamped at step end


def test_a_zabbix_devices_graphs_beyond_7_days_read_hourly_trends(api, watched, monkeypatch):
    methods = []
    send = _CountingAPI.send_api_request
    monkeypatch.setattr(_CountingAPI, "send_api_request",
                        lambda client, method, *args: methods.append(method) or send(client, method, *args))
    body = _graphs(api, watched["pinged"], "30d", {"rtt": 2, "loss": 2})

    assert "trend.get" in methods and "history.get" not in methods
    rtt = body["graphs"][0]["series"][0]["points"]
    assert len(rtt) <= 1000 and rtt[0][1] == pytest.approx(20.0)  # the hour 9 days ago: Zabbix's hourly average
    assert watched["hour"] <= rtt[0][0] < watched["hour"] + body["step"]


def test_a_zabbix_host_without_icmp_items_has_no_graphs_and_says_so(api, watched, victoria_url):
    body = _graphs(api, watched["silent"], "1h")
    assert (body["source"], body["graphs"]) == ("zabbix", [])
    assert body["note"] == (f"host {watched['silent'].zabbix_host.host} on Zabbix {watched['server'].name} has no "
                            "item icmpping, icmppingsec, icmppingloss")
    Device.objects.filter(pk=watched["pinged"].pk).update(icmp_enabled=True, source=DeviceSource.BOTH)
    assert _graphs(api, watched["pinged"], "1h")["source"] == "victoriametrics"  # our collectors watch it
