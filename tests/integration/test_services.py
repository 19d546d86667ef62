"""Cache, sessions, email and logging against real services started on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import Inbox, django_process, require_service, self_signed_cert

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url() -> str:
    require_service("redis")
    return f"redis://127.0.0.1:6379/0?key_prefix={uuid.uuid4().hex}"


def test_redis_cache_set_get_expire(redis_url):
    body = """
import time
from django.core.cache import cache
cache.set("k", {"v": 1}, timeout=1)
first = cache.get("k")
time.sleep(1.3)
print(json.dumps([settings.CACHES["default"]["BACKEND"], first, cache.get("k")]))
"""
    result = django_process({"CACHE_URL": redis_url}, body)
    assert json.loads(result.stdout) == [
        "django.core.cache.backends.redis.RedisCache",
        {"v": 1},
        None,
    ]


def test_sessions_in_redis_are_shared_by_two_processes(redis_url):
    write = """
from django.contrib.sessions.backends.cache import SessionStore
store = SessionStore()
store["user"] = "ada"
store.save()
print(store.session_key)
"""
    read = """
from django.contrib.sessions.backends.cache import SessionStore
print(SessionStore(os.environ["KEY"]).get("user"))
"""
    session = {"SESSION_ENGINE": "django.contrib.sessions.backends.cache"}
    key = django_process({"CACHE_URL": redis_url}, write, session).stdout.strip()
    other = django_process({"CACHE_URL": redis_url}, read, session, {"KEY": key})
    assert other.stdout.strip() == "ada"


def test_database_cache_on_postgresql(postgres):
    user, db = postgres
    from tests.helpers import PASSWORD

    environ = {
        "DATABASE_URL": f"postgres://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/{db}",
        "CACHE_URL": "db://django_dbcache",
    }
    body = """
from django.core.management import call_command
from django.core.cache import cache
call_command("createcachetable")
cache.set("shared", "from the first process", 60)
"""
    django_process(environ, body)
    read = "from django.core.cache import cache\nprint(cache.get('shared'))\n"
    assert django_process(environ, read).stdout.strip() == "from the first process"


def test_cloud_default_cache_is_shared_through_postgresql_and_checked_by_migrate(postgres):
    """No CACHE_URL in the cloud: the database cache. Before createcachetable the database
    check that migrate runs says so (E007); after it, two processes share one counter."""
    user, db = postgres
    from tests.helpers import PASSWORD

    environ = {
        "DATABASE_URL": f"postgres://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/{db}",
        "STAGE": "live",
        "DOMAIN": "site.example.com",
        "SECRET_KEY": "k" * 50,
    }
    # The errors migrate's checks stop at (this cloud's database is on 127.0.0.1 and it has
    # no media storage: warnings W015 and W005, which do not stop migrate).
    check = """
from django.core.checks import run_checks, ERROR
found = run_checks(databases=["default"])
print(json.dumps(sorted(m.id for m in found if m.id.startswith("divio_settings.") and m.level >= ERROR)))
"""
    assert json.loads(django_process(environ, check).stdout.splitlines()[-1]) == [
        "divio_settings.E007"
    ]
    body = """
from django.core.management import call_command
from django.core.cache import cache
call_command("createcachetable")
cache.set("counter", 0, 60)
for _ in range(45):
    cache.incr("counter")
"""
    django_process(environ, body)
    django_process(
        environ, body.replace('call_command("createcachetable")\ncache.set("counter", 0, 60)\n', "")
    )
    read = "from django.core.cache import cache\nprint(cache.get('counter'))\n"
    assert django_process(environ, read).stdout.strip() == "90"
    assert json.loads(django_process(environ, check).stdout.splitlines()[-1]) == []


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[int, Inbox, Path]]:
    """aiosmtpd with STARTTLS required and AUTH, on a certificate made for this test."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed_cert(tmp_path, ["localhost"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == b"mailer"
            and data.password == b"pa@ss:w/rd"
        )
        # handled=False: a refusal answers 535, as real servers do (aiosmtpd's default,
        # handled=True, answers nothing and the client waits for its timeout).
        return AuthResult(success=ok, handled=False)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        yield port, inbox, cert
    finally:
        controller.stop()


def test_send_mail_over_starttls_with_credentials(smtp_server):
    port, inbox, cert = smtp_server
    environ = {
        "EMAIL_URL": f"submission://mailer:{quote('pa@ss:w/rd', safe='')}@localhost:{port}?timeout=10",
        "DEFAULT_FROM_EMAIL": "site@example.com",
    }
    body = """
from django.core.mail import send_mail
print(send_mail("Hello", "Body text", None, ["ada@example.com"]))
"""
    result = django_process(environ, body, extra_env={"SSL_CERT_FILE": str(cert)})
    assert result.stdout.strip() == "1"
    deadline = time.monotonic() + 5
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == 1
    assert inbox.messages[0].mail_from == "site@example.com"
    assert inbox.messages[0].rcpt_tos == ["ada@example.com"]
    assert b"Subject: Hello" in inbox.messages[0].content


