"""The built documentation as a reader's browser shows it (tox env docs): headless Chromium loads
the front page, the tutorial, the variables reference and a how-to from a local server, and each
has its navigation, every picture loads, and no link inside the site leads nowhere.

The site is the one `sphinx-build` wrote (DOCS_HTML, else it is built here). Chromium comes from
Debian (`apt-get install chromium`; `.ci/run` installs it); without it the test skips, or fails
where DIVIO_SETTINGS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from tests.helpers import ROOT, free_port, missing_service, spawn, stop_process, wait_port

pytestmark = pytest.mark.browser
PAGES = ("index.html", "tutorial.html", "reference/variables.html", "how-to/move.html")
# Loaded next to the site: opens a page in a frame of the same origin and writes what the reader
# would notice (navigation, pictures, links) into its own DOM, which --dump-dom prints.
HARNESS = """<!doctype html><html><body><pre id="result">pending</pre>
<script>
const page = new URLSearchParams(location.search).get("page");
const frame = document.createElement("iframe");
frame.style.width = "1280px"; frame.style.height = "900px";
frame.onload = () => {
  const doc = frame.contentDocument;
  const settle = () => {
    const images = [...doc.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0}));
    if (images.some(i => !i.ok) && Date.now() - started < 4000) { setTimeout(settle, 100); return; }
    document.getElementById("result").textContent = JSON.stringify({
      title: doc.title,
      nav: [...doc.querySelectorAll(".sidebar-tree a.reference")].map(a => a.textContent),
      images,
      links: [...doc.querySelectorAll("a[href]")].map(a => a.href),
    });
  };
  const started = Date.now();
  settle();
};
frame.src = page;
document.body.appendChild(frame);
</script></body></html>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        missing_service("Chromium is not installed (apt-get install chromium)")
    return str(found)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DOCS_HTML")
    if given and (Path(given) / "index.html").is_file():
        built = Path(given)
    else:
        built = tmp_path_factory.mktemp("docs") / "html"
        subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", "-b", "html", f"{ROOT}/docs", str(built)],
            check=True,
            timeout=600,
        )
    served = tmp_path_factory.mktemp("served") / "site"
    shutil.copytree(built, served)
    (served / "__harness__.html").write_text(HARNESS)
    return served


@pytest.fixture(scope="module")
def server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = spawn(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        tmp_path_factory.mktemp("log") / "http.log",
        cwd=site,
    )
    try:
        wait_port(port, process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process(process)


def rendered(browser: str, url: str, profile: Path) -> dict[str, object]:
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=8000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    result: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return result


def target_exists(site: Path, server: str, link: str) -> bool:
    """A link inside the site leads to a file of the build, and to an id on that page."""
    parts = urlsplit(link)
    path = unquote(parts.path[len(urlsplit(server).path) :]) or "index.html"
    file = site / path
    if file.is_dir():
        file = file / "index.html"
    if not file.is_file():
        return False
    if parts.fragment and file.suffix == ".html":
        return f'id="{parts.fragment}"' in file.read_text(errors="ignore")
    return True


@pytest.mark.parametrize("page", PAGES)
def test_the_page_renders_with_navigation_pictures_and_working_links(
    page: str, site: Path, server: str, tmp_path: Path
) -> None:
    browser = chromium()
    result = rendered(browser, urljoin(server, f"__harness__.html?page={page}"), tmp_path)
    assert result["title"], result
    nav = result["nav"]
    assert isinstance(nav, list)
    # The sidebar lists every page of the toctree, the tutorial and troubleshooting first.
    assert nav[:2] == ["Tutorial: from startproject to Divio", "Troubleshooting"], nav
    assert len(nav) >= 14
    images = result["images"]
    assert isinstance(images, list)
    assert all(image["ok"] for image in images), images
    if page == "index.html":
        assert any(image["src"].endswith("environments.svg") for image in images), images
    links = result["links"]
    assert isinstance(links, list)
    inside = [link for link in links if link.startswith(server)]
    assert inside
    broken = [link for link in inside if not target_exists(site, server, link)]
    assert broken == []
