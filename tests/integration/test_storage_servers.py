"""Media through default_storage against real servers started here: an S3-compatible server
(moto in server mode, its own process), Azurite (Microsoft's emulator, from npm) and files."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from tests import azurite as emulator
from tests.helpers import (
    create_bucket,
    django_process,
    free_port,
    missing_service,
    s3_client,
    s3_dsn,
    spawn,
    stop_process,
    wait_port,
)

pytestmark = pytest.mark.integration

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
NAMES = ["plain.txt", "with space/and more.txt", "ünïcödé €.txt", "a+b.txt"]
BIG = 25 * 1024 * 1024  # above the 10 MB roll-over to disk


@pytest.fixture
def bucket(s3_server: str) -> tuple[str, Any]:
    return create_bucket(s3_server), s3_client(s3_server)


ROUND_TRIP = """
import hashlib
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage as storage
names = json.loads(os.environ["NAMES"])
from django.conf import settings
result = {"saved": [], "urls": {}, "read": {}, "exists": {}, "media_url": settings.MEDIA_URL}
for name in names:
    saved = storage.save(name, ContentFile(("content of " + name).encode()))
    result["saved"].append(saved)
    result["urls"][saved] = storage.url(saved)
    with storage.open(saved) as handle:
        result["read"][saved] = handle.read().decode()
    result["exists"][saved] = storage.exists(saved)
