"""The history endpoint's sources: a higher app claims a device (icmp.history_sources), else VictoriaMetrics; and
the averaging down to the endpoint's number of points that claiming sources use."""
from __future__ import annotations

import pytest

from devices.models import Device
from icmp import history_sources
from icmp.history_sources import History, HistoryUnavailable, downsample
from icmp.services import HISTORY_METRICS


def test_it_averages_the_samples_of_each_step():
    # 60 s in 6 points: steps of 10 s ending at 1000, i.e. (940, 950] ... (990, 1000]
    samples = [(941, 1.0), (949, 3.0), (950, 5.0), (955, 2.0), (1000, 4.0)]
    assert downsample(samples, till=1000, seconds=60, points=6) == [(950, 3.0), (960, 2.0), (1000, 4.0)]


def test_it_keeps_at_most_points_and_nothing_outside_the_window():
    samples = [(t, float(t % 2)) for t in range(0, 1001)]  # one a second, 0 and 1 in turn
    down = downsample(samples, till=1000, seconds=100, points=7)  # steps of ceil(100 / 7) = 15 s
    assert len(down) == 7 and down[-1][0] == 1000 and down[0][0] == 1000 - 6 * 15
    assert all(0 < value < 1 for _, value in down)  # averages of both values
    assert downsample(samples, till=1000, seconds=3, points=300)[-1] == (1000, 0.0)  # steps of at least 1 s
    assert downsample([(899, 1.0), (1001, 1.0)], till=1000, seconds=100, points=10) == []
    assert downsample([(900, 2.0)], till=1000, seconds=100, points=10) == [(910, 2.0)]  # the first second counts


@pytest.fixture
def sources(monkeypatch) -> dict:
    """The registry emptied for the test (zabbix_bridge fills it at start-up)."""
    monkeypatch.setattr(history_sources, "history_sources", {})
    return history_sources.history_sources


@pytest.mark.django_db
def test_a_claiming_source_answers_instead_of_victoriametrics(api, sources, settings):
    settings.VICTORIA_URL = "http://127.0.0.1:9"  # not asked: it would answer 503
    ours, theirs = (Device.objects.create(name=name, address=address)
                    for name, address in (("ours", "127.0.0.2"), ("theirs", "127.0.0.3")))
    sources["other"] = lambda device, seconds, points: None
    sources["elsewhere"] = lambda device, seconds, points: (
        History({"ping_up": [(1.0, 1.0)]}, 100.0, f"elsewhere {seconds} {points}", "no RTT there")
        if device.name == "theirs" else None)

    body = api.get(f"/api/v1/monitoring/icmp/history/{theirs.pk}?range=2h").json()
    assert (body["source"], body["note"], body["availability"]) == ("elsewhere 7200 300", "no RTT there", 100.0)
    assert body["series"] == {name: [[1.0, 1.0]] if name == "ping_up" else [] for name in HISTORY_METRICS}
    assert api.get(f"/api/v1/monitoring/icmp/history/{ours.pk}").status_code == 503  # nobody claims it


@pytest.mark.django_db
def test_a_source_that_cannot_be_read_answers_502_with_its_reason(api, sources):
    device = Device.objects.create(name="theirs", address="127.0.0.3")

    def unreachable(device: Device, seconds: int, points: int) -> History:
        raise HistoryUnavailable("Zabbix zbx: cannot reach http://zbx/api_jsonrpc.php: connection refused")

    sources["elsewhere"] = unreachable
    response = api.get(f"/api/v1/monitoring/icmp/history/{device.pk}")
    assert response.status_code == 502
    assert response.json() == {"detail": "Zabbix zbx: cannot reach http://zbx/api_jsonrpc.php: connection refused"}
