"""The Django app: divio_settings' system checks, start-up log lines, the redacted 404 page and
(management/commands/runserver.py) runserver without Django's static handler."""

from __future__ import annotations

from typing import Any, Final

from django.apps import AppConfig

from . import conf


class DivioSettingsConfig(AppConfig):
    name = conf.APP
    verbose_name = "Divio settings"

    def ready(self) -> None:
        from django.conf import settings

        if conf.read(conf.CHECKS):
            from django.core import checks

            # The checks' modules are imported when checks run (check, migrate), not in every
            # server process that only registers them (start-up, #35).
            checks.register(run_checks, checks.Tags.security)
            checks.register(run_database_checks, checks.Tags.database)
        if server_process():
            # scrypt makes each fingerprint cost tens of milliseconds: off the start-up path.
            import threading

            threading.Thread(target=log_key_fingerprints, name=conf.APP, daemon=True).start()
        from django.apps import apps

        if apps.is_installed("django.contrib.sites"):
            from django.db.models.signals import post_migrate

            post_migrate.connect(
                sync_site_domain,
                sender=apps.get_app_config("sites"),
                dispatch_uid="divio_settings.sync_site_domain",
            )

        if settings.DEBUG:
            from .debug_page import redact_technical_404

            redact_technical_404()


def run_checks(app_configs: Any, **kwargs: Any) -> list[Any]:
    """The library's system checks (divio_settings.checks.CHECKS)."""
    from .checks import check_all

    return check_all(app_configs, **kwargs)


def run_database_checks(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[Any]:
    """The checks that need a database (`migrate` runs them): the cache table."""
    from .service_checks import check_cache_table

    return check_cache_table(app_configs, databases=databases, **kwargs)


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
    import sys

    from django.conf import settings

    from .redaction import fingerprint

    fallbacks = [fingerprint(str(key)) for key in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    rotation = conf.read(conf.ROTATION_STEP) or ("settings.py's fallbacks" if fallbacks else "none")
    line = (
        f"SECRET_KEY fingerprint {fingerprint(str(settings.SECRET_KEY))}; "
        f"SECRET_KEY_FALLBACKS fingerprints: {', '.join(fallbacks) or 'none'}; "
        f"key rotation: {rotation}"
    )
    logger = logging.getLogger("divio_settings")
    if logger.isEnabledFor(logging.INFO) and logger.hasHandlers():
        logger.info(line)
    else:  # the project's own LOGGING drops our INFO line: once to stderr, as servers log
        sys.stderr.write(f"divio_settings: {line}\n")


def sync_site_domain(using: str = "default", **kwargs: Any) -> None:
    """After migrate (Divio's release command): django.contrib.sites' current Site gets DOMAIN,
    as aldryn-django kept it, since django CMS and sitemaps build absolute URLs from it."""
    from django.apps import apps
    from django.conf import settings

    domain = conf.read(conf.DOMAIN)
    if not domain:
        return
    site = apps.get_model("sites", "Site")
    site_id = getattr(settings, "SITE_ID", 1)
    current = site.objects.using(using).filter(pk=site_id)
    if not current.exists():
        site.objects.using(using).create(pk=site_id, domain=domain, name=domain)
    elif current.exclude(domain=domain).update(domain=domain):
        import logging

        logging.getLogger("divio_settings").info("Site %s: domain set to %s", site_id, domain)
    site.objects.clear_cache()
