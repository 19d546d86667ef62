"""Three instances (gunicorn, 2 workers each) behind nginx's round robin, as a cloud environment
runs them, configured with Divio's variables and no CACHE_URL: shared state must hold by default.

PostgreSQL is the local service (a database of the test's own), media an S3-compatible server
(moto). Everything listens on 127.0.0.1; every loop has a fixed count and a timeout.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from divio_settings.redaction import fingerprint
from tests.helpers import (
    ROOT,
    child_env,
    create_bucket,
    free_port,
    missing_service,
    nginx_http,
    require_service,
    run_tool,
    s3_dsn,
    self_signed_cert,
    spawn,
    start_nginx,
    stop_process,
    wait_port,
)

pytestmark = [pytest.mark.e2e, pytest.mark.production]

DOMAIN = "shared.example.test"
KEY = "Instances-share-this-key-Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4sM"
OTHER_KEY = "A-typo-in-one-environment-Lw0pX7vB2nR8tY5uJ1cH6gD4sMZf3kq9"
PASSWORD = "adm!n p@ss"
VIEWS = """
from django.contrib import messages
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

PAGE = engines["django"].from_string(
    "<form method=post>{% csrf_token %}</form>"
    "{% for m in messages %}<p class=msg>{{ m }}</p>{% endfor %}"
)


def flash(request):
    if request.method == "POST":
        messages.success(request, "saved " + request.POST.get("n", ""))
        return redirect("/flash/")
    return HttpResponse(PAGE.render({}, request))


@csrf_exempt
def count(request):
    cache.add("counter", 0, 600)
    return JsonResponse({"value": cache.incr("counter")})


def counted(request):
    return JsonResponse({"value": cache.get("counter")})


def limited(request):
    key = "limit:" + request.GET["who"]
    cache.add(key, 0, 60)
    if cache.incr(key) > 10:  # ten per minute, whatever process answers
        return HttpResponse("slow down", status=429)
    return HttpResponse("ok")


@csrf_exempt
def upload(request):
    name = default_storage.save("same name.txt", ContentFile(request.body))
    return JsonResponse({"name": name})


def read(request):
    with default_storage.open(request.GET["name"]) as handle:
        return HttpResponse(handle.read())


def users(request):
    from django.contrib.auth.models import User

    return JsonResponse({"users": User.objects.count()})


urlpatterns += [path("flash/", flash), path("count/", count), path("counted/", counted),
                path("limited/", limited), path("upload/", upload), path("read/", read),
                path("users/", users)]
