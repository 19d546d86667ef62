"""System checks of the services a project connects to (caches, databases, Sentry, the hosts of
its service settings): shared state between processes, tables that must exist, connections that
outlive a database restart, and what passes every other check and then fails every use (a Redis
cache without its package, an S3 key without its secret). IDs are never reused; checks.py
registers them with the others."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import global_settings, settings
from django.core import checks
from django.core.cache import caches
from django.db import DatabaseError, connections, router

from . import conf, variables

Messages = list[checks.CheckMessage]


CACHE_SESSIONS: Final = (
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
)
# Apps whose limits live in the cache: on a per-process cache each worker counts on its own.
RATE_LIMITERS: Final = ("django_ratelimit", "axes", "rest_framework")
# Django's own default cache backend (what CACHES is when nobody set it).
DJANGO_CACHE: Final = global_settings.CACHES["default"]["BACKEND"]


def _local_cache(alias: str) -> bool:
    from .caches import LOCAL_CACHES  # imported by the cloud-only checks that use it

    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    return backend in LOCAL_CACHES


def check_cache_cloud(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """Plain `check` in the cloud (so `migrate` in the release command shows it)."""
    if not conf.in_cloud():
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
    from .caches import DATABASE_CACHES

    messages: Messages = []
    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") not in DATABASE_CACHES:
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


def database_caches() -> tuple[str, ...]:
    """The backends whose table createcachetable makes (caches.DATABASE_CACHES), for the
    command, which reads no group itself."""
    from .caches import DATABASE_CACHES

    return tuple(DATABASE_CACHES)


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


LOCAL_NAMES: Final = ("localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0")


def check_local_services(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """In the cloud, a service setting that points at this container (a project's default of
    redis://localhost:6379/0): every check passes and the first use fails."""
    if not conf.in_cloud():
        return []
    return [
        checks.Warning(
            f"{name} points at {host}, this container itself, in a cloud environment: the "
            "service is not there.",
            hint="Let the service's variable (CACHE_URL, DATABASE_URL, EMAIL_URL, "
            "DEFAULT_AMQP_BROKER_URL) set it (a variable may name 127.0.0.1: a sidecar), or "
            "point it at the service's host.",
            id="divio_settings.W015",
        )
        for name, host in _service_hosts()
        if host.lower() in LOCAL_NAMES and not _set_by_variable(name)
    ]


def _set_by_variable(name: str) -> bool:
    """Whether apply() took *name* (``CACHES['default']``, ``CELERY_BROKER_URL`` …) from its
    variable: a variable that names 127.0.0.1 means it (a sidecar, a local proxy)."""
    from .report import Report

    report = conf.read(conf.REPORT)
    setting, _, alias = name.partition("[")
    source = report.source(setting) if isinstance(report, Report) else None
    if not source:
        return False
    alias = alias.strip("[]'\"") or "default"
    v = variables
    governing = {
        "DATABASES": v.alias_variables(v.PREFIXED_DATABASE_DSN, alias, v.DATABASE_URL),
        "CACHES": v.alias_variables(v.PREFIXED_CACHE_URL, alias, v.CACHE_URL),
        "CELERY_BROKER_URL": (v.DEFAULT_AMQP_BROKER_URL.name, v.BROKER_URL.name),
        "MAILERS": (v.EMAIL_URL.name,),
        "EMAIL_HOST": (v.EMAIL_URL.name,),
    }.get(setting, ())
    named = set(source.replace(";", ",").replace(" ", ",").split(","))
    return any(variable in named for variable in governing)


def _service_hosts() -> list[tuple[str, str]]:
    """(setting, host) of every service the settings connect to."""
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
    return targets


def check_redis_package(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """A Redis cache without the redis package: every use of the cache fails (E009)."""
    configured = getattr(settings, "CACHES", None) or {}
    if all(config.get("BACKEND") == DJANGO_CACHE for config in configured.values()):
        return []  # Django's own default: the caches group's names are not needed (start-up)
    from .caches import BACKENDS, RESILIENT

    aliases = [
        alias
        for alias, config in configured.items()
        if config.get("BACKEND") in (BACKENDS["redis"], RESILIENT)
    ]
    if not aliases or importlib.util.find_spec("redis") is not None:
        return []
    return [
        checks.Error(
            f"CACHES[{aliases[0]!r}] is a Redis cache, but the redis package is not installed: "
            "every use of the cache fails (and a server with ?ignore_exceptions=true does not "
            "start).",
            hint="Add divio-settings[redis] to the requirements.",
            id="divio_settings.E009",
        )
    ]


def check_storage_secret(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """An S3 DSN with an access key and an empty secret: every upload fails (E010). Neither
    key nor secret is the credentials of the machine (an IAM role), which is fine."""
    from urllib.parse import urlsplit

    messages: Messages = []
    for alias, entry in (getattr(settings, "STORAGES", None) or {}).items():
        dsn = str(((entry or {}).get("OPTIONS") or {}).get("dsn") or "")
        if not dsn.lower().startswith("s3://"):
            continue
        parts = urlsplit(dsn)
        if parts.username and not parts.password:
            variable = variables.alias_variables(variables.PREFIXED_STORAGE_DSN, alias)[0]
            messages.append(
                checks.Error(
                    f"{variable} has an access key but an empty secret: every upload fails "
                    "(SignatureDoesNotMatch).",
                    hint=f"Put the secret after the key in {variable} (s3://KEY:SECRET@bucket…, "
                    "percent-encoded), or neither for the machine's own credentials.",
                    id="divio_settings.E010",
                )
            )
    return messages
