"""The Django app that registers divio_settings' system checks."""

from __future__ import annotations

from typing import Final

from django.apps import AppConfig

APP: Final = "divio_settings"


class DivioSettingsConfig(AppConfig):
    name = APP
    verbose_name = "Divio settings"

    def ready(self) -> None:
        from . import checks

        checks.register()
