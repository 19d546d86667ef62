"""Configure a Django project for Divio (and any 12-factor Docker host) from its environment."""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from importlib import import_module
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured

from .env import Changes
from .report import entries

__all__ = ["apply"]

# Group switch -> module, in the order they run (later groups see earlier results).
GROUPS: Final = {
    "security": "divio_settings.security",
    "hosts": "divio_settings.domains",
    "databases": "divio_settings.database",
    "static": "divio_settings.static",
    "media": "divio_settings.storage",
    "caches": "divio_settings.caches",
    "email": "divio_settings.mail",
    "logging": "divio_settings.logs",
    "sentry": "divio_settings.sentry",
    "celery": "divio_settings.tasks",
    "checks": "divio_settings.apps",
}
# Groups that have nothing to do unless one of these variable name endings is set: their
# modules are not even imported then (start-up cost).
TRIGGERS: Final = {
    "caches": ("CACHE_URL",),
    "email": ("EMAIL_URL", "DEFAULT_FROM_EMAIL", "SERVER_EMAIL"),
    "sentry": ("SENTRY_DSN",),
    "celery": ("BROKER_URL",),
}
REPORT: Final = "DIVIO_SETTINGS_REPORT"
# Lower case, so Django does not read it as a setting: what settings.py had before apply().
ORIGINAL: Final = "_divio_settings_original"


class _Missing:
    """Marks a setting settings.py did not define; one instance, kept by copy and pickle."""

    def __repr__(self) -> str:
        return "<not set>"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def apply(
    namespace: MutableMapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    security: bool = True,
    hosts: bool = True,
    databases: bool = True,
    static: bool = True,
    media: bool = True,
    caches: bool = True,
    email: bool = True,
    logging: bool = True,
    sentry: bool = True,
    celery: bool = True,
    checks: bool = True,
) -> None:
    """Fill *namespace* (a settings module's ``globals()``) from the environment.

    The environment wins for the settings it governs; everything else settings.py set is kept.
    Every value is computed and validated first and only then written, so an
    ``ImproperlyConfigured`` (which names the variable, never a secret) leaves *namespace*
    untouched. Calling apply() again recomputes from settings.py's own values: twice changes
    nothing. ``DIVIO_SETTINGS_REPORT`` lists every setting written and its source, redacted.
    """
    env = dict(os.environ if environ is None else environ)
    switches = {
        "security": security,
        "hosts": hosts,
        "databases": databases,
        "static": static,
        "media": media,
        "caches": caches,
        "email": email,
        "logging": logging,
        "sentry": sentry,
        "celery": celery,
        "checks": checks,
    }
    original: dict[str, Any] = dict(namespace.get(ORIGINAL) or {})
    base = {key: value for key, value in namespace.items() if key not in original}
    base.update({key: value for key, value in original.items() if value is not MISSING})
    changes = Changes()
    errors: list[str] = []
    for group, module in GROUPS.items():
        triggers = TRIGGERS.get(group)
        if not switches[group] or (triggers and not any(name.endswith(triggers) for name in env)):
            continue
        try:
            found = import_module(module).settings_from_env(env, ChainMap(changes.values, base))
        except ImproperlyConfigured as error:
            errors.append(str(error))
        else:
            changes.update(found)
    if errors:
        raise ImproperlyConfigured("\n".join(errors))
    for key in changes.values.keys() - original.keys():
        original[key] = base.get(key, MISSING)
    for key, before in original.items():
        value = changes.values.get(key, before)
        if value is MISSING:
            namespace.pop(key, None)
        else:
            namespace[key] = value
    namespace[ORIGINAL] = original
    namespace[REPORT] = entries(changes.values, changes.sources)
    for effect in changes.after:
        effect()
