"""Collection never waits on storage: ICMP cycles and SNMP polls while a VictoriaMetrics of the test's own is
stopped or hung (SIGSTOP), then every sample of the outage found in it after replay.

A device silenced in a test namespace of this module's own (198.19.77.0/24, apart from the session's) must go
down on time although nothing can be written meanwhile.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from devices.models import Device
from icmp import services as icmp
from icmp.models import PingSettings, PingStatus
from snmp import services as snmp
from snmp.models import SNMPCredential, SNMPStatus
from tests.netns import NetnsUnavailable, TestNetwork, remove_stale_namespaces
from tests.services import VictoriaServer, free_port, own_victoria
from tests.worker import wait_for
from wardsite.victoria import VictoriaError, get_client, spool_stats

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("snmp_counter_state")]

DOWN_AFTER = 3


@pytest.fixture(scope="module")
def own_netns() -> Iterator[TestNetwork]:
    remove_stale_namespaces()
    try:
        net = TestNetwork.create("198.19.77", suffix="-vo")
    except NetnsUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield net
    finally:
        net.destroy()


@pytest.fixture
def vm(tmp_path, settings, redis_spool) -> Iterator[VictoriaServer]:
    """A VictoriaMetrics of this test's own (to stop and hang), short write timeout and breaker."""
    with own_victoria(tmp_path / "vm") as server:
        settings.VICTORIA_URL = server.url
        settings.VICTORIA_WRITE_TIMEOUT = 1
        settings.VICTORIA_BREAKER_SECONDS = 2
        yield server


def _devices(netns: TestNetwork, snmpd) -> tuple[list[Device], Device, Device]:
    """Three loopback hosts and a namespace host that will go silent (pinged), and an SNMP-only device."""
    pinged = [Device.objects.create(name=f"lo{i}", address=f"127.0.0.{i}") for i in (2, 3, 4)]
    silent = Device.objects.create(name="goes-silent", address=netns.answering[0])
    for device in [*pinged, silent]:
        PingSettings.objects.create(device=device, interval_seconds=1, packets=1, packet_interval_ms=50,
                                    timeout_ms=300, down_after=DOWN_AFTER)
    credential = SNMPCredential.objects.create(name="outage", version="v2c", community=snmpd.community,
                                               timeout_ms=1000, retries=1)
    polled = Device.objects.create(name="snmp-only", address=snmpd.host, snmp_port=snmpd.port, snmp_enabled=True,
                                   snmp_credential=credential, icmp_enabled=False)
    return [*pinged, silent], silent, polled


def _exported(url: str, start: float, end: float) -> dict[tuple[str, tuple], list[int]]:
    """Every raw sample stored between `start` and `end` (Unix s): {(metric, labels): [timestamp ms, ...]}."""
    requests.get(f"{url}/internal/force_flush", timeout=10).raise_for_status()
    response = requests.get(f"{url}/api/v1/export", params={"match[]": '{device_id!=""}', "start": start,
                                                            "end": end}, timeout=30)
    response.raise_for_status()
    series = [json.loads(line) for line in response.text.splitlines() if line]
    return {(s["metric"].pop("__name__"), tuple(sorted(s["metric"].items()))): s["timestamps"] for s in series}


def _spooled_samples() -> int:
    """Samples waiting in the spool, from each chunk's header."""
    client = get_client()
    chunks = client.spool.redis.lrange(client.spool_key, 0, -1)
    return sum(int(chunk.split(b"\n", 1)[0].split()[-1]) for chunk in chunks)


def _replay_when_the_breaker_closes() -> None:
    wait_for(lambda: spool_stats()["breaker_open_until"] is None, 15, "the write breaker to close")
    get_client().replay_spool()
    assert spool_stats()["chunks"] == 0


