"""media_urlpatterns(): serve file media while DEBUG is on, like the guide's urls.py."""

from __future__ import annotations

from django.conf import settings
from django.urls import URLPattern


def media_urlpatterns() -> list[URLPattern]:
    """URL patterns that serve MEDIA_ROOT at MEDIA_URL when DEBUG is on and media is local.

    Empty in production (DEBUG off) and when MEDIA_URL points at another host (S3, Azure).
    """
    from django.conf.urls.static import static

    url = settings.MEDIA_URL or ""
    if not settings.DEBUG or url.strip("/") == "" or "://" in url:
        return []  # production, media elsewhere, or a MEDIA_URL that would catch every URL
    return static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
