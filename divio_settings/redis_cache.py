"""The cache backend of ``CACHE_URL=redis://…?ignore_exceptions=true``. Imported by Django when
it builds the cache, never at settings time (Django's Redis backend imports redis-py)."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError, TimeoutError

from .resilient_cache import Resilient


class ResilientRedisCache(Resilient, RedisCache):
    """Django's RedisCache that answers a miss (reads) or drops the write while Redis cannot
    be reached, logging one WARNING a minute, instead of failing the request."""

    outage = (ConnectionError, TimeoutError)
    server = "Redis cache"
