"""Django's Redis cache with one client per connection pool.

Django's backend makes a new `redis.Redis` for every cache call, and redis-py fills ~170 response callbacks in
each one's constructor (0.1 ms): two per API request, for the throttles. A client is thread-safe (it takes a
connection from its pool per command), so one per pool serves every thread of a process.
"""
from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _PooledClients(RedisCacheClient):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[object, object] = {}  # connection pool -> its client

    def get_client(self, key: object = None, *, write: bool = False) -> object:
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """`CACHES` backend: Django's own, its clients made once."""

    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = _PooledClients
