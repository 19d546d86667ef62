"""Configure a Django project for Divio (and any 12-factor Docker host) from its environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured

from . import conf, databases, hosts, logs, redaction, security, static, storage, variables
from .conventions import foreign_variables
from .env import Env, Environment, VariableError, awake, clean, get, is_cloud
from .groups import Decisions, Layered
from .report import Report
from .secret_variables import secret_values, short_secrets

__all__ = ["apply", "changes"]

GroupFunction = Callable[[Env, Mapping[str, Any]], Decisions]
REPORT: Final = conf.REPORT
# Lower case, so Django does not read it as a setting: settings.py's own values of the settings
# apply() writes ("values"), and the names settings.py did not define ("absent").
ORIGINAL: Final = "_divio_settings_original"
SWITCHES: Final = ("security", "hosts", "databases", "static", "storage", "caches", "mail")
SWITCHES_TOO: Final = ("logs", "sentry", "celery", "checks")


def apply(
    namespace: MutableMapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    security: bool = True,
    hosts: bool = True,
    databases: bool = True,
    static: bool = True,
    storage: bool = True,
    caches: bool = True,
    mail: bool = True,
    logs: bool = True,
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
    Each keyword switches one group off.
    """
    env = Environment(os.environ if environ is None else environ)
    on = {"security": security, "hosts": hosts, "databases": databases, "static": static}
    on |= {"storage": storage, "caches": caches, "mail": mail, "logs": logs, "sentry": sentry}
    on |= {"celery": celery, "checks": checks}
    base, original = _settings_py(namespace)
    changes = compute(env, base, on)  # raises before anything is written
    _write(namespace, base, original, changes)
    scrub = redaction.remember(secret_values(env))
    namespace[REPORT] = Report(_as_set(changes.values), changes.sources, namespace[ORIGINAL], scrub)
    for effect in changes.after:
        effect()


def changes(namespace: Any) -> dict[str, list[dict[str, Any]]]:
    """What apply() changed in *namespace* (a settings module, ``globals()`` or
    ``django.conf.settings``) relative to settings.py alone, secrets redacted: ``changed`` rows
    (setting, before, after, source), ``kept`` rows (settings.py's value kept although a
    variable was set, and why), ``replaced`` rows (settings.py's settings a variable made moot:
    its own ``AWS_*`` bucket settings under a ``DEFAULT_STORAGE_DSN``) and ``ignored`` variables (other conventions' names that nobody
    reads, and what to use instead). ``divio-settings show --changes`` prints it."""
    from .report import changes_of

    return changes_of(namespace)


def compute(env: Env, current: dict[str, Any], on: Mapping[str, bool] | None = None) -> Decisions:
    """Every setting the enabled groups want, from *env* and settings.py's *current* values.
    Writes nothing and starts nothing (Sentry is started by apply() afterwards).

    Raises one VariableError (an ImproperlyConfigured) with a line per bad variable: a group stops at its first
    bad variable, so the groups run again without the variables already found wrong, until no
    new one turns up (only on this error path; a good environment is computed once)."""
    switches = dict.fromkeys(SWITCHES + SWITCHES_TOO, True) | dict(on or {})
    problems: list[tuple[str, str]] = []
    while True:
        changes, found = _run_groups(env, current, switches)
        problems += found
        if not found:
            break
        bad = {name for name, _ in found}
        remaining = {name: value for name, value in env.items() if name not in bad}
        if len(remaining) == len(env):
            break  # an error that names no variable of the environment
        env = remaining
    if problems:
        raise VariableError(problems)
    return changes


def _run_groups(
    env: Env, current: dict[str, Any], on: Mapping[str, bool]
) -> tuple[Decisions, list[tuple[str, str]]]:
    changes = _environment(env)
    changes.update(_foreign(env, current))
    problems: list[tuple[str, str]] = short_secrets(env) if is_cloud(env) else []
    for group in _groups(on, env):
        try:
            changes.update(group(env, Layered(changes.values, current)))
        except VariableError as error:
            problems.extend(error.problems)
        except ImproperlyConfigured as error:  # a dependency's own: it names no variable
            problems.extend(("", line) for line in str(error).splitlines())
    return changes, problems


