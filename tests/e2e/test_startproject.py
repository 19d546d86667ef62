"""A fresh `django-admin startproject` with the two lines added, run as a user would."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import django
import pytest

from tests.helpers import LIVE_ENV, LOCAL_ENV, child_env, free_port, tail

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parent.parent.parent


@pytest.fixture
def project(tmp_path: Path, new_project: Callable[[Path], Path]) -> Path:
    """A new project per test (a copy of one startproject): each test is what one user does,
    in any order."""
    path = new_project(tmp_path / "site")
    with open(path / "mysite" / "settings.py", "a") as settings:
        settings.write("\nimport divio_settings\ndivio_settings.apply(globals())\n")
    with open(path / "mysite" / "urls.py", "a") as urls:
        urls.write(
            "\nfrom divio_settings.urls import media_urlpatterns\nurlpatterns += media_urlpatterns()\n"
        )
    return path


def manage(
    project: Path, *args: str, env: Mapping[str, str] = {}
) -> subprocess.CompletedProcess[str]:
    full_env = {**child_env(), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@contextmanager
def server(project: Path, env: Mapping[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=project,
        env={**child_env(), "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            process.terminate()
            raise AssertionError(
                "runserver did not start:\n" + tail(process.communicate(timeout=10)[1])
            )
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.communicate(timeout=10)


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": "localhost", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_build_without_environment_touches_no_database(project):
    """What the Dockerfile runs: no variables, no services."""
    assert manage(project, "check").returncode == 0
    result = manage(project, "collectstatic", "--noinput")
    assert result.returncode == 0, result.stderr
    assert (project / "staticfiles" / "staticfiles.json").exists()
    assert not (project / "db.sqlite3").exists()


def test_live_environment_check_deploy_is_clean(project):
    """Divio's variables plus a mail relay: not one issue, on every Django."""
    env = {**LIVE_ENV, "EMAIL_URL": "submission://apikey:p4ssw0rd@smtp.example.com"}
    result = manage(project, "check", "--deploy", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout


def test_live_environment_without_services_is_warned_not_insecure(project):
    result = manage(project, "check", "--deploy", env=LIVE_ENV)
    output = result.stdout + result.stderr
    found = set(re.findall(r"\((\w+\.[EW]\d+)\)", output))
    # No security.* warning and no cache warning (the cloud gets the shared database cache);
    # on Django 6.1 startproject's console MAILERS backend is flagged (Django's own mail.E001)
    # until EMAIL_URL is set.
    expected = {"mail.E001"} if django.VERSION >= (6, 1) else set()
    assert found == expected, output


def test_live_environment_without_secret_key_refuses_to_start(project):
    env = {key: value for key, value in LIVE_ENV.items() if key != "SECRET_KEY"}
    result = manage(project, "check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY: expected a secret key in a cloud environment" in result.stderr
    assert "OIut5vYvWjI3UQzc" not in result.stderr
    assert "t62LdAvROXgFR14" not in result.stderr


def test_guide_env_local_passes_check(project):
    result = manage(project, "check", env=LOCAL_ENV)
    assert result.returncode == 0, result.stderr


def test_newcomer_migrate_then_runserver(project):
    assert manage(project, "migrate").returncode == 0
    assert (project / "db.sqlite3").exists()
    with server(project, {}) as base:
        status, _, body = get(base + "/admin/login/")
    assert status == 200
    assert b"csrfmiddlewaretoken" in body


def test_hashed_static_file_through_whitenoise(project):
    env = {"DJANGO_DEBUG": "false"}
    assert manage(project, "collectstatic", "--noinput", env=env).returncode == 0
    assert manage(project, "migrate", env=env).returncode == 0
    with server(project, env) as base:
        _, _, page = get(base + "/admin/login/")
        css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
        assert css, page[:500]
        status, headers, body = get(base + css.group(1).decode(), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert "max-age=315360000" in headers["Cache-Control"]
    assert body[:2] == b"\x1f\x8b"


def test_whitenoise_is_loaded_only_where_static_files_are_served(project):
    """shell and a worker (django.setup(), as Celery does) serve no static file and do not import
    WhiteNoise; runserver (with DEBUG on, as a newcomer runs it) serves static files through
    WhiteNoise, not Django's handler. (Commands that run the system checks import it: Django's
    auth check imports every middleware class.)"""
    probe = "import sys; print(sorted(m for m in sys.modules if m.startswith('whitenoise')))"
    result = manage(project, "shell", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    worker = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=project,
        env={**child_env(), "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "mysite.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.strip() == "[]"
    with server(project, {"DJANGO_DEBUG": "true"}) as base:
        status, headers, _ = get(base + "/static/admin/css/base.css")
    assert status == 200
    # WhiteNoise's mark; Django's static view sends no such header.
    assert headers.get("Access-Control-Allow-Origin") == "*"
