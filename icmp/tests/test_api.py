from __future__ import annotations

import pytest

from devices.models import Device
from icmp import services
from tests.worker import wait_for
from wardsite.victoria import get_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def pinged(victoria_url) -> Device:
    device = Device.objects.create(name="lo", address="127.0.0.2")
    for _ in range(2):
        services.run_cycle([device.pk])
    get_client().flush()
    return device


def test_it_reports_current_status(api, pinged):
    rows = api.get("/api/v1/monitoring/icmp/status").json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["device"], row["state"], row["packet_loss"], row["flapping"]) == ("lo", "up", 0.0, False)
    assert row["rtt_avg_ms"] > 0


def test_it_returns_history_and_availability_from_victoriametrics(api, pinged):
    def history() -> dict | None:  # VictoriaMetrics hides the newest second: wait until the samples show
        get_client().flush()  # a new series is searchable only after about 10 s otherwise
        body = api.get(f"/api/v1/monitoring/icmp/history/{pinged.pk}?range=15m").json()
        return body if body["availability"] is not None and body["series"]["ping_up"] else None

    body = wait_for(history, 10, "availability to be computed")
    assert body["availability"] == 100.0
    assert body["series"]["ping_up"] and all(v == 1.0 for _, v in body["series"]["ping_up"])
    assert body["series"]["ping_rtt_ms"][-1][1] > 0


def test_it_rejects_a_bad_history_range(api, pinged):
    response = api.get(f"/api/v1/monitoring/icmp/history/{pinged.pk}?range=forever")
    assert response.status_code == 400
    assert "range" in response.json()


def test_it_answers_404_for_an_unknown_device(api, victoria_url):
    assert api.get("/api/v1/monitoring/icmp/history/999999").status_code == 404
