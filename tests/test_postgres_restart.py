"""PostgreSQL restarted (issue 15, must show): the web app and a Celery worker, both holding persistent database
connections (DATABASE_CONN_MAX_AGE at its default), answer and work again once the database is back, without a
restart of their own. The database is a test-owned cluster (tests/postgres_cluster.py), never the machine's."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.contrib.auth.models import User

from devices.models import Device
from icmp.tasks import ping_batch
from tests.postgres_cluster import PostgresCluster
from tests.services import die_with_parent, free_port, stop_process
from tests.worker import _database_url, run_worker, wait_for
from wardsite.api_tokens import create_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 24  # more than the web server's threads, so every thread's connection is used before and after


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def app_env(cluster: PostgresCluster) -> dict[str, str]:
    """The app's environment against the test cluster, with the default persistent connections (no
    DATABASE_CONN_MAX_AGE): what a restart of the database leaves broken if nothing checks them."""
    env = {**os.environ, "DATABASE_URL": cluster.url, "VICTORIA_URL": settings.VICTORIA_URL,
           "VICTORIA_SPOOL_KEY": settings.VICTORIA_SPOOL_KEY, "ALLOWED_HOSTS": "127.0.0.1", "HTTPS_ONLY": "0"}
    env.pop("DATABASE_CONN_MAX_AGE", None)
    return env


@pytest.fixture
def web(cluster: PostgresCluster, victoria_url: str, tmp_path: Path) -> Iterator[str]:
    """gunicorn as `make run` starts it (2 processes, 4 threads each), on the test cluster; its base URL."""
    port = free_port()
    with (tmp_path / "gunicorn.log").open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "wardsite.wsgi", "-b", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4"],
            cwd=ROOT, env=app_env(cluster), stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def statuses(url: str, token: str, count: int = REQUESTS) -> list[int]:
    """The HTTP statuses of `count` concurrent API requests (spread over the server's threads)."""
    def one(_: int) -> int:
        try:
            return requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=10).status_code
        except requests.ConnectionError:
            return 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def pinged_at(cluster: PostgresCluster, device_id: int) -> str:
    return cluster.psql(cluster.database, f"SELECT checked_at FROM icmp_pingstatus WHERE device_id = {device_id}")


def test_web_and_worker_recover_from_a_database_restart(cluster, web, victoria_url, tmp_path):
    user = User.objects.create_superuser("pg-admin", "pg@example.test", "x")
    _, token = create_token(user, None)
    device = Device.objects.create(name="pg-probe", address="127.0.0.1")
    cluster.load_from(_database_url())  # the migrated test database, with the user, token and device
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    api = f"{web}/api/v1/devices/"
    log = tmp_path / "worker.log"
    with run_worker(log, "--concurrency", "1", env={"DATABASE_URL": cluster.url, "DATABASE_CONN_MAX_AGE": "60"}):
        wait_for(lambda: set(statuses(api, token)) == {200}, 60, "the web app answering before the restart")
        ping_batch.delay([device.pk])
        before = wait_for(lambda: pinged_at(cluster, device.pk), 60, "a ping batch before the restart")

        cluster.stop()  # the worker is idle meanwhile: its connection is left open, broken
        down = statuses(api, token, 4)
        health = requests.get(f"{web}/healthz", timeout=30)
        print(f"while PostgreSQL is down: the API answers HTTP {sorted(set(down))}, /healthz {health.status_code}")
        assert 200 not in down and 0 not in down  # it answers (an error page), it does not hang up
        assert health.status_code == 503 and "database" in health.json()["failing"]

        cluster.start()
        after = statuses(api, token)
        assert after == [200] * REQUESTS, f"requests right after the database came back: {after}"
        assert "database" not in requests.get(f"{web}/healthz", timeout=30).json()["failing"]
        again = ping_batch.delay([device.pk])
        wait_for(lambda: pinged_at(cluster, device.pk) > before, 60, "a ping batch after the restart",
                 seen=lambda: log.read_text()[-3000:])
        assert f"{again.id}] raised" not in log.read_text()
