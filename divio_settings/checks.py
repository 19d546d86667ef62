"""System checks: mistakes that would only show after a deploy. IDs are never reused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from . import conf
from .report import Report
from .security import DERIVED_KEY, INSECURE_PREFIX
from .service_checks import (
    check_cache_cloud,
    check_connections,
    check_local_services,
    check_redis_package,
    check_sentry_installed,
    check_storage_secret,
)
from .static import SECURITY_MIDDLEWARE as SECURITY
from .static import WHITENOISE_MIDDLEWARE as WHITENOISE

LEGACY_STORAGE: Final = ("DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE")

Messages = list[checks.CheckMessage]


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
            hint="No variable puts '*' there: remove it from ALLOWED_HOSTS in settings.py (or "
            "the code after apply()); apply() adds localhost locally, and DOMAIN, "
            "DOMAIN_ALIASES and DOMAIN_REDIRECTS (and leaves settings.py's '*' out) once DOMAIN "
            "is set.",
            id="divio_settings.W004",
        )
    ]


def check_debug_live(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    if not (settings.DEBUG and conf.read(conf.STAGE) == "live"):
        return []
    return [
        checks.Error(
            "DEBUG is on in the live environment.",
            hint="Remove DJANGO_DEBUG from the live environment's variables.",
            id="divio_settings.E002",
        )
    ]


def check_media_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    if not conf.in_cloud() or getattr(settings, "DEFAULT_STORAGE_DSN", None):
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


def check_replaced_storage_settings(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> Messages:
    """settings.py's django-storages settings that DEFAULT_STORAGE_DSN made moot (W018)."""
    replaced = list(conf.read(conf.REPLACED_STORAGE_SETTINGS) or ())
    if not replaced:
        return []
    from .storage.access import REPLACED_BY_DSN

    said = "; ".join(f"{name} (in the DSN: {REPLACED_BY_DSN.get(name, '—')})" for name in replaced)
    return [
        checks.Warning(
            f"settings.py sets storage settings that DEFAULT_STORAGE_DSN's storage does not "
            f"read: {said}.",
            hint="Say what they said in the DSN (`divio-settings show --changes` shows each), "
            "then remove them from settings.py.",
            id="divio_settings.W018",
        )
    ]


