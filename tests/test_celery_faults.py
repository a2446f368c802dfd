"""Celery on a bad day, with real processes: a worker SIGKILLed mid-batch, a notification task delivered twice,
a worker killed while a receiver has the notification, the broker (a Redis of the test's own, appendonly like
docker-compose's) restarted mid-batch.

Workers run the solo pool here, so the SIGKILLed process is the one running the task, and a short visibility
timeout (CELERY_VISIBILITY_TIMEOUT) stands in for production's 15 minutes.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from alerts.choices import ClaimState
from alerts.models import Alert, AlertRule, DeliveryClaim, NotificationChannel
from alerts.tasks import deliver
from devices.models import Device
from icmp.models import PingSettings, PingStatus
from icmp.tasks import ping_batch
from tests.services import RedisServer
from tests.worker import run_worker, wait_for
from wardsite.celery import app

FAST = {"CELERY_VISIBILITY_TIMEOUT": "3", "DELIVERY_CLAIM_TIMEOUT_SECONDS": "3"}


@pytest.fixture
def broker(tmp_path) -> Iterator[RedisServer]:
    """A Redis of this test's own (appendonly, like docker-compose's), never the machine's."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alert(transactional_db) -> Alert:
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    rule = AlertRule.objects.create(name="Core down", expression="device_up == 0", severity="high")
    now = timezone.now()
    return Alert.objects.create(rule=rule, device=device, fingerprint="f", severity="high", value=0.0,
                                labels={"device_id": str(device.pk), "device": "core-1"}, status="firing",
                                pending_since=now, triggered_at=now, last_seen_at=now)


def _hook(url: str) -> NotificationChannel:
    return NotificationChannel.objects.create(name="hook", kind="webhook", settings={"url": url})


def _slow_device() -> Device:
    """A device whose ping cycle takes ~6 s (6 packets a second apart): long enough to kill a worker mid-batch."""
    device = Device.objects.create(name="slow", address="127.0.0.3")
    PingSettings.objects.create(device=device, interval_seconds=600, packets=6, packet_interval_ms=1000,
                                timeout_ms=1000, down_after=3)
    return device


def _publish(task, args: tuple, broker_url: str, task_id: str | None = None) -> str:
    task_id = task_id or str(uuid.uuid4())
    with app.connection_for_write(broker_url) as connection:
        task.apply_async(args, task_id=task_id, connection=connection)
    return task_id


def _log_has(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text()


def test_a_batch_of_a_sigkilled_worker_runs_again_on_another(transactional_db, victoria_url, broker, tmp_path):
    device = _slow_device()
    env = {**FAST, "REDIS_URL": broker.url}
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    with run_worker(first, "--pool", "solo", "-n", "first@%h", env=env) as worker:
        task_id = _publish(ping_batch, ([device.pk],), broker.url)
        wait_for(lambda: _log_has(first, f"{task_id}] received"), 60, "the first worker to take the batch")
        worker.kill()  # SIGKILL mid-batch: no ack, no clean-up
        worker.wait()
    assert not _log_has(first, "succeeded")
    assert PingStatus.objects.filter(device=device, checked_at__isnull=False).count() == 0
    with run_worker(second, "--pool", "solo", "-n", "second@%h", env=env):
        wait_for(lambda: PingStatus.objects.filter(device=device, checked_at__isnull=False).exists(), 90,
                 "the batch to run again on the second worker", seen=lambda: second.read_text()[-2000:])
    assert _log_has(second, f"{task_id}] received")


def test_a_notification_task_delivered_twice_is_sent_once(alert, victoria_url, broker, http_receiver, tmp_path):
    hook = _hook(http_receiver.url)
    log = tmp_path / "worker.log"
    with run_worker(log, "--pool", "solo", env={**FAST, "REDIS_URL": broker.url}):
        task_id = _publish(deliver, (alert.pk, hook.pk, "firing"), broker.url)
        wait_for(lambda: DeliveryClaim.objects.filter(state=ClaimState.SENT).exists(), 60, "the notification")
        _publish(deliver, (alert.pk, hook.pk, "firing"), broker.url, task_id=task_id)  # as a broker redelivers
        wait_for(lambda: _log_has(log, "already handled, not sent again"), 60, "the second copy to be handled")
    assert len(http_receiver.requests) == 1
    assert alert.deliveries.count() == 1


def test_a_notification_of_a_worker_killed_while_sending_is_sent_again_after_the_claim_timeout(
        alert, victoria_url, broker, http_receiver, tmp_path):
    """The at-least-once window (docs/alerts.md): the receiver had it when the worker died, so it gets it twice;
    without the claim timeout it would never get a second try when the first had not arrived."""
    hook = _hook(http_receiver.url)
    http_receiver.delay_seconds = 30  # the first request hangs until the worker is dead
    env = {**FAST, "REDIS_URL": broker.url}
    with run_worker(tmp_path / "first.log", "--pool", "solo", "-n", "first@%h", env=env) as worker:
        _publish(deliver, (alert.pk, hook.pk, "firing"), broker.url)
        wait_for(lambda: len(http_receiver.requests) == 1, 60, "the first request")
        worker.kill()
        worker.wait()
    http_receiver.delay_seconds = 0
    assert DeliveryClaim.objects.get().state == ClaimState.SENDING
    with run_worker(tmp_path / "second.log", "--pool", "solo", "-n", "second@%h", env=env):
        wait_for(lambda: DeliveryClaim.objects.filter(state=ClaimState.SENT).exists(), 90, "the second attempt")
    assert len(http_receiver.requests) == 2
    assert DeliveryClaim.objects.count() == 1 and alert.deliveries.count() == 1


def test_a_broker_restart_keeps_schedules_and_batches_and_sends_no_notification_twice(
        alert, victoria_url, broker, http_receiver, tmp_path):
    schedules = sorted(PeriodicTask.objects.values_list("task", flat=True))
    hook, device = _hook(http_receiver.url), _slow_device()
    log = tmp_path / "worker.log"
    # the prefork pool, as in production: the consumer sees the broker go while a child runs the batch
    with run_worker(log, "--concurrency", "1", env={**FAST, "REDIS_URL": broker.url}):
        sent = _publish(deliver, (alert.pk, hook.pk, "firing"), broker.url)
        wait_for(lambda: len(http_receiver.requests) == 1, 60, "the notification before the restart")
        batch = _publish(ping_batch, ([device.pk],), broker.url)
        wait_for(lambda: _log_has(log, f"{batch}] received"), 60, "the worker to take the batch")
        queued = _publish(ping_batch, ([alert.device_id],), broker.url)  # waits behind it (one process)
        broker.restart()
        # the in-flight batch finishes and is acknowledged on the new connection (or, had its worker died, is
        # handed out again after the visibility timeout); the queued one survived the restart in the AOF
        for task_id in (batch, queued):
            wait_for(lambda: _log_has(log, f"ping_batch[{task_id}] succeeded"), 60, f"batch {task_id} to run",
                     seen=lambda: log.read_text()[-2000:])
        _publish(deliver, (alert.pk, hook.pk, "firing"), broker.url, task_id=sent)  # a restored copy
        wait_for(lambda: _log_has(log, "already handled, not sent again"), 60, "the copy to be handled")
    assert sorted(PeriodicTask.objects.values_list("task", flat=True)) == schedules and schedules
    assert len(http_receiver.requests) == 1
