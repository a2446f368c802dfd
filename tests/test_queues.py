"""Queues per kind of work, the report of queues nobody consumes, beat tasks that expire, and the batch deadline
(a device that outlives it is marked, the rest of the batch kept) - against the real Redis, a real worker and
real ICMP/UDP sockets on loopback."""
from __future__ import annotations

import json
import logging
import socket

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from alerts.tasks import deliver, evaluate
from devices.choices import DeviceState
from devices.models import Device, DeviceGroup
from icmp.models import PingSettings, PingStatus
from icmp.services import NOT_POLLED, run_cycle
from icmp.tasks import dispatch as icmp_dispatch
from icmp.tasks import ping_batch
from snmp.models import SNMPCredential, SNMPStatus
from snmp.services import run_batch
from snmp.tasks import dispatch as snmp_dispatch
from snmp.tasks import poll_batch
from wardsite import health
from wardsite.dispatch import fan_out, queue_batches
from wardsite.queues import queue_report, warn_unconsumed
from wardsite.schedules import ensure_default_schedules
from wardsite.tasks import check_queues
from tests import make_run
from tests.worker import run_worker, wait_for


@pytest.fixture
def broker() -> redis.Redis:
    """The test broker database, emptied."""
    connection = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def _depths() -> dict[str, int]:
    return {state["queue"]: state["depth"] for state in queue_report(timeout=0.5)}


def test_it_routes_each_kind_of_task_to_its_queue_and_a_pinned_group_to_its_own(db, broker):
    ping_batch.apply_async(([1],))
    poll_batch.apply_async(([1],))
    icmp_dispatch.apply_async()
    snmp_dispatch.apply_async()
    evaluate.apply_async()
    deliver.apply_async((1, 1, "firing"))
    check_queues.apply_async()
    far = DeviceGroup.objects.create(name="far", poller_queue="poller-far")
    devices = [Device.objects.create(name="near", address="127.0.0.1"),
               Device.objects.create(name="remote", address="127.0.0.2", group=far)]
    fan_out(queue_batches([(d.pk, d.group.poller_queue if d.group else "") for d in devices], 10), ping_batch,
            expires=60)
    assert {queue: depth for queue, depth in _depths().items() if depth} == {
        "icmp": 2, "snmp": 1, "dispatch": 2, "alerts": 1, "notifications": 1, "celery": 1, "poller-far": 1}
    assert broker.llen("poller-far") == 1


def test_it_reports_and_warns_about_a_queue_nobody_consumes(transactional_db, victoria_url, broker, tmp_path,
                                                           caplog):
    with run_worker(tmp_path / "icmp.log", "-Q", "icmp", "-n", "icmp-only@%h", "--pool", "solo"):
        wait_for(lambda: {s["queue"]: s["consumers"] for s in queue_report()}.get("icmp") == 1, 60,
                 "the icmp-only worker to answer", seen=queue_report)
        ping_batch.apply_async(([],))  # consumed
        poll_batch.apply_async(([],))  # nobody consumes snmp
        wait_for(lambda: broker.llen("icmp") == 0, 30, "the icmp worker to take its task")
        report = {state["queue"]: state for state in queue_report()}
        assert report["snmp"] == {"queue": "snmp", "depth": 1, "consumers": 0}
        assert report["icmp"] == {"queue": "icmp", "depth": 0, "consumers": 1}
        with caplog.at_level(logging.WARNING, logger="wardsite.queues"):
            assert warn_unconsumed() == ["snmp"]
        assert "Celery queue 'snmp' has 1 waiting tasks and no worker consuming it" in caplog.text
        cache.delete(health.QUEUES_CACHE_KEY)
        part = health.check_queues()  # /healthz's part
        assert not part.ok and "snmp" in part.problem and "icmp" not in part.problem


def test_it_reports_no_consumers_when_no_worker_answers(db, broker):
    poll_batch.apply_async(([],))
    report = {state["queue"]: state for state in queue_report(timeout=0.3)}
    assert report["snmp"]["consumers"] == 0 and report["snmp"]["depth"] == 1
    assert set(report) >= {"celery", "icmp", "snmp", "alerts", "notifications", "discovery", "zabbix"}


def test_every_scheduled_task_expires_and_old_ones_are_given_an_expiry(db):
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period=IntervalSchedule.SECONDS)
    old = PeriodicTask.objects.create(name="made before expiries", task="wardsite.replay_spool", interval=every)
    nightly = CrontabSchedule.objects.create(minute="0", hour="3")
    scan = PeriodicTask.objects.create(name="old scan", task="discovery.run_rule", args="[1]", crontab=nightly)
    ensure_default_schedules()
    assert not PeriodicTask.objects.filter(expires__isnull=True, expire_seconds__isnull=True).exists()
    old.refresh_from_db(), scan.refresh_from_db()
    assert (old.expire_seconds, scan.expire_seconds) == (15, 3600)
    dispatch = PeriodicTask.objects.get(task="icmp.dispatch")
    assert dispatch.expire_seconds == max(settings.ICMP_DISPATCH_SECONDS, 5)


