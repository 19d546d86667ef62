"""`show`, `check` and `release-commands`: the effective configuration, explained."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from divio_settings import compute
from divio_settings import env as variables
from divio_settings.env import is_cloud, prefixed

if TYPE_CHECKING:
    from divio_settings.report import Entry

from .files import UserError, read_env_file
from .init import find_project

WIDTH = 70


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if args.env_file:
        env.update(read_env_file(args.env_file, env))
    return env


@contextlib.contextmanager
def project_process(root: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Inside: os.environ is *env* and the project is importable. Afterwards the process is as
    it was: environment, sys.path and the modules the project's import added.

    os.environ is swapped for a plain dict rather than refilled: setting 100,000 variables
    one by one through putenv() takes about a minute, a dict takes milliseconds."""
    saved_environ, saved_path, saved_modules = os.environ, list(sys.path), set(sys.modules)
    os.environ = dict(env)  # type: ignore[assignment]  # noqa: B003 - swapped, not cleared
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        os.environ = saved_environ  # noqa: B003 - the real environment, untouched
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            # The project's own modules (its settings); libraries they imported stay loaded.
            source = getattr(sys.modules[name], "__file__", None)
            if source and Path(source).resolve().is_relative_to(root.resolve()):
                del sys.modules[name]


def load_report(root: Path, env: Mapping[str, str]) -> list[Entry]:
    project = find_project(root)
    module = ".".join(project.settings.relative_to(root).with_suffix("").parts)
    module = module.removesuffix(".__init__")
    with project_process(root, env):
        try:
            settings = importlib.import_module(module)
        except ImproperlyConfigured as error:
            raise UserError(str(error)) from None
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
    report = load_report(Path(args.path).resolve(), environment(args))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    width = max(len(row["setting"]) for row in report)
    for row in report:
        print(f"{row['setting']:<{width}}  {short(row['value'])}")
        print(f"{'':<{width}}  <- {row['source']}")
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


def run_check(args: argparse.Namespace) -> int:
    errors, warnings = problems(environment(args))
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if errors:
        return 1
    print("the environment's variables are valid")
    return 0


def run_release_commands(args: argparse.Namespace) -> int:
    env = environment(args)
    errors, _ = problems(env)
    if errors:
        raise UserError(errors[0])
    caches = prefixed(env, variables.PREFIXED_CACHE_URL, variables.CACHE_URL)
    shared_default = is_cloud(env) and "default" not in caches  # the database cache
    if shared_default or any(url.startswith(("db://", "dbcache://")) for _, url in caches.values()):
        print("python manage.py createcachetable")
    print("python manage.py migrate")
    return 0