"""


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.project = tmp / "site"
        self.env: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self.processes: dict[str, Any] = {}
        self.cert = tmp / "cert.pem"
        self.key: tuple[Path, Path] = (self.cert, self.cert)
        self.database = ""

    def start_instance(self, name: str, env: dict[str, str]) -> None:
        port = self.ports[name] = self.ports.get(name) or free_port()
        self.processes[name] = spawn(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "mysite.wsgi"],
            self.tmp / f"instance-{name}.log",
            cwd=self.project,
            env=env,
        )
        wait_port(port, self.processes[name])

    def log(self, name: str) -> str:
        return (self.tmp / f"instance-{name}.log").read_text()

    def request(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        port: int | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        context = ssl.create_default_context(cafile=str(self.cert))
        context.check_hostname = False
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port or self.ports["https"], context=context, timeout=30
        )
        try:
            connection.request(
                method, path, body=body or None, headers={"Host": DOMAIN, **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


def nginx_conf(
    cluster: Cluster, key: Path, upstreams: list[int], prefix: Path | None = None, port: int = 0
) -> str:
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in upstreams)
    prefix = prefix or cluster.tmp / "nginx"
    return nginx_http(
        prefix,
        f"""  upstream app {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port or cluster.ports["https"]} ssl;
    ssl_certificate {cluster.cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://app;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}""",
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_service("postgresql")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        missing_service("nginx is needed for the many-instances end-to-end tests")
    pytest.importorskip("gunicorn")
    pytest.importorskip("moto.server")
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="divio-settings-instances-"))
    tmp.chmod(0o755)
    c = Cluster(tmp)
    stoppers: list[Any] = [lambda: shutil.rmtree(tmp, ignore_errors=True)]
    database = f"ds_{uuid.uuid4().hex[:12]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    stoppers.append(drop)
    c.database = database
    try:
        s3_port = free_port()
        moto = spawn(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
            tmp / "moto.log",
        )
        stoppers.append(lambda: stop_process(moto))
        wait_port(s3_port, moto)
        bucket = create_bucket(f"http://127.0.0.1:{s3_port}")
        c.project.mkdir()
        run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(c.project)])
        settings = c.project / "mysite" / "settings.py"
        settings.write_text(
            settings.read_text() + "\nimport divio_settings\ndivio_settings.apply(globals())\n"
        )
        urls = c.project / "mysite" / "urls.py"
        urls.write_text(urls.read_text() + VIEWS)
        c.env = {
            **child_env(),
            "PYTHONPATH": str(ROOT),
            "STAGE": "live",
            "DOMAIN": DOMAIN,
            "SECRET_KEY": KEY,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "DEFAULT_STORAGE_DSN": s3_dsn(f"http://127.0.0.1:{s3_port}", bucket, location=""),
            "EMAIL_URL": "console:",
            "LOG_LEVEL": "INFO",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        }
        # The release commands, as `divio-settings release-commands` prints them.
        commands = run_tool(
            [sys.executable, "-m", "divio_settings", "release-commands"], env=c.env
        ).stdout.splitlines()
        assert commands == [
            "python manage.py createcachetable",
            "python manage.py migrate",
            "python manage.py publish_static",
            "python manage.py preflight",
        ]
        for command in (
            ["collectstatic", "--noinput"],
            ["createcachetable"],
            ["migrate", "--noinput"],
            ["publish_static"],
            ["preflight"],  # PostgreSQL, the S3 server (its public URL), Redis: all answer
            ["createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.test"],
        ):
            run_tool([sys.executable, "manage.py", *command], cwd=c.project, env=c.env, timeout=180)
        for name in ("a", "b", "c"):
            c.start_instance(name, c.env)
        stoppers.append(lambda: list(map(stop_process, c.processes.values())))
        c.ports["https"] = free_port()
        c.key = self_signed_cert(tmp, [DOMAIN])
        key = c.key[1]
        proxy = start_nginx(
            tmp / "nginx",
            nginx_conf(c, key, [c.ports[n] for n in ("a", "b", "c")]),
            [c.ports["https"]],
        )
        stoppers.append(lambda: stop_process(proxy))
        yield c
    finally:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:
                pass


def csrf(headers: http.client.HTTPMessage, body: bytes) -> tuple[str, str]:
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)  # type: ignore[union-attr]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()  # type: ignore[union-attr]
    return cookie, token


