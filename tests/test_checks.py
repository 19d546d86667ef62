from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import SimpleTestCase, override_settings

from divio_settings import checks, service_checks, static

WN = static.WHITENOISE_MIDDLEWARE
SEC = static.SECURITY_MIDDLEWARE
FS = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@contextmanager
def patched_databases(databases):
    """DATABASES without override_settings, which warns (and -W error fails) on it."""
    from django.conf import settings

    old = settings.DATABASES
    settings.DATABASES = databases
    try:
        yield
    finally:
        settings.DATABASES = old


def ids(check):
    return [message.id for message in check(None)]


class CheckTests(SimpleTestCase):
    @override_settings(MIDDLEWARE=[SEC, WN])
    def test_whitenoise_in_place_passes(self):
        assert ids(checks.check_whitenoise) == []

    @override_settings(MIDDLEWARE=[SEC])
    def test_whitenoise_missing(self):
        assert ids(checks.check_whitenoise) == ["divio_settings.W001"]

    @override_settings(MIDDLEWARE=[SEC, WN, WN])
    def test_whitenoise_twice(self):
        assert ids(checks.check_whitenoise) == ["divio_settings.E001"]

    @override_settings(MIDDLEWARE=[WN, SEC])
    def test_whitenoise_misplaced(self):
        assert ids(checks.check_whitenoise) == ["divio_settings.W002"]

    def test_legacy_storage_absent_passes(self):
        assert ids(checks.check_legacy_storage) == []

    @override_settings(STATICFILES_STORAGE="x.Y")
    def test_legacy_storage_present(self):
        assert ids(checks.check_legacy_storage) == ["divio_settings.W003"]

    @override_settings(ALLOWED_HOSTS=["a.io", "*"])
    def test_allowed_hosts_star(self):
        assert ids(checks.check_allowed_hosts) == ["divio_settings.W004"]

    def test_allowed_hosts_listed_passes(self):
        assert ids(checks.check_allowed_hosts) == []

    @override_settings(DEBUG=True, DIVIO_STAGE="live")
    def test_debug_live(self):
        assert ids(checks.check_debug_live) == ["divio_settings.E002"]

    @override_settings(DEBUG=True, DIVIO_STAGE="test")
    def test_debug_test_stage_passes(self):
        assert ids(checks.check_debug_live) == []

    @override_settings(DIVIO_ENVIRONMENT="cloud", STORAGES=FS)
    def test_media_on_container_disk_in_cloud(self):
        assert ids(checks.check_media_cloud) == ["divio_settings.W005"]

    @override_settings(
        DIVIO_ENVIRONMENT="cloud", DEFAULT_STORAGE_DSN="s3://k:s@b.s3.amazonaws.com/"
    )
    def test_media_with_dsn_passes(self):
        assert ids(checks.check_media_cloud) == []

    @override_settings(
        DIVIO_ENVIRONMENT="cloud", STORAGES={**FS, "default": {"BACKEND": "mine.S3"}}
    )
    def test_media_with_own_backend_passes(self):
        assert ids(checks.check_media_cloud) == []

    @override_settings(DIVIO_ENVIRONMENT="local", STORAGES=FS)
    def test_media_local_passes(self):
        assert ids(checks.check_media_cloud) == []

    @override_settings(DIVIO_ENVIRONMENT="cloud")  # tests.settings uses SQLite
    def test_sqlite_in_cloud(self):
        assert ids(checks.check_sqlite_cloud) == ["divio_settings.W006"]

    @override_settings(DIVIO_ENVIRONMENT="local")
    def test_sqlite_local_passes(self):
        assert ids(checks.check_sqlite_cloud) == []

    @override_settings(DIVIO_ENVIRONMENT="cloud")  # Django's default cache is locmem
    def test_locmem_cache_in_cloud(self):
        assert ids(service_checks.check_cache_cloud) == ["divio_settings.W007"]

    @override_settings(
        DIVIO_ENVIRONMENT="cloud",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}},
    )
    def test_shared_cache_in_cloud_passes(self):
        assert ids(service_checks.check_cache_cloud) == []

    def test_locmem_cache_locally_passes(self):
        assert ids(service_checks.check_cache_cloud) == []

    @override_settings(DIVIO_SENTRY={"installed": False})
    def test_sentry_dsn_without_sdk(self):
        assert ids(service_checks.check_sentry_installed) == ["divio_settings.W008"]

    @override_settings(DIVIO_SENTRY={"installed": True})
    def test_sentry_installed_passes(self):
        assert ids(service_checks.check_sentry_installed) == []

    def test_connections_default_passes(self):
        assert ids(service_checks.check_connections) == []

    def test_pool_with_persistent_connections(self):
        db = {"default": {"ENGINE": "x", "CONN_MAX_AGE": 60, "OPTIONS": {"pool": True}}}
        with patched_databases(db):
            assert ids(service_checks.check_connections) == ["divio_settings.E003"]

    def test_persistent_without_health_checks(self):
        """Whatever the server: startproject writes no ASGI_APPLICATION for uvicorn to show."""
        db = {"default": {"ENGINE": "x", "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": False}}
        with patched_databases(db):
            assert ids(service_checks.check_connections) == ["divio_settings.W009"]
        db["default"]["CONN_HEALTH_CHECKS"] = True
        with patched_databases(db):
            assert ids(service_checks.check_connections) == []

    @override_settings(MEDIA_URL="/media", STATIC_URL="/static/")
    def test_url_without_slash(self):
        assert ids(checks.check_urls) == ["divio_settings.E004"]

    @override_settings(MEDIA_URL="https://cdn.example.com/m/", STATIC_URL="/static/")
    def test_urls_pass(self):
        assert ids(checks.check_urls) == []

    @override_settings(
        DIVIO_ENVIRONMENT="cloud",
        DIVIO_SETTINGS_REPORT=[
            {
                "setting": "SECRET_KEY",
                "value": "********",
                "source": "derived locally (SECRET_KEY unset)",
            }
        ],
    )
    def test_derived_key_in_cloud(self):
        assert ids(checks.check_environment_key) == ["divio_settings.E005"]

    @override_settings(
        DIVIO_ENVIRONMENT="local",
        DIVIO_SETTINGS_REPORT=[
            {
                "setting": "SECRET_KEY",
                "value": "********",
                "source": "derived locally (SECRET_KEY unset)",
            }
        ],
    )
    def test_derived_key_locally_passes(self):
        assert ids(checks.check_environment_key) == []

    @override_settings(DIVIO_ENVIRONMENT="cloud", SECRET_KEY="django-insecure-abc")
    def test_startproject_key_in_cloud(self):
        assert ids(checks.check_environment_key) == ["divio_settings.E005"]

    def test_foreign_variable_read_by_settings_py_is_not_reported(self):
        """A project whose settings.py reads DJANGO_SECRET_KEY itself uses the name; the
        guide's DEBUG is read by nobody once settings.py lost its DEBUG line."""
        from divio_settings.conventions import foreign_variables

        environ = {"DJANGO_SECRET_KEY": "s" * 50, "DEBUG": "True", "REDIS_URL": "redis://r:6379/0"}
        current = {
            "SECRET_KEY": "s" * 50,
            "CACHES": {"default": {"LOCATION": "redis://r:6379/0"}},
            "DEBUG": True,
        }
        assert foreign_variables(environ, current) == [["DEBUG", "DJANGO_DEBUG"]]
        assert ["DJANGO_SECRET_KEY", "SECRET_KEY"] in foreign_variables(environ, {})

    @override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/1",
            }
        },
    )
    def test_local_services_only_matter_in_the_cloud(self):
        remote = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "db.example.com"}}
        with patched_databases(remote):
            with override_settings(DIVIO_ENVIRONMENT="local"):
                assert ids(service_checks.check_local_services) == []
            with override_settings(DIVIO_ENVIRONMENT="cloud"):
                found = service_checks.check_local_services(None)
        assert [m.id for m in found] == ["divio_settings.W015"]
        assert "CACHES['default'] points at 127.0.0.1" in found[0].msg

    def test_cookies_without_secure_in_the_cloud(self):
        """settings.py's explicit False (#36): named in the cloud, silent locally; Django's
        default (not set by settings.py) says nothing."""
        with override_settings(DIVIO_ENVIRONMENT="cloud"):
            assert ids(checks.check_secure_cookies) == []
        with override_settings(DIVIO_ENVIRONMENT="local", SESSION_COOKIE_SECURE=False):
            assert ids(checks.check_secure_cookies) == []
        with override_settings(
            DIVIO_ENVIRONMENT="cloud", SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
        ):
            found = checks.check_secure_cookies(None)
        assert [m.id for m in found] == ["divio_settings.W017"] * 2
        assert found[0].msg.startswith("SESSION_COOKIE_SECURE is False in a cloud environment")
        assert str(found[1].hint).startswith("Remove CSRF_COOKIE_SECURE = False from settings.py")

    @override_settings(MIDDLEWARE=[SEC], ALLOWED_HOSTS=["*"])
    def test_checks_are_bound(self):
        from io import StringIO

        out = StringIO()
        call_command("check", stdout=out, stderr=out, fail_level="CRITICAL")
        text = out.getvalue()
        assert "divio_settings.W001" in text
        assert "divio_settings.W004" in text


