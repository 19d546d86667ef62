"""Malformed and tricky values for every variable apply() reads, each with its expected outcome.

An entry is (variable, value, expected): expected is ERROR (an ImproperlyConfigured whose
message starts with the variable's name and holds no secret) or the value of the setting the
variable governs after apply(), as read by READERS[variable].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

ERROR: Final = object()
SECRET: Final = "Zq8secretXy"  # placed in every secret value; must never be printed
NO_CHANGE: Final = object()

BOOLS: Final = [
    ("true", True),
    ("True", True),
    ("TRUE", True),
    (" yes ", True),
    ("on", True),
    ("1", True),
    ('"true"', True),
    ("'false'", False),
    ("false", False),
    ("No", False),
    ("OFF", False),
    ("0", False),
    ("", NO_CHANGE),
    ("   ", NO_CHANGE),
    ("tru", ERROR),
    ("2", ERROR),
    ("yes!", ERROR),
    ("null", ERROR),
    ("None", ERROR),
    ("t", ERROR),
    ("y", ERROR),
    ("ｔｒｕｅ", ERROR),
    ("true\x00", ERROR),
    ("x" * 10_000, ERROR),
    ("-1", ERROR),
    ("１", ERROR),
]
INTS: Final = [
    ("0", 0),
    ("60", 60),
    (" 3600 ", 3600),
    ('"300"', 300),
    ("31536000", 31536000),
    ("", NO_CHANGE),
    ("-1", ERROR),
    ("1.5", ERROR),
    ("1e3", ERROR),
    ("sixty", ERROR),
    ("٣", ERROR),
    ("0x10", ERROR),
    ("+5", ERROR),
    ("5 s", ERROR),
    ("9" * 400, 10**400 - 1),
]
HOST_LISTS: Final = [
    ("example.com", ["example.com"]),
    ("Example.COM", ["example.com"]),
    (" a.com , b.com ", ["a.com", "b.com"]),
    ('"a.com, b.com"', ["a.com", "b.com"]),
    ("a.com,,b.com,", ["a.com", "b.com"]),
    ("a.com:8000", ["a.com"]),
    ("*.a.com", [".a.com"]),
    (".a.com", [".a.com"]),
    ("https://a.com/", ["a.com"]),
    ("127.0.0.1", ["127.0.0.1"]),
    ("[::1]", ["[::1]"]),
    ("[::1]:8000", ["[::1]"]),
    ("::1", ["[::1]"]),
    ("[2001:DB8::1]", ["[2001:db8::1]"]),
    ("bücher.de", ["xn--bcher-kva.de"]),
    ("ÄÖÜ.example", ["xn--4ca0bs.example"]),
    ("münchen.de, München.de", ["xn--mnchen-3ya.de"]),
    ("a.com.", ["a.com"]),
    # Any host: left out (divio_settings.W013 names it), never '*' in ALLOWED_HOSTS.
    ("*", []),
    (".*", []),
    ("^.*$", []),
    ("www.a.com, .*", ["www.a.com"]),
    ("", []),
    (",,,", []),
    ("a b.com", ERROR),
    # aldryn-sites' regular expressions: the usual ones translated, others refused.
    ("^a\\.com$", ["a.com"]),
    ("^.*\\.a\\.com$", [".a.com"]),
    ("(.+\\.)?a\\.com", [".a.com"]),
    ("^(www|shop)\\.a\\.com$", ERROR),
    ("^a\\.co[mn]$", ERROR),
    ("a.com:http", ERROR),
    ("a_b.com", ERROR),
    ("-a.com", ERROR),
    ("a-.com", ERROR),
    ("a..com", ERROR),
    ("*a.com", ERROR),
    ("a.*.com", ERROR),
    ("foo.*", ERROR),
    ("[::zz]", ERROR),
    ("[::1", ERROR),
    ("[::1]x", ERROR),
    ("a" * 64 + ".com", ERROR),
    (("a" * 60 + ".") * 5 + "com", ERROR),
    ("a.com\n", ["a.com"]),
    ("a.com\tb.com", ERROR),
    ("a.com\x00", ERROR),
    ("é" * 300, ERROR),
    ("xn--", ERROR),
    ("a@b.com", ERROR),
    ("a.com/evil", ["a.com"]),
    ("%61.com", ERROR),
    ("a.com;b.com", ERROR),
    ("\u202ea.com", ERROR),
    ("a.com ,\u00a0", ["a.com"]),
    ("localhost", ["localhost"]),
    ("1.2.3.4:80", ["1.2.3.4"]),
]
# Values for DOMAIN (a single host; wildcards and lists are errors).
DOMAINS: Final = [
    ("example.com", "example.com"),
    (" Example.com ", "example.com"),
    ("example.com:443", "example.com"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("", NO_CHANGE),
    ("a.com,b.com", ERROR),
    ("*.a.com", ERROR),
    ("*", ERROR),
    (".a.com", ERROR),
    (".*", ERROR),
    ("a b", ERROR),
    ("a.com\x01", ERROR),
    ("x" * 300, ERROR),
    ("https://example.com", "example.com"),
    ("[::1]", "[::1]"),
]
DB_URLS: Final = [
    (f"postgres://u:{SECRET}@h:5432/db", "django.db.backends.postgresql"),
    (f"postgresql://u:{SECRET}@h/db", "django.db.backends.postgresql"),
    (f"mysql://u:{SECRET}@h:3306/db", "django.db.backends.mysql"),
    ("sqlite:////tmp/x.db", "django.db.backends.sqlite3"),
    ("sqlite://:memory:", "django.db.backends.sqlite3"),
    (f" postgres://u:{SECRET}@h:5432/db ", "django.db.backends.postgresql"),
    (f'"postgres://u:{SECRET}@h:5432/db"', "django.db.backends.postgresql"),
    (f"postgres://u:{SECRET}%23x@h:5432/db", "django.db.backends.postgresql"),
    (f"postgres://u:{SECRET}@[::1]:5432/db", "django.db.backends.postgresql"),
    (f"postgis://u:{SECRET}@h:5432/db", "django.contrib.gis.db.backends.postgis"),
    (f"postgres://u:{SECRET}#x@h:5432/db", ERROR),
    (f"postgres://u:{SECRET}/x@h:5432/db", ERROR),
    (f"postgres://u:{SECRET}@h:port/db", ERROR),
    (f"postgres://u:{SECRET}@h:99999/db", ERROR),
    (f"postgres://u:{SECRET}@h:-1/db", ERROR),
    (f"mongodb://u:{SECRET}@h/db", ERROR),
    (f"u:{SECRET}@h/db", ERROR),
    (f"postgres:/u:{SECRET}@h/db", ERROR),
    (f"postgres://u:{SECRET}@h/db\n", "django.db.backends.postgresql"),
    (f"postgres://u:{SECRET}@h/d\x00b", ERROR),
    (f"postgres://u:{SECRET}@h/db?sslmode=require#frag", ERROR),
    (f"http://u:{SECRET}@h/db", ERROR),
    (f"POSTGRES://u:{SECRET}@h:5432/db", "django.db.backends.postgresql"),
    (f"postgres://u:{SECRET}@[::1/db", ERROR),
    ("", NO_CHANGE),
    (f"postgres://u:{SECRET}@h:5432/" + "d" * 5000, "django.db.backends.postgresql"),
]
STORAGE_DSNS: Final = [
    (f"s3://K:{SECRET}@b.s3.amazonaws.com/", "https://s3.amazonaws.com/b/"),
    (f"s3://K:{SECRET}%2B@b.s3.amazonaws.com/?domain=cdn.example.com", "https://cdn.example.com/"),
    (
        f"s3://K:{SECRET}@b.aldryn-media.io.s3-eu-central-1.amazonaws.com/?domain=b.aldryn-media.io",
        "https://b.aldryn-media.io/",
    ),
    (f"s3://K:{SECRET}@b.sos-ch-dk-2.exo.io/?auth=s3", "https://sos-ch-dk-2.exo.io/b/"),
    (f"s3://K:{SECRET}@b/loc?endpoint=http://127.0.0.1:9000", "http://127.0.0.1:9000/b/loc/"),
    (
        f"az://acct:{SECRET}@blob.core.windows.net/public-media",
        "https://acct.blob.core.windows.net/public-media/",
    ),
    ("file:///data/media/?url=%2Fmedia%2F", "/media/"),
    ("file:///data/media/", "/media/"),  # no url=: the guide's /media/
    ("file:///?url=%2Fmedia%2F", ERROR),  # DEBUG would serve the whole disk
    ("file:///etc/?url=%2Fmedia%2F", ERROR),
    ("file:///data/../etc/?url=%2Fmedia%2F", ERROR),
    # Inside a system tree at any depth: /proc/self/environ holds every secret variable.
    ("file:///proc/self/?url=%2Fmedia%2F", ERROR),
    ("file:///etc/ssl/private/?url=%2Fmedia%2F", ERROR),
    ("file:///usr/share/?url=%2Fmedia%2F", ERROR),
    ("file:///boot/x/?url=%2Fmedia%2F", ERROR),
    ("file:///var/lib/app/media/?url=%2Fmedia%2F", ERROR),
    ("file:///lib64/x/?url=%2Fmedia%2F", ERROR),
    ("file:///root/.ssh/?url=%2Fmedia%2F", ERROR),
    ("file:///sys/kernel/?url=%2Fmedia%2F", ERROR),
    ("file:///dev/shm/m/?url=%2Fmedia%2F", ERROR),
    ("file:///run/secrets/?url=%2Fmedia%2F", ERROR),
    ("file:///tmp/?url=%2Fmedia%2F", ERROR),
    ("file:///tmp/site-media/?url=%2Fmedia%2F", "/media/"),  # a folder of its own below /tmp
    ("file:///data/proc/?url=%2Fmedia%2F", "/media/"),  # not the system's /proc
    ("file:///data/media/?url=%2F", ERROR),  # a catch-all at the site root
    ("file:///data/media/?url=", ERROR),
    (f"s3://K:{SECRET}@/", ERROR),
    (f"s3://K:{SECRET}/x@b.s3.amazonaws.com/", ERROR),
    (f"gs://K:{SECRET}@bucket/", ERROR),
    ("az://acct@blob.core.windows.net/c", ERROR),
    (f"az://:{SECRET}@blob.core.windows.net/c", ERROR),
    ("file://relative/path", ERROR),
    ("/data/media/", ERROR),
    ("file:data", ERROR),
    (f"s3://K:{SECRET}@b/?endpoint=ftp://x", ERROR),
    (f"s3://K:{SECRET}@b/?endpoint=127.0.0.1:9000", ERROR),
    (f"s3://K:{SECRET}@b.s3.amazonaws.com/?url=cdn.example.com", ERROR),
    (f"s3://K:{SECRET}@b.s3.amazonaws.com:notaport/", ERROR),
    (f"s3://K:{SECRET}@b.s3.amazonaws.com/#x", ERROR),
    (f"s3://K:{SECRET}@b.s3.amazonaws.com/\x7f", ERROR),
    ("", NO_CHANGE),
]
CACHE_URLS: Final = [
    ("redis://127.0.0.1:6379/0", "django.core.cache.backends.redis.RedisCache"),
    (f"rediss://:{SECRET}@h:6380/1", "django.core.cache.backends.redis.RedisCache"),
    ("db://django_dbcache", "django.core.cache.backends.db.DatabaseCache"),
    ("dbcache://t", "django.core.cache.backends.db.DatabaseCache"),
    ("locmem://", "django.core.cache.backends.locmem.LocMemCache"),
    ("dummy://", "django.core.cache.backends.dummy.DummyCache"),
    ("file:///tmp/c", "django.core.cache.backends.filebased.FileBasedCache"),
    ("memcache://h:11211", "django.core.cache.backends.memcached.PyMemcacheCache"),
    ("pylibmc://h:11211", "django.core.cache.backends.memcached.PyLibMCCache"),
    ("db://", ERROR),
    ("file://rel", ERROR),
    (f"redis://:{SECRET}/x@h:6379", ERROR),
    (f"memcached://u:{SECRET}@h", ERROR),
    ("redis:h", ERROR),
    (f"redis://:{SECRET}@h:port", ERROR),
    ("", NO_CHANGE),
]
EMAIL_URLS: Final = [
    (f"smtp://u:{SECRET}@h", "django.core.mail.backends.smtp.EmailBackend"),
    (f"submission://u:{SECRET}@h", "django.core.mail.backends.smtp.EmailBackend"),
    (f"smtps://u:{SECRET}@h:465", "django.core.mail.backends.smtp.EmailBackend"),
    ("console:", "django.core.mail.backends.console.EmailBackend"),
    ("dummy:", "django.core.mail.backends.dummy.EmailBackend"),
    ("memory:", "django.core.mail.backends.locmem.EmailBackend"),
    ("file:///tmp/mail", "django.core.mail.backends.filebased.EmailBackend"),
    (f"smtp://u:{SECRET}@", ERROR),
    (f"smtp://u:{SECRET}@h?tls=1&ssl=1", ERROR),
    (f"smtp://u:{SECRET}@h?timeout=x", ERROR),
    (f"imap://u:{SECRET}@h", ERROR),
    (f"smtp://u:{SECRET}/x@h", ERROR),
    ("console", ERROR),
    ("", NO_CHANGE),
]
BROKER_URLS: Final = [
    (f"amqp://guest:{SECRET}@rabbit:5672/", "same"),
    (f"redis://:{SECRET}@h:6379/0", "same"),
    (f"kafka://u:{SECRET}@h", ERROR),
    (f"guest:{SECRET}@rabbit", ERROR),
    (f"amqp://guest:{SECRET}@rabbit:port/", ERROR),
    ("", NO_CHANGE),
]
SENTRY: Final = [
    (f"https://{SECRET}@o1.ingest.sentry.io/1", "environment"),
    (f"{SECRET}@sentry.io/1", ERROR),
    (f"ftp://{SECRET}@h/1", ERROR),
    (f"https://{SECRET}@h:x/1", ERROR),
    ("", NO_CHANGE),
]
ADDRESSES: Final = [
    ("a@example.com", "a@example.com"),
    ("Site <a@example.com>", "Site <a@example.com>"),
    ("root", ERROR),
    ("", NO_CHANGE),
]
LEVELS: Final = [
    ("info", "INFO"),
    ("DEBUG", "DEBUG"),
    (" warning ", "WARNING"),
    ("LOUD", ERROR),
    ("10", ERROR),
    ("", NO_CHANGE),
]
KEYS: Final = [(SECRET * 5, SECRET * 5), (f" {SECRET * 5} ", SECRET * 5), ("", NO_CHANGE)]
STAGES: Final = [("live", "live"), ("TEST", "test"), ("local", "local"), ("", "local")]


def _db(ns: dict[str, Any], alias: str = "default") -> Any:
    return ns["DATABASES"][alias]["ENGINE"]


READERS: Final[dict[str, Callable[[dict[str, Any]], Any]]] = {
    "DJANGO_DEBUG": lambda ns: ns["DEBUG"],
    "SECURE_SSL_REDIRECT": lambda ns: ns["SECURE_SSL_REDIRECT"],
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": lambda ns: ns.get(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", NO_CHANGE
    ),
    "SECURE_HSTS_PRELOAD": lambda ns: ns.get("SECURE_HSTS_PRELOAD", NO_CHANGE),
    "DOMAIN_REDIRECT_PERMANENT": lambda ns: ns.get("DIVIO_DOMAIN_REDIRECT_PERMANENT", NO_CHANGE),
    "MEDIA_FAST_URLS": lambda ns: ns["STORAGES"]["default"]["OPTIONS"].get("fast_urls", True),
    "SECURE_HSTS_SECONDS": lambda ns: ns.get("SECURE_HSTS_SECONDS", NO_CHANGE),
    "DATABASE_CONN_MAX_AGE": lambda ns: ns["DATABASES"]["default"]["CONN_MAX_AGE"],
    "DOMAIN_ALIASES": lambda ns: [h for h in ns["ALLOWED_HOSTS"] if h != "example.org"],  # cloud
    "DOMAIN": lambda ns: ns.get("DIVIO_DOMAIN", NO_CHANGE),
    "DATABASE_URL": _db,
    "ALT_DATABASE_DSN": lambda ns: _db(ns, "alt"),
    "DEFAULT_STORAGE_DSN": lambda ns: ns["MEDIA_URL"],
    "CACHE_URL": lambda ns: ns["CACHES"]["default"]["BACKEND"] if "CACHES" in ns else NO_CHANGE,
    "SESSIONS_CACHE_URL": lambda ns: (
        ns["CACHES"]["sessions"]["BACKEND"] if "CACHES" in ns else NO_CHANGE
    ),
    "ALT_STORAGE_DSN": lambda ns: "configured" if "alt" in ns["STORAGES"] else NO_CHANGE,
    "EMAIL_URL": lambda ns: (
        ns["MAILERS"]["default"]["BACKEND"]
        if "MAILERS" in ns
        else ns.get("EMAIL_BACKEND", NO_CHANGE)
    ),
    "DEFAULT_AMQP_BROKER_URL": lambda ns: "same" if "CELERY_BROKER_URL" in ns else NO_CHANGE,
    "SENTRY_DSN": lambda ns: "environment" if "DIVIO_SENTRY" in ns else NO_CHANGE,
    "DEFAULT_FROM_EMAIL": lambda ns: ns.get("DEFAULT_FROM_EMAIL", NO_CHANGE),
    "SERVER_EMAIL": lambda ns: ns.get("SERVER_EMAIL", NO_CHANGE),
    "LOG_LEVEL": lambda ns: (
        ns["LOGGING"]["root"]["level"]
        if any(
            e["setting"] == "LOGGING" and e["source"] == "LOG_LEVEL"
            for e in ns["DIVIO_SETTINGS_REPORT"]
        )
        else NO_CHANGE
    ),
    "SECRET_KEY": lambda ns: (
        ns["SECRET_KEY"] if ns["SECRET_KEY"] != "settings-own-key" else NO_CHANGE
    ),
    "SECRET_KEY_FALLBACKS": lambda ns: ns.get("SECRET_KEY_FALLBACKS", NO_CHANGE),
    "SECRET_KEY_NEXT": lambda ns: ns.get("SECRET_KEY_FALLBACKS", NO_CHANGE),
    "STAGE": lambda ns: ns["DIVIO_STAGE"],
    "DOMAIN_REDIRECTS": lambda ns: ns.get("DIVIO_DOMAIN_REDIRECTS", []),
    "DATABASE_POOL": lambda ns: ns["DATABASES"]["default"].get("OPTIONS"),
    "DATABASE_CONN_HEALTH_CHECKS": lambda ns: ns["DATABASES"]["default"]["CONN_HEALTH_CHECKS"],
    "BROKER_URL": lambda ns: "same" if "CELERY_BROKER_URL" in ns else NO_CHANGE,
    "GIT_COMMIT": lambda ns: ns["DIVIO_SENTRY"]["release"],
    "DATABASE_POOL_MIN_SIZE": lambda ns: ns["DATABASES"]["default"]["OPTIONS"]["pool"],
    "DATABASE_POOL_MAX_SIZE": lambda ns: ns["DATABASES"]["default"]["OPTIONS"]["pool"],
    "DATABASE_POOL_TIMEOUT": lambda ns: ns["DATABASES"]["default"]["OPTIONS"]["pool"],
    "SENTRY_TRACES_SAMPLE_RATE": lambda ns: ns["DIVIO_SENTRY"].get("traces_sample_rate"),
    "SENTRY_PROFILES_SAMPLE_RATE": lambda ns: ns["DIVIO_SENTRY"].get("profiles_sample_rate"),
}
# Variables that need others to be meaningful.
CONTEXT: Final[dict[str, dict[str, str]]] = {
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": {"STAGE": "live", "SECRET_KEY": "k" * 50},
    "SECURE_HSTS_PRELOAD": {"STAGE": "live", "SECRET_KEY": "k" * 50},
    "SECURE_HSTS_SECONDS": {"STAGE": "live", "SECRET_KEY": "k" * 50},
    "DOMAIN_ALIASES": {"DOMAIN": "example.org"},
    "DOMAIN_REDIRECTS": {"DOMAIN": "primary.example"},
    "DATABASE_POOL": {"DATABASE_URL": "postgres://u@h:5432/x"},
    "DATABASE_CONN_HEALTH_CHECKS": {"DATABASE_URL": "postgres://u@h:5432/x"},
    "GIT_COMMIT": {"SENTRY_DSN": "https://k@o1.ingest.sentry.io/1"},
    "DATABASE_CONN_MAX_AGE": {"DATABASE_URL": "postgres://u@h:5432/x"},
    "MEDIA_FAST_URLS": {"DEFAULT_STORAGE_DSN": "file:///m/?url=%2Fm%2F"},
    "DATABASE_POOL_MIN_SIZE": {"DATABASE_URL": "postgres://u@h:5432/x", "DATABASE_POOL": "true"},
    "DATABASE_POOL_MAX_SIZE": {"DATABASE_URL": "postgres://u@h:5432/x", "DATABASE_POOL": "true"},
    "DATABASE_POOL_TIMEOUT": {"DATABASE_URL": "postgres://u@h:5432/x", "DATABASE_POOL": "true"},
    "SENTRY_TRACES_SAMPLE_RATE": {"SENTRY_DSN": "https://k@o1.ingest.sentry.io/1"},
    "SENTRY_PROFILES_SAMPLE_RATE": {"SENTRY_DSN": "https://k@o1.ingest.sentry.io/1"},
}

CORPUS: list[tuple[str, str, Any]] = []
for name in (
    "DJANGO_DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "DOMAIN_REDIRECT_PERMANENT",
    "MEDIA_FAST_URLS",
):
    CORPUS += [(name, value, expected) for value, expected in BOOLS]
for name in ("SECURE_HSTS_SECONDS", "DATABASE_CONN_MAX_AGE"):
    CORPUS += [(name, value, expected) for value, expected in INTS]
CORPUS += [("DOMAIN_ALIASES", value, expected) for value, expected in HOST_LISTS]
CORPUS += [("DOMAIN", value, expected) for value, expected in DOMAINS]
CORPUS += [
    (name, value, expected)
    for name in ("DATABASE_URL", "ALT_DATABASE_DSN")
    for value, expected in DB_URLS
]
CORPUS += [("DEFAULT_STORAGE_DSN", value, expected) for value, expected in STORAGE_DSNS]
CORPUS += [
    (name, value, expected)
    for name in ("CACHE_URL", "SESSIONS_CACHE_URL")
    for value, expected in CACHE_URLS
]
# Another storage than the default sets no MEDIA_URL: what counts is that it is configured.
CORPUS += [
    ("ALT_STORAGE_DSN", value, expected if expected in (ERROR, NO_CHANGE) else "configured")
    for value, expected in STORAGE_DSNS
]
CORPUS += [("EMAIL_URL", value, expected) for value, expected in EMAIL_URLS]
CORPUS += [("DEFAULT_AMQP_BROKER_URL", value, expected) for value, expected in BROKER_URLS]
CORPUS += [("SENTRY_DSN", value, expected) for value, expected in SENTRY]
CORPUS += [
    (name, value, expected)
    for name in ("DEFAULT_FROM_EMAIL", "SERVER_EMAIL")
    for value, expected in ADDRESSES
]
CORPUS += [("LOG_LEVEL", value, expected) for value, expected in LEVELS]
CORPUS += [("SECRET_KEY", value, expected) for value, expected in KEYS]
CORPUS += [
    ("SECRET_KEY_FALLBACKS", f"{SECRET}1, {SECRET}2", [f"{SECRET}1", f"{SECRET}2"]),
    ("SECRET_KEY_FALLBACKS", ",", NO_CHANGE),
    ("SECRET_KEY_NEXT", f"{SECRET}n", [f"{SECRET}n"]),
    ("SECRET_KEY_NEXT", "  ", NO_CHANGE),
]
CORPUS += [("STAGE", value, expected) for value, expected in STAGES]
CORPUS += [
    ("DOMAIN_REDIRECTS", value, expected)
    for value, expected in [
        ("old.example", ["old.example"]),
        ("old.example, *.legacy.org", ["old.example", ".legacy.org"]),
        ("primary.example", ERROR),
        ("*.example", ERROR),
        ("*", ERROR),
        (".*", ERROR),
        ("a b", ERROR),
        ("", NO_CHANGE),
    ]
]
CORPUS += [
    ("DATABASE_POOL", value, expected)
    for value, expected in [
        ("true", {"pool": {"timeout": 10}}),
        ("false", NO_CHANGE),
        ("maybe", ERROR),
    ]
]
CORPUS += [
    ("DATABASE_CONN_HEALTH_CHECKS", value, expected)
    for value, expected in [("true", True), ("false", False), ("", False), ("sometimes", ERROR)]
]
CORPUS += [("BROKER_URL", value, expected) for value, expected in BROKER_URLS]
CORPUS += [("GIT_COMMIT", "a" * 40, "a" * 40), ("GIT_COMMIT", "", NO_CHANGE)]
CORPUS += [
    (name, value, expected(key) if callable(expected) else expected)
    for name, key in (
        ("DATABASE_POOL_MIN_SIZE", "min_size"),
        ("DATABASE_POOL_MAX_SIZE", "max_size"),
        ("DATABASE_POOL_TIMEOUT", "timeout"),
    )
    for value, expected in [
        ("4", lambda key: {"timeout": 10, key: 4}),
        (" 4 ", lambda key: {"timeout": 10, key: 4}),
        ("", {"timeout": 10}),
        ("-1", ERROR),
        ("4.5", ERROR),
        ("\u0663", ERROR),
        ("many", ERROR),
    ]
]
CORPUS += [
    (name, value, expected)
    for name in ("SENTRY_TRACES_SAMPLE_RATE", "SENTRY_PROFILES_SAMPLE_RATE")
    for value, expected in [
        ("0.25", 0.25),
        ("1", 1.0),
        (".5", 0.5),
        ("0", 0.0),
        ("", None),
        ("1.01", ERROR),
        ("-0", 0.0),
        ("nan", ERROR),
        ("inf", ERROR),
        ("25%", ERROR),
        ("\u00bd", ERROR),
    ]
]

# Parser holes closed by the secrets issue (#14): each is one clear error or a documented value.
CORPUS += [
    ("CACHE_URL", "redis://h:6379/0?timeout=\u00b2", ERROR),  # a Unicode digit int() refuses
    ("CACHE_URL", "locmem://?timeout=\u0663", ERROR),
    ("CACHE_URL", "locmem://?version=x", ERROR),
    ("CACHE_URL", f"pymemcache://user:{SECRET}@h:11211", ERROR),  # memcached takes no password
    ("CACHE_URL", f"pylibmc://user:{SECRET}@h:11211", ERROR),
    ("EMAIL_URL", "smtp://h?timeout=\u00b2", ERROR),
    ("DEFAULT_STORAGE_DSN", f"s3://K:{SECRET}@b/?endpoint=http://[::1", ERROR),
    ("DEFAULT_STORAGE_DSN", f"s3://K:{SECRET}@b/?endpoint=http://h:0", ERROR),
    ("DEFAULT_STORAGE_DSN", f"s3://K:{SECRET}@b/?endpoint=http://h:99999", ERROR),
    ("DATABASE_URL", f"postgres://u:{SECRET}@h:0/db", ERROR),
    ("DATABASE_URL", f"postgres://u:{SECRET}@h:70000/db", ERROR),
    ("DATABASE_URL", f"postgres://?=:{SECRET}@h.example", ERROR),  # '?' in the user: spilled
    ("SENTRY_DSN", "https://o1.ingest.sentry.io/1", ERROR),  # no public key
    ("SENTRY_DSN", f"https://{SECRET}@o1.ingest.sentry.io/project", ERROR),  # not a number
    ("SECRET_KEY", "key-with-\udcff-byte-" + SECRET, ERROR),  # not UTF-8 (PEP 383)
    ("DEFAULT_FROM_EMAIL", "site@example.com\r\nBcc: all@example.com", ERROR),
    ("SERVER_EMAIL", "errors@example.com\nX-Header: injected", ERROR),
    ("DOMAIN_ALIASES", "faß.de", ["xn--fa-hia.de"]),  # IDNA 2008 / UTS 46, as browsers send it
    ("DOMAIN_ALIASES", "*.com", ERROR),  # every domain of a top level
]
