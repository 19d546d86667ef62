"""`manage.py preflight`'s media probe against the S3-compatible server (moto; a second one
that checks signatures, as AWS does) and Azurite: right credentials, a wrong or empty secret, a
bucket whose objects are not publicly readable (the 403 a browser gets), and a url= that leads
elsewhere. Each failure gives its line and exit status 1, without the secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import free_port, stop_process, wait_port
from tests.integration.test_preflight import preflight
from tests.integration.test_storage_servers import (  # noqa: F401 (fixtures)
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    azurite,
    container,
)

pytestmark = pytest.mark.integration


def s3_dsn(endpoint: str, bucket: str, key: str, secret: str, query: str = "") -> str:
    public = quote(f"{endpoint}/{bucket}", safe="")
    return (
        f"s3://{key}:{quote(secret, safe='')}@{bucket}/site?endpoint={endpoint}&url={public}"
        + query
    )


# Static files whose names are not hashed: nothing is published to check (the static probe
# has tests of its own), so the exit status is the media probe's.
PLAIN_STATIC = {"STORAGES": {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}  # fmt: skip


def media(environ: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, rows, printed = preflight(environ, *args, settings=PLAIN_STATIC)
    return code, rows["media default"], printed


def test_s3_right_credentials_and_the_public_url(s3_server):
    from tests.helpers import create_bucket

    bucket = create_bucket(s3_server)
    code, row, _ = media({"DEFAULT_STORAGE_DSN": s3_dsn(s3_server, bucket, "AKIDTEST", "se/cr+et")})
    assert code == 0, row
    assert row["status"] == "ok"
    assert row["detail"] == (
        "wrote, read back and deleted divio-preflight/…; its URL on 127.0.0.1 answers with it"
    )
    from tests.helpers import s3_client

    listed = s3_client(s3_server).list_objects_v2(Bucket=bucket).get("Contents", [])
    assert listed == []  # the probe object is gone


def test_s3_url_that_leads_elsewhere_is_named(s3_server):
    from tests.helpers import create_bucket

    bucket = create_bucket(s3_server)
    dsn = s3_dsn(s3_server, bucket, "AKIDTEST", "se/cr+et").replace(
        quote(f"/{bucket}", safe=""), quote("/no-such-bucket", safe="")
    )
    code, row, _ = media({"DEFAULT_STORAGE_DSN": dsn})
    assert code == 1
    assert row["detail"] == (
        "127.0.0.1 answered 404 at the object's URL: url= or domain= of DEFAULT_STORAGE_DSN "
        "does not lead to the bucket"
    )


@pytest.fixture(scope="module")
def s3_checking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, str]]:
    """moto checking signatures after its first four actions (as AWS does): a user with an
    access key and S3 rights, and a bucket of theirs. (endpoint, bucket, key id, secret)."""
    pytest.importorskip("moto.server", reason="moto[server] is a test dependency")
    import boto3

    port = free_port()
    log = tmp_path_factory.mktemp("moto-auth") / "moto.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "4"},
        )
    try:
        wait_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        given = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        iam = boto3.client("iam", aws_access_key_id="a", aws_secret_access_key="b", **given)
        iam.create_user(UserName="media")
        key = iam.create_access_key(UserName="media")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}  # fmt: skip
        iam.put_user_policy(UserName="media", PolicyName="s3", PolicyDocument=json.dumps(policy))
        own = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}  # fmt: skip
        boto3.client("s3", **own, **given).create_bucket(Bucket="media-checked")
        yield endpoint, "media-checked", key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        stop_process(process)


def test_s3_wrong_or_empty_secret_is_refused_before_traffic(s3_checking):
    endpoint, bucket, key, secret = s3_checking
    for wrong in ("wr0ng-S3cret-value", ""):
        dsn = s3_dsn(endpoint, bucket, key, wrong)
        code, row, printed = media({"DEFAULT_STORAGE_DSN": dsn})
        assert code == 1, row
        # SignatureDoesNotMatch, or 403 where the SDK asked with HEAD (no body, no code)
        assert row["detail"].startswith("cannot write: the storage answered "), row
        assert row["detail"].endswith(
            " (the storage refused the credentials); check DEFAULT_STORAGE_DSN"
        )
        assert secret not in printed
        assert "wr0ng-S3cret-value" not in printed


def test_s3_objects_a_browser_cannot_read_are_the_403_line(s3_checking):
    """The bucket keeps its objects private (acl=private, unsigned URLs): writing works, every
    page's images would not."""
    endpoint, bucket, key, secret = s3_checking
    code, row, printed = media(
        {"DEFAULT_STORAGE_DSN": s3_dsn(endpoint, bucket, key, secret, "&acl=private")}
    )
    assert code == 1, row
    assert row["detail"] == (
        "127.0.0.1 answered 403 for a public read: add a public-read policy to the bucket, or "
        "say acl=public-read in the DSN (or acl=private&qs_auth=true for private media with "
        "signed URLs)"
    )
    assert secret not in printed