def test_check_ids_are_unique_and_documented():

    source = "".join(Path(str(module.__file__)).read_text() for module in (checks, service_checks))
    found = re.findall(r'id="(divio_settings\.[EW]\d{3})"', source)
    assert len(found) == len(set(found))
    docs = (Path(__file__).parent.parent / "docs" / "reference" / "checks.md").read_text()
    assert sorted(found) == sorted(re.findall(r"^## `(divio_settings\.[EW]\d{3})`", docs, re.M))


ROUTE_BODY = """
from django.core.checks import run_checks
databases = json.loads(os.environ.get("CHECK_DATABASES", "null"))
# Plain checks, as migrate runs them: no check of ours needs --deploy.
messages = run_checks(include_deployment_checks=False, databases=databases)
print(json.dumps(sorted({m.id for m in messages if m.id.startswith("divio_settings.")})))
"""
# An app that counts in the cache, as an installed app without code of its own.
FAKE_AXES = (
    "import types, tempfile; axes = types.ModuleType('axes'); axes.__path__ = [tempfile.gettempdir()]; "
    "sys.modules['axes'] = axes"
)
CLOUD = {"STAGE": "live", "DOMAIN": "site.example.com", "SECRET_KEY": "k" * 50}
SERVICES = {
    "DATABASE_URL": "postgres://u:pa55w0rd@db.example.com:5432/site",
    "DEFAULT_STORAGE_DSN": "s3://K:s3cr3t-key@bucket.s3.amazonaws.com/?domain=media.example.com",
    "CACHE_URL": "redis://cache.example.com:6379/0",
}
PG = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "HOST": "h"}
# Each check, reached the way a user reaches it: variables and settings.py, through apply().
ROUTES: dict[str, tuple[dict[str, str], dict[str, Any], dict[str, bool]]] = {
    "divio_settings.E001": ({}, {"MIDDLEWARE": [SEC, WN, WN]}, {"static": False}),
    "divio_settings.W001": ({}, {"MIDDLEWARE": [SEC]}, {"static": False}),
    "divio_settings.W002": ({}, {"MIDDLEWARE": [WN, SEC]}, {"static": False}),
    "divio_settings.W003": ({}, {"STATICFILES_STORAGE": "x.Storage"}, {}),
    "divio_settings.W004": ({}, {"ALLOWED_HOSTS": ["*"]}, {}),
    "divio_settings.W017": (
        {**CLOUD, **SERVICES},
        {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": True},
        {},
    ),
    "divio_settings.W013": ({"DOMAIN_ALIASES": "www.example.com, .*"}, {}, {}),
    "divio_settings.W014": ({"DJANGO_SECRET_KEY": "k" * 50}, {}, {}),
    "divio_settings.W015": (
        {**CLOUD, **SERVICES},
        {"CELERY_BROKER_URL": "redis://localhost:6379/0"},
        {},
    ),
    "divio_settings.W016": (
        {},
        {
            "STORAGES": {
                "staticfiles": {
                    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
                }
            }
        },
        {},
    ),
    "divio_settings.E002": ({**CLOUD, **SERVICES, "DJANGO_DEBUG": "true"}, {}, {}),
    "divio_settings.W005": ({**CLOUD, **SERVICES, "DEFAULT_STORAGE_DSN": ""}, {}, {}),
    "divio_settings.W006": ({**CLOUD, **SERVICES, "DATABASE_URL": ""}, {}, {}),
    "divio_settings.W007": (
        {**CLOUD, **SERVICES, "CACHE_URL": ""},
        {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}},
        {},
    ),
    "divio_settings.W008": ({"SENTRY_DSN": "https://key@o1.ingest.sentry.io/1"}, {}, {}),
    "divio_settings.E003": (
        {"DATABASE_POOL": "true"},
        {"DATABASES": {"default": {**PG, "CONN_MAX_AGE": 60}}},
        {},
    ),
    "divio_settings.E004": ({}, {"MEDIA_URL": "/media"}, {"storage": False}),
    "divio_settings.E005": (
        {**CLOUD, **SERVICES},
        {"SECRET_KEY": "django-insecure-x"},
        {"security": False},
    ),
    "divio_settings.E006": (
        {**CLOUD, **SERVICES, "CACHE_URL": ""},
        {
            "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
        },
        {},
    ),
    "divio_settings.E007": ({**CLOUD, "DATABASE_URL": "sqlite:////tmp/divio-e007.sqlite3"}, {}, {}),
    "divio_settings.W010": (
        {**CLOUD, **SERVICES, "CACHE_URL": ""},
        {
            "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            "INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes", "axes"],
        },
        {},
    ),
    "divio_settings.W011": ({**SERVICES, "DOMAIN_ALIASES": "*.co.uk"}, {}, {}),
    "divio_settings.W012": (
        {**SERVICES, "DEFAULT_DATABASE_DSN": "postgres://u:p@other.example.com:5432/site"},
        {},
        {},
    ),
    "divio_settings.W018": ({**SERVICES}, {"AWS_STORAGE_BUCKET_NAME": "old-bucket"}, {}),
    "divio_settings.E008": (
        {},
        {"STORAGES": {"default": {"BACKEND": "mysite.settings.DefaultStorageClass"}}},
        {},
    ),
    "divio_settings.E009": (
        {"CACHE_URL": "redis://cache.example.com:6379/0"},
        {},
        {},
    ),
    "divio_settings.E010": (
        {"DEFAULT_STORAGE_DSN": "s3://AKIAKEY@bucket.s3.amazonaws.com/"},
        {},
        {},
    ),
    "divio_settings.E011": ({"STAGE": "live", "SECRET_KEY": "k" * 50, **SERVICES}, {}, {}),
    "divio_settings.W009": (
        {**SERVICES, "DATABASE_CONN_MAX_AGE": "60", "DATABASE_CONN_HEALTH_CHECKS": "false"},
        {},
        {},
    ),
}


