"""The leak hunt: a distinct marker in every secret-bearing variable, two deployed projects (under
gunicorn: one with DEBUG off, one with DJANGO_DEBUG on a test stage), Sentry pointed at a local
sink, a real SMTP server, and every failure we can cause: two databases down, the storage SDK
missing, an SMTP server refusing the login, the cache down, a template error, a 404. No marker
may appear in any page, header, log line, mail, Sentry envelope or command output.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import (
    ROOT,
    Inbox,
    SentrySink,
    child_env,
    free_port,
    run_tool,
    spawn,
    stop_process,
    wait_port,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.production,
    # aiosmtpd leaves a closed connection's writer to the garbage collector when it stops.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    # Plain AUTH is what this local test server is for; aiosmtpd warns on every connection.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

# Each marker's head is a distinctive run of letters and digits that every escaped spelling
# (HTML, repr, JSON, libpq's conninfo, percent-encoding) keeps as it is; the characters after it
# make those spellings differ from the raw value, and base64 spellings are searched for too.
SPECIALS = "&<>\"'\\ @:/#+%?é"
MARKERS = {
    "SECRET_KEY": "Zq8mKeySigning0001",
    "SECRET_KEY_FALLBACKS": "Zq8mKeyFallback0002" + SPECIALS.replace(",", ""),
    "DATABASE_URL": "Zq8mDbDefault0003" + SPECIALS,
    "ALT_DATABASE_DSN": "Zq8mDbAlt0004" + SPECIALS,
    "DEFAULT_STORAGE_DSN": "Zq8mStorage0005",
    "CACHE_URL": "Zq8mCache0006",
    "SESSIONS_CACHE_URL": "Zq8mCacheQuery0007",
    "EMAIL_URL": "Zq8mSmtp0008" + SPECIALS.replace("é", ""),  # smtplib sends ASCII only
    "DEFAULT_AMQP_BROKER_URL": "Zq8mBroker0009",
    "SENTRY_DSN": "Zq8mSentryKey0010",
}
REFUSED = "Zq8mSmtpRefused0011" + SPECIALS.replace("é", "")  # the debug deployment's SMTP password
USERS = {"DATABASE_URL": "site", "ALT_DATABASE_DSN": "alt", "EMAIL_URL": "mailer"}
DOMAIN = "leaks.example.test"


def q(text: str) -> str:
    return quote(text, safe="")


def leaked(marker: str, user: str | None, text: str) -> bool:
    """Whether *text* holds *marker* in any spelling: its head (every escaped spelling keeps
    it), or base64 of it, of user:marker (HTTP Basic) or of \\0user\\0marker (SMTP AUTH PLAIN)."""
    import base64

    head = re.match(r"[A-Za-z0-9]+", marker).group(0)  # type: ignore[union-attr]
    sent = [marker] + ([f"{user}:{marker}", f"\0{user}\0{marker}"] if user else [])
    encoded = [base64.b64encode(form.encode()).decode() for form in sent]
    return head in text or any(form in text for form in encoded)


VIEWS = """
from django.conf import settings
from django.core.cache import cache, caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import connections
from django.http import HttpResponse
from django.template import engines
from django.urls import path


