"""What Docker would do with `divio-settings init`'s files, without Docker.

A fresh startproject, init, a new virtual environment with the generated requirements (the
package itself from this checkout), the Dockerfile's build steps with an empty environment, the
CMD's server on a free port with the .env-local values pointed at the local database, migrate,
and real HTTP requests for the admin login page and one of its hashed static files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from divio_settings.cli import main
from tests.helpers import LIVE_ENV, PASSWORD, ROOT, free_port, run_tool

pytestmark = [pytest.mark.e2e, pytest.mark.scaffold]


def venv_with_requirements(project: Path) -> Path:
    venv = project / ".venv"
    run_tool([sys.executable, "-m", "venv", str(venv)])
    lines = (project / "requirements.txt").read_text().splitlines()
    # divio-settings[extra]==X.Y.Z -> this checkout, with the same extra.
    requirements = [
        re.sub(r"^divio-settings(\[[\w,]+\])==.*$", rf"{ROOT}\1", line) for line in lines
    ]
    run_tool([venv / "bin" / "pip", "install", "-q", *requirements], timeout=600)
    return venv


def env_local(project: Path, database_url: str, **extra: str) -> dict[str, str]:
    values = dict(line.split("=", 1) for line in (project / ".env-local").read_text().splitlines())
    return {**values, "DATABASE_URL": database_url, **extra}


def cmd_on_port(project: Path, port: int) -> list[str]:
    line = next(
        line
        for line in (project / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD ")
    )
    command = line[4:].replace("0.0.0.0:80", f"127.0.0.1:{port}")
    command = command.replace("--host=0.0.0.0 --port=80", f"--host=127.0.0.1 --port={port}")
    return ["/bin/sh", "-c", command]  # a CMD in shell form, as Docker runs it


def children(pid: int) -> list[str]:
    """The command lines of the processes whose parent is *pid*."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append((stat.parent / "cmdline").read_text().replace("\0", " ").strip())
        except (OSError, IndexError, ValueError):
            continue
    return found


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": "localhost", "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.parametrize("gateway", ["gunicorn", "uvicorn", "uwsgi"])
@pytest.mark.parametrize("database", ["postgres", "mysql"])
def test_scaffolded_project_builds_and_serves(tmp_path, request, database, gateway):
    user, db = request.getfixturevalue({"postgres": "postgres", "mysql": "mariadb"}[database])
    secret = quote(PASSWORD, safe="")
    url = {
        "postgres": f"postgres://{user}:{secret}@127.0.0.1:5432/{db}",
        "mysql": f"mysql://{user}:{secret}@127.0.0.1:3306/{db}",
    }[database]
    project = tmp_path / "site"
    project.mkdir()
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(project)])
    assert main(["init", str(project), "--database", database, "--gateway", gateway]) == 0
    venv = venv_with_requirements(project)
    bin_path = f"{venv / 'bin'}:{os.environ['PATH']}"

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=project,
            env={"PATH": bin_path, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )

    # The wheel built from the checkout has the command, its templates and py.typed.
    packaged = run(
        "python",
        "-c",
        "import divio_settings, pathlib; p = pathlib.Path(divio_settings.__file__).parent; "
        "print((p / 'py.typed').exists(), (p / 'cli' / 'templates' / 'Dockerfile.tmpl').exists(), p)",
        env={},
    )
    assert packaged.stdout.split()[:2] == ["True", "True"], packaged.stdout + packaged.stderr
    assert str(venv) in packaged.stdout
    assert run("divio-settings", "--help", env={}).returncode == 0
    # RUN python manage.py collectstatic --noinput: no variables, no services.
    build = run("python", "manage.py", "collectstatic", "--noinput", env={})
    assert build.returncode == 0, build.stderr
    assert not (project / "db.sqlite3").exists()
    # A release command, then the CMD with the .env-local values (and aldryn-django's worker
    # count, which the CMD honours).
    runtime = env_local(project, url, DJANGO_DEBUG="False", DJANGO_WEB_WORKERS="2")
    migrate = run("python", "manage.py", "migrate", env=runtime)
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    server = subprocess.Popen(
        cmd_on_port(project, port),
        cwd=project,
        env={"PATH": bin_path, **runtime},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, page = get(f"http://127.0.0.1:{port}/admin/login/")
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.2)
        assert status == 200
        # `exec`: the shell gave its process to the server, whose workers are its children.
        workers = children(server.pid)
        assert len(workers) == 2 if gateway == "gunicorn" else len(workers) >= 2, workers
        css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
        assert css, page[:300]
        status, headers, body = get(f"http://127.0.0.1:{port}{css.group(1).decode()}")
        assert status == 200
        assert "immutable" in headers["Cache-Control"]
        assert headers["Content-Encoding"] == "gzip"
    finally:
        server.terminate()
        server.communicate(timeout=10)
    # check --deploy in a simulated live environment is clean for the scaffolded project.
    # (Services named as in the cloud. Django's MySQL backend connects during check: it keeps
    # this machine's server, which DATABASE_URL names, and a variable that names 127.0.0.1
    # means it: no divio_settings.W015 for it, #33.)
    mysql = database == "mysql"
    live = {
        **LIVE_ENV,
        "DATABASE_URL": url if mysql else url.replace("127.0.0.1", "db.example.com"),
        "EMAIL_URL": "submission://u:pa55w0rd@smtp.example.com",
    }
    deploy = run("python", "manage.py", "check", "--deploy", env=live)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "System check identified no issues (0 silenced)." in deploy.stdout, deploy.stderr
    # A Redis CACHE_URL without the redis extra in the requirements init wrote: every page
    # would be a 500; check says so before the deploy (#38, item 6).
    redis = run(
        "python",
        "manage.py",
        "check",
        env={**live, "CACHE_URL": "redis://cache.example.com:6379/0"},
    )
    assert redis.returncode == 1
    assert "(divio_settings.E009) CACHES['default'] is a Redis cache" in redis.stderr
