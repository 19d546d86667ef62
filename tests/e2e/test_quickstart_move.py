"""A project built from Divio's own quickstart (django-divio-quickstart: startproject plus the
guide's settings glue, its urls.py, Dockerfile, docker-compose.yml with a worker service and
.env-local) moved with `init --keep-docker`: the library's files wired, the project's Docker
files untouched, what they lack said per file, and the DEBUG-only static() of MEDIA_URL
replaced by media_urlpatterns() (#33, item 1)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from divio_settings.cli import main
from tests.helpers import ROOT, child_env
from tests.test_equivalence import GUIDE

pytestmark = pytest.mark.e2e  # in process but for one check run; the layer with coverage

# The quickstart's settings glue (divio/django-divio-quickstart, quickstart/settings.py), with
# STORAGES as its current version writes it: the guide's, as the equivalence test has it.
GLUE = GUIDE
URLS = """from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path('admin/', admin.site.urls),
]

if settings.DEBUG:
    urlpatterns.extend(static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT))
"""
DOCKERFILE = """FROM python:3.11
WORKDIR /app
COPY . /app
RUN apt-get update && apt-get install -y gettext
RUN pip install -r requirements.txt
RUN python manage.py compilemessages
RUN python manage.py collectstatic --noinput
EXPOSE 80
CMD uwsgi --http=0.0.0.0:80 --module=mysite.wsgi
"""
COMPOSE = """version: "2.4"
services:
  web:
    build: "."
    ports:
      - "8000:80"
    volumes:
      - ".:/app:rw"
      - "./data:/data:rw"
    command: python manage.py runserver 0.0.0.0:80
    links:
      - "database_default"
    env_file: .env-local
  celeryworker:
    build: "."
    command: celery -A mysite worker
  database_default:
    image: postgres:13.5-alpine
    environment:
      POSTGRES_DB: "db"
      POSTGRES_HOST_AUTH_METHOD: "trust"
      SERVICE_MANAGER: "fsm-postgres"
"""
ENV_LOCAL = """DATABASE_URL=postgres://postgres@database_default:5432/db
DEFAULT_STORAGE_DSN=file:///data/media/?url=%2Fmedia%2F
DJANGO_DEBUG=True
DOMAIN_ALIASES=localhost, 127.0.0.1
SECURE_SSL_REDIRECT=False
"""
REQUIREMENTS = """django>=5.2
dj-database-url
django-storage-url
whitenoise
boto3
psycopg2
uwsgi
"""


@pytest.fixture
def quickstart(tmp_path: Path, new_project: Callable[[Path], Path]) -> Path:
    root = new_project(tmp_path / "quickstart")
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + GLUE)
    (root / "mysite" / "urls.py").write_text(URLS)
    for name, text in (
        ("Dockerfile", DOCKERFILE),
        ("docker-compose.yml", COMPOSE),
        (".env-local", ENV_LOCAL),
        ("requirements.txt", REQUIREMENTS),
    ):
        (root / name).write_text(text)
    return root


DOCKER_FILES = ("Dockerfile", "docker-compose.yml", ".env-local")


def test_init_keeps_the_quickstart_s_docker_files_and_wires_the_rest(quickstart, capsys):
    root = quickstart
    before = {name: (root / name).read_bytes() for name in DOCKER_FILES}
    # Without the flag: refused, naming the way to keep them.
    assert main(["init", str(root)]) == 1
    assert "--keep-docker" in capsys.readouterr().err
    assert main(["init", str(root), "--keep-docker"]) == 0
    out = capsys.readouterr().out
    assert {name: (root / name).read_bytes() for name in DOCKER_FILES} == before
    assert "kept Dockerfile: nothing missing" in out
    assert "kept docker-compose.yml: nothing missing" in out
    assert "kept .env-local: nothing missing" in out
    assert "urls.py: replaced `if settings.DEBUG: … static(settings.MEDIA_URL, …)` (line 10)" in out
    settings = (root / "mysite" / "settings.py").read_text()
    assert settings.rstrip().endswith("divio_settings.apply(globals())")
    urls = (root / "mysite" / "urls.py").read_text()
    assert "static(settings.MEDIA_URL" not in urls
    assert "urlpatterns += media_urlpatterns()" in urls
    assert "divio-settings" in (root / "requirements.txt").read_text()
    # Locally, without DEFAULT_STORAGE_DSN, the quickstart's own STORAGES['default'] would fail
    # every upload (NotImplementedError): check says so, with the fix (#33, item 4).
    env = {**child_env(), "PYTHONPATH": str(ROOT), "DJANGO_DEBUG": "True"}

    def check() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "manage.py", "check"]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)

    refused = check()
    assert refused.returncode == 1
    assert (
        "(divio_settings.E008) STORAGES['default'] names mysite.settings.DefaultStorageClass"
        in refused.stderr
    )
    assert "HINT: Remove STORAGES['default'] (and its class) from settings.py" in refused.stderr
    settings_file = root / "mysite" / "settings.py"
    text = settings_file.read_text()
    text = text.replace("    'default': {'BACKEND': 'mysite.settings.DefaultStorageClass'},\n", "")
    settings_file.write_text(text)
    assert check().returncode == 0, check().stderr[-2000:]  # the hint's fix is enough


def test_keep_docker_says_what_a_dockerfile_lacks(quickstart, capsys):
    root = quickstart
    (root / "Dockerfile").write_text(
        "FROM python:3.11\nCOPY . /app\nRUN pip install -r requirements.txt\n"
    )
    (root / ".env-local").write_text("DEBUG=True\n")
    assert main(["init", str(root), "--keep-docker"]) == 0
    out = capsys.readouterr().out
    assert (
        "kept Dockerfile: no `RUN python manage.py collectstatic --noinput` (static files at "
        "build); no CMD that starts a server on port 80 (gunicorn, uvicorn, uwsgi)"
    ) in out
    assert "kept .env-local: no DATABASE_URL; no DEFAULT_STORAGE_DSN; no DOMAIN_ALIASES" in out


def test_another_static_of_media_url_is_named_not_replaced(quickstart, capsys):
    urls = quickstart / "mysite" / "urls.py"
    urls.write_text(
        URLS.replace(
            "if settings.DEBUG:\n    urlpatterns.extend(",
            "urlpatterns += [] + (",
        )
    )
    assert main(["init", str(quickstart), "--keep-docker"]) == 0
    out = capsys.readouterr().out
    assert (
        "urls.py line 10 serves MEDIA_URL with static(): media_urlpatterns() does the same" in out
    )
    assert "static(settings.MEDIA_URL" in urls.read_text()
