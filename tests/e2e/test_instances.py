"""Three instances (gunicorn, 2 workers each) behind nginx's round robin, as a cloud environment
runs them, configured with Divio's variables and no CACHE_URL: shared state must hold by default.

PostgreSQL is the local service (a database of the test's own), media an S3-compatible server
(moto). Everything listens on 127.0.0.1; every loop has a fixed count and a timeout.
"""

from __future__ import annotations

import http.client
import json
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


urlpatterns += [path("flash/", flash), path("count/", count), path("counted/", counted),
                path("limited/", limited), path("upload/", upload), path("read/", read)]
"""


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.project = tmp / "site"
        self.env: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self.processes: dict[str, Any] = {}
        self.cert = tmp / "cert.pem"

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
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        context = ssl.create_default_context(cafile=str(self.cert))
        context.check_hostname = False
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.ports["https"], context=context, timeout=30
        )
        try:
            connection.request(
                method, path, body=body or None, headers={"Host": DOMAIN, **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


def nginx_conf(cluster: Cluster, key: Path, upstreams: list[int]) -> str:
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in upstreams)
    prefix = cluster.tmp / "nginx"
    return nginx_http(
        prefix,
        f"""  upstream app {{
{servers}  }}
  server {{
    listen 127.0.0.1:{cluster.ports["https"]} ssl;
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
        ]
        for command in (
            ["collectstatic", "--noinput"],
            ["createcachetable"],
            ["migrate", "--noinput"],
            ["publish_static"],
            ["createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.test"],
        ):
            run_tool([sys.executable, "manage.py", *command], cwd=c.project, env=c.env, timeout=180)
        for name in ("a", "b", "c"):
            c.start_instance(name, c.env)
        stoppers.append(lambda: list(map(stop_process, c.processes.values())))
        c.ports["https"] = free_port()
        _, key = self_signed_cert(tmp, [DOMAIN])
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
    from divio_settings.redaction import fingerprint

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
