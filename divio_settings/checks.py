"""System checks: mistakes that would only show after a deploy. IDs are never reused."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Final

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from . import conf
from .security import DERIVED_KEY

WHITENOISE: Final = "whitenoise.middleware.WhiteNoiseMiddleware"
SECURITY: Final = "django.middleware.security.SecurityMiddleware"
LEGACY_STORAGE: Final = ("DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE")

Messages = list[checks.CheckMessage]


def _cloud() -> bool:
    return bool(conf.read(conf.ENVIRONMENT) == "cloud")


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


COOKIES: Final = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")


def check_secure_cookies(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """In the cloud (always behind https) a session or CSRF cookie without Secure: settings.py
    turned it off (apply() turns both on there), so the cookie also travels over plain http."""
    if not _cloud():
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


# Caches that live inside one process (locmem, dummy) or one container (file).
LOCAL_CACHES: Final = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.dummy.DummyCache",
)
CACHE_SESSIONS: Final = (
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
)
# Apps whose limits live in the cache: on a per-process cache each worker counts on its own.
RATE_LIMITERS: Final = ("django_ratelimit", "axes", "rest_framework")


def _local_cache(alias: str) -> bool:
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    return backend in LOCAL_CACHES


def check_cache_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """Plain `check` in the cloud (so `migrate` in the release command shows it)."""
    if not _cloud():
        return []
    messages: Messages = []
    if _local_cache("default"):
        messages.append(
            checks.Warning(
                "The default cache lives inside each worker process (or container): the "
                "processes of a cloud environment do not share it, rate limits and counters are "
                "multiplied by their number, and it is emptied on every deploy.",
                hint="Remove CACHES from settings.py (apply() then uses the shared database "
                "cache in the cloud), or set CACHE_URL to redis://… or db://django_dbcache.",
                id="divio_settings.W007",
            )
        )
    engine = getattr(settings, "SESSION_ENGINE", "")
    alias = getattr(settings, "SESSION_CACHE_ALIAS", "default")
    if engine in CACHE_SESSIONS and _local_cache(alias):
        messages.append(
            checks.Error(
                f"SESSION_ENGINE {engine} keeps sessions in CACHES['{alias}'], which each "
                "process keeps for itself: users are logged out whenever a request reaches "
                "another process.",
                hint="Use a shared cache (CACHE_URL, or apply()'s database cache default) or "
                "SESSION_ENGINE 'django.contrib.sessions.backends.db'.",
                id="divio_settings.E006",
            )
        )
    limiters = [app for app in RATE_LIMITERS if app in settings.INSTALLED_APPS]
    if limiters and _local_cache("default"):
        messages.append(
            checks.Warning(
                f"{', '.join(limiters)} count requests in the default cache, which each process "
                "keeps for itself: every limit is multiplied by the number of processes.",
                hint="Use a shared cache: CACHE_URL, or apply()'s database cache default.",
                id="divio_settings.W010",
            )
        )
    return messages


def check_cache_table(
    app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None, **kwargs: Any
) -> Messages:
    """A database check (`migrate` runs it): the table of a database cache must exist."""
    if not databases:
        return []
    from django.core.cache import caches
    from django.db import DatabaseError, connections, router

    messages: Messages = []
    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") != "django.core.cache.backends.db.DatabaseCache":
            continue
        table = str(config.get("LOCATION", ""))
        model = getattr(caches[alias], "cache_model_class", None)
        database = router.db_for_read(model) if model is not None else "default"
        database = database or "default"
        if database not in databases:
            continue
        try:
            with connections[database].cursor() as cursor:
                tables = connections[database].introspection.table_names(cursor)
        except DatabaseError:
            continue  # no database to ask (the build, an outage): other checks say so
        if table not in tables:
            messages.append(
                checks.Error(
                    f"CACHES['{alias}'] is the database cache, but its table {table!r} does not "
                    "exist: every use of the cache fails.",
                    hint="Run 'python manage.py createcachetable' before 'migrate' (a release "
                    "command; `divio-settings release-commands` lists it).",
                    id="divio_settings.E007",
                )
            )
    return messages


def check_sentry_installed(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    sentry = conf.read(conf.SENTRY)
    if not sentry or sentry.get("installed"):
        return []
    return [
        checks.Warning(
            "SENTRY_DSN is set but sentry-sdk is not installed: errors are not reported.",
            hint="Add divio-settings[sentry] to requirements.txt.",
            id="divio_settings.W008",
        )
    ]


def check_connections(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    messages: Messages = []
    for alias, config in settings.DATABASES.items():
        max_age = config.get("CONN_MAX_AGE", 0)
        pool = bool((config.get("OPTIONS") or {}).get("pool"))
        if pool and max_age:
            messages.append(
                checks.Error(
                    f"DATABASES['{alias}'] has CONN_MAX_AGE > 0 together with a connection pool.",
                    hint="Set DATABASE_CONN_MAX_AGE=0 (or CONN_MAX_AGE 0) when DATABASE_POOL is on.",
                    id="divio_settings.E003",
                )
            )
        elif max_age and not config.get("CONN_HEALTH_CHECKS"):
            # Not only under ASGI: nothing at check time tells which server will run the app
            # (startproject writes no ASGI_APPLICATION), and a database restart or failover
            # breaks kept connections under any server.
            messages.append(
                checks.Warning(
                    f"DATABASES['{alias}'] keeps connections (CONN_MAX_AGE) without health "
                    "checks: a connection broken by a database restart is reused, and under "
                    "ASGI every request thread keeps one of its own.",
                    hint="Set DATABASE_CONN_HEALTH_CHECKS=true, or DATABASE_CONN_MAX_AGE=0.",
                    id="divio_settings.W009",
                )
            )
    return messages


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
    report = conf.read(conf.REPORT) or []
    derived = any(row["setting"] == "SECRET_KEY" and row["source"] == DERIVED_KEY for row in report)
    insecure = str(getattr(settings, "SECRET_KEY", "")).startswith("django-insecure-")
    if not (_cloud() and (derived or insecure)):
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


LOCAL_NAMES: Final = ("localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0")


def check_local_services(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """In the cloud, a service setting that points at this container (a project's default of
    redis://localhost:6379/0): every check passes and the first use fails."""
    if not _cloud():
        return []
    from urllib.parse import urlsplit

    targets: list[tuple[str, str]] = []
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BROKER_URL"):
        value = getattr(settings, name, None)
        if isinstance(value, str) and "://" in value:
            targets.append((name, urlsplit(value).hostname or ""))
    for alias, cache in getattr(settings, "CACHES", {}).items():
        locations = cache.get("LOCATION") or []
        for location in [locations] if isinstance(locations, str) else locations:
            if "://" in str(location):
                targets.append((f"CACHES[{alias!r}]", urlsplit(str(location)).hostname or ""))
            elif ":" in str(location):
                targets.append((f"CACHES[{alias!r}]", str(location).rsplit(":", 1)[0]))
    for alias, database in getattr(settings, "DATABASES", {}).items():
        if "sqlite" not in str(database.get("ENGINE", "")):
            targets.append((f"DATABASES[{alias!r}]", str(database.get("HOST") or "localhost")))
    for alias, mailer in (getattr(settings, "MAILERS", None) or {}).items():
        if str(mailer.get("BACKEND", "")).endswith("smtp.EmailBackend"):
            host = str((mailer.get("OPTIONS") or {}).get("host") or "localhost")
            targets.append((f"MAILERS[{alias!r}]", host))
    if settings.is_overridden("EMAIL_HOST"):  # Django's own default is localhost: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EMAIL_* are deprecated on Django 6.1
            targets.append(("EMAIL_HOST", str(settings.EMAIL_HOST)))
    return [
        checks.Warning(
            f"{name} points at {host}, this container itself, in a cloud environment: the "
            "service is not there.",
            hint="Let the service's variable (CACHE_URL, DATABASE_URL, EMAIL_URL, "
            "DEFAULT_AMQP_BROKER_URL) set it, or point it at the service's host.",
            id="divio_settings.W015",
        )
        for name, host in targets
        if host.lower() in LOCAL_NAMES
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


def register() -> None:
    for check in CHECKS:
        checks.register(check, checks.Tags.security)
    checks.register(check_cache_table, checks.Tags.database)
