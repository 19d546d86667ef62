"""Helpers shared by the tests: the environments of real Divio shapes, ports, processes,
certificates and services. Imported one way everywhere: ``from tests.helpers import …``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

# Values in the exact shapes Divio hands out (shared/divio-platform.md).
LIVE_KEY = "AX1Rxxxxxxwdm1klEQOPukngZFO58vbbpeqp5l0ogdRspdKZTuutJ5V2ov"
LIVE_ENV: Mapping[str, str] = {
    "DOMAIN": "example.us.aldryn.io",
    "DOMAIN_ALIASES": "www.example.com, example.ch",
    "DOMAIN_REDIRECTS": "example.com,www.example.ch",
    "STAGE": "live",
    "SECRET_KEY": LIVE_KEY,
    "GIT_BRANCH": "main",
    "DATABASE_URL": "postgres://example-live-3638:OIut5vYvWjI3UQzc_yKYAl5-aw0F@db.example.rds.amazonaws.com:5432/example-live-ee6263",
    "DEFAULT_STORAGE_DSN": "s3://A5JHDYDTYZ3PLOF:t62LdAvROXgFR14%2BOwidSI6N9WQL454G0ipJY@example-live-b32-c967f23.divio-media.org.s3.amazonaws.com/?auth=s3v4&domain=example-live-b32-c967f23.divio-media.org",
}
# The deploy guide's .env-local.
LOCAL_ENV: Mapping[str, str] = {
    "DATABASE_URL": "postgres://postgres@database_default:5432/db",
    "DEFAULT_STORAGE_DSN": "file:///data/media/?url=%2Fmedia%2F",
    "DJANGO_DEBUG": "True",
    "DOMAIN_ALIASES": "localhost,127.0.0.1",
    "SECURE_SSL_REDIRECT": "False",
}
STARTPROJECT: Mapping[str, Any] = {
    "__file__": "/app/mysite/settings.py",
    "BASE_DIR": "/app",
    "SECRET_KEY": "django-insecure-abc",
    "DEBUG": True,
    "ALLOWED_HOSTS": [],
    "INSTALLED_APPS": [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ],
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/app/db.sqlite3"}},
    "STATIC_URL": "static/",
}


def child_env() -> dict[str, str]:
    """The environment of a test's child process: PATH, and coverage's variables so that the
    child is measured too (coverage's ``patch = ["subprocess"]``)."""
    env = {"PATH": os.environ["PATH"]}
    env.update({key: value for key, value in os.environ.items() if key.startswith("COVERAGE_")})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(text: str | bytes, lines: int = 30) -> str:
    """The last *lines* of a tool's output: what a failure message shows of it."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def run_tool(
    args: Sequence[str | os.PathLike[str]], *, timeout: float = 300, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion; if it fails, fail with the tail of its own output, not only
    its exit status."""
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{Path(args[0]).name} exited with status {result.returncode}:\n"
            + tail(result.stderr + "\n" + result.stdout)
        )
    return result


SERVER_LOGS: dict[int, Path] = {}


def spawn(
    args: Sequence[str | os.PathLike[str]], log: Path, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """Start a server whose output (stdout and stderr) goes to *log*; wait_port() and
    server_log() show its tail when it fails."""
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [str(arg) for arg in args], stdout=handle, stderr=subprocess.STDOUT, **kwargs
        )
    SERVER_LOGS[process.pid] = log
    return process


def server_log(process: subprocess.Popen[Any]) -> str:
    log = SERVER_LOGS.get(process.pid)
    if log is None or not log.exists():
        return "(no log)"
    return tail(log.read_bytes())


def wait_port(port: int, process: subprocess.Popen[Any] | None = None, seconds: float = 60) -> None:
    """Until something listens on 127.0.0.1:*port*; fails early if *process* exits, with the
    tail of its log when spawn() started it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the server exited with {process.returncode}:\n{server_log(process)}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    detail = f":\n{server_log(process)}" if process is not None else ""
    raise AssertionError(f"nothing listens on port {port} after {seconds:.0f} s{detail}")


def stop_process(process: subprocess.Popen[Any], grace: float = 10) -> None:
    """SIGTERM, then SIGKILL after *grace* seconds; with grace=0 at once SIGKILL (a server with
    nothing to keep, such as an emulator that waits for its clients' keep-alive connections)."""
    if grace:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    SERVER_LOGS.pop(process.pid, None)


def self_signed_cert(folder: Path, names: Sequence[str]) -> tuple[Path, Path]:
    """(certificate, key) for *names*, made with openssl, valid for a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    san = ",".join(f"DNS:{name}" for name in names)
    run_tool(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={names[0]}",
            "-addext",
            f"subjectAltName={san}",
        ],
    )
    return cert, key


SERVICES = {
    "postgresql": ("127.0.0.1", 5432),
    "mariadb": ("127.0.0.1", 3306),
    "redis": ("127.0.0.1", 6379),
}


def missing_service(message: str) -> None:
    """Skip the test, or fail it where DIVIO_SETTINGS_REQUIRE_SERVICES=1 (as in CI)."""
    if os.environ.get("DIVIO_SETTINGS_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (DIVIO_SETTINGS_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def require_service(name: str) -> None:
    """Skip (or, with DIVIO_SETTINGS_REQUIRE_SERVICES=1 as in CI, fail) without the service."""
    host, port = SERVICES[name]
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        missing_service(f"{name} is not reachable on {host}:{port}")


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRELUDE = """
import json, os, sys
exec(os.environ.get("PRELUDE_FIRST", ""))  # e.g. make an installed package unimportable
import django
from django.conf import settings
import divio_settings
ns = {"INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes",
                         "django.contrib.sessions"],
      "__file__": "/app/x/settings.py", "USE_TZ": True, "ROOT_URLCONF": "tests.urls"}
