"""The command tells the truth about the project (#28): on project shapes x environments,
`divio-settings check` gives `manage.py check`'s verdict (exit code, check IDs), `release-commands`
prints what the runtime settings need, and `show --json` equals the runtime settings.

The oracle is the project itself, run as Django runs it: `manage.py check`, and a child that
calls django.setup() and dumps the settings. The command's answers must agree with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from divio_settings.cli import main
from tests.helpers import LIVE_KEY, ROOT, child_env, run_tool

pytestmark = [pytest.mark.e2e, pytest.mark.projects]

TWO_LINES = "\nimport divio_settings\ndivio_settings.apply(globals())\n"
S3 = "s3://AKIAEXAMPLE:c2VjcmV0%2Bvalue@media.example.com.s3.amazonaws.com/?auth=s3v4"
CLOUD = {"DOMAIN": "example.us.aldryn.io", "SECRET_KEY": LIVE_KEY, "MY_OWN_KEY": "k" * 50}


def before_apply(text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        settings = root / "mysite" / "settings.py"
        settings.write_text(settings.read_text() + text + TWO_LINES)

    return edit


def settings_package(root: Path) -> None:
    """mysite/settings/{__init__,base,production}.py; production star-imports base."""
    package = root / "mysite" / "settings"
    package.mkdir()
    (root / "mysite" / "settings.py").rename(package / "base.py")
    (package / "__init__.py").write_text("")
    (package / "production.py").write_text("from .base import *  # noqa\n" + TWO_LINES)
    manage = root / "manage.py"
    manage.write_text(manage.read_text().replace("mysite.settings", "mysite.settings.production"))
    for entry in ("wsgi.py", "asgi.py"):
        path = root / "mysite" / entry
        path.write_text(path.read_text().replace("mysite.settings", "mysite.settings.production"))
    base = package / "base.py"
    base.write_text(base.read_text().replace(".parent.parent", ".parent.parent.parent"))


def no_secret_key(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name != "SECRET_KEY"}


SHAPES: dict[str, Callable[[Path], None]] = {
    "startproject": before_apply(""),
    "package": settings_package,
    "own-key": before_apply("import os\nSECRET_KEY = os.environ['MY_OWN_KEY']\n"),
    "committed-key": before_apply(
        "SECRET_KEY = 'a-committed-key-" + "x" * 40 + "'\n"
        "DIVIO_SETTINGS_ALLOW_COMMITTED_SECRET_KEY = True\n"
    ),
    "redis-caches": before_apply(
        "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache', "
        "'LOCATION': 'redis://cache.example.com:6379/0'}}\n"
    ),
    "database-cache": before_apply(
        "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache', "
        "'LOCATION': 'my_cache'}}\n"
    ),
    "own-storages": before_apply(
        "STORAGES = {'default': {'BACKEND': 'django.core.files.storage.FileSystemStorage'}, "
        "'staticfiles': {'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    ),
    "own-logging": before_apply(
        "LOGGING = {'version': 1, 'handlers': {'console': {'class': 'logging.StreamHandler'}}, "
        "'root': {'handlers': ['console'], 'level': 'WARNING'}}\n"
    ),
}

ENVIRONMENTS: dict[str, dict[str, str]] = {
    "build": {},
    "local": {"DJANGO_DEBUG": "True", "DOMAIN_ALIASES": "localhost, 127.0.0.1"},
    "test": {**CLOUD, "STAGE": "test"},
    "test-db-cache-s3": {
        **CLOUD,
        "STAGE": "test",
        "CACHE_URL": "DB://django_dbcache",
        "DEFAULT_STORAGE_DSN": S3,
    },
    "live-redis-s3": {
        **CLOUD,
        "STAGE": "live",
        "CACHE_URL": "redis://cache.example.com:6379/0",
        "DEFAULT_STORAGE_DSN": S3,
    },
    "live-no-key": no_secret_key({**CLOUD, "STAGE": "live", "DEFAULT_STORAGE_DSN": S3}),
}

DUMP = """
import json, sys
import django
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.cache.backends.db import BaseDatabaseCache
from django.utils.module_loading import import_string
django.setup()
report = getattr(settings, "DIVIO_SETTINGS_REPORT", [])
static = import_string(settings.STORAGES["staticfiles"]["BACKEND"])
json.dump({
    "settings": {row["setting"]: getattr(settings, row["setting"]) for row in report},
    "caches": [cache["BACKEND"] for cache in settings.CACHES.values()],
    # What createcachetable makes a table for: Django's database caches and their subclasses.
    "database_cache": any(
        issubclass(import_string(cache["BACKEND"]), BaseDatabaseCache)
        for cache in settings.CACHES.values()
    ),
    "fallback": bool(getattr(settings, "DIVIO_STATIC_FALLBACK", False)),
    "hashed": issubclass(static, ManifestFilesMixin),
    # Whether manage.py has the command (the library's app is installed): Django's answer.
    "preflight": "preflight" in __import__("django.core.management").core.management.get_commands(),
}, sys.stdout, default=str)
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("startproject")
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(root)])
    return root


