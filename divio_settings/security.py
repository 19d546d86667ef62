"""SECRET_KEY, DJANGO_DEBUG, STAGE and the TLS settings for Divio's load balancer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from . import env as variables
from .env import Changes, Env, get, invalid, is_cloud, read_bool, read_int, read_list

PROXY_SSL_HEADER: Final = ("HTTP_X_FORWARDED_PROTO", "https")
DEFAULT_HSTS_SECONDS: Final = 3600
REPORTING: Final = {
    "DEFAULT_EXCEPTION_REPORTER": "divio_settings.debug_page.ExceptionReporter",
    "DEFAULT_EXCEPTION_REPORTER_FILTER": "divio_settings.debug_page.SafeExceptionReporterFilter",
}
INSECURE_PREFIX: Final = "django-insecure-"
HSTS_FLAGS: Final = (variables.SECURE_HSTS_INCLUDE_SUBDOMAINS, variables.SECURE_HSTS_PRELOAD)


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Changes:
    cloud = is_cloud(env)
    out = Changes()
    _secret_key(env, current, cloud, out)
    _debug(env, current, cloud, out)
    _tls(env, current, cloud, out)
    for setting, path in REPORTING.items():
        if setting not in current:
            out.set(setting, path, "default (masks DSNs and URL passwords)")
    return out


def _secret_key(env: Env, current: Mapping[str, Any], cloud: bool, out: Changes) -> None:
    key = get(env, variables.SECRET_KEY)
    if key is not None:
        out.set("SECRET_KEY", key, "SECRET_KEY")
    else:
        own = current.get("SECRET_KEY")
        usable = isinstance(own, str) and own.strip() != "" and not own.startswith(INSECURE_PREFIX)
        if cloud and not usable:
            raise invalid(
                "SECRET_KEY",
                "a secret key in a cloud environment (DOMAIN or STAGE is set)",
                "the variable is unset and settings.py has no key of its own other than "
                "startproject's 'django-insecure-' one",
            )
        if not own:
            # Never a fixed string: a key nobody can know, valid for this process only.
            import secrets

            out.set("SECRET_KEY", secrets.token_urlsafe(50), "ephemeral (SECRET_KEY unset)")
    fallbacks = read_list(env, variables.SECRET_KEY_FALLBACKS)
    if fallbacks:
        out.set("SECRET_KEY_FALLBACKS", fallbacks, "SECRET_KEY_FALLBACKS")


def _debug(env: Env, current: Mapping[str, Any], cloud: bool, out: Changes) -> None:
    debug = read_bool(env, variables.DJANGO_DEBUG)
    if debug is not None:
        out.set("DEBUG", debug, "DJANGO_DEBUG")
    elif cloud:
        # startproject writes DEBUG = True; the cloud must not inherit it by accident.
        out.set("DEBUG", False, "default in the cloud (DJANGO_DEBUG unset)")
    elif "DEBUG" not in current:
        out.set("DEBUG", False, "default (DJANGO_DEBUG unset)")


def _tls(env: Env, current: Mapping[str, Any], cloud: bool, out: Changes) -> None:
    redirect = read_bool(env, variables.SECURE_SSL_REDIRECT)
    seconds = read_int(env, variables.SECURE_HSTS_SECONDS)
    flags = {flag.name: read_bool(env, flag) for flag in HSTS_FLAGS}
    if redirect is not None:
        out.set("SECURE_SSL_REDIRECT", redirect, "SECURE_SSL_REDIRECT")
    elif "SECURE_SSL_REDIRECT" in current:
        redirect = bool(current["SECURE_SSL_REDIRECT"])
    else:
        redirect = cloud
        out.set(
            "SECURE_SSL_REDIRECT", redirect, f"default {'in the cloud' if cloud else 'locally'}"
        )
    if cloud and "SECURE_PROXY_SSL_HEADER" not in current:
        out.set(
            "SECURE_PROXY_SSL_HEADER",
            PROXY_SSL_HEADER,
            "default in the cloud (TLS ends at the load balancer)",
        )
    if redirect:
        for setting in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
            if setting not in current:
                out.set(setting, True, "SECURE_SSL_REDIRECT")
    _hsts(seconds, flags, current, cloud and redirect, out)


def _hsts(
    seconds: int | None,
    flags: dict[str, bool | None],
    current: Mapping[str, Any],
    default_on: bool,
    out: Changes,
) -> None:
    """One rule: a variable always wins (also without the https redirect); without one, the
    cloud while redirecting gets a short HSTS, and whenever HSTS is on (from any source)
    includeSubDomains defaults to on and preload follows includeSubDomains (the preload list
    refuses a header without it)."""
    if seconds is not None:
        out.set("SECURE_HSTS_SECONDS", seconds, "SECURE_HSTS_SECONDS")
    elif default_on and "SECURE_HSTS_SECONDS" not in current:
        seconds = DEFAULT_HSTS_SECONDS
        out.set("SECURE_HSTS_SECONDS", seconds, "default in the cloud")
    else:
        seconds = int(current.get("SECURE_HSTS_SECONDS") or 0)
    include_name, preload_name = (flag.name for flag in HSTS_FLAGS)
    include = flags[include_name]
    if include is not None:
        out.set(include_name, include, include_name)
    elif seconds and include_name not in current:
        include = True
        out.set(include_name, include, "default with HSTS on")
    else:
        include = bool(current.get(include_name))
    preload = flags[preload_name]
    if preload is not None:
        out.set(preload_name, preload, preload_name)
    elif seconds and preload_name not in current:
        out.set(preload_name, include, "default with HSTS on: follows includeSubDomains")
