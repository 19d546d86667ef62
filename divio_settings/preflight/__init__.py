"""Preflight: a real round trip to every service the settings configure, with their own
credentials, each bounded by a timeout. ``manage.py preflight`` runs every probe (a release
command: a deploy that cannot work stops before it takes traffic); the readiness view
(divio_settings.health) runs the cheap ones. A probe's line is in the user's terms and never
shows a secret: every line goes through the process's scrubber (apply()'s secrets) and the URL
password mask."""

from __future__ import annotations

from .probe import DEFAULT_TIMEOUT, FAIL, OK, SKIP, Probe, Result, run_all

__all__ = ["DEFAULT_TIMEOUT", "FAIL", "OK", "SKIP", "Probe", "Result", "cheap_probes"]
__all__ += ["every_probe", "run_all"]


def every_probe(send_test_event: bool = False) -> list[Probe]:
    """What `manage.py preflight` runs: every service the settings name."""
    from . import databases, services, storage

    return [
        *databases.probes(migrations=True),
        *storage.probes(),
        *services.cache_probes(write=True),
        *services.mail_probes(),
        *services.broker_probes(),
        *services.sentry_probes(send_test_event),
    ]


def cheap_probes() -> list[Probe]:
    """What the readiness view runs: a `SELECT 1` per database and a read per shared cache."""
    from . import databases, services

    return [*databases.probes(migrations=False), *services.cache_probes(write=False)]
