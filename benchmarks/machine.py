"""What every stored result says about where and when it was measured (`machine` in each
benchmarks/results/*.json): the docs quote it beside the figures."""

from __future__ import annotations

import os
import platform
import time


def machine() -> dict[str, object]:
    try:
        import django

        django_version = django.get_version()
    except ImportError:  # pragma: no cover - every benchmark environment has Django
        django_version = "-"
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "django": django_version,
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
    }