@pytest.mark.e2e  # a child process per route
def test_every_check_has_a_route_and_every_route_triggers_its_check():
    """Each documented check, reached through variables and settings.py as a user reaches it
    (W008 in a process where sentry-sdk cannot be imported)."""
    import json

    import pytest

    from tests.helpers import django_process

    # The routes configure PostgreSQL databases (no connection is made): Django imports the
    # driver, which the services dependency group installs.
    pytest.importorskip("psycopg", reason="PostgreSQL routes need psycopg (services group)")

    docs = Path(__file__).parent.parent / "docs" / "reference" / "checks.md"
    documented = set(re.findall(r"^## `([^`]+)`$", docs.read_text(), re.MULTILINE))
    assert set(ROUTES) == documented
    for check_id, (environ, own, switches) in ROUTES.items():
        extra = {"SWITCHES_JSON": json.dumps(switches)}
        if check_id == "divio_settings.W008":  # SENTRY_DSN set, sentry-sdk not installed
            extra["PRELUDE_FIRST"] = "sys.modules['sentry_sdk'] = None"
        if check_id == "divio_settings.W010":
            extra["PRELUDE_FIRST"] = FAKE_AXES
        if check_id == "divio_settings.E009":  # CACHE_URL=redis://, the package not installed
            extra["PRELUDE_FIRST"] = "sys.modules['redis'] = None"
        if check_id == "divio_settings.E007":  # what migrate runs: the database checks too
            extra["CHECK_DATABASES"] = '["default"]'

        result = django_process(environ, ROUTE_BODY, own, extra)
        found = json.loads(result.stdout.splitlines()[-1])
        assert check_id in found, (check_id, found)


