"""The health views: ``/-/alive`` (the process answers; touches no service) and ``/-/ready``
(every database answers ``SELECT 1`` and every cache a read, within READY_TIMEOUT seconds: 200,
else 503 naming what failed). urls.health_urlpatterns() routes them; HealthMiddleware answers
them before host validation and the https and domain redirects, so that a platform's or load
balancer's probe on the container's own address gets an answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse

from .preflight import FAIL, Result, cheap_probes, run_all

ALIVE_NAME: Final = "divio-settings-alive"
READY_NAME: Final = "divio-settings-ready"
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


GetResponse = Callable[[HttpRequest], Any]
View = Callable[[HttpRequest], HttpResponse]


class HealthMiddleware:
    """Answer the views of ``health_urlpatterns()`` (``/-/alive``, ``/-/ready``) before any
    other middleware: a probe of a platform, Kubernetes or a load balancer comes to the
    container's own address, which no ALLOWED_HOSTS lists, and over http, which the https
    redirect would turn away. Only those two paths are answered so; everything else goes on.

    Their paths are looked up (reversed) on the first request, once the URLconf is there; a
    project whose urls.py does not route them pays one dictionary lookup per request.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.views: dict[str, View] | None = None
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def view(self, request: HttpRequest) -> View | None:
        if self.views is None:
            try:
                self.views = health_views()
            except Exception:
                return None  # urls.py cannot be loaded: the request fails as it would anyway
        return self.views.get(request.path)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        view = self.view(request)
        return view(request) if view is not None else self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        view = self.view(request)
        if view is not None:
            # The readiness probes wait on their own threads; the event loop does not.
            response: HttpResponse = await sync_to_async(view, thread_sensitive=False)(request)
            return response
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        return await get_response(request)


def health_views() -> dict[str, View]:
    """{path: view} of the health views that urls.py routes (none: an empty dict)."""
    from django.urls import NoReverseMatch, reverse

    found: dict[str, View] = {}
    for name, view in ((ALIVE_NAME, alive), (READY_NAME, ready)):
        try:
            found[reverse(name)] = view
        except NoReverseMatch:
            pass
    return found