def test_s3_private_media_with_signed_urls_pass(s3_server):
    """Signed URLs on the endpoint work; with url= (a custom domain) django-storages does not
    sign them, and the 403 says so before a visitor sees a broken image. (The server that checks
    signatures answers signed and public reads with a 500, a fault of its own.)"""
    from tests.helpers import create_bucket

    endpoint, bucket, key, secret = s3_server, create_bucket(s3_server), "AKIDTEST", "se/cr+et"
    private = f"s3://{key}:{quote(secret, safe='')}@{bucket}/site?endpoint={endpoint}"
    code, row, printed = media({"DEFAULT_STORAGE_DSN": private + "&acl=private&qs_auth=true"})
    assert code == 0, row
    assert row["detail"].endswith("its URL on 127.0.0.1 answers with it")
    assert quote(secret, safe="") not in printed
    dsn = s3_dsn(endpoint, bucket, key, secret, "&acl=private&qs_auth=true")
    code, row, _ = media({"DEFAULT_STORAGE_DSN": dsn})
    assert code == 1
    assert row["detail"].startswith("127.0.0.1 answered 403 for a public read")


def test_azure_right_and_wrong_account_key(azurite, container):  # noqa: F811 (fixtures)
    right = f"az://{AZURITE_ACCOUNT}:{quote(AZURITE_KEY, safe='')}@127.0.0.1/{container}?endpoint={azurite}"
    code, row, _ = media({"DEFAULT_STORAGE_DSN": right})
    assert code == 0, row
    assert row["detail"].endswith("its URL on 127.0.0.1 answers with it")
    wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="
    wrong = right.replace(quote(AZURITE_KEY, safe=""), quote(wrong_key, safe=""))
    code, row, printed = media({"DEFAULT_STORAGE_DSN": wrong})
    assert code == 1
    assert row["detail"].startswith("cannot write: the storage answered ")
    assert "(the storage refused the credentials); check DEFAULT_STORAGE_DSN" in row["detail"]
    assert wrong_key not in printed
    assert AZURITE_KEY not in printed


def test_this_build_s_static_files_published_or_the_line_says_run_publish_static(
    s3_server, tmp_path
):
    """With the static fallback on (shared media), preflight runs after publish_static: a
    build it did not publish is a failure, since other versions' pages would lose assets."""
    from tests.helpers import create_bucket

    bucket = create_bucket(s3_server)
    environ = {"DEFAULT_STORAGE_DSN": s3_dsn(s3_server, bucket, "AKIDTEST", "se/cr+et")}
    built = {"STATIC_ROOT": str(tmp_path / "static"), "INSTALLED_APPS": [
        "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.admin",
        "django.contrib.staticfiles", "django.contrib.messages", "django.contrib.sessions"]}  # fmt: skip
    collect = "call_command('collectstatic', '--noinput', verbosity=0)"
    code, rows, _ = preflight(environ, before=collect, settings=built)
    assert code == 1
    assert rows["static published"]["detail"] == (
        "this build's static files are not published: run 'python manage.py publish_static' "
        "before preflight (a release command)"
    )
    publish = collect + "; call_command('publish_static', verbosity=0)"
    code, rows, _ = preflight(environ, before=publish, settings=built)
    assert code == 0, rows
    assert rows["static published"]["detail"].startswith("this build's ")
    assert rows["static published"]["detail"].endswith(
        " hashed files are published (versions kept: 1)"
    )
