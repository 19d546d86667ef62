"""A rolling deploy, as Divio (or Kubernetes) runs one: version 1 and version 2 of a project (a
page whose CSS and JS differ) serve at once behind nginx's round robin (TLS, as the platform's
load balancer), media on an S3-compatible server (moto), each version's release commands as
`divio-settings release-commands` prints them.

A page of either version must get its own assets, whichever container answers the asset; then
with version 1 stopped. And behind a caching CDN (nginx's proxy_cache, which caches errors for
ten minutes unless the response forbids it), a miss must not be pinned.
"""

from __future__ import annotations

import re
import shutil
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    ROOT,
    child_env,
    create_bucket,
    free_port,
    missing_service,
    nginx_http,
    run_tool,
    s3_dsn,
    self_signed_cert,
    spawn,
    start_nginx,
    stop_process,
    wait_port,
)

pytestmark = [pytest.mark.e2e, pytest.mark.production]

DOMAIN = "rolling.example.test"
KEY = "Rolling-deploys-share-this-key-Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4"
TIMES = 20  # requests per asset and page
PAGE = """
from django.http import HttpResponse
from django.template import engines
from django.urls import path

TEMPLATE = engines["django"].from_string(
    "{% load static %}<link rel=stylesheet href='{% static 'css/app.css' %}'>"
    "<script src='{% static 'js/app.js' %}'></script>"
)
urlpatterns += [path("page/", lambda request: HttpResponse(TEMPLATE.render({}, request)))]
"""
ASSETS = {
    "1": {"css/app.css": "body { color: red }", "js/app.js": "console.log('version 1');"},
    "2": {
        "css/app.css": "body { color: blue }",
        "js/app.js": "console.log('version 2');",
        "css/new.css": "p { margin: 0 }",  # a file version 1 does not have at all
    },
}


class Deploy:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ports: dict[str, int] = {}
        self.processes: dict[str, Any] = {}
        self.env: dict[str, str] = {}
        self.s3 = ""

    def build(self, version: str) -> Path:
        """startproject with the two lines, the version's static files, then what the
        Dockerfile's build step and the release commands run."""
        project = self.tmp / f"v{version}"
        project.mkdir()
        run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(project)])
        settings = project / "mysite" / "settings.py"
        settings.write_text(
            settings.read_text()
            + "\nSTATICFILES_DIRS = [BASE_DIR / 'assets']\n"
            + "import divio_settings\ndivio_settings.apply(globals())\n"
        )
        urls = project / "mysite" / "urls.py"
        urls.write_text(urls.read_text() + PAGE)
        for name, text in ASSETS[version].items():
            (project / "assets" / name).parent.mkdir(parents=True, exist_ok=True)
            (project / "assets" / name).write_text(text)
        build_env = {**child_env(), "PYTHONPATH": str(ROOT)}
        run_tool(
            [sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=project, env=build_env
        )
        commands = run_tool(
            [sys.executable, "-m", "divio_settings", "release-commands", str(project)],
            env=self.env,
        ).stdout.splitlines()
        assert commands[-2:] == ["python manage.py publish_static", "python manage.py preflight"]
        for command in commands:
            run_tool([sys.executable, *command.split()[1:]], cwd=project, env=self.env, timeout=180)
        return project

    def start(self, version: str) -> None:
        port = self.ports[version] = self.ports.get(version) or free_port()
        self.processes[version] = spawn(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "mysite.wsgi"],
            self.tmp / f"v{version}.log",
            cwd=self.tmp / f"v{version}",
            env=self.env,
        )
        wait_port(port, self.processes[version])

    def stop(self, version: str) -> None:
        stop_process(self.processes.pop(version))

    def page(self, version: str) -> list[str]:
        """The asset URLs of *version*'s page, asked of that version's container itself."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports[version]}/page/",
            headers={"Host": DOMAIN, "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            html = response.read().decode()
        return re.findall(r"(?:href|src)='(/static/[^']+)'", html)

    def get(self, port_name: str, path: str, https: bool = True) -> tuple[int, bytes, str, Any]:
        """Through a proxy, following redirects: (status, body, where it came from, headers)."""
        scheme = "https" if https else "http"
        request = urllib.request.Request(
            f"{scheme}://127.0.0.1:{self.ports[port_name]}{path}", headers={"Host": DOMAIN}
        )
        context = ssl.create_default_context(cafile=str(self.tmp / "cert.pem"))
        context.check_hostname = False
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), BrowserRedirects()
        )
        try:
            with opener.open(request, timeout=20) as response:
                where = "storage" if response.url.startswith(self.s3) else "container"
                return response.status, response.read(), where, response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), "container", error.headers


class BrowserRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect to another host is asked with that host's name, as a browser asks it
    (urllib would repeat the Host header set for the first request)."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.remove_header("Host")
        return new


def nginx_conf(deploy: Deploy, key: Path, versions: list[str]) -> str:
    prefix = deploy.tmp / "nginx"
    servers = "".join(f"    server 127.0.0.1:{deploy.ports[v]};\n" for v in versions)
    cdns = "".join(
        f"""
  server {{
    listen 127.0.0.1:{deploy.ports["cdn" + v]};
    location / {{
      proxy_pass http://127.0.0.1:{deploy.ports[v]};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto https;
      proxy_cache cdn;
      proxy_cache_key $uri;
      proxy_cache_valid any 10m;
      add_header X-Cache $upstream_cache_status always;
    }}
  }}"""
        for v in versions
    )
    return nginx_http(
        prefix,
        f"""  proxy_cache_path {prefix}/cache keys_zone=cdn:1m;
  upstream app {{
{servers}  }}
  server {{
    listen 127.0.0.1:{deploy.ports["https"]} ssl;
    ssl_certificate {deploy.tmp / "cert.pem"};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://app;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}{cdns}""",
    )


@pytest.fixture(scope="module")
def deploy(s3_server: str) -> Iterator[Deploy]:
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing_service("nginx is needed for the rolling-deploy end-to-end test")
    pytest.importorskip("gunicorn")
    tmp = Path(tempfile.mkdtemp(prefix="divio-settings-rolling-"))
    tmp.chmod(0o755)
    d = Deploy(tmp)
    stoppers: list[Any] = [lambda: shutil.rmtree(tmp, ignore_errors=True)]
    try:
        bucket = create_bucket(s3_server)
        d.env = {
            **child_env(),
            "PYTHONPATH": str(ROOT),
            "STAGE": "live",
            "DOMAIN": DOMAIN,
            "SECRET_KEY": KEY,
            "DEFAULT_STORAGE_DSN": s3_dsn(s3_server, bucket),
        }
        d.s3 = s3_server
        stoppers.append(lambda: list(map(stop_process, list(d.processes.values()))))
        for version in ("1", "2"):
            d.build(version)
            d.start(version)
        for name in ("https", "cdn1", "cdn2"):
            d.ports[name] = free_port()
        _, key = self_signed_cert(tmp, [DOMAIN])
        proxy = start_nginx(
            tmp / "nginx",
            nginx_conf(d, key, ["1", "2"]),
            [d.ports[name] for name in ("https", "cdn1", "cdn2")],
        )
        stoppers.append(lambda: stop_process(proxy))
        yield d
    finally:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:
                pass


def assets_of(version: str, urls: list[str]) -> dict[str, bytes]:
    """Each asset URL of the page and the bytes of the file it names in that version."""
    out = {}
    for url in urls:
        original = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url.removeprefix("/static/"))
        out[url] = ASSETS[version][original].encode()
    assert len(out) == 2
    return out