def cookies_of(headers: http.client.HTTPMessage) -> dict[str, str]:
    found = {}
    for line in headers.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def test_login_then_sixty_authenticated_requests_on_any_instance(cluster):
    _, headers, body = cluster.request("/admin/login/")
    cookie, token = csrf(headers, body)
    form = f"csrfmiddlewaretoken={token}&username=admin&password={quote(PASSWORD)}&next=/admin/"
    status, headers, _ = cluster.request(
        "/admin/login/",
        "POST",
        headers={
            "Cookie": f"csrftoken={cookie}",
            "Origin": f"https://{DOMAIN}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=form.encode(),
    )
    assert status == 302
    session = cookies_of(headers)["sessionid"]
    failures = [
        status
        for status, _, _ in (
            cluster.request("/admin/", headers={"Cookie": f"sessionid={session}"})
            for _ in range(60)
        )
        if status != 200
    ]
    assert failures == []


def test_sixty_csrf_posts_with_flash_messages(cluster):
    delivered = 0
    for number in range(60):
        _, headers, body = cluster.request("/flash/")
        cookie, token = csrf(headers, body)
        jar = {"csrftoken": cookie}
        status, headers, _ = cluster.request(
            "/flash/",
            "POST",
            headers={
                "Cookie": f"csrftoken={cookie}",
                "Origin": f"https://{DOMAIN}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body=f"csrfmiddlewaretoken={token}&n={number}".encode(),
        )
        assert status == 302, number
        jar.update(cookies_of(headers))
        cookie_header = "; ".join(f"{k}={v}" for k, v in jar.items())
        _, _, page = cluster.request("/flash/", headers={"Cookie": cookie_header})
        delivered += f"saved {number}</p>".encode() in page
    assert delivered == 60


def test_a_shared_counter_and_a_rate_limit_hold_across_processes(cluster):
    for _ in range(90):
        assert cluster.request("/count/", "POST")[0] == 200
    assert json.loads(cluster.request("/counted/")[2]) == {"value": 90}
    who = uuid.uuid4().hex
    statuses = [cluster.request(f"/limited/?who={who}")[0] for _ in range(20)]
    assert statuses.count(200) == 10
    assert statuses.count(429) == 10


def test_same_name_uploads_lose_no_file(cluster):
    saved = {}
    for number in range(12):
        content = f"upload {number}".encode()
        status, _, body = cluster.request("/upload/", "POST", body=content)
        assert status == 200
        saved[json.loads(body)["name"]] = content
    assert len(saved) == 12
    for name, content in saved.items():
        status, _, body = cluster.request(f"/read/?name={quote(name)}")
        assert (status, body) == (200, content)


def test_a_container_with_another_key_is_visible_in_show_and_its_log(cluster):
    cluster.start_instance("odd", {**cluster.env, "SECRET_KEY": OTHER_KEY})
    try:
        shown = {}
        for name, key in (("shared", KEY), ("odd", OTHER_KEY)):
            result = run_tool(
                [sys.executable, "-m", "divio_settings", "show", str(cluster.project), "--json"],
                env={**cluster.env, "SECRET_KEY": key},
            )
            rows = {row["setting"]: row["value"] for row in json.loads(result.stdout)}
            shown[name] = rows["SECRET_KEY"]
            assert key not in result.stdout
        assert shown["shared"] == f"******** ({fingerprint(KEY)})"
        assert shown["odd"] == f"******** ({fingerprint(OTHER_KEY)})"
        # Each instance logs its key's fingerprint once per worker process as it boots.
        for name, key in (("a", KEY), ("b", KEY), ("c", KEY), ("odd", OTHER_KEY)):
            line = f"SECRET_KEY fingerprint {fingerprint(key)}"
            deadline = time.monotonic() + 30
            while cluster.log(name).count(line) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert cluster.log(name).count(line) == 2, cluster.log(name)
        for name in ("a", "b", "c", "odd"):
            assert KEY not in cluster.log(name)
            assert OTHER_KEY not in cluster.log(name)
    finally:
        stop_process(cluster.processes.pop("odd"))


# --- A key rotation during a rolling deploy (docs/deployment.md, "Several containers") ---

NEW_KEY = "Rotated-into-this-key-Ht5rW2qL8nB3vX9kP1mZ7cJ4dF6gS0yA"
ROTATION_RESULTS = Path(ROOT) / "benchmarks" / "results" / "key_rotation.json"
VISITORS = 20


class Visitor:
    """A browser: its cookie jar, updated from every answer (a cookie deleted is dropped)."""

    def __init__(self, cluster: Cluster, number: int) -> None:
        self.cluster, self.number = cluster, number
        self.jar: dict[str, str] = {}
        self.logged_out = False
        self.pending: list[str] = []  # messages set and not yet shown

    def go(self, port: int, path: str, form: str = "") -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())}
        if form:
            headers |= {
                "Origin": f"https://{DOMAIN}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
        status, answer, body = self.cluster.request(
            path, "POST" if form else "GET", headers, form.encode(), port=port
        )
        for line in answer.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in rest.lower():
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return status, body

    def token(self, body: bytes) -> str:
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert found, body[:300]
        return found.group(1).decode()

    def log_in(self, port: int) -> None:
        _, body = self.go(port, "/admin/login/")
        form = f"csrfmiddlewaretoken={self.token(body)}&username=admin&password={quote(PASSWORD)}"
        assert self.go(port, "/admin/login/", form + "&next=/admin/")[0] == 302
        self.leave_message(port, "before")

    def leave_message(self, port: int, label: str, body: bytes = b"") -> bytes:
        """POST a flash message (it waits in the browser's signed messages cookie)."""
        if not body:
            _, body = self.go(port, "/flash/")
            self.read(body)
        text = f"{self.number}-{label}"
        assert (
            self.go(port, "/flash/", f"csrfmiddlewaretoken={self.token(body)}&n={text}")[0] == 302
        )
        self.pending.append(text)
        return body

    def read(self, page: bytes) -> list[str]:
        """The pending messages the page did not show (lost: a page shows them all at once)."""
        lost = [text for text in self.pending if f"saved {text}</p>".encode() not in page]
        self.pending = []
        return lost

    def visit(self, port: int, label: str) -> list[str]:
        """What a user does while the deploy runs: three admin pages, then a form with a flash
        message read on the next page, and another left waiting for the next visit. Seven requests: behind round
        robin, consecutive ones reach different containers. Returns the messages lost."""
        _, page = self.go(port, "/flash/")  # the message left waiting (admin pages show them too)
        lost = self.read(page)
        for _ in range(3):
            self.logged_out |= self.go(port, "/admin/")[0] != 200
        self.leave_message(port, f"{label}-now", page)
        _, page = self.go(port, "/flash/")
        lost += self.read(page)
        self.leave_message(port, f"{label}-waiting", page)
        return lost


def rotation_env(cluster: Cluster, key: str, **rotation: str) -> dict[str, str]:
    return {**cluster.env, "SECRET_KEY": key, **rotation}


def behind_proxy(cluster: Cluster, name: str, upstreams: list[str]) -> tuple[Any, int]:
    """nginx of its own on a new port, round robin over *upstreams* (instances by name)."""
    port = free_port()
    prefix = cluster.tmp / f"nginx-{name}"
    conf = nginx_conf(cluster, cluster.key[1], [cluster.ports[n] for n in upstreams], prefix, port)
    return start_nginx(prefix, conf, [port]), port


def roll_out(cluster: Cluster, label: str, phases: list[tuple[str, str]]) -> dict[str, int]:
    """Visitors log in on the running containers (SECRET_KEY = KEY), then each phase (old, new)
    serves behind one round robin while they work, then the last version alone serves them.
    Returns how many visitors were logged out and how many messages were lost."""
    visitors = [Visitor(cluster, number) for number in range(VISITORS)]
    for visitor in visitors:
        visitor.log_in(cluster.ports["https"])
    lost: list[str] = []
    for step, (old, new) in enumerate(phases):
        proxy, port = behind_proxy(cluster, f"{label}-{step}", [old, new])
        try:
            for visitor in visitors:
                lost += visitor.visit(port, f"{label}{step}")
        finally:
            stop_process(proxy)
    proxy, port = behind_proxy(cluster, f"{label}-done", [phases[-1][1]])
    try:
        for visitor in visitors:
            lost += visitor.read(visitor.go(port, "/flash/")[1])
            visitor.logged_out |= visitor.go(port, "/admin/")[0] != 200
    finally:
        stop_process(proxy)
    messages = VISITORS * (1 + 2 * len(phases))
    return {
        "visitors": VISITORS,
        "logged_out": sum(visitor.logged_out for visitor in visitors),
        "messages": messages,
        "lost_messages": len(lost),
    }


def stored_rotation(measured: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The figures docs/deployment.md quotes: the stored file, which this run must reproduce
    (round robin over one nginx worker is deterministic); DIVIO_SETTINGS_STORE_RESULTS=1 writes
    it anew."""
    if os.environ.get("DIVIO_SETTINGS_STORE_RESULTS") == "1":
        result = {"test": "tests/e2e/test_instances.py", "date": time.strftime("%Y-%m-%d")}
        ROTATION_RESULTS.write_text(json.dumps({**result, **measured}, indent=2) + "\n")
    stored: dict[str, Any] = json.loads(ROTATION_RESULTS.read_text())
    return stored


@pytest.fixture(scope="module")
def rotations(cluster: Cluster) -> dict[str, dict[str, int]]:
    """Both rotations from the containers of the cluster (SECRET_KEY = KEY, instance a):
    two deploys (SECRET_KEY_NEXT first, then the swap) and the one-step swap."""
    step_1 = rotation_env(cluster, KEY, SECRET_KEY_NEXT=NEW_KEY)
    step_2 = rotation_env(cluster, NEW_KEY, SECRET_KEY_FALLBACKS=KEY)
    cluster.start_instance("step-1", step_1)
    cluster.start_instance("step-2", step_2)
    try:
        return {
            "two_step": roll_out(cluster, "two", [("a", "step-1"), ("step-1", "step-2")]),
            "one_step": roll_out(cluster, "one", [("a", "step-2")]),
        }
    finally:
        stop_process(cluster.processes.pop("step-1"))
        stop_process(cluster.processes.pop("step-2"))


def test_the_two_step_key_rotation_loses_no_session_and_no_message(cluster, rotations):
    two = rotations["two_step"]
    assert two["logged_out"] == 0
    assert two["lost_messages"] == 0
    assert two["messages"] == VISITORS * 5
    # Each container said which step it was in, as it started.
    assert "key rotation: step 1 of 2" in cluster.log("step-1")
    assert "key rotation: step 2 of 2" in cluster.log("step-2")
    assert NEW_KEY not in cluster.log("step-1") + cluster.log("step-2")


def test_the_one_step_rotation_logs_users_out_as_the_docs_say(rotations):
    one = rotations["one_step"]
    assert one["logged_out"] > 0
    assert one["lost_messages"] > 0
    stored = stored_rotation(rotations)
    assert {k: stored[k] for k in rotations} == rotations


# --- A pool after a database restart, and a short secret in the start-up line ---


def requests_under_load(port: int, cluster: Cluster, count: int) -> list[int]:
    """*count* requests of a page that reads the database, four at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda _: cluster.request("/users/", port=port)[0], range(count)))