def test_w014_a_variable_settings_py_reads_as_a_boolean_or_number_is_held():
    """env.bool("DJANGO_SECURE_SSL_REDIRECT") makes False of "False": the project reads it, so
    W014 says nothing (#33: held_by compared strings only)."""
    from divio_settings.conventions import foreign_variables

    environ = {"DJANGO_SECURE_SSL_REDIRECT": "False", "DJANGO_LOG_LEVEL": "WARNING"}
    read = {"SECURE_SSL_REDIRECT": False, "LOG_LEVEL": "WARNING"}
    assert foreign_variables(environ, read) == []
    # Not read: settings.py's own other value, or no such setting.
    assert foreign_variables(environ, {"SECURE_SSL_REDIRECT": True}) == [
        ["DJANGO_SECURE_SSL_REDIRECT", "SECURE_SSL_REDIRECT"],
        ["DJANGO_LOG_LEVEL", "LOG_LEVEL"],
    ]
    # A bare name beside startproject's own literal (DEBUG = True) proves nothing: reported.
    assert foreign_variables({"DEBUG": "True"}, {"DEBUG": True}) == [["DEBUG", "DJANGO_DEBUG"]]
    # A number is not a boolean: "1" read by env.bool is True, which says nothing either way.
    assert foreign_variables({"DJANGO_SECURE_SSL_REDIRECT": "1"}, {"SECURE_SSL_REDIRECT": True})


