"""preflight's runner and command, and the health views with their middleware, in process (the
unit test settings: SQLite in memory, local memory caches). The real services' probes are in
tests/integration/test_preflight*.py."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import AsyncClient, Client, override_settings

from divio_settings import redaction
from divio_settings.preflight import Probe, run_all
from divio_settings.preflight.probe import Failed, Skipped
from tests.helpers import free_port

HEALTH = "divio_settings.middleware.HealthMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
COMMON = "django.middleware.common.CommonMiddleware"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_probes_run_at_once_and_a_silent_one_fails_at_the_deadline():
    def slow(timeout: float) -> str:
        time.sleep(3)
        return "late"

    started = time.perf_counter()
    results = run_all(
        [Probe("a", "1", slow), Probe("b", "2", slow), Probe("c", "", lambda t: "fine")], 0.5
    )
    assert time.perf_counter() - started < 1.5  # not 0.5 s per probe, not 3 s
    assert [(r.label, r.status, r.detail) for r in results] == [
        ("a 1", "fail", "no answer within 0.5 s"),
        ("b 2", "fail", "no answer within 0.5 s"),
        ("c", "ok", "fine"),
    ]


def test_a_probe_s_own_words_and_an_unexpected_error_redacted():
    redaction.remember(["Zq8probeSecret"])
    try:

        def failed(timeout: float) -> str:
            raise Failed("it says why")

        def skipped(timeout: float) -> str:
            raise Skipped("nothing to do")

        def crashed(timeout: float) -> str:
            raise RuntimeError("driver said amqp://u:Zq8probeSecret@h/ and\nmore")

        def bare(timeout: float) -> str:
            raise KeyError

        results = run_all(
            [
                Probe("x", "", failed),
                Probe("y", "", skipped),
                Probe("z", "", crashed),
                Probe("w", "", bare),
            ],
            2,
        )
    finally:
        redaction.remember([])
    assert [(r.status, r.detail) for r in results] == [
        ("fail", "it says why"),
        ("skip", "nothing to do"),
        ("fail", "RuntimeError: driver said amqp://u:********@h/ and more"),
        ("fail", "KeyError"),
    ]


@pytest.fixture
def media_root(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path), CACHES=LOCMEM):
        yield tmp_path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("preflight", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


def test_the_command_s_lines_and_summary(media_root):
    code, out, _ = run()
    assert code == 0, out
    lines = out.splitlines()
    assert (
        lines[0]
        == "skip  database default  in-memory SQLite (no DATABASE_URL): nothing to connect to"
    )
    assert lines[1].startswith(
        "ok    media default     wrote, read back and deleted divio-preflight/…; its URL is "
        "served by this site"
    )
    assert lines[1].endswith(" ms)")
    assert lines[2].startswith("ok    cache default     set, get and delete of a probe key (")
    assert lines[3:6] == [
        "skip  mail default      not configured (EMAIL_URL unset; Django's default localhost:25 unchecked)",
        "skip  broker            not configured (DEFAULT_AMQP_BROKER_URL unset, no CELERY_BROKER_URL)",
        "skip  sentry            not configured (SENTRY_DSN unset)",
    ]
    assert lines[-1] == "preflight: 6 services checked, none failed"
    assert list(media_root.iterdir()) == []  # the probe object and its folder are gone


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//",
)
def test_a_failure_is_exit_1_with_json_on_stdout_alone(media_root):
    pytest.importorskip("kombu", reason="kombu is a test dependency")
    code, out, error = run("--json", "--timeout", "2")
    assert code == 1
    rows = json.loads(out)  # stdout is the JSON alone
    assert {row["service"]: row["status"] for row in rows} == {
        "database": "skip",
        "media": "ok",
        "cache": "skip",
        "mail": "skip",
        "broker": "fail",
        "sentry": "skip",
    }
    assert rows[2]["detail"] == "the dummy cache keeps nothing: nothing to check"
    assert error == "preflight: 1 of 6 services failed (broker)"


def mail_settings(backend: str, **options: object) -> dict[str, object]:
    """settings.py's own mail settings: MAILERS on Django 6.1+, EMAIL_* before."""
    if django.VERSION >= (6, 1):
        return {"MAILERS": {"default": {"BACKEND": backend, "OPTIONS": options}}}
    own = {f"EMAIL_{name.upper()}": value for name, value in options.items()}
    return {"EMAIL_BACKEND": backend, **own}


def test_settings_py_s_own_smtp_server_is_checked(media_root):
    port = free_port()
    smtp = mail_settings(SMTP, host="127.0.0.1", port=port)
    with override_settings(**smtp):
        code, out, _ = run("--json")
    rows = {row["service"]: row for row in json.loads(out)}
    assert code == 1
    assert rows["mail"]["detail"] == (
        f"cannot talk to the mail server 127.0.0.1:{port} (Connection refused): check EMAIL_URL"
    )


def test_a_mail_backend_that_is_not_smtp_is_skipped(media_root):
    with override_settings(**mail_settings("django.core.mail.backends.console.EmailBackend")):
        code, out, _ = run("--json")
    rows = {row["service"]: row for row in json.loads(out)}
    assert rows["mail"]["detail"] == (
        "django.core.mail.backends.console.EmailBackend, not SMTP: nothing to connect to"
    )