def databases(request):
    for alias in ("default", "alt"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    return HttpResponse("ok")


def storage(request):
    default_storage.save("x.txt", ContentFile(b"x"))
    return HttpResponse("ok")


def mail(request):
    send_mail("hello", "body", "site@leaks.example.test", ["someone@example.test"])
    return HttpResponse("ok")


def cached(request):
    cache.set("k", "v")
    caches["sessions"].get("k")
    return HttpResponse("ok")


def template(request):
    engine = engines["django"]
    return HttpResponse(engine.from_string("{% if %}broken{% endif %}").render({}))


def broker(request):
    raise RuntimeError("cannot reach " + settings.CELERY_BROKER_URL)


def missing(request):
    from django.http import Http404

    raise Http404("no object at " + settings.DATABASES["default"]["PASSWORD"])


urlpatterns += [path("databases/", databases), path("storage/", storage), path("mail/", mail),
                path("cached/", cached), path("template/", template), path("broker/", broker),
                path("missing/", missing)]
"""
FAILURES = (
    "/databases/",
    "/storage/",
    "/mail/",
    "/cached/",
    "/template/",
    "/broker/",
    "/nowhere/",
    "/missing/",
)


@pytest.fixture(scope="module")
def hunt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pytest.importorskip("gunicorn")
    pytest.importorskip("sentry_sdk")
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    tmp = Path(tempfile.mkdtemp(prefix="divio-settings-leaks-"))
    sink = SentrySink()
    inbox = Inbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        # The deployed project's password is accepted; the debug project's (another) refused.
        ok = isinstance(data, LoginPassword) and data.password == MARKERS["EMAIL_URL"].encode()
        return AuthResult(success=ok)

    smtp_port = free_port()
    smtp = Controller(
        inbox,
        hostname="127.0.0.1",
        port=smtp_port,
        auth_required=True,
        auth_require_tls=False,
        authenticator=authenticator,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        smtp.start()
    # The storage SDK "missing": a boto3 that cannot be imported, first on the path.
    shadow = tmp / "shadow" / "boto3"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('boto3 is not installed')\n")
    project = tmp / "site"
    project.mkdir()
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(project)])
    settings = project / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nADMINS = [('Ops', 'ops@example.test')]\n"
        + "import divio_settings\ndivio_settings.apply(globals())\n"
    )
    urls = project / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + VIEWS)
    closed = free_port()  # nothing listens: databases and caches are "down"
    m = MARKERS
    base = {
        **child_env(),
        "PYTHONPATH": f"{tmp / 'shadow'}:{ROOT}",
        "DOMAIN": DOMAIN,
        "SECURE_SSL_REDIRECT": "false",
        "SECRET_KEY": m["SECRET_KEY"] + "-" + "k" * 30,
        "SECRET_KEY_FALLBACKS": m["SECRET_KEY_FALLBACKS"] + "-" + "f" * 30,
        "DATABASE_URL": f"postgres://site:{q(m['DATABASE_URL'])}@127.0.0.1:{closed}/site",
        "ALT_DATABASE_DSN": f"postgres://alt:{q(m['ALT_DATABASE_DSN'])}@127.0.0.1:{closed}/alt",
        "DEFAULT_STORAGE_DSN": f"s3://AKIAKEY:{m['DEFAULT_STORAGE_DSN']}@bucket.s3.amazonaws.com/?domain=media.example.test",
        "CACHE_URL": f"redis://:{m['CACHE_URL']}@127.0.0.1:{closed}/0",
        "SESSIONS_CACHE_URL": f"redis://127.0.0.1:{closed}/1?password={m['SESSIONS_CACHE_URL']}",
        "EMAIL_URL": f"smtp://mailer:{q(m['EMAIL_URL'])}@127.0.0.1:{smtp_port}?timeout=10",
        "SERVER_EMAIL": "errors@leaks.example.test",
        "DEFAULT_AMQP_BROKER_URL": f"amqp://guest:{m['DEFAULT_AMQP_BROKER_URL']}@127.0.0.1:{closed}//",
        "SENTRY_DSN": f"http://{m['SENTRY_DSN']}@127.0.0.1:{sink.port}/1",
        "LOG_LEVEL": "INFO",
    }
    # The debug deployment reads four of its secrets from files (<VARIABLE>_FILE, the Docker
    # and Kubernetes secrets convention): the same markers must stay inside.
    folder = tmp / "secrets"
    folder.mkdir()
    from_files = {}
    for name in ("SECRET_KEY", "DATABASE_URL", "DEFAULT_STORAGE_DSN", "CACHE_URL"):
        (folder / name.lower()).write_text(base[name] + "\n")
        from_files[f"{name}_FILE"] = str(folder / name.lower())
    deployments = {
        "live": {**base, "STAGE": "live"},
        # A test stage with the debug page, and an SMTP password the server refuses.
        "debug": {
            **{name: value for name, value in base.items() if f"{name}_FILE" not in from_files},
            **from_files,
            "STAGE": "test",
            "DJANGO_DEBUG": "true",
            "EMAIL_URL": f"smtp://mailer:{q(REFUSED)}@127.0.0.1:{smtp_port}?timeout=10",
        },
    }
    run_tool([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=project, env=base)
    processes, ports = {}, {}
    try:
        for name, env in deployments.items():
            ports[name] = free_port()
            processes[name] = spawn(
                [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{ports[name]}"]
                + ["mysite.wsgi"],
                tmp / f"{name}.log",
                cwd=project,
                env=env,
            )
            wait_port(ports[name], processes[name])
        yield {
            "tmp": tmp,
            "project": project,
            "ports": ports,
            "deployments": deployments,
            "sink": sink,
            "inbox": inbox,
        }
    finally:
        for process in processes.values():
            stop_process(process)
        smtp.stop()
        sink.close()


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Host": DOMAIN})
        response = connection.getresponse()
        headers = "\n".join(f"{k}: {v}" for k, v in response.getheaders())
        return response.status, headers + "\n\n" + response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_no_marker_leaves_through_any_exit(hunt):
    channels: dict[str, list[str]] = {"pages": [], "logs": [], "mail": [], "sentry": [], "cli": []}
    statuses = {}
    for name, port in hunt["ports"].items():
        for path in FAILURES:
            status, text = get(port, path)
            statuses[(name, path)] = status
            channels["pages"].append(text)
    # Every failure really failed, on both deployments (the debug one shows Django's pages, and
    # its cache and storage fail only if their _FILE secrets were read: else locmem and files);
    # the live deployment's SMTP login is accepted, so its mail goes out, carrying a secret-free
    # body, while the debug deployment's login is refused.
    expected = {(name, path): 500 for name in hunt["ports"] for path in FAILURES}
    expected |= {(name, path): 404 for name in hunt["ports"] for path in ("/nowhere/", "/missing/")}
    expected[("live", "/mail/")] = 200
    assert statuses == expected
    debug_page = next(t for t in channels["pages"] if "Traceback" in t and "smtplib" in t)
    assert "Local vars" in debug_page or "local vars" in debug_page.lower()
    for name in hunt["ports"]:
        for command in (["show", str(hunt["project"]), "--json"], ["check"], ["release-commands"]):
            result = run_tool(
                [sys.executable, "-m", "divio_settings", *command],
                env=hunt["deployments"][name],
            )
            channels["cli"].append(result.stdout + result.stderr)
        for args in (["preflight"], ["preflight", "--json", "--timeout", "3"]):
            result = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=hunt["project"],
                env=hunt["deployments"][name],
                capture_output=True,
                text=True,
                timeout=120,
            )
            # Its services are down or refuse on purpose: every probe's failure line is read.
            assert result.returncode == 1, result.stderr[-2000:]
            assert "database" in result.stdout
            assert "fail" in result.stdout.lower()
            channels["cli"].append(result.stdout + result.stderr)
    deadline = time.monotonic() + 15
    while len(hunt["inbox"].messages) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # the last envelopes and mails
    channels["mail"] = [m.content.decode("utf-8", "replace") for m in hunt["inbox"].messages]
    channels["sentry"] = [b.decode("utf-8", "replace") for b in hunt["sink"].bodies]
    channels["logs"] = [(hunt["tmp"] / f"{name}.log").read_text() for name in hunt["ports"]]
    # Each channel carried the failures (else finding no marker would prove nothing).
    # One error mail per 500 of the live deployment, and the mail the /mail/ view sent.
    assert len(channels["mail"]) >= 6
    assert any("RuntimeError" in body for body in channels["sentry"])
    assert any("Internal Server Error: /databases/" in log for log in channels["logs"])
    planted = [(marker, USERS.get(name)) for name, marker in MARKERS.items()]
    leaks = [
        (channel, marker[:19], text[max(0, text.find(marker[:8]) - 80) :][:200])
        for channel, texts in channels.items()
        for marker, user in [*planted, (REFUSED, "mailer")]
        for text in texts
        if leaked(marker, user, text)
    ]
    assert leaks == []
