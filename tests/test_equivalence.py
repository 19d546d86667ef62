"""The deployment guide's settings.py against the same project moved onto divio-settings as the
move how-to says, in many environments: every setting that differs is listed, with why, in
docs/how-to/move.md's "What changes when you move" table, and every row there differs somewhere."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.helpers import LIVE_ENV, LIVE_KEY, LOCAL_ENV, run_tool

ROOT = Path(__file__).parent.parent
MOVE = ROOT / "docs" / "how-to" / "move.md"

# Divio's deployment guide, as it writes settings.py (docs: "How to configure an existing Django
# application"), STORAGES as Divio's current quickstart writes it for Django 5.1 and later.
GUIDE = """
import os
import dj_database_url
from django_storage_url import dsn_configured_storage_class

SECRET_KEY = os.environ.get('SECRET_KEY', '<a string of random characters>')
DEBUG = os.environ.get('DJANGO_DEBUG') == "True"
DIVIO_DOMAIN = os.environ.get('DOMAIN', '')
DIVIO_DOMAIN_ALIASES = [
    d.strip()
    for d in os.environ.get('DOMAIN_ALIASES', '').split(',')
    if d.strip()
]
DIVIO_DOMAIN_REDIRECTS = [
    d.strip()
    for d in os.environ.get('DOMAIN_REDIRECTS', '').split(',')
    if d.strip()
]
ALLOWED_HOSTS = [DIVIO_DOMAIN] + DIVIO_DOMAIN_ALIASES + DIVIO_DOMAIN_REDIRECTS
SECURE_SSL_REDIRECT = os.environ.get('SECURE_SSL_REDIRECT') != "False"
MIDDLEWARE.insert(1, 'whitenoise.middleware.WhiteNoiseMiddleware')
DATABASE_URL = os.environ.get('DATABASE_URL', 'sqlite://:memory:')
DATABASES = {'default': dj_database_url.parse(DATABASE_URL)}
STATIC_URL = '/static/'
STATIC_ROOT = os.path.join(BASE_DIR, 'staticfiles')
DEFAULT_STORAGE_DSN = os.environ.get('DEFAULT_STORAGE_DSN')
DefaultStorageClass = dsn_configured_storage_class('DEFAULT_STORAGE_DSN')
STORAGES = {
    'default': {'BACKEND': 'mysite.settings.DefaultStorageClass'},
    'staticfiles': {'BACKEND': 'whitenoise.storage.CompressedManifestStaticFilesStorage'},
}
MEDIA_URL = 'media/'
MEDIA_ROOT = os.path.join('/data/media/')
"""
# The same project after the how-to: the guide's block deleted, the two lines added.
MOVED = "\nimport divio_settings\ndivio_settings.apply(globals())\n"

CLOUD = {"STAGE": "live", "DOMAIN": "www.example.com", "SECRET_KEY": LIVE_KEY}
PG = "postgres://site:p%40ss%3Aw%2Frd%23%2B@db.example.com:5432/site"
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "build": {},
    "local": dict(LOCAL_ENV),
    "local, debug off": {**LOCAL_ENV, "DJANGO_DEBUG": "False"},
    "test": {**CLOUD, "STAGE": "test", "DATABASE_URL": PG},
    "live": dict(LIVE_ENV),
    "live, SSL redirect off": {**LIVE_ENV, "SECURE_SSL_REDIRECT": "False"},
    "test, debug on": {**CLOUD, "STAGE": "test", "DJANGO_DEBUG": "True", "DATABASE_URL": PG},
    "file DSN": {**CLOUD, "DATABASE_URL": PG, "DEFAULT_STORAGE_DSN": "file:///data/m/?url=%2Fm%2F"},
    "S3 endpoint DSN": {
        **CLOUD,
        "DATABASE_URL": PG,
        "DEFAULT_STORAGE_DSN": "s3://K:s3cr3t-key@media/?endpoint=http://minio:9000&url=http%3A%2F%2Flocalhost%3A9000%2Fmedia",
    },
    "Azure DSN": {
        **CLOUD,
        "DATABASE_URL": PG,
        "DEFAULT_STORAGE_DSN": "az://acct:a2V5a2V5@blob.core.windows.net/public-media",
    },
    "MySQL": {**CLOUD, "DATABASE_URL": "mysql://site:s%3Ae%2Fcret@db.example.com:3306/site"},
    "missing variables": dict(CLOUD),
    "messy alias lists": {
        **CLOUD,
        "DATABASE_URL": PG,
        "DOMAIN_ALIASES": " Shop.Example.com, ,example.ch ,",
        "DOMAIN_REDIRECTS": "example.com , old.example.org",
    },
}


@pytest.fixture(scope="module")
def startproject(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    path = tmp_path_factory.mktemp("site")
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(path)])
    settings = path / "mysite" / "settings.py"
    return settings.read_text(), str(settings)


def evaluate(source: str, path: str, environ: dict[str, str]) -> dict[str, Any]:
    """The settings module's upper-case names, imported with *environ* as the whole environment."""
    namespace: dict[str, Any] = {"__file__": path, "__name__": "mysite.settings"}
    with mock.patch.dict(os.environ, environ, clear=True):
        exec(compile(source, path, "exec"), namespace)  # a settings module, as Django runs it
    return {
        name: value
        for name, value in namespace.items()
        if name.isupper() and name != "DIVIO_SETTINGS_REPORT"
    }


def documented() -> set[str]:
    text = MOVE.read_text()
    table = text.split("## What changes when you move", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1]))
    return names


MISSING = object()


def test_every_difference_from_the_guide_is_documented(startproject):
    base, path = startproject
    differences: dict[str, set[str]] = {}
    for name, environ in ENVIRONMENTS.items():
        guide = evaluate(base + GUIDE, path, environ)
        moved = evaluate(base + MOVED, path, environ)
        for setting in guide.keys() | moved.keys():
            if guide.get(setting, MISSING) != moved.get(setting, MISSING):
                differences.setdefault(setting, set()).add(name)
    listed = documented()
    assert set(differences) - listed == set(), "differences the docs do not explain"
    assert listed - set(differences) == set(), "rows of the docs that never differ"
    assert len(ENVIRONMENTS) >= 12


def test_the_database_is_the_guide_s_wherever_a_url_is_set(startproject):
    """The connection itself never differs: same parser, same URL, same result."""
    base, path = startproject
    for name, environ in ENVIRONMENTS.items():
        if "DATABASE_URL" not in environ:
            continue
        guide = evaluate(base + GUIDE, path, environ)["DATABASES"]["default"]
        moved = evaluate(base + MOVED, path, environ)["DATABASES"]["default"]
        assert moved == guide, name