def terminate_backends(database: str) -> int:
    """What a database restart or failover does to every open connection."""
    import psycopg

    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


@pytest.mark.parametrize(
    ("checks", "most"),
    [("", 2), ("false", None)],
    ids=["pool-default", "pool-checks-off"],
)
def test_a_pool_after_its_connections_died_fails_at_most_one_request_per_worker(
    cluster, checks, most
):
    """DATABASE_POOL=true: every pooled connection terminated under load (a restart); with
    the default the pool checks each one before a request gets it (2 workers: at most 2 failed
    requests); with DATABASE_CONN_HEALTH_CHECKS=false it hands out dead ones."""
    name = f"pool{checks}"
    env = {**cluster.env, "DATABASE_POOL": "true"}  # psycopg_pool's 4 connections per worker
    if checks:
        env["DATABASE_CONN_HEALTH_CHECKS"] = checks
    cluster.start_instance(name, env)
    proxy, port = behind_proxy(cluster, name, [name])
    try:
        assert set(requests_under_load(port, cluster, 16)) == {200}
        assert terminate_backends(cluster.database) >= 2
        statuses = requests_under_load(port, cluster, 24)
        failed = sum(status != 200 for status in statuses)
        if most is None:
            assert failed > 2, statuses  # the test can tell: unchecked, dead connections fail
        else:
            assert failed <= most, statuses
        assert set(requests_under_load(port, cluster, 8)) == {200}
    finally:
        stop_process(proxy)
        stop_process(cluster.processes.pop(name))


