"""`show`, `check` and `release-commands`: the effective configuration, explained."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from divio_settings import compute
from divio_settings import env as variables
from divio_settings.env import is_cloud, prefixed
from divio_settings.storage import StorageDSN

if TYPE_CHECKING:
    from divio_settings.report import Entry

from .project import UserError, load_settings, project_process, read_env_file, settings_module

WIDTH = 70


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if args.env_file:
        env.update(read_env_file(args.env_file, env))
    return env


def load_report(root: Path, env: Mapping[str, str], module: str) -> list[Entry]:
    settings = load_settings(root, env, module)
    report: Sequence[Entry] | None = getattr(settings, "DIVIO_SETTINGS_REPORT", None)
    if report is None:
        raise UserError(f"{module} does not call divio_settings.apply(globals())")
    return list(report)


def short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def variable_rows() -> list[dict[str, Any]]:
    """The registry, as `show --variables` prints it."""
    return [
        {
            "name": variable.name,
            "group": variable.group,
            "kind": variable.kind,
            "secret": variable.secret,
            "default": variable.default,
            "sets": list(variable.sets),
            "summary": variable.summary,
            "example": variable.example,
            "needs": dict(variable.context),
        }
        for variable in variables.VARIABLES
    ]


def run_show(args: argparse.Namespace) -> int:
    if args.variables:
        rows = variable_rows()
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        for variable in rows:
            secret = ", secret" if variable["secret"] else ""
            print(f"{variable['name']}  ({variable['group']}: {variable['kind']}{secret})")
            print(f"    {variable['summary']}")
            print(f"    default: {variable['default']}; sets: {', '.join(variable['sets'])}")
        return 0
    root, env = Path(args.path).resolve(), environment(args)
    module = settings_module(root, args, env)
    if args.changes:
        return print_changes(root, env, module, args.json)
    report = load_report(root, env, module)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"# {module}")
    width = max(len(row["setting"]) for row in report)
    for row in report:
        print(f"{row['setting']:<{width}}  {short(row['value'])}")
        print(f"{'':<{width}}  <- {row['source']}")
    return 0


def print_changes(root: Path, env: Mapping[str, str], module: str, as_json: bool) -> int:
    from divio_settings import changes

    settings = load_settings(root, env, module)
    try:
        found = changes(settings)
    except ValueError:
        raise UserError(f"{module} does not call divio_settings.apply(globals())") from None
    if as_json:
        print(json.dumps(found, indent=2, default=str))
        return 0
    print(f"# {module}: what apply() changed relative to settings.py alone")
    for row in found["changed"]:
        print(f"{row['setting']}")
        print(f"    before: {short(row['before'])}")
        print(f"    after:  {short(row['after'])}")
        print(f"    <- {row['source']}")
    for row in found["kept"]:
        print(f"{row['setting']}  kept: {row['reason']}")
    for row in found["ignored"]:
        print(f"{row['variable']}  ignored: nobody reads it; use {row['instead']}")
    return 0


def problems(env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(errors, warnings) for an environment, without starting Django: what apply() would say
    (one line per bad variable, Sentry's DSN included), and what a cloud environment lacks."""
    try:
        compute(env, {"__file__": "/app/project/settings.py"})
    except ImproperlyConfigured as error:
        return str(error).splitlines(), []
    warnings: list[str] = []
    if is_cloud(env):
        for family, main, what in (
            (variables.PREFIXED_DATABASE_DSN, variables.DATABASE_URL, "database"),
            (variables.PREFIXED_STORAGE_DSN, None, "media storage"),
            (variables.PREFIXED_CACHE_URL, variables.CACHE_URL, "shared cache"),
        ):
            if "default" not in prefixed(env, family, main):
                names = (
                    f"{main.name} or DEFAULT{family.suffix}" if main else f"DEFAULT{family.suffix}"
                )
                warnings.append(f"{names}: not set; the cloud environment has no {what}")
    return [], warnings


def has_project(root: Path, args: argparse.Namespace, env: Mapping[str, str]) -> bool:
    return (
        bool(getattr(args, "settings", None) or env.get("DJANGO_SETTINGS_MODULE"))
        or (root / "manage.py").is_file()
    )


def run_check(args: argparse.Namespace) -> int:
    """The variables first (one line each, without Django); then, in a project, Django's
    system checks on the settings the runtime loads, as `manage.py check` runs them."""
    root, env = Path(args.path).resolve(), environment(args)
    errors, warnings = problems(env)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if errors:
        return 1
    print("the environment's variables are valid")
    if not has_project(root, args, env):
        return 0
    module = settings_module(root, args, env)
    command = [sys.executable, "-m", "django", "check", "--settings", module]
    if args.deploy:
        command.append("--deploy")
    child = {**env, "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")])}
    result = subprocess.run(command, cwd=root, env=child, check=False)
    return 0 if result.returncode == 0 else 1


def run_release_commands(args: argparse.Namespace) -> int:
    """What the release needs: the cache table when a cache of the settings (the project's
    own, or the cloud's default) is the database cache, then migrate, then publish_static
    with shared media storage (rolling deploys keep every version's static files)."""
    root, env = Path(args.path).resolve(), environment(args)
    errors, _ = problems(env)
    if errors:
        raise UserError(errors[0])
    if has_project(root, args, env):
        settings = load_settings(root, env, settings_module(root, args, env))
        caches = getattr(settings, "CACHES", {}) or {}
        database_cache = any(
            str(cache.get("BACKEND", "")).endswith("db.DatabaseCache") for cache in caches.values()
        )
        static = (getattr(settings, "STORAGES", {}) or {}).get("staticfiles", {})
        publish = bool(getattr(settings, "DIVIO_STATIC_FALLBACK", False)) and hashes_names(
            root, env, str(static.get("BACKEND", ""))
        )
    else:
        urls = prefixed(env, variables.PREFIXED_CACHE_URL, variables.CACHE_URL)
        shared_default = is_cloud(env) and "default" not in urls  # the database cache
        database_cache = shared_default or any(
            url.startswith(("db://", "dbcache://")) for _, url in urls.values()
        )
        # As the storage group decides DIVIO_STATIC_FALLBACK: a default DSN that is not files.
        media = prefixed(env, variables.PREFIXED_STORAGE_DSN).get("default")
        publish = media is not None and StorageDSN(media[1]).scheme != "file"
    if database_cache:
        print("python manage.py createcachetable")
    print("python manage.py migrate")
    if publish:  # the static files a container of another version may be asked for
        print("python manage.py publish_static")
    return 0


def hashes_names(root: Path, env: Mapping[str, str], backend: str) -> bool:
    """Whether the static storage *backend* (a dotted path, perhaps of the project's own code)
    writes hashed names, which publish_static can tell apart between versions."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.utils.module_loading import import_string

    with project_process(root, env):
        try:
            storage = import_string(backend)
        except Exception:  # the project's own code failing here: go by the name
            return "Manifest" in backend
    return isinstance(storage, type) and issubclass(storage, ManifestFilesMixin)
