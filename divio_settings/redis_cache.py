"""The cache backend of ``CACHE_URL=redis://…?ignore_exceptions=true``. Imported by Django when
it builds the cache, never at settings time (Django's Redis backend imports redis-py)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError, TimeoutError

OUTAGE = (ConnectionError, TimeoutError)
log = logging.getLogger("divio_settings.caches")


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that answers a miss (reads) or drops the write while Redis cannot
    be reached, logging one WARNING a minute, instead of failing the request."""

    _warned = 0.0

    def _down(self, error: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._warned > 60:
            ResilientRedisCache._warned = now
            log.warning("Redis cache unreachable, serving without it: %s", error)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            return super().get(key, default, version)
        except OUTAGE as error:
            self._down(error)
            return default

    def get_many(self, keys: Any, version: Any = None) -> Any:
        try:
            return super().get_many(keys, version)
        except OUTAGE as error:
            self._down(error)
            return {}

    def has_key(self, key: Any, version: Any = None) -> Any:
        try:
            return super().has_key(key, version)
        except OUTAGE as error:
            self._down(error)
            return False

    def add(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().add(*args, **kwargs)
        except OUTAGE as error:
            self._down(error)
            return False

    def set(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().set(*args, **kwargs)
        except OUTAGE as error:
            self._down(error)
            return None

    def set_many(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().set_many(data, *args, **kwargs)
        except OUTAGE as error:
            self._down(error)
            return list(data)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().touch(*args, **kwargs)
        except OUTAGE as error:
            self._down(error)
            return False

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().delete(*args, **kwargs)
        except OUTAGE as error:
            self._down(error)
            return False

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().delete_many(*args, **kwargs)
        except OUTAGE as error:
            self._down(error)
            return None
