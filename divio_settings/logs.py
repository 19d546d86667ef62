"""LOG_LEVEL -> LOGGING: everything to stdout (Divio's log view), secrets redacted."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from . import env as variables
from .env import Changes, Env, get, invalid
from .report import redact

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message and traceback) never holds a URL's password."""

    def format(self, record: logging.LogRecord) -> str:
        return str(redact(super().format(record)))


def config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "divio": {
                "()": "divio_settings.logs.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "divio",
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        # Django's own config sends django.* to the console only while DEBUG is on; in
        # production request errors (django.request, with traceback) would vanish.
        "loggers": {
            "django": {"handlers": ["stdout"], "level": level, "propagate": False},
            # The Azure SDK logs every HTTP request of the media storage at INFO.
            "azure": {"level": "WARNING"},
        },
    }


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Changes:
    out = Changes()
    value = get(env, variables.LOG_LEVEL)
    level = (value or "INFO").upper()
    if level not in LEVELS:
        raise invalid("LOG_LEVEL", "one of " + ", ".join(LEVELS), f"got {value!a}")
    if "LOGGING" in current:
        return out  # settings.py's logging is respected as it is, an empty {} too
    out.set("LOGGING", config(level), "LOG_LEVEL" if value else "default (stdout, INFO)")
    return out
