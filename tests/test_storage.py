from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import storage
from divio_settings.storage import dsn as storage_dsn
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
        ("ftp://u:topsecret@h/", "its scheme is not one of: az, file, s3"),
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


PUBLIC_S3 = "s3://AKIA:secretvalue@bucket.s3.amazonaws.com/"
PRIVATE_S3 = PUBLIC_S3 + "?acl=private&qs_auth=true"


@pytest.mark.parametrize(
    ("own", "why"),
    [
        ({"AWS_DEFAULT_ACL": "private"}, "AWS_DEFAULT_ACL = 'private'"),
        ({"AWS_QUERYSTRING_AUTH": True}, "AWS_QUERYSTRING_AUTH = True"),
        (
            {"STORAGES": {"default": {"BACKEND": "storages.backends.s3.S3Storage"}}},
            "django-storages signs its URLs by default",
        ),
        (
            {"STORAGES": {"default": {"BACKEND": "x", "OPTIONS": {"default_acl": "private"}}}},
            "['default_acl'] = 'private'",
        ),
        ({"AZURE_URL_EXPIRATION_SECS": 3600}, "AZURE_URL_EXPIRATION_SECS = 3600"),
    ],
)
def test_private_media_refuse_a_public_dsn(own, why):
    """A move never widens access (#36): settings.py's private media refuse a DSN that
    publishes them, name why, and say which DSN options keep them private; nothing is written."""
    import divio_settings

    for dsn in (
        PUBLIC_S3,
        PUBLIC_S3 + "?qs_auth=true&acl=public-read",
        "az://a:k@blob.core.windows.net/c",
    ):
        ns = {"__file__": "/app/x/settings.py", **own}
        with pytest.raises(ImproperlyConfigured) as error:
            divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": dsn})
        message = str(error.value)
        assert message.startswith("DEFAULT_STORAGE_DSN: expected a private storage DSN")
        assert why in message
        assert "acl=private&qs_auth=true" in message
        assert "secretvalue" not in message
        assert ns == {"__file__": "/app/x/settings.py", **own}
    # The private DSN keeps them private: accepted, and its URLs are signed.
    ns = {"__file__": "/app/x/settings.py", **own}
    divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": PRIVATE_S3})
    assert ns["STORAGES"]["default"]["OPTIONS"]["dsn"] == PRIVATE_S3
    assert storage_dsn.StorageDSN(PRIVATE_S3).s3.querystring_auth


def test_private_media_and_a_file_dsn():
    """Files on the developer's disk are no wider locally; in the cloud they are served."""
    import divio_settings

    own = {"__file__": "/app/x/settings.py", "AWS_DEFAULT_ACL": "private"}
    ns = dict(own)
    divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": "file:///data/media/"})
    with pytest.raises(ImproperlyConfigured, match="expected a private storage DSN"):
        divio_settings.apply(
            dict(own), environ={**LIVE_ENV, "DEFAULT_STORAGE_DSN": "file:///data/media/"}
        )


def test_public_media_take_any_dsn():
    import divio_settings

    owns: list[dict[str, Any]] = [
        {},
        {"AWS_DEFAULT_ACL": "public-read"},
        {"AWS_QUERYSTRING_AUTH": False},
    ]
    for own in owns:
        ns: dict[str, Any] = {"__file__": "/app/x/settings.py", **own}
        divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": PUBLIC_S3})
        assert ns["STORAGES"]["default"]["OPTIONS"]["dsn"] == PUBLIC_S3


def test_settings_py_bucket_settings_are_said_to_be_replaced():
    import divio_settings

    ns = {
        "__file__": "/app/x/settings.py",
        "AWS_STORAGE_BUCKET_NAME": "old-bucket",
        "AWS_S3_REGION_NAME": "eu-west-1",
        "AWS_QUERYSTRING_AUTH": False,
    }
    divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": PUBLIC_S3})
    replaced = divio_settings.changes(ns)["replaced"]
    assert [row["setting"] for row in replaced] == [
        "AWS_QUERYSTRING_AUTH",
        "AWS_S3_REGION_NAME",
        "AWS_STORAGE_BUCKET_NAME",
    ]
    assert replaced[0]["reason"] == (
        "not read: DEFAULT_STORAGE_DSN configures the storage; say it there as qs_auth="
    )
    assert ns["DIVIO_REPLACED_STORAGE_SETTINGS"] == [
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_REGION_NAME",
        "AWS_QUERYSTRING_AUTH",
    ]


def test_a_media_prefix_that_moves_is_named():
    """settings.py's media lived below media/ in the bucket; a DSN without a path puts new
    uploads at the root (#33, item 5): show --changes says where both are."""
    import divio_settings

    ns = {"__file__": "/app/x/settings.py", "AWS_LOCATION": "media"}
    divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": PUBLIC_S3})
    (row,) = divio_settings.changes(ns)["replaced"]
    assert row == {
        "setting": "AWS_LOCATION",
        "reason": "not read: DEFAULT_STORAGE_DSN configures the storage; say it there as the "
        "DSN's path (media were below media/, the DSN's path puts new ones below the root)",
    }
    same = {"__file__": "/app/x/settings.py", "AWS_LOCATION": "site"}
    divio_settings.apply(
        same, environ={"DEFAULT_STORAGE_DSN": PUBLIC_S3.replace(".com/", ".com/site/", 1)}
    )
    assert "media were below" not in divio_settings.changes(same)["replaced"][0]["reason"]


def test_private_object_parameters_refuse_a_public_dsn():
    """AWS_S3_OBJECT_PARAMETERS = {'ACL': 'private'} keeps media private: a move never widens."""
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    import divio_settings

    ns = {"__file__": "/app/x/settings.py", "AWS_S3_OBJECT_PARAMETERS": {"ACL": "private"}}
    with pytest.raises(ImproperlyConfigured, match=r"AWS_S3_OBJECT_PARAMETERS\['ACL'\]"):
        divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": PUBLIC_S3})
