"""Static files: STATIC_URL/ROOT, WhiteNoise middleware and storage, the static-miss middleware
after it (version skew, docs/deployment.md), runserver without Django's static handler."""

from __future__ import annotations

import os.path
from collections.abc import Mapping
from typing import Any, Final

from . import conf
from .env import Env, base_dir
from .groups import Decisions

SECURITY_MIDDLEWARE: Final = "django.middleware.security.SecurityMiddleware"
WHITENOISE_MIDDLEWARE: Final = "whitenoise.middleware.WhiteNoiseMiddleware"
MISS_MIDDLEWARE: Final = "divio_settings.middleware.StaticMissMiddleware"
WHITENOISE_STORAGE: Final = "divio_settings.staticstorage.CompressedManifestStaticFilesStorage"
FILE_STORAGE: Final = "django.core.files.storage.FileSystemStorage"
STATICFILES_APP: Final = "django.contrib.staticfiles"
NOSTATIC_APP: Final = "whitenoise.runserver_nostatic"
SOURCE: Final = "default (WhiteNoise)"
OWN_MIDDLEWARE: Final = "divio_settings."


def with_whitenoise(middleware: list[str]) -> list[str]:
    """WhiteNoise exactly once, directly after SecurityMiddleware (or first when it is absent),
    and the static-miss middleware directly after it: it sees only what WhiteNoise did not
    answer."""
    rest = [entry for entry in middleware if entry not in (WHITENOISE_MIDDLEWARE, MISS_MIDDLEWARE)]
    position = rest.index(SECURITY_MIDDLEWARE) + 1 if SECURITY_MIDDLEWARE in rest else 0
    if position == 0:  # after our health probes and domain redirect, which must come first
        while position < len(rest) and rest[position].startswith(OWN_MIDDLEWARE):
            position += 1
    return [*rest[:position], WHITENOISE_MIDDLEWARE, MISS_MIDDLEWARE, *rest[position:]]


def with_runserver(apps: list[str]) -> list[str]:
    """The divio_settings app (whose runserver is WhiteNoise's) right before staticfiles, whose
    runserver it replaces; a project that lists WhiteNoise's own app keeps it."""
    if NOSTATIC_APP in apps or STATICFILES_APP not in apps:
        return apps
    rest = [app for app in apps if app != conf.APP]
    position = rest.index(STATICFILES_APP)
    return [*rest[:position], conf.APP, *rest[position:]]


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    if "STATIC_URL" not in current:
        out.set("STATIC_URL", "/static/", "default")
    if "STATIC_ROOT" not in current:
        out.set("STATIC_ROOT", os.path.join(base_dir(current), "staticfiles"), "default")
    middleware = list(current.get("MIDDLEWARE") or [])
    placed = with_whitenoise(middleware)
    if placed != middleware:
        out.set("MIDDLEWARE", placed, SOURCE)
    apps = list(current.get("INSTALLED_APPS") or [])
    ordered = with_runserver(apps)
    if ordered != apps:
        out.set("INSTALLED_APPS", ordered, SOURCE)
    storages = dict(current.get("STORAGES") or {})
    if "staticfiles" not in storages or "default" not in storages:
        # Django reads STORAGES whole: both aliases must exist once the setting is defined.
        storages.setdefault("default", {"BACKEND": FILE_STORAGE})
        storages.setdefault("staticfiles", {"BACKEND": WHITENOISE_STORAGE})
        out.set("STORAGES", storages, SOURCE)
    return out
