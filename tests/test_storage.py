from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import storage
from tests.helpers import LIVE_ENV, LOCAL_ENV

BACKEND = "divio_settings.storage.backend.DSNStorage"


def test_live_s3_dsn():
    out = storage.settings_from_env(LIVE_ENV, {"STORAGES": {"staticfiles": {"BACKEND": "s"}}})
    values = out.values
    assert values["STORAGES"] == {
        "staticfiles": {"BACKEND": "s"},
        "default": {
            "BACKEND": BACKEND,
            "OPTIONS": {"dsn": LIVE_ENV["DEFAULT_STORAGE_DSN"], "alias": "default"},
        },
    }
    assert values["MEDIA_URL"] == "https://example-live-b32-c967f23.divio-media.org/"
    assert "MEDIA_ROOT" not in values
    assert out.sources["MEDIA_URL"] == "DEFAULT_STORAGE_DSN"


def test_local_file_dsn():
    values = storage.settings_from_env(LOCAL_ENV, {}).values
    assert values["MEDIA_URL"] == "/media/"
    assert values["MEDIA_ROOT"] == "/data/media/"


@pytest.mark.parametrize(
    ("dsn", "url"),
    [
        ("s3://K:S@bucket.s3.amazonaws.com/", "https://s3.amazonaws.com/bucket/"),
        ("s3://K:S@bucket.s3.amazonaws.com/media/x/", "https://s3.amazonaws.com/bucket/media/x/"),
        (
            "s3://K:S@b.aldryn-media.io.s3-eu-central-1.amazonaws.com/?domain=b.aldryn-media.io",
            "https://b.aldryn-media.io/",
        ),
        (
            "s3://K:S@b.s3.amazonaws.com/loc?url=https%3A%2F%2Fcdn.example.com%2Floc%2F",
            "https://cdn.example.com/loc/",
        ),
        ("s3://EXO:S@bucket.sos-ch-dk-2.exo.io/?auth=s3", "https://sos-ch-dk-2.exo.io/bucket/"),
        (
            "az://acct:c2U9MjAzNi0wMS0y@blob.core.windows.net/public-media",
            "https://acct.blob.core.windows.net/public-media/",
        ),
        (
            "az://acct:key@blob.core.windows.net/c?domain=media.example.com",
            "https://media.example.com/c/",
        ),
        (
            "az://acct:key@blob.core.windows.net/c?url=http%3A%2F%2F127.0.0.1%3A10000%2Fx",
            "http://127.0.0.1:10000/c/",
        ),
        ("file:///data/media/", "/media/"),  # no url=: the guide's /media/, never the root
    ],
)
def test_media_url_is_the_storage_base_url(dsn, url):
    values = storage.settings_from_env({"DEFAULT_STORAGE_DSN": dsn}, {"MEDIA_URL": "/keep/"}).values
    assert values.get("MEDIA_URL", None) == url


def test_prefixed_storage_dsns_become_aliases():
    values = storage.settings_from_env(
        {
            "PRIVATE_STORAGE_DSN": "s3://K:S@b.s3.amazonaws.com/",
            "DEFAULT_STORAGE_DSN": "file:///m/",
        },
        {},
    ).values
    assert sorted(values["STORAGES"]) == ["default", "private"]
    assert values["STORAGES"]["private"]["OPTIONS"]["alias"] == "private"


def test_no_dsn_keeps_settings_py_media_and_sets_defaults():
    assert storage.settings_from_env({}, {"MEDIA_URL": "/m/", "MEDIA_ROOT": "/r"}).values == {}
    values = storage.settings_from_env({}, {"BASE_DIR": "/app"}).values
    assert values == {"MEDIA_ROOT": "/app/data/media", "MEDIA_URL": "/media/"}


@pytest.mark.parametrize(
    ("dsn", "detail"),
    [
        ("/data/media/", "no scheme"),
        ("ftp://u:topsecret@h/", "the scheme 'ftp' is not one of: az, file, s3"),
        ("s3://K:topsecret@/", "it has no host"),
        ("file://host/data/", "the path is not absolute"),
        ("file://relative", "the path is not absolute"),
        ("az://acct@blob.core.windows.net/c", "the account name or credential is missing"),
        ("s3://K:top/secret@b.s3.amazonaws.com/", "host or port cannot be read"),
    ],
)
def test_bad_dsns_name_the_variable_not_the_secret(dsn, detail):
    with pytest.raises(ImproperlyConfigured, match=r"^DEFAULT_STORAGE_DSN: expected ") as error:
        storage.settings_from_env({"DEFAULT_STORAGE_DSN": dsn}, {})
    assert detail in str(error.value)
    assert "topsecret" not in str(error.value)
    assert "top/secret" not in str(error.value)


@pytest.mark.parametrize(
    ("dsn", "spelling"),
    [
        (
            "s3://minio:topsecret@127.0.0.1:9000/media",
            "s3://KEY:SECRET@media/?endpoint=http://127.0.0.1:9000",
        ),
        (
            "s3://minio:topsecret@minio:9000/media/sub",
            "s3://KEY:SECRET@media/?endpoint=http://minio:9000",
        ),
        ("s3://minio:topsecret@[::1]:9000/m", "s3://KEY:SECRET@m/?endpoint=http://[::1]:9000"),
        ("s3://minio:topsecret@10.0.0.7/", "s3://KEY:SECRET@BUCKET/?endpoint=http://10.0.0.7"),
    ],
)
def test_minio_spelling_is_refused_with_the_endpoint_spelling(dsn, spelling):
    """MinIO's own DSN form would otherwise give MEDIA_URL https://0.0.1/127/… and fail at the
    first upload with an SSL error."""
    with pytest.raises(ImproperlyConfigured, match=r"^DEFAULT_STORAGE_DSN: expected ") as error:
        storage.settings_from_env({"DEFAULT_STORAGE_DSN": dsn}, {})
    assert spelling in str(error.value)
    assert "topsecret" not in str(error.value)
    fixed = spelling.replace("KEY:SECRET", "minio:topsecret").replace("BUCKET", "media")
    changes = storage.settings_from_env({"DEFAULT_STORAGE_DSN": fixed}, {})
    assert (
        changes.values["MEDIA_URL"]
        == spelling.split("endpoint=")[1] + "/" + fixed.split("@")[1].split("/")[0] + "/"
    )
