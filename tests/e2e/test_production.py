"""The production path: nginx ending TLS in front of two instances of a sample project configured
only by apply(), one under gunicorn (WSGI) and one under uvicorn (ASGI), sharing PostgreSQL (a
cluster of the test's own, so that it can be stopped), Redis (cache and sessions) and an
S3-compatible server (moto, reached through a TCP relay the test can cut).

Everything listens on 127.0.0.1; every load loop has a fixed count and a timeout.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.helpers import (
    ROOT,
    child_env,
    create_bucket,
    free_port,
    nginx_http,
    require_service,
    run_tool,
    self_signed_cert,
    spawn,
    start_nginx,
    stop_process,
    wait_port,
)

pytestmark = [pytest.mark.e2e, pytest.mark.production]

DOMAIN, ALIAS, OLD = "example.test", "www.example.test", "old.example.test"
PASSWORD = "adm!n p@ss"
VIEWS = """
import json
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def whoami(request):
    return JsonResponse({"secure": request.is_secure(), "host": request.get_host(),
                         "instance": __import__("os").environ["INSTANCE"]})


def users(request):
    return JsonResponse({"users": User.objects.count()})


@csrf_exempt
def upload(request):
    upload = request.FILES["file"]
    name = default_storage.save(upload.name, upload)
    return JsonResponse({"name": name, "url": default_storage.url(name)})


def read(request):
    with default_storage.open(request.GET["name"]) as handle:
        return HttpResponse(handle.read(), content_type="application/octet-stream")


def exists(request):
    return JsonResponse({"exists": default_storage.exists(request.GET["name"])})


urlpatterns += [path("whoami/", whoami), path("users/", users), path("upload/", upload),
                path("read/", read), path("exists/", exists)]