def load(deploy: Deploy, expected: dict[str, bytes]) -> tuple[list[str], Counter[str]]:
    failures, sources = [], Counter[str]()
    for url, body in expected.items():
        for _ in range(TIMES):
            status, got, where, _ = deploy.get("https", url)
            sources[where] += 1
            if status != 200 or got != body:
                failures.append(f"{url}: {status} {got[:80]!r}")
    return failures, sources


def test_each_page_gets_its_own_assets_during_and_after_the_overlap(deploy):
    v1_page, v2_page = deploy.page("1"), deploy.page("2")
    assert set(v1_page).isdisjoint(v2_page)  # hashed names: each version's own
    for version, page in (("2", v2_page), ("1", v1_page)):
        failures, sources = load(deploy, assets_of(version, page))
        assert failures == []
        # Round robin: half the requests met the other version's container, which redirected.
        assert sources["storage"] >= TIMES / 2, sources
        assert sources["container"] >= TIMES / 2, sources
    deploy.stop("1")
    try:
        for version, page in (("2", v2_page), ("1", v1_page)):
            failures, _ = load(deploy, assets_of(version, page))
            assert failures == []  # nginx moves on from the stopped container
    finally:
        deploy.start("1")


def test_a_cdn_never_pins_a_miss(deploy):
    """cdn1 reaches only version 1's container, cdn2 only version 2's, through one cache."""
    css = next(url for url in deploy.page("2") if url.endswith(".css"))
    # Version 2's CSS, asked of version 1 first: redirected (not cached), then version 2
    # answers and the CDN keeps that.
    status, body, where, headers = deploy.get("cdn1", css, https=False)
    assert (status, body, where) == (200, b"body { color: blue }", "storage")
    assert headers["X-Cache"] != "HIT"
    status, body, where, headers = deploy.get("cdn2", css, https=False)
    assert (status, where, headers["X-Cache"]) == (200, "container", "MISS")
    status, _, _, headers = deploy.get("cdn1", css, https=False)
    assert (status, headers["X-Cache"]) == (200, "HIT")
    # An unhashed name version 1 lacks: its 404 is not kept, version 2's file is.
    status, _, _, headers = deploy.get("cdn1", "/static/css/new.css", https=False)
    assert status == 404
    assert "no-store" in headers["Cache-Control"]
    status, body, _, headers = deploy.get("cdn2", "/static/css/new.css", https=False)
    assert (status, body) == (200, b"p { margin: 0 }")


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/..%5C..%5C..%5Csecret.0123456789ab.css",  # backslashes, once decoded
        "/static/css/%2E%2E/%2E%2E/site/secret.0123456789ab.css",  # ../ once decoded
        "/static/css/%252e%252e%252fsecret.0123456789ab.css",  # encoded twice
        "/static/css/never-published.0123456789ab.css",  # hashed, but no version has it
    ],
)
def test_a_name_that_was_not_published_is_an_uncached_404_never_a_redirect(deploy, path):
    """Through the CDN stand-in, twice: a 404 with no-store each time (never kept, never a
    500, never a redirect out of divio-static/ or to a signed URL of another object)."""
    for _ in range(2):
        status, _, where, headers = deploy.get("cdn1", path, https=False)
        assert (status, where) == (404, "container"), path
        assert "no-store" in headers["Cache-Control"]
        assert headers["X-Cache"] != "HIT"
