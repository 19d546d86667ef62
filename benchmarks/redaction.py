"""Redaction in linear time: `python benchmarks/redaction.py`.

Three figures, each a median of repeated runs in this process:
- redacting 1 MB of text of several shapes (plain text, a run of letters, many "scheme://",
  many URLs with passwords, the environment's secret values scattered) with the report's
  redact() (scrub by value, then mask URL passwords);
- apply() with a 120 KB value in a variable (CACHE_URL), then reading the report;
- the error mail of a 500 whose request carries a 256 KB form field: Django's own
  ExceptionReporter against the one apply() installs (which redacts the whole report), as the
  ratio ours / Django's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(function: Callable[[], object], runs: int) -> dict[str, float]:
    values = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        values.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(values), "min_ms": min(values), "max_ms": max(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    import django
    from django.conf import settings

    import divio_settings
    from divio_settings import redaction

    environ = {
        "DATABASE_URL": "postgres://u:Zq8dbSecret77@db.example.com:5432/site",
        "DEFAULT_AMQP_BROKER_URL": "amqp://guest:Zq8brokerSecret@rabbit:5672/",
        "SECRET_KEY": "Zq8signingKey" + "k" * 40,
    }
    namespace: dict[str, object] = {"__file__": "/app/x/settings.py"}
    divio_settings.apply(namespace, environ=environ)
    megabyte = 1_000_000
    shapes = {
        "plain text": ("The quick brown fox jumps over the lazy dog. " * 30000)[:megabyte],
        "a run of letters": "a" * megabyte,
        "many scheme://": ("a://" * (megabyte // 4)),
        "many URL passwords": ("x://u:p@" * (megabyte // 8)),
        "secret values scattered": ("text Zq8dbSecret77 more " * 50000)[:megabyte],
    }
    results: dict[str, object] = {}
    for name, text in shapes.items():
        results[f"redact 1 MB, {name}"] = timed(lambda text=text: redaction.redact(text), args.runs)

    big = "redis://h:6379/0?key_prefix=" + "x" * 120_000

    def apply_big() -> None:
        ns: dict[str, object] = {"__file__": "/app/x/settings.py"}
        divio_settings.apply(ns, environ={"CACHE_URL": big})
        list(ns["DIVIO_SETTINGS_REPORT"])  # type: ignore[call-overload]

    results["apply() with a 120 KB value, report read"] = timed(apply_big, args.runs)

    settings.configure(
        DEBUG=False,
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[],
        ROOT_URLCONF=__name__,
        DATABASES={},
    )
    django.setup()
    from django.test import RequestFactory
    from django.views.debug import ExceptionReporter as DjangoReporter

    from divio_settings.debug_page import ExceptionReporter as OurReporter

    request = RequestFactory().post("/form/", {"field": "a" * 256_000, "other": "b"})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        info = sys.exc_info()

    def mail_body(reporter_class: type) -> Callable[[], object]:
        def build() -> object:
            reporter = reporter_class(request, *info, is_email=True)
            return reporter.get_traceback_text(), reporter.get_traceback_html()

        return build

    ratios = []
    django_times, our_times = [], []
    for _ in range(args.runs):  # interleaved
        django_times.append(timed(mail_body(DjangoReporter), 1)["median_ms"])
        our_times.append(timed(mail_body(OurReporter), 1)["median_ms"])
        ratios.append(our_times[-1] / django_times[-1])
    results["error mail, 256 KB form field"] = {
        "django_ms": statistics.median(django_times),
        "ours_ms": statistics.median(our_times),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }
    for name, figures in results.items():
        print(f"{name:<45} {json.dumps(figures)}")
    if args.output:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from machine import machine

        stored = {"machine": machine(), "runs": args.runs, **results}
        args.output.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


urlpatterns: list[object] = []

if __name__ == "__main__":
    raise SystemExit(main())
