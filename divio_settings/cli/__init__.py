"""The `divio-settings` command (also `python -m divio_settings`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from .errors import UserError

if TYPE_CHECKING:
    from typing import TypeAlias

    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

EPILOG = "Exit codes: 0 success, 1 a problem (printed on one line each), 2 wrong usage."


def python_version(value: str) -> str:
    """--python: a version of the official image's tags (3.13, 3.12.8), nothing that could add
    a line or an argument to the Dockerfile's FROM."""
    import re

    if not re.fullmatch(r"3\.[0-9]{1,2}(?:\.[0-9]{1,2})?", value):
        raise argparse.ArgumentTypeError(f"expected a Python version such as 3.13, got {value!r}")
    return value


class VersionAction(argparse.Action):
    """``--version``, read from the package metadata only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from .requirements import own_version

        try:
            version = own_version()
        except UserError as error:
            parser.exit(1, f"divio-settings: {error}\n")
        print(f"divio-settings {version}")
        parser.exit(0)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="divio-settings",
        description="Set up a Django project for Divio and explain its configuration.",
        epilog=EPILOG,
    )
    main_parser.add_argument(
        "--version", action=VersionAction, help="print the installed version and exit"
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _init_parser(commands)
    _show_parser(commands)
    _check_parser(commands)
    _release_commands_parser(commands)
    return main_parser


INIT_FLAGS = (
    ("--force", "replace Dockerfile, docker-compose.yml and .env-local if they differ"),
    (
        "--keep-docker",
        "leave the project's Dockerfile, docker-compose.yml and .env-local as they are: wire "
        "settings, urls and requirements, and say what the Docker files lack",
    ),
)


def _init_parser(commands: Commands) -> None:
    from .init import GATEWAYS, run
    from .requirements import DATABASES, DEFAULT_STORAGE, STORAGE_EXTRAS

    init = commands.add_parser(
        "init",
        help="write Dockerfile, docker-compose.yml, .env-local, .gitignore entries, "
        "the two lines and requirements",
        epilog=EPILOG,
    )
    init.add_argument("path", nargs="?", default=".", help="the project (with manage.py)")
    choices = (
        ("--database", DATABASES, "postgres", "database service for docker-compose"),
        ("--gateway", GATEWAYS, "gunicorn", "server started by the Dockerfile's CMD"),
        (
            "--storage",
            STORAGE_EXTRAS,
            DEFAULT_STORAGE,
            "the cloud's object storage (DEFAULT_STORAGE_DSN), whose extra the pin gets: s3 in "
            "most Divio regions, azure in Azure's",
        ),
    )
    for flag, names, default, text in choices:
        init.add_argument(
            flag, choices=sorted(names), default=default, help=f"{text} (default: {default})"
        )
    python = "Python of the base image (default: 3.13)"
    init.add_argument("--python", default="3.13", type=python_version, help=python)
    init.add_argument("--dry-run", action="store_true", help="print a unified diff, write nothing")
    init.add_argument(
        "--settings",
        metavar="MODULE",
        help="the settings module to wire (default: DJANGO_SETTINGS_MODULE, else the one the "
        "WSGI/ASGI entry point loads, else manage.py's)",
    )
    for flag, text in INIT_FLAGS:
        init.add_argument(flag, action="store_true", help=text)
    init.set_defaults(func=run)


def _project_parser(
    commands: Commands, name: str, text: str, aliases: Sequence[str] = ()
) -> argparse.ArgumentParser:
    """A command that reads a project: its path, an env file and its settings module."""
    sub = commands.add_parser(name, aliases=list(aliases), help=text, epilog=EPILOG)
    sub.add_argument("path", nargs="?", default=".", help="the project (with manage.py)")
    sub.add_argument("--env-file", help="read variables from this file too, e.g. .env-local")
    sub.add_argument(
        "--settings",
        metavar="MODULE",
        help="the settings module (default: DJANGO_SETTINGS_MODULE, else manage.py's)",
    )
    return sub


def _show_parser(commands: Commands) -> None:
    from .show import run_show

    text = "every setting apply() set, its value and its source"
    show = _project_parser(commands, "show", text, aliases=["explain"])
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument(
        "--changes",
        action="store_true",
        help="what apply() changed relative to settings.py alone (before, after, "
        "source), settings.py's values kept and the variables nobody reads",
    )
    show.add_argument(
        "--variables",
        action="store_true",
        help="list every variable the library reads (name, group, shape, default, "
        "whether it is secret, the settings it sets) instead of a project's settings",
    )
    show.add_argument(
        "--placeholders",
        action="store_true",
        help="give a variable the project's own settings read and the environment lacks a "
        "placeholder value (each is named on stderr) instead of stopping",
    )
    show.set_defaults(func=run_show)


def _check_parser(commands: Commands) -> None:
    from .show import run_check

    text = (
        "validate the environment's variables, then run Django's system checks on the "
        "project's settings"
    )
    check = _project_parser(commands, "check", text)
    check.add_argument("--deploy", action="store_true", help="Django's deployment checks too")
    check.set_defaults(func=run_check)


def _release_commands_parser(commands: Commands) -> None:
    from .show import run_release_commands

    text = "print the release commands this environment needs"
    release = _project_parser(commands, "release-commands", text)
    release.set_defaults(func=run_release_commands)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit:  # --help, --version and usage errors: argparse has printed
        return exit.code if isinstance(exit.code, int) else 2
    try:
        result: int = args.func(args)
        sys.stdout.flush()
    except UserError as error:
        print(f"divio-settings: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`divio-settings show | head`): stop quietly, as `cat` does;
        # Python's own flush at exit must not complain either (its documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ImproperlyConfigured as error:  # a project's settings refused its environment
        print(f"divio-settings: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"divio-settings: {error.strerror or error}", file=sys.stderr)
        return 1
    except Exception as error:
        from divio_settings.redaction import redact

        detail = redact(f"{type(error).__name__}: {error}").splitlines()[0]
        print(f"divio-settings: unexpected error: {detail}", file=sys.stderr)
        return 1
    return result
