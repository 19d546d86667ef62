"""System checks of settings that pass every other check and then fail every request or every
upload (#38): a Redis cache without the redis package, an S3 DSN with a key and no secret, a
cloud environment without DOMAIN. Each is an error at `check` (and `migrate`) time, with its
fix; checks.py registers them with the others."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from . import conf

Messages = list[checks.CheckMessage]


def check_redis_package(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> Messages:
    """A Redis cache without the redis package: every use of the cache fails (E009)."""
    from .caches import BACKENDS, RESILIENT

    aliases = [
        alias
        for alias, config in (getattr(settings, "CACHES", None) or {}).items()
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
            variable = (
                "DEFAULT_STORAGE_DSN" if alias == "default" else f"{alias.upper()}_STORAGE_DSN"
            )
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