@pytest.mark.parametrize("timeout", ["0", "-1", "301"])
def test_a_timeout_out_of_range_is_refused(timeout):
    code, _, error = run("--timeout", timeout)
    assert code == 1
    assert error == "--timeout: expected seconds between 0 and 300"


# --- The health views and their middleware ---


def test_alive_and_ready_answer_any_host_over_http_before_the_https_redirect():
    with override_settings(
        MIDDLEWARE=[HEALTH, SECURITY, COMMON], SECURE_SSL_REDIRECT=True, CACHES=LOCMEM
    ):
        client = Client()
        for path, body in (
            ("/-/alive", {"status": "alive"}),
            (
                "/-/ready",
                {"status": "ready", "checks": {"database default": "skip", "cache default": "ok"}},
            ),
        ):
            response = client.get(path, HTTP_HOST="10.0.0.164:11453")
            assert response.status_code == 200, response
            assert response.json() == body
            assert response["Cache-Control"] == "no-store"
        # Any other path of that host is refused as before, over http and https.
        assert client.get("/", HTTP_HOST="10.0.0.164:11453").status_code == 400
        assert client.get("/", HTTP_HOST="10.0.0.164:11453", secure=True).status_code == 400
        assert client.get("/").status_code == 301  # an allowed host: to https


def test_a_probe_on_a_redirect_domain_is_answered_not_redirected():
    redirect = "divio_settings.middleware.DomainRedirectMiddleware"
    with override_settings(
        MIDDLEWARE=[HEALTH, redirect, COMMON],
        CACHES=LOCMEM,
        DIVIO_DOMAIN="example.com",
        DIVIO_DOMAIN_REDIRECTS=["old.example.com"],
    ):
        client = Client()
        assert client.get("/-/alive", HTTP_HOST="old.example.com").status_code == 200
        moved = client.get("/", HTTP_HOST="old.example.com")
        assert (moved.status_code, moved["Location"]) == (302, "http://example.com/")


def test_not_ready_is_a_503_naming_what_failed_with_one_warning_a_minute(caplog):
    from divio_settings import health

    down = free_port()
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache"}
    redis["LOCATION"] = f"redis://:Zq8redisPass@127.0.0.1:{down}/0"
    health._warned["at"] = -health.WARN_EVERY
    pytest.importorskip("redis", reason="the redis package is a test dependency")
    with override_settings(MIDDLEWARE=[HEALTH, COMMON], CACHES={"default": redis}):
        client = Client()
        with caplog.at_level(logging.INFO):
            first = client.get("/-/ready", HTTP_HOST="10.1.2.3")
            second = client.get("/-/ready", HTTP_HOST="10.1.2.3")
    assert first.status_code == second.status_code == 503
    assert first["Cache-Control"] == "no-store"
    assert first.json() == {
        "status": "unavailable",
        "checks": {
            "database default": "skip",
            "cache default": f"cannot reach the cache server at 127.0.0.1:{down} (ConnectionError): check CACHE_URL",
        },
    }
    # No ERROR line per probe (nor an error mail to ADMINS): one WARNING while it lasts.
    records = [(r.name, r.levelname) for r in caplog.records]
    assert ("django.request", "ERROR") not in records
    assert records.count(("divio_settings.health", "WARNING")) == 1
    assert "Zq8redisPass" not in caplog.text + first.content.decode()


def test_without_health_urlpatterns_the_middleware_passes_everything_on():
    with override_settings(MIDDLEWARE=[HEALTH, COMMON], ROOT_URLCONF="tests.urls_plain"):
        client = Client()
        assert client.get("/-/alive", HTTP_HOST="10.1.2.3").status_code == 400
        assert client.get("/-/alive").status_code == 404
        assert client.get("/").content == b"hello testserver"


