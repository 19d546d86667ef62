"""A URLconf without the health views (the HealthMiddleware then answers nothing)."""

from __future__ import annotations

from django.urls import path

from tests.urls import hello

urlpatterns = [path("", hello)]