@pytest.mark.e2e  # a child process per environment
def test_w015_a_variable_that_names_127_0_0_1_means_it():
    """CACHE_URL and DATABASE_URL pointing at 127.0.0.1 in the cloud (a sidecar, a proxy): the
    variable's choice, no W015; settings.py's own localhost broker still gets it."""
    import json

    from tests.helpers import django_process

    pytest.importorskip("psycopg", reason="the PostgreSQL route needs psycopg (services group)")
    sidecar = {
        **CLOUD,
        **SERVICES,
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        "DATABASE_URL": "postgres://u:pa55w0rd@127.0.0.1:6432/site",
    }
    found = json.loads(django_process(sidecar, ROUTE_BODY).stdout.splitlines()[-1])
    assert "divio_settings.W015" not in found, found
    own = {"CELERY_BROKER_URL": "redis://localhost:6379/0"}
    found = json.loads(django_process(sidecar, ROUTE_BODY, own).stdout.splitlines()[-1])
    assert "divio_settings.W015" in found, found


def test_e008_the_quickstart_s_storage_without_its_dsn_and_an_unimportable_one():
    from django.test import override_settings

    from divio_settings import checks

    def dsn_storage_class() -> type:  # what django-storage-url's dsn_configured_storage_class makes
        return type("DSNConfiguredStorage", (), {"_setting_name": "DEFAULT_STORAGE_DSN"})

    import sys
    import types

    module = types.ModuleType("quickstart_settings")
    module.DefaultStorageClass = dsn_storage_class()  # type: ignore[attr-defined]
    sys.modules["quickstart_settings"] = module
    try:
        quickstart = {"default": {"BACKEND": "quickstart_settings.DefaultStorageClass"}}
        with override_settings(STORAGES=quickstart, DEFAULT_STORAGE_DSN=None):
            (found,) = checks.check_storage_backends(None)
        assert found.id == "divio_settings.E008"
        assert (
            "is django-storage-url's storage for DEFAULT_STORAGE_DSN, which is empty" in found.msg
        )
        with override_settings(
            STORAGES=quickstart, DEFAULT_STORAGE_DSN="s3://k:s@b.s3.amazonaws.com/"
        ):
            assert checks.check_storage_backends(None) == []
    finally:
        del sys.modules["quickstart_settings"]
    gone = {"default": {"BACKEND": "no_such_module.Storage"}}
    with override_settings(STORAGES=gone):
        (found,) = checks.check_storage_backends(None)
    assert "no_such_module.Storage, which cannot be imported" in found.msg
    ours = {"default": {"BACKEND": "divio_settings.storage.backend.DSNStorage"}}
    files = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    for fine in (ours, files):
        with override_settings(STORAGES=fine):
            assert checks.check_storage_backends(None) == []


