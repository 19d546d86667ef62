"""media_urlpatterns(): serve file media while DEBUG is on, like the guide's urls.py;
health_urlpatterns(): the liveness and readiness views (divio_settings.health)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, path


def media_urlpatterns() -> list[URLPattern]:
    """URL patterns that serve MEDIA_ROOT at MEDIA_URL when DEBUG is on and media is local.

    Empty in production (DEBUG off) and when MEDIA_URL points at another host (S3, Azure).
    """
    from django.conf.urls.static import static

    url = settings.MEDIA_URL or ""
    if not settings.DEBUG or url.strip("/") == "" or "://" in url:
        return []  # production, media elsewhere, or a MEDIA_URL that would catch every URL
    return static(url, view=serve_media, document_root=settings.MEDIA_ROOT)


def serve_media(request: HttpRequest, path: str, document_root: Any) -> HttpResponseBase:
    """django.views.static.serve, but only for a file whose real path (links resolved) is inside
    the media folder; a name the system cannot open (too long, a NUL) is a 404, not a 500."""
    import os.path

    from django.http import Http404
    from django.views.static import serve

    root = os.path.realpath(document_root)
    try:
        target = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if os.path.commonpath((root, target)) != root:
            raise Http404("Not inside the media folder")
        return serve(request, path, document_root=root)
    except (OSError, ValueError):
        raise Http404("No such file") from None


def health_urlpatterns(prefix: str = "-/") -> list[URLPattern]:
    """``<prefix>alive`` and ``<prefix>ready`` (by default ``/-/alive`` and ``/-/ready``):
    liveness (no service touched) and readiness (databases and caches answer). apply()'s
    HealthMiddleware answers them first, for any Host header and over http, so that a probe on
    the container's own address is not refused by ALLOWED_HOSTS or redirected to https."""
    from .health import ALIVE_NAME, READY_NAME, alive, ready

    return [
        path(f"{prefix}alive", alive, name=ALIVE_NAME),
        path(f"{prefix}ready", ready, name=READY_NAME),
    ]