def test_a_urls_py_that_cannot_be_loaded_is_left_to_django(monkeypatch):
    """The views are looked up again on the next request, and this one goes on to Django
    (which fails on the URLconf as it would without the middleware)."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from divio_settings import middleware as module

    def broken() -> dict[str, object]:
        raise ImportError("urls.py")

    monkeypatch.setattr(module, "health_views", broken)
    middleware = module.HealthMiddleware(lambda request: HttpResponse("on"))
    assert middleware(RequestFactory().get("/-/alive")).content == b"on"
    assert middleware.views is None
    monkeypatch.undo()
    assert json.loads(middleware(RequestFactory().get("/-/alive")).content) == {"status": "alive"}


def test_health_views_under_asgi():
    import asyncio

    async def requests() -> list[int]:
        client = AsyncClient()
        alive = await client.get("/-/alive", headers={"host": "10.1.2.3"})
        ready = await client.get("/-/ready", headers={"host": "10.1.2.3"})
        other = await client.get("/")
        return [alive.status_code, ready.status_code, other.status_code]

    with override_settings(MIDDLEWARE=[HEALTH, COMMON], CACHES=LOCMEM):
        assert asyncio.run(requests()) == [200, 200, 200]


# --- The probes' own words for what the services answer ---


def test_a_media_url_that_answers_an_error_or_nothing():
    import http.server
    import threading

    from divio_settings.preflight.probe import Failed
    from divio_settings.preflight.storage import fetch

    class Broken(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/same":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"other bytes")
                return
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        with pytest.raises(Failed, match="127.0.0.1 answered 500 at the object's URL"):
            fetch(f"http://127.0.0.1:{port}/x", b"probe", 2, "default")
        with pytest.raises(Failed, match="answers the object's URL with other content"):
            fetch(f"http://127.0.0.1:{port}/same", b"probe", 2, "default")
    finally:
        server.shutdown()
        server.server_close()
    closed = free_port()
    with pytest.raises(Failed, match="the object's URL host 127.0.0.1 cannot be reached"):
        fetch(f"http://127.0.0.1:{closed}/x", b"probe", 2, "other")
    assert fetch("/media/divio-preflight/x.txt", b"probe", 2, "default").endswith("not fetched")


def test_sdk_errors_said_by_their_code_never_their_message():
    import enum

    from divio_settings.preflight.storage import said

    class Code(enum.Enum):
        AUTHORIZATION_FAILURE = "AuthorizationFailure"

    class AzureError(Exception):
        error_code = Code.AUTHORIZATION_FAILURE

    class BotoError(Exception):
        response = {"Error": {"Code": "NoSuchBucket"}}

    assert said(AzureError("sig=Zq8secret")) == (
        "the storage answered AuthorizationFailure (the storage refused the credentials)"
    )
    assert said(BotoError("x")) == "the storage answered NoSuchBucket"
    assert said(OSError("disk full\nmore")) == "OSError: disk full"
    assert said(ValueError()) == "ValueError"
    assert said("timed out") == "timed out"


def test_mail_and_cache_failures_in_the_user_s_terms():
    import smtplib
    import ssl

    from divio_settings.preflight.services import mail_failure, where

    host = ("smtp.example.com", 587)
    assert mail_failure(*host, smtplib.SMTPNotSupportedError("STARTTLS")) == (
        "smtp.example.com:587 does not offer STARTTLS: use smtps:// (TLS on port 465) or tls=false"
    )
    assert mail_failure(*host, ssl.SSLError(1, "bad")).startswith("TLS with smtp.example.com:587")
    assert mail_failure(*host, TimeoutError()) == "smtp.example.com:587 did not answer in time"
    refused = ConnectionRefusedError(111, "Connection refused")
    assert mail_failure(*host, refused) == (
        "cannot talk to the mail server smtp.example.com:587 (Connection refused): check EMAIL_URL"
    )
    assert (
        mail_failure(*host, ValueError("x"))
        == "ValueError with the mail server smtp.example.com:587"
    )
    assert where({"LOCATION": "redis://:pw@cache:6380/0"}) == "cache:6380"
    assert where({"LOCATION": ["redis://cache/0", "redis://other/0"]}) == "cache"
    assert where({"LOCATION": "unix:/tmp/sock@cache:11211"}) == "cache:11211"
    assert where({}) == "its LOCATION"


def test_sentry_host_that_does_not_resolve_or_answer():
    from divio_settings.preflight.services import http_answer

    assert http_answer("http://divio-settings-no-such-host.invalid/api/1/envelope/", 3) == (
        "does not resolve"
    )
    closed = free_port()
    assert str(http_answer(f"http://127.0.0.1:{closed}/", 3)).startswith("does not answer (")


def test_the_variable_a_settings_module_failed_on():
    from django.core.exceptions import ImproperlyConfigured

    from divio_settings.cli.project import unset_variable

    assert unset_variable(KeyError("DJANGO_SECRET_KEY"), {}) == "DJANGO_SECRET_KEY"
    assert unset_variable(KeyError("DJANGO_SECRET_KEY"), {"DJANGO_SECRET_KEY": "x"}) is None
    assert unset_variable(KeyError("not a name"), {}) is None
    environ_style = ImproperlyConfigured("Set the API_TOKEN environment variable")
    assert unset_variable(environ_style, {}) == "API_TOKEN"
    assert unset_variable(RuntimeError("boom"), {}) is None


def test_what_a_dockerfile_lacks_for_the_module_it_must_load():
    from divio_settings.cli.keep import compose_lacks, dockerfile_lacks

    ours = "RUN python manage.py collectstatic --noinput\nCMD exec gunicorn mysite.wsgi\n"
    assert dockerfile_lacks(ours, None) == []
    assert dockerfile_lacks(ours, "mysite.settings.production") == [
        "no `ENV DJANGO_SETTINGS_MODULE=mysite.settings.production` (the server would load "
        "manage.py's)"
    ]
    named = "ENV DJANGO_SETTINGS_MODULE=mysite.settings.production \\\n    X=1\n" + ours
    assert dockerfile_lacks(named, "mysite.settings.production") == []
    assert compose_lacks("services:\n  web:\n    env_file: .env-local\n") == []
    assert compose_lacks("services: {}\n") == ["no `env_file: .env-local` for the web service"]