def test_a_stopped_vm_loses_no_sample_and_a_silent_device_goes_down_on_time(vm, own_netns, snmpd):
    devices, silent, polled = _devices(own_netns, snmpd)
    ids = [d.pk for d in devices]
    icmp.run_cycle(ids)
    snmp.run_batch([polled.pk], force=True)
    assert Device.objects.get(pk=silent.pk).state == "up"

    vm.stop()
    start = time.time()
    cycles = 6
    try:
        own_netns.silence(silent.address)
        for cycle in range(1, cycles + 1):
            icmp.run_cycle(ids)
            snmp.run_batch([polled.pk], force=True)
            # down at exactly the DOWN_AFTER-th failed cycle: its state is saved while nothing can be written
            expected = "down" if cycle >= DOWN_AFTER else "up"
            assert Device.objects.get(pk=silent.pk).state == expected, f"cycle {cycle}"
        end = time.time()
        spooled = _spooled_samples()
        print(f"\nVM stopped for {end - start:.1f} s, {cycles} cycles: {spool_stats()}")
    finally:
        own_netns.restore(silent.address)
        vm.start()

    _replay_when_the_breaker_closes()
    stored = _exported(vm.url, start, end)
    assert sum(len(ts) for ts in stored.values()) == spooled > 0  # count written == count expected
    per_series = Counter()
    for (name, labels), timestamps in stored.items():
        per_series[name, dict(labels)["device_id"]] += len(timestamps)
    for device in devices:
        assert per_series["ping_up", str(device.pk)] == cycles
        assert per_series["device_up", str(device.pk)] == cycles
    for device in devices[:-1]:
        assert per_series["ping_rtt_ms", str(device.pk)] == cycles
    assert per_series["snmp_up", str(polled.pk)] == cycles
    assert per_series["device_up", str(polled.pk)] == cycles
    change = silent.state_changes.get(new="down")
    assert start <= change.at.timestamp() <= end
    assert spool_stats()["dropped_chunks"] == 0


def test_a_hung_vm_costs_one_write_timeout_per_breaker_period_and_loses_nothing(vm):
    devices = [Device.objects.create(name=f"lo{i}", address=f"127.0.1.{i}") for i in range(2, 7)]
    for device in devices:
        PingSettings.objects.create(device=device, interval_seconds=1, packets=1, packet_interval_ms=50,
                                    timeout_ms=300, down_after=DOWN_AFTER)
    ids = [d.pk for d in devices]
    interval, cycles = 1.0, 8
    icmp.run_cycle(ids)

    vm.pause()
    durations, lateness, chunks = [], [], []
    start = time.time()
    try:
        for cycle in range(cycles):
            scheduled = start + cycle * interval
            time.sleep(max(0.0, scheduled - time.time()))
            began = time.time()
            lateness.append(began - scheduled)
            icmp.run_cycle(ids)
            durations.append(time.time() - began)
            chunks.append(spool_stats()["chunks"])
        end = time.time()
    finally:
        vm.resume()
    print(f"\nhung VM, write timeout 1 s, breaker 2 s, one cycle per {interval} s:"
          f"\n  cycle durations s: {[round(d, 2) for d in durations]}"
          f"\n  lateness s:        {[round(x, 2) for x in lateness]}"
          f"\n  spooled chunks:    {chunks}")

    assert chunks == sorted(chunks) and chunks[-1] == cycles  # every cycle's write went to the spool
    _replay_when_the_breaker_closes()
    stored = _exported(vm.url, start, end)
    for device in devices:
        timestamps = stored["ping_up", (("device", device.name), ("device_id", str(device.pk)),
                                        ("ip", device.address))]
        # the write that timed out may have been read by VictoriaMetrics after SIGCONT too: count distinct points
        assert len(set(timestamps)) == cycles, device.name


def test_states_and_latest_values_are_saved_even_when_the_write_fails(vm, own_netns, snmpd, settings):
    """VictoriaMetrics and the spool's Redis both down: the write raises, after the database has everything."""
    devices, silent, polled = _devices(own_netns, snmpd)
    SNMPCredential.objects.filter(pk=polled.snmp_credential_id).update(community="wrong", timeout_ms=200,
                                                                       retries=0)
    settings.SNMP_DOWN_AFTER = 2
    vm.stop()
    settings.VICTORIA_SPOOL_URL = f"redis://127.0.0.1:{free_port()}/0"
    own_netns.silence(silent.address)
    try:
        for _ in range(DOWN_AFTER):
            with pytest.raises(VictoriaError, match="both down"):
                icmp.run_cycle([silent.pk])
            with pytest.raises(VictoriaError, match="both down"):
                snmp.run_batch([polled.pk], force=True)
    finally:
        own_netns.restore(silent.address)
    assert PingStatus.objects.get(device=silent).consecutive_failures == DOWN_AFTER
    assert SNMPStatus.objects.get(device=polled).consecutive_failures == DOWN_AFTER
    assert Device.objects.get(pk=silent.pk).state == "down"
    assert Device.objects.get(pk=polled.pk).state == "down"
