from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import caches

R = "django.core.cache.backends.redis.RedisCache"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/1", {"BACKEND": R, "LOCATION": "redis://127.0.0.1:6379/1"}),
        (
            "rediss://:pw@h:6380/0?timeout=60&key_prefix=site&ssl_cert_reqs=none",
            {
                "BACKEND": R,
                "LOCATION": "rediss://:pw@h:6380/0?ssl_cert_reqs=none",
                "TIMEOUT": 60,
                "KEY_PREFIX": "site",
            },
        ),
        (
            "db://django_dbcache",
            {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "django_dbcache",
            },
        ),
        (
            "dbcache://my_table",
            {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "my_table"},
        ),
        ("locmem://", {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}),
        (
            "locmem://one?timeout=none",
            {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "one",
                "TIMEOUT": None,
            },
        ),
        ("dummy://", {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}),
        (
            "file:///var/tmp/cache",
            {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": "/var/tmp/cache",
            },
        ),
        (
            "memcache://127.0.0.1:11211",
            {
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": "127.0.0.1:11211",
            },
        ),
        (
            "pymemcache:///tmp/mc.sock",
            {
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": "unix:/tmp/mc.sock",
            },
        ),
        (
            "pylibmc://h:11211?max_entries=5",
            {
                "BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
                "LOCATION": "h:11211",
                "OPTIONS": {"max_entries": 5},
            },
        ),
    ],
)
def test_parse(url, expected):
    assert caches.parse("CACHE_URL", url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # aldryn-django's (django-cache-url's) spellings
        (
            "memcached://h:11211",
            {"BACKEND": "django.core.cache.backends.memcached.PyLibMCCache", "LOCATION": "h:11211"},
        ),
        (
            "pymemcached://h:11211",
            {
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": "h:11211",
            },
        ),
        ("hiredis://h:6379/2", {"BACKEND": R, "LOCATION": "redis://h:6379/2"}),
        # a Redis outage degrades instead of failing
        (
            "redis://:pw@h:6379/0?ignore_exceptions=true&timeout=30",
            {"BACKEND": caches.RESILIENT, "LOCATION": "redis://:pw@h:6379/0", "TIMEOUT": 30},
        ),
        (
            "redis://h:6379/0?ignore_exceptions=false",
            {"BACKEND": R, "LOCATION": "redis://h:6379/0"},
        ),
    ],
)
def test_aldryn_spellings_and_resilience(url, expected):
    assert caches.parse("CACHE_URL", url) == expected


def test_resilience_is_for_redis_only():
    with pytest.raises(ImproperlyConfigured, match="ignore_exceptions= is for Redis only"):
        caches.parse("CACHE_URL", "locmem://?ignore_exceptions=true")


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("mongodb://u:topsecret@h/", "its scheme is not one of"),
        ("db://", "the table name is missing"),
        ("file://relative", "the path is not absolute"),
        ("redis://:top/secret@h:6379", "host or port cannot be read"),
        ("redis:h", "no scheme"),
    ],
)
def test_bad_urls(url, detail):
    with pytest.raises(ImproperlyConfigured, match="^CACHE_URL: expected ") as error:
        caches.parse("CACHE_URL", url)
    assert detail in str(error.value)
    assert "secret" not in str(error.value)


def test_aliases_and_merge():
    current = {"CACHES": {"default": {"BACKEND": "x"}, "other": {"BACKEND": "y"}}}
    out = caches.settings_from_env(
        {"CACHE_URL": "redis://h:6379/0", "SESSIONS_CACHE_URL": "db://sessions"}, current
    )
    assert sorted(out.values["CACHES"]) == ["default", "other", "sessions"]
    assert out.values["CACHES"]["default"]["BACKEND"] == R
    assert out.sources["CACHES"] == "CACHE_URL, SESSIONS_CACHE_URL"
    assert current["CACHES"]["default"] == {"BACKEND": "x"}


def test_no_url_keeps_settings_py():
    assert caches.settings_from_env({}, {"CACHES": {"default": {}}}).values == {}


def test_cloud_without_cache_url_gets_the_shared_database_cache():
    cloud = {"STAGE": "live", "DOMAIN": "x.example.com"}
    values = caches.settings_from_env(cloud, {}).values
    assert values["CACHES"] == {
        "default": {
            "BACKEND": "divio_settings.db_cache.ResilientDatabaseCache",
            "LOCATION": "django_dbcache",
        }
    }
    # settings.py's own CACHES (Redis, say) is its decision; locally and at build: locmem.
    own = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert caches.settings_from_env(cloud, {"CACHES": own}).values == {}
    assert caches.settings_from_env({}, {}).values == {}


def test_the_same_value_twice_is_no_conflict():
    import divio_settings

    ns: dict[str, object] = {"__file__": "/app/x/settings.py"}
    url = "postgres://u:p@db.example.com:5432/site"
    divio_settings.apply(
        ns, environ={"DATABASE_URL": f'"{url}"', "DEFAULT_DATABASE_DSN": f" {url} "}
    )
    assert "DIVIO_VARIABLE_CONFLICTS" not in ns
    divio_settings.apply(ns, environ={"DATABASE_URL": url, "DEFAULT_DATABASE_DSN": url + "2"})
    assert ns["DIVIO_VARIABLE_CONFLICTS"] == [["DATABASE_URL", "DEFAULT_DATABASE_DSN"]]


def test_resilient_redis_cache_answers_without_redis():
    """Every call of the resilient cache, with nothing listening: a miss, a dropped write, one
    warning a minute — never an exception (the outage itself is tested against a real Redis in
    tests/integration/test_services.py)."""
    pytest.importorskip("redis", reason="redis-py is an extra")
    import socket

    from divio_settings import redis_cache

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = redis_cache.ResilientRedisCache(f"redis://127.0.0.1:{port}/0", {"TIMEOUT": 60})
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("k") is False
    assert cache.add("k", 1) is False
    assert cache.set("k", 1) is None
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("k") is False
    assert cache.delete("k") is False
    assert cache.delete_many(["a"]) is None
    assert cache.get_or_set("k", "computed") == "computed"