def test_a_secret_that_is_a_word_leaves_the_start_up_line_readable(cluster):
    """An S3 secret 'SECRET' is masked as a word of its own, not inside SECRET_KEY."""
    dsn = cluster.env["DEFAULT_STORAGE_DSN"].replace(quote("se/cr+et", safe=""), "SECRET")
    cluster.start_instance("word", {**cluster.env, "DEFAULT_STORAGE_DSN": dsn})
    try:
        line = f"SECRET_KEY fingerprint {fingerprint(KEY)}"
        deadline = time.monotonic() + 30
        while cluster.log("word").count(line) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cluster.log("word").count(line) == 2, cluster.log("word")
    finally:
        stop_process(cluster.processes.pop("word"))


@pytest.mark.parametrize(("timeout", "most"), [("2", 4.0), ("", 15.0)], ids=["2s", "default"])
def test_with_the_database_away_a_pooled_request_answers_within_its_timeout(cluster, timeout, most):
    """DATABASE_POOL=true and a database that refuses connections: the worker answers a 500
    after one wait of DATABASE_POOL_TIMEOUT (the default, 10 s, below gunicorn's 30 s worker
    timeout), never a killed worker (502) or a wait of twice the timeout."""
    name = f"away{timeout}"
    env = {
        **cluster.env,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/away",
        "DATABASE_POOL": "true",
    }
    if timeout:
        env["DATABASE_POOL_TIMEOUT"] = timeout
    cluster.start_instance(name, env)
    proxy, port = behind_proxy(cluster, name, [name])
    try:
        started = time.monotonic()
        status = cluster.request("/users/", port=port)[0]
        waited = time.monotonic() - started
        assert status == 500
        assert waited < most, waited
        # A page that only uses the (default, database) cache answers: a miss, not a 500.
        assert cluster.request("/counted/", port=port)[:1] == (200,)
        assert cluster.log(name).count("Database cache unreachable") == 1
    finally:
        stop_process(proxy)
        stop_process(cluster.processes.pop(name))
