from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from divio_settings.urls import health_urlpatterns, media_urlpatterns


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"hello {request.get_host()}")


def boom(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    # An error message that carries a URL with a password, as driver errors sometimes do.
    raise RuntimeError(f"boom {getattr(settings, 'CELERY_BROKER_URL', '')}")


def boom_bytes(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    key = settings.SECRET_KEY.encode()  # a secret held as bytes in a frame's locals
    held = bytearray(key)
    raise RuntimeError(f"boom with {len(key)} and {len(held)} bytes")


urlpatterns = [
    path("", hello),
    path("boom/", boom),
    path("boom-bytes/", boom_bytes),
    *media_urlpatterns(),
    *health_urlpatterns(),
]
