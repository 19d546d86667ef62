"""DEFAULT_AMQP_BROKER_URL (legacy BROKER_URL) -> CELERY_BROKER_URL for Divio's Celery service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from . import variables
from .env import Env, check_url, get
from .groups import Decisions

SCHEMES: Final = ("amqp", "amqps", "pyamqp", "redis", "rediss", "sqs")
EXAMPLE: Final = "amqp://user:password@host:5672/vhost"


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    for broker in (variables.DEFAULT_AMQP_BROKER_URL, variables.BROKER_URL):
        url = get(env, broker)
        if url is not None:
            check_url(broker.name, url, SCHEMES, EXAMPLE)
            out.set("CELERY_BROKER_URL", url, broker.name)
            break
    return out