def test_error_mail_to_admins_is_kept_and_carries_no_secret(smtp_server):
    """apply()'s LOGGING adds its stdout handler next to Django's mail_admins: a site with
    ADMINS receives one error mail per 500, and neither subject nor body shows a secret (the
    broker password is in the exception message, the database password in frame locals)."""
    port, inbox, cert = smtp_server
    environ = {
        "STAGE": "live",
        "DOMAIN": "example.com",
        "SECRET_KEY": "Zq8signingKeyMarker" + "k" * 40,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": "postgres://u:Zq8dbMarker42@127.0.0.1:5432/x",
        "DEFAULT_AMQP_BROKER_URL": "amqp://guest:Zq8brokerMarker@rabbit:5672/",
        "EMAIL_URL": f"submission://mailer:{quote('pa@ss:w/rd', safe='')}@localhost:{port}?timeout=10",
        "SERVER_EMAIL": "errors@example.com",
    }
    body = """
from django.test import Client
client = Client(raise_request_exception=False)
response = client.get("/boom/", HTTP_HOST="example.com")
sys.stderr.write(str(response.status_code))
"""
    result = django_process(
        environ,
        body,
        {"MIDDLEWARE": [], "ADMINS": [["Ops", "ops@example.com"]]},
        extra_env={"SSL_CERT_FILE": str(cert)},
    )
    assert result.stderr.strip().endswith("500")
    deadline = time.monotonic() + 5
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail.rcpt_tos == ["ops@example.com"]
    text = mail.content.decode("utf-8", "replace")
    assert "Internal Server Error: /boom/" in text
    assert "RuntimeError" in text
    for marker in ("Zq8brokerMarker", "Zq8dbMarker42", "Zq8signingKeyMarker", "pa@ss"):
        assert marker not in text, marker
    assert "Zq8brokerMarker" not in result.stdout


def test_wrong_password_is_refused_without_printing_it(smtp_server):
    port, inbox, cert = smtp_server
    environ = {"EMAIL_URL": f"submission://mailer:wrong-s3cret@localhost:{port}?timeout=3"}
    body = """
from django.core.mail import send_mail
send_mail("Hello", "Body", "a@example.com", ["b@example.com"])
"""
    result = django_process(environ, body, extra_env={"SSL_CERT_FILE": str(cert)}, check=False)
    assert result.returncode != 0
    assert "smtplib.SMTPAuthenticationError: (535" in result.stderr
    assert "wrong-s3cret" not in result.stderr
    assert inbox.messages == []


def test_production_500_logged_to_stdout_with_traceback_without_secrets():
    environ = {
        "STAGE": "live",
        "DOMAIN": "example.com",
        "SECRET_KEY": "k" * 50,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": "postgres://u:dbsecret@127.0.0.1:5432/x",
        "DEFAULT_AMQP_BROKER_URL": "amqp://guest:brokersecret@rabbit:5672/",
    }
    body = """
from django.test import Client
client = Client(raise_request_exception=False)
response = client.get("/boom/", HTTP_HOST="example.com")
sys.stderr.write(str(response.status_code))
"""
    result = django_process(environ, body, {"MIDDLEWARE": []})
    assert result.stderr.strip().endswith("500")
    assert "ERROR django.request Internal Server Error: /boom/" in result.stdout
    assert "Traceback (most recent call last)" in result.stdout
    assert "RuntimeError: boom amqp://guest:********@rabbit:5672/" in result.stdout
    assert "brokersecret" not in result.stdout
    assert "dbsecret" not in result.stdout


def test_unknown_hosts_are_one_warning_line_each_without_traceback_or_mail():
    """Scanners send thousands of requests with foreign Host headers: 1,000 of them give 1,000
    log lines at WARNING, no traceback, and no error mail to ADMINS."""
    environ = {
        "STAGE": "live",
        "DOMAIN": "example.com",
        "SECRET_KEY": "k" * 50,
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "memory:",
    }
    body = """
from django.core import mail
from django.test import Client
client = Client()
codes = {client.get("/", HTTP_HOST=f"scanner{i}.example.net").status_code for i in range(1000)}
sys.stderr.write(json.dumps({"codes": sorted(codes), "mails": len(getattr(mail, "outbox", []))}))
"""
    result = django_process(
        environ, body, {"MIDDLEWARE": [], "ADMINS": [["Ops", "ops@example.com"]]}
    )
    assert json.loads(result.stderr.strip().splitlines()[-1]) == {"codes": [400], "mails": 0}
    lines = [
        line for line in result.stdout.splitlines() if "django.security.DisallowedHost" in line
    ]
    assert len(lines) == 1000
    assert all(
        " WARNING django.security.DisallowedHost Invalid HTTP_HOST header" in line for line in lines
    )
    assert len(result.stdout.splitlines()) == 1000
    assert "Traceback" not in result.stdout


def outcome(result: Any) -> list[str]:
    line = next(line for line in result.stdout.splitlines() if line.startswith("OUTCOME"))
    return str(line).split()[1:]


