"""Shapes of real projects the other tests do not cover, moved as a new user would (#36): a
settings package whose manage.py and wsgi.py name no settings module, with `ALLOWED_HOSTS = ['*']`,
cookies without Secure and private S3 media with signed URLs. The move must never widen access
and the image init writes must boot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from divio_settings.cli import main
from tests.helpers import LIVE_KEY, ROOT, child_env, dockerfile_server, run_tool

pytestmark = [pytest.mark.e2e, pytest.mark.projects]

BASE = """
import os
ALLOWED_HOSTS = os.getenv("ALLOWED_HOSTS", "*").split(",")
SESSION_COOKIE_SECURE = False
AWS_STORAGE_BUCKET_NAME = os.getenv("AWS_STORAGE_BUCKET_NAME", "private-bucket")
AWS_DEFAULT_ACL = "private"
AWS_QUERYSTRING_AUTH = True
"""
PUBLIC_S3 = "s3://AKIAEXAMPLE:c2VjcmV0%2Bvalue@media.example.com.s3.amazonaws.com/"
CLOUD = {"DOMAIN": "site.example.com", "STAGE": "live", "SECRET_KEY": LIVE_KEY}


@pytest.fixture
def package_project(tmp_path: Path) -> Path:
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(tmp_path)])
    package = tmp_path / "mysite" / "settings"
    package.mkdir()
    base = (tmp_path / "mysite" / "settings.py").read_text()
    base = base.replace(".parent.parent", ".parent.parent.parent") + BASE
    (package / "base.py").write_text(base)
    (tmp_path / "mysite" / "settings.py").unlink()
    (package / "__init__.py").write_text("")
    (package / "production.py").write_text("from .base import *  # noqa\n")
    for name in ("manage.py", "mysite/wsgi.py", "mysite/asgi.py"):
        path = tmp_path / name
        lines = path.read_text().splitlines()
        path.write_text("\n".join(line for line in lines if "DJANGO_SETTINGS_MODULE" not in line))
    return tmp_path


def manage(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env={**child_env(), "PYTHONPATH": ROOT, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_settings_package_that_names_no_module_moves_without_widening_access(
    package_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = package_project
    assert main(["init", str(root), "--settings", "mysite.settings.production"]) == 0, (
        capsys.readouterr().err
    )
    dockerfile = (root / "Dockerfile").read_text()
    image_env = dict(re.findall(r"^ENV (\w+)=(\S+)$", dockerfile, re.M))
    assert image_env["DJANGO_SETTINGS_MODULE"] == "mysite.settings.production"
    env = {**image_env, **CLOUD}
    # The build: collectstatic with the image's variables only.
    build = manage(root, image_env, "collectstatic", "--noinput")
    assert build.returncode == 0, build.stderr

    # Private media: a public DSN is refused, naming why; the private spelling is accepted.
    refused = manage(root, {**env, "DEFAULT_STORAGE_DSN": PUBLIC_S3}, "check")
    assert refused.returncode == 1
    assert "expected a private storage DSN, since settings.py's media are private" in (
        refused.stderr
    )
    assert "c2VjcmV0" not in refused.stderr
    env["DEFAULT_STORAGE_DSN"] = PUBLIC_S3 + "?acl=private&qs_auth=true"
    env["DATABASE_URL"] = f"sqlite:///{root / 'db.sqlite3'}"
    check = manage(root, env, "check")
    assert check.returncode == 0, check.stderr
    assert "divio_settings.W017" in check.stderr  # SESSION_COOKIE_SECURE = False, named
    assert "divio_settings.W004" not in check.stderr
    # The release commands the command prints, as the release phase runs them.
    printed = subprocess.run(
        [sys.executable, "-m", "divio_settings", "release-commands", str(root)],
        env={**child_env(), "PYTHONPATH": ROOT, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert printed[:2] == ["python manage.py createcachetable", "python manage.py migrate"]
    for line in printed[:2]:
        result = manage(root, env, *line.split()[2:])
        assert result.returncode == 0, result.stderr

    # The image's server boots with the image's DJANGO_SETTINGS_MODULE, and '*' is gone.
    python_bin = str(Path(sys.executable).parent)
    server_env = {**child_env(), **env, "PYTHONPATH": ROOT}
    server_env["PATH"] = f"{python_bin}:{server_env['PATH']}"
    with dockerfile_server(dockerfile, root, server_env) as port:
        assert status(port, "site.example.com") == 200
        assert status(port, "attacker.example.net") == 400


def status(port: int, host: str) -> int:
    """The status of GET /admin/login/ with *host*, as behind Divio's TLS-ending proxy."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(
            "GET", "/admin/login/", headers={"Host": host, "X-Forwarded-Proto": "https"}
        )
        return connection.getresponse().status
    finally:
        connection.close()