big = bytes(range(256)) * (int(os.environ["BIG"]) // 256)
saved = storage.save("big.bin", ContentFile(big))
with storage.open(saved) as handle:
    result["big"] = hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(big).hexdigest()
result["listdir"] = storage.listdir("")
storage.delete(saved)
result["big_deleted"] = not storage.exists(saved)
result["modules"] = sorted(m for m in ("boto3", "azure.storage.blob") if m in sys.modules)
print(json.dumps(result))
"""


def round_trip(dsn: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    result = django_process(
        {"DEFAULT_STORAGE_DSN": dsn},
        ROUND_TRIP,
        settings,
        {"NAMES": json.dumps(NAMES), "BIG": str(BIG)},
    )
    data: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return data


def check_round_trip(result: dict[str, Any], flat_listing: bool = False) -> None:
    saved = result["saved"]
    assert saved == NAMES
    assert result["read"] == {name: f"content of {name}" for name in NAMES}
    assert all(result["exists"].values())
    assert result["big"] is True
    assert result["big_deleted"] is True
    directories, files = result["listdir"]
    if flat_listing:
        # django-storages' Azure listdir() returns every blob and no directories.
        assert directories == []
        assert set(NAMES) <= set(files)
    else:
        assert "with space" in directories
        assert {"plain.txt", "ünïcödé €.txt", "a+b.txt"} <= set(files)


def test_s3_round_trip_acl_headers_and_a_second_process(bucket, s3_server):
    name, client = bucket
    dsn = s3_dsn(s3_server, name)
    # aldryn-django's spelling of the header: boto3 refuses it unless it is translated.
    headers = {"MEDIA_HEADERS": [[r"\.txt$", {"Cache-Control": "max-age=3600"}]]}
    result = round_trip(dsn, headers)
    check_round_trip(result)
    assert result["urls"]["ünïcödé €.txt"] == (
        f"{s3_server}/{name}/site/%C3%BCn%C3%AFc%C3%B6d%C3%A9%20%E2%82%AC.txt"
    )
    head = client.head_object(Bucket=name, Key="site/plain.txt")
    assert head["CacheControl"] == "max-age=3600"
    grants = client.get_object_acl(Bucket=name, Key="site/plain.txt")["Grants"]
    assert any(
        g["Grantee"].get("URI", "").endswith("/AllUsers") and g["Permission"] == "READ"
        for g in grants
    )
    # The public URL serves the file, and another process configured alike reads it.
    import urllib.request

    with urllib.request.urlopen(result["urls"]["with space/and more.txt"], timeout=10) as response:
        assert response.read() == b"content of with space/and more.txt"
    read = "from django.core.files.storage import default_storage as s\nprint(s.open('plain.txt').read().decode())"
    assert (
        django_process({"DEFAULT_STORAGE_DSN": dsn}, read).stdout.strip() == "content of plain.txt"
    )


def test_s3_acl_none_sends_no_acl(bucket, s3_server):
    name, client = bucket
    dsn = f"s3://AKIDTEST:x@{name}/?endpoint={s3_server}&acl=none"
    body = "from django.core.files.base import ContentFile\nfrom django.core.files.storage import default_storage as s\ns.save('private.txt', ContentFile(b'x'))"
    django_process({"DEFAULT_STORAGE_DSN": dsn}, body)
    grants = client.get_object_acl(Bucket=name, Key="private.txt")["Grants"]
    assert not any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants)


def test_s3_server_down_gives_a_clear_error_and_no_object(bucket, s3_server):
    name, _ = bucket
    port = free_port()  # nothing listens here
    dsn = f"s3://AKIDTEST:topsecret@{name}/?endpoint=http://127.0.0.1:{port}"
    body = "from django.core.files.base import ContentFile\nfrom django.core.files.storage import default_storage as s\ns.save('lost.txt', ContentFile(b'x'))"
    result = django_process({"DEFAULT_STORAGE_DSN": dsn}, body, check=False)
    assert result.returncode != 0
    assert "EndpointConnectionError" in result.stderr or "Could not connect" in result.stderr
    assert "topsecret" not in result.stderr


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = emulator.binary()
    if not binary.exists():
        message = (
            f"Azurite {emulator.VERSION} is not installed in {emulator.target()}: "
            f"run {emulator.INSTALL_COMMAND}"
        )
        missing_service(message)
    port = free_port()
    folder = tmp_path_factory.mktemp("azurite")
    process = spawn(
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
            "--location",
            str(folder),
        ],
        folder / "azurite.log",
    )
    try:
        wait_port(port, process)
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        # Its data is a temporary folder; on SIGTERM it waits for the SDK's keep-alive
        # connections (10 s per module), so it is killed.
        stop_process(process, grace=0)


@pytest.fixture
def container(azurite: str) -> str:
    from azure.storage.blob import BlobServiceClient

    name = f"media-{os.urandom(4).hex()}"
    service = BlobServiceClient(
        azurite, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    )
    service.create_container(name, public_access="blob")
    return name


def test_azure_round_trip_with_account_key(azurite, container):
    dsn = f"az://{AZURITE_ACCOUNT}:{quote(AZURITE_KEY, safe='')}@127.0.0.1/{container}?endpoint={azurite}"
    result = round_trip(dsn)
    check_round_trip(result, flat_listing=True)
    url = result["urls"]["ünïcödé €.txt"]
    assert url.startswith(f"{azurite}/{container}/")
    # {{ MEDIA_URL }} in a template links where the files are.
    assert result["media_url"] == f"{azurite}/{container}/"
    assert AZURITE_KEY not in json.dumps(result)
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == "content of ünïcödé €.txt".encode()


def test_azure_round_trip_with_sas_token_never_in_urls(azurite, container):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(
            read=True, write=True, delete=True, list=True, create=True
        ),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    token = base64.b64encode(sas.encode()).decode().rstrip("=")
    dsn = f"az://{AZURITE_ACCOUNT}:{quote(token, safe='')}@127.0.0.1/{container}?endpoint={azurite}"
    result = round_trip(dsn)
    check_round_trip(result, flat_listing=True)
    signature = dict(part.split("=", 1) for part in sas.split("&"))["sig"]
    assert signature not in json.dumps(result)
    assert all("sig=" not in url for url in result["urls"].values())


def test_file_round_trip_and_urls(tmp_path):
    result = round_trip(f"file://{tmp_path}/?url=%2Fmedia%2F")
    check_round_trip(result)
    assert result["urls"]["with space/and more.txt"] == "/media/with%20space/and%20more.txt"
    assert result["modules"] == []
    assert (
        hashlib.sha256((tmp_path / "plain.txt").read_bytes()).hexdigest()
        == hashlib.sha256(b"content of plain.txt").hexdigest()
    )


SAME_NAME = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage as storage
first = storage.save("same name.txt", ContentFile(b"first"))
second = storage.save("same name.txt", ContentFile(b"second"))
print(json.dumps([first, second, storage.open(first).read().decode(), storage.open(second).read().decode()]))
"""


def test_s3_same_name_uploads_keep_both_unless_the_dsn_says_overwrite(bucket, s3_server):
    name, _ = bucket
    dsn = f"s3://AKIDTEST:x@{name}/?endpoint={s3_server}"
    first, second, a, b = json.loads(django_process({"DEFAULT_STORAGE_DSN": dsn}, SAME_NAME).stdout)
    assert first == "same name.txt"
    assert second != first
    assert (a, b) == ("first", "second")
    overwrite = json.loads(
        django_process({"DEFAULT_STORAGE_DSN": dsn + "&overwrite=true"}, SAME_NAME).stdout
    )
    assert overwrite == ["same name.txt", "same name.txt", "second", "second"]


def test_azure_same_name_uploads_keep_both(azurite, container):
    dsn = f"az://{AZURITE_ACCOUNT}:{quote(AZURITE_KEY, safe='')}@127.0.0.1/{container}?endpoint={azurite}"
    first, second, a, b = json.loads(django_process({"DEFAULT_STORAGE_DSN": dsn}, SAME_NAME).stdout)
    assert second != first
    assert (a, b) == ("first", "second")


PUBLISH = """
import io
from django.core.management import call_command
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from django.test import RequestFactory
from divio_settings.middleware import StaticMissMiddleware
call_command("collectstatic", "--noinput", verbosity=0)
out = io.StringIO()
for _ in range(int(os.environ["TIMES"])):
    call_command("publish_static", "--keep", os.environ["KEEP"], stdout=out)
hashed = staticfiles_storage.stored_name("css/app.css")
miss = StaticMissMiddleware(lambda request: HttpResponse(status=404))
response = miss(RequestFactory().get("/static/" + hashed))
print(json.dumps({"out": out.getvalue(), "status": response.status_code,
                  "location": response.get("Location"), "hashed": hashed}))
"""


def publish(tmp_path: Any, dsn: str, css: str, times: int = 1, keep: int = 5) -> dict[str, Any]:
    """A build whose css/app.css is *css*: collectstatic, then publish_static *times*, and
    where a container without the file would redirect a request for it."""
    source = tmp_path / f"source-{hashlib.sha256(css.encode()).hexdigest()[:8]}"
    (source / "css").mkdir(parents=True, exist_ok=True)
    (source / "css" / "app.css").write_text(css)
    settings = {
        "INSTALLED_APPS": ["django.contrib.staticfiles"],
        "STATIC_ROOT": str(source.with_name(source.name + "-root")),
        "STATICFILES_DIRS": [str(source)],
    }
    result = django_process(
        {"DEFAULT_STORAGE_DSN": dsn}, PUBLISH, settings, {"TIMES": str(times), "KEEP": str(keep)}
    )
    data: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return data


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


def check_publishing(tmp_path: Any, dsn: str, cache_control: Any) -> None:
    """Version 1 published twice (the second uploads nothing); the redirect of a container
    without the file reaches its bytes; version 2 with --keep 1 removes version 1's copy."""
    v1 = publish(tmp_path, dsn, "body { color: red }", times=2)
    assert "published 1 new static files of 1" in v1["out"]
    assert "published 0 new static files of 1" in v1["out"]
    assert v1["status"] == 302
    assert v1["location"].endswith("/divio-static/" + v1["hashed"])
    status, _, body = fetch(v1["location"])
    assert (status, body) == (200, b"body { color: red }")
    assert cache_control(v1["hashed"]) == "public, max-age=31536000, immutable"
    v2 = publish(tmp_path, dsn, "body { color: blue }", keep=1)
    assert "pruned 1 older versions (1 files)" in v2["out"]
    assert fetch(v2["location"])[2] == b"body { color: blue }"
    assert fetch(v1["location"])[0] in (403, 404)


def test_publish_static_to_s3(tmp_path, bucket, s3_server):
    name, client = bucket
    dsn = s3_dsn(s3_server, name)

    def cache_control(hashed: str) -> Any:
        return client.head_object(Bucket=name, Key=f"site/divio-static/{hashed}")["CacheControl"]

    check_publishing(tmp_path, dsn, cache_control)


def test_publish_static_to_azure(tmp_path, azurite, container):
    from azure.storage.blob import BlobServiceClient

    dsn = f"az://{AZURITE_ACCOUNT}:{quote(AZURITE_KEY, safe='')}@127.0.0.1/{container}?endpoint={azurite}"
    service = BlobServiceClient(
        azurite, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    )

    def cache_control(hashed: str) -> Any:
        blob = service.get_blob_client(container, f"divio-static/{hashed}")
        return blob.get_blob_properties().content_settings.cache_control

    check_publishing(tmp_path, dsn, cache_control)


# --- publish_static under faults: a foreign manifest, kills mid-prune and mid-upload, two
# publishers at once. After every one, each manifest lists only objects that exist, and
# nothing outside divio-static/ is touched.

FAULTY_PUBLISH = """
import io, os
from django.core.management import call_command
from divio_settings.storage.backend import DSNStorage
call_command("collectstatic", "--noinput", verbosity=0)
kind, _, count = os.environ.get("FAULT", "").partition(":")
if kind:  # kill -9 once the storage has done *count* of these on static objects
    done = []
    original = getattr(DSNStorage, kind)
    def faulty(self, name, *args, **kwargs):
        if name.startswith("divio-static/css/"):
            done.append(name)
            if len(done) > int(count):
                os._exit(9)
        return original(self, name, *args, **kwargs)
    setattr(DSNStorage, kind, faulty)
out = io.StringIO()
call_command("publish_static", "--keep", os.environ["KEEP"], stdout=out)
print(json.dumps({"out": out.getvalue()}))
"""
FAULT_KEY = "fault-injection-key-" + "k" * 40


class Published:
    """The media storage as its own SDK lists it, below the DSN's location."""

    def __init__(self, names: Any, read: Any, write: Any) -> None:
        self.names, self.read, self.write = names, read, write

    def manifests(self) -> dict[str, set[str]]:
        from django.core import signing

        found = {}
        for name in self.names():
            if name.startswith(("divio-static/manifests/", "divio-static/pending/")):
                try:
                    data = signing.loads(
                        self.read(name).decode(),
                        key=FAULT_KEY,
                        salt="divio_settings.publish_static",
                    )
                except signing.BadSignature:
                    continue  # a foreign one, planted by the test
                found[name] = set(data["files"])
        return found

    def broken(self) -> dict[str, list[str]]:
        """Per published manifest, the objects it lists that do not exist."""
        there = set(self.names())
        return {
            manifest: sorted(n for n in files if f"divio-static/{n}" not in there)
            for manifest, files in self.manifests().items()
            if manifest.startswith("divio-static/manifests/")
            and any(f"divio-static/{n}" not in there for n in files)
        }


def build(tmp_path: Any, version: str, shared: int = 10, own: int = 20) -> dict[str, Any]:
    """A build of *shared* files every version has and *own* files of its own."""
    source = tmp_path / f"source-{version}"
    (source / "css").mkdir(parents=True, exist_ok=True)
    for number in range(shared):
        (source / "css" / f"shared{number}.css").write_text(f"p{number} {{ margin: 0 }}")
    for number in range(own):
        (source / "css" / f"own{number}.css").write_text(f"/* {version} */ b{number} {{}}")
    return {
        "INSTALLED_APPS": ["django.contrib.staticfiles"],
        "STATIC_ROOT": str(tmp_path / f"root-{version}"),
        "STATICFILES_DIRS": [str(source)],
    }


def run_publish(dsn: str, settings: dict[str, Any], keep: int = 5, fault: str = "") -> Any:
    environ = {"DEFAULT_STORAGE_DSN": dsn, "SECRET_KEY": FAULT_KEY}
    extra = {"KEEP": str(keep), "FAULT": fault}
    return django_process(environ, FAULTY_PUBLISH, settings, extra, check=False)


def check_faults(tmp_path: Any, dsn: str, store: Published) -> None:
    versions = {v: build(tmp_path, v) for v in ("1", "2", "3", "4", "5", "6")}
    for version in ("1", "2"):
        assert run_publish(dsn, versions[version]).returncode == 0
    # Anyone with write access to the bucket plants a manifest that lists a user's upload.
    store.write("uploads/victim.jpg", b"a user's photo")
    store.write(
        "divio-static/manifests/99999999999999999999-f00d.json",
        json.dumps({"files": ["../uploads/victim.jpg", "css/x.0123456789ab.css"]}).encode(),
    )
    killed = run_publish(dsn, versions["3"], keep=1, fault="delete:5")  # kill -9 mid-prune
    assert killed.returncode == 9, killed.stderr[-2000:]
    assert store.broken() == {}
    assert "uploads/victim.jpg" in store.names()
    # Reverting to version 1 (pruned half-way): its files are back, the victim still there.
    result = run_publish(dsn, versions["1"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "left alone: divio-static/manifests/99999999999999999999-f00d.json" in result.stdout
    assert store.broken() == {}
    killed = run_publish(dsn, versions["4"], fault="save:3")  # kill -9 mid-upload
    assert killed.returncode == 9
    assert store.broken() == {}
    # Two releases publishing at once, each pruning to one version.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda v: run_publish(dsn, versions[v], keep=1), ["5", "6"]))
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-1500:] for r in results]
    assert store.broken() == {}
    assert "uploads/victim.jpg" in store.names()
    assert store.read("uploads/victim.jpg") == b"a user's photo"


def test_publish_static_faults_on_s3(tmp_path, bucket, s3_server):
    name, client = bucket
    location = "site/"

    def names() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=location)
        return [o["Key"][len(location) :] for page in pages for o in page.get("Contents", [])]

    def read(key: str) -> bytes:
        body: bytes = client.get_object(Bucket=name, Key=location + key)["Body"].read()
        return body

    def write(key: str, body: bytes) -> None:
        client.put_object(Bucket=name, Key=location + key, Body=body)

    check_faults(tmp_path, s3_dsn(s3_server, name), Published(names, read, write))


