"""A worker keeps its database connections from task to task (DATABASE_CONN_MAX_AGE), as the web app does from
request to request: Celery's Django fixup would otherwise close them after every task, and each task would open a
PostgreSQL connection (and server process) of its own. Real worker, real PostgreSQL (the test database)."""
from __future__ import annotations

import pytest
from django.db import connection

from devices.models import Device
from icmp.models import PingStatus
from icmp.tasks import ping_batch
from tests.worker import run_worker, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def other_backends() -> set[tuple[int, str]]:
    """(pid, start) of every server process on the test database but this test's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, backend_start::text FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return set(cursor.fetchall())


def ping_once(device: Device) -> None:
    """One ping batch through the worker, waited for by its status row."""
    before = PingStatus.objects.filter(device=device).values_list("checked_at", flat=True).first()
    ping_batch.delay([device.pk])
    wait_for(lambda: PingStatus.objects.filter(device=device).values_list("checked_at", flat=True).first() != before,
             60, "a ping batch through the worker")


@pytest.mark.parametrize("pool", ["threads", "prefork"])
def test_a_worker_serves_task_after_task_from_one_database_connection(pool, victoria_url, tmp_path):
    device = Device.objects.create(name="conn-probe", address="127.0.0.1")
    with run_worker(tmp_path / "worker.log", "--pool", pool, "--concurrency", "1", "-Q", "icmp",
                    env={"DATABASE_CONN_MAX_AGE": "60"}):
        ping_once(device)
        kept = wait_for(other_backends, 10, "the worker's connection kept after its task")
        for _ in range(3):
            ping_once(device)
        assert other_backends() == kept


def test_with_conn_max_age_0_a_worker_closes_its_connection_after_each_task(victoria_url, tmp_path):
    device = Device.objects.create(name="conn-probe", address="127.0.0.1")
    with run_worker(tmp_path / "worker.log", "--pool", "threads", "--concurrency", "1", "-Q", "icmp",
                    env={"DATABASE_CONN_MAX_AGE": "0"}):
        ping_once(device)
        wait_for(lambda: not other_backends(), 10, "the worker's connection closed after its task",
                 seen=other_backends)
