"""End to end: a scan asked for through the API is run by a real worker, and the run shows how it went."""
from __future__ import annotations

import pytest

from discovery.models import AllowedNetwork, DiscoveryRun
from snmp.models import SNMPCredential
from tests.worker import wait_for

pytestmark = [pytest.mark.e2e]


def test_a_scan_requested_by_the_api_runs_on_the_worker(celery_stack, api):
    AllowedNetwork.objects.create(network="127.0.0.0/8")
    SNMPCredential.objects.create(name="lab", version="v2c", community="public")
    answer = api.post("/api/v1/monitoring/discovery/scan", {"targets": "127.0.6.1-4", "credentials": ["lab"]},
                      format="json")
    assert answer.status_code == 202
    run = wait_for(lambda: DiscoveryRun.objects.filter(pk=answer.json()["run"], state="finished").first(), 60,
                   "the worker to finish the scan",
                   seen=lambda: list(DiscoveryRun.objects.values_list("state", "progress", "errors")))
    assert (run.progress, run.addresses, run.alive) == (100, 4, 4)
    shown = api.get(f"/api/v1/monitoring/discovery/results?run={run.pk}").json()
    assert sorted(r["ip"] for r in shown["results"]) == ["127.0.6.1", "127.0.6.2", "127.0.6.3", "127.0.6.4"]