def test_publish_static_faults_on_azure(tmp_path, azurite, container):
    from azure.storage.blob import BlobServiceClient

    dsn = f"az://{AZURITE_ACCOUNT}:{quote(AZURITE_KEY, safe='')}@127.0.0.1/{container}?endpoint={azurite}"
    service = BlobServiceClient(
        azurite, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    )
    client = service.get_container_client(container)

    def names() -> list[str]:
        return [blob.name for blob in client.list_blobs()]

    def read(key: str) -> bytes:
        data: bytes = client.download_blob(key).readall()
        return data

    def write(key: str, body: bytes) -> None:
        client.upload_blob(key, body, overwrite=True)

    check_faults(tmp_path, dsn, Published(names, read, write))


def test_settings_py_object_parameters_reach_the_objects(s3_server, bucket):
    """AWS_S3_OBJECT_PARAMETERS (a 7-day CacheControl) was dropped once DEFAULT_STORAGE_DSN
    took over (#33, item 4): now every upload carries it, under the DSN's acl=."""
    name, client = bucket
    body = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
print(default_storage.save("cached.txt", ContentFile(b"x")))
"""
    own = {"AWS_S3_OBJECT_PARAMETERS": {"CacheControl": "max-age=604800", "ContentLanguage": "de"}}
    saved = django_process({"DEFAULT_STORAGE_DSN": s3_dsn(s3_server, name)}, body, own)
    head = client.head_object(Bucket=name, Key=f"site/{saved.stdout.strip().splitlines()[-1]}")
    assert head["CacheControl"] == "max-age=604800"
    assert head["ContentLanguage"] == "de"
