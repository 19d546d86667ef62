"""LOG_LEVEL -> LOGGING: everything to stdout (Divio's log view), secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from . import variables
from .env import Env, get, invalid
from .groups import Decisions

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "divio": {
                "()": "divio_settings.log_handlers.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
            "divio_mail": {"()": "divio_settings.log_handlers.RedactingFormatter"},
        },
        "filters": {
            "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
            "one_line_warning": {"()": "divio_settings.log_handlers.OneLineWarning"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "divio",
            },
            # Django's own error mail to ADMINS, kept (it is part of Django's default logging
            # that a LOGGING setting replaces for the django logger).
            "mail_admins": {
                "level": "ERROR",
                "filters": ["require_debug_false"],
                "class": "divio_settings.log_handlers.RedactingAdminEmailHandler",
                "formatter": "divio_mail",
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        # Django's own config sends django.* to the console only while DEBUG is on; in
        # production request errors (django.request, with traceback) would vanish.
        "loggers": {
            "django": {"handlers": ["stdout", "mail_admins"], "level": level, "propagate": False},
            # Unknown Host headers: a warning line each, no traceback, no error mail.
            "django.security.DisallowedHost": {
                "handlers": ["stdout"],
                "filters": ["one_line_warning"],
                "propagate": False,
            },
            # The Azure SDK logs every HTTP request of the media storage at INFO.
            "azure": {"level": "WARNING"},
        },
    }


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    value = get(env, variables.LOG_LEVEL)
    level = (value or "INFO").upper()
    if level not in LEVELS:
        raise invalid("LOG_LEVEL", "one of " + ", ".join(LEVELS), f"got {value!a}")
    if "LOGGING" in current:
        # settings.py's logging is respected as it is, an empty {} too.
        if value:
            out.keep("LOGGING", "settings.py defines LOGGING; LOG_LEVEL is not applied")
        return out
    out.set("LOGGING", config(level), "LOG_LEVEL" if value else "default (stdout, INFO)")
    return out
