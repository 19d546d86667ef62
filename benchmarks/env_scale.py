"""apply() against the size of the environment: `python benchmarks/env_scale.py`.

A live environment's variables plus 0, 100, 1,000 and 10,000 unrelated ones (a Kubernetes pod gets
about seven per service in its namespace), and 1, 10 and 100 extra database aliases; microseconds
per apply(), the best of 25 repeats (warm, in this process). The environment is a dict here; the
process's own os.environ is measured too (read through its public mapping). `--output FILE`
stores the figures (benchmarks/results/env_scale.json is the one docs/performance.md quotes).
"""

from __future__ import annotations

import os
import sys
import timeit
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import divio_settings

LIVE = {
    "DOMAIN": "example.us.aldryn.io",
    "DOMAIN_ALIASES": "www.example.com",
    "STAGE": "live",
    "SECRET_KEY": "k" * 50,
    "DATABASE_URL": "postgres://u:pa55w0rd@db:5432/x",
    "DEFAULT_STORAGE_DSN": "s3://K:s3cr3t-key@b.s3.amazonaws.com/?domain=cdn.example.com",
}
BASE = {
    "__file__": "/app/x/settings.py",
    "MIDDLEWARE": ["django.middleware.security.SecurityMiddleware"],
    "INSTALLED_APPS": ["django.contrib.staticfiles"],
}
COUNTS = (0, 100, 1_000, 10_000)
ALIASES = (1, 10, 100)


def per_apply(environ: Mapping[str, str] | None, number: int, repeat: int) -> float:
    runs = timeit.repeat(
        lambda: divio_settings.apply(dict(BASE), environ=environ), number=number, repeat=repeat
    )
    return min(runs) / number * 1e6


def unrelated(count: int) -> dict[str, str]:
    return {f"UNRELATED_VARIABLE_{i}": "x" * 20 for i in range(count)}


def measure(repeat: int = 25) -> dict[str, Any]:
    base = per_apply(LIVE, 50, repeat)
    out: dict[str, Any] = {"live_us": round(base, 1), "unrelated": {}, "os_environ": {}}
    for count in COUNTS:
        micro = per_apply(LIVE | unrelated(count), 50, repeat)
        out["unrelated"][count] = {"us": round(micro, 1), "ratio": round(micro / base, 2)}
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(LIVE)
        os_base = per_apply(None, 50, repeat)
        for count in COUNTS:
            os.environ.clear()
            os.environ.update(LIVE | unrelated(count))
            micro = per_apply(None, 50, repeat)
            out["os_environ"][count] = {"us": round(micro, 1), "ratio": round(micro / os_base, 2)}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out["aliases"] = {}
    for aliases in ALIASES:
        environ = LIVE | {
            f"A{i}_DATABASE_DSN": f"postgres://u:pa55w0rd@db{i}:5432/x" for i in range(aliases)
        }
        micro = per_apply(environ, 20, repeat)
        out["aliases"][aliases] = {
            "us": round(micro, 1),
            "each_us": round((micro - base) / aliases, 1),
        }
    return out


def main() -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="store the figures in this JSON file")
    args = parser.parse_args()
    figures = measure()
    if args.output:
        from machine import machine

        with open(args.output, "w") as out:
            json.dump({"machine": machine(), **figures}, out, indent=1)
            out.write("\n")
    print(f"live environment: {figures['live_us']} µs per apply()")
    for count in COUNTS:
        plain, real = figures["unrelated"][count], figures["os_environ"][count]
        print(
            f"{count:>6} unrelated variables  {plain['us']:8.0f} µs {plain['ratio']:5.2f} ×"
            f"   in os.environ {real['us']:8.0f} µs {real['ratio']:5.2f} ×"
        )
    for aliases in ALIASES:
        row = figures["aliases"][aliases]
        print(
            f"{aliases:>6} database aliases     {row['us']:8.0f} µs  {row['each_us']:5.1f} µs each"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
