"""A project of the shape the most used Django project template generates, moved onto
divio-settings end to end: a settings package read through django-environ (base, local,
production), a requirements/ folder, its own Sentry set-up and Celery on Redis.

init, the Dockerfile's install step in a new virtual environment, collectstatic with an empty
environment, migrate on PostgreSQL, the CMD's gunicorn, and `show --changes` compared with the
settings the running server has.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from divio_settings.cli import main
from tests.helpers import (
    LIVE_KEY,
    PASSWORD,
    cloud_env,
    create_bucket,
    free_port,
    get,
    run_tool,
    s3_dsn,
    spawn,
    stop_process,
    wait_port,
)
from tests.image import build, wheelhouse

pytestmark = [pytest.mark.e2e, pytest.mark.projects]

BASE = """
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
USE_TZ = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://localhost:6379/0")
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
"""
LOCAL = """
from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-key-not-for-production")
DEBUG = True
"""
PRODUCTION = """
from .base import *  # noqa: F403
from .base import env

# (moved: the key comes from SECRET_KEY through divio-settings; django-environ's required
# env("DJANGO_SECRET_KEY") would stop the image's build, which has no variables)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True

import sentry_sdk  # noqa: E402

SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_sdk.init(dsn=SENTRY_DSN, traces_sample_rate=0.25, environment="production")
"""
URLS = """
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
"""
MANAGE = """#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
"""
CELERY_APP = """
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
"""
REQUIREMENTS = {
    "base.txt": "django>=5.2\ndjango-environ>=0.11\ncelery[redis]>=5.4\nsentry-sdk>=2\n",
    "local.txt": "-r base.txt\n",
    # As the template pins it: psycopg built from source against libpq (C speed-ups).
    "production.txt": "-r base.txt\ngunicorn==23.0.0\npsycopg[c]>=3.2\n",
}
# What the server reports about its settings, next to what `show --changes` says.
DUMP = """
import json
from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def dump(request):
    body = json.dumps({"report": list(settings.DIVIO_SETTINGS_REPORT)}, default=str)
    return HttpResponse(body, content_type="application/json")


