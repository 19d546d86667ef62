"""`show`, `check` and `release-commands`: the effective configuration, explained."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from divio_settings import compute, conf, variables
from divio_settings.env import VariableError

if TYPE_CHECKING:
    from django.core.checks import CheckMessage

    from divio_settings.report import Entry


from .envfile import read_env_file
from .errors import UserError
from .project import load_settings, project_process, settings_module

WIDTH = 70


def environment(args: argparse.Namespace) -> dict[str, str]:
    """The process's environment, and the env file's names it does not set (compose gives an
    env file's values the lowest precedence)."""
    env = dict(os.environ)
    if args.env_file:
        return {**read_env_file(args.env_file, env), **env}
    return env


def load_report(
    root: Path, env: Mapping[str, str], module: str, placeholders: bool | None = None
) -> list[Entry]:
    settings = load_settings(root, env, module, placeholders)
    report: Sequence[Entry] | None = conf.read(conf.REPORT, settings)
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
    placeholders = bool(args.placeholders)
    if args.changes:
        return print_changes(root, env, module, args.json, placeholders)
    report = load_report(root, env, module, placeholders)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"# {module}")
    width = max(len(row["setting"]) for row in report)
    for row in report:
        print(f"{row['setting']:<{width}}  {short(row['value'])}")
        print(f"{'':<{width}}  <- {row['source']}")
    return 0


def print_changes(
    root: Path, env: Mapping[str, str], module: str, as_json: bool, placeholders: bool = False
) -> int:
    from divio_settings import changes

    settings = load_settings(root, env, module, placeholders)
    try:
        found = changes(settings)
    except ValueError:
        raise UserError(f"{module} does not call divio_settings.apply(globals())") from None
    if as_json:
        print(json.dumps(found, indent=2, default=str))
        return 0
    print(f"# {module}: what apply() changed relative to settings.py alone")
    for row in found["changed"]:
        print_change(row)
    for row in found["kept"]:
        print(f"{row['setting']}  kept: {row['reason']}")
    for row in found["replaced"]:
        print(f"{row['setting']}  replaced: {row['reason']}")
    for row in found["ignored"]:
        print(f"{row['variable']}  ignored: nobody reads it; use {row['instead']}")
    return 0


def print_change(row: Mapping[str, Any]) -> None:
    """One changed setting: a list as the items added and taken away, a dict as the key paths
    whose values differ, anything else before and after."""
    before, after = row["before"], row["after"]
    if isinstance(before, list) and isinstance(after, list):
        # What was added and taken away (INSTALLED_APPS, MIDDLEWARE, ALLOWED_HOSTS).
        print(f"{row['setting']}  <- {row['source']}")
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        for sign, items in (("+", added), ("-", removed)):
            for item in items:
                print(f"    {sign} {short(item)}")
        if not (added or removed):
            print("    (the same items, reordered)")
        return
    if isinstance(before, dict) and isinstance(after, dict):
        # What changed inside: one key path per value (DATABASES.default.ENGINE: a → b).
        print(f"{row['setting']}  <- {row['source']}")
        for path, old, new in key_paths(row["setting"], before, after):
            print(f"    {path}: {short(old)} → {short(new)}")
        return
    print(f"{row['setting']}")
    print(f"    before: {short(before)}")
    print(f"    after:  {short(after)}")
    print(f"    <- {row['source']}")


