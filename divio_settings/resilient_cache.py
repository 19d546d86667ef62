"""Caches that degrade to a miss while their server is away: Redis
(``CACHE_URL=redis://…?ignore_exceptions=true``) and the database cache the cloud gets without
``CACHE_URL``. A read answers a miss, a write is dropped, and one WARNING a minute says so,
instead of a 500 and a traceback per request. Imported by Django when it builds the cache,
never at settings time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from django.core.cache.backends.base import BaseCache

log = logging.getLogger("divio_settings.caches")
T = TypeVar("T")


class Resilient(BaseCache):
    """The operations of a cache backend (the class it is mixed into, after it), each answering
    as a miss when one of ``outage`` is raised."""

    outage: tuple[type[BaseException], ...] = ()
    server = "cache"
    _warned: float = 0.0

    def _down(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - type(self)._warned > 60:
            type(self)._warned = now
            log.warning("%s unreachable, serving without it: %s", self.server, error)

    def _guarded(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def _try(self, call: Callable[[], T], missing: T) -> T:
        try:
            with self._guarded():
                return call()
        except self.outage as error:
            self._down(error)
            return missing

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._try(lambda: super(Resilient, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._try(lambda: super(Resilient, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._try(lambda: super(Resilient, self).has_key(key, version), False)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(lambda: super(Resilient, self).add(*args, **kwargs), False)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(lambda: super(Resilient, self).set(*args, **kwargs), None)

    def set_many(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        return self._try(lambda: super(Resilient, self).set_many(data, *args, **kwargs), list(data))

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(lambda: super(Resilient, self).touch(*args, **kwargs), False)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(lambda: super(Resilient, self).delete(*args, **kwargs), False)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._try(lambda: super(Resilient, self).delete_many(*args, **kwargs), None)