urlpatterns.append(path("dump/", dump))
"""


def write_project(root: Path) -> None:
    files = {
        "manage.py": MANAGE,
        "config/__init__.py": "",
        "config/wsgi.py": WSGI,
        "config/celery_app.py": CELERY_APP,
        "config/urls.py": URLS + DUMP,  # the test's window on the running settings
        "config/settings/__init__.py": "",
        "config/settings/base.py": BASE,
        "config/settings/local.py": LOCAL,
        "config/settings/production.py": PRODUCTION,
        **{f"requirements/{name}": text for name, text in REQUIREMENTS.items()},
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def test_template_project_moves_and_runs(tmp_path, postgres):
    user, db = postgres
    root = tmp_path / "site"
    write_project(root)

    # init: the production module (the WSGI entry point's), the requirements folder.
    assert main(["init", str(root), "--database", "postgres"]) == 0
    production = (root / "config" / "settings" / "production.py").read_text()
    assert production.rstrip().endswith("divio_settings.apply(globals())")
    assert "divio_settings" not in (root / "config" / "settings" / "local.py").read_text()
    assert "media_urlpatterns()" in (root / "config" / "urls.py").read_text()
    dockerfile = (root / "Dockerfile").read_text()
    assert "ENV DJANGO_SETTINGS_MODULE=config.settings.production\n" in dockerfile
    install = re.search(r"^RUN pip install --no-cache-dir -r (\S+)$", dockerfile, re.M)
    assert install
    assert install.group(1) == "requirements/production.txt"
    assert not (root / "requirements.txt").exists()

    # The image, built from what init wrote (psycopg[c] needs the build packages it installs).
    image = build(root, tmp_path / "image", wheelhouse(tmp_path / "wheels"))
    assert "build-essential libpq-dev" in dockerfile
    assert (image.app / "staticfiles" / "staticfiles.json").is_file()
    run = image.run

    # The cloud: Divio's variables, PostgreSQL, the project's Sentry and its old names.
    sink_port = free_port()
    cloud = {
        **cloud_env(user, db),
        # A prefix of its own: a cache left by an earlier run (Wagtail caches renditions by
        # image id, which a new database repeats) must not answer this one.
        "CACHE_URL": f"redis://127.0.0.1:6379/3?key_prefix={uuid.uuid4().hex}",
        "SENTRY_DSN": f"http://key@127.0.0.1:{sink_port}/1",
        "DJANGO_SECRET_KEY": "an-old-name-nobody-reads-any-more-" + "x" * 20,
        "DEFAULT_AMQP_BROKER_URL": "redis://127.0.0.1:6379/4",
    }
    migrate = run("manage.py", "migrate", "--noinput", env=cloud)
    assert migrate.returncode == 0, migrate.stderr
    # Plain checks (what migrate ran) name the old variable.
    assert "divio_settings.W014" in migrate.stderr + migrate.stdout

    with image.server(cloud) as port:
        status, _, page = get(f"http://127.0.0.1:{port}/admin/login/")
        assert status == 200
        css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
        assert css, page[:300]
        _, headers, _ = get(f"http://127.0.0.1:{port}{css.group(1).decode()}")
        assert "immutable" in headers["Cache-Control"]
        runtime = {
            row["setting"]: row
            for row in json.loads(get(f"http://127.0.0.1:{port}/dump/")[2])["report"]
        }

    # show --changes, for the module the runtime loads and the same environment, says what the
    # running server has; the project's own Sentry is kept and said so.
    shown = subprocess.run(
        ["divio-settings", "show", str(image.app), "--changes", "--json"],
        env={**image.env, **cloud},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    changes = json.loads(shown.stdout)
    for row in changes["changed"]:
        assert row["after"] == runtime[row["setting"]]["value"], (row, runtime[row["setting"]])
        assert row["source"] == runtime[row["setting"]]["source"], row["setting"]
    changed = {row["setting"]: row for row in changes["changed"]}
    # base.py's ATOMIC_REQUESTS kept beside DATABASE_URL's connection.
    assert runtime["DATABASES"]["value"]["default"]["ATOMIC_REQUESTS"] is True
    assert changed["CELERY_BROKER_URL"]["before"] == "redis://localhost:6379/0"
    assert changed["SECRET_KEY"]["source"] == "SECRET_KEY"
    assert [row["setting"] for row in changes["kept"]] == ["DIVIO_SENTRY"]
    assert {"variable": "DJANGO_SECRET_KEY", "instead": "SECRET_KEY"} in changes["ignored"]
    for secret in (LIVE_KEY, PASSWORD, quote(PASSWORD, safe=""), "x" * 20):
        assert secret not in shown.stdout


def test_a_uv_project_installs_its_locked_versions(tmp_path, postgres, s3_server):
    """pyproject.toml + uv.lock: init leaves both alone, and the Dockerfile's install step, run
    as written, installs the locked versions with their hashes. This checkout stands in for the
    published package through a local index of its wheel (uv records its hash like PyPI's)."""
    import hashlib

    wheels = wheelhouse(tmp_path / "simple" / "divio-settings")
    wheel = next(wheels.glob("*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (wheels / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>\n')
    port = free_port()
    index = spawn(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        tmp_path / "index.log",
        cwd=tmp_path,
    )
    try:
        wait_port(port, index)
        root = tmp_path / "site"
        root.mkdir()
        run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(root)])
        (root / "pyproject.toml").write_text(
            textwrap.dedent(
                f"""
                [project]
                name = "site"
                version = "1"
                requires-python = ">=3.10"
                dependencies = ["django>=5.2,<6.2", "gunicorn==27.0.1", "divio-settings[postgres,s3]"]

                [tool.uv]
                package = false

                [[tool.uv.index]]
                name = "checkout"
                url = "http://127.0.0.1:{port}/simple"
                explicit = true

                [tool.uv.sources]
                divio-settings = {{ index = "checkout" }}
                """
            ).lstrip()
        )
        tools = tmp_path / "tools"
        run_tool([sys.executable, "-m", "venv", str(tools)])
        run_tool([tools / "bin" / "pip", "install", "-q", "uv"], timeout=600)
        run_tool([tools / "bin" / "uv", "lock", "-q"], cwd=root, timeout=600)
        before = {name: (root / name).read_text() for name in ("pyproject.toml", "uv.lock")}
        assert main(["init", str(root)]) == 0
        assert {name: (root / name).read_text() for name in before} == before
        # The whole image, built from what init wrote; the wheel uv.lock names, hash and all,
        # is the one the build's pip finds.
        image = build(root, tmp_path / "image", wheels)
        installed = image.run("-m", "pip", "freeze", env={}).stdout
        cloud = {
            **cloud_env(*postgres),
            "DEFAULT_STORAGE_DSN": s3_dsn(s3_server, create_bucket(s3_server)),
        }
        assert "migrate" in image.release(cloud)
        with image.server(cloud) as server:
            status, _, page = get(f"http://127.0.0.1:{server}/admin/login/")
            assert status == 200
            assert re.search(rb'href="/static/admin/css/base\.[0-9a-f]{12}\.css"', page)
    finally:
        stop_process(index)
    assert "gunicorn==27.0.1" in installed
    assert re.search(r"(?m)^divio[-_]settings==", installed)
    assert re.search(r"(?m)^psycopg", installed)  # the extra, as locked
