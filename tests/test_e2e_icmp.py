"""End to end: beat + a real worker ping devices, set their state and write series to VictoriaMetrics."""
from __future__ import annotations

import time

import pytest

from devices.models import Device
from icmp.models import PingSettings
from tests.worker import wait_for
from wardsite.victoria import get_client

pytestmark = [pytest.mark.e2e]

OUTAGE_SECONDS = 20  # ten cycles spooled; the write breaker (30 s) outlasts it, so the replay waits for it too


def state_of(device: Device) -> str:
    return Device.objects.values_list("state", flat=True).get(pk=device.pk)


def fast_settings(device: Device) -> None:
    PingSettings.objects.create(device=device, interval_seconds=2, packets=1, packet_interval_ms=100,
                                timeout_ms=400, down_after=3)


def test_it_monitors_devices_with_beat_and_worker(celery_stack, netns):
    local = Device.objects.create(name="lo-2", address="127.0.0.2")
    remote = Device.objects.create(name="ns-host", address=netns.answering[1])
    fast_settings(remote)
    wait_for(lambda: state_of(local) == "up" and state_of(remote) == "up", 60, "devices to come up")

    netns.silence(remote.address)
    try:
        wait_for(lambda: state_of(remote) == "down", 60, "the silenced device to go down")
    finally:
        netns.restore(remote.address)
    wait_for(lambda: state_of(remote) == "up", 60, "the device to come back up")
    assert list(remote.state_changes.order_by("at").values_list("new", flat=True)) == ["up", "down", "up"]

    client = get_client()
    client.flush()

    selector = f'ping_up{{device_id="{remote.pk}"}}[10m]'

    def over_time(function: str) -> float:
        client.flush()  # a new series is searchable only after about 10 s otherwise
        rows = client.query(f"{function}({selector})")
        return float(rows[0]["value"][1]) if rows else 0.0

    # one good cycle, three failed ones, one good one at least; the newest second shows up a moment later
    wait_for(lambda: over_time("count_over_time") >= 5, 10, "five ping_up samples")
    failed_cycles = over_time("count_over_time") - over_time("sum_over_time")
    assert failed_cycles >= 3


def test_it_keeps_the_samples_written_while_victoriametrics_was_down(celery_stack, victoria):
    device = Device.objects.create(name="lo-3", address="127.0.0.3")
    fast_settings(device)
    wait_for(lambda: state_of(device) == "up", 60, "the device to come up")
    client = get_client()
    victoria.stop()
    outage_start = time.time()
    try:
        time.sleep(OUTAGE_SECONDS)  # monitoring goes on meanwhile, a cycle every 2 s
        assert client.spool_size() > 0
    finally:
        outage_end = time.time()
        victoria.start()
    wait_for(lambda: client.spool_size() == 0, 90, "the spool to be replayed")
    client.flush()
    window = int(outage_end - outage_start)
    counted = client.query(f'count_over_time(ping_up{{device_id="{device.pk}"}}[{window}s])', at=outage_end)
    # without the spool there would be no sample at all in the outage window
    assert float(counted[0]["value"][1]) >= window / 4