def check_storage_backends(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """A STORAGES entry every use of which fails (E008): a backend that cannot be imported, or
    django-storage-url's storage whose DSN setting is empty (the quickstart's DefaultStorageClass
    without DEFAULT_STORAGE_DSN: NotImplementedError on every upload)."""
    from django.utils.module_loading import import_string

    from .storage import BACKEND

    messages: Messages = []
    for alias, entry in (getattr(settings, "STORAGES", None) or {}).items():
        backend = str((entry or {}).get("BACKEND", ""))
        if alias == "staticfiles" or backend == BACKEND or backend.startswith("django."):
            continue
        try:
            found = import_string(backend)
        except ImportError:
            why = "cannot be imported"
        else:
            setting = getattr(found, "_setting_name", None)  # django-storage-url's lazy class
            if setting is None or getattr(settings, setting, None):
                continue
            why = f"is django-storage-url's storage for {setting}, which is empty"
        messages.append(
            checks.Error(
                f"STORAGES[{alias!r}] names {backend}, which {why}: every use of the storage "
                "fails.",
                hint=f"Remove STORAGES[{alias!r}] (and its class) from settings.py: apply() "
                "configures media from DEFAULT_STORAGE_DSN, and local files without it.",
                id="divio_settings.E008",
            )
        )
    return messages


def check_cloud_domain(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """A cloud environment (STAGE) without DOMAIN whose ALLOWED_HOSTS names no host to serve:
    every request is a 400 (E011)."""
    if not conf.in_cloud() or conf.read(conf.DOMAIN):
        return []
    local = {"localhost", "127.0.0.1", "[::1]", ""}
    served = [host for host in settings.ALLOWED_HOSTS if host not in local]
    if served:
        return []
    return [
        checks.Error(
            f"STAGE is {conf.read(conf.STAGE)!r} but DOMAIN is not set, and ALLOWED_HOSTS names "
            "no host the site is served on: every request is a 400.",
            hint="Set DOMAIN (Divio sets it in every cloud environment; check the environment's "
            "variables), or list the site's hosts in DOMAIN_ALIASES.",
            id="divio_settings.E011",
        )
    ]


def check_sqlite_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
    if not conf.in_cloud() or engine != "django.db.backends.sqlite3":
        return []
    return [
        checks.Warning(
            "The default database is SQLite on the container's disk in a cloud "
            "environment: its data is lost on every deploy.",
            hint="Add a database service so that DATABASE_URL is set.",
            id="divio_settings.W006",
        )
    ]


COOKIES: Final = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")


def check_secure_cookies(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """In the cloud (always behind https) a session or CSRF cookie without Secure: settings.py
    turned it off (apply() turns both on there), so the cookie also travels over plain http."""
    if not conf.in_cloud():
        return []
    return [
        checks.Warning(
            f"{name} is False in a cloud environment: the cookie is also sent over plain "
            "http, where anyone on the way can read it.",
            hint=f"Remove {name} = False from settings.py: apply() sets it to True in the "
            "cloud while the https redirect is on.",
            id="divio_settings.W017",
        )
        for name in COOKIES
        if settings.is_overridden(name) and getattr(settings, name) is False
    ]


def check_urls(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    messages: Messages = []
    for name in ("STATIC_URL", "MEDIA_URL"):
        value = getattr(settings, name, "") or ""
        if not value.endswith("/") or " " in value:
            messages.append(
                checks.Error(
                    f"{name} is {value!r}: it must end with '/' and contain no spaces, or no URL "
                    "built from it can work.",
                    hint=f"Set {name} like '/static/' or 'https://cdn.example.com/path/'.",
                    id="divio_settings.E004",
                )
            )
    return messages


def check_environment_key(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """A cloud environment on a key that is not the environment's: the one apply() derives
    outside the cloud while SECRET_KEY is unset (each machine has another), or startproject's
    public 'django-insecure-' one (reachable when the security group is off or a later line
    replaces the key)."""
    if not conf.in_cloud():
        return []
    report = conf.read(conf.REPORT)
    if isinstance(report, Report):  # its source only: the rows are built when shown
        derived = report.source("SECRET_KEY") == DERIVED_KEY
    else:
        derived = any(
            row["setting"] == "SECRET_KEY" and row["source"] == DERIVED_KEY for row in report or []
        )
    insecure = str(getattr(settings, "SECRET_KEY", "")).startswith(INSECURE_PREFIX)
    if not (derived or insecure):
        return []
    what = "a key derived on one machine" if derived else "startproject's key"
    return [
        checks.Error(
            f"SECRET_KEY is {what} in a cloud environment: sessions and signed data differ "
            "between containers, or anyone can forge them.",
            hint="Set SECRET_KEY in the environment's variables (and let apply() use it).",
            id="divio_settings.E005",
        )
    ]


def check_public_suffix_wildcard(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> Messages:
    """A wildcard over a public suffix (*.co.uk) allows every site registered under it. The
    public suffix list is loaded only here (about 50 ms), never at start-up."""
    wildcards = [host for host in settings.ALLOWED_HOSTS if host.startswith(".")]
    if not wildcards:
        return []
    from publicsuffixlist import PublicSuffixList

    suffixes = PublicSuffixList()
    return [
        checks.Warning(
            f"ALLOWED_HOSTS has {host!r}, a wildcard over the public suffix {host[1:]!r}: "
            "every domain anyone registers under it is allowed.",
            hint="List your own domain (*.example.co.uk) in DOMAIN_ALIASES instead.",
            id="divio_settings.W011",
        )
        for host in wildcards
        if suffixes.is_public(host[1:])
    ]


def check_variable_conflicts(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    return [
        checks.Warning(
            f"{first} and {second} are both set, to different values: {first} is used.",
            hint="Remove one of them (Divio sets both to the same value).",
            id="divio_settings.W012",
        )
        for first, second in conf.read(conf.VARIABLE_CONFLICTS)
    ]


def check_any_host_alias(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """DOMAIN_ALIASES with `*` or a regex for any host: left out of ALLOWED_HOSTS (never every
    host); the variable should say which domains it means."""
    return [
        checks.Warning(
            f"DOMAIN_ALIASES has {item!r}, which would allow every host: it is ignored.",
            hint="List the domains (www.example.com, *.example.com) in DOMAIN_ALIASES.",
            id="divio_settings.W013",
        )
        for item in conf.read(conf.IGNORED_HOSTS)
    ]


def check_foreign_variables(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """Variables of other conventions for what divio-settings governs, which neither it nor
    settings.py reads (apply() lists them in DIVIO_FOREIGN_VARIABLES)."""
    return [
        checks.Warning(
            f"{name} is set, but divio-settings does not read it and settings.py does not "
            "use its value.",
            hint=f"Use {instead} instead, then remove {name}.",
            id="divio_settings.W014",
        )
        for name, instead in conf.read(conf.FOREIGN_VARIABLES)
    ]


UNCOMPRESSED_STATIC: Final = (
    "django.contrib.staticfiles.storage.StaticFilesStorage",
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
)


def check_static_compression(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """settings.py kept a static storage that writes no compressed files: WhiteNoise then
    serves every asset uncompressed (and, without a manifest, without far-future caching)."""
    if WHITENOISE not in settings.MIDDLEWARE:
        return []
    backend = settings.STORAGES.get("staticfiles", {}).get("BACKEND", "")
    if backend not in UNCOMPRESSED_STATIC:
        return []
    return [
        checks.Warning(
            f"STORAGES['staticfiles'] is {backend.rsplit('.', 1)[1]}: WhiteNoise serves the "
            "static files uncompressed.",
            hint="Remove STORAGES['staticfiles'] from settings.py (apply() then uses "
            "WhiteNoise's compressed, hashed storage), or name that backend.",
            id="divio_settings.W016",
        )
    ]


# All plain checks (no --deploy needed): the cloud-only ones look at DIVIO_ENVIRONMENT and say
# nothing locally, so that `migrate` in a release command shows them.
CHECKS: Final[tuple[Callable[..., Messages], ...]] = (
    check_whitenoise,
    check_legacy_storage,
    check_allowed_hosts,
    check_debug_live,
    check_media_cloud,
    check_replaced_storage_settings,
    check_storage_backends,
    check_storage_secret,
    check_redis_package,
    check_cloud_domain,
    check_sqlite_cloud,
    check_cache_cloud,
    check_sentry_installed,
    check_connections,
    check_urls,
    check_environment_key,
    check_public_suffix_wildcard,
    check_variable_conflicts,
    check_any_host_alias,
    check_foreign_variables,
    check_local_services,
    check_static_compression,
    check_secure_cookies,
)


def check_all(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """Every check of CHECKS; apps.py registers it as one check (Django inspects the signature
    of each check it registers, which for 18 of them cost more than running them)."""
    return [message for check in CHECKS for message in check(app_configs, **kwargs)]
