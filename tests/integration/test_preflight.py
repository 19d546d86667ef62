"""`manage.py preflight` against the real services, each up, down and with wrong credentials:
PostgreSQL and MariaDB (and an unapplied migration), Redis (and a password it refuses), an SMTP
server with STARTTLS and AUTH, a broker that is not there and RabbitMQ, Sentry. Every failure
gives its line and exit status 1, and no line shows a secret. The storage servers' probes are
in test_storage_servers.py (the S3 server and Azurite live there)."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import (
    PASSWORD,
    SentrySink,
    django_process,
    free_port,
    missing_service,
    require_service,
    spawn,
    stop_process,
    wait_port,
)
from tests.integration.test_services import smtp_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

PREFLIGHT = """
import io
from django.core.management import call_command
from django.core.management.base import CommandError
exec(os.environ.get("BEFORE", ""))
out, err = io.StringIO(), io.StringIO()
try:
    call_command("preflight", *json.loads(os.environ["ARGS"]), stdout=out, stderr=err)
    code = 0
except CommandError as error:
    code, err = error.returncode, io.StringIO(str(error))
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}))
"""


def preflight(
    environ: Mapping[str, str],
    *args: str,
    before: str = "",
    settings: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, dict[str, Any]], str]:
    """(exit status, {label: result}, everything printed) of preflight --json in a process
    whose settings come from apply(environ)."""
    # No database and a media folder of its own unless the test names them (apply()'s local
    # defaults are files below the project).
    media = quote(tempfile.mkdtemp(prefix="divio-settings-media-"))
    environ = {
        "DATABASE_URL": "sqlite://:memory:",
        "DEFAULT_STORAGE_DSN": f"file://{media}/?url=%2Fmedia%2F",
        **environ,
    }
    result = django_process(
        environ,
        PREFLIGHT,
        settings,
        extra_env={"ARGS": json.dumps(["--json", "--timeout", "5", *args]), "BEFORE": before}
        | dict(extra_env or {}),
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    rows = json.loads(data["out"])
    labels = {f"{row['service']} {row['name']}".strip(): row for row in rows}
    return data["code"], labels, result.stdout + result.stderr


def postgres_url(user: str, db: str, password: str = PASSWORD) -> str:
    return f"postgres://{user}:{quote(password, safe='')}@127.0.0.1:5432/{db}"


def test_postgresql_up_with_its_migrations_applied_then_a_refused_user(postgres):
    user, db = postgres
    environ = {"DATABASE_URL": postgres_url(user, db)}
    code, rows, _ = preflight(environ)
    assert code == 1
    assert rows["database default"]["status"] == "fail"
    assert "unapplied migrations (contenttypes.0001_initial" in rows["database default"]["detail"]
    assert "run 'python manage.py migrate' before preflight" in rows["database default"]["detail"]
    code, rows, _ = preflight(environ, before="call_command('migrate', verbosity=0)")
    assert code == 0, rows
    assert rows["database default"] == {
        **rows["database default"],
        "status": "ok",
        "detail": "SELECT 1, no unapplied migrations",
    }
    # A user the server refuses (this machine's server trusts any password of a known user).
    wrong = {"DATABASE_URL": postgres_url("nobody-here", db, "wr0ng-Passw0rd")}
    code, rows, printed = preflight(wrong)
    assert code == 1
    detail = rows["database default"]["detail"]
    assert detail.startswith("cannot connect or query (OperationalError:")
    assert 'role "nobody-here" does not exist' in detail
    assert detail.endswith("check DATABASE_URL (DATABASES['default']) and that the server is up")
    assert "wr0ng-Passw0rd" not in printed
    assert PASSWORD not in printed


def test_postgresql_down_is_a_failure_within_the_timeout():
    port = free_port()  # nothing listens there
    environ = {"DATABASE_URL": f"postgres://u:s3cret-Pass@127.0.0.1:{port}/db"}
    code, rows, printed = preflight(environ)
    assert code == 1
    assert rows["database default"]["detail"].startswith("cannot connect or query")
    assert rows["database default"]["seconds"] < 5.5
    assert "s3cret-Pass" not in printed


def test_mariadb_unapplied_then_up_with_a_second_database_then_down(mariadb, postgres):
    """A second alias is connected to, but only the database migrate works on is asked for
    its migrations."""
    name, _ = mariadb
    user, db = postgres
    environ = {
        "DATABASE_URL": f"mysql://{name}:{quote(PASSWORD, safe='')}@127.0.0.1:3306/{name}",
        "ALT_DATABASE_DSN": postgres_url(user, db),
    }
    code, rows, _ = preflight(environ)
    assert code == 1
    assert "unapplied migrations (contenttypes.0001_initial" in rows["database default"]["detail"]
    assert rows["database alt"]["detail"] == "SELECT 1"
    code, rows, _ = preflight(environ, before="call_command('migrate', verbosity=0)")
    assert code == 0, rows
    assert rows["database default"]["detail"] == "SELECT 1, no unapplied migrations"
    down = free_port()
    gone = {**environ, "DATABASE_URL": f"mysql://{name}:m4ria-Secret@127.0.0.1:{down}/{name}"}
    code, rows, printed = preflight(gone)
    assert code == 1
    assert rows["database default"]["detail"].startswith("cannot connect or query (")
    assert rows["database alt"]["status"] == "ok"
    assert "m4ria-Secret" not in printed


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[int]:
    """A Redis server of this test's own that requires a password."""
    server = shutil.which("redis-server")
    if server is None:
        missing_service("redis-server is needed for the wrong-password test")
    port = free_port()
    process = spawn(
        [str(server), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--requirepass", "r1ght-Passw0rd", "--dir", str(tmp_path)],
        tmp_path / "redis.log",
    )  # fmt: skip
    try:
        wait_port(port, process)
        yield port
    finally:
        stop_process(process)


def test_redis_up_down_and_a_refused_password(redis_with_password):
    require_service("redis")
    prefix = uuid.uuid4().hex
    code, rows, _ = preflight({"CACHE_URL": f"redis://127.0.0.1:6379/0?key_prefix={prefix}"})
    assert (code, rows["cache default"]["status"]) == (0, "ok")
    down = free_port()
    code, rows, _ = preflight({"CACHE_URL": f"redis://127.0.0.1:{down}/0"})
    assert code == 1
    assert rows["cache default"]["detail"] == (
        f"cannot reach the cache server at 127.0.0.1:{down} (ConnectionError): check CACHE_URL"
    )
    port = redis_with_password
    wrong = f"redis://:wr0ng-Passw0rd@127.0.0.1:{port}/0"
    code, rows, printed = preflight({"CACHE_URL": wrong})
    assert code == 1
    assert rows["cache default"]["detail"] == (
        "the cache server refused the password (AuthenticationError): check CACHE_URL"
    )
    assert "wr0ng-Passw0rd" not in printed
    right = f"redis://:r1ght-Passw0rd@127.0.0.1:{port}/0"
    assert preflight({"CACHE_URL": right})[0] == 0


def test_redis_that_degrades_to_a_miss_is_still_reported_down():
    """?ignore_exceptions=true serves pages without Redis; preflight must not be fooled."""
    down = free_port()
    code, rows, _ = preflight({"CACHE_URL": f"redis://127.0.0.1:{down}/0?ignore_exceptions=true"})
    assert code == 1
    assert rows["cache default"]["detail"].startswith("cannot reach the cache server")


def test_the_cloud_database_cache_without_its_table(postgres):
    user, db = postgres
    environ = {
        "DATABASE_URL": postgres_url(user, db),
        "STAGE": "live",
        "DOMAIN": "site.example.com",
        "SECRET_KEY": "k" * 50,
    }
    code, rows, _ = preflight(environ, before="call_command('migrate', verbosity=0)")
    assert code == 1
    assert rows["cache default"]["detail"].startswith(
        "the database cache's table 'django_dbcache' cannot be used"
    )
    assert "run 'python manage.py createcachetable'" in rows["cache default"]["detail"]
    fixed = "call_command('migrate', verbosity=0); call_command('createcachetable')"
    code, rows, _ = preflight(environ, before=fixed)
    assert code == 0, rows


def test_smtp_login_right_and_wrong_never_sends(smtp_server):  # noqa: F811 (a fixture)
    port, inbox, cert = smtp_server
    right = f"submission://mailer:{quote('pa@ss:w/rd', safe='')}@localhost:{port}"
    tls = {"SSL_CERT_FILE": str(cert)}
    code, rows, printed = preflight({"EMAIL_URL": right}, extra_env=tls)
    assert code == 0, rows
    assert rows["mail default"]["detail"] == f"localhost:{port}, STARTTLS, logged in; nothing sent"
    wrong = f"submission://mailer:wr0ng-Passw0rd@localhost:{port}"
    code, rows, printed = preflight({"EMAIL_URL": wrong}, extra_env=tls)
    assert code == 1
    assert rows["mail default"]["detail"] == (
        f"localhost:{port} refused the login (535): check the user and password in EMAIL_URL"
    )
    assert "wr0ng-Passw0rd" not in printed
    assert "pa@ss" not in printed
    # Not trusting the server's certificate is a TLS failure, said as such.
    code, rows, _ = preflight({"EMAIL_URL": right})
    assert code == 1
    assert rows["mail default"]["detail"].startswith(f"TLS with localhost:{port} failed")
    assert inbox.messages == []


def test_a_broker_that_is_not_there():
    pytest.importorskip("kombu", reason="kombu is a test dependency")
    port = free_port()
    environ = {"DEFAULT_AMQP_BROKER_URL": f"amqp://guest:br0ker-Secret@127.0.0.1:{port}//"}
    code, rows, printed = preflight(environ, "--timeout", "3")
    assert code == 1
    assert rows["broker"]["detail"].startswith(f"the broker 127.0.0.1:{port} cannot be reached (")
    assert rows["broker"]["detail"].endswith("check CELERY_BROKER_URL")
    assert "br0ker-Secret" not in printed


def test_rabbitmq_up_and_a_refused_password():
    pytest.importorskip("kombu", reason="kombu is a test dependency")
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        missing_service("RabbitMQ is not reachable on 127.0.0.1:5672")
    code, rows, _ = preflight({"DEFAULT_AMQP_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"})
    assert code == 0, rows
    assert rows["broker"]["detail"] == "connected to 127.0.0.1:5672"
    wrong = {"DEFAULT_AMQP_BROKER_URL": "amqp://guest:wr0ng-Passw0rd@127.0.0.1:5672//"}
    code, rows, printed = preflight(wrong)
    assert code == 1
    assert "refused the credentials" in rows["broker"]["detail"]
    assert "wr0ng-Passw0rd" not in printed


def test_sentry_reached_and_a_test_event_only_when_asked():
    pytest.importorskip("sentry_sdk", reason="sentry-sdk is an extra")
    sink = SentrySink()
    environ = {"SENTRY_DSN": f"http://publ1cKey@127.0.0.1:{sink.port}/1"}
    try:
        code, rows, _ = preflight(environ)
        assert code == 0, rows
        assert rows["sentry"]["detail"].startswith(f"127.0.0.1:{sink.port} answers (no event")
        assert sink.bodies == []
        code, rows, _ = preflight(environ, "--send-test-event")
        assert code == 0, rows
        assert b"divio-settings preflight: test event" in b"".join(sink.bodies)
    finally:
        sink.close()
    down = free_port()
    code, rows, printed = preflight({"SENTRY_DSN": f"http://publ1cKey@127.0.0.1:{down}/1"})
    assert code == 1
    assert rows["sentry"]["detail"].startswith(f"the DSN's host 127.0.0.1:{down} does not answer")