def test_w018_names_each_replaced_setting_and_its_dsn_equivalent():
    from django.test import override_settings

    from divio_settings import checks

    with override_settings(DIVIO_REPLACED_STORAGE_SETTINGS=["AWS_LOCATION", "AWS_DEFAULT_ACL"]):
        (found,) = checks.check_replaced_storage_settings(None)
    assert found.id == "divio_settings.W018"
    assert (
        "AWS_LOCATION (in the DSN: the DSN's path); AWS_DEFAULT_ACL (in the DSN: acl=)" in found.msg
    )
    assert checks.check_replaced_storage_settings(None) == []


def test_e010_a_key_without_its_secret_but_not_the_machine_s_credentials():
    from django.test import override_settings

    from divio_settings import service_checks

    def storages(dsn: str) -> dict[str, Any]:
        return {"default": {"BACKEND": "x", "OPTIONS": {"dsn": dsn}}}

    with override_settings(STORAGES=storages("s3://AKIAKEY@bucket.s3.amazonaws.com/")):
        (found,) = service_checks.check_storage_secret(None)
    assert found.msg.startswith("DEFAULT_STORAGE_DSN has an access key but an empty secret")
    for fine in ("s3://bucket.s3.amazonaws.com/", "s3://AKIA:s3cr3t-key@b.s3.amazonaws.com/"):
        with override_settings(STORAGES=storages(fine)):
            assert service_checks.check_storage_secret(None) == []


def test_e011_a_cloud_without_domain_unless_its_hosts_are_listed():
    from django.test import override_settings

    from divio_settings import checks

    cloud = {"DIVIO_ENVIRONMENT": "cloud", "DIVIO_STAGE": "live", "DIVIO_DOMAIN": None}
    with override_settings(**cloud, ALLOWED_HOSTS=["localhost"]):
        (found,) = checks.check_cloud_domain(None)
    assert "every request is a 400" in found.msg
    with override_settings(**cloud, ALLOWED_HOSTS=["www.example.com"]):
        assert checks.check_cloud_domain(None) == []
    with override_settings(**{**cloud, "DIVIO_DOMAIN": "example.com"}, ALLOWED_HOSTS=[]):
        assert checks.check_cloud_domain(None) == []
