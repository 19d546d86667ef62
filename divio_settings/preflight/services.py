"""The probes of caches (a key written, read and deleted; a read for readiness), mail (connect,
EHLO, STARTTLS or TLS as configured, log in, quit: nothing is ever sent), the Celery broker (a
connection, with kombu) and Sentry (the DSN's host resolves and answers; a test event only when
asked)."""

from __future__ import annotations

import uuid
import warnings
from functools import partial
from typing import Any, Final
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches

from divio_settings.caches import BACKENDS, DATABASE_CACHES
from divio_settings.mail import SMTP as SMTP_BACKEND
from divio_settings.variables import CACHE_URL, PREFIXED_CACHE_URL, alias_variables

from .probe import PROBE_KEY, Failed, Probe, Skipped

DUMMY_CACHE: Final = BACKENDS["dummy"]
BROKER_SETTINGS: Final = ("CELERY_BROKER_URL", "BROKER_URL")


def cache_probes(write: bool) -> list[Probe]:
    return [Probe("cache", alias, partial(cache, alias, write)) for alias in settings.CACHES]


def cache(alias: str, write: bool, timeout: float) -> str:
    from divio_settings.resilient_cache import Resilient

    config = settings.CACHES[alias]
    if config.get("BACKEND") == DUMMY_CACHE:
        raise Skipped("the dummy cache keeps nothing: nothing to check")
    ops: Any = caches[alias]
    if isinstance(ops, Resilient):
        # A cache that degrades to a miss during an outage would hide it: the same backend,
        # built anew without the degrading.
        params = dict(config)
        params.pop("BACKEND")
        location = params.pop("LOCATION", "")
        ops = type("Probing", (type(ops),), {"outage": ()})(location, params)
    key, value = f"{PROBE_KEY}{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        if not write:
            ops.get(key)
            return "read"
        ops.set(key, value, 60)
        kept = ops.get(key)
        ops.delete(key)
    except Exception as error:
        raise Failed(cache_failure(alias, config, error)) from None
    if kept != value:
        raise Failed("a value written is not read back: the cache keeps nothing")
    return "set, get and delete of a probe key"


def cache_failure(alias: str, config: dict[str, Any], error: Exception) -> str:
    name = type(error).__name__
    variable = alias_variables(PREFIXED_CACHE_URL, alias, CACHE_URL)[0]
    if config.get("BACKEND") in DATABASE_CACHES:
        return (
            f"the database cache's table {config.get('LOCATION')!r} cannot be used ({name}): "
            "run 'python manage.py createcachetable' (a release command) and check the database"
        )
    if "Authentication" in name or "NOAUTH" in str(error) or "WRONGPASS" in str(error):
        return f"the cache server refused the password ({name}): check {variable}"
    return f"cannot reach the cache server at {where(config)} ({name}): check {variable}"