from divio_settings.urls import health_urlpatterns
urlpatterns += health_urlpatterns()
"""


class Relay:
    """A TCP relay 127.0.0.1:port -> target that the test can cut and restore (an S3 outage)."""

    def __init__(self, target: int) -> None:
        self.target, self.port = target, free_port()
        self.server: socket.socket | None = None
        self.open: set[socket.socket] = set()
        self.start()

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def stop(self) -> None:
        assert self.server
        # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
        self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.server = None
        for sock in list(self.open):  # kept-alive connections go down too
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
                self.open.discard(sock)


@dataclass
class Stack:
    tmp: Path
    project: Path = field(init=False)
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)
    cert: Path = field(init=False)
    relay: Relay | None = None
    pg: Path = field(init=False)
    nginx: Path = field(init=False)

    # --- PostgreSQL of our own ---
    def pg_ctl(self, *args: str) -> None:
        command = ["pg_ctl", "-D", str(self.pg), "-w", *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        run_tool(command, timeout=60)

    def start_postgres(self) -> None:
        self.pg_ctl(
            "-o",
            f"-p {self.ports['pg']} -k {self.pg} -c listen_addresses=127.0.0.1",
            "-l",
            str(self.pg / "log"),
            "start",
        )

    def stop_postgres(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    # --- the two instances ---
    def start_instance(self, name: str) -> None:
        port = self.ports[name]
        command = {
            "a": [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{port}",
                "mysite.wsgi",
            ],
            "b": [
                sys.executable,
                "-m",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "mysite.asgi:application",
            ],
        }[name]
        self.processes[name] = spawn(
            command,
            self.tmp / f"instance-{name}.log",
            cwd=self.project,
            env={**self.env, "INSTANCE": name},
        )
        wait_port(port, self.processes[name])

    def restart_instance(self, name: str) -> None:
        stop_process(self.processes.pop(name))
        self.start_instance(name)

    # --- HTTP through nginx ---
    def request(
        self,
        port: str,
        host: str,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        tls: bool = True,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        if tls:
            context = ssl.create_default_context(cafile=str(self.cert))
            context.check_hostname = False  # we connect to 127.0.0.1; the certificate is ours
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.ports[port], context=context, timeout=30
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.ports[port], timeout=30)
        try:
            connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


def nginx_conf(stack: Stack, key: Path) -> str:
    def server(listen: str, upstream: int) -> str:
        return f"""
  server {{
    listen 127.0.0.1:{listen};
    ssl_certificate {stack.cert};
    ssl_certificate_key {key};
    client_max_body_size 50m;
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}"""

    return nginx_http(
        stack.nginx,
        f"""  {server(str(stack.ports["http"]), stack.ports["a"])}
  {server(f"{stack.ports['https_a']} ssl", stack.ports["a"])}
  {server(f"{stack.ports['https_b']} ssl", stack.ports["b"])}""",
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_service("redis")
    for tool in ("nginx", "openssl", "pg_ctl", "initdb"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            message = f"{tool} is needed for the production end-to-end tests"
            if os.environ.get("DIVIO_SETTINGS_REQUIRE_SERVICES") == "1":
                pytest.fail(message)
            pytest.skip(message)
    pytest.importorskip("gunicorn")
    pytest.importorskip("uvicorn")
    pytest.importorskip("moto.server")
    tmp = tmp_path_factory.mktemp("prod")
    tmp.chmod(0o755)
    s = Stack(tmp)
    s.ports = {name: free_port() for name in ("pg", "a", "b", "http", "https_a", "https_b", "s3")}
    stoppers: list[Any] = []
    try:
        # PostgreSQL
        # Outside pytest's 0700 temporary folders: the postgres user must reach it.
        pg_root = Path(tempfile.mkdtemp(prefix="divio-settings-pg-"))
        pg_root.chmod(0o755)
        stoppers.append(lambda: shutil.rmtree(pg_root, ignore_errors=True))
        s.pg = pg_root / "data"
        s.pg.mkdir()
        initdb = ["initdb", "-D", str(s.pg), "--auth=trust", "-U", "postgres"]
        if os.geteuid() == 0:
            shutil.chown(s.pg, "postgres")
            initdb = ["runuser", "-u", "postgres", "--", *initdb]
        run_tool(initdb, timeout=120)
        s.start_postgres()
        stoppers.append(lambda: s.stop_postgres())
        # S3-compatible server behind a relay
        moto = spawn(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s.ports["s3"])],
            tmp / "moto.log",
        )
        stoppers.append(lambda: stop_process(moto))
        wait_port(s.ports["s3"], moto)
        bucket = create_bucket(f"http://127.0.0.1:{s.ports['s3']}")
        s.relay = Relay(s.ports["s3"])
        # the sample project
        s.project = tmp / "site"
        s.project.mkdir()
        run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(s.project)])
        settings = s.project / "mysite" / "settings.py"
        settings.write_text(
            settings.read_text() + "\nSESSION_ENGINE = 'django.contrib.sessions.backends.cache'\n"
            "import divio_settings\ndivio_settings.apply(globals())\n"
        )
        urls = s.project / "mysite" / "urls.py"
        urls.write_text(urls.read_text() + VIEWS)
        public = quote(f"http://127.0.0.1:{s.ports['s3']}/{bucket}", safe="")
        s.env = {
            **child_env(),
            "PYTHONPATH": str(ROOT),
            "DOMAIN": DOMAIN,
            "DOMAIN_ALIASES": ALIAS,
            "DOMAIN_REDIRECTS": OLD,
            "STAGE": "live",
            "SECRET_KEY": "k" * 60,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{s.ports['pg']}/postgres",
            "CACHE_URL": f"redis://127.0.0.1:6379/0?key_prefix={uuid.uuid4().hex}",
            "DEFAULT_STORAGE_DSN": f"s3://AK:s3cr3t-key@{bucket}/up?endpoint=http://127.0.0.1:{s.relay.port}&url={public}",
            "EMAIL_URL": "console:",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        }
        for command in (
            ["collectstatic", "--noinput"],
            ["migrate", "--noinput"],
            ["createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.test"],
        ):
            run_tool([sys.executable, "manage.py", *command], cwd=s.project, env=s.env, timeout=180)
        for name in ("a", "b"):
            s.start_instance(name)
        stoppers.append(lambda: list(map(stop_process, s.processes.values())))
        # TLS at nginx, as Divio's load balancer
        s.cert, key = self_signed_cert(tmp, [DOMAIN, ALIAS, OLD])
        s.nginx = pg_root / "nginx"
        proxy = start_nginx(
            s.nginx, nginx_conf(s, key), [s.ports[name] for name in ("http", "https_a", "https_b")]
        )
        stoppers.append(lambda: stop_process(proxy))
        yield s
    finally:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:
                pass


@pytest.mark.parametrize("port", ["https_a", "https_b"])
@pytest.mark.parametrize("host", [DOMAIN, ALIAS])
def test_https_domain_and_alias_are_secure(stack, port, host):
    status, headers, body = stack.request(port, host, "/whoami/")
    assert status == 200, body[:300]
    data = json.loads(body)
    assert data == {"secure": True, "host": host, "instance": port[-1]}
    assert "max-age=3600" in headers["Strict-Transport-Security"]


def test_http_gets_one_redirect_to_https(stack):
    status, headers, _ = stack.request("http", DOMAIN, "/whoami/?a=1", tls=False)
    assert status == 301
    assert headers["Location"] == f"https://{DOMAIN}/whoami/?a=1"
    status, _, _ = stack.request("https_a", DOMAIN, "/whoami/?a=1")
    assert status == 200


@pytest.mark.parametrize(("port", "tls"), [("http", False), ("https_a", True), ("https_b", True)])
def test_redirect_domain_goes_to_domain_in_one_hop(stack, port, tls):
    status, headers, _ = stack.request(port, OLD, "/some/path/?q=1&r=%C3%A9", tls=tls)
    assert status == 302
    assert headers["Location"] == f"https://{DOMAIN}/some/path/?q=1&r=%C3%A9"


@pytest.mark.parametrize(("port", "tls"), [("http", False), ("https_a", True), ("https_b", True)])
def test_unknown_or_forged_host_is_400_never_a_redirect(stack, port, tls):
    for host in ("evil.test", f"{DOMAIN}.evil.test", "127.0.0.1"):
        status, headers, _ = stack.request(port, host, "/whoami/", tls=tls)
        assert status == 400, host
        assert "Location" not in headers


def test_forwarded_host_does_not_move_redirects(stack):
    for port, tls, host in (("http", False, DOMAIN), ("https_a", True, OLD)):
        status, headers, _ = stack.request(
            port, host, "/x", headers={"X-Forwarded-Host": "evil.test"}, tls=tls
        )
        assert status in (301, 302)
        assert headers["Location"] == f"https://{DOMAIN}/x"


def login(stack: Stack, port: str) -> str:
    status, headers, body = stack.request(port, DOMAIN, "/admin/login/")
    assert status == 200
    csrf_cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)  # type: ignore[union-attr]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()  # type: ignore[union-attr]
    form = f"csrfmiddlewaretoken={token}&username=admin&password={quote(PASSWORD)}&next=/admin/"
    status, headers, body = stack.request(
        port,
        DOMAIN,
        "/admin/login/",
        "POST",
        headers={
            "Cookie": f"csrftoken={csrf_cookie}",
            "Origin": f"https://{DOMAIN}",
            "Referer": f"https://{DOMAIN}/admin/login/",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=form.encode(),
    )
    assert status == 302, body[:500]
    cookies = headers.get_all("Set-Cookie") or []
    session = next(c for c in cookies if c.startswith("sessionid="))
    assert "Secure" in session
    assert "HttpOnly" in session
    return session.split(";")[0]


def test_admin_login_through_the_proxy_and_session_on_the_other_instance(stack):
    session = login(stack, "https_a")
    status, _, body = stack.request("https_b", DOMAIN, "/admin/", headers={"Cookie": session})
    assert status == 200
    assert b"Log out" in body or b"logout" in body


def test_hashed_static_css_is_immutable_and_compressed(stack):
    _, _, page = stack.request("https_a", DOMAIN, "/admin/login/")
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert css
    status, headers, body = stack.request(
        "https_b", DOMAIN, css.group(1).decode(), headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert "max-age=315360000" in headers["Cache-Control"]
    assert body[:2] == b"\x1f\x8b"


def upload(stack: Stack, port: str, name: str, content: bytes) -> dict[str, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, response = stack.request(
        port,
        DOMAIN,
        "/upload/",
        "POST",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200, response[:500]
    data: dict[str, str] = json.loads(response)
    return data


def test_media_uploaded_on_a_served_from_storage_and_read_on_b(stack):
    content = os.urandom(200_000)
    data = upload(stack, "https_a", "photo one.bin", content)
    import urllib.request

    with urllib.request.urlopen(data["url"], timeout=10) as response:
        assert response.read() == content
    status, _, body = stack.request("https_b", DOMAIN, f"/read/?name={quote(data['name'])}")
    assert status == 200
    assert body == content


def test_two_hundred_concurrent_uploads_lose_none(stack):
    contents = {f"batch/{i:03d}.bin": os.urandom(1024 + i) for i in range(200)}

    def send(item: tuple[int, tuple[str, bytes]]) -> tuple[str, str]:
        index, (name, content) = item
        return name, upload(stack, "https_a" if index % 2 else "https_b", name, content)["name"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        saved = dict(pool.map(send, enumerate(contents.items()), timeout=300))
    assert len(set(saved.values())) == 200
    for index, (name, content) in enumerate(contents.items()):
        port = "https_b" if index % 2 else "https_a"  # read on the other instance
        status, _, body = stack.request(port, DOMAIN, f"/read/?name={quote(saved[name])}")
        assert status == 200
        assert body == content, name


def test_postgres_outage_gives_500_and_recovers_without_restart(stack):
    assert stack.request("https_a", DOMAIN, "/users/")[0] == 200
    stack.stop_postgres()
    try:
        for port in ("https_a", "https_b"):
            assert stack.request(port, DOMAIN, "/users/")[0] == 500
    finally:
        stack.start_postgres()
    for port in ("https_a", "https_b"):
        status, _, body = stack.request(port, DOMAIN, "/users/")
        assert status == 200
        assert json.loads(body) == {"users": 1}


def probe(stack: Stack, port: str, path: str, direct: bool) -> tuple[int, dict[str, Any]]:
    """A health probe through nginx (Host: DOMAIN, https) or, as a platform or load balancer
    probes a container, straight to the instance's own address over http."""
    if direct:
        host = f"127.0.0.1:{stack.ports[port[-1]]}"
        connection = http.client.HTTPConnection("127.0.0.1", stack.ports[port[-1]], timeout=30)
        try:
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            status, headers, body = response.status, response.headers, response.read()
        finally:
            connection.close()
    else:
        status, headers, body = stack.request(port, DOMAIN, path)
    assert headers["Cache-Control"] == "no-store"
    return status, json.loads(body)


@pytest.mark.parametrize("direct", [False, True])
def test_ready_follows_the_database_without_a_restart(stack, direct):
    """/-/ready: 200, then 503 naming the database while PostgreSQL is stopped (alive stays
    200), then 200 again once it is back; gunicorn (a) and uvicorn (b) are not restarted."""
    instances = ("https_a", "https_b")
    for port in instances:
        assert probe(stack, port, "/-/ready", direct) == (
            200,
            {"status": "ready", "checks": {"database default": "ok", "cache default": "ok"}},
        )
    stack.stop_postgres()
    try:
        for port in instances:
            status, body = probe(stack, port, "/-/ready", direct)
            assert status == 503
            assert body["status"] == "unavailable"
            assert body["checks"]["cache default"] == "ok"
            assert body["checks"]["database default"].startswith("cannot connect or query")
            assert probe(stack, port, "/-/alive", direct) == (200, {"status": "alive"})
    finally:
        stack.start_postgres()
    for port in instances:
        assert probe(stack, port, "/-/ready", direct)[0] == 200
    for name in ("a", "b"):
        log = (stack.tmp / f"instance-{name}.log").read_text()
        assert "Service Unavailable" not in log  # no ERROR line per probe


def test_s3_outage_is_a_clear_error_and_leaves_no_object(stack):
    assert stack.relay
    stack.relay.stop()
    try:
        boundary = "b0undary"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="lost.bin"\r\n\r\n'
            f"x\r\n--{boundary}--\r\n"
        ).encode()
        status, _, _ = stack.request(
            "https_a",
            DOMAIN,
            "/upload/",
            "POST",
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert status == 500
    finally:
        stack.relay.start()
    status, _, body = stack.request("https_b", DOMAIN, "/exists/?name=lost.bin")
    assert status == 200
    assert json.loads(body) == {"exists": False}
    assert upload(stack, "https_a", "after.bin", b"back")["name"] == "after.bin"


def test_restarting_an_instance_loses_no_session_or_media(stack):
    session = login(stack, "https_b")
    data = upload(stack, "https_b", "kept.bin", b"kept")
    stack.restart_instance("b")
    status, _, _ = stack.request("https_b", DOMAIN, "/admin/", headers={"Cookie": session})
    assert status == 200
    status, _, body = stack.request("https_b", DOMAIN, f"/read/?name={quote(data['name'])}")
    assert body == b"kept"


@pytest.mark.parametrize("instance", ["a", "b"])
def test_a_request_line_that_is_no_path_never_moves_the_redirect_host(stack, instance):
    """uvicorn (b) passes `GET @evil.test/` on as the path; the domain redirect must still go
    to DOMAIN (the path made absolute), never to evil.test as the URL's host."""
    with socket.create_connection(("127.0.0.1", stack.ports[instance]), timeout=10) as conn:
        conn.sendall(
            f"GET @evil.test/x HTTP/1.1\r\nHost: {OLD}\r\nX-Forwarded-Proto: https\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    location = next(
        (
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("location:")
        ),
        "",
    )
    if status in (301, 302):
        assert location.startswith(f"https://{DOMAIN}/"), head
        assert urlsplit(location).hostname == DOMAIN
    else:
        assert status == 400, head  # gunicorn refuses the request line
