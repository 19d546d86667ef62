"""The user's project: found on disk (manage.py, the settings module the runtime loads, its URL
module) and its settings imported without changing the process. Its files are read and written
by cli/files.py, its env files by cli/envfile.py.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import importlib
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from .errors import UserError
from .files import TextFile


def calls(text: str, name: str, function: str, module: str) -> bool:
    """Whether the code calls ``module.function(…)`` or an imported ``function(…)``; a comment
    or a string is not a call."""
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as error:
        raise UserError(f"{name} does not parse as Python (line {error.lineno}): fix it first")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == function
            and isinstance(func.value, ast.Name)
            and func.value.id == module
        ):
            return True
        if isinstance(func, ast.Name) and func.id == function:
            return True
    return False


_SETTINGS_MODULE: Final = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_URLCONF: Final = re.compile(r"""^ROOT_URLCONF\s*=\s*["']([\w.]+)["']""", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Project:
    root: Path
    package: str
    settings: Path
    urls: Path
    module: str = ""  # the settings module init wires
    manage_module: str = ""  # the one manage.py names
    entry_module: str | None = None  # the one the WSGI/ASGI entry point names
    chosen_by: str = ""  # why *module*, when not the entry point's or manage.py's


def module_file(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def named_module(root: Path, path: Path) -> str | None:
    match = _SETTINGS_MODULE.search(TextFile(root, path, python=True).text)
    return match.group(1) if match else None


def manage_py_module(root: Path, hint: str) -> str:
    """The settings module manage.py names as its default, or a one-line error ending in *hint*."""
    manage = root / "manage.py"
    if not manage.is_file():
        raise UserError(f"no manage.py in {root}: {hint}")
    module = named_module(root, manage)
    if not module:
        raise UserError(f"manage.py does not name DJANGO_SETTINGS_MODULE: {hint}")
    return module


def find_project(path: Path, settings: str | None = None) -> Project:
    """The project at *path*: its settings module (*settings*, else the one the WSGI or ASGI
    entry point loads, the production one of a split package, else manage.py's) and its URL
    module."""
    hint = "run init in a Django project's directory"
    if settings is None:
        manage_module = manage_py_module(path, hint)
    elif (path / "manage.py").is_file():  # --settings or DJANGO_SETTINGS_MODULE: it may name none
        manage_module = named_module(path, path / "manage.py") or ""
    else:
        raise UserError(f"no manage.py in {path}: {hint}")
    package = (settings or manage_module).split(".")[0]
    entry_module = None
    for entry in ("wsgi.py", "asgi.py"):
        if (path / package / entry).is_file():
            entry_module = named_module(path, path / package / entry)
            if entry_module:
                break
    module, chosen_by = settings or "", "--settings" if settings else ""
    if not module:
        module, chosen_by = deployed_module(path, entry_module or manage_module)
    settings_file = module_file(path, module)
    if not settings_file.is_file():
        raise UserError(f"the settings module {module} is not a file below {path}")
    urlconf = root_urlconf(path, module, settings_file)
    urls = module_file(path, urlconf) if urlconf else settings_file.with_name("urls.py")
    if not urls.is_file():
        named = f"ROOT_URLCONF names {urlconf}" if urlconf else "there is no urls.py"
        raise UserError(f"{named}, which is not a file below {path}: set ROOT_URLCONF first")
    return Project(
        path,
        module.split(".")[0],
        settings_file,
        urls,
        module,
        manage_module,
        entry_module,
        chosen_by,
    )


# The last part of a settings package's module names for development and for production.
DEVELOPMENT: Final = ("dev", "development", "local")
PRODUCTION: Final = ("production", "prod")
_ENV_MODULE: Final = re.compile(r"DJANGO_SETTINGS_MODULE[= ]+[\"']?([\w.]+)")


def deployed_module(path: Path, loaded: str) -> tuple[str, str]:
    """(the module the project deploys with, why): the one its own Dockerfile names; else
    *loaded* (the WSGI/ASGI entry point's, else manage.py's) unless that is a settings
    package's development module (dev.py), then the package's production module — or, without
    exactly one, a stop that asks for --settings (#38)."""
    from .docker import docker_files

    # Not a local one (compose/local/django/Dockerfile): it builds the development image.
    dockerfiles = [path / "Dockerfile"] + [
        found
        for found in docker_files(path)
        if found.name.startswith("Dockerfile")
        and not set(found.relative_to(path).parts[:-1]) & set(DEVELOPMENT)
    ]
    for dockerfile in dockerfiles:
        found = (
            _ENV_MODULE.search(TextFile(path, dockerfile).text) if dockerfile.is_file() else None
        )
        if found and module_file(path, found.group(1)).is_file():
            return found.group(1), f"{dockerfile.relative_to(path).as_posix()}'s"
    package, _, last = loaded.rpartition(".")
    if not package or last not in DEVELOPMENT:
        return loaded, ""
    production = [
        f"{package}.{name}"
        for name in PRODUCTION
        if module_file(path, f"{package}.{name}").is_file()
    ]
    if len(production) != 1:
        raise UserError(
            f"manage.py and the WSGI/ASGI entry point load {loaded}, a development module: name "
            f"the module the project deploys with (--settings {package}.production)"
        )
    return production[0], "the settings package's production module"


def root_urlconf(root: Path, module: str, settings_file: Path) -> str | None:
    """ROOT_URLCONF as the settings module has it once imported (star imports of a settings
    package included); when it cannot be imported here (a variable it requires is unset), as
    written in it or, for a settings package, in its other modules, if they agree."""
    try:
        value = getattr(load_settings(root, os.environ, module), "ROOT_URLCONF", None)
    except Exception:  # any failure of the project's own code: read the files instead
        value = None
    if isinstance(value, str):
        return value
    found = _URLCONF.search(TextFile(root, settings_file, python=True).text)
    if found:
        return found.group(1)
    if not (settings_file.parent / "__init__.py").is_file() or len(module.split(".")) < 3:
        return None
    values = {}
    for sibling in sorted(settings_file.parent.glob("*.py")):
        match = _URLCONF.search(TextFile(root, sibling, python=True).text)
        if match:
            values[match.group(1)] = sibling.name
    if len(values) > 1:
        where = ", ".join(f"{name} in {file}" for name, file in values.items())
        raise UserError(
            f"the settings package sets ROOT_URLCONF differently ({where}): use --settings"
        )
    return next(iter(values), None)


@contextlib.contextmanager
def project_process(root: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Inside: os.environ is *env* and the project is importable (and no bytecode is written
    into it). Afterwards the process is as it was: environment, sys.path and the modules the
    project's import added.

    os.environ is swapped for a plain dict rather than refilled: setting 100,000 variables
    one by one through putenv() takes about a minute, a dict takes milliseconds."""
    saved_environ, saved_path, saved_modules = os.environ, list(sys.path), set(sys.modules)
    saved_bytecode = sys.dont_write_bytecode
    os.environ = dict(env)  # type: ignore[assignment]  # noqa: B003 - swapped, not cleared
    sys.path.insert(0, str(root))
    sys.dont_write_bytecode = True  # no __pycache__ left in the project by reading it
    try:
        yield
    finally:
        os.environ = saved_environ  # noqa: B003 - the real environment, untouched
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        for name in set(sys.modules) - saved_modules:
            # The project's own modules (its settings); libraries they imported stay loaded.
            source = getattr(sys.modules[name], "__file__", None)
            if source and Path(source).resolve().is_relative_to(root.resolve()):
                del sys.modules[name]


def settings_module(root: Path, args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """The module the runtime loads: --settings, else DJANGO_SETTINGS_MODULE of the environment
    (manage.py only sets a default), else manage.py's default."""
    chosen = getattr(args, "settings", None) or env.get("DJANGO_SETTINGS_MODULE")
    if chosen:
        return str(chosen)
    return manage_py_module(root, "give the project's path or --settings")


# django-environ's and similar readers' error for a variable that is not set.
_UNSET: Final = re.compile(r"Set the ([A-Z][A-Z0-9_]*) environment variable")
PLACEHOLDER: Final = "divio-settings-placeholder-{name}"
MAX_PLACEHOLDERS: Final = 20


def load_settings(
    root: Path, env: Mapping[str, str], module: str, placeholders: bool | None = None
) -> Any:
    """The project's settings module, imported with *env* as the environment. A variable that
    apply() refuses raises its ImproperlyConfigured (one line per bad variable). For `show`
    (*placeholders* not None), a variable the project's own settings read and the environment
    lacks is named; with *placeholders* True it gets a placeholder value (said on stderr) and
    the import is tried again. `check` reports such a failure as the project's own."""
    env = dict(env)
    for _ in range(MAX_PLACEHOLDERS):
        # What the settings print goes to stderr: stdout is the command's (--json) alone.
        with project_process(root, env), contextlib.redirect_stdout(sys.stderr):
            try:
                return importlib.import_module(module)
            except ImportError as error:
                raise UserError(
                    f"the settings module {module} cannot be imported: {error}"
                ) from None
            except Exception as error:
                missing = unset_variable(error, env) if placeholders is not None else None
                if missing is None:
                    raise
        if not placeholders:
            raise UserError(
                f"{module} reads {missing}, which the environment does not set: set it, pass "
                "--env-file FILE (e.g. .env-local), or --placeholders to fill such variables "
                "with placeholder values"
            )
        env[missing] = PLACEHOLDER.format(name=missing)
        print(f"placeholder: {missing}={env[missing]}", file=sys.stderr)
    raise UserError(f"{module} reads more than {MAX_PLACEHOLDERS} variables the environment lacks")


def unset_variable(error: BaseException, env: Mapping[str, str]) -> str | None:
    """The variable a settings module failed on because the environment lacks it: os.environ's
    KeyError, django-environ's 'Set the X environment variable'."""
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        name = error.args[0]
        return name if name not in env and name.isidentifier() else None
    found = _UNSET.search(str(error))
    return found.group(1) if found and found.group(1) not in env else None
