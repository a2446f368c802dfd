"""The process's Redis connection for small shared state (counter samples, locks); Celery has its own."""
from __future__ import annotations

import functools

import redis
from django.conf import settings


def connection() -> redis.Redis:
    """A client for REDIS_URL (one per URL, so tests that override the setting get theirs)."""
    return _connection_for(settings.REDIS_URL)


@functools.lru_cache(maxsize=4)
def _connection_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
