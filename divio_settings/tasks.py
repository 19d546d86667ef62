"""DEFAULT_AMQP_BROKER_URL (legacy BROKER_URL) -> CELERY_BROKER_URL for Divio's Celery service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .env import Changes, Env, Variable, check_url, get

VARIABLES: Final = (
    Variable(
        "DEFAULT_AMQP_BROKER_URL",
        "URL",
        "Divio's Celery broker.",
        "none",
        secret=True,
        sets=("CELERY_BROKER_URL",),
    ),
    Variable(
        "BROKER_URL",
        "URL",
        "Former name of DEFAULT_AMQP_BROKER_URL, which wins.",
        "none",
        secret=True,
        sets=("CELERY_BROKER_URL",),
    ),
)

SCHEMES: Final = ("amqp", "amqps", "pyamqp", "redis", "rediss", "sqs")
EXAMPLE: Final = "amqp://user:password@host:5672/vhost"


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Changes:
    out = Changes()
    for name in ("DEFAULT_AMQP_BROKER_URL", "BROKER_URL"):
        url = get(env, name)
        if url is not None:
            check_url(name, url, SCHEMES, EXAMPLE)
            out.set("CELERY_BROKER_URL", url, name)
            break
    return out