GETENV = """
DEBUG = os.getenv("DEBUG", "False") == "True"
ALLOWED_HOSTS = os.getenv("ALLOWED_HOSTS", "*").split(",")
CSRF_COOKIE_SECURE = False
STATICFILES_DIRS = [BASE_DIR / "assets"]
"""


def test_a_getenv_settings_py_with_docker_files_in_a_subfolder_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """settings.py full of os.getenv reads, its Dockerfile and compose file in docker/, a pin the
    library cannot install beside, a stylesheet naming a source map it never shipped."""
    root = tmp_path
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(root)])
    settings = root / "mysite" / "settings.py"
    settings.write_text("import os\n" + settings.read_text() + GETENV)
    (root / "assets" / "css").mkdir(parents=True)
    (root / "assets" / "css" / "site.css").write_text(
        "body { color: red; }\n/*# sourceMappingURL=site.css.map */\n"
    )
    (root / "requirements.txt").write_text("Django>=5.2\ndj-database-url==2.2.0\n")
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text(
        "FROM python:3.12\nCOPY . /app\nRUN pip install -r requirements.txt\n"
        "RUN python manage.py compress --force\n"
    )
    (root / "docker" / "compose.yml").write_text(
        "services:\n  web:\n    build: ..\n  worker:\n    command: celery -A mysite worker\n"
    )

    assert main(["init", str(root)]) == 1
    assert "requirements.txt pins dj-database-url==2.2.0" in capsys.readouterr().err
    (root / "requirements.txt").write_text("Django>=5.2\ndj-database-url>=3.1\n")
    assert main(["init", str(root)]) == 1
    err = capsys.readouterr().err
    assert "docker/Dockerfile: RUN python manage.py compress --force" in err
    assert "docker/compose.yml: service worker" in err
    assert not (root / "Dockerfile").exists()
    assert main(["init", str(root), "--force"]) == 0
    assert "not carried over: docker/compose.yml: service worker" in capsys.readouterr().out

    # The build passes, as it did with Django's plain storage, and names the missing map.
    dockerfile = (root / "Dockerfile").read_text()
    image_env = dict(re.findall(r"^ENV (\w+)=(\S+)$", dockerfile, re.M))
    build = manage(root, image_env, "collectstatic", "--noinput")
    assert build.returncode == 0, build.stderr
    assert "css/site.css references site.css.map, which does not exist" in build.stdout + (
        build.stderr
    )
    env = {**image_env, **CLOUD, "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}"}
    check = manage(root, env, "check")
    assert "divio_settings.W017" in check.stderr, check.stderr
    for line in ("createcachetable", "migrate"):
        result = manage(root, env, line)
        assert result.returncode == 0, result.stderr
    python_bin = str(Path(sys.executable).parent)
    server_env = {**child_env(), **env, "PYTHONPATH": ROOT}
    server_env["PATH"] = f"{python_bin}:{server_env['PATH']}"
    with dockerfile_server(dockerfile, root, server_env) as port:
        assert status(port, "site.example.com") == 200
        assert status(port, "attacker.example.net") == 400  # settings.py's '*' left out
