"""``runserver`` as in production: WhiteNoise serves the static files, not Django's handler.

This is WhiteNoise's ``runserver_nostatic`` command. apply() places the divio_settings app before
``django.contrib.staticfiles`` instead of adding the ``whitenoise.runserver_nostatic`` app, whose
import loads WhiteNoise (about 1.4 ms) in every process — migrate, shell, Celery workers — while
only runserver uses it. Here WhiteNoise is imported when runserver runs.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings

from divio_settings.static import WHITENOISE_MIDDLEWARE


def _command_class() -> Any:
    if not apps.is_installed("django.contrib.staticfiles"):
        from django.core.management.commands.runserver import Command as Plain

        return Plain
    if WHITENOISE_MIDDLEWARE not in settings.MIDDLEWARE:
        from django.contrib.staticfiles.management.commands.runserver import Command as Django

        return Django
    from whitenoise.runserver_nostatic.management.commands.runserver import Command

    return Command


Command = _command_class()
