"""Is WARD FLUX working? Each part checked with a short timeout: database, Redis, VictoriaMetrics, the queues,
the watched loops (beat, collection cycles, alert evaluation: wardsite/heartbeats.py) and the spool.

Served by /healthz (wardsite/health_views.py), shown as a banner on the admin index and read by /metrics.
Nothing here puts a URL or a setting's value in a message: a message may reach people who are not logged in.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import redis
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from wardsite import heartbeats, victoria
from wardsite.queues import queue_report

logger = logging.getLogger(__name__)
QUEUES_CACHE_SECONDS = 15
QUEUES_CACHE_KEY = "health:queues"
_CREDENTIALS = re.compile(r"//[^/@\s]*@")  # user:password@ in a URL an error message may quote


@dataclass
class Part:
    """One part's verdict; `detail` is shown to staff only."""

    name: str
    ok: bool
    problem: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class Report:
    parts: list[Part]

    @property
    def healthy(self) -> bool:
        return all(part.ok for part in self.parts)

    @property
    def problems(self) -> list[str]:
        return [part.problem for part in self.parts if not part.ok and part.problem]

    def failing(self) -> list[str]:
        return [part.name for part in self.parts if not part.ok]


def report() -> Report:
    """Check every part; a part Redis holds is skipped (not failed twice) when Redis is down."""
    parts = [check_database(), check_victoria()]
    client = short_redis()
    redis_part = check_redis(client)
    parts.append(redis_part)
    if redis_part.ok:
        parts += check_loops(client) + [check_queues(), check_spool()]
    return Report(parts)


def short_redis() -> redis.Redis:
    """A client for REDIS_URL that gives up after HEALTH_TIMEOUT_SECONDS (the shared ones wait 10 s)."""
    timeout = settings.HEALTH_TIMEOUT_SECONDS
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)


def check_database() -> Part:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return Part("database", False, "the database is unreachable", {"error": clean(exc)})
    return Part("database", True)


def check_redis(client: redis.Redis) -> Part:
    try:
        client.ping()
    except redis.RedisError as exc:
        return Part("redis", False, "Redis is unreachable", {"error": clean(exc)})
    return Part("redis", True)


def check_victoria() -> Part:
    """VictoriaMetrics' /health: of the write and the read side when they differ (VICTORIA_WRITE_URL/READ_URL)."""
    for url in victoria.health_urls():
        try:
            response = requests.get(url, timeout=settings.HEALTH_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            return Part("victoria", False, "VictoriaMetrics is unreachable", {"error": clean(exc)})
        if not response.ok:
            return Part("victoria", False, f"VictoriaMetrics answers HTTP {response.status_code}",
                        {"status": response.status_code})
    return Part("victoria", True)


def check_loops(client: redis.Redis) -> list[Part]:
    """One part per watched loop (beat, icmp, snmp, alerts...): stale when it has not ticked for a while."""
    try:
        ticks = heartbeats.ticks(client)
    except redis.RedisError as exc:
        return [Part("heartbeats", False, "the heartbeats cannot be read", {"error": clean(exc)})]
    return [Part(tick.watched.name, not tick.stale, tick.problem(), {
        "last": tick.last, "age_seconds": _round(tick.age), "lateness_seconds": _round(tick.lateness),
        "stale_after_seconds": tick.watched.stale_after()}) for tick in ticks]


def check_queues() -> Part:
    """Each queue's depth and consumers (wardsite.queues.queue_report); a queue with tasks and no consumer fails."""
    try:
        queues = cache.get(QUEUES_CACHE_KEY)
        if queues is None:  # asking the workers takes a second: once per QUEUES_CACHE_SECONDS, not per request
            queues = list(queue_report())
            cache.set(QUEUES_CACHE_KEY, queues, QUEUES_CACHE_SECONDS)
    except Exception as exc:  # noqa: BLE001 - whatever the broker raises, health must answer
        return Part("queues", False, "the queues cannot be read", {"error": clean(exc)})
    orphaned = [q["queue"] for q in queues if q.get("depth") and not q.get("consumers")]
    problem = f"tasks wait on queues no worker consumes: {', '.join(orphaned)}" if orphaned else None
    return Part("queues", not orphaned, problem, {"queues": queues})


def check_spool() -> Part:
    """The VictoriaMetrics spool's size and drops: shown, never failing by itself (VictoriaMetrics' part does)."""
    try:
        return Part("spool", True, detail=victoria.spool_stats())
    except Exception as exc:  # noqa: BLE001 - whatever the spool's Redis raises, health must answer
        return Part("spool", False, "the spool cannot be read", {"error": clean(exc)})


def clean(exc: BaseException) -> str:
    """An error's text without credentials a URL in it might carry, cut short."""
    return _CREDENTIALS.sub("//…@", str(exc))[:300]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
