"""The names other conventions use (the deployment guide's .env-local, aldryn-django, Heroku- and
django-environ-style projects) for what divio-settings governs, and what to use instead: the
library reads none of them (one name per thing); check W014 names those that are set and that
settings.py does not read itself either."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .env import Env, clean

_USE_SETTINGS_PY: Final = "settings.py (aldryn-django read it from the environment)"
_USE_DSN: Final = "DEFAULT_STORAGE_DSN (s3://KEY:SECRET@bucket…)"
# Other conventions' names for the signing key (the security group names the one that is set).
KEY_NAMES: Final = ("DJANGO_SECRET_KEY",)
FOREIGN_NAMES: Final = {
    "DEBUG": "DJANGO_DEBUG",
    "TEMPLATE_DEBUG": "DJANGO_DEBUG",
    **dict.fromkeys(KEY_NAMES, "SECRET_KEY"),
    "DJANGO_ALLOWED_HOSTS": "DOMAIN and DOMAIN_ALIASES",
    "ALLOWED_HOSTS": "DOMAIN and DOMAIN_ALIASES",
    "DJANGO_SECURE_SSL_REDIRECT": "SECURE_SSL_REDIRECT",
    "DJANGO_LOG_LEVEL": "LOG_LEVEL",
    "REDIS_URL": "CACHE_URL (redis://…)",
    "DATABASE_NAME": "DATABASE_URL",
    "DATABASE_HOST": "DATABASE_URL",
    "DATABASE_USER": "DATABASE_URL",
    "DATABASE_PASSWORD": "DATABASE_URL",
    "DATABASE_PORT": "DATABASE_URL",
    "EMAIL_HOST": "EMAIL_URL",
    "EMAIL_HOST_USER": "EMAIL_URL",
    "EMAIL_HOST_PASSWORD": "EMAIL_URL",
    "EMAIL_PORT": "EMAIL_URL",
    "AWS_STORAGE_BUCKET_NAME": _USE_DSN,
    "AWS_S3_CUSTOM_DOMAIN": "DEFAULT_STORAGE_DSN's domain=",
    "AWS_S3_ENDPOINT_URL": "DEFAULT_STORAGE_DSN's endpoint=",
    "AWS_S3_FILE_OVERWRITE": "DEFAULT_STORAGE_DSN's overwrite=",
    "SESSION_COOKIE_AGE": _USE_SETTINGS_PY,
    "X_FRAME_OPTIONS": _USE_SETTINGS_PY,
    "STATIC_URL": _USE_SETTINGS_PY,
    "MEDIA_URL": "DEFAULT_STORAGE_DSN's url=",
    "DATA_ROOT": "DEFAULT_STORAGE_DSN (file:///data/media/?url=%2Fmedia%2F)",
    "DISABLE_GZIP": _USE_SETTINGS_PY,
}


def foreign_variables(env: Env, current: Mapping[str, Any]) -> list[list[str]]:
    """[name, what to use instead] for every FOREIGN_NAMES variable that is set and whose value
    settings.py does not hold (a project that reads DJANGO_SECRET_KEY itself uses it)."""
    found = []
    for name, instead in FOREIGN_NAMES.items():
        value = clean(env.get(name))
        if value is not None and not held_by(current, value, name):
            found.append([name, instead])
    return found


def typed(value: str) -> bool | int | None:
    """The boolean or whole number a project's own reader (env.bool, env.int) makes of
    *value*, or None."""
    from .env import FALSE_WORDS, TRUE_WORDS

    lowered = value.strip().lower()
    if lowered in TRUE_WORDS - {"1"}:
        return True
    if lowered in FALSE_WORDS - {"0"}:
        return False
    return int(lowered) if lowered.lstrip("-").isdigit() else None


def held_by(current: Mapping[str, Any], value: str, name: str = "") -> bool:
    """Whether a setting of *current* holds *value* (equal, or inside a longer string such as a
    URL). Short values ('True', '587') count only when equal to a string setting, or, for a
    ``DJANGO_<SETTING>`` variable, when that setting holds them read as a boolean or number
    (``SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT")``)."""
    # Only for DJANGO_<SETTING>: a bare DEBUG=True beside startproject's own DEBUG = True says
    # nothing about whether settings.py reads the variable.
    own = current.get(name.removeprefix("DJANGO_")) if name.startswith("DJANGO_") else None
    reading = typed(value)
    if reading is not None and type(own) is type(reading) and own == reading:
        return True
    pending: list[Any] = [item for name, item in current.items() if name.isupper()]
    seen = 0
    while pending and seen < 10_000:
        item = pending.pop()
        seen += 1
        if isinstance(item, str):
            if item == value or (len(value) >= 8 and value in item):
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False
