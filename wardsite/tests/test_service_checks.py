"""Start-up checks: migrate refuses an evicting Redis and a VictoriaMetrics that keeps less than HISTORY_DAYS,
each a real server of this test's own; a service that cannot be reached is a warning, not a refusal."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.services import VictoriaServer, die_with_parent, free_port, own_victoria, stop_process
from tests.worker import _database_url, wait_for
from wardsite.service_checks import redis_does_not_evict, retention_days, victoria_keeps_the_history

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.django_db


def start_redis(policy: str) -> tuple[subprocess.Popen, str]:
    """A redis-server of this test's own with this maxmemory-policy; its URL."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no", "--maxmemory-policy", policy],
                               stdout=subprocess.DEVNULL, preexec_fn=die_with_parent)
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: _answers(redis.Redis.from_url(url)), 15, f"redis-server on port {port}")
    return process, url


def _answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture
def evicting_redis() -> Iterator[str]:
    process, url = start_redis("allkeys-lru")
    yield url
    stop_process(process)


@pytest.fixture(scope="module")
def month_victoria(tmp_path_factory) -> Iterator[VictoriaServer]:
    """VictoriaMetrics with -retentionPeriod=1: one month, 31 days."""
    with own_victoria(tmp_path_factory.mktemp("retention-vm")) as server:
        yield server


def test_migrate_refuses_to_start_with_an_evicting_redis(evicting_redis):
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": evicting_redis,
           "VICTORIA_URL": f"http://127.0.0.1:{free_port()}"}
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "wardsite.E010" in result.stderr and "'allkeys-lru'" in result.stderr, result.stderr
    assert "wardsite.W011" in result.stderr  # the VictoriaMetrics nobody listens for: only a warning


def test_a_redis_that_does_not_evict_passes(settings):
    process, url = start_redis("noeviction")
    try:
        settings.REDIS_URL = url
        assert redis_does_not_evict(None, databases=["default"]) == []
    finally:
        stop_process(process)


def test_an_unreachable_redis_is_a_warning_naming_no_password(settings):
    settings.REDIS_URL = f"redis://:pass-in-url@127.0.0.1:{free_port()}/0"
    messages = redis_does_not_evict(None, databases=["default"])
    assert [m.id for m in messages] == ["wardsite.W010"] and "pass-in-url" not in str(messages)


def test_it_refuses_a_victoria_that_keeps_less_than_history_days(month_victoria, settings, evicting_redis):
    settings.VICTORIA_URL = month_victoria.url
    settings.HISTORY_DAYS = 32
    [error] = victoria_keeps_the_history(None, databases=["default"])
    assert error.id == "wardsite.E011" and "keeps 31 days" in error.msg and "-retentionPeriod=32d" in error.hint
    settings.HISTORY_DAYS = 31
    assert victoria_keeps_the_history(None, databases=["default"]) == []
    settings.REDIS_URL = evicting_redis
    with pytest.raises(SystemCheckError, match="wardsite.E010"):
        call_command("check", "--database", "default")


def test_a_plain_check_asks_no_service(evicting_redis, settings):
    settings.REDIS_URL = evicting_redis
    call_command("check")  # no database given: neither Redis nor VictoriaMetrics is asked


@pytest.mark.parametrize(("flags", "days"), [
    ('-retentionPeriod="12"\n', 372), ('-retentionPeriod="1"\n', 31), ('-retentionPeriod="400d"\n', 400),
    ('-retentionPeriod="2y"\n', 730), ('-retentionPeriod="3w"\n', 21), ('-retentionPeriod="48h"\n', 2),
    ('-httpListenAddr=":8428"\n-retentionPeriod="1.5"\n', 46.5),
    ('-retentionPeriod="12months"\n', None), ('-retentionPeriod=""\n', None), ("", None), ("garbage", None),
])
def test_it_reads_victoria_retention_flags(flags, days):
    assert retention_days(flags) == days
