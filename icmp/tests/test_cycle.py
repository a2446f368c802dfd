"""One ping cycle over real hosts: loopback and test namespaces; series written to a real VictoriaMetrics."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import Device, DeviceGroup, MonitoringProfile
from icmp import services
from icmp.models import PingSettings, PingStatus
from tests.worker import wait_for
from wardsite.victoria import get_client

pytestmark = pytest.mark.django_db


def make(name: str, address: str, **fields) -> Device:
    return Device.objects.create(name=name, address=address, **fields)


def test_it_marks_answering_devices_up_and_writes_their_series(victoria_url):
    devices = [make(f"lo{i}", f"127.0.0.{i}") for i in range(2, 6)]
    outcomes = services.run_cycle([d.pk for d in devices])
    assert {o.state for o in outcomes} == {"up"}
    status = PingStatus.objects.get(device=devices[0])
    assert status.packet_loss == 0 and status.rtt_avg_ms > 0 and status.rtt_min_ms <= status.rtt_max_ms
    assert Device.objects.get(pk=devices[0].pk).last_seen is not None
    client = get_client()
    client.flush()
    # VictoriaMetrics hides the newest second from instant queries: wait until the sample is visible
    up = wait_for(lambda: client.query('ping_up{device="lo2"}'), 10, "ping_up to be queryable")
    assert up[0]["value"][1] == "1" and up[0]["metric"]["device_id"] == str(devices[0].pk)
    assert float(client.query('ping_rtt_ms{device="lo2"}')[0]["value"][1]) == pytest.approx(status.rtt_avg_ms)
    # the state, for the "device down" rule: stamped when it was decided, after the probes' time
    state = wait_for(lambda: client.query('device_up{device="lo2"}'), 10, "device_up to be queryable")
    assert state[0]["value"][1] == "1"
    # the ping series carry the time the probes went out (3 packets 200 ms apart came back after it), the state
    # the time the cycle ended
    probes_at = float(client.query('timestamp(ping_up{device="lo2"})')[0]["value"][1])
    decided_at = float(client.query('timestamp(device_up{device="lo2"})')[0]["value"][1])
    assert decided_at == pytest.approx(status.checked_at.timestamp(), abs=0.001)
    assert decided_at - probes_at >= 0.4


def test_it_declares_a_silent_device_down_only_after_n_cycles_retried_soon(victoria_url, netns, settings):
    device = make("silent", netns.silent[0])
    PingSettings.objects.create(device=device, interval_seconds=60, packets=1, packet_interval_ms=100,
                                timeout_ms=300, down_after=3)
    later = timezone.now() + timedelta(seconds=60)
    states, due, ended = [], [], []
    for _ in range(3):
        PingStatus.objects.update_or_create(device=device, defaults={"next_due_at": later})  # as the dispatcher left it
        states.append(services.run_cycle([device.pk])[0].state)
        status = PingStatus.objects.get(device=device)
        due.append(status.next_due_at)
        ended.append(status.checked_at)
    assert states == ["unknown", "unknown", "down"]
    retry = timedelta(seconds=settings.ICMP_RETRY_SECONDS)
    # unconfirmed: checked again in seconds, counted from the cycle's start (its 300 ms timeout before its end)
    assert all(at <= end + retry - timedelta(milliseconds=250) for at, end in zip(due[:2], ended))
    assert due[2] == later  # confirmed down: back to the interval
    assert PingStatus.objects.get(device=device).packet_loss == 100
    client = get_client()
    client.flush()
    assert wait_for(lambda: client.query(f'device_up{{device_id="{device.pk}"}}'), 10, "device_up to be queryable"
                    )[0]["value"][1] == "0"


def test_a_retry_is_due_on_the_dispatchers_tick_after_the_claim(victoria_url, netns, settings, monkeypatch):
    """The dispatcher hands its claim time to the batch; a failed cycle is due again half a tick before the tick
    ICMP_RETRY_SECONDS after that claim (due after it, it waited a tick more: retries 3 s apart, not 2)."""
    from icmp import tasks

    settings.ICMP_RETRY_SECONDS, settings.ICMP_DISPATCH_SECONDS = 2, 1
    device = make("silent", netns.silent[0])
    PingSettings.objects.create(device=device, interval_seconds=60, packets=1, packet_interval_ms=100,
                                timeout_ms=300, down_after=3)
    queued = []
    monkeypatch.setattr(tasks.ping_batch, "apply_async", lambda args, kwargs, **options: queued.append((args, kwargs)))
    assert tasks.dispatch() == 1
    [(args, kwargs)] = queued
    claimed = kwargs["claimed_at"]
    assert args == ([device.pk],) and abs(claimed - timezone.now().timestamp()) < 5

    tasks.ping_batch(*args, **kwargs)

    due = PingStatus.objects.get(device=device).next_due_at.timestamp()
    assert due == pytest.approx(claimed + 1.5, abs=0.001)


def test_it_brings_a_device_back_up_after_one_good_cycle(victoria_url, netns):
    address = netns.answering[0]
    device = make("flaky", address)
    PingSettings.objects.create(device=device, interval_seconds=10, packets=2, packet_interval_ms=50,
                                timeout_ms=300, down_after=2)
    assert services.run_cycle([device.pk])[0].state == "up"
    netns.silence(address)
    try:
        assert [services.run_cycle([device.pk])[0].state for _ in range(2)] == ["up", "down"]
    finally:
        netns.restore(address)
    assert services.run_cycle([device.pk])[0].state == "up"
    changes = list(Device.objects.get(pk=device.pk).state_changes.order_by("at").values_list("new", flat=True))
    assert changes == ["up", "down", "up"]


def test_it_treats_icmp_dropping_hosts_as_unreachable(victoria_url, netns):
    device = make("dropper", netns.dropping[0])
    PingSettings.objects.create(device=device, interval_seconds=10, packets=1, packet_interval_ms=100,
                                timeout_ms=300, down_after=1)
    assert services.run_cycle([device.pk])[0].state == "down"


def test_it_uses_group_settings_unless_the_device_has_its_own():
    group = DeviceGroup.objects.create(name="wan")
    PingSettings.objects.create(group=group, interval_seconds=60, packets=5, packet_interval_ms=100,
                                timeout_ms=2000, down_after=5)
    in_group = make("a", "127.0.0.2", group=group)
    own = make("b", "127.0.0.3", group=group)
    PingSettings.objects.create(device=own, interval_seconds=5, packets=1, packet_interval_ms=100,
                                timeout_ms=500, down_after=2)
    lone = make("c", "127.0.0.4")
    assert services.effective_settings(Device.objects.get(pk=in_group.pk)).packets == 5
    assert services.effective_settings(Device.objects.get(pk=own.pk)).packets == 1
    assert services.effective_settings(lone).down_after == 3  # the global default


def test_the_dispatcher_moves_each_device_on_by_its_own_interval_else_its_groups_else_the_default(settings):
    group = DeviceGroup.objects.create(name="slow")
    PingSettings.objects.create(group=group, interval_seconds=60, packets=1, packet_interval_ms=100,
                                timeout_ms=500, down_after=2)
    in_group, own = make("g", "127.0.2.1", group=group), make("o", "127.0.2.2", group=group)
    lone = make("l", "127.0.2.3")
    PingSettings.objects.create(device=own, interval_seconds=300, packets=1, packet_interval_ms=100,
                                timeout_ms=500, down_after=2)
    now = timezone.now()
    services.due_batches(now)
    due = {pk: (at - now).total_seconds() for pk, at in PingStatus.objects.values_list("device_id", "next_due_at")}
    # the next slot is between half an interval and one and a half intervals on
    for device, interval in ((in_group, 60), (own, 300), (lone, settings.ICMP_INTERVAL_SECONDS)):
        assert interval / 2 <= due[device.pk] <= interval * 1.5, (device.name, due[device.pk])


def test_it_dispatches_each_due_device_once_per_interval():
    devices = [make(f"d{i}", f"127.0.1.{i}") for i in range(1, 4)]
    make("off", "127.0.1.9", icmp_enabled=False)
    now = timezone.now()
    first = services.due_batches(now)
    assert sorted(pk for _, ids in first for pk in ids) == sorted(d.pk for d in devices)
    # claimed: due again at its slot (wardsite.dispatch.next_due), between half an interval and 1.5 intervals on
    assert services.due_batches(now + timedelta(seconds=4.9)) == []
    later = services.due_batches(now + timedelta(seconds=15))
    assert sorted(pk for _, ids in later for pk in ids) == sorted(d.pk for d in devices)


def test_devices_whose_last_cycle_failed_are_batched_apart(settings):
    settings.ICMP_BATCH_SIZE = 10
    devices = [make(f"d{i}", f"127.0.1.{i}") for i in range(1, 6)]
    services.due_batches()  # status rows, claimed
    PingStatus.objects.filter(device__in=devices[1:3]).update(consecutive_failures=1)
    PingStatus.objects.update(next_due_at=timezone.now())
    batches = services.due_batches()
    answering, failing = [devices[0], *devices[3:]], devices[1:3]
    assert [sorted(ids) for _, ids in batches] == [sorted(d.pk for d in answering), sorted(d.pk for d in failing)]


def test_it_sends_a_pinned_groups_devices_to_its_queue(settings):
    settings.ICMP_BATCH_SIZE = 2
    remote = DeviceGroup.objects.create(name="branch", poller_queue="branch-poller")
    for i in range(3):
        make(f"b{i}", f"127.0.2.{i + 1}", group=remote)
    make("local", "127.0.2.9")
    batches = services.due_batches()
    assert sorted((queue, len(ids)) for queue, ids in batches) == [("", 1), ("branch-poller", 1), ("branch-poller", 2)]


def test_it_dispatches_nothing_in_zabbix_mode():
    make("a", "127.0.0.2")
    MonitoringProfile.objects.create(name="main", mode="zabbix")
    assert services.due_batches() == []
