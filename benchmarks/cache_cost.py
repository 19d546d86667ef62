"""What the cloud's shared cache default costs: `python benchmarks/cache_cost.py`.

The same cache operations against Django's per-process local memory (the old default), the
database cache on PostgreSQL (the cloud default without CACHE_URL: every process and container
shares it) and Redis (CACHE_URL=redis://…), interleaved round by round so that machine drift hits
all alike. Needs PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379, as the test
suite does. Prints microseconds per operation (median of the rounds, min–max) and the ratio to
local memory. A request that does not use the cache pays nothing; one that does pays this per
operation. "get, new connection" is a request whose only use of the database is one cache read:
with CONN_MAX_AGE=0 (the default) it opens and closes a connection for it. `--output FILE` stores
the figures (benchmarks/results/cache_cost.json is the one docs/performance.md quotes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OPERATIONS = ("get (hit)", "set", "incr", "get, new connection")


def configure(database: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": database,
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": "5432",
            }
        },
        CACHES={
            "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "database": {
                # What the cloud gets without CACHE_URL (Django's DatabaseCache, degrading).
                "BACKEND": "divio_settings.db_cache.ResilientDatabaseCache",
                "LOCATION": "django_dbcache",
            },
            "redis": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/0",
                "KEY_PREFIX": uuid.uuid4().hex,
            },
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        },
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()


def per_operation(cache: Any, operation: str, count: int) -> float:
    from django.db import connections

    key = f"bench-{uuid.uuid4().hex}"
    cache.set(key, 0, 600)
    start = time.perf_counter()
    for _ in range(count):
        if operation == "get, new connection":
            # A request's one cache read under CONN_MAX_AGE=0 (the default): the database
            # connection is opened for it and closed at the request's end.
            connections.close_all()
            cache.get(key)
        elif operation == "get (hit)":
            cache.get(key)
        elif operation == "set":
            cache.set(key, "value", 600)
        else:
            cache.incr(key)
    return (time.perf_counter() - start) / count * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--count", type=int, default=200, help="operations per sample")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    import psycopg

    database = f"bench_{uuid.uuid4().hex[:8]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        configure(database)
        from django.core.cache import caches
        from django.core.management import call_command

        call_command("createcachetable", database="default", verbosity=0)
        samples: dict[str, dict[str, list[float]]] = {
            name: {op: [] for op in OPERATIONS} for name in ("locmem", "database", "redis")
        }
        for _ in range(args.rounds):
            for name in samples:
                for operation in OPERATIONS:
                    samples[name][operation].append(
                        per_operation(caches[name], operation, args.count)
                    )
        from django.db import connections

        connections.close_all()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    results: dict[str, Any] = {}
    for name, operations in samples.items():
        for operation, values in operations.items():
            median = statistics.median(values)
            base = statistics.median(samples["locmem"][operation])
            results[f"{name}/{operation}"] = {
                "median_us": median,
                "min_us": min(values),
                "max_us": max(values),
                "ratio_to_locmem": median / base,
            }
            print(
                f"{name:<9} {operation:<10} {median:8.1f} µs ({min(values):.1f}–{max(values):.1f})"
                f"  {median / base:7.1f} × locmem"
            )
    if args.output:
        from machine import machine

        stored = {"machine": machine(), "rounds": args.rounds, "count": args.count, **results}
        args.output.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