def test_a_redis_outage_degrades_with_ignore_exceptions(tmp_path):
    """A Redis of its own (the machine's stays up for the other tests), stopped mid-way: with
    ?ignore_exceptions=true the page still answers (a miss, the write dropped, one warning); without
    it every cache call fails, as Django's RedisCache does."""
    import shutil

    from tests.helpers import free_port, missing_service, spawn, stop_process, wait_port

    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).is_file():
        missing_service("redis-server is not installed")
    port = free_port()
    command = [server, "--port", str(port), "--save", "", "--appendonly", "no"]
    process = spawn(command, tmp_path / "redis.log", cwd=tmp_path)
    try:
        wait_port(port, process)
        body = """
import socket
from django.core.cache import cache
cache.set("k", "v")
before = cache.get("k")
os.kill(int(os.environ["REDIS_PID"]), 15)
import time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(os.environ["REDIS_PORT"])), 0.1).close()
        time.sleep(0.05)
    except OSError:
        break
try:
    after = cache.get("k", "default")
    written = cache.set("k2", "v2")
    outcome = f"{after} {written} {cache.get_or_set('k3', 'computed')}"
except Exception as error:
    outcome = type(error).__name__
print("OUTCOME", before, outcome)
"""
        url = f"redis://127.0.0.1:{port}/0"
        extra = {"REDIS_PID": str(process.pid), "REDIS_PORT": str(port)}
        result = django_process({"CACHE_URL": url + "?ignore_exceptions=true"}, body, None, extra)
        assert outcome(result) == ["v", "default", "None", "computed"]
        # One warning on the log (stdout), not one per call.
        assert result.stdout.count("Redis cache unreachable") == 1, result.stdout
    finally:
        stop_process(process)
    process = spawn(command, tmp_path / "redis.log", cwd=tmp_path)
    try:
        wait_port(port, process)
        extra = {"REDIS_PID": str(process.pid), "REDIS_PORT": str(port)}
        plain = django_process({"CACHE_URL": f"redis://127.0.0.1:{port}/0"}, body, None, extra)
        assert outcome(plain) == ["v", "ConnectionError"]
    finally:
        stop_process(process)


def test_the_cloud_s_default_database_cache_degrades_to_a_miss(postgres):
    """No CACHE_URL in the cloud: before createcachetable ran, and with the database away, a
    cached page still answers (a miss, the write dropped) with one WARNING line instead of a
    traceback per call; inside a transaction (ATOMIC_REQUESTS) the failed cache query does
    not abort the page's own queries."""
    from tests.helpers import cloud_env

    environ = {**cloud_env(*postgres), "LOG_LEVEL": "INFO"}
    pages = """
from django.core.cache import cache
from django.db import connection, transaction
seen = [cache.get_or_set(f"page-{n}", "rendered", 60) for n in range(20)]
"""
    in_a_transaction = """
with transaction.atomic():
    inside = cache.get("page-0", "miss")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        alive = cursor.fetchone()[0]
print("OUTCOME", set(seen), inside, alive)
"""
    missing = django_process(environ, pages + in_a_transaction)
    assert outcome(missing) == ["{'rendered'}", "miss", "1"]
    assert missing.stdout.count("Database cache unreachable") == 1, missing.stdout
    assert "Traceback" not in missing.stdout + missing.stderr
    away = {**environ, "DATABASE_URL": "postgres://u:pa55w0rd@127.0.0.1:1/none"}
    down = django_process(away, pages + 'print("OUTCOME", set(seen), cache.get("x", "miss"))\n')
    assert outcome(down) == ["{'rendered'}", "miss"]
    assert down.stdout.count("Database cache unreachable") == 1, down.stdout
    assert "Traceback" not in down.stdout + down.stderr


def test_a_visitor_s_typed_password_never_reaches_the_error_mail(smtp_server):
    """A 500 inside a login view before sensitive_post_parameters applies (a rate limiter): the
    error mail to ADMINS shows the form without its password, card or one-time code (#33)."""
    port, inbox, cert = smtp_server
    environ = {
        "STAGE": "live",
        "DOMAIN": "example.com",
        "SECRET_KEY": "k" * 50,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": "sqlite://:memory:",
        "EMAIL_URL": f"submission://mailer:{quote('pa@ss:w/rd', safe='')}@localhost:{port}?timeout=10",
        "SERVER_EMAIL": "errors@example.com",
    }
    body = """
from django.test import Client
client = Client(raise_request_exception=False)
form = {"username": "ada", "password": "Zq8typedPassw0rd", "card_number": "4111111111111111",
        "otp": "492817"}
response = client.post("/boom/", form, HTTP_HOST="example.com")
sys.stderr.write(str(response.status_code))
"""
    result = django_process(
        environ,
        body,
        {"MIDDLEWARE": [], "ADMINS": [["Ops", "ops@example.com"]]},
        extra_env={"SSL_CERT_FILE": str(cert)},
    )
    assert result.stderr.strip().endswith("500")
    deadline = time.monotonic() + 5
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == 1
    text = inbox.messages[0].content.decode("utf-8", "replace")
    assert "username" in text
    assert "ada" in text
    for typed in ("Zq8typedPassw0rd", "4111111111111111", "492817"):
        assert typed not in text, typed
