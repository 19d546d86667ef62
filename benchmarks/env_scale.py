"""apply() against the size of the environment: `python benchmarks/env_scale.py`.

A live environment's variables plus 0, 100, 1,000 and 10,000 unrelated ones (a Kubernetes pod gets
about seven per service in its namespace), and 1, 10 and 100 extra database aliases; microseconds
per apply(), the best of 7 repeats (warm, in this process).
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import divio_settings  # noqa: E402

LIVE = {
    "DOMAIN": "example.us.aldryn.io",
    "DOMAIN_ALIASES": "www.example.com",
    "STAGE": "live",
    "SECRET_KEY": "k" * 50,
    "DATABASE_URL": "postgres://u:p@db:5432/x",
    "DEFAULT_STORAGE_DSN": "s3://K:S@b.s3.amazonaws.com/?domain=cdn.example.com",
}
BASE = {
    "__file__": "/app/x/settings.py",
    "MIDDLEWARE": ["django.middleware.security.SecurityMiddleware"],
    "INSTALLED_APPS": ["django.contrib.staticfiles"],
}


def per_apply(environ: dict[str, str], number: int) -> float:
    runs = timeit.repeat(
        lambda: divio_settings.apply(dict(BASE), environ=environ), number=number, repeat=7
    )
    return min(runs) / number * 1e6


def main() -> int:
    base = per_apply(LIVE, 50)
    for count in (0, 100, 1_000, 10_000):
        environ = LIVE | {f"UNRELATED_VARIABLE_{i}": "x" * 20 for i in range(count)}
        micro = per_apply(environ, 50)
        print(f"{count:>6} unrelated variables  {micro:8.0f} µs  {micro / base:5.2f} × none")
    for aliases in (1, 10, 100):
        environ = LIVE | {
            f"A{i}_DATABASE_DSN": f"postgres://u:p@db{i}:5432/x" for i in range(aliases)
        }
        micro = per_apply(environ, 20)
        print(
            f"{aliases:>6} database aliases     {micro:8.0f} µs  {(micro - base) / aliases:5.1f} µs each"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