def where(config: dict[str, Any]) -> str:
    """host:port of a cache's LOCATION, without user or password."""
    location = config.get("LOCATION") or ""
    first = str(location[0] if isinstance(location, list | tuple) and location else location)
    if "://" not in first:
        return first.rpartition("@")[2] or "its LOCATION"
    parts = urlsplit(first)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def smtp_options() -> dict[str, Any] | None:
    """host, port, username, password, use_tls, use_ssl of the default mailer when it sends by
    SMTP (MAILERS on Django 6.1+, else EMAIL_*), or None."""
    if mail_backend() != SMTP_BACKEND:
        return None
    mailers = getattr(settings, "MAILERS", None)
    if mailers:
        return {"host": "localhost", "port": 25, **(mailers["default"].get("OPTIONS") or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMAIL_* are deprecated on Django 6.1
        return {
            "host": settings.EMAIL_HOST,
            "port": settings.EMAIL_PORT,
            "username": settings.EMAIL_HOST_USER,
            "password": settings.EMAIL_HOST_PASSWORD,
            "use_tls": settings.EMAIL_USE_TLS,
            "use_ssl": settings.EMAIL_USE_SSL,
        }


def mail_backend() -> str:
    mailers = getattr(settings, "MAILERS", None)
    if mailers:
        return str((mailers.get("default") or {}).get("BACKEND", SMTP_BACKEND))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMAIL_BACKEND is deprecated on Django 6.1
        return str(settings.EMAIL_BACKEND)


def mail_probes() -> list[Probe]:
    return [Probe("mail", "default", mail)]


def configured_mail() -> bool:
    """Whether EMAIL_URL (through apply()) or settings.py chose how mail is sent; Django's
    default alone (SMTP on localhost:25) is what a project that sends no mail has."""
    if getattr(settings, "MAILERS", None):
        return True
    return any(settings.is_overridden(name) for name in ("EMAIL_BACKEND", "EMAIL_HOST"))


def mail(timeout: float) -> str:
    if not configured_mail():
        raise Skipped("not configured (EMAIL_URL unset; Django's default localhost:25 unchecked)")
    options = smtp_options()
    if options is None:
        raise Skipped(f"{mail_backend()}, not SMTP: nothing to connect to")
    import smtplib
    import ssl

    host, port = str(options["host"]), int(options["port"])
    context = ssl.create_default_context()
    try:
        if options.get("use_ssl"):
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        with server:
            server.ehlo()
            if options.get("use_tls"):
                server.starttls(context=context)
                server.ehlo()
            if options.get("username"):
                server.login(str(options["username"]), str(options.get("password") or ""))
    except Exception as error:
        raise Failed(mail_failure(host, port, error)) from None
    done = "logged in" if options.get("username") else "connected (no login configured)"
    tls = ", STARTTLS" if options.get("use_tls") else ", TLS" if options.get("use_ssl") else ""
    return f"{host}:{port}{tls}, {done}; nothing sent"


def mail_failure(host: str, port: int, error: Exception) -> str:
    import smtplib
    import ssl

    if isinstance(error, smtplib.SMTPAuthenticationError):
        return (
            f"{host}:{port} refused the login ({error.smtp_code}): check the user and password "
            "in EMAIL_URL"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return f"{host}:{port} does not offer STARTTLS: use smtps:// (TLS on port 465) or tls=false"
    if isinstance(error, ssl.SSLError):
        return f"TLS with {host}:{port} failed ({getattr(error, 'reason', None) or type(error).__name__})"
    if isinstance(error, TimeoutError):
        return f"{host}:{port} did not answer in time"
    if isinstance(error, smtplib.SMTPException | OSError):
        reason = getattr(error, "strerror", None) or type(error).__name__
        return f"cannot talk to the mail server {host}:{port} ({reason}): check EMAIL_URL"
    return f"{type(error).__name__} with the mail server {host}:{port}"


def broker_probes() -> list[Probe]:
    return [Probe("broker", "", broker)]


def broker(timeout: float) -> str:
    for name in BROKER_SETTINGS:
        url = getattr(settings, name, None)
        if isinstance(url, str) and url:
            return broker_at(name, url, timeout)
    raise Skipped("not configured (DEFAULT_AMQP_BROKER_URL unset, no CELERY_BROKER_URL)")


def broker_at(name: str, url: str, timeout: float) -> str:
    try:
        from kombu.connection import Connection
    except ImportError:
        raise Skipped(f"{name} is set but kombu (Celery) is not installed: not checked") from None
    parts = urlsplit(url)
    target = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    try:
        with Connection(url, connect_timeout=timeout) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:
        refused = "Access" in type(error).__name__ or "auth" in str(error).lower()
        why = "refused the credentials" if refused else "cannot be reached"
        raise Failed(f"the broker {target} {why} ({type(error).__name__}): check {name}") from None
    return f"connected to {target}"


def sentry_probes(send_test_event: bool) -> list[Probe]:
    return [Probe("sentry", "", partial(sentry, send_test_event))]


def sentry(send_test_event: bool, timeout: float) -> str:
    """The host of the DSN the SDK was started with resolves and answers HTTP; with
    *send_test_event* one message event is sent and flushed."""
    from divio_settings import conf

    if conf.read(conf.SENTRY) is None:
        raise Skipped("not configured (SENTRY_DSN unset)")
    try:
        import sentry_sdk
    except ImportError:
        raise Failed(
            "SENTRY_DSN is set but sentry-sdk is not installed: add divio-settings[sentry]"
        ) from None
    dsn = sentry_sdk.get_client().dsn
    if not dsn:
        raise Failed("SENTRY_DSN is set but Sentry was not started in this process")
    parts = urlsplit(str(dsn))
    host, project = str(parts.hostname), parts.path.rstrip("/").rpartition("/")[2]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    answered = http_answer(f"{parts.scheme}://{host}:{port}/api/{project}/envelope/", timeout)
    if answered is not None:
        raise Failed(f"the DSN's host {host}:{port} {answered}: check SENTRY_DSN")
    if not send_test_event:
        return f"{host}:{port} answers (no event sent; --send-test-event sends one)"
    event = sentry_sdk.capture_message("divio-settings preflight: test event", level="info")
    sentry_sdk.flush(timeout=timeout)
    return f"{host}:{port} answers; test event {event} sent"


def http_answer(url: str, timeout: float) -> str | None:
    """None when *url*'s server answers HTTP at all (any status), else why not."""
    import socket
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen

    try:
        with urlopen(url, timeout=timeout):
            return None
    except HTTPError:
        return None  # an HTTP answer: the server is there
    except URLError as error:
        if isinstance(error.reason, socket.gaierror):
            return "does not resolve"
        return f"does not answer ({getattr(error.reason, 'strerror', None) or error.reason})"
    except OSError as error:
        return f"does not answer ({error.strerror or type(error).__name__})"
