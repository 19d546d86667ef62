"""A `wagtail start` project (a split settings package of its own), built from PyPI, moved onto
divio-settings: init, empty-environment collectstatic, migrate on PostgreSQL, pages and a hashed
static file through gunicorn, an image upload and its rendition in the S3 server fetched by URL,
`show` equal to the running settings, and the project's old variable name named by a check."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest

from divio_settings.cli import main
from tests.helpers import (
    LIVE_KEY,
    PASSWORD,
    REPORT,
    cloud_env,
    create_bucket,
    get,
    run_tool,
    s3_dsn,
)
from tests.image import build, wheelhouse

pytestmark = [pytest.mark.e2e, pytest.mark.projects]

UPLOAD = """
import io, json
from PIL import Image as Picture
from django.core.files.images import ImageFile
from wagtail.images.models import Image
buffer = io.BytesIO()
Picture.new("RGB", (320, 200), (200, 40, 40)).save(buffer, "PNG")
image = Image.objects.create(title="red", file=ImageFile(buffer, name="red square.png"))
rendition = image.get_rendition("fill-100x100")
print(json.dumps({"original": image.file.url, "rendition": rendition.url,
                  "name": image.file.name}))
"""


def test_wagtail_project_moves_and_runs(tmp_path, postgres, s3_server):
    user, db = postgres
    bucket = create_bucket(s3_server)

    # The developer's machine: `wagtail start`, Wagtail's own command from its PyPI wheel. It
    # needs only Django (this Python's) to render the template, so the wheel is unpacked rather
    # than installed with its dependencies a second time (the image installs them).
    tools = tmp_path / "tools"
    run_tool([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tools,
              "wagtail>=7,<8"], timeout=600)  # fmt: skip
    (wheel,) = tools.glob("wagtail-*.whl")
    zipfile.ZipFile(wheel).extractall(tools / "unpacked")
    root = tmp_path / "site"
    root.mkdir()
    start = [sys.executable, "-m", "wagtail.bin.wagtail", "start", "mysite", str(root)]
    env = {**os.environ, "PYTHONPATH": str(tools / "unpacked")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run_tool(start, cwd=tmp_path, env=env)
    # wagtail start writes a Dockerfile of its own: init says so, --force replaces it (kept as
    # Dockerfile.bak). Its manage.py and wsgi.py load the dev module; init wires the production
    # one, which wagtail's own Dockerfile deployed, without being told (#38, item 4).
    wire = ["init", str(root), "--database", "postgres"]
    assert main(wire) == 1
    assert main([*wire, "--force"]) == 0
    assert (root / "Dockerfile.bak").is_file()
    production = (root / "mysite" / "settings" / "production.py").read_text()
    assert "divio_settings.apply(globals())" in production
    # Wagtail's search index needs django.contrib.postgres on PostgreSQL: init writes the line
    # after apply() (the how-to's hand edit of earlier releases).
    assert '"django.contrib.postgres"]' in production.split("apply(globals())")[1]
    dockerfile = (root / "Dockerfile").read_text()
    assert "ENV DJANGO_SETTINGS_MODULE=mysite.settings.production\n" in dockerfile

    # The image, built from what init wrote, on the first attempt (collectstatic included).
    image = build(root, tmp_path / "image", wheelhouse(tmp_path / "wheels"))
    manage = functools.partial(image.run, "manage.py")

    media_url = f"{s3_server}/{bucket}"
    cloud = {
        **cloud_env(user, db),
        "DEFAULT_STORAGE_DSN": s3_dsn(s3_server, bucket),
        "DJANGO_SECRET_KEY": "the-project-s-old-name-" + "y" * 30,
    }
    # The release commands, as divio-settings prints them in the image for this environment,
    # each on its first attempt (the cache is the database's: a table of its own).
    steps = image.release(cloud)
    assert list(steps)[:2] == ["createcachetable", "migrate"]
    checks = steps["migrate"].stderr + steps["migrate"].stdout
    assert "divio_settings.W014" in checks  # DJANGO_SECRET_KEY, which nobody reads
    assert "divio_settings.W016" in checks  # production.py's ManifestStaticFilesStorage

    upload = manage("shell", "-c", UPLOAD, env=cloud)
    assert upload.returncode == 0, upload.stderr[-3000:]
    urls = json.loads(upload.stdout.strip().splitlines()[-1])
    for key in ("original", "rendition"):
        assert urls[key].startswith(f"{media_url}/site/"), urls
        status, _, body = get(urls[key], host="")
        assert status == 200
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
    # A second upload of the same name keeps the first (no silent overwrite on S3).
    again = json.loads(manage("shell", "-c", UPLOAD, env=cloud).stdout.strip().splitlines()[-1])
    assert again["name"] != urls["name"]

    with image.server(cloud) as port:
        status, _, home = get(f"http://127.0.0.1:{port}/")
        assert status == 200
        status, _, login = get(f"http://127.0.0.1:{port}/admin/login/")
        assert status == 200
        css = re.search(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', login + home)
        assert css, login[:500]
        status, headers, _ = get(f"http://127.0.0.1:{port}{css.group(1).decode()}")
        assert status == 200
        assert "immutable" in headers["Cache-Control"]

    runtime = json.loads(manage("shell", "-c", REPORT, env=cloud).stdout.strip().splitlines()[-1])
    # show --settings, in a shell without DJANGO_SETTINGS_MODULE, says what the runtime has.
    shown = subprocess.run(
        [
            "divio-settings",
            "show",
            str(image.app),
            "--settings",
            "mysite.settings.production",
            "--json",
        ],
        env={"PATH": image.env["PATH"], **cloud},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == runtime
    for secret in (LIVE_KEY, PASSWORD, "se/cr+et", "y" * 30):
        assert secret not in shown.stdout