def key_paths(prefix: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """(path, before, after) of every value that differs between two nested dicts, by key
    path; a key only one side has is "(not set)" on the other."""
    from divio_settings.report import NOT_SET

    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [] if before == after else [(prefix, before, after)]
    found: list[tuple[str, Any, Any]] = []
    for key in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(key, NOT_SET), after.get(key, NOT_SET)
        found += key_paths(f"{prefix}.{key}", old, new)
    return found


class Verdict:
    """What the command says of a project or an environment: the settings apply() produced and
    the lines to print. One source: inside a project the settings module apply() filled (in a
    restored process), outside one the result of compute() on the environment alone."""

    def __init__(self, root: Path, env: Mapping[str, str], module: str | None) -> None:
        self.root, self.env, self.module = root, env, module
        self.errors: list[str] = []
        self.crashed = False  # the settings module raised something else than apply()'s error
        self.settings: Mapping[str, Any] = {}
        try:
            if self.module is None:
                self.settings = compute(env, {}).values
            else:
                self.settings = vars(load_settings(root, env, self.module))
        except VariableError as error:
            self.errors = [line for _, line in error.problems]
        except ImproperlyConfigured as error:  # the project's own, from its settings module
            self.errors = [safe_line(str(error), env)]
        except UserError:
            raise
        except Exception as error:  # the project's own code failed: its last line, redacted
            self.errors = [safe_line(traceback.format_exception_only(error)[-1], env)]
            self.crashed = True

    def release_commands(self) -> list[str]:
        """The cache table when a cache of the settings is the database cache, then migrate,
        then publish_static when the static fallback is on and the static names are hashed,
        then preflight (the library's app, which has the command, is installed)."""
        caches = self.settings.get("CACHES") or {}
        from divio_settings.service_checks import database_caches

        database_cache = any(cache.get("BACKEND") in database_caches() for cache in caches.values())
        static = (self.settings.get("STORAGES") or {}).get("staticfiles", {})
        publish = bool(conf.read(conf.STATIC_FALLBACK, self.settings)) and hashes_names(
            self.root, self.env, str(static.get("BACKEND", ""))
        )
        commands = ["python manage.py createcachetable"] if database_cache else []
        commands.append("python manage.py migrate")
        if publish:  # the static files a container of another version may be asked for
            commands.append("python manage.py publish_static")
        if conf.APP in (self.settings.get("INSTALLED_APPS") or [conf.APP]):
            commands.append("python manage.py preflight")  # every service, before traffic
        return commands


def project_module(root: Path, args: argparse.Namespace, env: Mapping[str, str]) -> str | None:
    """The settings module of the project at *root*, or None outside a project."""
    chosen = getattr(args, "settings", None) or env.get("DJANGO_SETTINGS_MODULE")
    if not chosen and not (root / "manage.py").is_file():
        return None
    return settings_module(root, args, env)


def run_check(args: argparse.Namespace) -> int:
    """The variables first (one line each); then the system checks: in a project Django's own,
    as `manage.py check` runs them; outside one the library's checks on what apply() computes
    from the environment alone."""
    root, env = Path(args.path).resolve(), environment(args)
    verdict = Verdict(root, env, project_module(root, args, env))
    for line in verdict.errors:
        print(f"error: {line}", file=sys.stderr)
    if verdict.crashed:
        print(f"    hint: {FULL_TRACEBACK}", file=sys.stderr)
    if verdict.errors:
        return 1
    print("the environment's variables are valid")
    if verdict.module is None:
        messages = library_checks(verdict.settings)
        for line in message_lines(messages):
            print(line, file=sys.stderr)
        return 1 if any(message.is_serious() for message in messages) else 0
    return project_check(root, env, verdict.module, args.deploy)


def library_checks(values: Mapping[str, Any]) -> list[CheckMessage]:
    """The library's system checks (divio_settings.checks) with *values* (over Django's
    defaults) as the settings. The settings are swapped for the calls and restored, as
    override_settings does, but without its signals: nothing else of Django is started."""
    from django.conf import UserSettingsHolder, global_settings, settings

    from divio_settings.checks import CHECKS

    holder = UserSettingsHolder(global_settings)
    for name, value in values.items():
        if name.isupper():
            setattr(holder, name, value)
    saved = settings._wrapped
    settings._wrapped = holder
    try:
        return [message for check in CHECKS for message in check(None)]
    finally:
        settings._wrapped = saved


def message_lines(messages: Sequence[CheckMessage]) -> list[str]:
    """One line per message (its level, ID and text), its hint indented below."""
    lines: list[str] = []
    for message in messages:
        level = "error" if message.is_serious() else "warning"
        lines.append(f"{level}: {message.id}: {message.msg}")
        if message.hint:
            lines.append(f"    hint: {message.hint}")
    return lines


TRACEBACK = "Traceback (most recent call last):"
FULL_TRACEBACK = "run 'python manage.py check' for the full traceback"


def safe_line(line: str, env: Mapping[str, str]) -> str:
    """One line of the project's error, fit to print: the environment's secret values and any
    URL's password masked."""
    from divio_settings.redaction import Scrubber, mask_url_passwords
    from divio_settings.secret_variables import secret_values

    return mask_url_passwords(Scrubber(secret_values(env))(line.strip().splitlines()[0]))


def project_check(root: Path, env: Mapping[str, str], module: str, deploy: bool) -> int:
    """`python -m django check` on the project's settings in a child process: its report as it
    prints it; a crash (a traceback) as its last line, redacted, and where to see the rest."""
    command = [sys.executable, "-m", "django", "check", "--settings", module]
    if deploy:
        command.append("--deploy")
    child = {**env, "PYTHONPATH": os.pathsep.join([str(root), env.get("PYTHONPATH", "")])}
    result = subprocess.run(command, cwd=root, env=child, capture_output=True, text=True)
    if result.returncode != 0 and TRACEBACK in result.stderr:
        last = [line for line in result.stderr.splitlines() if line.strip()][-1]
        print(f"error: {safe_line(last, env)}", file=sys.stderr)
        print(f"    hint: {FULL_TRACEBACK}", file=sys.stderr)
        return 1
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return 0 if result.returncode == 0 else 1


def run_release_commands(args: argparse.Namespace) -> int:
    """What the release needs, read from the settings apply() produced (see Verdict)."""
    root, env = Path(args.path).resolve(), environment(args)
    verdict = Verdict(root, env, project_module(root, args, env))
    if verdict.errors:
        raise UserError(verdict.errors[0])
    for command in verdict.release_commands():
        print(command)
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
