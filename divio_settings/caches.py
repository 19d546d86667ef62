"""CACHE_URL and <PREFIX>_CACHE_URL -> CACHES, mapped to Django's built-in backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlunsplit

from . import variables
from .env import TRUE_WORDS, Env, check_url, invalid, is_cloud, prefixed
from .groups import Decisions

BACKENDS: Final = {
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
    "db": "django.core.cache.backends.db.DatabaseCache",
    "dbcache": "django.core.cache.backends.db.DatabaseCache",
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "locmemcache": "django.core.cache.backends.locmem.LocMemCache",
    "dummy": "django.core.cache.backends.dummy.DummyCache",
    "dummycache": "django.core.cache.backends.dummy.DummyCache",
    "file": "django.core.cache.backends.filebased.FileBasedCache",
    "filecache": "django.core.cache.backends.filebased.FileBasedCache",
    "memcache": "django.core.cache.backends.memcached.PyMemcacheCache",
    "pymemcache": "django.core.cache.backends.memcached.PyMemcacheCache",
    "pylibmc": "django.core.cache.backends.memcached.PyLibMCCache",
    # aldryn-django's (django-cache-url's) spellings: memcached:// meant pylibmc,
    # pymemcached:// python-memcached (gone from Django since 4.1: pymemcache took its place),
    # hiredis:// Redis with the hiredis parser (redis-py uses it whenever it is installed).
    "memcached": "django.core.cache.backends.memcached.PyLibMCCache",
    "pymemcached": "django.core.cache.backends.memcached.PyMemcacheCache",
    "hiredis": "django.core.cache.backends.redis.RedisCache",
}
REDIS_SCHEMES: Final = ("redis", "rediss", "hiredis")
# ?ignore_exceptions=true: a Redis outage degrades the site (misses, writes dropped) instead of
# failing every request that touches the cache (django-redis' IGNORE_EXCEPTIONS).
RESILIENT: Final = "divio_settings.redis_cache.ResilientRedisCache"
EXAMPLE: Final = "redis://:password@host:6379/0"
# Query arguments that are cache settings rather than backend options.
TOP_LEVEL: Final = {"timeout": "TIMEOUT", "key_prefix": "KEY_PREFIX", "version": "VERSION"}


def _value(text: str) -> Any:
    if text.isascii() and text.isdigit():  # not '²' or '٣', which int() refuses
        return int(text)
    if text.lower() in ("none", "null"):
        return None
    return text


def parse(name: str, url: str) -> dict[str, Any]:
    parts = check_url(name, url, list(BACKENDS), EXAMPLE)
    query = parse_qsl(parts.query, keep_blank_values=True)
    config: dict[str, Any] = {"BACKEND": BACKENDS[parts.scheme]}
    for key, value in query:
        if key in TOP_LEVEL:
            number = value.isascii() and value.isdigit()
            if key == "version" and not number:
                raise invalid(name, f"a URL like {EXAMPLE}", "version= is not a whole number")
            if key == "timeout" and not (number or value.lower() in ("none", "null")):
                raise invalid(
                    name, f"a URL like {EXAMPLE}", "timeout= is not a whole number or none"
                )
            config[TOP_LEVEL[key]] = _value(value)
    rest = [(key, value) for key, value in query if key not in TOP_LEVEL]
    resilient = [value for key, value in rest if key == "ignore_exceptions"]
    if resilient:
        if parts.scheme not in REDIS_SCHEMES:
            raise invalid(name, f"a URL like {EXAMPLE}", "ignore_exceptions= is for Redis only")
        rest = [(key, value) for key, value in rest if key != "ignore_exceptions"]
        if resilient[-1].lower() in TRUE_WORDS:
            config["BACKEND"] = RESILIENT
    location = _location(name, parts, rest)
    if location:
        config["LOCATION"] = location
    if rest and parts.scheme not in REDIS_SCHEMES:
        config["OPTIONS"] = {key: _value(value) for key, value in rest}
    return config


def _location(name: str, parts: SplitResult, rest: list[tuple[str, str]]) -> str:
    scheme = parts.scheme
    if scheme in REDIS_SCHEMES:
        # Django hands the URL to redis-py, which reads password, db and options itself.
        scheme = "redis" if scheme == "hiredis" else scheme
        return urlunsplit(parts._replace(scheme=scheme, query=urlencode(rest), fragment=""))
    if scheme in ("db", "dbcache"):
        table = unquote(parts.netloc + parts.path).strip("/")
        if not table:
            raise invalid(name, "db://table_name", "the table name is missing")
        return table
    if scheme in ("file", "filecache"):
        if not parts.path.startswith("/"):
            raise invalid(name, "file:///absolute/path", "the path is not absolute")
        return unquote(parts.path)
    if scheme in ("memcache", "pymemcache", "pylibmc", "memcached", "pymemcached"):
        if parts.username or parts.password:
            raise invalid(
                name,
                "memcache://host:11211 (Django's memcached backends take no user or password)",
                "it has credentials before the host",
            )
        if not parts.netloc:
            return "unix:" + unquote(parts.path)
        return parts.netloc
    return unquote(parts.netloc)  # locmem name, dummy


def urls_from_env(env: Env) -> dict[str, tuple[str, str]]:
    return prefixed(env, variables.PREFIXED_CACHE_URL, main=variables.CACHE_URL)


# In the cloud without CACHE_URL: a cache every process and container shares (aldryn-django's
# default), in the database the environment already has; its table is made by the release
# command `python manage.py createcachetable` (see `divio-settings release-commands`).
# Caches that live inside one process (locmem, dummy) or one container (file): check W007.
LOCAL_CACHES: Final = (BACKENDS["locmem"], BACKENDS["file"], BACKENDS["dummy"])
# It answers a miss while its table is missing or the database is away (divio_settings.db_cache).
RESILIENT_DATABASE: Final = "divio_settings.db_cache.ResilientDatabaseCache"
SHARED_DEFAULT: Final = {"BACKEND": RESILIENT_DATABASE, "LOCATION": "django_dbcache"}
# The backends whose table `createcachetable` makes (check E007, the release commands).
DATABASE_CACHES: Final = (BACKENDS["db"], RESILIENT_DATABASE)


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    found = urls_from_env(env)
    if found:
        caches = dict(current.get("CACHES") or {})
        for alias, (name, url) in found.items():
            caches[alias] = parse(name, url)
        out.set("CACHES", caches, ", ".join(name for name, _ in found.values()))
    elif is_cloud(env) and "CACHES" not in current:
        # Django's default, a per-process local memory, would split every counter, rate limit
        # and cached session by the number of worker processes.
        out.set("CACHES", {"default": dict(SHARED_DEFAULT)}, "default in the cloud (shared)")
    return out
