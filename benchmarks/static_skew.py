"""What the static-miss middleware costs: `python benchmarks/static_skew.py`.

Two request stacks in one process over the same collectstatic output (Django admin's files,
WhiteNoise's CompressedManifestStaticFilesStorage): WhiteNoise alone (the guide's stack), and
WhiteNoise followed by divio-settings' StaticMissMiddleware with the fallback on and S3 media
(what apply() writes for the cloud). Each sample calls the WSGI handler directly, so that the
difference is the middleware and not the network; the two stacks alternate round by round so
that machine drift hits both alike. Prints microseconds per request (median of the rounds,
min–max) and the ratio ours/guide:

- a hashed static file (a hit: WhiteNoise answers before the middleware is reached),
- a page (a view: the middleware's one ``str.startswith``),
- a miss of a hashed name: a 404 in the guide's stack, the redirect to the published copy in
  ours (what a container of the other version answers during a rolling deploy),
- a miss of an unhashed name: a 404 in both, ``no-store`` in ours.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

S3 = "s3://KEY:SECRET@bucket.s3.amazonaws.com/site?domain=media.example.com"
CASES = ("hit", "page", "miss hashed", "miss plain")


def configure(root: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["testserver"],
        SECRET_KEY="benchmark-" + "x" * 50,
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.staticfiles",
        ],
        STATIC_URL="/static/",
        STATIC_ROOT=root,
        STORAGES={
            "default": {
                "BACKEND": "divio_settings.storage.backend.DSNStorage",
                "OPTIONS": {"dsn": S3},
            },
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        DIVIO_STATIC_FALLBACK=True,
        MIDDLEWARE=[],
        USE_TZ=True,
    )
    django.setup()


def page(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("page")


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("page/", page)]


def handler(middleware: list[str]) -> Callable[[dict[str, Any]], int]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware):
        wsgi = WSGIHandler()

    def call(environ: dict[str, Any]) -> int:
        status: list[str] = []
        body = wsgi(dict(environ), lambda s, h, *a: status.append(s))
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()
        return int(status[0].split()[0])

    return call


def environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--count", type=int, default=300, help="requests per sample")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        configure(root)
        import logging

        from django.core.management import call_command

        logging.disable(logging.WARNING)  # Django logs every 404
        call_command("collectstatic", "--noinput", verbosity=0)
        manifest = json.loads((Path(root) / "staticfiles.json").read_text())["paths"]
        hashed = manifest["admin/css/base.css"]
        paths = {
            "hit": f"/static/{hashed}",
            "page": "/page/",
            "miss hashed": "/static/admin/css/gone.0123456789ab.css",
            "miss plain": "/static/admin/css/gone.css",
        }
        expected = {
            "guide": {"hit": 200, "page": 200, "miss hashed": 404, "miss plain": 404},
            "ours": {"hit": 200, "page": 200, "miss hashed": 302, "miss plain": 404},
        }
        # The published index, as a container holds it once read (publish_static wrote it).
        from divio_settings import published

        published.NAMES.names = frozenset({"admin/css/gone.0123456789ab.css"})
        published.NAMES.fetched = time.monotonic() + 10**9
        whitenoise = "whitenoise.middleware.WhiteNoiseMiddleware"
        stacks = {
            "guide": handler([whitenoise]),
            "ours": handler([whitenoise, "divio_settings.middleware.StaticMissMiddleware"]),
        }
        for name, call in stacks.items():  # warm, and the answers are what they should be
            for case, path in paths.items():
                assert call(environ(path)) == expected[name][case], (name, case)
        samples: dict[str, dict[str, list[float]]] = {
            name: {case: [] for case in CASES} for name in stacks
        }
        pairs = list(stacks.items())
        for number in range(args.rounds):
            for index, case in enumerate(CASES):
                # ABBA: each case has either stack first in every other round.
                for name, call in pairs if (number + index) % 2 else pairs[::-1]:
                    request = environ(paths[case])
                    start = time.perf_counter()
                    for _ in range(args.count):
                        request["wsgi.input"] = io.BytesIO()
                        call(request)
                    samples[name][case].append((time.perf_counter() - start) / args.count * 1e6)
    results: dict[str, Any] = {}
    for case in CASES:
        ratios = [o / g for o, g in zip(samples["ours"][case], samples["guide"][case], strict=True)]
        results[case] = {
            name: {
                "median_us": statistics.median(samples[name][case]),
                "min_us": min(samples[name][case]),
                "max_us": max(samples[name][case]),
            }
            for name in stacks
        } | {"ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}
        guide, ours = results[case]["guide"], results[case]["ours"]
        print(
            f"{case:<12} guide {guide['median_us']:7.1f} µs  ours {ours['median_us']:7.1f} µs"
            f"  ours/guide {results[case]['ratio']:.3f} "
            f"({results[case]['ratio_min']:.3f}–{results[case]['ratio_max']:.3f})"
        )
    if args.output:
        from machine import machine

        stored = {"machine": machine(), "rounds": args.rounds, "count": args.count, **results}
        args.output.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


urlpatterns: list[Any] = []

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    urlpatterns = _urlpatterns()
    sys.exit(main())
