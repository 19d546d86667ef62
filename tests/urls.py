from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from divio_settings.urls import media_urlpatterns


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"hello {request.get_host()}")


def boom(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    # An error message that carries a URL with a password, as driver errors sometimes do.
    raise RuntimeError(f"boom {getattr(settings, 'CELERY_BROKER_URL', '')}")


urlpatterns = [path("", hello), path("boom/", boom), *media_urlpatterns()]