def test_a_device_that_outlives_the_icmp_batch_deadline_is_marked_and_the_rest_kept(db, victoria_url, settings):
    settings.ICMP_BATCH_DEADLINE_SECONDS = 2
    quick = Device.objects.create(name="quick", address="127.0.0.1")
    slow = Device.objects.create(name="slow", address="127.0.0.2")
    # 20 packets a second apart: this device's sweep takes ~20 s, far past the deadline
    PingSettings.objects.create(device=slow, interval_seconds=60, packets=20, packet_interval_ms=1000,
                                timeout_ms=1000, down_after=1)
    outcomes = run_cycle([quick.pk, slow.pk])
    assert [o.device_id for o in outcomes] == [quick.pk]
    quick_status, slow_status = PingStatus.objects.get(device=quick), PingStatus.objects.get(device=slow)
    assert quick_status.error == "" and quick_status.rtt_avg_ms is not None
    assert (slow_status.error, slow_status.consecutive_failures, slow_status.checked_at) == (NOT_POLLED, 0, None)
    slow.refresh_from_db()
    assert slow.state != DeviceState.DOWN


def test_a_device_that_outlives_the_snmp_batch_deadline_is_marked_and_the_rest_kept(db, victoria_url, settings):
    settings.SNMP_BATCH_DEADLINE_SECONDS = 1.5
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # takes requests, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        patient = SNMPCredential.objects.create(name="patient", version="v2c", community="public", timeout_ms=10000,
                                                retries=0)
        brisk = SNMPCredential.objects.create(name="brisk", version="v2c", community="public", timeout_ms=200,
                                              retries=0)
        hung = Device.objects.create(name="hung", address="127.0.0.1", snmp_port=port, snmp_enabled=True,
                                     icmp_enabled=False, snmp_credential=patient)
        quiet = Device.objects.create(name="quiet", address="127.0.0.1", snmp_port=port, snmp_enabled=True,
                                      icmp_enabled=False, snmp_credential=brisk)
        results = {r.device_id: r for r in run_batch([hung.pk, quiet.pk], force=True)}
    assert results[hung.pk].error == "not polled: batch deadline"
    assert "timed out" in results[quiet.pk].error.lower() or "timeout" in results[quiet.pk].error.lower()
    assert SNMPStatus.objects.get(device=hung).error == "not polled: batch deadline"
    hung.refresh_from_db()
    assert hung.state != DeviceState.DOWN  # a deadline is no timeout: the up/down decision ignores it


def _task_ids(broker: redis.Redis, queue: str) -> set[str]:
    """The ids of the tasks waiting in `queue`."""
    return {json.loads(message)["headers"]["id"] for message in broker.lrange(queue, 0, -1)}


def test_each_sites_devices_are_polled_by_its_own_poller_only(transactional_db, victoria_url, broker, tmp_path):
    """A remote site's poller is a worker consuming only its group's queue (docs/deploy.md); the central one here
    is make run's icmp worker (a pool of threads, each batch its own event loop and database connection)."""
    site = DeviceGroup.objects.create(name="site-b", poller_queue="poller-site-b")
    central = [Device.objects.create(name=f"central-{i}", address=f"127.0.9.{i}") for i in (1, 2)]
    remote = [Device.objects.create(name=f"remote-{i}", address=f"127.0.10.{i}", group=site) for i in (1, 2)]
    fan_out(queue_batches([*((d.pk, "") for d in central), *((d.pk, site.poller_queue) for d in remote)], 1),
            ping_batch, expires=300)
    central_tasks, remote_tasks = _task_ids(broker, "icmp"), _task_ids(broker, "poller-site-b")
    assert len(central_tasks) == len(remote_tasks) == 2

    def pinged(devices: list[Device]) -> int:
        return PingStatus.objects.filter(device__in=devices, checked_at__isnull=False).count()

    logs = {name: tmp_path / f"{name}.log" for name in ("central", "site-b")}
    icmp_worker = make_run.processes(8000, tmp_path / "beat")["icmp worker"]
    with run_worker(logs["central"], *icmp_worker[icmp_worker.index("worker") + 1:]):
        wait_for(lambda: pinged(central) == 2, 60, "the central worker to ping its devices")
        assert pinged(remote) == 0  # their batch waits for the site's own poller
        with run_worker(logs["site-b"], "-Q", "poller-site-b", "-n", "site-b@%h", "--pool", "solo"):
            wait_for(lambda: pinged(remote) == 2, 60, "the site's poller to ping its devices",
                     seen=lambda: logs["site-b"].read_text()[-2000:])
    central_log, site_log = logs["central"].read_text(), logs["site-b"].read_text()
    assert all(task in central_log for task in central_tasks) and not any(t in central_log for t in remote_tasks)
    assert all(task in site_log for task in remote_tasks) and not any(t in site_log for t in central_tasks)
