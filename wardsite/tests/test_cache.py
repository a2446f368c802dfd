"""The cache backend: Django's Redis cache, its client made once per process and shared by threads."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache

from wardsite import kv


def test_values_set_by_threads_are_in_redis_and_read_back_through_one_client():
    keys = [f"test-cache-{n}" for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: cache.set(key, {"key": key}, 60), keys))
        read = list(pool.map(cache.get, keys))
    try:
        assert read == [{"key": key} for key in keys]
        assert len(list(kv.connection().scan_iter("wardflux:cache:*test-cache-*"))) == len(keys)
        assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)
        cache.delete(keys[0])
        assert cache.get(keys[0], "gone") == "gone"
    finally:
        cache.delete_many(keys)
