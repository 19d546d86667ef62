"""What preflight and the health views cost: `python benchmarks/preflight.py`.

1. `manage.py preflight` against `manage.py check` on a healthy local stack (a startproject with
   `apply()`: PostgreSQL, Redis, file media), both whole processes, interleaved round by round;
   the ratio is the median of the per-round ratios. preflight runs once per release, after
   `migrate`; nothing of it runs at start-up.
2. Per request, in one process (Django's test client, PostgreSQL and Redis): `/-/ready` (a
   `SELECT 1` on a new connection and a Redis read, each in a thread of its own), `/-/alive`,
   and a trivial view with and without HealthMiddleware in MIDDLEWARE (what every other request
   pays: one dictionary lookup). Interleaved; medians of the rounds in µs per request.

Needs PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379, as the test suite does.
`--output FILE` stores the figures (benchmarks/results/preflight.json is the one
docs/performance.md quotes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def project(tmp: Path) -> Path:
    site = tmp / "site"
    site.mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(site)], check=True
    )
    settings = site / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text() + "\nimport divio_settings\ndivio_settings.apply(globals())\n"
    )
    return site


def timed(site: Path, env: Mapping[str, str], *command: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=site, env=env, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def bench_command(database: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        site = project(tmp)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "CACHE_URL": f"redis://127.0.0.1:6379/0?key_prefix={uuid.uuid4().hex}",
            "DEFAULT_STORAGE_DSN": f"file://{tmp}/media/?url=%2Fmedia%2F",
        }
        timed(site, env, "migrate", "--noinput")
        samples: dict[str, list[float]] = {"check": [], "preflight": []}
        for number in range(rounds):
            order = ["check", "preflight"] if number % 2 else ["preflight", "check"]
            for name in order:
                samples[name].append(timed(site, env, name))
    ratios = [p / c for p, c in zip(samples["preflight"], samples["check"], strict=True)]
    return {
        "check_ms": round(statistics.median(samples["check"]) * 1000, 1),
        "preflight_ms": round(statistics.median(samples["preflight"]) * 1000, 1),
        "ratio": round(statistics.median(ratios), 2),
        "ratio_min": round(min(ratios), 2),
        "ratio_max": round(max(ratios), 2),
    }


def configure(database: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": database,
                               "USER": "postgres", "HOST": "127.0.0.1", "PORT": "5432"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                            "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": uuid.uuid4().hex}},
        INSTALLED_APPS=["divio_settings"],
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["testserver"],
        MIDDLEWARE=[],
        USE_TZ=True,
    )  # fmt: skip
    django.setup()


def hello(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("hello")


def urlpatterns_of() -> list[Any]:
    from django.urls import path

    from divio_settings.urls import health_urlpatterns

    return [path("", hello), *health_urlpatterns()]


def per_request(get: Callable[[str], Any], path: str, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        response = get(path)
        assert response.status_code == 200, response.content
    return (time.perf_counter() - start) / count * 1e6


def bench_requests(database: str, rounds: int, count: int) -> dict[str, Any]:
    global urlpatterns
    configure(database)
    urlpatterns = urlpatterns_of()
    from django.test import Client, override_settings

    plain = Client()
    plain.handler.load_middleware()
    with override_settings(MIDDLEWARE=["divio_settings.middleware.HealthMiddleware"]):
        health = Client()
        health.handler.load_middleware()  # the chain is built now, with the middleware
    cases = {
        "view": (plain, "/"),
        "view, HealthMiddleware": (health, "/"),
        "alive": (health, "/-/alive"),
        "ready": (health, "/-/ready"),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for number in range(rounds):
        for name in names[number % len(names) :] + names[: number % len(names)]:  # rotating
            client, path = cases[name]
            samples[name].append(per_request(client.get, path, count))
    base = statistics.median(samples["view"])
    return {
        name: {
            "median_us": round(statistics.median(values), 1),
            "min_us": round(min(values), 1),
            "max_us": round(max(values), 1),
            "ratio_to_view": round(statistics.median(values) / base, 3),
        }
        for name, values in samples.items()
    }


urlpatterns: list[Any] = []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--count", type=int, default=200, help="requests per sample")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    import psycopg

    database = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        command = bench_command(database, args.rounds)
        requests = bench_requests(database, args.rounds, args.count)
        from django.db import connections

        connections.close_all()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(
        f"manage.py check {command['check_ms']} ms, preflight {command['preflight_ms']} ms: "
        f"{command['ratio']} × ({command['ratio_min']}–{command['ratio_max']})"
    )
    for name, figures in requests.items():
        print(f"{name:<24} {figures['median_us']:8.1f} µs  {figures['ratio_to_view']:6.3f} × view")
    if args.output:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from machine import machine

        stored = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rounds": args.rounds,
                  "count": args.count, "command": command, "requests": requests}  # fmt: skip
        args.output.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