ns.update(json.loads(os.environ["SETTINGS_JSON"]))
divio_settings.apply(
    ns, environ=json.loads(os.environ["ENV_JSON"]), **json.loads(os.environ.get("SWITCHES_JSON", "{}"))
)
settings.configure(**{k: v for k, v in ns.items() if k.isupper()})
django.setup()
"""


def django_process(
    environ: Mapping[str, str],
    body: str,
    settings: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run *body* in a new Python process whose settings come from apply(environ)."""
    import json
    import sys

    env = {
        **child_env(),
        "ENV_JSON": json.dumps(dict(environ)),
        "SETTINGS_JSON": json.dumps(dict(settings or {})),
        **(extra_env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + body],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return result


PASSWORD = "p@ss:w/rd#+% ?&é"  # every character that breaks unencoded URLs
# For `manage.py shell -c`: the running settings' report as JSON, to compare with `show --json`.
REPORT = """
import json
from django.conf import settings
print(json.dumps(list(settings.DIVIO_SETTINGS_REPORT), default=str))
"""


def cloud_env(user: str, db: str) -> dict[str, str]:
    """A live cloud environment on this machine: Divio's variables for localhost, no https
    redirect (no TLS proxy in front), the test's own PostgreSQL database (fixture postgres)."""
    return {
        "DOMAIN": "localhost",
        "STAGE": "live",
        "SECRET_KEY": LIVE_KEY,
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": f"postgres://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/{db}",
    }


def s3_client(endpoint: str) -> Any:
    """boto3's client for the S3-compatible server at *endpoint* (moto takes any credentials)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="se/cr+et",
    )


def create_bucket(endpoint: str) -> str:
    """A new bucket of a random name on the S3-compatible server at *endpoint*."""
    name = f"media-{os.urandom(4).hex()}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def s3_dsn(endpoint: str, bucket: str, location: str = "site") -> str:
    """DEFAULT_STORAGE_DSN for *bucket* below *location* on that server, with the public URLs
    path-style on it; the secret has characters that need quoting, as real ones often do."""
    public = quote(f"{endpoint}/{bucket}", safe="")
    secret = quote("se/cr+et", safe="")
    return f"s3://AKIDTEST:{secret}@{bucket}/{location}?endpoint={endpoint}&url={public}"


def venv_python(
    venv: Path, root: Path, image_env: Mapping[str, str], timeout: float = 600
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the virtualenv's python with arguments in the project at *root*, as the image runs
    it: *image_env* plus the call's ``env=``, output captured."""

    def run(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "python"), *args],
            cwd=root,
            env={**image_env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


class SentrySink:
    """A local HTTP server that records what a Sentry SDK sends (envelopes, decompressed)."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.bodies: list[bytes] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import gzip
                import zlib

                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    data = gzip.decompress(data)
                elif encoding == "deflate":
                    data = zlib.decompress(data)
                elif encoding == "br":
                    import brotli  # type: ignore[import-not-found]

                    data = brotli.decompress(data)
                sink.bodies.append(data)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def get(url: str, host: str = "localhost") -> tuple[int, dict[str, str], bytes]:
    """GET *url* with a Host header (none when *host* is empty): status, headers, body."""
    import urllib.request

    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, dict(response.headers), response.read()


@contextlib.contextmanager
def dockerfile_server(dockerfile: str, root: Path, env: Mapping[str, str]) -> Iterator[int]:
    """The Dockerfile's CMD, run by /bin/sh as Docker runs a CMD in shell form, on a free port
    of 127.0.0.1 instead of port 80; yields the port once the server listens."""
    import re

    command = re.search(r"^CMD (.+)$", dockerfile, re.M)
    assert command, "the Dockerfile has no CMD"
    port = free_port()
    server = subprocess.Popen(
        ["/bin/sh", "-c", command.group(1).replace("0.0.0.0:80", f"127.0.0.1:{port}")],
        cwd=root,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_port(port, server)
        yield port
    finally:
        server.terminate()
        server.communicate(timeout=10)


def nginx_http(prefix: Path, body: str) -> str:
    """An nginx.conf: one worker, files below *prefix*, *body* inside ``http { }``."""
    return f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
{body}
}}
"""


def start_nginx(prefix: Path, conf: str, ports: Sequence[int]) -> subprocess.Popen[bytes]:
    """nginx in the foreground with *conf* (made by nginx_http(prefix, …)), once it listens on
    every one of *ports*. Its workers may run as another user: their folders are open to them."""
    import shutil

    for folder in (prefix, prefix / "body", prefix / "proxy", prefix / "cache"):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
    (prefix / "nginx.conf").write_text(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = spawn(
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        prefix.parent / f"{prefix.name}.log",
    )
    try:
        for port in ports:
            wait_port(port, process)
    except BaseException:
        stop_process(process)
        raise
    return process