def _environment(env: Env) -> Decisions:
    """Where the project runs, whatever groups are switched off: the checks depend on it."""
    out = Decisions()
    out.set(conf.ENVIRONMENT, "cloud" if is_cloud(env) else "local", "DOMAIN, STAGE")
    out.set(conf.STAGE, (get(env, variables.STAGE) or "local").lower(), "STAGE")
    conflicts = [
        [main.name, f"DEFAULT{family.suffix}"]
        for main, family in (
            (variables.DATABASE_URL, variables.PREFIXED_DATABASE_DSN),
            (variables.CACHE_URL, variables.PREFIXED_CACHE_URL),
        )
        if (value := get(env, main)) is not None
        and clean(env.get(f"DEFAULT{family.suffix}")) not in (value, None)
    ]
    if conflicts:  # the first wins; divio_settings.W012 says so
        out.set(conf.VARIABLE_CONFLICTS, conflicts, ", ".join(sum(conflicts, [])))
    return out


def _foreign(env: Env, current: Mapping[str, Any]) -> Decisions:
    """Other conventions' variables that nobody reads (divio_settings.W014 names them)."""
    out = Decisions()
    found = foreign_variables(env, current)
    if found:
        out.set(conf.FOREIGN_VARIABLES, found, ", ".join(name for name, _ in found))
    return out


def _groups(on: Mapping[str, bool], env: Env) -> list[GroupFunction]:
    """The enabled groups, in the order they run (each sees what the earlier ones set). The
    idle ones are imported only when one of their variables is set (start-up cost)."""
    woken = awake(env)
    if is_cloud(env):
        woken.add("caches")  # the cloud gets a shared cache even without CACHE_URL
    groups: list[GroupFunction] = []
    for name, module in (("security", security), ("hosts", hosts), ("databases", databases)):
        if on[name]:
            groups.append(module.settings_from_env)
    for name, module in (("static", static), ("storage", storage)):
        if on[name]:
            groups.append(module.settings_from_env)
    if on["caches"] and "caches" in woken:
        from . import caches

        groups.append(caches.settings_from_env)
    if on["mail"] and "mail" in woken:
        from . import mail

        groups.append(mail.settings_from_env)
    if on["logs"]:
        groups.append(logs.settings_from_env)
    if on["sentry"] and "sentry" in woken:
        from . import sentry

        groups.append(sentry.settings_from_env)
    if on["celery"] and "celery" in woken:
        from . import celery

        groups.append(celery.settings_from_env)
    groups.append(_app if on["checks"] else _no_checks)
    return groups


def _app(env: Env, current: Mapping[str, Any]) -> Decisions:
    """The app whose ready() registers the system checks (divio_settings/apps.py)."""
    out = Decisions()
    apps = list(current.get("INSTALLED_APPS") or [])
    if apps and conf.APP not in apps:
        out.set("INSTALLED_APPS", [*apps, conf.APP], "divio_settings system checks")
    return out


def _as_set(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values for the report as apply() set them: Django fills every DATABASES entry with
    its defaults (AUTOCOMMIT, TIME_ZONE, TEST …) in place when it first connects, and the report,
    built when first read, would show them as if apply() had set them."""
    values = dict(values)
    databases = values.get("DATABASES")
    if isinstance(databases, dict):
        values["DATABASES"] = {
            alias: {
                key: dict(value) if isinstance(value, dict) else value
                for key, value in config.items()
            }
            if isinstance(config, dict)
            else config
            for alias, config in databases.items()
        }
    return values


def _no_checks(env: Env, current: Mapping[str, Any]) -> Decisions:
    """checks=False: the app may still be there for runserver (static.py); it registers no checks."""
    out = Decisions()
    if conf.APP in (current.get("INSTALLED_APPS") or []):
        out.set(conf.CHECKS, False, "apply(checks=False)")
    return out


def _settings_py(namespace: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings.py's own values, the bookkeeping of an earlier apply()): a second apply()
    starts from what settings.py set, not from what the first one wrote."""
    original = namespace.get(ORIGINAL) or {"values": {}, "absent": []}
    touched = set(original["values"]).union(original["absent"])
    base = {key: value for key, value in namespace.items() if key not in touched}
    base.update(original["values"])
    return base, original


def _write(
    namespace: MutableMapping[str, Any],
    base: Mapping[str, Any],
    original: Mapping[str, Any],
    changes: Decisions,
) -> None:
    values = changes.values
    kept, absent = dict(original["values"]), set(original["absent"])
    for key in values.keys() - kept.keys() - absent:
        if key in base:
            kept[key] = base[key]
        else:
            absent.add(key)
    for key in absent:
        namespace.pop(key, None)
    namespace.update(kept)
    namespace.update(values)
    namespace[ORIGINAL] = {
        "values": kept,
        "absent": sorted(absent),
        "kept": dict(changes.kept),
        "replaced": dict(changes.replaced),
    }
