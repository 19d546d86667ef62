"""System checks: mistakes that would only show after a deploy. IDs are never reused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

WHITENOISE: Final = "whitenoise.middleware.WhiteNoiseMiddleware"
SECURITY: Final = "django.middleware.security.SecurityMiddleware"
LEGACY_STORAGE: Final = ("DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE")

Messages = list[checks.CheckMessage]


def _cloud() -> bool:
    return getattr(settings, "DIVIO_ENVIRONMENT", "local") == "cloud"


def check_whitenoise(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    middleware = list(settings.MIDDLEWARE)
    count = middleware.count(WHITENOISE)
    hint = f"List {WHITENOISE} once, directly after {SECURITY} (apply(static=True) does this)."
    if count == 0:
        return [
            checks.Warning(
                "WhiteNoiseMiddleware is not in MIDDLEWARE: static files will "
                "not be served by the app.",
                hint=hint,
                id="divio_settings.W001",
            )
        ]
    if count > 1:
        return [
            checks.Error(
                "WhiteNoiseMiddleware is listed more than once in MIDDLEWARE.",
                hint=hint,
                id="divio_settings.E001",
            )
        ]
    position = middleware.index(WHITENOISE)
    if SECURITY in middleware and middleware.index(SECURITY) != position - 1:
        return [
            checks.Warning(
                "WhiteNoiseMiddleware is not directly after SecurityMiddleware.",
                hint=hint,
                id="divio_settings.W002",
            )
        ]
    return []


def check_legacy_storage(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    return [
        checks.Warning(
            f"{name} is set, but Django 5.1 and later ignore it.",
            hint="Remove it: apply() configures STORAGES['default'] from "
            "DEFAULT_STORAGE_DSN and STORAGES['staticfiles'] for WhiteNoise.",
            id="divio_settings.W003",
        )
        for name in LEGACY_STORAGE
        if hasattr(settings, name) and settings.is_overridden(name)
    ]


def check_allowed_hosts(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        checks.Warning(
            "ALLOWED_HOSTS contains '*': any Host header is accepted.",
            hint="List the domains in DOMAIN and DOMAIN_ALIASES instead of '*' or '.*'.",
            id="divio_settings.W004",
        )
    ]


def check_debug_live(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    if not (settings.DEBUG and getattr(settings, "DIVIO_STAGE", "") == "live"):
        return []
    return [
        checks.Error(
            "DEBUG is on in the live environment.",
            hint="Remove DJANGO_DEBUG from the live environment's variables.",
            id="divio_settings.E002",
        )
    ]


def check_media_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    if not _cloud() or getattr(settings, "DEFAULT_STORAGE_DSN", None):
        return []
    backend = settings.STORAGES.get("default", {}).get("BACKEND", "")
    if backend != "django.core.files.storage.FileSystemStorage":
        return []
    return [
        checks.Warning(
            "Media is stored on the container's disk, which is lost on every "
            "deploy and not shared between containers.",
            hint="Add an object storage service so that DEFAULT_STORAGE_DSN is set.",
            id="divio_settings.W005",
        )
    ]


def check_sqlite_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
    if not _cloud() or engine != "django.db.backends.sqlite3":
        return []
    return [
        checks.Warning(
            "The default database is SQLite on the container's disk in a cloud "
            "environment: its data is lost on every deploy.",
            hint="Add a database service so that DATABASE_URL is set.",
            id="divio_settings.W006",
        )
    ]


LOCAL_CACHES: Final = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


def check_cache_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if not _cloud() or backend not in LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            "The default cache lives inside each container: the containers of a cloud "
            "environment do not share it, and it is emptied on every deploy.",
            hint="Set CACHE_URL to redis://… or db://django_dbcache (then add the release "
            "command 'python manage.py createcachetable').",
            id="divio_settings.W007",
        )
    ]


def check_sentry_installed(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    sentry = getattr(settings, "DIVIO_SENTRY", None)
    if not sentry or sentry.get("installed"):
        return []
    return [
        checks.Warning(
            "SENTRY_DSN is set but sentry-sdk is not installed: errors are not reported.",
            hint="Add divio-settings[sentry] to requirements.txt.",
            id="divio_settings.W008",
        )
    ]


CHECKS: Final[tuple[tuple[Callable[..., Messages], bool], ...]] = (
    (check_whitenoise, False),
    (check_legacy_storage, False),
    (check_allowed_hosts, True),
    (check_debug_live, True),
    (check_media_cloud, True),
    (check_sqlite_cloud, True),
    (check_cache_cloud, True),
    (check_sentry_installed, False),
)


def register() -> None:
    for check, deploy in CHECKS:
        checks.register(check, checks.Tags.security, deploy=deploy)
