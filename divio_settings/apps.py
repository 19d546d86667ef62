"""The Django app that registers divio_settings' system checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from django.apps import AppConfig

from .env import Changes, Env

APP: Final = "divio_settings"


class DivioSettingsConfig(AppConfig):
    name = APP
    verbose_name = "Divio settings"

    def ready(self) -> None:
        from . import checks

        checks.register()


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Changes:
    out = Changes()
    apps = list(current.get("INSTALLED_APPS") or [])
    if apps and APP not in apps:
        out.set("INSTALLED_APPS", [*apps, APP], "divio_settings system checks")
    return out
