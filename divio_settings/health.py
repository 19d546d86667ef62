"""The health views: ``/-/alive`` (the process answers; touches no service) and ``/-/ready``
(every database answers ``SELECT 1`` and every cache a read, within READY_TIMEOUT seconds: 200,
else 503 naming what failed). urls.health_urlpatterns() routes them; HealthMiddleware answers
them before host validation and the https and domain redirects, so that a platform's or load
balancer's probe on the container's own address gets an answer."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Final

from django.http import HttpRequest, JsonResponse

from .middleware import ALIVE_NAME as ALIVE_NAME
from .middleware import READY_NAME as READY_NAME

if TYPE_CHECKING:
    from .preflight import Result
READY_TIMEOUT: Final = 2.0  # seconds: below the probe timeouts of Kubernetes (1 s default: set it)
NO_STORE: Final = "no-store"
WARN_EVERY: Final = 60.0  # seconds between two log lines of a failing readiness probe
log = logging.getLogger("divio_settings.health")
_warned = {"at": -WARN_EVERY}


def alive(request: HttpRequest) -> JsonResponse:
    """200 while the process answers requests."""
    response = JsonResponse({"status": "alive"})
    response["Cache-Control"] = NO_STORE
    return response


def ready(request: HttpRequest) -> JsonResponse:
    """200 when every database and cache answers, else 503 with what failed (no secrets)."""
    # Imported here: admin's system checks import every MIDDLEWARE class, and `manage.py
    # check` should not pay for the probes (threads, dataclasses) it never runs.
    from .preflight import FAIL, cheap_probes, run_all

    results = run_all(cheap_probes(), READY_TIMEOUT)
    failed = [result for result in results if result.status == FAIL]
    body = {
        "status": "unavailable" if failed else "ready",
        "checks": {
            result.label: result.detail if result.status == FAIL else result.status
            for result in results
        },
    }
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = NO_STORE
    if failed:
        # Not Django's ERROR line per 503 (and, with ADMINS, an error mail per probe every few
        # seconds): one WARNING a minute while it lasts.
        response._has_been_logged = True  # type: ignore[attr-defined]
        warn(failed)
    return response


def warn(failed: list[Result]) -> None:
    now = time.monotonic()
    if now - _warned["at"] >= WARN_EVERY:
        _warned["at"] = now
        lines = "; ".join(f"{result.label}: {result.detail}" for result in failed)
        log.warning("Not ready: %s", lines)
