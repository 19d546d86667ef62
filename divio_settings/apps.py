"""The Django app: divio_settings' system checks, start-up log lines, the redacted 404 page and
(management/commands/runserver.py) runserver without Django's static handler."""

from __future__ import annotations

from typing import Final

from django.apps import AppConfig

APP: Final = "divio_settings"


class DivioSettingsConfig(AppConfig):
    name = APP
    verbose_name = "Divio settings"

    def ready(self) -> None:
        from django.conf import settings

        if getattr(settings, "DIVIO_SETTINGS_CHECKS", True):
            from . import checks

            checks.register()
        if server_process():
            log_key_fingerprints()

        if settings.DEBUG:
            from .debug_page import redact_technical_404

            redact_technical_404()


SERVERS: Final = ("gunicorn", "uvicorn", "uwsgi", "daphne", "hypercorn", "granian")


def server_process() -> bool:
    """Whether this process serves requests: a server's module is loaded, or runserver runs.
    Management commands stay quiet: their stdout may be data (`dumpdata > backup.json`)."""
    import sys

    return any(name in sys.modules for name in SERVERS) or sys.argv[1:2] == ["runserver"]


def log_key_fingerprints() -> None:
    """Once per server process: the fingerprints of the signing key and its fallbacks, so that a
    container started with another key shows in the logs (nothing of the key can be read back
    from a fingerprint)."""
    import logging

    from django.conf import settings

    from .report import fingerprint

    fallbacks = [fingerprint(str(key)) for key in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    logging.getLogger("divio_settings").info(
        "SECRET_KEY fingerprint %s; SECRET_KEY_FALLBACKS fingerprints: %s",
        fingerprint(str(settings.SECRET_KEY)),
        ", ".join(fallbacks) or "none",
    )
