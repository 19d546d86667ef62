"""StorageDSN.url_function and .base_url give what the real backends give, without an SDK."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from divio_settings.storage.backend import build as build_backend
from divio_settings.storage.dsn import StorageDSN

pytest.importorskip("boto3", reason="the s3 extra is needed to compare with the real backend")
pytest.importorskip("azure.storage.blob", reason="the azure extra is needed")

S3_DSNS = [
    # AWS global, Divio's form with domain=
    "s3://AKIA:t62L%2BOw@example-live-b32.divio-media.org.s3.amazonaws.com/?auth=s3v4&domain=example-live-b32.divio-media.org",
    # AWS regional, dotted bucket, a location prefix
    "s3://AKIA:S@example-test.aldryn-media.io.s3-eu-central-1.amazonaws.com/media/sub/?domain=example-test.aldryn-media.io",
    "s3://AKIA:S@bucket.s3.eu-west-2.amazonaws.com/loc?url=https%3A%2F%2Fcdn.example.com%2Fignored",
    # Exoscale
    "s3://EXO:S@example-test-7654.sos-ch-dk-2.exo.io/?auth=s3&domain=media.example.ch",
    # FIPS / dual-stack hosts
    "s3://AKIA:S@bucket.s3-fips.dualstack.us-east-1.amazonaws.com/?domain=m.example.com",
    # our local endpoint form
    "s3://minio:minio123@media/uploads?endpoint=http://127.0.0.1:9000&url=http%3A%2F%2Flocalhost%3A9000",
    # the MinIO form of the how-to: no ACL, objects public by bucket policy
    "s3://minio:minio123@media/?endpoint=http://127.0.0.1:9000&acl=none&url=http%3A%2F%2F127.0.0.1%3A9000%2Fmedia",
    "s3://AKIA:S@bucket.s3.amazonaws.com/?domain=m.example.com&acl=private",
    # no domain= and no url=: botocore builds the bucket's URL
    "s3://AKIA:S@bucket.s3.amazonaws.com/loc/?acl=none",
    "s3://AKIA:S@bucket.s3.eu-west-2.amazonaws.com/",
    "s3://AKIA:S@b.aldryn-media.io.s3-eu-central-1.amazonaws.com/x",
    "s3://AKIA:S@bucket.s3.eu-west-2.amazonaws.com/v/?addressing_style=virtual",
    "s3://EXO:S@bucket.sos-ch-dk-2.exo.io/?auth=s3",
    "s3://K:S@bucket/loc?endpoint=http://127.0.0.1:9000",
    "s3://K:S@bucket/?endpoint=http://127.0.0.1:9000&addressing_style=virtual",
    "s3://K:S@bucket/?endpoint=http://localhost:9000&addressing_style=virtual",
    "s3://K:S@bucket/?endpoint=http://127.0.0.1:9000&addressing_style=path&acl=none",
]
AZ_DSNS = [
    "az://exampletest43b4705bdf:c2U9MjAzNi0wMS0yJnNwPXJ3ZGxjJnN2PTIwMjAtMDgtMDQmc3I9YyZzaWc9YWJj@blob.core.windows.net/public-media",
    "az://acct:a2V5a2V5a2V5a2V5@blob.core.windows.net/c?domain=media.example.com",
]
NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from(list(" +%#?&/.~'()*!é€")),
    min_size=1,
    max_size=40,
)
EXAMPLES = [
    "a.jpg",
    "dir/sub/file name.png",
    "ünïcödé.txt",
    "a+b%20c#d?e.txt",
    "x/../y.txt",
    "./z.txt",
    "folder/",
    "~tilde.txt",
    "it's (1).txt",
    "emoji-😀.png",
]


@functools.cache
def real_backend(dsn: str) -> Any:
    return build_backend(StorageDSN(dsn))


def real_url(dsn: str, name: str) -> str | type[Exception]:
    try:
        return str(real_backend(dsn).url(name))
    except Exception as error:  # the pure version must fail the same way
        return type(error)


def pure_url(dsn: str, name: str) -> str | type[Exception]:
    function = StorageDSN(dsn).url_function()
    assert function is not None
    try:
        return function(name)
    except Exception as error:
        return type(error)


def same_failure(real: object, pure: object) -> bool:
    return (
        isinstance(real, type)
        and isinstance(pure, type)
        # botocore's ParamValidationError: an empty key
        and (
            issubclass(real, ValueError)
            or real.__name__ in ("SuspiciousOperation", "ParamValidationError")
        )
        and issubclass(pure, ValueError)
    )


@pytest.mark.parametrize("dsn", S3_DSNS + AZ_DSNS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_match_the_real_backend(dsn, name):
    real, pure = real_url(dsn, name), pure_url(dsn, name)
    assert real == pure or same_failure(real, pure)


@pytest.mark.parametrize("dsn", S3_DSNS + AZ_DSNS)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAMES)
def test_generated_names_match_the_real_backend(dsn, name):
    real, pure = real_url(dsn, name), pure_url(dsn, name)
    assert real == pure or same_failure(real, pure)


@pytest.mark.parametrize(
    "dsn",
    [
        "s3://K:S@bucket.s3.amazonaws.com/?domain=m.example.com&qs_auth=true",
        "s3://K:S@bucket.s3.amazonaws.com/?qs_auth=true",
        "s3://K:S@bucket/?endpoint=http://127.0.0.1:9000&qs_auth=true",
    ],
)
def test_no_pure_url_where_only_the_backend_can_tell(dsn):
    assert StorageDSN(dsn).url_function() is None


@pytest.mark.parametrize(
    "dsn",
    [
        "s3://K:S@bucket.s3.amazonaws.com/",
        "s3://K:S@bucket.s3.amazonaws.com/loc/",
        "s3://K:S@b.aldryn-media.io.s3-eu-central-1.amazonaws.com/",
        "s3://K:S@bucket.s3.eu-west-2.amazonaws.com/",
        "s3://K:S@bucket.s3.eu-west-2.amazonaws.com/v/?addressing_style=virtual",
        "s3://EXO:S@bucket.sos-ch-dk-2.exo.io/?auth=s3",
        "s3://K:S@bucket/loc?endpoint=http://127.0.0.1:9000",
        # Azurite: the account is part of the blob URL's path.
        "az://devstoreaccount1:a2V5a2V5a2V5@127.0.0.1/media?endpoint=http://127.0.0.1:10000/devstoreaccount1",
        *S3_DSNS,
        *AZ_DSNS,
        "file:///data/media/?url=%2Fmedia%2F",
    ],
)
def test_media_url_is_what_the_backend_produces(dsn):

    base = StorageDSN(dsn).base_url()
    real = build_backend(StorageDSN(dsn)).url("probe.txt")
    assert real.split("?")[0] == f"{base}probe.txt"


def test_file_urls_are_django_filesystem_urls(tmp_path):
    dsn = f"file://{tmp_path}/?url=%2Fmedia%2F"
    for name in EXAMPLES:
        assert pure_url(dsn, name) == real_url(dsn, name)


def test_switch_turns_fast_urls_off():
    from divio_settings.storage.backend import DSNStorage

    dsn = S3_DSNS[0]
    fast = DSNStorage(dsn)
    assert fast.url("a b.txt") == "https://example-live-b32.divio-media.org/a%20b.txt"
    assert fast._backend is None
    slow = DSNStorage(dsn, fast_urls=False)
    assert slow.url("a b.txt") == fast.url("a b.txt")
    assert slow._backend is not None


@override_settings(
    MEDIA_HEADERS=[
        (r"\.css$", {"CacheControl": "max-age=60"}),
        (r".*", {"CacheControl": "max-age=3600", "ContentDisposition": "inline"}),
    ]
)
def test_media_headers_first_match_wins():
    storage: Any = build_backend(StorageDSN(S3_DSNS[0]))
    assert storage.get_object_parameters("a/b.css") == {
        "ACL": "public-read",
        "CacheControl": "max-age=60",
    }
    assert storage.get_object_parameters("a.png") == {
        "ACL": "public-read",
        "CacheControl": "max-age=3600",
        "ContentDisposition": "inline",
    }
    none: Any = build_backend(StorageDSN("s3://K:S@bucket.s3.amazonaws.com/?acl=none"))
    assert "ACL" not in none.get_object_parameters("a.png")
    assert none.default_acl is None


@override_settings(
    MEDIA_HEADERS=[
        (r"\.css$", {"CacheControl": "max-age=60", "Unknown": "dropped"}),
        (r".*", {"CacheControl": "max-age=3600", "ContentDisposition": "inline"}),
    ]
)
def test_azure_media_headers_become_content_settings_first_match_wins():
    storage: Any = build_backend(StorageDSN(AZ_DSNS[0]))
    css = storage._get_content_settings_parameters("a/b.css")
    assert css["cache_control"] == "max-age=60"
    assert "content_disposition" not in css or css["content_disposition"] is None
    png = storage._get_content_settings_parameters("a.png")
    assert (png["cache_control"], png["content_disposition"]) == ("max-age=3600", "inline")


@override_settings(
    MEDIA_HEADERS=[(r".*", {"Cache-Control": "max-age=60", "content-disposition": "inline"})]
)
def test_media_headers_in_aldryn_s_http_spelling():
    """aldryn-django's MEDIA_HEADERS spell headers as HTTP does; boto3 takes CacheControl."""
    storage: Any = build_backend(StorageDSN(S3_DSNS[0]))
    assert storage.get_object_parameters("a.png") == {
        "ACL": "public-read",
        "CacheControl": "max-age=60",
        "ContentDisposition": "inline",
    }
    azure: Any = build_backend(StorageDSN(AZ_DSNS[0]))
    assert azure._get_content_settings_parameters("a.png")["cache_control"] == "max-age=60"
