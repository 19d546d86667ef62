"""The database cache the cloud gets without ``CACHE_URL`` (table ``django_dbcache``): Django's
DatabaseCache, answering a miss while the table is missing (``createcachetable`` not run yet) or
the database is away, with one WARNING a minute instead of a traceback per request."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import Error, connections, router, transaction

from .resilient_cache import Resilient


class ResilientDatabaseCache(Resilient, DatabaseCache):
    outage = (Error,)
    server = "Database cache"

    def _guarded(self) -> AbstractContextManager[Any]:
        # Inside a transaction (ATOMIC_REQUESTS), a failed query would abort all of it: the
        # cache's query gets a savepoint of its own there; outside one it costs nothing.
        database = router.db_for_read(self.cache_model_class) or "default"
        if connections[database].in_atomic_block:
            return transaction.atomic(using=database)
        return nullcontext()