def child(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env={**child_env(), "PYTHONPATH": ROOT, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def ids(text: str) -> set[str]:
    return set(re.findall(r"\b((?:divio_settings|security|staticfiles|caches)\.[EW]\d+)\b", text))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def expected_commands(runtime: dict[str, object]) -> list[str]:
    """What the project needs, from its runtime settings: the cache table of a database cache,
    migrate, the static files published when the fallback can serve hashed names, and
    preflight where manage.py has it."""
    commands = []
    if runtime["database_cache"]:
        commands.append("python manage.py createcachetable")
    commands.append("python manage.py migrate")
    if runtime["fallback"] and runtime["hashed"]:
        commands.append("python manage.py publish_static")
    if runtime["preflight"]:
        commands.append("python manage.py preflight")
    return commands


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_command_agrees_with_the_project(
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shape: str,
    environment: str,
) -> None:
    root = tmp_path / "project"
    shutil.copytree(template, root)
    SHAPES[shape](root)
    env = dict(ENVIRONMENTS[environment])
    process = {**child_env(), **env}
    for name in list(os.environ):  # the command reads the process environment, as a user's
        monkeypatch.delenv(name)
    for name, value in process.items():
        monkeypatch.setenv(name, value)

    django_check = child(root, env, "manage.py", "check")
    code, _, err = cli(capsys, "check", str(root))
    assert code == (0 if django_check.returncode == 0 else 1), err + django_check.stderr
    assert ids(err) == ids(django_check.stderr), err
    if django_check.returncode != 0 and "Traceback" in django_check.stderr:
        # The project's own error as one line (apply()'s: one per variable), and a hint.
        last = django_check.stderr.strip().splitlines()[-1]
        # The traceback names the class (ImproperlyConfigured, or apply()'s VariableError).
        message = re.sub(r"^[\w.]*(ImproperlyConfigured|VariableError): ", "", last)
        assert f"error: {message}" in err.splitlines()
        assert "Traceback" not in err
        if message == last:  # not the library's error: the project's own crash
            assert err.endswith("    hint: run 'python manage.py check' for the full traceback\n")

    runtime = child(root, env, "manage.py", "shell", "--no-imports", "-c", DUMP)
    code, out, err = cli(capsys, "release-commands", str(root))
    if runtime.returncode != 0:  # the settings refuse the environment: so does the command
        assert code == 1
        assert "Traceback" not in err
        return
    dumped = json.loads(runtime.stdout)
    assert (code, out.splitlines()) == (0, expected_commands(dumped)), err

    code, out, err = cli(capsys, "show", str(root), "--json")
    assert code == 0, err
    shown = {row["setting"]: row["value"] for row in json.loads(out)}
    assert shown.keys() == dumped["settings"].keys()
    for setting, value in dumped["settings"].items():
        assert agrees(shown[setting], value), (setting, shown[setting], value)


def agrees(shown: object, runtime: object) -> bool:
    """show's value is the runtime's, but where show masks a secret (``********``, with its
    fingerprint)."""
    if isinstance(shown, str) and shown.startswith("********"):
        return True
    if isinstance(shown, dict) and isinstance(runtime, dict):
        return shown.keys() == runtime.keys() and all(
            agrees(shown[key], runtime[key]) for key in shown
        )
    if isinstance(shown, list) and isinstance(runtime, list):
        return len(shown) == len(runtime) and all(map(agrees, shown, runtime))
    return bool(json.loads(json.dumps(shown, default=str)) == runtime)
