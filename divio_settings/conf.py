"""The library's own settings (``DIVIO_*``): each name once, the value a reader gets when the
setting is not there (apply() did not run, a group was switched off, settings.py replaced the
namespace), and the one reader. Groups write them with ``Decisions.set(conf.NAME, …)``; the
runtime modules and the command read them with :func:`read`, never with a name of their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from django.conf import settings

# The library's Django app (its checks, start-up lines, runserver), by the package's name.
APP: Final = "divio_settings"
# Where the project runs (every group reads DOMAIN and STAGE the same way: env.is_cloud()).
ENVIRONMENT: Final = "DIVIO_ENVIRONMENT"
STAGE: Final = "DIVIO_STAGE"
# The hosts group's decisions, for the redirect middleware and the sites framework.
DOMAIN: Final = "DIVIO_DOMAIN"
DOMAIN_REDIRECTS: Final = "DIVIO_DOMAIN_REDIRECTS"
DOMAIN_REDIRECT_PERMANENT: Final = "DIVIO_DOMAIN_REDIRECT_PERMANENT"
IGNORED_HOSTS: Final = "DIVIO_IGNORED_HOSTS"
# What the checks report (W013, W014): variables that disagree, other conventions' variables.
VARIABLE_CONFLICTS: Final = "DIVIO_VARIABLE_CONFLICTS"
FOREIGN_VARIABLES: Final = "DIVIO_FOREIGN_VARIABLES"
# The storage group's decision for the static miss middleware and publish_static.
STATIC_FALLBACK: Final = "DIVIO_STATIC_FALLBACK"
# settings.py's django-storages settings a DEFAULT_STORAGE_DSN made moot (W018 names them).
REPLACED_STORAGE_SETTINGS: Final = "DIVIO_REPLACED_STORAGE_SETTINGS"
SENTRY: Final = "DIVIO_SENTRY"
# The security group's reading of SECRET_KEY_NEXT and SECRET_KEY_FALLBACKS: which step of a key
# rotation this container is in (the start-up line and `show` print it).
ROTATION_STEP: Final = "DIVIO_ROTATION_STEP"
# apply(checks=False); the report of every setting written; settings.py's consent to a key
# written in its code (read by the security group from settings.py's own values).
CHECKS: Final = "DIVIO_SETTINGS_CHECKS"
REPORT: Final = "DIVIO_SETTINGS_REPORT"
ALLOW_COMMITTED_SECRET_KEY: Final = "DIVIO_SETTINGS_ALLOW_COMMITTED_SECRET_KEY"

DEFAULTS: Final[Mapping[str, Any]] = {
    ENVIRONMENT: "local",
    STAGE: "local",
    DOMAIN: None,
    DOMAIN_REDIRECTS: (),
    DOMAIN_REDIRECT_PERMANENT: False,
    IGNORED_HOSTS: (),
    VARIABLE_CONFLICTS: (),
    FOREIGN_VARIABLES: (),
    STATIC_FALLBACK: False,
    REPLACED_STORAGE_SETTINGS: (),
    SENTRY: None,
    ROTATION_STEP: None,
    CHECKS: True,
    REPORT: None,
    ALLOW_COMMITTED_SECRET_KEY: False,
}


def read(name: str, source: Any = None) -> Any:
    """The library setting *name* of Django's settings, or of *source* (a settings module, or a
    mapping of settings such as the command's), or its default when it is not there."""
    default = DEFAULTS[name]
    if source is None:
        source = settings
    if isinstance(source, Mapping):
        return source.get(name, default)
    return getattr(source, name, default)


def in_cloud() -> bool:
    """Whether apply() found a cloud environment (DOMAIN or STAGE set): the cloud-only checks."""
    return bool(read(ENVIRONMENT) == "cloud")
