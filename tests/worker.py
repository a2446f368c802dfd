"""A real Celery worker with embedded beat, started as a subprocess against the test database."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from tests.services import die_with_parent, stop_process

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition: Callable[[], object], timeout: float, message: str, interval: float = 0.25,
             seen: Callable[[], object] | None = None) -> object:
    """Poll `condition` until it returns something truthy; fail with `message` (and what `seen()` returns then)
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s: {message}" + (f"; seen: {seen()!r}" if seen else ""))


def _database_url() -> str:
    db = connection.settings_dict  # the test database pytest-django created
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker_env() -> dict[str, str]:
    """The environment of a worker process: the test database, VictoriaMetrics and broker, fast intervals."""
    if connection.vendor != "postgresql":
        pytest.fail("the end-to-end tests need PostgreSQL (DATABASE_URL=postgres://...)")
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "VICTORIA_URL": django_settings.VICTORIA_URL,
        "VICTORIA_SPOOL_KEY": django_settings.VICTORIA_SPOOL_KEY,
        "VICTORIA_SPOOL_URL": django_settings.VICTORIA_SPOOL_URL,
        "VICTORIA_BREAKER_SECONDS": "2",  # writes try VictoriaMetrics again soon after an outage
        "ICMP_INTERVAL_SECONDS": "2",
        "SNMP_INTERFACE_INTERVAL_SECONDS": "2",
        "DATABASE_CONN_MAX_AGE": "0",
        "DISCOVERY_REVERSE_DNS": "0",  # no DNS traffic from tests
        "LOG_LEVEL": "DEBUG",  # every task in the log: tests read which worker ran what
    }


@contextmanager
def run_worker(log: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """`celery worker` with `options` (and `env` over the test environment) as a child process; stopped (and its
    log printed if it failed) on exit."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wardsite", "worker", "--without-heartbeat",
             "--without-gossip", "--without-mingle", *options],
            cwd=ROOT, env={**_worker_env(), **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # a killed test run leaves no worker taking the next run's tasks
        )
    try:
        yield proc
    finally:
        stop_process(proc)
        if proc.returncode not in (0, -15, -9):
            print(log.read_text()[-5000:])


@pytest.fixture
def celery_stack(transactional_db, victoria_url, tmp_path) -> Iterator[subprocess.Popen]:
    """Worker + beat (DatabaseScheduler) with 2 s ping and interface poll intervals; the broker's database is emptied first."""
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()
    with run_worker(tmp_path / "celery.log", "--beat", "--concurrency", "2",
                 "--schedule", str(tmp_path / "beat-schedule")) as proc:
        yield proc


@pytest.fixture
def two_workers(transactional_db, victoria_url, tmp_path) -> Iterator[list[subprocess.Popen]]:
    """Two worker processes (no beat), two task processes each, consuming the same queue."""
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()
    with run_worker(tmp_path / "one.log", "-n", "one@%h", "--concurrency", "2") as one, \
            run_worker(tmp_path / "two.log", "-n", "two@%h", "--concurrency", "2") as two:
        yield [one, two]
